//! Voice messages (语音): recording with the browser's MediaRecorder, and
//! playing with a progress bar, one at a time.
//!
//! On a desktop a click starts recording and the send button stops and sends
//! it; on a phone the button is held while speaking and let go to send. Esc,
//! the cancel button, or sliding the finger away cancels. Recordings under a
//! second are refused, and recording stops and sends at 60 seconds.

use crate::i18n::{Lang, Text};
use crate::state::{Command, Shared};
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use penpen_core::limits::{MAX_VOICE_SECONDS, MIN_VOICE_SECONDS};
use penpen_core::sync::FileKind;
use penpen_core::{MessageId, Peer};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobEvent, HtmlAudioElement, KeyboardEvent, MediaRecorder, MediaStream};
use yew::prelude::*;

/// A finger that slides this far from where it pressed cancels.
const CANCEL_SLIDE_PX: i32 = 80;

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

/// A recording in progress: the recorder, its microphone, what it has
/// recorded so far, and the browser callbacks that must live as long.
struct Recording {
    recorder: MediaRecorder,
    stream: MediaStream,
    started: f64,
    /// Send when it stops (else it was cancelled).
    send: Rc<RefCell<bool>>,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
    _on_stop: Closure<dyn FnMut()>,
}

impl Drop for Recording {
    fn drop(&mut self) {
        // The browser must not call the closures once they are gone.
        self.recorder.set_ondataavailable(None);
        self.recorder.set_onstop(None);
    }
}

impl Recording {
    fn stop(&self, send: bool) {
        *self.send.borrow_mut() = send;
        if self.recorder.state() != web_sys::RecordingState::Inactive {
            let _ = self.recorder.stop();
        }
        let tracks = self.stream.get_tracks();
        for track in tracks.iter() {
            if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                track.stop();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    /// Asking for the microphone.
    Starting,
    /// Recording since this time (ms); `hold`: a finger keeps it going.
    Recording {
        started: f64,
        hold: bool,
    },
}

/// What the recorder needs.
#[derive(Debug, Properties, PartialEq)]
pub struct RecorderProps {
    /// Where the message goes.
    pub peer: Peer,
    /// Why a recording was not sent (none: all is well).
    pub on_error: Callback<Option<String>>,
}

/// `#record-voice`; while recording, `#voice-recording` with `#voice-elapsed`,
/// `#voice-send` and `#voice-cancel`.
#[component(VoiceRecorder)]
pub fn voice_recorder(props: &RecorderProps) -> Html {
    let shared = use_context::<Shared>();
    let phase = use_state(|| Phase::Idle);
    let recording = use_mut_ref(|| None::<Recording>);
    // The last recording stopped: kept until the next, so its `stop` event
    // (which the browser fires later) still finds its handler.
    let stopped = use_mut_ref(|| None::<Recording>);
    let tick = use_force_update();
    let press = use_mut_ref(|| None::<(i32, i32)>);
    let lang = shared.as_ref().map(|s| s.lang).unwrap_or_default();
    let command = shared.as_ref().map(|s| s.command.clone());

    let stop = {
        let (recording, stopped, phase) = (recording.clone(), stopped.clone(), phase.clone());
        Rc::new(move |send: bool| {
            let current = recording.borrow_mut().take();
            if let Some(current) = current {
                current.stop(send);
                *stopped.borrow_mut() = Some(current);
            }
            phase.set(Phase::Idle);
        })
    };
    // The clock on screen, and the 60-second limit.
    {
        let (stop, tick) = (stop.clone(), tick.clone());
        use_effect_with(*phase, move |phase| {
            let interval = matches!(phase, Phase::Recording { .. }).then(|| {
                let started = match phase {
                    Phase::Recording { started, .. } => *started,
                    _ => 0.0,
                };
                Interval::new(200, move || {
                    if js_sys::Date::now() - started >= f64::from(MAX_VOICE_SECONDS) * 1000.0 {
                        stop(true);
                    } else {
                        tick.force_update();
                    }
                })
            });
            move || drop(interval)
        });
    }
    // Esc cancels.
    {
        let stop = stop.clone();
        let active = !matches!(*phase, Phase::Idle);
        use_effect_with(active, move |&active| {
            let listener = active.then(|| {
                EventListener::new(&gloo::utils::window(), "keydown", move |event| {
                    if event
                        .dyn_ref::<KeyboardEvent>()
                        .is_some_and(|key| key.key() == "Escape")
                    {
                        stop(false);
                    }
                })
            });
            move || drop(listener)
        });
    }
    // Leaving the conversation cancels whatever is being recorded.
    {
        let recording = recording.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(current) = recording.borrow_mut().take() {
                    current.stop(false);
                }
            }
        });
    }

    let start = {
        let (phase, recording) = (phase.clone(), recording.clone());
        let (peer, on_error) = (props.peer.clone(), props.on_error.clone());
        Rc::new(move |hold: bool| {
            let Some(command) = command.clone() else {
                return;
            };
            if !matches!(*phase, Phase::Idle) {
                return;
            }
            on_error.emit(None);
            phase.set(Phase::Starting);
            let (phase, recording, peer, on_error) = (
                phase.clone(),
                recording.clone(),
                peer.clone(),
                on_error.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match begin(peer, command, lang, on_error.clone()).await {
                    Ok(started) => {
                        let at = started.started;
                        *recording.borrow_mut() = Some(started);
                        phase.set(Phase::Recording { started: at, hold });
                    }
                    Err(why) => {
                        on_error.emit(Some(why));
                        phase.set(Phase::Idle);
                    }
                }
            });
        })
    };

    let elapsed = match *phase {
        Phase::Recording { started, .. } => ((js_sys::Date::now() - started) / 1000.0) as u32,
        _ => 0,
    };
    let holding = matches!(*phase, Phase::Recording { hold: true, .. });
    // A click (mouse, keyboard) toggles; a finger holds.
    let onclick = {
        let (start, stop, phase) = (start.clone(), stop.clone(), phase.clone());
        Callback::from(move |_: MouseEvent| match *phase {
            Phase::Idle => start(false),
            Phase::Recording { hold: false, .. } => stop(true),
            _ => {}
        })
    };
    let onpointerdown = {
        let (start, press) = (start.clone(), press.clone());
        Callback::from(move |event: PointerEvent| {
            if event.pointer_type() == "touch" {
                event.prevent_default();
                *press.borrow_mut() = Some((event.client_x(), event.client_y()));
                start(true);
            }
        })
    };
    let onpointerup = {
        let (stop, press, phase) = (stop.clone(), press.clone(), phase.clone());
        Callback::from(move |event: PointerEvent| {
            if event.pointer_type() == "touch" && press.borrow_mut().take().is_some() {
                event.prevent_default();
                // Let go before the microphone answered: too short.
                stop(matches!(*phase, Phase::Recording { .. }));
            }
        })
    };
    let onpointermove = {
        let (stop, press) = (stop.clone(), press.clone());
        Callback::from(move |event: PointerEvent| {
            let slid = press.borrow().is_some_and(|(x, y)| {
                (event.client_x() - x)
                    .abs()
                    .max((event.client_y() - y).abs())
                    > CANCEL_SLIDE_PX
            });
            if slid {
                press.borrow_mut().take();
                stop(false);
            }
        })
    };
    let send = {
        let stop = stop.clone();
        Callback::from(move |_: MouseEvent| stop(true))
    };
    let cancel = {
        let stop = stop.clone();
        Callback::from(move |_: MouseEvent| stop(false))
    };
    html! {
        <>
            <button id="record-voice" type="button"
                class={classes!("composer__attach", holding.then_some("composer__attach--holding"))}
                aria-label={lang.tr(Text::RecordVoice)} title={lang.tr(Text::RecordVoiceHint)}
                {onclick} {onpointerdown} {onpointerup} {onpointermove}>
                { "🎤" }
            </button>
            if !matches!(*phase, Phase::Idle) {
                <div id="voice-recording" class="recording" role="status">
                    <span class="recording__dot"></span>
                    <span id="voice-elapsed" class="recording__time">
                        { clock(elapsed) }{ " / " }{ clock(MAX_VOICE_SECONDS) }
                    </span>
                    <span class="recording__hint">
                        { lang.tr(if holding { Text::SlideToCancel } else { Text::EscToCancel }) }
                    </span>
                    if !holding {
                        <button id="voice-cancel" class="button button--ghost" type="button" onclick={cancel}>
                            { lang.tr(Text::Cancel) }
                        </button>
                        <button id="voice-send" class="button button--primary" type="button" onclick={send}
                            disabled={!matches!(*phase, Phase::Recording { .. })}>
                            { lang.tr(Text::Send) }
                        </button>
                    }
                </div>
            }
        </>
    }
}

/// Opens the microphone and starts recording; when the recording stops with
/// `send` set, it is checked and queued.
async fn begin(
    peer: Peer,
    command: Callback<Command>,
    lang: Lang,
    on_error: Callback<Option<String>>,
) -> Result<Recording, String> {
    let refused = |what: &wasm_bindgen::JsValue| {
        let detail = what
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| what.as_string())
            .unwrap_or_default();
        lang.fill(Text::MicrophoneRefused, &[&detail])
    };
    let devices = gloo::utils::window()
        .navigator()
        .media_devices()
        .map_err(|e| refused(&e))?;
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_audio(&true.into());
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| refused(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| refused(&e))?
        .dyn_into()
        .map_err(|e| refused(&e))?;
    let recorder = MediaRecorder::new_with_media_stream(&stream).map_err(|e| refused(&e))?;
    let chunks: Rc<RefCell<Vec<Blob>>> = Rc::default();
    let send = Rc::new(RefCell::new(false));
    let started = js_sys::Date::now();
    let on_data = Closure::<dyn FnMut(BlobEvent)>::new({
        let chunks = chunks.clone();
        move |event: BlobEvent| {
            if let Some(blob) = event.data() {
                chunks.borrow_mut().push(blob);
            }
        }
    });
    let on_stop = Closure::<dyn FnMut()>::new({
        let (chunks, send, recorder) = (chunks.clone(), send.clone(), recorder.clone());
        move || {
            if !*send.borrow() {
                return;
            }
            let seconds = match recorded_seconds(js_sys::Date::now() - started) {
                Ok(seconds) => seconds,
                Err(why) => {
                    on_error.emit(Some(lang.tr(why).to_owned()));
                    return;
                }
            };
            let parts = js_sys::Array::new();
            for chunk in chunks.borrow().iter() {
                parts.push(chunk);
            }
            let options = web_sys::BlobPropertyBag::new();
            options.set_type(&recorder.mime_type());
            let Ok(blob) = Blob::new_with_blob_sequence_and_options(&parts, &options) else {
                return;
            };
            let (peer, command, on_error) = (peer.clone(), command.clone(), on_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let Ok(buffer) = JsFuture::from(blob.array_buffer()).await else {
                    on_error.emit(Some(lang.tr(Text::FileUnreadable).to_owned()));
                    return;
                };
                let reply = {
                    let on_error = on_error.clone();
                    Callback::from(move |queued: Result<(), penpen_core::sync::SendError>| {
                        on_error.emit(
                            queued
                                .err()
                                .map(|refusal| super::attach::refusal_text(lang, &refusal)),
                        );
                    })
                };
                command.emit(Command::SendFile {
                    peer,
                    kind: FileKind::Voice { seconds },
                    data: js_sys::Uint8Array::new(&buffer).to_vec(),
                    reply,
                });
            });
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    recorder.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
    recorder.start().map_err(|e| refused(&e))?;
    Ok(Recording {
        recorder,
        stream,
        started,
        send,
        _on_data: on_data,
        _on_stop: on_stop,
    })
}

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
    let lang = use_context::<Shared>().map(|s| s.lang).unwrap_or_default();
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
                <span class="voice__progress" style={format!("width: {}%", super::format::percent(*progress))}></span>
            </span>
            <span class="voice__seconds">{ format!("{seconds}″") }</span>
            if !*heard {
                <span class="voice__unplayed" aria-label={lang.tr(Text::Unplayed)}></span>
            }
        </button>
    }
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
