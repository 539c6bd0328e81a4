//! The call is over: why, and how long it lasted, until the machine returns
//! to idle by itself.

use super::parts::{Party, hero, info};
use super::words::cause_text;
use crate::i18n::{Lang, Text};
use crate::ui::format::call_length;
use penpen_core::call::EndCause;
use yew::prelude::*;

/// The cause in words (`#call-end-cause`), and `#call-duration` when the
/// call was taken; `caller`: we placed it.
pub fn ended(
    lang: Lang,
    party: &Party,
    cause: &EndCause,
    duration: Option<u32>,
    caller: bool,
) -> Html {
    let cause = cause_text(lang, cause, caller);
    html! {
        <>
            <div class="call-screen__stage">{ hero(party) }</div>
            { info(party, html! { <span id="call-end-cause">{ cause }</span> }, html! {
                if let Some(seconds) = duration {
                    <p id="call-duration" class="call-screen__media">
                        { lang.fill(Text::CallDuration, &[&call_length(seconds)]) }
                    </p>
                }
            }) }
        </>
    }
}
