//! Images in the chat: a thumbnail of fixed size (the layout does not move
//! when it loads), a full-size viewer, and the local preview of one still
//! being sent.

use crate::i18n::Text;
use crate::state::{use_shared, use_upload};
use gloo::events::EventListener;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

/// What a thumbnail shows.
#[derive(Debug, Properties, PartialEq)]
pub struct ThumbProps {
    /// The image's URL (the server's, or a local `blob:` one).
    pub src: AttrValue,
}

/// `button.image-thumb > img`; a click opens `#image-viewer`, which Esc or a
/// click closes.
#[component(ImageThumb)]
pub fn image_thumb(props: &ThumbProps) -> Html {
    let lang = use_shared().map(|s| s.lang).unwrap_or_default();
    let open = use_state(|| false);
    // A server URL whose ticket ran out while the page stayed open: renewed
    // once when it fails to load (kept with the URL it replaces).
    let renewal = use_state(|| None::<(AttrValue, String)>);
    let src: AttrValue = match &*renewal {
        Some((original, fresh)) if *original == props.src => fresh.clone().into(),
        _ => props.src.clone(),
    };
    let onerror = {
        let (renewal, original, current) = (renewal.clone(), props.src.clone(), src.clone());
        Callback::from(move |_: Event| {
            if let Some(fresh) = crate::files::renewed(&current) {
                renewal.set(Some((original.clone(), fresh)));
            }
        })
    };
    {
        let open = open.clone();
        use_effect_with(*open, move |&shown| {
            let listener = shown.then(|| {
                EventListener::new(&gloo::utils::window(), "keydown", move |event| {
                    let escape = event
                        .dyn_ref::<KeyboardEvent>()
                        .is_some_and(|key| key.key() == "Escape");
                    if escape {
                        open.set(false);
                    }
                })
            });
            move || drop(listener)
        });
    }
    let show = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(true))
    };
    let hide = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(false))
    };
    html! {
        <>
            <button type="button" class="image-thumb" onclick={show}
                aria-label={lang.tr(Text::ViewImage)} title={lang.tr(Text::ViewImage)}>
                <img src={src.clone()} alt={lang.tr(Text::Image)} loading="lazy" decoding="async" {onerror} />
            </button>
            if *open {
                <div id="image-viewer" class="viewer" role="dialog" aria-modal="true" onclick={hide}>
                    <img src={src} alt={lang.tr(Text::Image)} />
                </div>
            }
        </>
    }
}

/// An image not yet on the server, shown from its bytes.
#[derive(Debug, Properties, PartialEq)]
pub struct LocalImageProps {
    /// Names the image (its cid): the preview is made once per image.
    pub id: AttrValue,
    /// The bytes.
    pub data: Rc<Vec<u8>>,
    /// Its MIME type.
    pub mime: AttrValue,
}

/// A thumbnail of bytes still in the outbox, with the upload bar.
#[component(LocalImage)]
pub fn local_image(props: &LocalImageProps) -> Html {
    let upload = use_upload();
    let url = {
        let (data, mime) = (props.data.clone(), props.mime.clone());
        use_memo(props.id.clone(), move |_| object_url(&data, &mime))
    };
    {
        let url = url.clone();
        use_effect_with(props.id.clone(), move |_| {
            move || {
                if let Some(url) = url.as_ref() {
                    let _ = web_sys::Url::revoke_object_url(url);
                }
            }
        });
    }
    let Some(src) = url.as_ref().clone() else {
        return html! {};
    };
    let percent = super::format::percent(upload.unwrap_or(0.0));
    html! {
        <div class="image-local">
            <ImageThumb src={src} />
            <div id="upload-progress" class="upload" role="progressbar"
                aria-valuemin="0" aria-valuemax="100"
                aria-valuenow={percent.to_string()}>
                <div class="upload__bar" style={format!("width: {percent}%")}></div>
            </div>
        </div>
    }
}

fn object_url(data: &[u8], mime: &str) -> Option<String> {
    let bytes = js_sys::Uint8Array::from(data);
    let parts = js_sys::Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
