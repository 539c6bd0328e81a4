//! Every queued message keeps its own place in the outbox, even when two
//! engines numbered messages on their own: an engine restarted on a
//! rebuilt cache (`Engine::export` carries no account position), or two tabs
//! of one account sharing its database. Entries that share an order used to
//! overwrite each other: one message vanished from the sender's chat, at
//! random after the next reload (the survivor depended on the random cids'
//! order in the cache), and was never sent.

use crate::sim::{ready, user};
use penpen_core::Peer;
use penpen_core::cache::{Cache, MemoryCache, Snapshot};
use penpen_core::sync::{Action, Credentials, Engine};

fn peer() -> Peer {
    Peer::User(user(3))
}

fn engine(snapshot: Snapshot, seed: u64) -> Engine {
    let credentials = Credentials::Token {
        user: user(1),
        token: "t".repeat(32),
    };
    Engine::new(credentials, snapshot, seed)
}

/// Writes whatever the engine asked to write (the network is down: every
/// other action goes nowhere).
fn persist(engine: &mut Engine, cache: &MemoryCache) {
    while let Some(action) = engine.poll_action() {
        if let Action::Persist(batch) = action {
            ready(cache.apply(&batch)).expect("apply");
        }
    }
}

fn queued_texts(engine: &Engine) -> Vec<String> {
    engine
        .outbox_of(&peer())
        .into_iter()
        .map(|e| e.content.clone())
        .collect()
}

#[test]
fn an_engine_on_a_rebuilt_cache_numbers_new_messages_after_the_carried_ones() {
    let mut first = engine(Snapshot::default(), 1);
    first.send_text(peer(), "一".into(), 1_000).expect("queued");
    first.send_text(peer(), "二".into(), 1_001).expect("queued");
    let mut rebuilt = engine(first.export(), 2);
    rebuilt
        .send_text(peer(), "三".into(), 1_002)
        .expect("queued");
    assert_eq!(queued_texts(&rebuilt), ["一", "二", "三"]);
}

#[test]
fn messages_two_tabs_queued_both_survive_a_reload() {
    let cache = MemoryCache::new();
    let mut first = engine(Snapshot::default(), 1);
    first.send_text(peer(), "先".into(), 1_000).expect("queued");
    persist(&mut first, &cache);
    // Two tabs open on the same database, each writing while offline.
    let mut tab_a = engine(ready(cache.load()).expect("load"), 2);
    let mut tab_b = engine(ready(cache.load()).expect("load"), 3);
    tab_a.send_text(peer(), "甲".into(), 2_000).expect("queued");
    persist(&mut tab_a, &cache);
    tab_b.send_text(peer(), "乙".into(), 2_001).expect("queued");
    persist(&mut tab_b, &cache);
    let reloaded = engine(ready(cache.load()).expect("load"), 4);
    let mut texts = queued_texts(&reloaded);
    texts.sort();
    let mut expected = vec!["先", "甲", "乙"];
    expected.sort();
    assert_eq!(texts, expected);
    assert_eq!(reloaded.queued(), 3);
}
