//! Voice messages (语音): recording with the browser's MediaRecorder, and
//! playing with a progress bar, one at a time.
//!
//! On a desktop a click starts recording and the send button stops and sends
//! it; on a phone the button is held while speaking and let go to send. Esc,
//! the cancel button, or sliding the finger away cancels. Recordings under a
//! second are refused, and recording stops and sends at 60 seconds.

mod player;
mod recorder;
mod recording;

use crate::i18n::Text;
use penpen_core::limits::{MAX_VOICE_SECONDS, MIN_VOICE_SECONDS};

pub use player::VoicePlayer;
pub use recorder::VoiceRecorder;

/// The seconds a recording of `elapsed_ms` is sent as, or why it is not.
pub fn recorded_seconds(elapsed_ms: f64) -> Result<u32, Text> {
    if elapsed_ms < f64::from(MIN_VOICE_SECONDS) * 1000.0 {
        return Err(Text::VoiceTooShort);
    }
    Ok((elapsed_ms / 1000.0)
        .round()
        .clamp(f64::from(MIN_VOICE_SECONDS), f64::from(MAX_VOICE_SECONDS)) as u32)
}

/// `m:ss`, as the recorder and the player show time.
pub fn clock(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_under_a_second_are_refused_and_long_ones_capped() {
        assert_eq!(recorded_seconds(400.0), Err(Text::VoiceTooShort));
        assert_eq!(recorded_seconds(999.0), Err(Text::VoiceTooShort));
        assert_eq!(recorded_seconds(1_000.0), Ok(1));
        assert_eq!(recorded_seconds(2_600.0), Ok(3));
        assert_eq!(recorded_seconds(60_400.0), Ok(60));
        assert_eq!(recorded_seconds(75_000.0), Ok(60));
        assert_eq!(clock(65), "1:05");
    }
}
