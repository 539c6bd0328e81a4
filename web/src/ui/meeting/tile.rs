//! One participant's tile: their video, or their avatar and name while
//! they send none; their sound; whether they speak, and (for the e2e tests)
//! what `getStats()` counted from them.

use crate::ui::avatar::{self, Size};
use crate::ui::call::media::{Element, Player, use_has_video};
use web_sys::MediaStream;
use yew::prelude::*;

/// What a tile shows.
#[derive(Debug, Properties, PartialEq)]
pub struct TileProps {
    /// Their user id.
    pub user: String,
    /// Their name.
    pub name: String,
    /// This tile is our own.
    pub me: bool,
    /// Their microphone sends.
    pub mic: bool,
    /// Their camera sends.
    pub camera: bool,
    /// They are the one speaking now.
    pub speaking: bool,
    /// The large tile of the phone layout.
    pub focus: bool,
    /// Their media (ours: the local stream).
    pub stream: Option<MediaStream>,
    /// Video frames decoded from them (others only).
    pub frames: Option<u64>,
    /// Audio packets received from them (others only).
    pub packets: Option<u64>,
}

/// `.meeting-tile[data-user][data-self][data-speaking][data-mic][data-camera]`,
/// and for others `[data-video-frames-decoded][data-audio-packets-received]`.
#[component(Tile)]
pub fn tile(props: &TileProps) -> Html {
    let has_video = use_has_video(props.stream.clone());
    let flag = |on: bool| if on { "true" } else { "false" };
    let video = props.camera && has_video;
    html! {
        <div class={classes!("meeting-tile", props.speaking.then_some("meeting-tile--speaking"),
                props.focus.then_some("meeting-tile--focus"))}
            data-user={props.user.clone()} data-self={props.me.then_some("true")}
            data-speaking={flag(props.speaking)} data-mic={flag(props.mic)}
            data-camera={flag(props.camera)}
            data-video-frames-decoded={props.frames.map(|n| n.to_string())}
            data-audio-packets-received={props.packets.map(|n| n.to_string())}>
            // Our own sound must not play back to us; others' always plays,
            // in its own element, so it never restarts with their camera.
            if !props.me {
                <Player class="meeting-tile__sound" element={Element::Audio}
                    stream={props.stream.clone()} />
            }
            if video {
                <Player class="meeting-tile__video" element={Element::Video}
                    stream={props.stream.clone()} muted=true />
            } else {
                <div class="meeting-tile__avatar">
                    { avatar::person(&props.name, &props.user, Size::Call) }
                </div>
            }
            <span class="meeting-tile__name">
                if !props.mic {
                    <span class="meeting-tile__muted" aria-hidden="true">{ "🔇 " }</span>
                }
                { &props.name }
            </span>
        </div>
    }
}
