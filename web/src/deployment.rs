//! Reads the deployment's choice of server at start: `penpen.json` beside
//! `index.html` when the deployment serves one (one server, or several
//! nodes), else the page's own host.
//!
//! The file is same-origin, so only whoever controls the web server can set
//! it. The last answer is remembered, so an app opened from the service
//! worker's cache while the web server is unreachable still finds its server.

use crate::config::{DEPLOYMENT_FILE, PageLocation, ServerAddress, Servers};
use futures::FutureExt;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const REMEMBERED_KEY: &str = "penpen.deployment";
/// Keys of the old scheme, where any link could set the server; dropped.
const OLD_KEYS: [&str; 2] = ["penpen.server", "penpen.port_offset"];
/// How long the deployment file may take before the last known (or the
/// default) server is used instead.
const FETCH_TIMEOUT_MS: u32 = 5_000;

/// What fetching the deployment file found.
enum Fetched {
    /// The file's text.
    File(String),
    /// The web server answered that there is no such file.
    Absent,
    /// The web server could not be asked.
    Unreachable,
}

/// The deployment's server nodes.
pub async fn load() -> Servers {
    let page = PageLocation::current();
    let storage = gloo::utils::window().local_storage().ok().flatten();
    if let Some(storage) = &storage {
        for key in OLD_KEYS {
            let _ = storage.remove_item(key);
        }
    }
    let remember = |text: Option<&str>| {
        if let Some(storage) = &storage {
            // Not remembering only matters when the web server is down later.
            let _ = match text {
                Some(text) => storage.set_item(REMEMBERED_KEY, text),
                None => storage.remove_item(REMEMBERED_KEY),
            };
        }
    };
    let text = match fetch().await {
        Fetched::File(text) => {
            remember(Some(&text));
            Some(text)
        }
        Fetched::Absent => {
            remember(None);
            None
        }
        Fetched::Unreachable => storage
            .as_ref()
            .and_then(|s| s.get_item(REMEMBERED_KEY).ok().flatten()),
    };
    match text.map(|text| Servers::from_deployment_file(&text, &page)) {
        Some(Ok(servers)) => servers,
        Some(Err(err)) => {
            // An operator's mistake: say so where they will look, and fall
            // back to the page's own host rather than to nothing.
            web_sys::console::error_1(&err.to_string().into());
            Servers::one(ServerAddress::same_host(&page))
        }
        None => Servers::one(ServerAddress::same_host(&page)),
    }
}

async fn fetch() -> Fetched {
    let window = gloo::utils::window();
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoCache);
    let request = JsFuture::from(window.fetch_with_str_and_init(DEPLOYMENT_FILE, &init));
    let timeout = gloo::timers::future::TimeoutFuture::new(FETCH_TIMEOUT_MS);
    let response = futures::select! {
        response = request.fuse() => response,
        () = timeout.fuse() => return Fetched::Unreachable,
    };
    let Ok(response) = response.and_then(|r| r.dyn_into::<web_sys::Response>()) else {
        return Fetched::Unreachable;
    };
    if !response.ok() {
        // 404 (no file), or the service worker's "offline" answer.
        return if response.status() == 404 {
            Fetched::Absent
        } else {
            Fetched::Unreachable
        };
    }
    // Single-page servers (trunk serve among them) answer any unknown path
    // with the page itself: that means there is no deployment file.
    let content_type = response.headers().get("content-type").ok().flatten();
    if content_type.is_some_and(|t| t.contains("html")) {
        return Fetched::Absent;
    }
    let Ok(text) = response.text() else {
        return Fetched::Unreachable;
    };
    match JsFuture::from(text).await.ok().and_then(|t| t.as_string()) {
        Some(text) => Fetched::File(text),
        None => Fetched::Unreachable,
    }
}
