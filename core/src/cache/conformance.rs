//! One behavioural test suite for every cache engine: the in-memory cache
//! runs it natively, IndexedDB runs it in headless Chromium.
//!
//! Each case gets a fresh, empty cache from the caller and returns a
//! description of the first thing that did not hold.

use super::{
    AccountMeta, Cache, CacheBatch, CachedMessage, Conversation, OutboxEntry, OutboxState, Preview,
};
use crate::ids::{ClientMsgId, GroupId, MessageId, Peer, Seq};
use crate::packets::groups::{Group, Members};
use crate::packets::message::{Message, MessageType};
use crate::testing::{message, user};

/// A failed expectation: what went wrong.
pub type Failure = String;

/// Generates one test per conformance case, each on a fresh cache, so a
/// backend's run reports every failing case rather than the first.
///
/// `fresh` is called with the case's name and gives a future of an empty
/// cache. Async tests (`#[wasm_bindgen_test]`):
///
/// ```text
/// penpen_core::cache_conformance_tests!(#[wasm_bindgen_test] async, fresh: |case| open(case));
/// ```
///
/// Synchronous tests (`#[test]`) name the function that runs a future to
/// its end:
///
/// ```text
/// penpen_core::cache_conformance_tests!(#[test] block_on: ready, fresh: |_| async { MemoryCache::new() });
/// ```
#[macro_export]
macro_rules! cache_conformance_tests {
    (@one [#[$attr:meta] async, fresh: $fresh:expr] $case:ident) => {
        #[$attr]
        async fn $case() {
            let cache = ($fresh)(stringify!($case)).await;
            if let Err(failure) = $crate::cache::conformance::$case(&cache).await {
                panic!("{}: {failure}", stringify!($case));
            }
        }
    };
    (@one [#[$attr:meta] block_on: $block_on:expr, fresh: $fresh:expr] $case:ident) => {
        #[$attr]
        fn $case() {
            $block_on(async {
                let cache = ($fresh)(stringify!($case)).await;
                if let Err(failure) = $crate::cache::conformance::$case(&cache).await {
                    panic!("{}: {failure}", stringify!($case));
                }
            })
        }
    };
    (@cases $how:tt $($case:ident),* $(,)?) => {
        $($crate::cache_conformance_tests!(@one $how $case);)*
    };
    ($($how:tt)*) => {
        $crate::cache_conformance_tests!(@cases [$($how)*]
            empty_cache_loads_empty,
            meta_conversations_and_outbox_round_trip,
            messages_are_kept_once_and_paged,
            conversations_keep_their_own_timelines,
            acknowledged_send_moves_from_outbox,
            clearing_removes_only_that_conversation,
            groups_and_directory_are_replaced,
            text_survives_exactly,
            broadcasts_are_replaced,
            a_recall_empties_the_original_and_marks_quotes_of_it,
            mute_and_mention_marks_round_trip,
            read_marks_round_trip,
        );
    };
}

fn filed(conversation: Peer, message: Message) -> CachedMessage {
    CachedMessage {
        conversation,
        message,
    }
}

fn outbox(cid: &str, order: u64, to: Peer, text: &str) -> OutboxEntry {
    OutboxEntry {
        cid: ClientMsgId::parse(cid).expect("a valid cid"),
        order,
        to,
        kind: MessageType::Text,
        content: text.to_owned(),
        created_ts: 1_795_000_000_000,
        state: OutboxState::Queued,
        file: None,
        quote: None,
        upload: None,
        mentions: None,
        mention_all: false,
    }
}

fn check(holds: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if holds { Ok(()) } else { Err(what()) }
}

fn ids(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.id.0).collect()
}

/// A conformance case.
pub async fn empty_cache_loads_empty<C: Cache>(cache: &C) -> Result<(), Failure> {
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot == Default::default(), || {
        format!("expected an empty snapshot, got {snapshot:?}")
    })?;
    let count = cache.message_count().await.map_err(|e| e.to_string())?;
    check(count == 0, || format!("expected 0 messages, got {count}"))?;
    let page = cache
        .timeline(&Peer::User(user(2)), None, 50)
        .await
        .map_err(|e| e.to_string())?;
    check(page.is_empty(), || {
        format!("expected an empty timeline, got {page:?}")
    })
}

/// A conformance case.
pub async fn meta_conversations_and_outbox_round_trip<C: Cache>(cache: &C) -> Result<(), Failure> {
    let mut meta = AccountMeta::new(user(1), "张三".into(), true);
    meta.synced_seq = Seq(41);
    meta.seqs_above = vec![Seq(43), Seq(44)];
    let mut pinned = Conversation::new(Peer::User(user(2)));
    pinned.pinned_at = Some(7);
    pinned.unread = 3;
    pinned.draft = "还没写完".into();
    pinned.last = Some(Preview {
        id: Some(MessageId(9)),
        from: Some(user(2)),
        kind: MessageType::Text,
        content: "在吗".into(),
        ts: 5,
    });
    let group = Conversation::new(Peer::Group(GroupId::new(3).expect("gid")));
    let first = outbox("c-1", 1, Peer::User(user(2)), "一");
    let mut failed = outbox("c-2", 2, Peer::User(user(2)), "二");
    failed.state = OutboxState::Failed {
        state: 31,
        reason: "no such user".into(),
    };
    cache
        .apply(&CacheBatch {
            meta: Some(meta.clone()),
            conversations: vec![pinned.clone(), group.clone()],
            outbox_put: vec![first.clone(), failed.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.meta.as_ref() == Some(&meta), || {
        format!("meta: expected {meta:?}, got {:?}", snapshot.meta)
    })?;
    let mut conversations = snapshot.conversations.clone();
    conversations.sort_by(|a, b| a.peer.cmp(&b.peer));
    let mut expected = vec![pinned.clone(), group];
    expected.sort_by(|a, b| a.peer.cmp(&b.peer));
    check(conversations == expected, || {
        format!("conversations: expected {expected:?}, got {conversations:?}")
    })?;
    let mut entries = snapshot.outbox.clone();
    entries.sort_by_key(|e| e.order);
    check(entries == vec![first.clone(), failed.clone()], || {
        format!("outbox: got {entries:?}")
    })?;

    // Replacing by key, not adding.
    pinned.unread = 0;
    cache
        .apply(&CacheBatch {
            conversations: vec![pinned.clone()],
            outbox_put: vec![OutboxEntry {
                state: OutboxState::Queued,
                file: None,
                upload: None,
                ..failed.clone()
            }],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.conversations.len() == 2, || {
        format!("expected 2 conversations, got {:?}", snapshot.conversations)
    })?;
    check(snapshot.conversations.contains(&pinned), || {
        "the replaced conversation row is not there".into()
    })?;
    check(
        snapshot.outbox.len() == 2
            && snapshot
                .outbox
                .iter()
                .all(|e| e.state == OutboxState::Queued),
        || format!("expected both entries queued, got {:?}", snapshot.outbox),
    )
}

/// A conformance case.
pub async fn messages_are_kept_once_and_paged<C: Cache>(cache: &C) -> Result<(), Failure> {
    let peer = Peer::User(user(2));
    // Written out of order, one of them twice.
    let mut batch = CacheBatch::default();
    for id in [5, 1, 3, 2, 4, 3] {
        batch.messages.push(filed(
            peer.clone(),
            message(id, 2, Peer::User(user(1)), "x"),
        ));
    }
    cache.apply(&batch).await.map_err(|e| e.to_string())?;
    let mut later = CacheBatch::default();
    for id in 6..=12 {
        later
            .messages
            .push(filed(peer.clone(), message(id, 1, peer.clone(), "y")));
    }
    cache.apply(&later).await.map_err(|e| e.to_string())?;
    let count = cache.message_count().await.map_err(|e| e.to_string())?;
    check(count == 12, || format!("expected 12 messages, got {count}"))?;
    let newest = cache
        .timeline(&peer, None, 5)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&newest) == vec![8, 9, 10, 11, 12], || {
        format!("newest page: got {:?}", ids(&newest))
    })?;
    let older = cache
        .timeline(&peer, Some(MessageId(8)), 5)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&older) == vec![3, 4, 5, 6, 7], || {
        format!("page before 8: got {:?}", ids(&older))
    })?;
    let oldest = cache
        .timeline(&peer, Some(MessageId(3)), 5)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&oldest) == vec![1, 2], || {
        format!("page before 3: got {:?}", ids(&oldest))
    })?;
    // Ids order numerically, not as text.
    let mut big = CacheBatch::default();
    big.messages
        .push(filed(peer.clone(), message(100, 2, peer.clone(), "z")));
    cache.apply(&big).await.map_err(|e| e.to_string())?;
    let newest = cache
        .timeline(&peer, None, 2)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&newest) == vec![12, 100], || {
        format!("ids must sort as numbers: got {:?}", ids(&newest))
    })
}

/// A conformance case.
pub async fn conversations_keep_their_own_timelines<C: Cache>(cache: &C) -> Result<(), Failure> {
    let alice = Peer::User(user(2));
    let group = Peer::Group(GroupId::new(7).expect("gid"));
    let mut batch = CacheBatch::default();
    for id in 1..=6 {
        let (conversation, to) = if id % 2 == 0 {
            (group.clone(), group.clone())
        } else {
            (alice.clone(), Peer::User(user(1)))
        };
        batch
            .messages
            .push(filed(conversation, message(id, 2, to, "m")));
    }
    cache.apply(&batch).await.map_err(|e| e.to_string())?;
    let in_group = cache
        .timeline(&group, None, 50)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&in_group) == vec![2, 4, 6], || {
        format!("group timeline: got {:?}", ids(&in_group))
    })?;
    let with_alice = cache
        .timeline(&alice, None, 50)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&with_alice) == vec![1, 3, 5], || {
        format!("1:1 timeline: got {:?}", ids(&with_alice))
    })?;
    // All of them at once, each with its conversation.
    let mut everything: Vec<(u64, Peer)> = cache
        .all_messages()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|m| (m.message.id.0, m.conversation))
        .collect();
    everything.sort_by_key(|(id, _)| *id);
    let expected: Vec<(u64, Peer)> = (1..=6)
        .map(|id| {
            (
                id,
                if id % 2 == 0 {
                    group.clone()
                } else {
                    alice.clone()
                },
            )
        })
        .collect();
    check(everything == expected, || {
        format!("all messages: got {everything:?}")
    })
}

/// A conformance case.
pub async fn acknowledged_send_moves_from_outbox<C: Cache>(cache: &C) -> Result<(), Failure> {
    let peer = Peer::User(user(2));
    let entry = outbox("c-9", 1, peer.clone(), "你好");
    cache
        .apply(&CacheBatch {
            outbox_put: vec![entry.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut sent = message(20, 1, peer.clone(), "你好");
    sent.cid = Some(entry.cid.clone());
    cache
        .apply(&CacheBatch {
            outbox_delete: vec![entry.cid.clone()],
            messages: vec![filed(peer.clone(), sent.clone())],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.outbox.is_empty(), || {
        format!("the outbox still holds {:?}", snapshot.outbox)
    })?;
    let page = cache
        .timeline(&peer, None, 10)
        .await
        .map_err(|e| e.to_string())?;
    check(page == vec![sent], || format!("timeline: got {page:?}"))
}

/// A conformance case.
pub async fn clearing_removes_only_that_conversation<C: Cache>(cache: &C) -> Result<(), Failure> {
    let alice = Peer::User(user(2));
    let bob = Peer::User(user(3));
    let mut batch = CacheBatch::default();
    for id in 1..=4 {
        let peer = if id <= 2 { alice.clone() } else { bob.clone() };
        batch
            .messages
            .push(filed(peer, message(id, 1, Peer::User(user(9)), "m")));
    }
    cache.apply(&batch).await.map_err(|e| e.to_string())?;
    // Clear and file a new message in the same batch: the new one stays.
    cache
        .apply(&CacheBatch {
            clear_messages: vec![alice.clone()],
            messages: vec![filed(
                alice.clone(),
                message(5, 2, Peer::User(user(1)), "新"),
            )],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let with_alice = cache
        .timeline(&alice, None, 10)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&with_alice) == vec![5], || {
        format!("alice after clearing: got {:?}", ids(&with_alice))
    })?;
    let with_bob = cache
        .timeline(&bob, None, 10)
        .await
        .map_err(|e| e.to_string())?;
    check(ids(&with_bob) == vec![3, 4], || {
        format!("bob must be untouched: got {:?}", ids(&with_bob))
    })
}

/// A conformance case.
pub async fn groups_and_directory_are_replaced<C: Cache>(cache: &C) -> Result<(), Failure> {
    let group = |gid: u64, name: &str| Group {
        gid: GroupId::new(gid).expect("gid"),
        holder: user(1),
        name: name.into(),
        member: Members(vec![user(1), user(2)]),
    };
    cache
        .apply(&CacheBatch {
            groups: Some(vec![group(1, "技术部"), group(2, "午餐")]),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    cache
        .apply(&CacheBatch {
            groups: Some(vec![group(2, "午餐小分队")]),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(
        snapshot.groups == Some(vec![group(2, "午餐小分队")]),
        || format!("groups: got {:?}", snapshot.groups),
    )?;
    check(snapshot.directory.is_none(), || {
        "no directory was written".into()
    })
}

/// A conformance case.
pub async fn broadcasts_are_replaced<C: Cache>(cache: &C) -> Result<(), Failure> {
    use crate::cache::CachedBroadcast;
    use crate::ids::BroadcastId;
    use crate::packets::broadcast::{Broadcast, BroadcastKind};
    let broadcast = |id: u64, title: &str, read: bool| CachedBroadcast {
        broadcast: Broadcast {
            id: BroadcastId(id),
            from: user(1),
            kind: BroadcastKind::Announcement,
            title: title.into(),
            content: "国庆放假通知：10月1日至7日放假 🎉".into(),
            time: "2026-09-28 09:00:00".into(),
            ts: 1_790_000_000_000 + id as i64,
        },
        read,
    };
    let first = vec![broadcast(1, "放假通知", false)];
    let both = vec![broadcast(1, "放假通知", true), broadcast(2, "年会", false)];
    for list in [&first, &both] {
        cache
            .apply(&CacheBatch {
                broadcasts: Some(list.clone()),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    // A batch without broadcasts leaves them alone.
    cache
        .apply(&CacheBatch {
            clear_messages: vec![Peer::User(user(2))],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.broadcasts == both, || {
        format!("broadcasts: got {:?}", snapshot.broadcasts)
    })
}

/// A conformance case.
pub async fn text_survives_exactly<C: Cache>(cache: &C) -> Result<(), Failure> {
    let peer = Peer::User(user(2));
    let text = "周五下午三点开会 🐧 \"quoted\" \\ back\nslash\t和 ‘引号’";
    let mut with_text = message(1, 2, Peer::User(user(1)), text);
    with_text.duration = Some(3);
    cache
        .apply(&CacheBatch {
            messages: vec![filed(peer.clone(), with_text.clone())],
            outbox_put: vec![outbox("c-emoji", 1, peer.clone(), text)],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let page = cache
        .timeline(&peer, None, 1)
        .await
        .map_err(|e| e.to_string())?;
    check(page == vec![with_text], || format!("got {page:?}"))?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(
        snapshot.outbox.first().map(|e| e.content.as_str()) == Some(text),
        || format!("outbox text: got {:?}", snapshot.outbox),
    )
}

/// A conformance case.
pub async fn a_recall_empties_the_original_and_marks_quotes_of_it<C: Cache>(
    cache: &C,
) -> Result<(), Failure> {
    use super::RecallMark;
    use crate::packets::message::{Quote, Recalled};
    let peer = Peer::User(user(2));
    let other = Peer::User(user(3));
    let original = message(10, 2, Peer::User(user(1)), "发错了");
    let mut reply = message(11, 1, Peer::User(user(2)), "什么？");
    reply.quote = Some(Quote::of(&original));
    let elsewhere = message(12, 3, Peer::User(user(1)), "发错了");
    let recalled = Recalled {
        by: user(2),
        ts: 1_795_000_060_000,
    };
    // The original is written in the same batch as its recall (both came
    // within one write): the recall still applies.
    cache
        .apply(&CacheBatch {
            messages: vec![filed(peer.clone(), original.clone())],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    cache
        .apply(&CacheBatch {
            messages: vec![
                filed(peer.clone(), reply.clone()),
                filed(other.clone(), elsewhere.clone()),
            ],
            recalls: vec![RecallMark {
                conversation: peer.clone(),
                id: MessageId(10),
                recalled: recalled.clone(),
            }],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let page = cache
        .timeline(&peer, None, 10)
        .await
        .map_err(|e| e.to_string())?;
    let mut expected_original = original.clone();
    expected_original.take_recall(MessageId(10), &recalled);
    let mut expected_reply = reply.clone();
    expected_reply.take_recall(MessageId(10), &recalled);
    check(page == vec![expected_original, expected_reply], || {
        format!("after the recall: got {page:?}")
    })?;
    check(
        page[0].content.is_empty() && page[0].recalled.is_some(),
        || format!("the original keeps nothing: {:?}", page[0]),
    )?;
    check(
        page[1]
            .quote
            .as_ref()
            .is_some_and(|q| q.recalled && q.content.is_none()),
        || format!("the quote reads recalled: {:?}", page[1].quote),
    )?;
    let untouched = cache
        .timeline(&other, None, 10)
        .await
        .map_err(|e| e.to_string())?;
    check(untouched == vec![elsewhere], || {
        format!("another conversation is untouched: got {untouched:?}")
    })
}

/// A conformance case: a muted conversation, its "[有人@我]" mark and a
/// queued text's mentions come back as they were written, and clear again.
pub async fn mute_and_mention_marks_round_trip<C: Cache>(cache: &C) -> Result<(), Failure> {
    let gid = Peer::Group(GroupId::new(7).expect("gid"));
    let mut row = Conversation::new(gid.clone());
    row.muted = true;
    row.mentioned = true;
    row.hidden = true;
    let mut entry = outbox("c-9", 1, gid.clone(), "@李四 @所有人 看下");
    entry.kind = MessageType::GroupText;
    entry.mentions = Some(Members(vec![user(2), user(3)]));
    entry.mention_all = true;
    cache
        .apply(&CacheBatch {
            conversations: vec![row.clone()],
            outbox_put: vec![entry.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.conversations == vec![row.clone()], || {
        format!("expected {row:?}, got {:?}", snapshot.conversations)
    })?;
    check(snapshot.outbox == vec![entry.clone()], || {
        format!("expected {entry:?}, got {:?}", snapshot.outbox)
    })?;
    row.muted = false;
    row.mentioned = false;
    cache
        .apply(&CacheBatch {
            conversations: vec![row.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.conversations == vec![row.clone()], || {
        format!(
            "expected the marks cleared, got {:?}",
            snapshot.conversations
        )
    })
}

/// A conformance case: a row's read marks (§16) and the unread messages it
/// remembers, and the account's catch-up version of marks, come back as
/// they were written.
pub async fn read_marks_round_trip<C: Cache>(cache: &C) -> Result<(), Failure> {
    let mut meta = AccountMeta::new(user(1), "张三".into(), false);
    meta.reads_version = 57;
    let mut row = Conversation::new(Peer::User(user(2)));
    row.unread = 2;
    row.first_unread = Some(MessageId(1_041));
    row.unread_ids = vec![MessageId(1_041), MessageId(1_043)];
    row.mentioned = true;
    row.last_mention = Some(MessageId(1_043));
    row.read_up_to = Some(MessageId(1_040));
    row.read_synced = Some(MessageId(1_039));
    row.peer_read = Some(MessageId(1_042));
    row.peer_private = true;
    cache
        .apply(&CacheBatch {
            meta: Some(meta.clone()),
            conversations: vec![row.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let snapshot = cache.load().await.map_err(|e| e.to_string())?;
    check(snapshot.meta.as_ref() == Some(&meta), || {
        format!("meta: expected {meta:?}, got {:?}", snapshot.meta)
    })?;
    check(snapshot.conversations == vec![row.clone()], || {
        format!("expected {row:?}, got {:?}", snapshot.conversations)
    })
}
