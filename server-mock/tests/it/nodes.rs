//! Several nodes (#17): three server processes on one store and one NATS
//! server. Users on different nodes chat; two devices of one person on
//! different nodes both get everything; presence, signatures, broadcasts,
//! logouts, group notices and read marks cross nodes; a node killed with
//! SIGKILL mid-burst and a NATS server restarted mid-burst lose nothing; the
//! users a killed node held are announced offline unless on another node.
//! Calls across nodes: `nodes_calls.rs`.
//!
//! The nodes share a PostgreSQL database (`StoreChoice::postgres`, a fresh
//! one of the tests' throwaway cluster), as several nodes run in production.

use crate::common::cluster::*;
use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::broadcast::{BroadcastAck, BroadcastKind, SendBroadcast};
use penpen_core::packets::groups::{GroupMembersChange, GroupUpdated, Members, MembersAction};
use penpen_core::packets::login::{Logout, Push, Resume};
use penpen_core::packets::message::SendAck;
use penpen_core::packets::profile::{Presence, SignatureUpdate};
use penpen_core::packets::receipts::{ReadMark, Watch};
use penpen_core::{ClientMsgId, GroupId, Peer, Service};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const FIVE: &str = "13800000005";

/// The demo's 技术部: Zhang (holder), Liu, 13800000005 and others; not Wang or Li.
fn tech() -> GroupId {
    GroupId::parse("1").expect("gid")
}

/// Whether every cid of `expected` arrived, each as exactly one message.
fn exactly_once(received: &Received, expected: &[String]) -> Result<(), String> {
    let cids = received.cids();
    let duplicated: Vec<_> = cids.iter().filter(|(_, n)| **n > 1).collect();
    if !duplicated.is_empty() {
        return Err(format!("stored twice: {duplicated:?}"));
    }
    let missing: Vec<_> = expected.iter().filter(|c| !cids.contains_key(*c)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} missing, first {:?}",
            missing.len(),
            missing.first()
        ))
    }
}

async fn wait_exactly_once(device: &Device, expected: &[String]) {
    let until = std::time::Instant::now() + DEADLINE;
    loop {
        let outcome = exactly_once(&device.received(), expected);
        match outcome {
            Ok(()) => return,
            Err(why) if why.starts_with("stored twice") => panic!("{}: {why}", device.account),
            Err(why) => assert!(
                std::time::Instant::now() < until,
                "{} within {DEADLINE:?}: {why}",
                device.account
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_three_nodes_chat_one_to_one_and_in_a_group_and_every_device_gets_everything() {
    let nats = NatsServer::start().await;
    let cluster = Cluster::start(3, &nats.url(), &StoreChoice::postgres()).await;
    // Wang has a device on node 0 and one on node 2; Li is on node 1.
    let wang_0 = Device::start(&cluster, WANG, &[0]).await;
    let wang_2 = Device::start(&cluster, WANG, &[2]).await;
    let li_1 = Device::start(&cluster, LI, &[1]).await;
    let liu_1 = Device::start(&cluster, LIU, &[1]).await;
    let five_0 = Device::start(&cluster, FIVE, &[0]).await;

    // Zhang sends from every node in turn; Li from node 1; Wang answers from node 0.
    let zhang = token_on(cluster.addr(2, Service::Login), ZHANG).await;
    let mut expected_wang = Vec::new();
    let mut expected_li = Vec::new();
    for n in 0..12 {
        let cid = format!("zw-{n}");
        send_on(
            &cluster,
            n % 3,
            &zhang,
            &text(ZHANG, Peer::User(user(WANG)), &cid),
        )
        .await;
        expected_wang.push(cid);
        let cid = format!("lw-{n}");
        send_on(
            &cluster,
            1,
            &li_1.token,
            &text(LI, Peer::User(user(WANG)), &cid),
        )
        .await;
        expected_wang.push(cid.clone());
        expected_li.push(cid);
        let cid = format!("wl-{n}");
        send_on(
            &cluster,
            0,
            &wang_0.token,
            &text(WANG, Peer::User(user(LI)), &cid),
        )
        .await;
        // The sender's other device (node 2) gets its own message too.
        expected_wang.push(cid.clone());
        expected_li.push(cid);
    }
    // The group: Zhang writes on node 1, Liu on node 1 and 13800000005 on node 0 read it.
    let mut expected_group = Vec::new();
    for n in 0..8 {
        let cid = format!("zg-{n}");
        send_on(&cluster, 1, &zhang, &text(ZHANG, Peer::Group(tech()), &cid)).await;
        expected_group.push(cid);
    }
    let cid = "liug-0".to_owned();
    send_on(
        &cluster,
        1,
        &liu_1.token,
        &text(LIU, Peer::Group(tech()), &cid),
    )
    .await;
    expected_group.push(cid);

    wait_exactly_once(&wang_0, &expected_wang).await;
    wait_exactly_once(&wang_2, &expected_wang).await;
    wait_exactly_once(&li_1, &expected_li).await;
    wait_exactly_once(&liu_1, &expected_group).await;
    wait_exactly_once(&five_0, &expected_group).await;
    // They came live, not only from the catch-up after the login.
    for device in [&wang_0, &wang_2, &li_1, &liu_1, &five_0] {
        assert_eq!(device.received().connections, 1, "{}", device.account);
    }
    // Both of Wang's devices hold the same messages under the same seqs.
    let seqs_0: BTreeMap<_, _> = wang_0
        .received()
        .messages
        .iter()
        .map(|(s, m)| (*s, m.id))
        .collect();
    let seqs_2: BTreeMap<_, _> = wang_2
        .received()
        .messages
        .iter()
        .map(|(s, m)| (*s, m.id))
        .collect();
    assert_eq!(seqs_0, seqs_2);
}

fn presences(received: &Received, of: &str) -> Vec<Presence> {
    received
        .pushes
        .iter()
        .filter_map(|push| match push {
            Push::Presence { presence } if presence.user == user(of) => Some(presence.presence),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_signatures_broadcasts_notices_read_marks_and_logouts_cross_nodes() {
    let nats = NatsServer::start().await;
    let cluster = Cluster::start(3, &nats.url(), &StoreChoice::postgres()).await;
    let li_1 = Device::start(&cluster, LI, &[1]).await;
    let zhang_2 = Device::start(&cluster, ZHANG, &[2]).await;

    // Presence: Wang comes online on node 0, then also on node 2.
    let wang_0 = Device::start(&cluster, WANG, &[0]).await;
    li_1.wait("sees Wang online", |r| {
        presences(r, WANG).last() == Some(&Presence::Online)
    })
    .await;
    let wang_2 = Device::resume(&cluster, WANG, wang_0.token.clone(), &[2]).await;
    // Wang leaves node 0 but is still on node 2: nobody is told "offline".
    wang_0.stop().await;
    eventually("node 0 found Wang still online on node 2", || {
        cluster
            .log(0)
            .contains("last session here ended; still online on another node")
    })
    .await;
    assert!(
        !presences(&li_1.received(), WANG).contains(&Presence::Offline),
        "Wang was announced offline while online on node 2"
    );
    // Leaving node 2 too: now offline, announced to Li on node 1.
    wang_2.stop().await;
    li_1.wait("sees Wang offline", |r| {
        presences(r, WANG).last() == Some(&Presence::Offline)
    })
    .await;

    // A signature changed on node 2 reaches Li on node 1.
    let mut signature =
        Client::try_connect(cluster.addr(2, Service::Signature), Some(&zhang_2.token))
            .await
            .expect("signature port");
    let _: Done = signature
        .request(&SignatureUpdate {
            user: user(ZHANG),
            signing: "多节点也要加油".into(),
        })
        .await
        .expect("changed");
    li_1.wait("sees Zhang's signature", |r| {
        r.pushes.iter().any(|p| matches!(p, Push::Signature { signature } if signature.user == user(ZHANG) && signature.signing == "多节点也要加油"))
    })
    .await;

    // A broadcast sent on node 0 reaches Li (node 1) and Zhang (node 2).
    let wang = token_on(cluster.addr(0, Service::Login), WANG).await;
    let mut broadcast = Client::try_connect(cluster.addr(0, Service::Broadcast), Some(&wang))
        .await
        .expect("broadcast port");
    let sent: BroadcastAck = broadcast
        .request(&SendBroadcast {
            from: user(WANG),
            kind: BroadcastKind::Announcement,
            title: "多节点".into(),
            content: "三台服务器，一个公司".into(),
            cid: Some(ClientMsgId::parse("nb-1").expect("cid")),
        })
        .await
        .expect("allowed");
    for device in [&li_1, &zhang_2] {
        device
            .wait("gets the broadcast", |r| {
                r.pushes.iter().any(|p| matches!(p, Push::Broadcast { broadcast } if broadcast.id == sent.broadcast.id))
            })
            .await;
    }

    // A group notice: Zhang (node 2) adds Li (node 1) to 技术部.
    let mut members =
        Client::try_connect(cluster.addr(2, Service::GroupMembers), Some(&zhang_2.token))
            .await
            .expect("members port");
    let _: GroupUpdated = members
        .request(&GroupMembersChange {
            gid: tech(),
            action: MembersAction::Add,
            member: Members(vec![user(LI)]),
        })
        .await
        .expect("added");
    li_1.wait("gets the notice of being added", |r| {
        r.messages.values().any(|m| m.to == Peer::Group(tech()))
    })
    .await;

    // Read marks, 1:1: Zhang writes to Li from node 0, Li (node 1) reads it,
    // Zhang's device on node 2 is told.
    let to_li: SendAck = send_on(
        &cluster,
        0,
        &zhang_2.token,
        &text(ZHANG, Peer::User(user(LI)), "zl-read"),
    )
    .await;
    li_1.wait("gets Zhang's text", |r| r.cids().contains_key("zl-read"))
        .await;
    li_1.send(&ReadMark { read: to_li.id });
    zhang_2
        .wait("sees Li's read mark", |r| {
            r.pushes.iter().any(|p| matches!(p, Push::Read { read } if read.by == user(LI) && read.id == Some(to_li.id)))
        })
        .await;

    // Read marks, group: Zhang watches 技术部 on node 2; Li marks on node 1.
    zhang_2.send(&Watch {
        watch: Some(tech()),
    });
    zhang_2
        .wait("gets the full list", |r| {
            r.pushes
                .iter()
                .any(|p| matches!(p, Push::Reads { reads } if reads.full))
        })
        .await;
    let in_group: SendAck = send_on(
        &cluster,
        0,
        &zhang_2.token,
        &text(ZHANG, Peer::Group(tech()), "zg-read"),
    )
    .await;
    li_1.wait("gets the group text", |r| r.cids().contains_key("zg-read"))
        .await;
    li_1.send(&ReadMark { read: in_group.id });
    zhang_2
        .wait("sees Li's mark in the group", |r| {
            r.pushes.iter().any(|p| {
                matches!(p, Push::Reads { reads } if !reads.full
                    && reads.marks.iter().any(|m| m.user == user(LI) && m.id == Some(in_group.id)))
            })
        })
        .await;

    // Logout on node 0 closes the same session's stream on node 1, and its
    // socket on node 2 (a node without its stream).
    let liu_1 = Device::start(&cluster, LIU, &[1]).await;
    let mut liu_text_2 = Client::try_connect(cluster.addr(2, Service::Text), Some(&liu_1.token))
        .await
        .expect("text port");
    let mut elsewhere = Client::try_connect(cluster.addr(0, Service::Login), None)
        .await
        .expect("login port");
    elsewhere
        .send(&Resume {
            user: user(LIU),
            token: liu_1.token.clone(),
            catch_up: true,
        })
        .await;
    elsewhere.payload().await; // the login reply
    elsewhere.send(&Logout { logout: true }).await;
    liu_1
        .wait("is signed out on node 1", |r| {
            r.signed_out || r.pushes.iter().any(|p| matches!(p, Push::SignedOut { .. }))
        })
        .await;
    // (bounded as a whole: the server's pings would restart a per-frame wait)
    let closed = tokio::time::timeout(DEADLINE, liu_text_2.next_frame(DEADLINE)).await;
    assert_eq!(
        closed,
        Ok(Incoming::Closed),
        "the session's socket on node 2 closes too"
    );

    // The admin command (another process) signs Li out on node 1 too.
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"))
        .arg("--data")
        .arg(data_dir(&cluster))
        .args(&cluster.store.args)
        .args(["admin", "revoke-sessions", "--id", LI])
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .expect("the admin command runs");
    assert!(status.success());
    li_1.wait("is signed out by the admin", |r| r.signed_out)
        .await;
}

/// Sends numbered texts from `from` to `to` on node `node` until the
/// connection breaks or `stop` is set; returns the acknowledged cids and how
/// many were attempted.
async fn keep_sending(
    addr: std::net::SocketAddr,
    token: String,
    from: &'static str,
    to: &'static str,
    stop: Arc<AtomicBool>,
    counted: Arc<AtomicUsize>,
) -> (Vec<String>, usize) {
    let mut acked = Vec::new();
    let Ok(mut port) = Client::try_connect(addr, Some(&token)).await else {
        return (acked, 0);
    };
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return (acked, n);
        }
        let cid = format!("{from}-{n}");
        port.send(&text(from, Peer::User(user(to)), &cid)).await;
        match port.next_payload(Duration::from_secs(10)).await {
            Some(payload) => {
                let _: SendAck = decode_reply(&payload).expect("stored");
                acked.push(cid);
                counted.fetch_add(1, Ordering::Relaxed);
            }
            None => return (acked, n + 1), // n's fate is unknown
        }
    }
    unreachable!()
}

/// Sends again every cid below `attempted` on node `node` (a retry returns
/// the first ack); all are stored afterwards.
async fn retry_all(
    cluster: &Cluster,
    node: usize,
    token: &str,
    from: &str,
    to: &str,
    attempted: usize,
) {
    let mut port = Client::try_connect(cluster.addr(node, Service::Text), Some(token))
        .await
        .expect("text port");
    for n in 0..attempted {
        let _: SendAck = port
            .request(&text(from, Peer::User(user(to)), &format!("{from}-{n}")))
            .await
            .expect("stored on retry");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_burst_loses_nothing_and_its_clients_move_to_the_others() {
    let nats = NatsServer::start().await;
    let mut cluster = Cluster::start(3, &nats.url(), &StoreChoice::postgres()).await;
    // Node 1 will die: Wang has a device there (moving to 0) and one on 2;
    // Li is there too (moving to 2).
    let wang_1 = Device::start(&cluster, WANG, &[1, 0, 2]).await;
    let wang_2 = Device::start(&cluster, WANG, &[2, 0]).await;
    let li_1 = Device::start(&cluster, LI, &[1, 2, 0]).await;

    let stop = Arc::new(AtomicBool::new(false));
    let counted = Arc::new(AtomicUsize::new(0));
    let senders: [(&'static str, &'static str, usize); 3] =
        [(ZHANG, WANG, 0), (LIU, WANG, 2), (ZHOU, LI, 1)];
    let mut tasks = Vec::new();
    for (from, to, node) in senders {
        let token = token_on(cluster.addr(node, Service::Login), from).await;
        tasks.push((
            from,
            to,
            token.clone(),
            tokio::spawn(keep_sending(
                cluster.addr(node, Service::Text),
                token,
                from,
                to,
                stop.clone(),
                counted.clone(),
            )),
        ));
    }
    // Kill node 1 once the burst is well under way.
    wang_2
        .wait("got a part of the burst", |r| r.cids().len() >= 30)
        .await;
    cluster.kill(1).await;
    // The senders on living nodes go on a little after the kill.
    wang_2
        .wait("got more after the kill", |r| r.cids().len() >= 60)
        .await;
    stop.store(true, Ordering::Relaxed);

    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut acked_total = 0;
    for (from, to, token, task) in tasks {
        let (acked, attempted) = task.await.expect("sender");
        acked_total += acked.len();
        // Whatever was sent on the dead node and not surely stored is sent again elsewhere.
        retry_all(&cluster, 0, &token, from, to, attempted).await;
        expected
            .entry(to)
            .or_default()
            .extend((0..attempted).map(|n| format!("{from}-{n}")));
    }
    assert!(acked_total > 60, "only {acked_total} acknowledged");

    wait_exactly_once(&wang_1, &expected[WANG]).await;
    wait_exactly_once(&wang_2, &expected[WANG]).await;
    wait_exactly_once(&li_1, &expected[LI]).await;
    // The devices on the dead node moved.
    wang_1
        .wait("moved off node 1", |r| r.node.is_some_and(|n| n != 1))
        .await;
    li_1.wait("moved off node 1", |r| r.node.is_some_and(|n| n != 1))
        .await;
    assert_eq!(wang_2.received().connections, 1, "node 2 stayed up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_of_a_killed_node_are_announced_offline_unless_they_are_on_another() {
    let nats = NatsServer::start().await;
    let mut cluster = Cluster::start(3, &nats.url(), &StoreChoice::postgres()).await;
    let li_0 = Device::start(&cluster, LI, &[0]).await;
    let liu_2 = Device::start(&cluster, LIU, &[2]).await;
    // Wang's only device is on node 1 and stays there; Zhang has one on
    // node 1 and one on node 2.
    let wang_1 = Device::start(&cluster, WANG, &[1]).await;
    let zhang_1 = Device::start(&cluster, ZHANG, &[1]).await;
    let zhang_2 = Device::resume(&cluster, ZHANG, zhang_1.token.clone(), &[2]).await;
    li_0.wait("sees everyone online", |r| {
        [LIU, WANG, ZHANG]
            .iter()
            .all(|who| presences(r, who).last() == Some(&Presence::Online))
    })
    .await;

    cluster.kill(1).await;
    li_0.wait("sees Wang offline", |r| {
        presences(r, WANG).last() == Some(&Presence::Offline)
    })
    .await;
    assert_eq!(
        stored_presence(cluster.addr(0, Service::SyncContacts), &li_0.token, WANG).await,
        Presence::Offline
    );
    // Zhang (still on node 2) and Liu (only ever on node 2) stay online.
    for who in [ZHANG, LIU] {
        assert!(
            !presences(&li_0.received(), who).contains(&Presence::Offline),
            "{who} was announced offline while on node 2"
        );
        assert_eq!(
            stored_presence(cluster.addr(0, Service::SyncContacts), &li_0.token, who).await,
            Presence::Online,
            "{who} is stored online"
        );
    }
    assert_eq!(zhang_2.received().connections, 1, "node 2 stayed up");
    assert_eq!(liu_2.received().connections, 1, "node 2 stayed up");
    drop(wang_1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_burst_loses_nothing() {
    let mut nats = NatsServer::start().await;
    let cluster = Cluster::start(2, &nats.url(), &StoreChoice::postgres()).await;
    let wang_1 = Device::start(&cluster, WANG, &[1]).await;
    let li_1 = Device::start(&cluster, LI, &[1]).await;

    let stop = Arc::new(AtomicBool::new(false));
    let counted = Arc::new(AtomicUsize::new(0));
    let senders: [(&'static str, &'static str); 2] = [(ZHANG, WANG), (LIU, LI)];
    let mut tasks = Vec::new();
    for (from, to) in senders {
        let token = token_on(cluster.addr(0, Service::Login), from).await;
        tasks.push(tokio::spawn(keep_sending(
            cluster.addr(0, Service::Text),
            token,
            from,
            to,
            stop.clone(),
            counted.clone(),
        )));
    }
    wang_1
        .wait("got a part of the burst", |r| r.cids().len() >= 20)
        .await;
    // Node 1 is frozen while NATS restarts, so node 0 is back on the bus
    // (and publishes) before node 1 has subscribed again: what node 0
    // publishes meanwhile reaches nobody. The devices' sockets to node 1
    // stay open: only node 1 reading the store once its link is back can
    // bring them those messages.
    let connected = |log: String| log.matches("bus connected").count();
    let node_0_links = connected(cluster.log(0));
    let node_1_links = connected(cluster.log(1));
    cluster.freeze(1, true).await;
    nats.restart().await;
    eventually("node 0 is back on the bus", || {
        connected(cluster.log(0)) > node_0_links
    })
    .await;
    let at_restart = counted.load(Ordering::Relaxed);
    eventually(
        "node 0 stored (and published) more while node 1 was away",
        || counted.load(Ordering::Relaxed) >= at_restart + 40,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut tokens = Vec::new();
    for ((from, to), task) in senders.into_iter().zip(tasks) {
        let (acked, attempted) = task.await.expect("sender");
        assert_eq!(
            acked.len(),
            attempted,
            "node 0 stayed up: every send acknowledged"
        );
        expected.entry(to).or_default().extend(acked);
        tokens.push((
            from,
            to,
            token_on(cluster.addr(0, Service::Login), from).await,
        ));
    }
    // Nothing is sent any more: only node 1 reading the store once its link
    // is back brings the devices what they missed.
    cluster.freeze(1, false).await;
    eventually("node 1 is back on the bus", || {
        connected(cluster.log(1)) > node_1_links
    })
    .await;
    wait_exactly_once(&wang_1, &expected[WANG]).await;
    wait_exactly_once(&li_1, &expected[LI]).await;
    // And the bus carries news again.
    for (from, to, token) in &tokens {
        let cid = format!("{from}-after");
        send_on(&cluster, 0, token, &text(from, Peer::User(user(to)), &cid)).await;
        expected.get_mut(to).expect("a recipient").push(cid);
    }
    wait_exactly_once(&wang_1, &expected[WANG]).await;
    wait_exactly_once(&li_1, &expected[LI]).await;
    // Nobody reconnected: they got it all live.
    assert_eq!(wang_1.received().connections, 1);
    assert_eq!(li_1.received().connections, 1);
}
