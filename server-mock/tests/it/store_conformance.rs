//! The store conformance suite: the same cases against both backends,
//! SQLite and PostgreSQL (a throwaway cluster, `common::postgres`), like the
//! client's cache conformance suite. `store_conformance_tests!` makes one
//! test per case and backend, so a run names every failing case.
//!
//! The whole server integration suite also runs on PostgreSQL
//! (`PENPEN_TEST_STORE=postgres`, the `postgres` layer of scripts/test.sh);
//! these cases check what the store itself promises: per-user seqs without
//! gaps under concurrent writers, one message per (sender, cid), nothing
//! acknowledged lost across a reopen, acks that only move forward, and a
//! search that finds exactly what a substring search finds.

use crate::common::postgres;
use crate::search::{PEOPLE, check_search, person, query, seed_people, step};
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::{ClientMsgId, Peer, Seq, UserId};
use penpen_server_mock::store::db::{Db, PgConnection};
use penpen_server_mock::store::queries::{self, NewMessage};
use penpen_server_mock::store::{Store, StoreLocation, schema};
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;

/// A backend the cases run on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Every table's rows, for a PostgreSQL database to start a case empty.
const EMPTY_POSTGRES: &str = "TRUNCATE departments, jobs, users, mailboxes, sessions, revocations,
    messages, inbox, groups, group_members, broadcasts, files, forwarded_files, uploads,
    muted_conversations, read_marks, dings, message_terms RESTART IDENTITY CASCADE;
    UPDATE read_versions SET last = 0; UPDATE search_backfill SET backfill_below = 1;";

impl Backend {
    /// A new, empty store location (a SQLite file in `dir`, or a fresh
    /// PostgreSQL database).
    fn location(self, dir: &std::path::Path) -> StoreLocation {
        match self {
            Backend::Sqlite => StoreLocation::Sqlite(dir.join("penpen.db")),
            Backend::Postgres => StoreLocation::Postgres(postgres::shared().fresh_database()),
        }
    }

    /// Runs `case` on an empty database with the schema, once per call;
    /// synchronous (the PostgreSQL client must not run on an async thread).
    fn with_empty_db<R>(self, mut case: impl FnMut(&Db<'_>) -> R) -> R {
        match self {
            Backend::Sqlite => {
                let mut conn = rusqlite::Connection::open_in_memory().expect("a database");
                schema::migrate(&mut conn).expect("the schema");
                case(&Db::Sqlite(&conn))
            }
            Backend::Postgres => {
                let url = postgres::shared().fresh_database();
                let conn = PgConnection::connect(&url).expect("connects");
                schema::migrate_postgres(&conn).expect("the schema");
                case(&Db::Postgres(&conn))
            }
        }
    }

    /// A database with the schema for many cases: `empty` starts each
    /// case on no rows.
    fn many_cases(self, run: impl FnOnce(&dyn Fn(&mut dyn FnMut(&Db<'_>)))) {
        match self {
            Backend::Sqlite => run(&|case| {
                let mut conn = rusqlite::Connection::open_in_memory().expect("a database");
                schema::migrate(&mut conn).expect("the schema");
                case(&Db::Sqlite(&conn));
            }),
            Backend::Postgres => {
                let url = postgres::shared().fresh_database();
                let conn = PgConnection::connect(&url).expect("connects");
                schema::migrate_postgres(&conn).expect("the schema");
                run(&|case| {
                    conn.batch(EMPTY_POSTGRES).expect("emptied");
                    case(&Db::Postgres(&conn));
                });
            }
        }
    }
}

fn text_from(from: usize, to: usize, content: &str, cid: Option<&str>) -> NewMessage {
    NewMessage {
        sender: Sender::User(person(from)),
        to: Peer::User(person(to)),
        kind: MessageType::Text,
        content: content.into(),
        duration: None,
        cid: cid.map(|c| ClientMsgId::parse(c).expect("cid")),
        ts: 1_800_000_000_000,
        mentions: None,
        mention_all: false,
        file: None,
    }
}

/// Each user's inbox, as (seq, message id), in seq order.
fn inboxes(db: &Db<'_>) -> BTreeMap<UserId, Vec<(u64, u64)>> {
    let mut all: BTreeMap<UserId, Vec<(u64, u64)>> = BTreeMap::new();
    for n in 0..PEOPLE {
        let (messages, _) = queries::inbox_after(db, &person(n), Seq(0), 1000, 480).expect("inbox");
        all.insert(
            person(n),
            messages
                .iter()
                .map(|m| (m.seq.map_or(0, |s| s.0), m.id.0))
                .collect(),
        );
    }
    all
}

pub fn search_finds_exactly_what_a_substring_search_finds(backend: Backend) {
    let strategy = (
        proptest::collection::vec(step(), 0..30),
        proptest::collection::vec(query(), 1..3),
        1u32..5,
    );
    let cases = match backend {
        Backend::Sqlite => 48,
        Backend::Postgres => 40,
    };
    backend.many_cases(|fresh| {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, |(steps, queries, page)| {
            let mut outcome = Ok(());
            fresh(&mut |db| outcome = check_search(db, &steps, &queries, page));
            outcome
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    });
}

pub fn a_repeated_cid_is_the_first_message_and_gets_no_new_seq(backend: Backend) {
    backend.with_empty_db(|db| {
        seed_people(db);
        let first = queries::store_message(
            db,
            &text_from(0, 1, "周报", Some("c-1")),
            &[person(0), person(1)],
        )
        .expect("stored");
        let again = queries::store_message(
            db,
            &text_from(0, 1, "周报 (again)", Some("c-1")),
            &[person(0), person(1)],
        )
        .expect("answered");
        assert!(!first.repeated);
        assert!(again.repeated);
        assert_eq!(again.id, first.id);
        assert_eq!(again.seq_of(&person(1)), first.seq_of(&person(1)));
        let other = queries::store_message(
            db,
            &text_from(1, 0, "收到", Some("c-1")),
            &[person(0), person(1)],
        )
        .expect("another sender's c-1 is another message");
        assert_ne!(other.id, first.id);
        let inbox = inboxes(db);
        assert_eq!(
            inbox[&person(1)]
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>(),
            vec![1, 2]
        );
    });
}

pub fn acks_move_forward_only_and_never_past_the_newest(backend: Backend) {
    backend.with_empty_db(|db| {
        seed_people(db);
        for n in 0..3 {
            queries::store_message(
                db,
                &text_from(0, 1, &format!("{n}"), None),
                &[person(0), person(1)],
            )
            .expect("stored");
        }
        queries::ack(db, &person(1), Seq(2)).expect("acked");
        queries::ack(db, &person(1), Seq(1)).expect("an older ack");
        assert_eq!(
            queries::seqs(db, &person(1)).expect("seqs"),
            (Seq(3), Seq(2))
        );
        queries::ack(db, &person(1), Seq(99)).expect("an ack beyond");
        assert_eq!(
            queries::seqs(db, &person(1)).expect("seqs"),
            (Seq(3), Seq(3))
        );
    });
}

pub fn a_former_member_reads_history_up_to_when_they_left(backend: Backend) {
    backend.with_empty_db(|db| {
        seed_people(db);
        let members = penpen_core::packets::groups::Members(vec![person(0), person(1)]);
        let gid = queries::create_group(db, &person(0), "周会", &members, 0).expect("group");
        let group_text = |from: usize, content: &str| NewMessage {
            to: Peer::Group(gid),
            kind: MessageType::GroupText,
            ..text_from(from, 0, content, None)
        };
        let before = queries::store_message(db, &group_text(0, "走之前"), &[person(0), person(1)])
            .expect("stored");
        queries::leave_group(db, gid, &person(1), before.id).expect("left");
        queries::store_message(db, &group_text(0, "走之后"), &[person(0)]).expect("stored");
        let (seen, more) = queries::history(db, &person(1), &Peer::Group(gid), None, 50, 480)
            .expect("a former member's history");
        assert_eq!(
            seen.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
            vec!["走之前"]
        );
        assert!(!more);
        let (all, _) = queries::history(db, &person(0), &Peer::Group(gid), None, 50, 480)
            .expect("a member's history");
        assert_eq!(all.len(), 2);
        let refused = queries::history(db, &person(2), &Peer::Group(gid), None, 50, 480)
            .expect_err("never a member");
        assert_eq!(refused.reply().state, penpen_core::State::NOT_A_MEMBER);
    });
}

/// Many writers at once (as many connections, or nodes, sending): every
/// write is answered, and each user's seqs run 1, 2, 3… with every
/// message once; then the store is closed and opened again and holds
/// exactly what was acknowledged.
pub async fn concurrent_writes_leave_gap_free_seqs_that_survive_a_reopen(backend: Backend) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let location = {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || backend.location(&dir))
            .await
            .expect("a location")
    };
    let open = |location: StoreLocation| async move {
        tokio::task::spawn_blocking(move || Store::open_at(&location, Default::default()))
            .await
            .expect("opening finishes")
            .expect("the store opens")
    };
    let store = open(location.clone()).await;
    store
        .write(|db| {
            seed_people(db);
            Ok(())
        })
        .await
        .expect("people");
    let writes = (0..120).map(|n| {
        let store = store.clone();
        async move {
            let (from, to) = (n % PEOPLE, (n * 7 + 1) % PEOPLE);
            let to = if to == from { (to + 1) % PEOPLE } else { to };
            let message = text_from(from, to, &format!("第{n}条"), Some(&format!("c-{n}")));
            store
                .write(move |db| queries::store_message(db, &message, &[person(from), person(to)]))
                .await
        }
    });
    let stored: Vec<_> = futures_util::future::join_all(writes).await;
    let ids: Vec<u64> = stored
        .into_iter()
        .map(|outcome| outcome.expect("every write is stored").id.0)
        .collect();
    let check = |inbox: BTreeMap<UserId, Vec<(u64, u64)>>| {
        let mut seen = Vec::new();
        for (user, rows) in &inbox {
            let seqs: Vec<u64> = rows.iter().map(|(s, _)| *s).collect();
            assert_eq!(
                seqs,
                (1..=rows.len() as u64).collect::<Vec<_>>(),
                "{user}'s seqs have no gap"
            );
            seen.extend(rows.iter().map(|(_, id)| *id));
        }
        seen.sort_unstable();
        let mut expected: Vec<u64> = ids.iter().flat_map(|id| [*id, *id]).collect();
        expected.sort_unstable();
        assert_eq!(seen, expected, "every message reached both parties once");
    };
    check(store.read(|db| Ok(inboxes(db))).await.expect("read"));
    let closing = store.clone();
    tokio::task::spawn_blocking(move || closing.close())
        .await
        .expect("closed");
    drop(store);
    let reopened = open(location).await;
    check(
        reopened
            .read(|db| Ok(inboxes(db)))
            .await
            .expect("read after reopening"),
    );
    tokio::task::spawn_blocking(move || reopened.close())
        .await
        .expect("closed");
}

/// One test per case for a backend.
macro_rules! store_conformance_tests {
    ($backend:ident, $variant:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn search_finds_exactly_what_a_substring_search_finds() {
                super::search_finds_exactly_what_a_substring_search_finds($variant);
            }

            #[test]
            fn a_repeated_cid_is_the_first_message_and_gets_no_new_seq() {
                super::a_repeated_cid_is_the_first_message_and_gets_no_new_seq($variant);
            }

            #[test]
            fn acks_move_forward_only_and_never_past_the_newest() {
                super::acks_move_forward_only_and_never_past_the_newest($variant);
            }

            #[test]
            fn a_former_member_reads_history_up_to_when_they_left() {
                super::a_former_member_reads_history_up_to_when_they_left($variant);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_writes_leave_gap_free_seqs_that_survive_a_reopen() {
                super::concurrent_writes_leave_gap_free_seqs_that_survive_a_reopen($variant).await;
            }
        }
    };
}

store_conformance_tests!(sqlite, Backend::Sqlite);
store_conformance_tests!(postgres_backend, Backend::Postgres);
