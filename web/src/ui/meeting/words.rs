//! What the meeting screen says and the tokens its markup carries for
//! tests: pure, tested natively.

use crate::calls::MediaProblem;
use crate::i18n::{Lang, Text};
use penpen_core::meeting::{MeetingLeft, MeetingLink};
use penpen_core::packets::meeting::MeetingEndReason;

/// `data-link`.
pub fn link_token(link: MeetingLink) -> &'static str {
    match link {
        MeetingLink::Connecting => "connecting",
        MeetingLink::Connected => "connected",
        MeetingLink::Reconnecting => "reconnecting",
    }
}

/// `data-ended`: §13's reason as the protocol spells it, or the refusal's
/// or the client's own word.
pub fn ended_token(why: &MeetingLeft) -> &'static str {
    match why {
        MeetingLeft::Left => "left",
        MeetingLeft::Ended(reason) => match reason {
            MeetingEndReason::Ended => "ended",
            MeetingEndReason::Empty => "empty",
            MeetingEndReason::Removed => "removed",
            MeetingEndReason::JoinedElsewhere => "joined_elsewhere",
            MeetingEndReason::Lost => "lost",
        },
        MeetingLeft::Full => "full",
        MeetingLeft::Busy => "busy",
        MeetingLeft::Gone => "gone",
        MeetingLeft::NotMember => "not_member",
        MeetingLeft::Refused(_) => "refused",
        MeetingLeft::Unreachable => "unreachable",
        MeetingLeft::MediaFailed(_) => "media_failed",
    }
}

/// Why the meeting is over for us, in words.
pub fn ended_text(lang: Lang, why: &MeetingLeft) -> String {
    let text = match why {
        MeetingLeft::Left => Text::MeetingLeftByYou,
        MeetingLeft::Ended(reason) => match reason {
            MeetingEndReason::Ended => Text::MeetingOver,
            MeetingEndReason::Empty => Text::MeetingEmpty,
            MeetingEndReason::Removed => Text::MeetingRemoved,
            MeetingEndReason::JoinedElsewhere => Text::MeetingJoinedElsewhere,
            MeetingEndReason::Lost => Text::MeetingLost,
        },
        MeetingLeft::Full => Text::MeetingFull,
        MeetingLeft::Busy => Text::MeetingBusy,
        MeetingLeft::Gone => Text::MeetingGone,
        MeetingLeft::NotMember => Text::MeetingNotMember,
        MeetingLeft::Refused(refusal) => return lang.fill(Text::ErrRefused, &[&refusal.error]),
        MeetingLeft::Unreachable => Text::MeetingUnreachable,
        // The WebRTC side reports a media problem's code (as for a call).
        MeetingLeft::MediaFailed(code) => match MediaProblem::from_code(code) {
            MediaProblem::InsecureContext => Text::CallInsecureContext,
            MediaProblem::Refused => Text::CallMediaRefused,
            MediaProblem::Missing => Text::CallMediaMissing,
            MediaProblem::Busy => Text::CallMediaBusy,
            MediaProblem::Failed(words) => {
                return lang.fill(Text::MeetingMediaFailed, &[&words]);
            }
        },
    };
    lang.tr(text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::{ErrorReply, State};

    fn every_why() -> Vec<MeetingLeft> {
        vec![
            MeetingLeft::Left,
            MeetingLeft::Ended(MeetingEndReason::Ended),
            MeetingLeft::Ended(MeetingEndReason::Empty),
            MeetingLeft::Ended(MeetingEndReason::Removed),
            MeetingLeft::Ended(MeetingEndReason::JoinedElsewhere),
            MeetingLeft::Ended(MeetingEndReason::Lost),
            MeetingLeft::Full,
            MeetingLeft::Busy,
            MeetingLeft::Gone,
            MeetingLeft::NotMember,
            MeetingLeft::Refused(ErrorReply::new(State::FORBIDDEN, "not now")),
            MeetingLeft::Unreachable,
            MeetingLeft::MediaFailed(MediaProblem::Refused.code()),
            MeetingLeft::MediaFailed(MediaProblem::Failed("bad m-line".to_owned()).code()),
        ]
    }

    #[test]
    fn every_end_has_its_own_token_and_words() {
        let whys = every_why();
        let tokens: Vec<&str> = whys.iter().map(ended_token).collect();
        assert_eq!(
            tokens,
            [
                "left",
                "ended",
                "empty",
                "removed",
                "joined_elsewhere",
                "lost",
                "full",
                "busy",
                "gone",
                "not_member",
                "refused",
                "unreachable",
                "media_failed",
                "media_failed"
            ]
        );
        for lang in [Lang::Zh, Lang::En] {
            let texts: Vec<String> = whys.iter().map(|why| ended_text(lang, why)).collect();
            for text in &texts {
                assert!(!text.is_empty());
                // Each reason reads differently from every other.
                assert_eq!(
                    texts.iter().filter(|other| *other == text).count(),
                    1,
                    "{lang:?}: {text}"
                );
            }
        }
        assert_eq!(
            ended_text(Lang::Zh, &MeetingLeft::Full),
            "会议人数已满（最多 16 人）"
        );
        assert!(ended_text(Lang::En, &whys[10]).contains("not now"));
        assert!(ended_text(Lang::En, &whys[13]).contains("bad m-line"));
    }

    #[test]
    fn links_have_tokens() {
        assert_eq!(link_token(MeetingLink::Connecting), "connecting");
        assert_eq!(link_token(MeetingLink::Connected), "connected");
        assert_eq!(link_token(MeetingLink::Reconnecting), "reconnecting");
    }
}
