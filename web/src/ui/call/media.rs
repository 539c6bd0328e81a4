//! The `<video>` and `<audio>` elements that play a call's streams: the
//! stream goes in through `srcObject` (there is no attribute for it), and
//! the chosen speaker through `setSinkId` where the browser has it.

use gloo::events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlMediaElement, MediaStream, MediaStreamTrack};
use yew::prelude::*;

/// Which element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// `<video autoplay playsinline>`.
    Video,
    /// `<audio autoplay>`.
    Audio,
}

/// What a media element plays.
#[derive(Debug, Properties, PartialEq)]
pub struct PlayerProps {
    /// The element's id, if it has one.
    #[prop_or_default]
    pub id: Option<&'static str>,
    /// Its classes.
    pub class: &'static str,
    /// Video or audio.
    pub element: Element,
    /// What it plays.
    pub stream: Option<MediaStream>,
    /// Silent (our own camera must not echo our voice back).
    #[prop_or_default]
    pub muted: bool,
    /// The speaker's `deviceId` (none: the system's default).
    #[prop_or_default]
    pub sink: Option<String>,
}

/// A [`Player`]: one compiled element for every use.
pub fn player(
    id: &'static str,
    class: &'static str,
    element: Element,
    stream: Option<MediaStream>,
    muted: bool,
    sink: Option<String>,
) -> Html {
    html! { <Player id={Some(id)} {class} {element} {stream} {muted} {sink} /> }
}

/// One media element playing `stream`.
#[component(Player)]
pub fn player(props: &PlayerProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(
            (props.stream.clone(), props.muted),
            move |(stream, muted)| {
                if let Some(element) = node.cast::<HtmlMediaElement>() {
                    // The attribute alone does not mute an element made by script.
                    element.set_muted(*muted);
                    element.set_src_object(stream.as_ref());
                }
            },
        );
    }
    {
        let node = node.clone();
        use_effect_with(props.sink.clone(), move |sink| {
            if let Some(element) = node.cast::<HtmlMediaElement>() {
                set_sink(&element, sink.as_deref().unwrap_or(""));
            }
        });
    }
    let (id, class) = (props.id, props.class);
    match props.element {
        Element::Video => html! {
            <video ref={node} {id} {class} autoplay=true playsinline=true muted={props.muted}></video>
        },
        Element::Audio => html! { <audio ref={node} {id} {class} autoplay=true></audio> },
    }
}

/// `element.setSinkId(sink)`, through `Reflect` (web-sys has no binding);
/// a browser without it (Firefox before 116, Safari) plays on the default.
fn set_sink(element: &HtmlMediaElement, sink: &str) {
    let Ok(method) = js_sys::Reflect::get(element, &JsValue::from_str("setSinkId")) else {
        return;
    };
    let Some(method) = method.dyn_ref::<js_sys::Function>() else {
        return;
    };
    let promise = method
        .call1(element, &JsValue::from_str(sink))
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok());
    if let Some(promise) = promise {
        // A speaker that vanished leaves the sound where it was; the
        // rejection is awaited so it is not reported as unhandled.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// Whether `stream` carries video now: an unmuted video track. The answer
/// follows tracks added or removed during the call (the other party turning
/// the camera on in a voice call) and a track's first frames (a remote
/// track is muted until they arrive).
#[hook]
pub fn use_has_video(stream: Option<MediaStream>) -> bool {
    let changed = use_force_update();
    let tracks: Vec<MediaStreamTrack> = stream
        .as_ref()
        .map(|stream| {
            stream
                .get_video_tracks()
                .iter()
                .filter_map(|track| track.dyn_into::<MediaStreamTrack>().ok())
                .collect()
        })
        .unwrap_or_default();
    let shown = tracks.iter().any(|track| !track.muted());
    use_effect_with((stream, tracks), move |(stream, tracks)| {
        let on_stream = stream
            .iter()
            .flat_map(|stream| ["addtrack", "removetrack"].map(|event| (stream.as_ref(), event)));
        let on_tracks = tracks
            .iter()
            .flat_map(|track| ["mute", "unmute"].map(|event| (track.as_ref(), event)));
        let listeners: Vec<EventListener> = on_stream
            .chain(on_tracks)
            .map(|(target, event): (&web_sys::EventTarget, &'static str)| {
                let changed = changed.clone();
                EventListener::new(target, event, move |_| changed.force_update())
            })
            .collect();
        move || drop(listeners)
    });
    shown
}
