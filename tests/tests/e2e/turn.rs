//! The TURN credentials penpen's server hands out work on a real coturn,
//! without a browser: the server is started with the deployment's flags
//! (`--turn-url`, `--turn-secret-file`, `--ice-transport-policy relay`), a
//! user logs in on 20888 and asks 24888 for `ice_servers`, and the reply's
//! credentials allocate a relay on coturn exactly as a browser would. A
//! credential of another scheme, an expired one or a wrong one is refused.

use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use penpen_core::packets::Packet;
use penpen_core::packets::call::{CallRequest, IceServersReply, IceTransportPolicy};
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::{Encoding, ErrorReply, Frame, Service, UserId, digest};
use penpen_e2e::TurnServer;
use penpen_e2e::stun::{Allocation, allocate, answers_binding};
use penpen_server_mock::calls::CallSettings;
use penpen_server_mock::cli::{CallArgs, TransportPolicy};
use penpen_server_mock::demo::DEMO_PASSWORD;
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const WANG: &str = "13800000001";
const REPLY_WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_turn_credentials_allocate_a_relay_on_coturn_and_bad_ones_are_refused()
-> anyhow::Result<()> {
    let turn = TurnServer::start("penpen-turn-e2e-secret").await?;
    let data = tempfile::tempdir().context("a data folder")?;
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    let defaults = CallSettings::default();
    CallArgs {
        stun_url: Vec::new(),
        turn_url: vec![turn.url()],
        turn_secret_file: Some(turn.secret_file()),
        ice_transport_policy: TransportPolicy::Relay,
        call_ring_timeout: defaults.ring_timeout.as_secs_f64(),
        call_rejoin_grace: defaults.rejoin_grace.as_secs_f64(),
        media_port: None,
        media_address: None,
    }
    .apply(&mut config)?;
    let server = RunningServer::start(config).await?;
    let outcome = check_credentials(&server, &turn).await;
    server.shutdown().await;
    let log = turn.log();
    let addr = turn.addr();
    turn.stop().await;
    outcome.with_context(|| format!("coturn's log:\n{log}"))?;
    ensure!(
        !answers_binding(addr, Duration::from_secs(1)).await,
        "coturn still answers on {addr} after stop"
    );
    Ok(())
}

async fn check_credentials(server: &RunningServer, turn: &TurnServer) -> anyhow::Result<()> {
    let reply = ice_servers(server, WANG).await?;
    ensure!(
        reply.ice_transport_policy == IceTransportPolicy::Relay,
        "the reply carries the relay policy: {reply:?}"
    );
    let [entry] = reply.ice_servers.as_slice() else {
        bail!("expected exactly the one TURN entry: {reply:?}");
    };
    ensure!(entry.urls == [turn.url()], "the TURN URL: {entry:?}");
    let (Some(username), Some(credential)) = (&entry.username, &entry.credential) else {
        bail!("the TURN entry has no credentials: {entry:?}");
    };

    // As a browser: the reply's username and credential, nothing else.
    match allocate(turn.addr(), username, credential).await? {
        Allocation::Relayed { relayed, mapped } => {
            let (low, high) = turn.relay_ports();
            ensure!(
                relayed.ip().is_loopback() && (low..=high).contains(&relayed.port()),
                "relayed from {relayed}, expected 127.0.0.1:{low}-{high}"
            );
            ensure!(
                mapped.is_some_and(|m| m.ip().is_loopback()),
                "mapped {mapped:?}"
            );
        }
        refused => bail!("coturn refused the server's own credentials: {refused:?}"),
    }

    // The same credentials with a wrong password.
    let mut wrong = credential.clone();
    wrong.replace_range(0..1, if wrong.starts_with('A') { "B" } else { "A" });
    expect_refused(turn, username, &wrong, "a wrong credential").await?;

    // Properly signed, but expired a minute ago.
    let past = unix_now()? - 60;
    let expired = format!("{past}:{WANG}");
    let signed = coturn_credential(turn.secret(), &expired);
    expect_refused(turn, &expired, &signed, "an expired credential").await?;

    // Valid in time but signed with another secret.
    let (expiry, _) = username.split_once(':').context("expiry:user")?;
    let other = coturn_credential("not-the-shared-secret", username);
    expect_refused(turn, username, &other, "another secret's credential").await?;

    // The check above is coturn's, not a quirk of this client: the same
    // scheme, computed here with the shared secret, is accepted too.
    let again = format!("{expiry}:13800000002");
    let ours = coturn_credential(turn.secret(), &again);
    ensure!(
        matches!(
            allocate(turn.addr(), &again, &ours).await?,
            Allocation::Relayed { .. }
        ),
        "a credential computed with the shared secret is accepted"
    );
    Ok(())
}

async fn expect_refused(
    turn: &TurnServer,
    username: &str,
    password: &str,
    what: &str,
) -> anyhow::Result<()> {
    match allocate(turn.addr(), username, password).await? {
        Allocation::Refused {
            code: 401 | 441, ..
        } => Ok(()),
        other => bail!("{what} ({username}) was not refused with 401 or 441: {other:?}"),
    }
}

/// coturn's `use-auth-secret` password: base64(HMAC-SHA1(secret, username)).
fn coturn_credential(secret: &str, username: &str) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .expect("invariant: HMAC accepts keys of every length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn unix_now() -> anyhow::Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs())
}

/// Logs `account` in on 20888 and asks 24888 for the ICE servers, as the
/// app does.
async fn ice_servers(server: &RunningServer, account: &str) -> anyhow::Result<IceServersReply> {
    let login = Login {
        user: UserId::parse(account).context("an account")?,
        password: digest::password_digest(DEMO_PASSWORD),
    };
    let login = Frame::encode(Encoding::Base64, &login)?;
    let reply: LoginReply = request(service_addr(server, Service::Login)?, None, login).await?;
    let ask = Frame::encode(Encoding::Base64, &CallRequest::IceServers)?;
    request(
        service_addr(server, Service::CallSignalling)?,
        Some(&reply.token),
        ask,
    )
    .await
}

fn service_addr(server: &RunningServer, service: Service) -> anyhow::Result<SocketAddr> {
    server
        .addr(service)
        .with_context(|| format!("the server does not serve {service}"))
}

/// One request (a whole frame) on a new WebSocket to `addr`, and its reply.
async fn request<R: Packet>(
    addr: SocketAddr,
    token: Option<&str>,
    frame: String,
) -> anyhow::Result<R> {
    let url = match token {
        Some(token) => format!("ws://{addr}/?token={token}"),
        None => format!("ws://{addr}/"),
    };
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    socket.send(Message::text(frame)).await?;
    loop {
        let message = tokio::time::timeout(REPLY_WAIT, socket.next())
            .await
            .with_context(|| format!("no reply from {addr} within {REPLY_WAIT:?}"))?
            .with_context(|| format!("{addr} closed the socket"))??;
        let Message::Text(text) = message else {
            continue;
        };
        let frame = Frame::decode(text.as_str())?;
        if let Ok(reply) = frame.packet::<R>() {
            return Ok(reply);
        }
        let refusal: ErrorReply = frame
            .packet()
            .with_context(|| format!("neither a {} nor a refusal: {}", R::NAME, frame.payload))?;
        bail!("{} refused: {refusal:?}", R::NAME);
    }
}
