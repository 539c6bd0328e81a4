//! The recorder button: click (desktop) or hold (phone) to record, send or
//! cancel.

use super::clock;
use super::recording::{Recording, begin};
use crate::i18n::{Lang, Text};
use crate::state::use_shared;
use crate::ui::controls;
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use penpen_core::Peer;
use penpen_core::limits::MAX_VOICE_SECONDS;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

/// A finger that slides this far from where it pressed cancels.
const CANCEL_SLIDE_PX: i32 = 80;

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
    let shared = use_shared();
    let phase = use_state(|| Phase::Idle);
    let recording = use_mut_ref(|| None::<Recording>);
    // The last recording stopped: kept until the next, so its `stop` event
    // (which the browser fires later) still finds its handler.
    let stopped = use_mut_ref(|| None::<Recording>);
    let tick = use_force_update();
    let press = use_mut_ref(|| None::<(i32, i32)>);
    let lang = shared.as_ref().map(|s| s.lang).unwrap_or_default();
    let command = shared.as_ref().map(|s| s.command.clone());

    let stop: Rc<dyn Fn(bool)> = {
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
    use_recording_clock(*phase, stop.clone(), tick);
    use_escape_cancels(!matches!(*phase, Phase::Idle), stop.clone());
    use_cancel_on_leave(recording.clone());

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
                { recording_panel(lang, *phase, send, cancel) }
            }
        </>
    }
}

/// `#voice-recording`: the clock, how to cancel, and (unless a finger holds)
/// cancel and send.
fn recording_panel(
    lang: Lang,
    phase: Phase,
    send: Callback<MouseEvent>,
    cancel: Callback<MouseEvent>,
) -> Html {
    let elapsed = match phase {
        Phase::Recording { started, .. } => ((js_sys::Date::now() - started) / 1000.0) as u32,
        _ => 0,
    };
    let holding = matches!(phase, Phase::Recording { hold: true, .. });
    html! {
        <div id="voice-recording" class="recording" role="status">
            <span class="recording__dot"></span>
            <span id="voice-elapsed" class="recording__time">
                { clock(elapsed) }{ " / " }{ clock(MAX_VOICE_SECONDS) }
            </span>
            <span class="recording__hint">
                { lang.tr(if holding { Text::SlideToCancel } else { Text::EscToCancel }) }
            </span>
            if !holding {
                { controls::button(Some("voice-cancel"), "button button--ghost", lang.tr(Text::Cancel), cancel, false) }
                <button id="voice-send" class="button button--primary" type="button" onclick={send}
                    disabled={!matches!(phase, Phase::Recording { .. })}>
                    { lang.tr(Text::Send) }
                </button>
            }
        </div>
    }
}

/// The clock on screen, and the 60-second limit: a recording that reaches it
/// is sent.
#[hook]
fn use_recording_clock(phase: Phase, stop: Rc<dyn Fn(bool)>, tick: UseForceUpdateHandle) {
    use_effect_with(phase, move |phase| {
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

/// Esc cancels while the recorder is `active`.
#[hook]
fn use_escape_cancels(active: bool, stop: Rc<dyn Fn(bool)>) {
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

/// Leaving the conversation cancels whatever is being recorded.
#[hook]
fn use_cancel_on_leave(recording: Rc<RefCell<Option<Recording>>>) {
    use_effect_with((), move |_| {
        move || {
            if let Some(current) = recording.borrow_mut().take() {
                current.stop(false);
            }
        }
    });
}
