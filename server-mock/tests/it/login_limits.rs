//! Logins under attack: attempts count while they are still being checked,
//! lockouts are per (account, address), the Argon2 queue is bounded ("busy",
//! 52), and an unknown account costs as much time as a known one.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::Done;
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::packets::profile::PasswordUpdate;
use penpen_core::{Encoding, ErrorReply, Frame, Service, State, digest};
use penpen_server_mock::{AuthPolicy, PortPlan, RunningServer, ServerConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

async fn start_with(policy: AuthPolicy) -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.auth = policy;
    (RunningServer::start(config).await.expect("starts"), data)
}

/// One login from the local address `from` (any 127.x.y.z works on loopback).
async fn login_from(
    addr: SocketAddr,
    from: Ipv4Addr,
    account: &str,
    password: &str,
) -> Result<LoginReply, ErrorReply> {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(from), 0))
        .expect("bind a loopback address");
    let tcp = socket.connect(addr).await.expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .expect("upgrade");
    let login = Login {
        user: user(account),
        password: digest::password_digest(password),
    };
    let frame = Frame::encode(Encoding::Base64, &login).expect("encodes");
    ws.send(Message::text(frame)).await.expect("send");
    loop {
        let message = tokio::time::timeout(Duration::from_secs(120), ws.next())
            .await
            .expect("a reply within 120 s")
            .expect("open")
            .expect("a message");
        if let Message::Text(text) = message {
            let payload = Frame::decode(text.as_str()).expect("a frame").payload;
            return decode_reply(&payload);
        }
    }
}

const HERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const ELSEWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[tokio::test]
async fn a_burst_of_wrong_passwords_reaches_argon2_only_up_to_the_limit() {
    let (server, _data) = start_with(AuthPolicy::default()).await;
    let addr = server.addr(Service::Login).expect("served");
    let before = server.password_checks();
    let burst: Vec<_> = (0..50)
        .map(|_| tokio::spawn(login_from(addr, HERE, WANG, "wrong password")))
        .collect();
    // A colleague logs in during the burst.
    let started = Instant::now();
    login_from(addr, HERE, LI, PASSWORD)
        .await
        .expect("another account logs in during the burst");
    let colleague = started.elapsed();
    let mut states = std::collections::BTreeMap::new();
    for attempt in burst {
        let refused = attempt.await.expect("joined").expect_err("wrong password");
        *states.entry(refused.state.0).or_insert(0) += 1;
    }
    let reached = server.password_checks() - before - 1;
    eprintln!(
        "MEASURE 50 concurrent wrong logins for one account from one address: {reached} reached Argon2 \
         (replies by state: {states:?}); a correct login of another account took {} ms during the burst",
        colleague.as_millis()
    );
    assert!(
        reached <= 5,
        "{reached} wrong passwords were checked; expected at most 5"
    );
    assert_eq!(
        states.get(&State::LOGIN_FAILED.0).copied().unwrap_or(0) as u64,
        reached
    );
    assert_eq!(
        states.values().sum::<usize>(),
        50,
        "every attempt was answered: {states:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_lockout_holds_one_account_from_one_address_only_and_backs_off() {
    let (server, _data) = start_with(AuthPolicy {
        login_failures_per_pair: 2,
        login_lockout: Duration::from_secs(1),
        ..AuthPolicy::default()
    })
    .await;
    let addr = server.addr(Service::Login).expect("served");
    for _ in 0..2 {
        let refused = login_from(addr, ELSEWHERE, WANG, "guess")
            .await
            .expect_err("wrong");
        assert_eq!(refused.state, State::LOGIN_FAILED);
    }
    let locked = login_from(addr, ELSEWHERE, WANG, PASSWORD)
        .await
        .expect_err("locked out");
    assert_eq!(locked.state, State::RATE_LIMITED);
    assert!(
        locked.error.contains("try again in 1 s"),
        "{}",
        locked.error
    );
    // Wang at their own desk is not locked out by the stranger.
    login_from(addr, HERE, WANG, PASSWORD)
        .await
        .expect("Wang logs in");

    // After the lockout, two more failures lock for twice as long.
    let started = Instant::now();
    loop {
        let reply = login_from(addr, ELSEWHERE, WANG, "guess")
            .await
            .expect_err("wrong");
        if reply.state == State::LOGIN_FAILED {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still locked: {}",
            reply.error
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = login_from(addr, ELSEWHERE, WANG, "guess").await;
    let locked = login_from(addr, ELSEWHERE, WANG, "guess")
        .await
        .expect_err("locked out");
    assert_eq!(locked.state, State::RATE_LIMITED);
    assert!(
        locked.error.contains("try again in 2 s"),
        "{}",
        locked.error
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_unknown_account_takes_as_long_as_a_known_one() {
    let (server, _data) = start_with(AuthPolicy::default()).await;
    let addr = server.addr(Service::Login).expect("served");
    let mut known = Duration::ZERO;
    let mut unknown = Duration::ZERO;
    let before = server.password_checks();
    for round in 0..3 {
        let started = Instant::now();
        let refused = login_from(addr, HERE, [WANG, LI, ZHANG][round], "wrong")
            .await
            .expect_err("wrong");
        known += started.elapsed();
        assert_eq!(refused.state, State::LOGIN_FAILED);
        let started = Instant::now();
        let refused = login_from(
            addr,
            HERE,
            ["13899999991", "13899999992", "13899999993"][round],
            "wrong",
        )
        .await
        .expect_err("no such account");
        unknown += started.elapsed();
        assert_eq!(
            refused,
            ErrorReply::new(State::LOGIN_FAILED, "wrong account or password")
        );
    }
    assert_eq!(
        server.password_checks() - before,
        6,
        "every attempt ran Argon2"
    );
    eprintln!(
        "MEASURE wrong logins: known accounts {} ms, unknown accounts {} ms (3 each)",
        known.as_millis(),
        unknown.as_millis()
    );
    assert!(
        unknown * 2 >= known,
        "unknown accounts answered much faster ({unknown:?} against {known:?}): they can be told apart"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_password_queue_answers_busy() {
    let (server, _data) = start_with(AuthPolicy {
        password_queue: 1,
        login_attempts_per_address: 1000,
        ..AuthPolicy::default()
    })
    .await;
    let addr = server.addr(Service::Login).expect("served");
    let attempts: Vec<_> = (1..=20)
        .map(|n| {
            tokio::spawn(login_from(
                addr,
                HERE,
                Box::leak(format!("138{n:08}").into_boxed_str()),
                "wrong",
            ))
        })
        .collect();
    let mut busy = 0;
    for attempt in attempts {
        let refused = attempt.await.expect("joined").expect_err("wrong");
        match refused.state {
            State::BUSY => busy += 1,
            State::LOGIN_FAILED => {}
            other => panic!("unexpected state {other:?}: {}", refused.error),
        }
    }
    assert!(
        busy > 0,
        "20 concurrent checks on 2 workers with a queue of 1: some must be busy"
    );
    // Busy attempts do not count as failures: the account is not locked.
    login_from(addr, HERE, WANG, PASSWORD)
        .await
        .expect("logs in afterwards");
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_password_changes_are_counted_while_they_hash() {
    let (server, _data) = start_with(AuthPolicy {
        login_failures_per_pair: 3,
        ..AuthPolicy::default()
    })
    .await;
    let (_stream, wang) = log_in(&server, WANG).await;
    let before = server.password_checks();
    let mut ports = Vec::new();
    for _ in 0..10 {
        ports.push(Client::connect(&server, Service::Password, Some(&wang.token)).await);
    }
    let changes: Vec<_> = ports
        .into_iter()
        .map(|mut port| {
            tokio::spawn(async move {
                port.request::<_, Done>(&PasswordUpdate {
                    user: user(WANG),
                    old: digest::password_digest("not the password"),
                    new: digest::password_digest("whatever 2026"),
                })
                .await
            })
        })
        .collect();
    let mut limited = 0;
    for change in changes {
        let refused = change
            .await
            .expect("joined")
            .expect_err("wrong current password");
        match refused.state {
            State::RATE_LIMITED => limited += 1,
            State::WRONG_PASSWORD => {}
            other => panic!("unexpected state {other:?}"),
        }
    }
    let reached = server.password_checks() - before;
    assert!(
        reached <= 3,
        "{reached} wrong passwords were checked; expected at most 3"
    );
    assert_eq!(limited, 10 - reached);
    server.shutdown().await;
}
