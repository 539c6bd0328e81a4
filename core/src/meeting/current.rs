//! The meeting in progress: which, how far the join got, what the server
//! was told, and what that means for the screen.

use super::{MeetingLink, MeetingView};
use crate::ids::{GroupId, MeetingId};
use crate::packets::meeting::Participant;

/// How far the (current) join has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// Getting what the offer needs: the local media and the ICE servers.
    Preparing,
    /// The peer connection exists and its offer is being created.
    Offering,
    /// The offer is made; a start's reply must name the meeting first.
    Offered(String),
    /// `meeting_join` with this offer is sent (or waits its turn on the
    /// socket): the reply to that join, and no earlier one, is ours.
    Joining(String),
    /// The join was answered: the server's answer is applied.
    Joined,
}

/// The meeting in progress.
#[derive(Debug)]
pub(super) struct Current {
    pub(super) gid: GroupId,
    /// Unknown while a start waits for its reply.
    pub(super) meeting: Option<MeetingId>,
    pub(super) phase: Phase,
    pub(super) participants: Vec<Participant>,
    pub(super) mic: bool,
    /// Whether a camera track sends (as the WebRTC side last reported).
    pub(super) camera: bool,
    /// What the server last heard of our microphone and camera (the join's
    /// flags or the last `meeting_media`).
    pub(super) told: Option<(bool, bool)>,
    /// `StartMedia` was given.
    pub(super) media_started: bool,
    /// The local media is held (`MediaStarted` came).
    pub(super) media_ready: bool,
    /// A peer connection exists (no `ClosePeerConnection` since).
    pub(super) peer_connection: bool,
    /// The peer connection says it is connected.
    pub(super) media_up: bool,
    /// A join was answered on the socket open now: it carries our
    /// participation (§13), so answers, media and the leave may go on it.
    pub(super) carried: bool,
    /// A join of ours was ever answered: the server knows us.
    pub(super) joined_once: bool,
    /// The media was ever connected: a later drop is a reconnection.
    pub(super) connected_once: bool,
    /// The socket dropped after our join went out: join again once it is back.
    pub(super) rejoin_on_open: bool,
    /// Answers owed to the server's offers (`CreateAnswer` given).
    pub(super) answering: u32,
    /// Since when the meeting lacks a working socket or media.
    pub(super) down_since: Option<i64>,
    /// A disconnected peer connection is replaced at this time unless it
    /// comes back.
    pub(super) disconnected_until: Option<i64>,
    /// Our `meeting_end` was refused.
    pub(super) end_refused: bool,
}

impl Current {
    pub(super) fn new(gid: GroupId, meeting: Option<MeetingId>, camera: bool) -> Current {
        Current {
            gid,
            meeting,
            phase: Phase::Preparing,
            participants: Vec::new(),
            mic: true,
            camera,
            told: None,
            media_started: false,
            media_ready: false,
            peer_connection: false,
            media_up: false,
            carried: false,
            joined_once: false,
            connected_once: false,
            rejoin_on_open: false,
            answering: 0,
            down_since: None,
            disconnected_until: None,
            end_refused: false,
        }
    }

    /// What the screen shows of it.
    pub(super) fn view(&self) -> MeetingView {
        let link = if self.phase == Phase::Joined && self.media_up && self.carried {
            MeetingLink::Connected
        } else if self.connected_once {
            MeetingLink::Reconnecting
        } else {
            MeetingLink::Connecting
        };
        MeetingView::InMeeting {
            gid: self.gid,
            meeting: self.meeting.clone(),
            link,
            participants: self.participants.clone(),
            mic: self.mic,
            camera: self.camera,
            end_refused: self.end_refused,
        }
    }

    /// The microphone and camera the server has not heard of yet, if any
    /// (only once joined on this socket: §13 takes `meeting_media` only
    /// from the socket carrying the participation).
    pub(super) fn untold(&self) -> Option<(bool, bool)> {
        let now = (self.mic, self.camera);
        (self.carried && self.phase == Phase::Joined && self.told != Some(now)).then_some(now)
    }
}
