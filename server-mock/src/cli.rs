//! The command-line options for deployment: TLS, allowed origins, trusted
//! proxies, the connection limits, calls, recall, files and read receipts.
//! `main.rs` flattens them into its own.

use crate::ServerConfig;
use crate::calls::CallSettings;
use crate::calls::ice::{IceConfig, SecretError, TurnSecret};
use crate::config::RecallSettings;
use crate::limits::ConnectionLimits;
use crate::tls::{self, TlsConfig, TlsError};
use penpen_core::packets::call::IceTransportPolicy;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

fn defaults() -> ConnectionLimits {
    ConnectionLimits::default()
}

/// How the server meets the network.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Serve every port over TLS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve TLS with a self-signed certificate kept in DIR (made on first use,
    /// for localhost, 127.0.0.1, --host and every --tls-name): for LAN trials.
    #[arg(long, value_name = "DIR", conflicts_with = "tls_cert")]
    pub tls_self_signed: Option<PathBuf>,
    /// A name this server is reached by (host name or IP address), repeatable:
    /// put in the self-signed certificate, and allowed as a page origin's host.
    #[arg(long, value_name = "NAME")]
    pub tls_name: Vec<String>,
    /// A page origin allowed to use the server (https://chat.example.com),
    /// repeatable. Without any: pages of the server's own host on any port.
    #[arg(long, value_name = "ORIGIN")]
    pub allowed_origin: Vec<String>,
    /// A reverse proxy whose X-Forwarded-For header is believed, repeatable.
    #[arg(long, value_name = "ADDR")]
    pub trusted_proxy: Vec<IpAddr>,
    /// Open connections on all ports together.
    #[arg(long, value_name = "N", default_value_t = defaults().max_connections)]
    pub max_connections: usize,
    /// Open connections from one client address.
    #[arg(long, value_name = "N", default_value_t = defaults().max_per_address)]
    pub max_connections_per_address: usize,
    /// Open WebSockets holding one session token, all ports together.
    #[arg(long, value_name = "N", default_value_t = defaults().max_per_token)]
    pub max_sockets_per_token: usize,
    /// The largest frame on 20888 (login, resume, ack, logout), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = defaults().login_port_frame_bytes)]
    pub login_frame_bytes: usize,
    /// Seconds a 20888 connection may stay open without logging in.
    #[arg(long, value_name = "SECONDS", default_value_t = defaults().login_deadline.as_secs_f64())]
    pub login_deadline: f64,
    /// Seconds a write to a peer may make no progress before the connection is dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = defaults().send_timeout.as_secs_f64())]
    pub send_timeout: f64,
    /// Seconds between pings on every WebSocket; three missed answers close it.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub heartbeat: f64,
}

/// Why the options cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The TURN secret file cannot be used.
    #[error(transparent)]
    TurnSecret(#[from] SecretError),
    /// A number of seconds is not a positive finite number.
    #[error("--{option} {value} is not a number of seconds above zero")]
    Seconds {
        /// The option.
        option: &'static str,
        /// What was given.
        value: f64,
    },
}

fn seconds(option: &'static str, value: f64) -> Result<Duration, OptionsError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(OptionsError::Seconds { option, value })
}

impl NetworkArgs {
    /// Puts the options into `config` (whose `host` is already set), reading
    /// or making the TLS certificate.
    pub fn apply(self, config: &mut ServerConfig) -> Result<(), OptionsError> {
        config.limits = ConnectionLimits {
            max_connections: self.max_connections,
            max_per_address: self.max_connections_per_address,
            max_per_token: self.max_sockets_per_token,
            login_port_frame_bytes: self.login_frame_bytes,
            login_deadline: seconds("login-deadline", self.login_deadline)?,
            send_timeout: seconds("send-timeout", self.send_timeout)?,
            ..config.limits.clone()
        };
        config.heartbeat = seconds("heartbeat", self.heartbeat)?;
        config.allowed_origins = self.allowed_origin;
        config.trusted_proxies = self.trusted_proxy;
        config.host_names = self.tls_name.clone();
        config.tls = match (self.tls_cert, self.tls_key, self.tls_self_signed) {
            (Some(cert), Some(key), _) => Some(TlsConfig::from_files(&cert, &key)?),
            (_, _, Some(dir)) => {
                let mut names = self.tls_name;
                if !config.host.is_unspecified() {
                    names.push(config.host.to_string());
                }
                Some(tls::self_signed_in(&dir, &names)?)
            }
            _ => None,
        };
        Ok(())
    }
}

/// Messages: how long they may be recalled (§15.1).
#[derive(Debug, Clone, clap::Args)]
pub struct MessageArgs {
    /// Seconds a sender may recall their own message after it was stored.
    #[arg(long, value_name = "SECONDS", default_value_t = RecallSettings::default().window.as_secs_f64())]
    pub recall_window: f64,
    /// Seconds a group's holder may recall any user's message in the group.
    #[arg(long, value_name = "SECONDS", default_value_t = RecallSettings::default().holder_window.as_secs_f64())]
    pub holder_recall_window: f64,
}

impl MessageArgs {
    /// Puts the options into `config`.
    pub fn apply(self, config: &mut ServerConfig) -> Result<(), OptionsError> {
        config.recall = RecallSettings {
            window: seconds("recall-window", self.recall_window)?,
            holder_window: seconds("holder-recall-window", self.holder_recall_window)?,
        };
        Ok(())
    }
}

/// `--ice-transport-policy`'s values (the wire's `IceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportPolicy {
    /// Host, server-reflexive and relayed candidates.
    All,
    /// Only the TURN relays.
    Relay,
}

/// Calls: their timeouts and the ICE servers handed to clients.
#[derive(Debug, Clone, clap::Args)]
pub struct CallArgs {
    /// A STUN server handed to clients (stun:stun.example.cn:3478), repeatable.
    /// Without any (and without TURN), clients use host candidates: enough on a LAN.
    #[arg(long, value_name = "URL")]
    pub stun_url: Vec<String>,
    /// A TURN server handed to clients with short-lived credentials
    /// (turn:turn.example.cn:3478?transport=udp), repeatable; needs --turn-secret-file.
    #[arg(long, value_name = "URL", requires = "turn_secret_file")]
    pub turn_url: Vec<String>,
    /// A file holding the secret shared with the TURN server (coturn's
    /// static-auth-secret); read once at start, never logged.
    #[arg(long, value_name = "FILE", requires = "turn_url")]
    pub turn_secret_file: Option<PathBuf>,
    /// Which candidates clients may use: all, or relay (only the TURN relays,
    /// so that callers never learn each other's addresses; needs --turn-url and
    /// --turn-secret-file).
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = TransportPolicy::All)]
    pub ice_transport_policy: TransportPolicy,
    /// Seconds an unanswered call rings before the server ends it.
    #[arg(long, value_name = "SECONDS", default_value_t = CallSettings::default().ring_timeout.as_secs_f64())]
    pub call_ring_timeout: f64,
    /// Seconds a party's call socket may be gone before the call ends as lost.
    #[arg(long, value_name = "SECONDS", default_value_t = CallSettings::default().rejoin_grace.as_secs_f64())]
    pub call_rejoin_grace: f64,
    /// The UDP port of meeting media (default 24889 plus --port-offset).
    #[arg(long, value_name = "PORT")]
    pub media_port: Option<u16>,
    /// The address clients send meeting media to, for a server behind NAT
    /// (default: --host; when --host is 0.0.0.0, the address of the
    /// default route's interface).
    #[arg(long, value_name = "IP")]
    pub media_address: Option<IpAddr>,
}

impl CallArgs {
    /// Puts the options into `config`, reading the TURN secret.
    pub fn apply(self, config: &mut ServerConfig) -> Result<(), OptionsError> {
        config.media.port = self.media_port;
        config.media.address = self.media_address;
        config.calls = CallSettings {
            ring_timeout: seconds("call-ring-timeout", self.call_ring_timeout)?,
            rejoin_grace: seconds("call-rejoin-grace", self.call_rejoin_grace)?,
            ice: IceConfig {
                stun_urls: self.stun_url,
                turn_urls: self.turn_url,
                turn_secret: self
                    .turn_secret_file
                    .as_deref()
                    .map(TurnSecret::from_file)
                    .transpose()?,
                transport_policy: match self.ice_transport_policy {
                    TransportPolicy::All => IceTransportPolicy::All,
                    TransportPolicy::Relay => IceTransportPolicy::Relay,
                },
            },
        };
        Ok(())
    }
}

/// The limits on files of any kind (PROTOCOL §15.6).
#[derive(Debug, Clone, clap::Args)]
pub struct FileArgs {
    /// The largest file of any kind, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::uploads::FileSettings::default().max_file_bytes)]
    pub max_file_bytes: u64,
    /// The most bytes of files one user may hold (sent files and uploads under way).
    #[arg(long, value_name = "BYTES", default_value_t = crate::uploads::FileSettings::default().user_quota_bytes)]
    pub user_quota_bytes: u64,
}

impl FileArgs {
    /// Puts the options into `config`.
    pub fn apply(self, config: &mut ServerConfig) {
        config.files.max_file_bytes = self.max_file_bytes;
        config.files.user_quota_bytes = self.user_quota_bytes;
    }
}

/// `--read-receipts`' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Shared.
    On,
    /// Not shared.
    Off,
}

/// Read receipts (PROTOCOL §16).
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiptArgs {
    /// Whether people who never chose share their read receipts (the
    /// company default; each person may choose otherwise).
    #[arg(long, value_name = "on|off", value_enum, default_value_t = OnOff::On)]
    pub read_receipts: OnOff,
    /// A watched group's changed read marks are pushed at most once per this
    /// many milliseconds (0: every mark at once, for comparison only).
    #[arg(long, value_name = "MS", default_value_t = penpen_core::packets::receipts::READS_COALESCE_MS as u64)]
    pub reads_coalesce_ms: u64,
}

impl ReceiptArgs {
    /// Puts the options into `config`.
    pub fn apply(self, config: &mut ServerConfig) {
        config.receipts = crate::config::ReceiptSettings {
            shared_by_default: self.read_receipts == OnOff::On,
            coalesce: Duration::from_millis(self.reads_coalesce_ms),
            ..config.receipts
        };
    }
}

/// Several nodes (#17): the bus between them and this node's name.
#[derive(Debug, Clone, clap::Args)]
pub struct BusArgs {
    /// Run as one of several nodes sharing one store, with live delivery
    /// between them over this NATS server (nats://host:4222; several
    /// servers of one cluster separated by commas). Without it: a single
    /// node, live delivery in-process.
    #[arg(long, value_name = "URL")]
    pub bus: Option<String>,
    /// This node's name in logs and on the bus (letters, digits, '-', '_';
    /// at most 64). Random at every start when not given.
    #[arg(long, value_name = "ID", value_parser = crate::bus::NodeId::parse)]
    pub node_id: Option<crate::bus::NodeId>,
}

impl BusArgs {
    /// Puts the options into `config`.
    pub fn apply(self, config: &mut ServerConfig) {
        config.bus = crate::bus::BusConfig {
            nats: self.bus,
            node_id: self.node_id,
        };
    }
}
