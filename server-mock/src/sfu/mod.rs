//! The selective forwarding unit for meetings (issue #14): every participant
//! has one peer connection to the server, and the server forwards each one's
//! audio and video to everyone else in the same room.
//!
//! Media travels on one UDP socket; one task owns every participant's str0m
//! `Rtc` and drives them sans-IO. Signalling (offers and answers) is not done
//! here: the 24888 service calls [`Sfu`] and reads its [`SfuEvent`]s.

pub mod client;
mod engine;
mod handle;
mod participant;

pub use handle::Sfu;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which meeting a participant is in; only participants of one room hear each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomKey(pub String);

/// One participant of the SFU (one peer connection), unique across rooms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantKey(pub String);

impl fmt::Display for RoomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ParticipantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RoomKey {
    fn from(s: &str) -> RoomKey {
        RoomKey(s.to_owned())
    }
}

impl From<&str> for ParticipantKey {
    fn from(s: &str) -> ParticipantKey {
        ParticipantKey(s.to_owned())
    }
}

/// What an SFU is started with.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The UDP address media is received on (port 0: any free port).
    pub bind: SocketAddr,
    /// The address clients are told to send media to, for a server behind
    /// NAT; `None` advertises the bound address. A port of 0 takes the bound port.
    pub advertised: Option<SocketAddr>,
    /// The most participants one room holds.
    pub max_per_room: usize,
    /// A participant nothing was heard from for this long is dropped as lost
    /// (browsers send consent checks and RTCP reports every few seconds even
    /// when they publish nothing).
    pub lost_after: Duration,
}

impl SfuConfig {
    /// Media on `bind`, advertised as bound, 16 per room, lost after 15 s of silence.
    pub fn new(bind: SocketAddr) -> SfuConfig {
        SfuConfig {
            bind,
            advertised: None,
            max_per_room: DEFAULT_MAX_PER_ROOM,
            lost_after: Duration::from_secs(15),
        }
    }
}

/// The room cap when none is configured (the web grid shows up to 16 tiles).
pub const DEFAULT_MAX_PER_ROOM: usize = 16;

/// What the SFU tells the signalling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// The server offers this participant a change (tracks added or removed);
    /// the client's answer goes to [`Sfu::answer`].
    Offer {
        /// Whose peer connection changes.
        participant: ParticipantKey,
        /// The SDP offer.
        sdp: String,
    },
    /// The participant's connection was lost and it was dropped from its room.
    Lost {
        /// Who was dropped.
        participant: ParticipantKey,
        /// Its room.
        room: RoomKey,
    },
}

/// Why an SFU call failed.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// The UDP socket could not be bound.
    #[error("cannot bind the media socket on {addr}: {source}")]
    Bind {
        /// The address tried.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The advertised address cannot be a host candidate.
    #[error(
        "cannot advertise media at {0}: expected a specific unicast address (set the advertised media address when binding 0.0.0.0)"
    )]
    BadAddress(SocketAddr),
    /// The SDP could not be parsed or negotiated.
    #[error("bad SDP: {0}")]
    BadSdp(String),
    /// No participant has this key.
    #[error("unknown participant {0}")]
    UnknownParticipant(ParticipantKey),
    /// A participant with this key is already in a room.
    #[error("participant {0} has already joined")]
    AlreadyJoined(ParticipantKey),
    /// The room holds as many participants as allowed.
    #[error("room {room} is full ({max} participants)")]
    RoomFull {
        /// The room.
        room: RoomKey,
        /// Its cap.
        max: usize,
    },
    /// An answer came for a participant the server has no offer out to.
    #[error("participant {0} has no offer waiting for an answer")]
    NoOfferPending(ParticipantKey),
    /// The client offered while the server's own offer is unanswered.
    #[error("participant {0} must answer the server's offer before offering")]
    OfferInFlight(ParticipantKey),
    /// The sender publishes no simulcast layer of this rid to this viewer.
    #[error("{sender} sends no simulcast layer {rid:?} to this viewer")]
    UnknownLayer {
        /// The sender.
        sender: ParticipantKey,
        /// The layer asked for.
        rid: String,
    },
    /// The SFU task is gone (the server is stopping).
    #[error("the media server has stopped")]
    Stopped,
}

/// The SFU's counters, for the load tool and monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// Media frames received from participants.
    pub received: u64,
    /// Media frames written to viewers (one per viewer).
    pub forwarded: u64,
    /// UDP datagrams received on the media socket (RTP, RTCP, STUN, DTLS).
    pub datagrams_in: u64,
    /// UDP datagrams sent from the media socket.
    pub datagrams_out: u64,
    /// Participants connected now.
    pub participants: u64,
    /// Rooms with at least one participant now.
    pub rooms: u64,
}

/// The live counters behind [`SfuStats`], shared by the task and the handles.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    received: AtomicU64,
    forwarded: AtomicU64,
    datagrams_in: AtomicU64,
    datagrams_out: AtomicU64,
    participants: AtomicU64,
    rooms: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> SfuStats {
        SfuStats {
            received: self.received.load(Ordering::Relaxed),
            forwarded: self.forwarded.load(Ordering::Relaxed),
            datagrams_in: self.datagrams_in.load(Ordering::Relaxed),
            datagrams_out: self.datagrams_out.load(Ordering::Relaxed),
            participants: self.participants.load(Ordering::Relaxed),
            rooms: self.rooms.load(Ordering::Relaxed),
        }
    }
}

/// The advertised host candidate for a bound socket.
fn advertised_addr(config: &SfuConfig, bound: SocketAddr) -> Result<SocketAddr, SfuError> {
    let addr = match config.advertised {
        Some(a) if a.port() == 0 => SocketAddr::new(a.ip(), bound.port()),
        Some(a) => a,
        None => bound,
    };
    let usable = match addr.ip() {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    };
    if usable {
        Ok(addr)
    } else {
        Err(SfuError::BadAddress(addr))
    }
}
