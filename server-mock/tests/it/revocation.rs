//! Revocation ends every open connection of a session, on every port, at once:
//! logout, a password change (for the other sessions), the admin commands run
//! from another process, and the session limits (idle and absolute).

use crate::common::*;
use futures_util::StreamExt;
use penpen_core::packets::Done;
use penpen_core::packets::login::{LoginReply, Logout, Push, Resume};
use penpen_core::packets::profile::{PasswordUpdate, SignatureQuery, Signatures};
use penpen_core::{Service, State, digest};
use penpen_server_mock::store::Store;
use penpen_server_mock::{AuthPolicy, PortPlan, RunningServer, ServerConfig, admin};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Generous: the goal is well under a second, but the machine may be busy.
const DEADLINE: Duration = Duration::from_secs(5);

async fn start_with(data: &Path, policy: AuthPolicy) -> RunningServer {
    let mut config = ServerConfig::new(data);
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.auth = policy;
    RunningServer::start(config).await.expect("server starts")
}

/// Waits until the server closes `client`'s connection; returns the pushes seen before.
async fn closed(client: &mut Client) -> Vec<String> {
    let started = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = DEADLINE.checked_sub(started.elapsed()) {
        match client.next_payload(left).await {
            Some(payload) => seen.push(payload),
            // `None` is a close, or the wait running out: only the first ends early.
            None if started.elapsed() < DEADLINE => return seen,
            None => break,
        }
    }
    panic!("still open {DEADLINE:?} after the revocation; saw {seen:?}");
}

fn signature_query() -> SignatureQuery {
    SignatureQuery {
        users: vec![user(WANG)],
    }
}

/// A connection that answers a request is still usable.
async fn usable(client: &mut Client) -> bool {
    client
        .request::<_, Signatures>(&signature_query())
        .await
        .is_ok()
}

async fn resume(
    server: &RunningServer,
    account: &str,
    token: &str,
) -> Result<LoginReply, penpen_core::ErrorReply> {
    let mut stream = Client::connect(server, Service::Login, None).await;
    stream
        .request::<_, LoginReply>(&Resume {
            user: user(account),
            token: token.to_owned(),
            catch_up: false,
        })
        .await
}

fn signed_out(payloads: &[String]) -> bool {
    payloads
        .iter()
        .any(|p| matches!(serde_json::from_str::<Push>(p), Ok(Push::SignedOut { .. })))
}

#[tokio::test]
async fn logout_closes_every_connection_of_the_token_on_every_port() {
    let (server, _data) = start().await;
    let (mut stream, wang) = log_in(&server, WANG).await;
    // The same session on a second stream and on two service ports.
    let mut second = Client::connect(&server, Service::Login, None).await;
    second
        .request::<_, LoginReply>(&Resume {
            user: user(WANG),
            token: wang.token.clone(),
            catch_up: false,
        })
        .await
        .expect("resumed");
    let mut text = Client::connect(&server, Service::Text, Some(&wang.token)).await;
    let addr = server.addr(Service::Broadcast).expect("served");
    let (mut raw, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/?token={}", wang.token))
            .await
            .expect("upgraded");
    let mut signatures = Client::connect(&server, Service::SyncSignatures, Some(&wang.token)).await;
    assert!(usable(&mut signatures).await);
    // Another session of the same user is not touched.
    let (_other_stream, other) = log_in(&server, WANG).await;
    let mut other_port =
        Client::connect(&server, Service::SyncSignatures, Some(&other.token)).await;

    // The backlog is pushed first; the logout's reply comes after it.
    while stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let started = Instant::now();
    let _: Done = stream
        .request(&Logout { logout: true })
        .await
        .expect("logged out");
    let pushes = closed(&mut second).await;
    assert!(signed_out(&pushes), "a signed-out push first: {pushes:?}");
    closed(&mut text).await;
    closed(&mut signatures).await;
    let code = tokio::time::timeout(DEADLINE, async {
        while let Some(Ok(message)) = raw.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    })
    .await
    .expect("closed in time");
    assert_eq!(
        code,
        Some((4001, "session revoked: logged out".to_owned())),
        "the close frame says why"
    );
    eprintln!(
        "MEASURE revocation after logout: every connection closed {} ms after the logout request",
        started.elapsed().as_millis()
    );
    assert!(usable(&mut other_port).await, "the other session stays");
    assert_eq!(
        resume(&server, WANG, &wang.token)
            .await
            .expect_err("revoked")
            .state,
        State::SESSION_INVALID
    );
    assert!(
        Client::try_connect(
            server.addr(Service::Text).expect("served"),
            Some(&wang.token)
        )
        .await
        .is_err(),
        "a revoked token opens no port"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_password_change_closes_the_other_sessions_everywhere() {
    let (server, _data) = start().await;
    let (_kept_stream, kept) = log_in(&server, WANG).await;
    let (mut old_stream, old) = log_in(&server, WANG).await;
    let mut old_port = Client::connect(&server, Service::SyncSignatures, Some(&old.token)).await;
    let mut old_text = Client::connect(&server, Service::Text, Some(&old.token)).await;
    assert!(usable(&mut old_port).await);

    let mut password = Client::connect(&server, Service::Password, Some(&kept.token)).await;
    let started = Instant::now();
    let _: Done = password
        .request(&PasswordUpdate {
            user: user(WANG),
            old: digest::password_digest(PASSWORD),
            new: digest::password_digest("a new password 2026"),
        })
        .await
        .expect("changed");
    let pushes = closed(&mut old_stream).await;
    closed(&mut old_port).await;
    closed(&mut old_text).await;
    eprintln!(
        "MEASURE revocation after a password change: the other session's connections closed {} ms after the change request",
        started.elapsed().as_millis()
    );
    assert!(signed_out(&pushes), "a signed-out push: {pushes:?}");
    let mut kept_port = Client::connect(&server, Service::SyncSignatures, Some(&kept.token)).await;
    assert!(
        usable(&mut kept_port).await,
        "the session that changed it stays"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn admin_commands_reach_a_running_server() {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_with(
        data.path(),
        AuthPolicy {
            revocation_poll: Duration::from_millis(100),
            ..AuthPolicy::default()
        },
    )
    .await;
    // The admin command opens the same database beside the running server.
    let admin_store = Store::open(&ServerConfig::new(data.path()).database_path())
        .expect("admin opens the store");

    let (mut stream, li) = log_in(&server, LI).await;
    let mut port = Client::connect(&server, Service::SyncSignatures, Some(&li.token)).await;
    let started = Instant::now();
    assert_eq!(
        admin::revoke_sessions(&admin_store, LI)
            .await
            .expect("revoked"),
        1
    );
    closed(&mut stream).await;
    closed(&mut port).await;
    eprintln!(
        "MEASURE revocation by the admin command: closed {} ms after it committed (poll every 100 ms)",
        started.elapsed().as_millis()
    );
    // A new login still works after revoke-sessions.
    let (mut stream, li) = log_in(&server, LI).await;
    let mut port = Client::connect(&server, Service::SyncSignatures, Some(&li.token)).await;

    assert_eq!(
        admin::disable_user(&admin_store, LI)
            .await
            .expect("disabled"),
        1
    );
    closed(&mut stream).await;
    closed(&mut port).await;
    let mut login = Client::connect(&server, Service::Login, None).await;
    let refused = login
        .request::<_, LoginReply>(&penpen_core::packets::login::Login {
            user: user(LI),
            password: digest::password_digest(PASSWORD),
        })
        .await
        .expect_err("a disabled account cannot log in");
    assert_eq!(refused.state, State::LOGIN_FAILED);
    assert!(refused.error.contains("disabled"), "{}", refused.error);

    admin::enable_user(&admin_store, LI).await.expect("enabled");
    log_in(&server, LI).await;
    assert!(
        admin::disable_user(&admin_store, "13899999999")
            .await
            .is_err()
    );
    admin_store.close();
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_expire_at_their_absolute_limit_even_while_open() {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_with(
        data.path(),
        AuthPolicy {
            session_lifetime: Duration::from_secs(2),
            revocation_poll: Duration::from_millis(100),
            ..AuthPolicy::default()
        },
    )
    .await;
    let (mut stream, wang) = log_in(&server, WANG).await;
    let mut port = Client::connect(&server, Service::SyncSignatures, Some(&wang.token)).await;
    let pushes = closed(&mut stream).await;
    assert!(
        pushes.iter().any(|p| p.contains("expired")),
        "the push says why: {pushes:?}"
    );
    closed(&mut port).await;
    assert_eq!(
        resume(&server, WANG, &wang.token)
            .await
            .expect_err("expired")
            .state,
        State::SESSION_EXPIRED
    );
    assert_eq!(
        resume(&server, WANG, "00ff")
            .await
            .expect_err("unknown")
            .state,
        State::SESSION_INVALID
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_session_expires_and_a_used_one_does_not() {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_with(
        data.path(),
        AuthPolicy {
            session_idle: Duration::from_millis(1500),
            revocation_poll: Duration::from_millis(100),
            ..AuthPolicy::default()
        },
    )
    .await;
    let (stream, idle) = log_in(&server, WANG).await;
    drop(stream);
    let (_busy_stream, busy) = log_in(&server, LI).await;
    let mut busy_port = Client::connect(&server, Service::SyncSignatures, Some(&busy.token)).await;
    // Used every 300 ms for longer than the idle limit.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        assert!(usable(&mut busy_port).await, "a used session stays");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        resume(&server, WANG, &idle.token)
            .await
            .expect_err("idle too long")
            .state,
        State::SESSION_EXPIRED
    );
    resume(&server, LI, &busy.token)
        .await
        .expect("the used session resumes");
    server.shutdown().await;
}
