//! What the composer sends and keeps: the checks on a text, the field's
//! height, and the draft.

use crate::i18n::{Lang, Text};
use crate::state::Command;
use gloo::timers::callback::Timeout;
use penpen_core::Peer;
use penpen_core::limits::MAX_TEXT_CHARS;
use yew::prelude::*;

/// The draft is kept after this long without typing (not on every key).
pub(super) const DRAFT_AFTER_MS: u32 = 1_000;
/// The counter appears this close to the limit.
const COUNT_FROM: usize = MAX_TEXT_CHARS - 500;
/// The field grows up to this many lines, then scrolls.
const MAX_ROWS: usize = 5;

/// Why a text is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing but spaces.
    Empty,
    /// Over [`MAX_TEXT_CHARS`]; this many characters.
    TooLong(usize),
}

/// The text to send: `text` without surrounding spaces and line breaks, if
/// there is some and it fits in one message.
pub fn outgoing(text: &str) -> Result<&str, Refusal> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 {
        Err(Refusal::Empty)
    } else if chars > MAX_TEXT_CHARS {
        Err(Refusal::TooLong(chars))
    } else {
        Ok(text)
    }
}

/// How many lines the field shows for `text` (browsers without
/// `field-sizing: content` only grow on line breaks).
pub(super) fn rows(text: &str) -> usize {
    (text.matches('\n').count() + 1).clamp(1, MAX_ROWS)
}

/// The text as typed and as the driver last kept it as a draft.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub typed: String,
    pub kept: String,
    pub timer: Option<Timeout>,
}

impl Draft {
    /// Hands the typed text to the driver, if it changed since last time.
    /// It leaves the timer alone: the timer's own callback calls this, and a
    /// timeout must not be dropped while it runs.
    pub(super) fn keep(&mut self, command: &Callback<Command>, peer: &Peer) {
        if self.typed != self.kept {
            self.kept = self.typed.clone();
            command.emit(Command::Draft(peer.clone(), self.kept.clone()));
        }
    }
}

/// `#composer-count` near the limit, and `#composer-error` over it.
pub(super) fn limit_notice(lang: Lang, text: &str) -> Html {
    let count = text.trim().chars().count();
    html! {
        <>
            if count >= COUNT_FROM {
                <span id="composer-count"
                    class={classes!("composer__count", (count > MAX_TEXT_CHARS).then_some("composer__count--over"))}>
                    { format!("{count}/{MAX_TEXT_CHARS}") }
                </span>
            }
            if let Err(Refusal::TooLong(_)) = outgoing(text) {
                <p id="composer-error" class="composer__error" role="alert">
                    { lang.fill(Text::TooLong, &[&MAX_TEXT_CHARS.to_string()]) }
                </p>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_trimmed_text_and_refuses_empty_or_too_long() {
        assert_eq!(outgoing("  你好\n"), Ok("你好"));
        assert_eq!(outgoing(" \n\t"), Err(Refusal::Empty));
        let longest = "字".repeat(MAX_TEXT_CHARS);
        assert_eq!(outgoing(&longest), Ok(longest.as_str()));
        let over = format!("{longest}字");
        assert_eq!(outgoing(&over), Err(Refusal::TooLong(MAX_TEXT_CHARS + 1)));
        // Spaces around do not count against the limit.
        assert_eq!(outgoing(&format!("  {longest}  ")), Ok(longest.as_str()));
    }

    #[test]
    fn the_field_grows_with_line_breaks_up_to_five() {
        assert_eq!(rows(""), 1);
        assert_eq!(rows("a\nb"), 2);
        assert_eq!(rows("\n\n\n\n\n\n\n"), 5);
    }
}
