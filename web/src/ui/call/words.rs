//! What the call screen says and the tokens its markup carries for tests:
//! pure, tested natively.

use crate::calls::{MediaProblem, Quality, QualityLevel, Route};
use crate::i18n::{Lang, Text};
use crate::ui::format::call_length;
use penpen_core::call::{CallView, EndCause};
use penpen_core::packets::call::{EndReason, Media};

/// `data-call-state`: which screen shows (none while idle).
pub fn state_token(view: &CallView) -> Option<&'static str> {
    Some(match view {
        CallView::Idle => return None,
        CallView::Outgoing { .. } => "outgoing",
        CallView::Incoming { .. } => "incoming",
        CallView::Connecting { .. } => "connecting",
        CallView::Connected { .. } => "connected",
        CallView::Reconnecting { .. } => "reconnecting",
        CallView::Ended { .. } => "ended",
    })
}

/// `data-media`.
pub fn media_token(media: Media) -> &'static str {
    match media {
        Media::Audio => "audio",
        Media::Video => "video",
    }
}

/// "语音通话" or "视频通话".
pub fn media_label(lang: Lang, media: Media) -> &'static str {
    lang.tr(match media {
        Media::Audio => Text::VoiceCall,
        Media::Video => Text::VideoCall,
    })
}

/// `data-cause` of the ended screen: §12's reason as the protocol spells
/// it, or the refusal's or the media's own token.
pub fn cause_token(cause: &EndCause) -> String {
    match cause {
        EndCause::Ended(reason) => reason_token(*reason).to_owned(),
        EndCause::UnknownUser => "unknown-user".to_owned(),
        EndCause::InAnotherCall => "in-another-call".to_owned(),
        EndCause::Gone => "gone".to_owned(),
        EndCause::Forbidden => "forbidden".to_owned(),
        EndCause::Refused(_) => "refused".to_owned(),
        EndCause::Unreachable => "unreachable".to_owned(),
        EndCause::MediaFailed(code) => format!("media:{code}"),
    }
}

/// The protocol's snake_case name of a reason (PROTOCOL §12).
fn reason_token(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Declined => "declined",
        EndReason::Busy => "busy",
        EndReason::Cancelled => "cancelled",
        EndReason::Timeout => "timeout",
        EndReason::Hangup => "hangup",
        EndReason::Lost => "lost",
        EndReason::Glare => "glare",
        EndReason::AnsweredElsewhere => "answered_elsewhere",
    }
}

/// Why the call ended, in words; `caller`: we placed the call (a decline,
/// a timeout or a cancel reads differently for each side).
pub fn cause_text(lang: Lang, cause: &EndCause, caller: bool) -> String {
    let text = match cause {
        EndCause::Ended(reason) => match (reason, caller) {
            (EndReason::Declined, true) => Text::CallDeclinedByThem,
            (EndReason::Declined, false) => Text::CallDeclinedByYou,
            (EndReason::Busy, true) => Text::CallBusyThem,
            (EndReason::Busy, false) => Text::CallBusyYou,
            (EndReason::Timeout, true) => Text::CallNoAnswer,
            (EndReason::Timeout, false) => Text::CallMissed,
            (EndReason::Cancelled, true) => Text::CallCancelledByYou,
            (EndReason::Cancelled, false) => Text::CallCancelledByThem,
            (EndReason::Hangup, _) => Text::CallEnded,
            (EndReason::Lost, _) => Text::CallLost,
            (EndReason::Glare, _) => Text::CallGlare,
            (EndReason::AnsweredElsewhere, _) => Text::CallAnsweredElsewhere,
        },
        EndCause::UnknownUser => Text::CallUnknownUser,
        EndCause::InAnotherCall => Text::CallInAnotherCall,
        EndCause::Gone => Text::CallGone,
        EndCause::Forbidden => Text::CallForbidden,
        EndCause::Refused(refusal) => return lang.fill(Text::ErrRefused, &[&refusal.error]),
        EndCause::Unreachable => Text::CallUnreachable,
        EndCause::MediaFailed(code) => match MediaProblem::from_code(code) {
            MediaProblem::InsecureContext => Text::CallInsecureContext,
            MediaProblem::Refused => Text::CallMediaRefused,
            MediaProblem::Missing => Text::CallMediaMissing,
            MediaProblem::Busy => Text::CallMediaBusy,
            MediaProblem::Failed(words) => return lang.fill(Text::CallMediaFailed, &[&words]),
        },
    };
    lang.tr(text).to_owned()
}

/// The time since `since` (ms) at `now`, as call records show a length
/// (`03:12`, `1:02:03`); never negative, whatever the clocks say.
pub fn elapsed(since: i64, now: i64) -> String {
    let seconds = (now - since).max(0) / 1000;
    call_length(u32::try_from(seconds).unwrap_or(u32::MAX))
}

/// `data-level`.
pub fn level_token(level: QualityLevel) -> &'static str {
    match level {
        QualityLevel::Good => "good",
        QualityLevel::Fair => "fair",
        QualityLevel::Poor => "poor",
    }
}

/// The quality indicator's words: 信号良好, and 中继 when a relay carries it.
pub fn quality_label(lang: Lang, quality: &Quality) -> String {
    let level = lang.tr(match quality.level {
        QualityLevel::Good => Text::CallQualityGood,
        QualityLevel::Fair => Text::CallQualityFair,
        QualityLevel::Poor => Text::CallQualityPoor,
    });
    if quality.route == Route::Relay {
        format!("{level} · {}", lang.tr(Text::CallRelayed))
    } else {
        level.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::{ErrorReply, State};

    #[test]
    fn causes_have_stable_tokens() {
        assert_eq!(
            cause_token(&EndCause::Ended(EndReason::Declined)),
            "declined"
        );
        assert_eq!(
            cause_token(&EndCause::Ended(EndReason::AnsweredElsewhere)),
            "answered_elsewhere"
        );
        assert_eq!(cause_token(&EndCause::InAnotherCall), "in-another-call");
        assert_eq!(
            cause_token(&EndCause::MediaFailed(MediaProblem::InsecureContext.code())),
            "media:insecure-context"
        );
    }

    #[test]
    fn causes_read_for_the_caller_and_the_callee() {
        let declined = EndCause::Ended(EndReason::Declined);
        assert_eq!(cause_text(Lang::Zh, &declined, true), "对方已拒绝");
        assert_eq!(cause_text(Lang::Zh, &declined, false), "已拒绝");
        let timeout = EndCause::Ended(EndReason::Timeout);
        assert_eq!(cause_text(Lang::Zh, &timeout, true), "对方未接听");
        assert_eq!(cause_text(Lang::En, &timeout, false), "Missed call");
        assert_eq!(
            cause_text(Lang::Zh, &EndCause::InAnotherCall, true),
            "你已在其他设备通话中"
        );
        assert_eq!(
            cause_text(Lang::Zh, &EndCause::Gone, false),
            "已在其他设备处理"
        );
        assert_eq!(
            cause_text(Lang::Zh, &EndCause::Unreachable, true),
            "无法连接通话服务器"
        );
        let refused = EndCause::Refused(ErrorReply::new(State::RATE_LIMITED, "too many calls"));
        assert_eq!(
            cause_text(Lang::En, &refused, true),
            "The server refused: too many calls"
        );
    }

    #[test]
    fn media_failures_say_what_to_do() {
        let said = |problem: MediaProblem| {
            cause_text(Lang::Zh, &EndCause::MediaFailed(problem.code()), true)
        };
        assert_eq!(
            said(MediaProblem::InsecureContext),
            "当前页面不是安全连接（HTTPS），浏览器不允许使用麦克风和摄像头"
        );
        assert_eq!(
            said(MediaProblem::Refused),
            "麦克风或摄像头权限被拒绝，请在浏览器设置中允许"
        );
        assert_eq!(said(MediaProblem::Missing), "没有找到麦克风或摄像头");
        assert_eq!(said(MediaProblem::Busy), "麦克风或摄像头正被其他程序占用");
        assert_eq!(
            said(MediaProblem::Failed("bad m-line".into())),
            "通话失败：bad m-line"
        );
    }

    #[test]
    fn the_clock_counts_whole_seconds_from_the_accept() {
        assert_eq!(elapsed(1_000, 1_999), "00:00");
        assert_eq!(elapsed(0, 192_500), "03:12");
        assert_eq!(elapsed(0, 3_723_000), "1:02:03");
        assert_eq!(elapsed(5_000, 1_000), "00:00", "a clock behind the accept");
    }

    #[test]
    fn quality_names_the_level_and_a_relay() {
        let mut quality = Quality {
            level: QualityLevel::Good,
            rtt_ms: Some(20),
            loss_percent: 0.0,
            video_frames_decoded: 0,
            audio_packets_received: 0,
            video_size: None,
            route: Route::Host,
        };
        assert_eq!(quality_label(Lang::Zh, &quality), "信号良好");
        quality.level = QualityLevel::Poor;
        quality.route = Route::Relay;
        assert_eq!(quality_label(Lang::Zh, &quality), "信号较差 · 中继");
        assert_eq!(quality_label(Lang::En, &quality), "Poor signal · relayed");
    }
}
