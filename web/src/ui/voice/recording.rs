//! A recording in progress, and opening the microphone to start one.

use super::recorded_seconds;
use crate::i18n::{Lang, Text};
use crate::state::Command;
use penpen_core::Peer;
use penpen_core::sync::FileKind;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobEvent, MediaRecorder, MediaStream};
use yew::Callback;

/// A recording in progress: the recorder, its microphone, what it has
/// recorded so far, and the browser callbacks that must live as long.
pub(super) struct Recording {
    recorder: MediaRecorder,
    stream: MediaStream,
    pub(super) started: f64,
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
    pub(super) fn stop(&self, send: bool) {
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

/// Opens the microphone and starts recording; when the recording stops with
/// `send` set, it is checked and queued.
pub(super) async fn begin(
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
                                .map(|refusal| crate::ui::attach::refusal_text(lang, &refusal)),
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
