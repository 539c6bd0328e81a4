//! The call in progress: who, which side, which phase, and what its
//! phase implies (the view, the request that leaves it).

use super::CallView;
use super::negotiation::Negotiation;
use crate::ids::{CallId, UserId};
use crate::packets::call::{CallRequest, EndReason, IceCandidate, Media};

/// Which side of the call this session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Caller,
    Callee,
}

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Caller: the ICE servers and the offer are on their way; not invited yet.
    Preparing,
    /// Caller: invited; `ringing` once a device of the callee shows it.
    Calling { ringing: bool },
    /// Callee: this device rings.
    Ringing,
    /// Callee: the user accepted; `sent` once the `accept` went out.
    Answering { sent: bool },
    /// Accepted; ICE connecting.
    Connecting,
    /// The media flows.
    Connected,
    /// The media dropped at `since`; ICE is being restarted.
    Reconnecting { since: i64 },
}

/// The call in progress.
#[derive(Debug)]
pub(super) struct Call {
    pub(super) id: CallId,
    pub(super) peer: UserId,
    pub(super) media: Media,
    pub(super) role: Role,
    pub(super) phase: Phase,
    pub(super) camera: bool,
    /// Callee: the caller's offer.
    pub(super) offer: Option<String>,
    /// A peer connection exists.
    pub(super) peer_connection: bool,
    /// The microphone (and camera) were asked for.
    pub(super) media_started: bool,
    /// A tone plays.
    pub(super) tone: bool,
    /// When ringing gives up (ours: the cancel; theirs: the server's timeout).
    pub(super) ring_until: Option<i64>,
    pub(super) accepted_at: Option<i64>,
    /// The server knows this session as a party: a new socket must `rejoin`.
    pub(super) known: bool,
    /// A `rejoin` is owed on the next socket.
    pub(super) rejoin: bool,
    /// Since when the socket the call needs is gone.
    pub(super) gone_since: Option<i64>,
    /// Our candidates, held until they may be sent.
    pub(super) candidates: Vec<IceCandidate>,
    pub(super) candidates_sent: usize,
    pub(super) negotiation: Negotiation,
    /// Caller: when to restart ICE.
    pub(super) restart_at: Option<i64>,
    /// The peer connection said it is connected (and has not dropped since).
    pub(super) media_up: bool,
}

impl Call {
    pub(super) fn new(id: CallId, peer: UserId, media: Media, role: Role, phase: Phase) -> Call {
        Call {
            id,
            peer,
            media,
            role,
            phase,
            camera: media == Media::Video,
            offer: None,
            peer_connection: false,
            media_started: false,
            tone: false,
            ring_until: None,
            accepted_at: None,
            known: false,
            rejoin: false,
            gone_since: None,
            candidates: Vec::new(),
            candidates_sent: 0,
            negotiation: Negotiation::new(),
            restart_at: None,
            media_up: false,
        }
    }

    pub(super) fn view(&self) -> CallView {
        let (call, peer, media, camera) =
            (self.id.clone(), self.peer.clone(), self.media, self.camera);
        let since = self.accepted_at.unwrap_or_default();
        match self.phase {
            Phase::Preparing => CallView::Outgoing {
                call,
                peer,
                media,
                ringing: false,
            },
            Phase::Calling { ringing } => CallView::Outgoing {
                call,
                peer,
                media,
                ringing,
            },
            Phase::Ringing => CallView::Incoming { call, peer, media },
            Phase::Answering { .. } | Phase::Connecting => CallView::Connecting {
                call,
                peer,
                media,
                camera,
            },
            Phase::Connected => CallView::Connected {
                call,
                peer,
                media,
                camera,
                since,
            },
            Phase::Reconnecting { .. } => CallView::Reconnecting {
                call,
                peer,
                media,
                camera,
                since,
            },
        }
    }

    /// Needs a peer connection it does not have yet.
    pub(super) fn wants_peer_connection(&self) -> bool {
        !self.peer_connection
            && matches!(
                self.phase,
                Phase::Preparing | Phase::Answering { sent: false }
            )
    }

    /// Our candidates may go to the server now (the caller's early ones are
    /// kept there; the callee is a party only once its accept is answered).
    pub(super) fn may_send_candidates(&self) -> bool {
        match self.role {
            Role::Caller => self.phase != Phase::Preparing,
            Role::Callee => self.accepted_at.is_some(),
        }
    }

    /// The request that leaves the call from its phase, and the reason.
    pub(super) fn leaving(&self) -> (Option<CallRequest>, EndReason) {
        let id = self.id.clone();
        match self.phase {
            Phase::Preparing => (None, EndReason::Cancelled),
            Phase::Calling { .. } => (Some(CallRequest::Cancel(id)), EndReason::Cancelled),
            Phase::Ringing | Phase::Answering { sent: false } => {
                (Some(CallRequest::Decline(id)), EndReason::Declined)
            }
            Phase::Answering { sent: true }
            | Phase::Connecting
            | Phase::Connected
            | Phase::Reconnecting { .. } => (Some(CallRequest::Hangup(id)), EndReason::Hangup),
        }
    }
}
