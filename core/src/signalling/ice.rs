//! The `ice_servers` reply (§12), kept for the next peer connections.

use crate::envelope::Frame;
use crate::packets::call::{IceServer, IceServersReply, IceTransportPolicy};

/// The ICE servers fetched for one call or meeting serve the next ones this
/// long (the TURN credentials are valid for 12 hours).
pub const ICE_SERVERS_FRESH_MS: i64 = 3_600_000;

/// What the deployment's `ice_servers` reply said, kept with the servers
/// so that a peer connection made from the cache obeys the same policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ice {
    pub(crate) servers: Vec<IceServer>,
    pub(crate) relay_only: bool,
}

/// The last `ice_servers` reply and when it came.
#[derive(Debug, Clone, Default)]
pub(crate) struct IceCache {
    last: Option<(Ice, i64)>,
}

impl IceCache {
    /// Keeps the reply to `ice_servers`. A deployment that cannot give ICE
    /// servers still has host candidates (§12: an empty list is normal on a
    /// LAN), so a refusal is kept as an empty list.
    pub(crate) fn replied(&mut self, frame: &Frame, now: i64) {
        let ice = match frame.packet::<IceServersReply>() {
            Ok(reply) => Ice {
                servers: reply.ice_servers,
                relay_only: reply.ice_transport_policy == IceTransportPolicy::Relay,
            },
            Err(_) => Ice {
                servers: Vec::new(),
                relay_only: false,
            },
        };
        self.last = Some((ice, now));
    }

    /// The servers, if the last reply is recent enough to use.
    pub(crate) fn fresh(&self, now: i64) -> Option<Ice> {
        self.last
            .as_ref()
            .filter(|(_, at)| now - at < ICE_SERVERS_FRESH_MS)
            .map(|(ice, _)| ice.clone())
    }
}
