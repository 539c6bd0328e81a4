//! The ICE servers handed to clients: STUN addresses, and TURN addresses
//! with short-lived credentials in coturn's shared-secret scheme (the TURN
//! server checks them with the same secret; the server never stores them).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use penpen_core::State;
use penpen_core::UserId;
use penpen_core::packets::call::{IceServer, IceServersReply, IceTransportPolicy};
use sha1::Sha1;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// How long a TURN credential is valid.
pub const TURN_CREDENTIAL_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The secret shared with the TURN server (coturn's `static-auth-secret`).
/// Never printed: its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnSecret(Vec<u8>);

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(hidden)")
    }
}

/// Why a TURN secret file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file could not be read.
    #[error("cannot read the TURN secret file {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file holds nothing but white space.
    #[error("the TURN secret file {0} is empty; expected the shared secret on its first line")]
    Empty(std::path::PathBuf),
}

impl TurnSecret {
    /// The secret as given (tests and embedders).
    pub fn new(secret: impl Into<Vec<u8>>) -> TurnSecret {
        TurnSecret(secret.into())
    }

    /// Reads the secret from `path`: its content without the white space
    /// around it (an editor's final newline is not part of the secret).
    pub fn from_file(path: &Path) -> Result<TurnSecret, SecretError> {
        let bytes = std::fs::read(path).map_err(|source| SecretError::Read {
            path: path.to_owned(),
            source,
        })?;
        let secret = bytes.trim_ascii();
        if secret.is_empty() {
            return Err(SecretError::Empty(path.to_owned()));
        }
        Ok(TurnSecret(secret.to_vec()))
    }

    /// coturn's credential for `username`: base64(HMAC-SHA1(secret, username)).
    pub fn credential(&self, username: &str) -> String {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&self.0)
            .expect("invariant: HMAC accepts keys of every length");
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// Why the ICE configuration cannot be served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IceConfigError {
    /// Clients would be told to use only TURN relays, and none is configured.
    #[error(
        "the ICE transport policy relay lets calls use only TURN relays, but no TURN server is \
         configured; expected --turn-url and --turn-secret-file with it (or --ice-transport-policy all)"
    )]
    RelayWithoutTurn,
}

/// What the deployment configured; all empty on a LAN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceConfig {
    /// `stun:` addresses.
    pub stun_urls: Vec<String>,
    /// `turn:`/`turns:` addresses; listed only with a secret.
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server.
    pub turn_secret: Option<TurnSecret>,
    /// Whether clients may use every candidate or only the TURN relays.
    pub transport_policy: IceTransportPolicy,
}

impl IceConfig {
    /// Refuses a configuration whose clients could not connect at all:
    /// `relay` without a TURN server to relay through.
    pub fn check(&self) -> Result<(), IceConfigError> {
        let has_turn = !self.turn_urls.is_empty() && self.turn_secret.is_some();
        match self.transport_policy {
            IceTransportPolicy::Relay if !has_turn => Err(IceConfigError::RelayWithoutTurn),
            _ => Ok(()),
        }
    }

    /// The reply to `ice_servers` for `user` at `now_s` (Unix seconds).
    pub fn reply_for(&self, user: &UserId, now_s: u64) -> IceServersReply {
        IceServersReply {
            state: State::SUCCESS,
            ice_servers: self.servers_for(user, now_s),
            ice_transport_policy: self.transport_policy,
        }
    }

    /// The ICE servers for `user` at `now_s` (Unix seconds): one entry with
    /// every STUN address, one with every TURN address and a credential
    /// valid for [`TURN_CREDENTIAL_LIFETIME`].
    pub fn servers_for(&self, user: &UserId, now_s: u64) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let username = format!("{}:{user}", now_s + TURN_CREDENTIAL_LIFETIME.as_secs());
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                credential: Some(secret.credential(&username)),
                username: Some(username),
            });
        }
        servers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_coturns_hmac_sha1() {
        // RFC 2202's HMAC-SHA1 test case 2, in base64.
        let secret = TurnSecret::new("Jefe");
        assert_eq!(
            secret.credential("what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn a_secret_file_loses_its_surrounding_white_space_and_may_not_be_empty() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("turn-secret");
        std::fs::write(&path, "  s3cret\n").expect("written");
        let secret = TurnSecret::from_file(&path).expect("read");
        assert_eq!(secret, TurnSecret::new("s3cret"));
        std::fs::write(&path, "\n").expect("written");
        assert!(matches!(
            TurnSecret::from_file(&path),
            Err(SecretError::Empty(_))
        ));
        let missing = folder.path().join("missing");
        assert!(matches!(
            TurnSecret::from_file(&missing),
            Err(SecretError::Read { .. })
        ));
    }

    #[test]
    fn turn_is_listed_only_with_a_secret_and_stun_alone_has_no_credential() {
        let user = UserId::parse("13800000001").expect("a user id");
        let mut config = IceConfig {
            stun_urls: vec!["stun:stun.example.cn:3478".into()],
            turn_urls: vec!["turn:turn.example.cn:3478".into()],
            turn_secret: None,
            transport_policy: IceTransportPolicy::All,
        };
        let servers = config.servers_for(&user, 1_000);
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].username, None);
        config.turn_secret = Some(TurnSecret::new("s3cret"));
        let servers = config.servers_for(&user, 1_000);
        assert_eq!(servers[1].username.as_deref(), Some("44200:13800000001"));
        assert!(format!("{config:?}").contains("hidden"));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn relay_needs_a_turn_address_and_its_secret() {
        let user = UserId::parse("13800000001").expect("a user id");
        let mut config = IceConfig {
            transport_policy: IceTransportPolicy::Relay,
            ..IceConfig::default()
        };
        assert_eq!(config.check(), Err(IceConfigError::RelayWithoutTurn));
        config.turn_urls = vec!["turn:turn.example.cn:3478".into()];
        assert_eq!(config.check(), Err(IceConfigError::RelayWithoutTurn));
        config.turn_urls.clear();
        config.turn_secret = Some(TurnSecret::new("s3cret"));
        assert_eq!(config.check(), Err(IceConfigError::RelayWithoutTurn));
        config.turn_urls = vec!["turn:turn.example.cn:3478".into()];
        assert_eq!(config.check(), Ok(()));
        let reply = config.reply_for(&user, 1_000);
        assert_eq!(reply.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(reply.ice_servers.len(), 1);
        // Every candidate needs no server at all.
        assert_eq!(IceConfig::default().check(), Ok(()));
    }
}
