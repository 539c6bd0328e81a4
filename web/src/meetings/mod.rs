//! Meetings in the browser (PROTOCOL §13): the meeting machine's WebRTC
//! side (`rtc`: one peer connection to the server's media forwarder, the
//! received tracks grouped by participant, their `getStats()` figures), what
//! the meeting screen shows ([`MeetingScreen`]) and may ask
//! ([`MeetingCommand`]), and the pure choices behind the screen: the grid's
//! shape ([`grid`]) and who speaks ([`active_speaker`]).
//!
//! The meeting machine is `penpen_core::meeting`; the driver runs it beside
//! the call machine and carries out its actions with these parts.

pub mod rtc;

use penpen_core::meeting::MeetingView;
use penpen_core::{GroupId, MeetingId};
use web_sys::MediaStream;

/// What the meeting screen shows: the machine's view and what the browser
/// adds (our camera, each participant's media and figures, the speaker).
/// It changes every second or two in a meeting, so it has its own context
/// beside the app state.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingScreen {
    /// The meeting as the machine shows it.
    pub view: MeetingView,
    /// Our microphone and camera while the meeting holds them.
    pub local: Option<MediaStream>,
    /// What each other participant sends, in the order it first arrived.
    pub remotes: Vec<RemoteUser>,
    /// The participant (user id) speaking loudest now, if anyone speaks.
    pub speaker: Option<String>,
}

/// Whether the meeting takes the session (joining or in it), so a call or
/// another meeting must wait. Its ended screen only says why it is over.
pub fn holds_session(view: &MeetingView) -> bool {
    matches!(view, MeetingView::InMeeting { .. })
}

impl Default for MeetingScreen {
    fn default() -> MeetingScreen {
        MeetingScreen {
            view: MeetingView::Idle,
            local: None,
            remotes: Vec::new(),
            speaker: None,
        }
    }
}

/// One other participant's media as received: the server sends their
/// tracks in a stream named by their user id (§13).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteUser {
    /// Their user id (the stream id).
    pub user: String,
    /// Their live tracks, a new object whenever the set changes.
    pub stream: MediaStream,
    /// Video frames decoded from them so far (`getStats()`).
    pub video_frames_decoded: u64,
    /// Audio packets received from them so far.
    pub audio_packets_received: u64,
    /// Their audio level at the last measurement, 0 to 1.
    pub audio_level: f32,
}

/// What the screens ask of the meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingCommand {
    /// Start the group's meeting and join it.
    Start {
        /// The group.
        gid: GroupId,
    },
    /// Join the group's running meeting.
    Join {
        /// The group.
        gid: GroupId,
        /// The meeting.
        meeting: MeetingId,
    },
    /// Leave the meeting (it goes on for the others).
    Leave,
    /// End the meeting for everyone (the starter or the group's holder).
    End,
    /// Turn our microphone on or off.
    SetMic(bool),
    /// Turn our camera on or off.
    SetCamera(bool),
}

/// An audio level above this (0 to 1, `getStats()`'s `audioLevel`) is
/// speech; below it, room noise.
pub const SPEAKING_LEVEL: f32 = 0.02;

/// Who speaks: the loudest of `levels` (user, level) above
/// [`SPEAKING_LEVEL`]; the first of equals.
pub fn active_speaker<'a>(levels: impl IntoIterator<Item = (&'a str, f32)>) -> Option<&'a str> {
    let mut best: Option<(&str, f32)> = None;
    for (user, level) in levels {
        if level > SPEAKING_LEVEL && best.is_none_or(|(_, loudest)| level > loudest) {
            best = Some((user, level));
        }
    }
    best.map(|(user, _)| user)
}

/// The grid for `tiles` tiles (1 to 16): (columns, rows), as square as
/// possible and wider than tall (screens are).
pub fn grid(tiles: usize) -> (usize, usize) {
    let tiles = tiles.max(1);
    let mut columns = 1;
    while columns * columns < tiles {
        columns += 1;
    }
    (columns, tiles.div_ceil(columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_grows_square_and_wide() {
        let shapes: Vec<(usize, (usize, usize))> = (1..=16).map(|n| (n, grid(n))).collect();
        assert_eq!(
            shapes,
            vec![
                (1, (1, 1)),
                (2, (2, 1)),
                (3, (2, 2)),
                (4, (2, 2)),
                (5, (3, 2)),
                (6, (3, 2)),
                (7, (3, 3)),
                (8, (3, 3)),
                (9, (3, 3)),
                (10, (4, 3)),
                (11, (4, 3)),
                (12, (4, 3)),
                (13, (4, 4)),
                (14, (4, 4)),
                (15, (4, 4)),
                (16, (4, 4)),
            ]
        );
        for n in 1..=16 {
            let (columns, rows) = grid(n);
            assert!(columns * rows >= n && columns >= rows, "{n}");
        }
        assert_eq!(grid(0), (1, 1));
    }

    #[test]
    fn the_loudest_above_the_threshold_speaks() {
        assert_eq!(active_speaker([]), None);
        assert_eq!(active_speaker([("a", 0.01), ("b", 0.015)]), None);
        assert_eq!(
            active_speaker([("a", 0.1), ("b", 0.3), ("c", 0.2)]),
            Some("b")
        );
        assert_eq!(active_speaker([("a", 0.3), ("b", 0.3)]), Some("a"));
        assert_eq!(active_speaker([("a", 0.0), ("b", 0.05)]), Some("b"));
    }
}
