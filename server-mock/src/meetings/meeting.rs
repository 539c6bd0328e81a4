//! One meeting as the registry keeps it: its places in join order, the
//! joins under way, who took part, and the deadlines they make.

use super::registry::Socket;
use penpen_core::packets::login::Push;
use penpen_core::packets::meeting::{Meeting as MeetingPush, Participant};
use penpen_core::{GroupId, MeetingId, UserId};
use std::time::Instant;

/// One participant's place.
#[derive(Debug)]
pub(super) struct Place {
    pub(super) user: UserId,
    /// The socket that carries the participation (`None` while it is gone).
    pub(super) socket: Option<Socket>,
    pub(super) gone_until: Option<Instant>,
    /// A server offer waits for its answer until then.
    pub(super) offer_until: Option<Instant>,
    /// Counts the offers relayed, so that the end of an answer's handling
    /// does not clear the wait of an offer that came meanwhile.
    pub(super) offers: u64,
    pub(super) mic: bool,
    pub(super) camera: bool,
    /// The `o=` session of the SFU's answer to this participation's join:
    /// an offer of an older peer connection of the same user is not
    /// relayed to the new socket.
    pub(super) session: String,
}

impl Place {
    pub(super) fn deadline(&self) -> Option<Instant> {
        [self.gone_until, self.offer_until]
            .into_iter()
            .flatten()
            .min()
    }
}

#[derive(Debug)]
pub(super) struct Meeting {
    pub(super) gid: GroupId,
    pub(super) started_by: UserId,
    pub(super) started_at_ms: i64,
    pub(super) started: Instant,
    /// The start notice is committed: the meeting can be joined.
    pub(super) running: bool,
    pub(super) first_join_until: Instant,
    pub(super) places: Vec<Place>,
    /// Joins under way (the SFU is negotiating): user and ticket.
    pub(super) joining: Vec<(UserId, u64)>,
    /// Everyone who took part, in first-join order.
    pub(super) took_part: Vec<UserId>,
}

impl Meeting {
    pub(super) fn participants(&self) -> Vec<Participant> {
        self.places
            .iter()
            .map(|p| Participant {
                user: p.user.clone(),
                mic: p.mic,
                camera: p.camera,
            })
            .collect()
    }

    pub(super) fn push(&self, id: &MeetingId) -> Push {
        Push::Meeting {
            meeting: Box::new(MeetingPush {
                gid: self.gid,
                meeting: id.clone(),
                started_by: self.started_by.clone(),
                started_at: self.started_at_ms,
                participants: self.places.iter().map(|p| p.user.clone()).collect(),
            }),
        }
    }

    pub(super) fn unattended(&self) -> bool {
        self.places.is_empty() && self.joining.is_empty()
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        let first =
            (self.took_part.is_empty() && self.unattended()).then_some(self.first_join_until);
        self.places
            .iter()
            .filter_map(Place::deadline)
            .chain(first)
            .min()
    }

    pub(super) fn carried_by(&self, socket: &Socket) -> Option<usize> {
        self.places
            .iter()
            .position(|p| p.socket.as_ref().is_some_and(|s| s.id == socket.id))
    }
}
