//! The device panel: which microphone, camera and speaker the call uses.

use crate::calls::{CallCommand, Device, DeviceKind, Devices};
use crate::i18n::{Lang, Text};
use crate::state::Command;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// `#call-device-panel`: `#call-microphone`, `#call-camera-device` and, where
/// the browser can choose an output, `#call-speaker`.
pub fn panel(lang: Lang, devices: &Devices, command: &Callback<Command>) -> Html {
    html! {
        <div id="call-device-panel" class="call-devices">
            { choice(lang, "call-microphone", Text::CallMicrophone, DeviceKind::Microphone,
                &devices.microphones, devices.microphone.as_deref(), command) }
            { choice(lang, "call-camera-device", Text::CallCamera, DeviceKind::Camera,
                &devices.cameras, devices.camera.as_deref(), command) }
            if !devices.speakers.is_empty() {
                { choice(lang, "call-speaker", Text::CallSpeaker, DeviceKind::Speaker,
                    &devices.speakers, devices.speaker.as_deref(), command) }
            }
        </div>
    }
}

/// One labelled `<select>`; choosing sends [`CallCommand::UseDevice`].
fn choice(
    lang: Lang,
    id: &'static str,
    label: Text,
    kind: DeviceKind,
    devices: &[Device],
    chosen: Option<&str>,
    command: &Callback<Command>,
) -> Html {
    let onchange = {
        let command = command.clone();
        Callback::from(move |event: Event| {
            let select = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlSelectElement>().ok());
            if let Some(select) = select {
                command.emit(Command::Call(CallCommand::UseDevice(kind, select.value())));
            }
        })
    };
    let label = lang.tr(label);
    html! {
        <label class="call-devices__choice">
            <span class="call-devices__label">{ label }</span>
            <select {id} class="call-devices__select" {onchange}>
                // A speaker left unchosen plays on the system's default.
                if kind == DeviceKind::Speaker && chosen.is_none() {
                    <option value="" selected=true>{ lang.tr(Text::CallSystemDefault) }</option>
                }
                { for devices.iter().enumerate().map(|(index, device)| html! {
                    <option value={device.id.clone()} selected={chosen == Some(device.id.as_str())}>
                        { device_name(label, index, device) }
                    </option>
                }) }
            </select>
        </label>
    }
}

/// A device's name; before the user first allowed the microphone the
/// browser gives none, so "麦克风 2" stands in.
fn device_name(kind: &str, index: usize, device: &Device) -> String {
    if device.label.is_empty() {
        format!("{kind} {}", index + 1)
    } else {
        device.label.clone()
    }
}
