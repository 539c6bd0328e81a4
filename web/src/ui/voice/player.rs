//! The voice bubble's player: one message plays at a time, with progress,
//! and a dot until this device has played it.

use crate::i18n::Text;
use crate::state::use_shared;
use gloo::events::EventListener;
use penpen_core::MessageId;
use penpen_core::limits::MAX_VOICE_SECONDS;
use std::cell::RefCell;
use web_sys::HtmlAudioElement;
use yew::prelude::*;

thread_local! {
    /// The voice message playing now: starting another pauses it.
    static PLAYING: RefCell<Option<HtmlAudioElement>> = const { RefCell::new(None) };
}

const PLAYED_KEY: &str = "penpen.played";

/// Whether this device has played voice message `id`.
fn played(id: MessageId) -> bool {
    gloo::utils::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(PLAYED_KEY).ok().flatten())
        .is_some_and(|list| list.split(',').any(|p| p == id.to_string()))
}

fn mark_played(id: MessageId) {
    if played(id) {
        return;
    }
    if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
        let list = storage
            .get_item(PLAYED_KEY)
            .ok()
            .flatten()
            .unwrap_or_default();
        // The newest thousand are enough to keep the dots right.
        let mut ids: Vec<&str> = list.split(',').filter(|p| !p.is_empty()).collect();
        let id = id.to_string();
        ids.push(&id);
        let keep = ids.len().saturating_sub(1000);
        let _ = storage.set_item(PLAYED_KEY, &ids[keep..].join(","));
    }
}

/// What a voice bubble plays.
#[derive(Debug, Properties, PartialEq)]
pub struct PlayerProps {
    /// The stored file's URL.
    pub src: AttrValue,
    /// Its length, when the server said.
    pub seconds: Option<u32>,
    /// The message.
    pub id: MessageId,
    /// One's own (never marked unplayed).
    pub own: bool,
}

/// `button.voice[data-state=playing|paused][data-played]` with its
/// `.voice__progress`, the duration, and a `.voice__unplayed` dot.
#[component(VoicePlayer)]
pub fn voice_player(props: &PlayerProps) -> Html {
    let lang = use_shared().map(|s| s.lang).unwrap_or_default();
    let audio = use_mut_ref(|| None::<(HtmlAudioElement, Vec<EventListener>)>);
    let playing = use_state(|| false);
    let progress = use_state(|| 0.0_f64);
    let heard = use_state(|| props.own || played(props.id));
    let toggle = {
        let (audio, playing, progress, heard) = (
            audio.clone(),
            playing.clone(),
            progress.clone(),
            heard.clone(),
        );
        let (src, id) = (props.src.clone(), props.id);
        Callback::from(move |_: MouseEvent| {
            if audio.borrow().is_none() {
                let Ok(element) = HtmlAudioElement::new_with_src(&crate::files::fresh(&src)) else {
                    return;
                };
                let listeners = vec![
                    EventListener::new(&element, "timeupdate", {
                        let (element, progress) = (element.clone(), progress.clone());
                        move |_| {
                            let total = element.duration();
                            if total.is_finite() && total > 0.0 {
                                progress.set(element.current_time() / total);
                            }
                        }
                    }),
                    EventListener::new(&element, "pause", {
                        let playing = playing.clone();
                        move |_| playing.set(false)
                    }),
                    // A file that cannot be fetched or decoded does not play.
                    EventListener::new(&element, "error", {
                        let playing = playing.clone();
                        move |_| playing.set(false)
                    }),
                    EventListener::new(&element, "ended", {
                        let (playing, progress) = (playing.clone(), progress.clone());
                        move |_| {
                            playing.set(false);
                            progress.set(0.0);
                        }
                    }),
                ];
                *audio.borrow_mut() = Some((element, listeners));
            }
            let Some(element) = audio.borrow().as_ref().map(|(e, _)| e.clone()) else {
                return;
            };
            if *playing {
                let _ = element.pause();
                return;
            }
            // It failed to load (its file ticket may have run out while the
            // page stayed open): load it again with a fresh ticket.
            if element.network_state() == web_sys::HtmlMediaElement::NETWORK_NO_SOURCE
                && let Some(fresh) = crate::files::renewed(&element.src())
            {
                element.set_src(&fresh);
            }
            PLAYING.with(|current| {
                if let Some(other) = current.borrow_mut().replace(element.clone())
                    && other != element
                {
                    let _ = other.pause();
                }
            });
            let _ = element.play();
            playing.set(true);
            mark_played(id);
            heard.set(true);
        })
    };
    // Gone from the screen: it stops.
    {
        let audio = audio.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some((element, _)) = audio.borrow_mut().take() {
                    let _ = element.pause();
                }
            }
        });
    }
    let seconds = props.seconds.unwrap_or(0);
    // Longer messages, longer bubbles (as in common IM apps), within reason.
    let width = 110 + seconds.min(MAX_VOICE_SECONDS) * 2;
    html! {
        <button type="button" class="voice" style={format!("width: {width}px")}
            data-state={if *playing { "playing" } else { "paused" }} data-played={heard.to_string()}
            aria-label={lang.tr(if *playing { Text::PauseVoice } else { Text::PlayVoice })}
            onclick={toggle}>
            <span class="voice__icon" aria-hidden="true">{ if *playing { "❚❚" } else { "▶" } }</span>
            <span class="voice__track">
                <span class="voice__progress" style={format!("width: {}%", crate::ui::format::percent(*progress))}></span>
            </span>
            <span class="voice__seconds">{ format!("{seconds}″") }</span>
            if !*heard {
                <span class="voice__unplayed" aria-label={lang.tr(Text::Unplayed)}></span>
            }
        </button>
    }
}
