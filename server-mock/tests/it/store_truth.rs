//! Group commit reports the truth: the database is capped at a few hundred
//! KiB (SQLite's `max_page_count`, as a full disk) while many users send at
//! once. SQLite then rolls whole batches back by itself; afterwards every
//! acknowledged message is on disk and no message answered "failed" is.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::{ClientMsgId, ErrorReply, Peer, Service, State};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::collections::BTreeSet;
use std::path::Path;

/// Demo accounts 13800000001 … 13800000016.
fn senders() -> Vec<String> {
    (1..=16).map(|n| format!("138000000{n:02}")).collect()
}

fn page_count(database: &Path) -> u64 {
    let conn = rusqlite::Connection::open(database).expect("the database opens");
    conn.query_row("PRAGMA page_count", [], |row| row.get(0))
        .expect("page count")
}

fn stored_cids(database: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(database).expect("the database opens");
    let mut statement = conn
        .prepare("SELECT cid FROM messages WHERE cid IS NOT NULL")
        .expect("query");
    statement
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("cids")
}

/// Sends `count` messages one after another (a large one every third, which a
/// full database refuses while smaller ones may still fit); returns the
/// acknowledged cids and the refused ones.
async fn send_all(
    server: &RunningServer,
    from: String,
    token: String,
    count: usize,
) -> (Vec<String>, Vec<String>) {
    let mut client = Client::connect(server, Service::Text, Some(&token)).await;
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for n in 0..count {
        let cid = format!("{from}-{n}");
        let content = if n % 3 == 0 {
            "满".repeat(4000)
        } else {
            format!("{from} 的第 {n} 条")
        };
        let outcome: Result<SendAck, ErrorReply> = client
            .request(&SendText {
                quote: None,
                mentions: None,
                mention_all: false,
                from: user(&from),
                to: Peer::User(user(WANG)),
                kind: MessageType::Text,
                content,
                cid: Some(ClientMsgId::parse(&cid).expect("cid")),
            })
            .await;
        match outcome {
            Ok(_) => acked.push(cid),
            Err(refusal) => {
                assert_eq!(refusal.state, State::SERVER_ERROR, "{refusal:?}");
                failed.push(cid);
            }
        }
    }
    (acked, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_concurrent_sends_loses_no_ack_and_keeps_no_failure() {
    let data = tempfile::tempdir().expect("temporary folder");
    let first = start_in_sqlite(data.path()).await;
    first.shutdown().await;
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    let database = config.database_path();
    config.store.max_pages = Some(page_count(&database) + 200);
    let server = RunningServer::start(config).await.expect("restarts capped");

    let mut tokens = Vec::new();
    for from in senders() {
        let (_stream, reply) = log_in(&server, &from).await;
        tokens.push((from, reply.token));
    }
    let server = std::sync::Arc::new(server);
    let sending: Vec<_> = tokens
        .into_iter()
        .map(|(from, token)| {
            let server = server.clone();
            tokio::spawn(async move { send_all(&server, from, token, 40).await })
        })
        .collect();
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for task in sending {
        let (a, f) = task.await.expect("a sender finished");
        acked.extend(a);
        failed.extend(f);
    }
    let server = std::sync::Arc::into_inner(server).expect("no sender holds the server");
    server.shutdown().await;

    assert!(!acked.is_empty(), "some messages fit");
    assert!(!failed.is_empty(), "the database filled up");
    let on_disk = stored_cids(&database);
    let lost: Vec<_> = acked.iter().filter(|c| !on_disk.contains(*c)).collect();
    let kept: Vec<_> = failed.iter().filter(|c| on_disk.contains(*c)).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(
        kept.is_empty(),
        "{} of {} answered failed but stored: {kept:?}",
        kept.len(),
        failed.len()
    );
}

/// A writer queue of one write: many users sending at once find it full and
/// hear 52 (busy, retry) at once; nothing answered busy is stored, and every
/// acknowledged message is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_writer_queue_answers_busy_and_stores_nothing_for_it() {
    let data = tempfile::tempdir().expect("temporary folder");
    let first = start_in_sqlite(data.path()).await;
    first.shutdown().await;
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.store.queue_capacity = 1;
    let database = config.database_path();
    let server = std::sync::Arc::new(RunningServer::start(config).await.expect("restarts"));

    let mut tokens = Vec::new();
    for from in senders() {
        // A login writes a session; with a queue of one it may be busy too.
        let token = loop {
            let mut login = Client::connect(&server, Service::Login, None).await;
            let reply = login
                .request::<_, penpen_core::packets::login::LoginReply>(
                    &penpen_core::packets::login::Login {
                        user: user(&from),
                        password: penpen_core::digest::password_digest(PASSWORD),
                    },
                )
                .await;
            match reply {
                Ok(reply) => break reply.token,
                Err(refusal) => assert_eq!(refusal.state, State::BUSY, "{refusal:?}"),
            }
        };
        tokens.push((from, token));
    }
    let sending: Vec<_> = tokens
        .into_iter()
        .map(|(from, token)| {
            let server = server.clone();
            tokio::spawn(async move {
                let mut client = Client::connect(&server, Service::Text, Some(&token)).await;
                let (mut acked, mut busy) = (Vec::new(), Vec::new());
                for n in 0..30 {
                    let cid = format!("{from}-{n}");
                    let outcome: Result<SendAck, ErrorReply> = client
                        .request(&SendText {
                            quote: None,
                            mentions: None,
                            mention_all: false,
                            from: user(&from),
                            to: Peer::User(user(WANG)),
                            kind: MessageType::Text,
                            content: format!("第 {n} 条"),
                            cid: Some(ClientMsgId::parse(&cid).expect("cid")),
                        })
                        .await;
                    match outcome {
                        Ok(_) => acked.push(cid),
                        Err(refusal) => {
                            assert_eq!(refusal.state, State::BUSY, "{refusal:?}");
                            assert!(refusal.error.contains("retry"), "{}", refusal.error);
                            busy.push(cid);
                        }
                    }
                }
                (acked, busy)
            })
        })
        .collect();
    let (mut acked, mut busy) = (Vec::new(), Vec::new());
    for task in sending {
        let (a, b) = task.await.expect("a sender finished");
        acked.extend(a);
        busy.extend(b);
    }
    let server = std::sync::Arc::into_inner(server).expect("no sender holds the server");
    server.shutdown().await;

    assert!(!busy.is_empty(), "16 senders overflow a queue of one");
    assert!(!acked.is_empty(), "the writer kept working");
    let on_disk = stored_cids(&database);
    assert!(
        acked.iter().all(|c| on_disk.contains(c)),
        "every ack is stored"
    );
    assert!(
        busy.iter().all(|c| !on_disk.contains(c)),
        "nothing answered busy is stored"
    );
}
