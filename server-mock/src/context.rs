//! What every connection of a server shares.

use crate::auth::PasswordWorkers;
use crate::hub::Hub;
use crate::login_limits::LoginLimiter;
use crate::store::Store;

/// The server's shared state.
#[derive(Debug)]
pub struct Context {
    /// The database.
    pub store: Store,
    /// The live sessions on this node.
    pub hub: Hub,
    /// The way to the other nodes' sessions (in-process: none).
    pub bus: crate::bus::Bus,
    /// Failed-login counts.
    pub limiter: LoginLimiter,
    /// Where password hashes are computed and checked.
    pub passwords: PasswordWorkers,
    /// The zone of the `time` fields, in minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The server's data folder (stored files live in `files/` inside it).
    pub data_dir: std::path::PathBuf,
    /// How often the live stream is pinged.
    pub heartbeat: std::time::Duration,
    /// How many groups a 53888 page holds when the request gives no limit.
    pub groups_page: u32,
    /// Session lifetimes, login and change limits.
    pub policy: crate::policy::AuthPolicy,
    /// The open sessions' revocation signals.
    pub revocations: crate::revocation::Revocations,
    /// Per-user limits on group creation and profile changes.
    pub changes: crate::change_limits::ChangeLimiter,
    /// The open connections, counted against the configured caps.
    pub connections: std::sync::Arc<crate::limits::Connections>,
    /// The calls going on (§12).
    pub calls: crate::calls::Calls,
    /// The meetings' media server.
    pub sfu: crate::sfu::Sfu,
    /// The meetings going on (§13).
    pub meetings: crate::meetings::Meetings,
    /// How long messages may be recalled (§15.1).
    pub recall: crate::config::RecallSettings,
    /// The uploads under way and the file limits (§15.6).
    pub uploads: crate::uploads::Uploads,
    /// The company's default for sharing read receipts, and how often a
    /// watched group's marks are pushed (§16).
    pub receipts: crate::config::ReceiptSettings,
    /// Who watches which group's read marks, and the marks waiting for them (§16.2).
    pub reads: crate::reads::Reads,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
