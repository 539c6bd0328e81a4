//! Images and files into the chat: from the pickers, a paste or a drop,
//! checked here first (size, kind) so the user hears at once what is wrong.

use crate::i18n::{Lang, Text};
use crate::state::Command;
use penpen_core::Peer;
use penpen_core::limits::MAX_IMAGE_BYTES;
use penpen_core::sync::{FileKind, SendError};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};
use yew::Callback;

/// The files of a picker, a paste or a drop.
pub fn files(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Why a file cannot be sent, in words.
pub fn refusal_text(lang: Lang, refusal: &SendError) -> String {
    match refusal {
        SendError::TooLarge { max, .. } => {
            lang.fill(Text::ImageTooLarge, &[&(max / (1024 * 1024)).to_string()])
        }
        SendError::UnsupportedFormat { .. } => lang.tr(Text::NotAnImage).to_owned(),
        SendError::NotLoggedIn => lang.tr(Text::ErrSessionExpired).to_owned(),
        other => other.to_string(),
    }
}

/// Reads `file` and queues it as an image to `peer`; `on_error` hears why
/// not (or `None` once it is queued).
pub fn send_image(
    file: File,
    peer: Peer,
    command: Callback<Command>,
    lang: Lang,
    on_error: Callback<Option<String>>,
) {
    let size = file.size() as usize;
    if size > MAX_IMAGE_BYTES {
        on_error.emit(Some(refusal_text(
            lang,
            &SendError::TooLarge {
                bytes: size,
                max: MAX_IMAGE_BYTES,
            },
        )));
        return;
    }
    if !file.type_().starts_with("image/") {
        on_error.emit(Some(lang.tr(Text::NotAnImage).to_owned()));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let data = match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(_) => {
                on_error.emit(Some(lang.tr(Text::FileUnreadable).to_owned()));
                return;
            }
        };
        let reply = Callback::from(move |queued: Result<(), SendError>| {
            on_error.emit(queued.err().map(|refusal| refusal_text(lang, &refusal)));
        });
        command.emit(Command::SendFile {
            peer,
            kind: FileKind::Image,
            data,
            reply,
        });
    });
}

/// Queues `file` as a file of any kind to `peer` (uploaded in chunks from
/// the `File`, never read whole); `on_error` hears why not, or `None`.
pub fn send_upload(
    file: File,
    peer: Peer,
    command: Callback<Command>,
    lang: Lang,
    on_error: Callback<Option<String>>,
) {
    let reply = Callback::from(move |queued: Result<(), SendError>| {
        on_error.emit(queued.err().map(|refusal| match refusal {
            SendError::FileTooLarge { max, .. } => {
                lang.fill(Text::FileTooLarge, &[&(max / (1024 * 1024)).to_string()])
            }
            other => refusal_text(lang, &other),
        }));
    });
    command.emit(Command::SendUpload { peer, file, reply });
}
