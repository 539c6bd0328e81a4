//! `admin migrate-to`: a company's SQLite store copied into PostgreSQL, and
//! a server on the copy carries on where the old one stopped: the same
//! sessions, history, seqs and read marks, new ids after the old ones, and
//! search finds the old messages.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::packets::sync::{CatchUp, MessagePage, Search, SearchPage};
use penpen_core::{ClientMsgId, Peer, Seq, Service};
use penpen_server_mock::store::StoreLocation;
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};

fn text(from: &str, to: &str, content: &str, cid: &str) -> SendText {
    SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(from),
        to: Peer::User(user(to)),
        kind: MessageType::Text,
        content: content.into(),
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_company_moves_to_postgres_and_carries_on() {
    let data = tempfile::tempdir().expect("folder");
    let old = start_in_sqlite(data.path()).await;
    let (_stream, zhang) = log_in(&old, ZHANG).await;
    let mut sender = Client::connect(&old, Service::Text, Some(&zhang.token)).await;
    let mut acks = Vec::new();
    for n in 0..3 {
        let ack: SendAck = sender
            .request(&text(
                ZHANG,
                WANG,
                &format!("迁移之前的周报 {n}"),
                &format!("m-{n}"),
            ))
            .await
            .expect("stored");
        acks.push(ack);
    }
    old.shutdown().await;

    let url = postgres::shared().fresh_database();
    let sqlite = ServerConfig::new(data.path()).database_path();
    let target = url.clone();
    let report = tokio::task::spawn_blocking(move || {
        penpen_server_mock::store::copy::sqlite_to_postgres(&sqlite, &target, |_, _| {})
    })
    .await
    .expect("the copy finishes")
    .expect("copied");
    let rows = |table: &str| report.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
    assert!(rows("messages").is_some_and(|n| n >= 3), "{report:?}");
    assert!(rows("sessions").is_some_and(|n| n >= 1), "{report:?}");

    // A second copy into the same database is refused and changes nothing.
    let sqlite = ServerConfig::new(data.path()).database_path();
    let again = url.clone();
    let refused = tokio::task::spawn_blocking(move || {
        penpen_server_mock::store::copy::sqlite_to_postgres(&sqlite, &again, |_, _| {})
    })
    .await
    .expect("finishes");
    assert!(
        refused.is_err_and(|e| e.to_string().contains("empty database only")),
        "a second copy is refused"
    );

    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.store_at = Some(StoreLocation::Postgres(url));
    let new = RunningServer::start(config)
        .await
        .expect("starts on the copy");
    // The old token still works: sessions moved too.
    let mut sender = Client::connect(&new, Service::Text, Some(&zhang.token)).await;
    let after: SendAck = sender
        .request(&text(ZHANG, WANG, "迁移之后", "m-after"))
        .await
        .expect("stored on PostgreSQL");
    assert!(
        after.id > acks[2].id,
        "new ids continue after the copied ones"
    );
    assert_eq!(after.seq.0, acks[2].seq.0 + 1, "Zhang's seqs continue");
    let repeated: SendAck = sender
        .request(&text(ZHANG, WANG, "迁移之前的周报 0", "m-0"))
        .await
        .expect("a repeat is answered");
    assert_eq!(
        repeated.id, acks[0].id,
        "a cid sent before the move is known after it"
    );

    let (_wang_stream, wang) = log_in(&new, WANG).await;
    let mut sync = Client::connect(&new, Service::SyncMessages, Some(&wang.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: None,
        })
        .await
        .expect("catch-up");
    let mine: Vec<&str> = page
        .messages
        .iter()
        .filter(|m| m.cid.as_ref().is_some_and(|c| c.as_str().starts_with("m-")))
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(
        mine,
        [
            "迁移之前的周报 0",
            "迁移之前的周报 1",
            "迁移之前的周报 2",
            "迁移之后"
        ]
    );
    let found: SearchPage = sync
        .request(&Search {
            search: "周报".into(),
            target: Some(Peer::User(user(ZHANG))),
            before: None,
            limit: None,
        })
        .await
        .expect("search");
    assert_eq!(
        found.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        acks.iter().rev().map(|a| a.id).collect::<Vec<_>>(),
        "the copied messages are indexed for search"
    );
    new.shutdown().await;
}
