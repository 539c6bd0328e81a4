//! A file of any kind in the chat (§15.6): an icon by kind, the name and
//! size; while it uploads, a progress bar and 取消; once sent, 下载 (kept in
//! IndexedDB, so it opens offline afterwards) and, for PDFs and images, 预览.

use crate::i18n::{Lang, Text};
use crate::state::{Command, use_shared};
use penpen_core::ClientMsgId;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What an icon shows a file as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    /// A PDF document.
    Pdf,
    /// A word-processing document.
    Doc,
    /// A spreadsheet.
    Xls,
    /// A presentation.
    Ppt,
    /// An archive.
    Zip,
    /// Plain text.
    Txt,
    /// A picture.
    Image,
    /// Anything else.
    Other,
}

impl Icon {
    /// The icon of a file called `name` (by its extension).
    pub fn of(name: &str) -> Icon {
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "pdf" => Icon::Pdf,
            "doc" | "docx" | "odt" | "rtf" | "wps" => Icon::Doc,
            "xls" | "xlsx" | "ods" | "csv" | "et" => Icon::Xls,
            "ppt" | "pptx" | "odp" | "dps" => Icon::Ppt,
            "zip" | "rar" | "7z" | "gz" | "tgz" | "tar" | "bz2" | "xz" => Icon::Zip,
            "txt" | "md" | "log" | "json" | "xml" => Icon::Txt,
            "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" => Icon::Image,
            _ => Icon::Other,
        }
    }

    /// The short label on the icon, and its kind for styling.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Icon::Pdf => ("PDF", "pdf"),
            Icon::Doc => ("DOC", "doc"),
            Icon::Xls => ("XLS", "xls"),
            Icon::Ppt => ("PPT", "ppt"),
            Icon::Zip => ("ZIP", "zip"),
            Icon::Txt => ("TXT", "txt"),
            Icon::Image => ("IMG", "image"),
            Icon::Other => ("FILE", "other"),
        }
    }

    /// Whether the browser can show it in the page.
    pub fn previewable(self) -> bool {
        matches!(self, Icon::Pdf | Icon::Image)
    }
}

/// A size as people read it: `512 B`, `12 KB`, `3.4 MB`.
pub fn size_text(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < MB {
        format!("{} KB", bytes.div_ceil(KB))
    } else {
        let tenths = (bytes * 10 + MB / 2) / MB;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

/// What a file card shows.
#[derive(Debug, Properties, PartialEq, Clone)]
pub struct FileCardProps {
    /// The original name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The server's name for it, once sent.
    #[prop_or_default]
    pub stored: Option<String>,
    /// While it uploads: its cid and the bytes the server holds.
    #[prop_or_default]
    pub upload: Option<(ClientMsgId, u64)>,
}

/// Where a download stands.
#[derive(Debug, Clone, PartialEq)]
enum Fetch {
    Idle,
    Busy,
    Failed(String),
    /// Saved in IndexedDB; the preview's `blob:` URL when one is shown.
    Saved(Option<String>),
}

/// `.file[data-kind]`: icon, `.file__name`, `.file__size`; `.file__progress`
/// and `.file__cancel` while uploading; `.file__download`, `.file__preview`
/// and an `iframe.file__frame` (PDF) or `img.file__frame` once opened.
#[component(FileCard)]
pub fn file_card(props: &FileCardProps) -> Html {
    let fetch = use_state(|| Fetch::Idle);
    {
        // A preview's URL holds the blob alive: it goes with the card.
        let url = match &*fetch {
            Fetch::Saved(Some(url)) => Some(url.clone()),
            _ => None,
        };
        use_effect_with(url, |url| {
            let url = url.clone();
            move || {
                if let Some(url) = url {
                    let _ = web_sys::Url::revoke_object_url(&url);
                }
            }
        });
    }
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let lang = shared.lang;
    let icon = Icon::of(&props.name);
    let (label, kind) = icon.label();
    let open = |preview: bool| {
        let (command, fetch, stored, name) = (
            shared.command.clone(),
            fetch.clone(),
            props.stored.clone(),
            props.name.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(stored) = stored.clone() else {
                return;
            };
            if preview && matches!(&*fetch, Fetch::Saved(Some(_))) {
                fetch.set(Fetch::Saved(None));
                return;
            }
            fetch.set(Fetch::Busy);
            let (fetch, name) = (fetch.clone(), name.clone());
            let reply = Callback::from(move |got: Result<web_sys::Blob, String>| match got {
                Ok(blob) => {
                    let url = web_sys::Url::create_object_url_with_blob(&blob).ok();
                    if preview {
                        fetch.set(Fetch::Saved(url));
                    } else {
                        if let Some(url) = &url {
                            save_as(url, &name);
                            let _ = web_sys::Url::revoke_object_url(url);
                        }
                        fetch.set(Fetch::Saved(None));
                    }
                }
                Err(why) => fetch.set(Fetch::Failed(why)),
            });
            command.emit(Command::OpenFile {
                name: stored.clone(),
                reply,
            });
        })
    };
    let status = match (&*fetch, &props.upload) {
        (_, Some((cid, sent))) => {
            let share = (sent * 100).checked_div(props.size).unwrap_or(100);
            let cancel = {
                let (command, cid) = (shared.command.clone(), cid.clone());
                Callback::from(move |_: MouseEvent| {
                    command.emit(Command::CancelUpload(cid.clone()))
                })
            };
            html! {
                <div class="file__uploading">
                    <progress class="file__progress" max={props.size.to_string()} value={sent.to_string()}
                        aria-label={lang.fill(Text::Uploading, &[&props.name])}></progress>
                    <span class="file__share">{ format!("{share}%") }</span>
                    <button type="button" class="file__cancel" onclick={cancel}>{ lang.tr(Text::CancelUpload) }</button>
                </div>
            }
        }
        (Fetch::Busy, None) => {
            html! { <span class="file__note">{ lang.tr(Text::Downloading) }</span> }
        }
        (Fetch::Failed(why), None) => html! {
            <span class="file__note file__note--error" role="alert">{ lang.fill(Text::DownloadFailed, &[why]) }</span>
        },
        (Fetch::Saved(_), None) => {
            html! { <span class="file__note" data-saved="true">{ lang.tr(Text::SavedOffline) }</span> }
        }
        (Fetch::Idle, None) => html! {},
    };
    let actions = props.stored.as_ref().map(|_| {
        html! {
            <div class="file__actions">
                <button type="button" class="file__download" onclick={open(false)}>{ lang.tr(Text::Download) }</button>
                if icon.previewable() {
                    <button type="button" class="file__preview" onclick={open(true)}>
                        { lang.tr(if matches!(&*fetch, Fetch::Saved(Some(_))) { Text::ClosePreview } else { Text::Preview }) }
                    </button>
                }
            </div>
        }
    });
    let frame = match &*fetch {
        Fetch::Saved(Some(url)) if icon == Icon::Pdf => {
            html! { <iframe class="file__frame" src={url.clone()} title={props.name.clone()}></iframe> }
        }
        Fetch::Saved(Some(url)) => {
            html! { <img class="file__frame" src={url.clone()} alt={props.name.clone()} /> }
        }
        _ => html! {},
    };
    html! {
        <div class="file" data-kind={kind} data-name={props.name.clone()}>
            <div class="file__head">
                <span class={classes!("file__icon", format!("file__icon--{kind}"))} aria-hidden="true">{ label }</span>
                <span class="file__text">
                    <span class="file__name">{ &props.name }</span>
                    <span class="file__size">{ size_text(props.size) }</span>
                </span>
            </div>
            { status }
            { actions }
            { frame }
        </div>
    }
}

/// Lets the browser save `url` as `name` (an `<a download>` clicked).
fn save_as(url: &str, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(link) = document.create_element("a") else {
        return;
    };
    let _ = link.set_attribute("href", url);
    let _ = link.set_attribute("download", name);
    if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
        link.click();
    }
}

/// The words of a file in the conversation list or a notification.
pub fn line(lang: Lang, name: &str) -> String {
    lang.fill(Text::FileMessage, &[name])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icons_follow_the_extension_and_sizes_read_naturally() {
        assert_eq!(Icon::of("季度报告.PDF"), Icon::Pdf);
        assert_eq!(Icon::of("a.docx"), Icon::Doc);
        assert_eq!(Icon::of("b.xlsx"), Icon::Xls);
        assert_eq!(Icon::of("c.pptx"), Icon::Ppt);
        assert_eq!(Icon::of("d.tar.gz"), Icon::Zip);
        assert_eq!(Icon::of("notes.txt"), Icon::Txt);
        assert_eq!(Icon::of("README"), Icon::Other);
        assert!(Icon::of("x.png").previewable() && !Icon::Zip.previewable());
        assert_eq!(size_text(512), "512 B");
        assert_eq!(size_text(12 * 1024 - 5), "12 KB");
        assert_eq!(size_text(52_428_800), "50.0 MB");
        assert_eq!(size_text(3_565_158), "3.4 MB");
    }
}
