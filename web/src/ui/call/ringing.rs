//! Before the call is taken: calling someone (`outgoing`), and being called
//! (`incoming`).

use super::media::{Element, player};
use super::parts::{Party, bar, hero, info, round, sends};
use super::words::media_label;
use crate::calls::{CallCommand, CallScreen};
use crate::i18n::{Lang, Text};
use crate::state::Command;
use penpen_core::packets::call::Media;
use yew::prelude::*;

/// Calling `party`: "calling…" until a device of theirs rings, our camera
/// behind it in a video call, and `#call-hang-up` to cancel.
pub fn outgoing(
    lang: Lang,
    party: &Party,
    media: Media,
    ringing: bool,
    screen: &CallScreen,
    command: &Callback<Command>,
) -> Html {
    let status = lang.tr(if ringing {
        Text::CallRinging
    } else {
        Text::CallCalling
    });
    let preview = media == Media::Video && screen.local.is_some();
    html! {
        <>
            <div class="call-screen__stage">
                if preview {
                    { player("call-local", "call-screen__local call-screen__local--full",
                        Element::Video, screen.local.clone(), true, None) }
                } else {
                    { hero(party) }
                }
            </div>
            { info(party, html! { status }, html! {
                <p class="call-screen__media">{ media_label(lang, media) }</p>
            }) }
            { bar(round("call-hang-up", "call-button--danger", "✕", lang.tr(Text::Cancel),
                None, sends(command, CallCommand::HangUp))) }
        </>
    }
}

/// `party` calls: "invites you to a video call", `#call-decline` and
/// `#call-accept`.
pub fn incoming(lang: Lang, party: &Party, media: Media, command: &Callback<Command>) -> Html {
    let invites = lang.tr(match media {
        Media::Audio => Text::CallInvitesVoice,
        Media::Video => Text::CallInvitesVideo,
    });
    let accept_icon = match media {
        Media::Audio => "📞",
        Media::Video => "📹",
    };
    html! {
        <>
            <div class="call-screen__stage">{ hero(party) }</div>
            { info(party, html! { invites }, html! {}) }
            { bar(html! {
                <>
                    { round("call-decline", "call-button--danger", "✕", lang.tr(Text::CallDecline),
                        None, sends(command, CallCommand::Decline)) }
                    { round("call-accept", "call-button--accept", accept_icon, lang.tr(Text::CallAccept),
                        None, sends(command, CallCommand::Accept)) }
                </>
            }) }
        </>
    }
}
