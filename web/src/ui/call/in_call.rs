//! The call under way (connecting, connected, reconnecting): the other
//! party's video large (or their avatar, with the sound playing unseen),
//! ours small in a corner, the status line with the running length, the
//! quality, and the controls.

use super::clock::use_ticking_now;
use super::media::{Element, player, use_has_video};
use super::parts::{Party, bar, hero, info, round, sends};
use super::{devices, quality, words};
use crate::calls::{CallCommand, CallScreen};
use crate::i18n::Text;
use crate::state::use_shared;
use penpen_core::packets::call::Media;
use yew::prelude::*;

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted; the media is connecting.
    Connecting,
    /// The media flows since this time (ms).
    Connected(i64),
    /// The media was lost and is being restored; accepted at this time.
    Reconnecting(i64),
}

/// What the in-call screen shows.
#[derive(Debug, Properties, PartialEq)]
pub struct InCallProps {
    /// The other party.
    pub party: Party,
    /// The call's media as invited.
    pub media: Media,
    /// Our camera is on.
    pub camera: bool,
    /// Where the call is.
    pub phase: Phase,
    /// The streams, devices and quality.
    pub screen: CallScreen,
}

/// The stage, the status and the bar: `#call-mute`, `#call-camera`,
/// `#call-devices` (and its panel) and `#call-hang-up`.
#[component(InCall)]
pub fn in_call(props: &InCallProps) -> Html {
    let shared = use_shared();
    let devices_open = use_state(|| false);
    let now = use_ticking_now(matches!(props.phase, Phase::Connected(_)));
    let remote_video = use_has_video(props.screen.remote.clone());
    let Some(shared) = shared else {
        return html! {};
    };
    let (lang, command) = (shared.lang, &shared.command);
    let screen = &props.screen;
    let sink = screen.devices.speaker.clone();
    // A video call's element carries the sound too; in a voice call the
    // sound has its own element, and a video the other party turns on
    // plays silently above it, so the sound never restarts.
    let video_element = props.media == Media::Video || remote_video;
    let status = match props.phase {
        Phase::Connecting => html! { lang.tr(Text::Connecting) },
        Phase::Connected(since) => html! {
            <span id="call-duration" class="call-screen__clock">{ words::elapsed(since, now) }</span>
        },
        Phase::Reconnecting(_) => html! { lang.tr(Text::CallReconnecting) },
    };
    let toggle_devices = {
        let devices_open = devices_open.clone();
        Callback::from(move |_: MouseEvent| devices_open.set(!*devices_open))
    };
    let local_shown = props.camera && screen.local.is_some();
    html! {
        <>
            <div class="call-screen__stage" data-remote-video={remote_video.to_string()}>
                if video_element {
                    { player("call-remote", "call-screen__remote", Element::Video,
                        screen.remote.clone(), props.media == Media::Audio, sink.clone()) }
                }
                if props.media == Media::Audio {
                    { player("call-remote-audio", "call-screen__sound", Element::Audio,
                        screen.remote.clone(), false, sink) }
                }
                if !remote_video {
                    { hero(&props.party) }
                }
                if local_shown {
                    { player("call-local", "call-screen__local", Element::Video,
                        screen.local.clone(), true, None) }
                }
            </div>
            { info(&props.party, status, quality::indicator(lang, screen.quality.as_ref())) }
            if *devices_open {
                { devices::panel(lang, &screen.devices, command) }
            }
            { bar(html! {
                <>
                    { round("call-mute", "call-button--toggle", if screen.muted { "🔇" } else { "🎙" },
                        lang.tr(Text::CallMute), Some(screen.muted),
                        sends(command, CallCommand::SetMuted(!screen.muted))) }
                    { round("call-camera", "call-button--toggle", "📷", lang.tr(Text::CallCamera),
                        Some(props.camera), sends(command, CallCommand::SetCamera(!props.camera))) }
                    { round("call-devices", "call-button--toggle", "⚙", lang.tr(Text::CallDevices),
                        Some(*devices_open), toggle_devices) }
                    { round("call-hang-up", "call-button--danger", "✕", lang.tr(Text::CallHangUp),
                        None, sends(command, CallCommand::HangUp)) }
                </>
            }) }
        </>
    }
}
