//! What a server is started with.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Where each service listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortPlan {
    /// Every standard port shifted by this much (0 for the standard ports).
    Offset(u16),
    /// A free port chosen by the operating system for each service, for tests.
    Ephemeral,
}

/// The settings of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The folder that holds the server's data (the database and stored files).
    pub data_dir: PathBuf,
    /// The address every listener binds.
    pub host: IpAddr,
    /// The ports the services listen on.
    pub ports: PortPlan,
    /// Whether an empty database is filled with the demo company on start
    /// (its passwords are published: only when asked for, with `--demo`).
    pub demo: bool,
    /// The zone of the `time` fields, in minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// How often every WebSocket is pinged; a peer silent for three of these is dropped.
    pub heartbeat: std::time::Duration,
    /// The writer queue's capacity and the database's size cap.
    pub store: crate::store::StoreOptions,
    /// Where the messages and accounts are kept; `None`: SQLite in
    /// `data_dir` (see [`ServerConfig::store_location`]).
    pub store_at: Option<crate::store::StoreLocation>,
    /// How many groups a 53888 page holds when the request gives no limit
    /// (1 to 200).
    pub groups_page: u32,
    /// Session lifetimes, login limits and per-user change limits.
    pub auth: crate::policy::AuthPolicy,
    /// Caps on connections and the timeouts they live under.
    pub limits: crate::limits::ConnectionLimits,
    /// Serve every port over TLS with this certificate; plain when `None`.
    pub tls: Option<crate::tls::TlsConfig>,
    /// Page origins (`https://chat.example.com`) allowed to use the server;
    /// when empty, pages of the server's own host (any port) and of localhost.
    pub allowed_origins: Vec<String>,
    /// Names the server is known by besides the `Host` a request names (its
    /// TLS names); pages of these hosts pass the default origin check.
    pub host_names: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Call timeouts and the ICE servers handed to clients.
    pub calls: crate::calls::CallSettings,
    /// The meetings' media server (UDP).
    pub media: MediaSettings,
    /// Meeting timeouts (the participant cap is `media.max_per_room`).
    pub meetings: crate::meetings::MeetingSettings,
    /// How long a message may be recalled (§15.1).
    pub recall: RecallSettings,
    /// Files of any kind: the size and quota limits, the upload expiry.
    pub files: crate::uploads::FileSettings,
    /// Read receipts: the company default, the watchers' coalescing (§16).
    pub receipts: ReceiptSettings,
    /// The bus to the other nodes (none: a single node) and this node's name.
    pub bus: crate::bus::BusConfig,
}

/// Read receipts (§16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// Whether people who never chose share their read receipts (on).
    pub shared_by_default: bool,
    /// A watched group's changed marks are pushed at most this often (1 s;
    /// zero pushes every mark at once, for comparison only).
    pub coalesce: std::time::Duration,
    /// The most marks a catch-up page holds (at most, and by default,
    /// `MAX_READS_PAGE`; tests page with less).
    pub reads_page: usize,
}

impl Default for ReceiptSettings {
    fn default() -> ReceiptSettings {
        ReceiptSettings {
            shared_by_default: true,
            coalesce: std::time::Duration::from_millis(
                penpen_core::packets::receipts::READS_COALESCE_MS as u64,
            ),
            reads_page: penpen_core::packets::receipts::MAX_READS_PAGE,
        }
    }
}

/// How long after it was stored a message may be taken back (§15.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecallSettings {
    /// By its sender (2 minutes).
    pub window: std::time::Duration,
    /// By the holder of the group it was sent to (24 hours).
    pub holder_window: std::time::Duration,
}

impl Default for RecallSettings {
    fn default() -> RecallSettings {
        RecallSettings {
            window: std::time::Duration::from_secs(2 * 60),
            holder_window: std::time::Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// The standard UDP port of the meetings' media, next to 24888.
pub const MEDIA_PORT: u16 = 24889;

/// Where the meetings' SFU takes media and how it treats participants.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// The UDP port; `None` follows the port plan (24889 shifted by the
    /// offset, or any free port for [`PortPlan::Ephemeral`]).
    pub port: Option<u16>,
    /// The address clients send media to, for a server behind NAT; `None`
    /// is the listening host (127.0.0.1 when it listens on every address).
    pub address: Option<IpAddr>,
    /// The most participants in one meeting.
    pub max_per_room: usize,
    /// A participant silent this long is dropped as lost.
    pub lost_after: std::time::Duration,
}

impl Default for MediaSettings {
    fn default() -> MediaSettings {
        MediaSettings {
            port: None,
            address: None,
            max_per_room: crate::sfu::DEFAULT_MAX_PER_ROOM,
            lost_after: std::time::Duration::from_secs(15),
        }
    }
}

impl ServerConfig {
    /// Standard ports on 127.0.0.1, data in `data_dir`, no demo company, UTC+8.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.into(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: PortPlan::Offset(0),
            demo: false,
            utc_offset_minutes: penpen_core::time::DEFAULT_UTC_OFFSET_MINUTES,
            heartbeat: std::time::Duration::from_secs(20),
            store: crate::store::StoreOptions::default(),
            store_at: None,
            groups_page: penpen_core::limits::DEFAULT_PAGE,
            auth: crate::policy::AuthPolicy::default(),
            limits: crate::limits::ConnectionLimits::default(),
            tls: None,
            allowed_origins: Vec::new(),
            host_names: Vec::new(),
            trusted_proxies: Vec::new(),
            calls: crate::calls::CallSettings::default(),
            media: MediaSettings::default(),
            meetings: crate::meetings::MeetingSettings::default(),
            recall: RecallSettings::default(),
            files: crate::uploads::FileSettings::default(),
            receipts: ReceiptSettings::default(),
            bus: crate::bus::BusConfig::default(),
        }
    }

    /// The names pages of this server may come from, besides the `Host` of
    /// each request: the configured names and a specific listening address.
    pub(crate) fn own_names(&self) -> Vec<String> {
        let mut names = self.host_names.clone();
        if !self.host.is_unspecified() {
            names.push(match self.host {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            });
        }
        names
    }

    /// The SQLite database file in the data folder.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("penpen.db")
    }

    /// Where the messages and accounts are kept: `store_at`, else SQLite
    /// in the data folder.
    pub fn store_location(&self) -> crate::store::StoreLocation {
        self.store_at
            .clone()
            .unwrap_or_else(|| crate::store::StoreLocation::Sqlite(self.database_path()))
    }
}
