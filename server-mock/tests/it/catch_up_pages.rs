//! Catch-up pages of up to 1,000 messages, bounded by their content too: a
//! backlog of the longest texts comes in pages that stay far inside the frame
//! limit, and walking them from page end to page end gives every message
//! once, in seq order.

use crate::common::open_test_store;
use crate::common::{Client, log_in, start_in, user};
use penpen_core::limits::{MAX_CATCH_UP_PAGE, MAX_PAGE_CONTENT_BYTES, MAX_TEXT_CHARS};
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{ErrorReply, Peer, Seq, Service, State};
use penpen_server_mock::store::queries::{self, NewMessage};

const WANG: &str = "13800000001";
const LI: &str = "13800000005";

/// Stores `count` texts from Li to Wang, each `chars` characters long.
async fn store_texts(data: &std::path::Path, count: usize, chars: usize) {
    let store = open_test_store(data).await;
    store
        .write(move |conn| {
            for n in 0..count {
                let mark = format!("第{n}条");
                let content = format!("{mark}{}", "长".repeat(chars - mark.chars().count()));
                let message = NewMessage {
                    file: None,
                    sender: Sender::User(user(LI)),
                    to: Peer::User(user(WANG)),
                    kind: MessageType::Text,
                    content,
                    duration: None,
                    cid: None,
                    ts: penpen_server_mock::context::now_ms() + n as i64,
                    mentions: None,
                    mention_all: false,
                };
                queries::store_message(conn, &message, &[user(WANG), user(LI)])?;
            }
            Ok(())
        })
        .await
        .expect("stored");
}

/// Walks the catch-up from the start; returns the pages' sizes, their
/// content bytes and the messages' contents in order.
async fn walk(sync: &mut Client) -> (Vec<usize>, Vec<usize>, Vec<String>) {
    let mut since = Seq(0);
    let mut sizes = Vec::new();
    let mut bytes = Vec::new();
    let mut contents = Vec::new();
    loop {
        let page: MessagePage = sync
            .request(&CatchUp {
                since,
                limit: Some(MAX_CATCH_UP_PAGE),
            })
            .await
            .expect("a page");
        let seqs: Vec<Seq> = page.messages.iter().filter_map(|m| m.seq).collect();
        assert_eq!(seqs.len(), page.messages.len(), "catch-up carries seqs");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]) && seqs.first().is_none_or(|s| *s > since),
            "each page continues the last, in seq order: {since:?} then {seqs:?}"
        );
        sizes.push(page.messages.len());
        bytes.push(page.messages.iter().map(|m| m.content.len()).sum());
        contents.extend(page.messages.iter().map(|m| m.content.clone()));
        match seqs.last() {
            Some(last) if page.more => since = *last,
            _ => return (sizes, bytes, contents),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_texts_come_in_pages_bounded_by_content_each_once() {
    let data = tempfile::tempdir().expect("folder");
    // The demo company first, then a backlog of the longest texts.
    start_in(data.path()).await.shutdown().await;
    let count = 400;
    store_texts(data.path(), count, MAX_TEXT_CHARS).await;
    let server = start_in(data.path()).await;
    let (_stream, wang) = log_in(&server, WANG).await;
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&wang.token)).await;

    let (sizes, bytes, contents) = walk(&mut sync).await;
    let ours: Vec<&String> = contents.iter().filter(|c| c.starts_with('第')).collect();
    assert_eq!(ours.len(), count, "every long text once: pages {sizes:?}");
    for (n, content) in ours.iter().enumerate() {
        assert!(content.starts_with(&format!("第{n}条")), "in order: {n}");
    }
    // 5,000 three-byte characters: about 15 KB of content each, so 400
    // would pass the bound several times over in one page.
    assert!(
        bytes.iter().all(|b| *b <= MAX_PAGE_CONTENT_BYTES) && sizes.len() >= 3,
        "pages stop at the content bound of {MAX_PAGE_CONTENT_BYTES} bytes: {sizes:?} {bytes:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_messages_come_a_thousand_a_page_and_more_is_refused() {
    let data = tempfile::tempdir().expect("folder");
    start_in(data.path()).await.shutdown().await;
    let count = 2_500;
    store_texts(data.path(), count, 10).await;
    let server = start_in(data.path()).await;
    let (_stream, wang) = log_in(&server, WANG).await;
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&wang.token)).await;

    let (sizes, _, contents) = walk(&mut sync).await;
    let total = contents.len();
    assert!(total >= count, "{total} messages for {count} stored");
    let full = MAX_CATCH_UP_PAGE as usize;
    assert_eq!(
        sizes,
        vec![full, full, total - 2 * full],
        "full pages, then the rest"
    );

    let refused: Result<MessagePage, ErrorReply> = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: Some(MAX_CATCH_UP_PAGE + 1),
        })
        .await;
    let refusal = refused.expect_err("a page over the limit is refused");
    assert_eq!(refusal.state, State::BAD_PACKET, "{refusal:?}");
    assert!(refusal.error.contains("at most 1000"), "{}", refusal.error);
    server.shutdown().await;
}
