//! Restart durability: the server process is killed with SIGKILL while clients
//! are sending, restarted on the same data, and every acknowledged message is
//! then delivered exactly once, with no duplicates after the clients retry
//! (on SQLite, and on PostgreSQL in the `postgres` layer). Those connected
//! at the kill are offline after the restart.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::packets::profile::Presence;
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{ClientMsgId, Peer, Seq, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The server binary on a port offset whose ports are all free (on the
/// tests' store: with `PENPEN_TEST_STORE=postgres`, PostgreSQL).
pub(crate) async fn spawn_server(data: &Path, first_offset: u16) -> (Child, u16) {
    let store = test_store_args(data);
    for attempt in 0..50u16 {
        let offset = 1 + (first_offset + attempt * 37) % 998;
        let mut child = Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"))
            .arg("--data")
            .arg(data)
            .arg("--port-offset")
            .arg(offset.to_string())
            .arg("--demo")
            .args(&store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let login = port(Service::Login, offset);
        for _ in 0..300 {
            if let Ok(Some(_)) = child.try_wait() {
                break; // a port was taken: try another offset
            }
            if tokio::net::TcpStream::connect(login).await.is_ok() {
                return (child, offset);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill().await;
    }
    panic!("no port offset had every port free");
}

pub(crate) fn port(service: Service, offset: u16) -> SocketAddr {
    SocketAddr::from((
        [127, 0, 0, 1],
        service.port_with_offset(offset).expect("fits"),
    ))
}

pub(crate) async fn token_of(offset: u16, account: &str) -> String {
    log_in_at(port(Service::Login, offset), account)
        .await
        .1
        .token
}

fn send(from: &str, n: usize) -> SendText {
    SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(from),
        to: Peer::User(user(WANG)),
        kind: MessageType::Text,
        content: format!("{from} 的第 {n} 条"),
        cid: Some(ClientMsgId::parse(&format!("{from}-{n}")).expect("cid")),
    }
}

/// Sends numbered messages until the connection breaks; returns the acknowledged ones.
async fn keep_sending(
    offset: u16,
    from: &'static str,
    token: String,
) -> (BTreeMap<String, u64>, usize) {
    let mut acked = BTreeMap::new();
    let Ok(mut client) = Client::try_connect(port(Service::Text, offset), Some(&token)).await
    else {
        return (acked, 0);
    };
    for n in 0.. {
        client.send(&send(from, n)).await;
        match client.next_payload(Duration::from_secs(5)).await {
            Some(payload) => {
                let ack: SendAck = decode_reply(&payload).expect("stored");
                acked.insert(format!("{from}-{n}"), ack.id.0);
            }
            None => return (acked, n + 1), // sent 0..=n; n's fate is unknown
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_sends_loses_no_acknowledged_message_and_duplicates_none() {
    let data = tempfile::tempdir().expect("folder");
    let seed = (std::process::id() % 900) as u16;
    let (mut server, offset) = spawn_server(data.path(), seed).await;
    let senders = [ZHANG, LIU, LI, ZHOU];
    let mut tasks = Vec::new();
    for from in senders {
        let token = token_of(offset, from).await;
        tasks.push(tokio::spawn(keep_sending(offset, from, token)));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().await.expect("SIGKILL");

    let mut acked = BTreeMap::new();
    let mut attempted = BTreeMap::new();
    for (from, task) in senders.iter().zip(tasks) {
        let (sender_acked, sent) = task.await.expect("sender task");
        attempted.insert(*from, sent);
        acked.extend(sender_acked);
    }
    assert!(
        acked.len() > 20,
        "only {} messages were acknowledged before the kill",
        acked.len()
    );

    // Restart on the same data; every sender retries everything it is unsure of.
    let (mut server, offset) = spawn_server(data.path(), seed + 500).await;
    for from in senders {
        let token = token_of(offset, from).await;
        let mut client = Client::try_connect(port(Service::Text, offset), Some(&token))
            .await
            .expect("text port");
        for n in 0..attempted[from] {
            let cid = format!("{from}-{n}");
            let ack: SendAck = client
                .request(&send(from, n))
                .await
                .expect("stored on retry");
            if let Some(first) = acked.get(&cid) {
                assert_eq!(
                    ack.id.0, *first,
                    "{cid} was acknowledged before; a retry must return the same id"
                );
            }
        }
    }

    // The recipient sees every message exactly once.
    let token = token_of(offset, WANG).await;
    let mut sync = Client::try_connect(port(Service::SyncMessages, offset), Some(&token))
        .await
        .expect("sync port");
    let mut since = Seq(0);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let page: MessagePage = sync
            .request(&CatchUp {
                since,
                limit: Some(200),
            })
            .await
            .expect("page");
        for message in &page.messages {
            since = message.seq.expect("seq");
            if let Some(cid) = &message.cid {
                *seen.entry(cid.to_string()).or_default() += 1;
            }
        }
        if !page.more {
            break;
        }
    }
    let duplicated: BTreeSet<_> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(c, _)| c.clone())
        .collect();
    assert!(duplicated.is_empty(), "delivered twice: {duplicated:?}");
    for cid in acked.keys() {
        assert!(seen.contains_key(cid), "acknowledged {cid} was lost");
    }
    let total: usize = attempted.values().sum();
    assert_eq!(
        seen.len(),
        total,
        "every attempted message is there exactly once after the retries"
    );
    println!(
        "restart test: {} acknowledged before SIGKILL, {} attempted, {} delivered after restart, 0 lost, 0 duplicated",
        acked.len(),
        total,
        seen.len()
    );
    let _ = server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn those_online_when_the_server_was_killed_are_offline_after_the_restart() {
    let data = tempfile::tempdir().expect("folder");
    let seed = (std::process::id() % 900) as u16 + 250;
    let (mut server, offset) = spawn_server(data.path(), seed).await;
    // Wang's stream stays open until the kill.
    let (stream, wang) = log_in_at(port(Service::Login, offset), WANG).await;
    assert_eq!(
        stored_presence(port(Service::SyncContacts, offset), &wang.token, WANG).await,
        Presence::Online
    );
    server.kill().await.expect("SIGKILL");
    drop(stream);

    let (mut server, offset) = spawn_server(data.path(), seed + 500).await;
    // Wang's session is still valid, but no connection of his is open.
    assert_eq!(
        stored_presence(port(Service::SyncContacts, offset), &wang.token, WANG).await,
        Presence::Offline,
        "a user whose connection died with the server is not online"
    );
    let _ = server.kill().await;
}
