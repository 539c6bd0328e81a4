//! A real TURN server for tests: Debian's coturn (`turnserver`, installed by
//! `scripts/setup.sh`), started by the test on free ports of 127.0.0.1 with
//! coturn's shared-secret scheme (`use-auth-secret`), the one penpen's
//! server makes credentials for. Nothing is assumed running, and nothing of
//! the system's coturn is used: the configuration, log, pid file and user
//! database live in a temporary folder, and the process is killed on drop.

use crate::stun;
use anyhow::{Context as _, bail};
use penpen_core::packets::call::IceTransportPolicy;
use penpen_server_mock::calls::ice::{IceConfig, TurnSecret};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a started coturn may take to answer a Binding request.
const READY_WAIT: Duration = Duration::from_secs(30);
/// How many UDP ports coturn may relay from: a few browsers' allocations.
const RELAY_PORTS: u16 = 64;

/// One running `turnserver`, killed when dropped.
#[derive(Debug)]
pub struct TurnServer {
    child: Child,
    port: u16,
    relay_ports: (u16, u16),
    secret: String,
    folder: tempfile::TempDir,
}

impl TurnServer {
    /// The realm the server names in its challenges.
    pub const REALM: &'static str = "penpen.test";

    /// Starts coturn with `secret` as its `static-auth-secret` (printable
    /// ASCII without spaces: it goes into a configuration file) and waits
    /// until it answers STUN. A port found free can be taken before coturn
    /// binds it, so a failed start is tried once more on other ports.
    pub async fn start(secret: &str) -> anyhow::Result<TurnServer> {
        if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("a TURN test secret must be printable ASCII without spaces; got {secret:?}");
        }
        let mut last_error = None;
        for _ in 0..2 {
            match TurnServer::start_once(secret).await {
                Ok(server) => return Ok(server),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("no attempt was made"))
            .context("coturn (turnserver) did not start"))
    }

    async fn start_once(secret: &str) -> anyhow::Result<TurnServer> {
        let folder = tempfile::tempdir().context("a temporary folder for coturn")?;
        let port = free_udp_port().await?;
        let relay_ports = free_udp_range(RELAY_PORTS, port).await?;
        let config = folder.path().join("turnserver.conf");
        std::fs::write(
            &config,
            configuration(folder.path(), port, relay_ports, secret),
        )
        .with_context(|| format!("writing {}", config.display()))?;
        std::fs::write(folder.path().join("turn-secret"), format!("{secret}\n"))
            .context("writing the TURN secret file")?;
        let output = std::fs::File::create(folder.path().join("turnserver.out"))
            .context("coturn's output file")?;
        let errors = output.try_clone().context("coturn's output file")?;
        let binary = binary();
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .current_dir(folder.path())
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {}; install Debian's coturn (scripts/setup.sh does) or set TURNSERVER",
                    binary.display()
                )
            })?;
        let mut server = TurnServer {
            child,
            port,
            relay_ports,
            secret: secret.to_owned(),
            folder,
        };
        match server.wait_until_ready().await {
            Ok(()) => Ok(server),
            Err(err) => Err(err.context(format!("its log:\n{}", server.log()))),
        }
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "turnserver exited with {status} before answering on UDP port {}",
                    self.port
                );
            }
            if stun::answers_binding(self.addr(), Duration::from_millis(500)).await {
                return Ok(());
            }
        }
        bail!(
            "turnserver did not answer a STUN Binding request on UDP port {} within {READY_WAIT:?}",
            self.port
        )
    }

    /// Where it listens (UDP).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The URL to hand to clients: `turn:127.0.0.1:PORT?transport=udp`.
    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// The shared secret (coturn's `static-auth-secret`).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// A file holding the secret, for the server's `--turn-secret-file`.
    pub fn secret_file(&self) -> PathBuf {
        self.folder.path().join("turn-secret")
    }

    /// The UDP ports it relays from (inclusive).
    pub fn relay_ports(&self) -> (u16, u16) {
        self.relay_ports
    }

    /// The ICE configuration of a penpen server whose clients use this
    /// TURN server (and nothing else) under `policy`: for
    /// `config.calls.ice` of a test's server.
    pub fn ice_config(&self, policy: IceTransportPolicy) -> IceConfig {
        IceConfig {
            stun_urls: Vec::new(),
            turn_urls: vec![self.url()],
            turn_secret: Some(TurnSecret::new(self.secret.as_bytes())),
            transport_policy: policy,
        }
    }

    /// What coturn wrote so far (its log file and its own output), for
    /// messages of failing tests.
    pub fn log(&self) -> String {
        let read = |name: &str| {
            std::fs::read_to_string(self.folder.path().join(name))
                .unwrap_or_else(|err| format!("({name} unreadable: {err})"))
        };
        format!(
            "--- turnserver.log\n{}--- turnserver.out\n{}",
            read("turnserver.log"),
            read("turnserver.out")
        )
    }

    /// Stops the server and waits until the process is gone.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// coturn's configuration for a test: loopback only, UDP only, no TLS, no
/// CLI, shared-secret credentials, everything it writes in `folder`.
/// coturn refuses loopback peers unless told otherwise; the browsers of a
/// test are loopback peers of each other's relays.
fn configuration(folder: &Path, port: u16, relay: (u16, u16), secret: &str) -> String {
    let file = |name: &str| folder.join(name).display().to_string();
    [
        "listening-ip=127.0.0.1".to_owned(),
        "relay-ip=127.0.0.1".to_owned(),
        format!("listening-port={port}"),
        format!("min-port={}", relay.0),
        format!("max-port={}", relay.1),
        format!("realm={}", TurnServer::REALM),
        "use-auth-secret".to_owned(),
        format!("static-auth-secret={secret}"),
        "allow-loopback-peers".to_owned(),
        "no-multicast-peers".to_owned(),
        "no-tcp".to_owned(),
        "no-tls".to_owned(),
        "no-dtls".to_owned(),
        "no-cli".to_owned(),
        "no-rfc5780".to_owned(),
        format!("log-file={}", file("turnserver.log")),
        "simple-log".to_owned(),
        format!("pidfile={}", file("turnserver.pid")),
        format!("userdb={}", file("turndb")),
    ]
    .join("\n")
        + "\n"
}

/// `TURNSERVER` when set, else Debian's `/usr/bin/turnserver`.
fn binary() -> PathBuf {
    std::env::var_os("TURNSERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/turnserver"))
}

async fn free_udp_port() -> anyhow::Result<u16> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .context("probing for a free UDP port")?;
    Ok(socket.local_addr()?.port())
}

/// `count` consecutive UDP ports that are free now (none of them `avoid`),
/// from a spread of bases so that parallel tests rarely pick the same.
async fn free_udp_range(count: u16, avoid: u16) -> anyhow::Result<(u16, u16)> {
    let seed = std::process::id() as u64 ^ crate::now_nanos();
    for attempt in 0..40u64 {
        // Below Linux's ephemeral range (32768 and up), where the browsers'
        // and the tests' own UDP sockets come from (the servers' service
        // ports around here are TCP).
        let base = 20_000 + (seed.wrapping_mul(31).wrapping_add(attempt * 7919) % 12_000) as u16;
        let last = base + count - 1;
        if (base..=last).contains(&avoid) {
            continue;
        }
        let mut held = Vec::new();
        for port in base..=last {
            match std::net::UdpSocket::bind(("127.0.0.1", port)) {
                Ok(socket) => held.push(socket),
                Err(_) => break,
            }
        }
        if held.len() == usize::from(count) {
            return Ok((base, last));
        }
    }
    bail!("found no {count} consecutive free UDP ports for coturn's relays")
}
