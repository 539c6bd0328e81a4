//! The quality indicator. Its data attributes are the measured figures the
//! end-to-end tests read to prove that media flows, so they carry exactly
//! what the driver measured, and nothing when it measured nothing yet.

use super::words::{level_token, quality_label};
use crate::calls::Quality;
use crate::i18n::Lang;
use yew::prelude::*;

/// `<span id="call-quality" data-level data-route data-rtt-ms
/// data-video-frames-decoded data-audio-packets-received data-video-size>`.
pub fn indicator(lang: Lang, quality: Option<&Quality>) -> Html {
    let Some(quality) = quality else {
        return html! { <span id="call-quality" class="call-quality"></span> };
    };
    let level = level_token(quality.level);
    html! {
        <span id="call-quality" class="call-quality" data-level={level}
            data-route={quality.route.as_str()}
            data-rtt-ms={quality.rtt_ms.map(|ms| ms.to_string())}
            data-video-frames-decoded={quality.video_frames_decoded.to_string()}
            data-audio-packets-received={quality.audio_packets_received.to_string()}
            data-video-size={quality.video_size.map(|(w, h)| format!("{w}x{h}"))}>
            <span class="call-quality__bars" aria-hidden="true">
                <i></i><i></i><i></i>
            </span>
            { quality_label(lang, quality) }
        </span>
    }
}
