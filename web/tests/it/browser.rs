//! Runs in headless Chromium through wasm-bindgen-test-runner.
//!
//! The IndexedDB cache runs `penpen-core`'s cache conformance suite here, plus
//! what only a real browser database shows: reopening, schema upgrades,
//! deletion under an open connection, and paging speed at scale.
//!
//! The WebSocket test talks to a real `penpen-server-mock`, whose login URL is
//! given at build time in `PENPEN_TEST_LOGIN_URL` (scripts/test.sh starts the
//! server and sets it).

use penpen_core::cache::{
    AccountMeta, Cache, CacheBatch, CacheError, CachedMessage, Conversation, OutboxEntry,
    OutboxState, Snapshot,
};
use penpen_core::ids::{ClientMsgId, GroupId, MessageId, Peer, Seq};
use penpen_core::packets::groups::{Group, Members};
use penpen_core::packets::message::{Message, MessageType};
use penpen_core::testing::user;
use penpen_core::{ErrorReply, Frame, State};
use penpen_web::cache::{self, IndexedDbCache};
use penpen_web::socket;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct SyncPosition {
    seq: u64,
    note: String,
}

#[wasm_bindgen_test]
async fn indexeddb_keeps_what_was_written() {
    let name = format!("penpen-test-{}", js_sys::Math::random());
    let cache = IndexedDbCache::open_named(&name).await.expect("open");
    assert_eq!(cache.get_meta::<SyncPosition>("position").await, Ok(None));
    let written = SyncPosition {
        seq: 42,
        note: "中文与 emoji 🐧".into(),
    };
    cache.put_meta("position", &written).await.expect("write");
    cache.close();

    // A fresh connection reads what the first one committed.
    let cache = IndexedDbCache::open_named(&name).await.expect("reopen");
    assert_eq!(cache.get_meta("position").await, Ok(Some(written)));
    cache.close();
}

/// A database name no other test (or earlier run) uses.
fn fresh_name(what: &str) -> String {
    format!("penpen-test-{what}-{}", js_sys::Math::random())
}

/// A text from user 2 (the colleague in these tests).
fn message(id: u64, to: Peer, text: &str) -> Message {
    penpen_core::testing::message(id, 2, to, text)
}

/// A batch touching every store: the sync position, a conversation with its
/// messages, an outbox entry, the groups.
fn full_batch() -> CacheBatch {
    let alice = Peer::User(user(2));
    let mut meta = AccountMeta::new(user(1), "张三".into(), false);
    meta.synced_seq = Seq(3);
    let mut row = Conversation::new(alice.clone());
    row.unread = 2;
    row.draft = "明天见".into();
    CacheBatch {
        meta: Some(meta),
        messages: (1..=3)
            .map(|id| CachedMessage {
                conversation: alice.clone(),
                message: message(id, Peer::User(user(1)), "你好 🐧"),
            })
            .collect(),
        outbox_put: vec![OutboxEntry {
            mentions: None,
            mention_all: false,
            cid: ClientMsgId::parse("c-1").expect("a valid cid"),
            order: 1,
            to: alice.clone(),
            kind: MessageType::Text,
            content: "还在路上".into(),
            created_ts: 1_795_000_000_000,
            state: OutboxState::Queued,
            file: None,
            quote: None,
            upload: None,
        }],
        conversations: vec![row],
        groups: Some(vec![Group {
            gid: GroupId::new(5).expect("gid"),
            holder: user(1),
            name: "技术部".into(),
            member: Members(vec![user(1), user(2)]),
        }]),
        ..Default::default()
    }
}

/// core's cache conformance suite, one test per case, each on a fresh database.
mod conformance {
    use super::*;

    penpen_core::cache_conformance_tests!(#[wasm_bindgen_test] async, fresh: |case| async move {
        IndexedDbCache::open_named(&fresh_name(&format!("conformance-{case}")))
            .await
            .expect("open a fresh database")
    });
}

/// Writes begun one after another, none waited for, commit in the order
/// they began (the later of two edits of a message stays), each can be
/// waited for any number of times, and a read begun after them sees them.
#[wasm_bindgen_test]
async fn writes_begun_without_waiting_commit_in_order() {
    let cache = IndexedDbCache::open_named(&fresh_name("begun"))
        .await
        .expect("open");
    let alice = Peer::User(user(2));
    let batch = |text: &str| CacheBatch {
        messages: vec![CachedMessage {
            conversation: alice.clone(),
            message: message(7, alice.clone(), text),
        }],
        ..Default::default()
    };
    let first = cache.begin_write(&batch("第一稿")).await.expect("begin");
    let second = cache.begin_write(&batch("第二稿")).await.expect("begin");
    let page = cache.timeline(&alice, None, 10).await.expect("read");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].content, "第二稿", "the later write wins");
    second.committed().await.expect("committed");
    first
        .committed()
        .await
        .expect("committed before the second");
    second.committed().await.expect("and answers again");
    // A batch that writes nothing is committed at once.
    let nothing = cache
        .begin_write(&CacheBatch::default())
        .await
        .expect("begin");
    nothing.committed().await.expect("nothing to write");
    cache.close();
}

#[wasm_bindgen_test]
async fn a_reopened_database_keeps_the_cache() {
    let name = fresh_name("reopen");
    let batch = full_batch();
    let cache = IndexedDbCache::open_named(&name).await.expect("open");
    cache.apply(&batch).await.expect("apply");
    let before = cache.load().await.expect("load");
    cache.close();

    let cache = IndexedDbCache::open_named(&name).await.expect("reopen");
    let after = cache.load().await.expect("load again");
    assert_eq!(after, before);
    assert_eq!(after.meta, batch.meta);
    assert_eq!(after.outbox, batch.outbox_put);
    assert_eq!(after.conversations, batch.conversations);
    assert_eq!(cache.message_count().await, Ok(3));
    let alice = Peer::User(user(2));
    let page = cache.timeline(&alice, None, 10).await.expect("timeline");
    let written: Vec<Message> = batch.messages.into_iter().map(|m| m.message).collect();
    assert_eq!(page, written);
    cache.close();
}

#[wasm_bindgen_test]
async fn a_version_1_database_upgrades_and_keeps_its_meta() {
    let name = fresh_name("v1");
    // What a v1 build left behind: only `meta`, holding JSON text.
    let factory = idb::Factory::new().expect("IndexedDB");
    let mut request = factory.open(&name, Some(1)).expect("open v1");
    request.on_upgrade_needed(|event| {
        use idb::DatabaseEvent;
        let db = event.database().expect("the database being created");
        db.create_object_store(cache::META_STORE, idb::ObjectStoreParams::new())
            .expect("create meta");
    });
    let v1 = request.await.expect("v1 database");
    let tx = v1
        .transaction(&[cache::META_STORE], idb::TransactionMode::ReadWrite)
        .expect("transaction");
    let written = SyncPosition {
        seq: 7,
        note: "v1 的设置".into(),
    };
    tx.object_store(cache::META_STORE)
        .expect("meta")
        .put(
            &JsValue::from_str(&serde_json::to_string(&written).expect("json")),
            Some(&JsValue::from_str("position")),
        )
        .expect("put")
        .await
        .expect("written");
    tx.commit().expect("commit").await.expect("committed");
    v1.close();

    let cache = IndexedDbCache::open_named(&name)
        .await
        .expect("upgrade to v2");
    assert_eq!(cache.get_meta("position").await, Ok(Some(written)));
    assert_eq!(cache.load().await, Ok(Snapshot::default()));
    cache
        .apply(&full_batch())
        .await
        .expect("the v2 stores work");
    assert_eq!(cache.message_count().await, Ok(3));
    cache.close();
}

#[wasm_bindgen_test]
async fn deleting_the_database_empties_it() {
    let name = fresh_name("delete");
    let cache = IndexedDbCache::open_named(&name).await.expect("open");
    cache.apply(&full_batch()).await.expect("apply");

    // Deleting while it is open: the open connection lets go (as it would
    // for another tab) and reports the database gone from then on.
    cache::delete_database(&name).await.expect("delete");
    assert!(
        matches!(cache.load().await, Err(CacheError::Evicted(_))),
        "the old connection must report the database gone"
    );
    cache.close();

    let cache = IndexedDbCache::open_named(&name).await.expect("recreate");
    assert_eq!(cache.load().await, Ok(Snapshot::default()));
    assert_eq!(cache.message_count().await, Ok(0));
    cache.close();
}

#[wasm_bindgen_test]
async fn an_id_beyond_exact_js_numbers_is_refused_and_nothing_is_written() {
    let cache = IndexedDbCache::open_named(&fresh_name("big-id"))
        .await
        .expect("open");
    let alice = Peer::User(user(2));
    let mut batch = full_batch();
    batch.messages.push(CachedMessage {
        conversation: alice.clone(),
        message: message(1 << 53, Peer::User(user(1)), "too big"),
    });
    let refused = cache.apply(&batch).await;
    assert!(
        matches!(refused, Err(CacheError::Request { .. })),
        "{refused:?}"
    );
    assert_eq!(cache.load().await, Ok(Snapshot::default()));
    assert_eq!(cache.message_count().await, Ok(0));
    cache.close();
}

#[wasm_bindgen_test]
async fn an_unreadable_record_is_reported_as_corrupt() {
    let cache = IndexedDbCache::open_named(&fresh_name("corrupt"))
        .await
        .expect("open");
    // The account key holding something that is not an account.
    cache
        .put_meta(cache::ACCOUNT_KEY, &"not an account")
        .await
        .expect("write");
    let loaded = cache.load().await;
    assert!(
        matches!(&loaded, Err(e @ CacheError::Corrupt { .. }) if e.needs_rebuild()),
        "{loaded:?}"
    );
    cache.close();
}

#[wasm_bindgen_test]
async fn a_long_conversation_opens_and_pages_fast() {
    const CACHED: u64 = 50_000;
    const IN_CONVERSATION: u64 = 10_000;
    let cache = IndexedDbCache::open_named(&fresh_name("paging"))
        .await
        .expect("open");
    let alice = Peer::User(user(2));
    // Every fifth message is with alice, the rest spread over 40 groups.
    let conversation_of = |id: u64| {
        if id.is_multiple_of(5) {
            alice.clone()
        } else {
            Peer::Group(GroupId::new(id % 40 + 1).expect("gid"))
        }
    };
    let started = js_sys::Date::now();
    let mut id = 1;
    while id <= CACHED {
        let mut batch = CacheBatch::default();
        for id in id..(id + 10_000).min(CACHED + 1) {
            let conversation = conversation_of(id);
            let to = match &conversation {
                Peer::Group(_) => conversation.clone(),
                Peer::User(_) => Peer::User(user(1)),
            };
            batch.messages.push(CachedMessage {
                conversation,
                message: message(id, to, "一条普通长度的消息，大约二三十个字。"),
            });
        }
        id += 10_000;
        cache.apply(&batch).await.expect("apply");
    }
    let written_ms = js_sys::Date::now() - started;
    assert_eq!(cache.message_count().await, Ok(CACHED));

    let started = js_sys::Date::now();
    let newest = cache.timeline(&alice, None, 50).await.expect("newest page");
    let opened_ms = js_sys::Date::now() - started;
    let ids: Vec<u64> = newest.iter().map(|m| m.id.0).collect();
    let expected: Vec<u64> = (0..50).rev().map(|k| CACHED - 5 * k).collect();
    assert_eq!(ids, expected);

    let started = js_sys::Date::now();
    let middle = cache
        .timeline(&alice, Some(MessageId(CACHED / 2)), 50)
        .await
        .expect("a page in the middle");
    let paged_ms = js_sys::Date::now() - started;
    assert_eq!(middle.len(), 50);
    assert_eq!(middle.last().map(|m| m.id.0), Some(CACHED / 2 - 5));

    console_log!(
        "{CACHED} cached (written in {written_ms} ms), {IN_CONVERSATION} in the conversation: \
         newest page {opened_ms} ms, a page in the middle {paged_ms} ms"
    );
    assert!(opened_ms <= 200.0, "opening took {opened_ms} ms");
    assert!(paged_ms <= 200.0, "paging took {paged_ms} ms");
    cache.close();
}

#[wasm_bindgen_test]
async fn websocket_reaches_the_running_server() {
    // Checked at run time, not with env!, so the crate still builds without a server.
    let Some(url) = option_env!("PENPEN_TEST_LOGIN_URL") else {
        panic!(
            "PENPEN_TEST_LOGIN_URL is not set: start penpen-server-mock and set it to its \
             login URL (scripts/test.sh does both)"
        );
    };
    let reply = socket::request(url, "not a frame").await.expect("a reply");
    let error: ErrorReply = Frame::decode(&reply)
        .and_then(|frame| frame.packet())
        .expect("an error reply in a valid envelope");
    assert_eq!(error.state, State::BAD_FRAME);
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_reported_not_hung_on() {
    // Port 9 (discard) has no WebSocket server on the test machine.
    let result = socket::request("ws://127.0.0.1:9/", "{}").await;
    assert!(
        matches!(result, Err(socket::SocketError::Closed(_))),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
fn chinese_names_have_pinyin_initials() {
    let initials = penpen_web::pinyin::Initials::new();
    assert_eq!(initials.of("张三"), "zs");
    assert_eq!(initials.of("王建国"), "wjg");
    assert_eq!(initials.of("陈静"), "cj");
    assert_eq!(initials.of("欧阳娜娜"), "oynn");
    assert_eq!(initials.of("Ada 李"), "adal");
    assert_eq!(initials.of("😀·"), "");
}

#[wasm_bindgen_test]
async fn two_servers_data_for_one_account_never_mix() {
    use penpen_web::config::ServerAddress;
    let server = |port_offset| ServerAddress {
        host: "127.0.0.1".into(),
        port_offset,
        tls: false,
    };
    // A random account number keeps earlier runs' databases out of the way.
    let account = user((js_sys::Math::random() * 1e8) as u64);
    let (a, b) = (server(901), server(902));
    assert_ne!(
        IndexedDbCache::database_name(&a, &account),
        IndexedDbCache::database_name(&b, &account)
    );
    let on_a = IndexedDbCache::open(&a, &account).await.expect("open on a");
    on_a.apply(&full_batch()).await.expect("apply");
    on_a.close();
    let on_b = IndexedDbCache::open(&b, &account).await.expect("open on b");
    assert_eq!(on_b.load().await, Ok(Snapshot::default()));
    on_b.close();
    for server in [a, b] {
        cache::delete_database(&IndexedDbCache::database_name(&server, &account))
            .await
            .expect("clean up");
    }
}

fn blob_of(bytes: &[u8]) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).expect("a blob")
}

async fn bytes_of(blob: &web_sys::Blob) -> Vec<u8> {
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .expect("readable");
    js_sys::Uint8Array::new(&buffer).to_vec()
}

#[wasm_bindgen_test]
async fn upload_files_and_downloads_are_kept_as_blobs_and_sliced() {
    use penpen_web::cache::FileStore;
    let name = fresh_name("blobs");
    let cache = IndexedDbCache::open_named(&name).await.expect("open");
    let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    cache
        .put_file(FileStore::Uploads, "c-1", &blob_of(&data))
        .await
        .expect("kept");
    cache
        .put_file(FileStore::Downloads, "0123.pdf", &blob_of(b"%PDF-1.7\n"))
        .await
        .expect("kept");
    cache.close();

    // After a reload: the same bytes, and a chunk is a slice of them.
    let cache = IndexedDbCache::open_named(&name).await.expect("reopen");
    let blob = cache
        .get_file(FileStore::Uploads, "c-1")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(blob.size() as usize, data.len());
    let chunk = blob
        .slice_with_f64_and_f64(1000.0, 2000.0)
        .expect("a slice");
    assert_eq!(bytes_of(&chunk).await, data[1000..2000]);
    let download = cache
        .get_file(FileStore::Downloads, "0123.pdf")
        .await
        .expect("read")
        .expect("there");
    assert_eq!(bytes_of(&download).await, b"%PDF-1.7\n");
    assert_eq!(
        cache.file_keys(FileStore::Uploads).await,
        Ok(vec!["c-1".to_owned()])
    );
    cache
        .delete_file(FileStore::Uploads, "c-1")
        .await
        .expect("deleted");
    assert_eq!(
        cache
            .get_file(FileStore::Uploads, "c-1")
            .await
            .map(|b| b.is_none()),
        Ok(true)
    );
    cache.close();
}

#[wasm_bindgen_test]
async fn a_version_2_database_upgrades_and_keeps_its_outbox() {
    let name = fresh_name("v2");
    // What a v2 build left behind: the four stores, and one unsent text.
    let cache = {
        let factory = idb::Factory::new().expect("IndexedDB");
        let mut request = factory.open(&name, Some(2)).expect("open v2");
        request.on_upgrade_needed(|event| {
            use idb::DatabaseEvent;
            let db = event.database().expect("the database being created");
            let keyed = |field: &str| {
                let mut params = idb::ObjectStoreParams::new();
                params.key_path(Some(idb::KeyPath::new_single(field)));
                params
            };
            db.create_object_store(cache::META_STORE, idb::ObjectStoreParams::new())
                .expect("meta");
            db.create_object_store("messages", keyed("id"))
                .expect("messages")
                .create_index("timeline", idb::KeyPath::new_array(["conv", "id"]), None)
                .expect("timeline");
            db.create_object_store("outbox", keyed("cid"))
                .expect("outbox");
            db.create_object_store("conversations", keyed("peer"))
                .expect("conversations");
        });
        request.await.expect("v2 database").close();
        IndexedDbCache::open_named(&name)
            .await
            .expect("upgrade to v3")
    };
    let entry = OutboxEntry {
        mention_all: false,
        mentions: None,
        cid: ClientMsgId::parse("c-2").expect("cid"),
        order: 0,
        to: Peer::User(user(2)),
        kind: MessageType::File,
        content: "a.pdf".into(),
        created_ts: 1,
        state: OutboxState::Queued,
        file: None,
        quote: None,
        upload: Some(penpen_core::cache::OutboxUpload {
            name: "a.pdf".into(),
            size: 10,
            sent: 4,
        }),
    };
    cache
        .apply(&CacheBatch {
            outbox_put: vec![entry.clone()],
            ..Default::default()
        })
        .await
        .expect("the v2 stores still work");
    cache
        .put_file(cache::FileStore::Uploads, "c-2", &blob_of(b"0123456789"))
        .await
        .expect("the v3 stores work");
    assert_eq!(cache.load().await.map(|s| s.outbox), Ok(vec![entry]));
    cache.close();
}
