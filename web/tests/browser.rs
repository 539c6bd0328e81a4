#![cfg(target_arch = "wasm32")]
//! Runs in headless Chromium through wasm-bindgen-test-runner.
//!
//! The WebSocket test talks to a real `penpen-server-mock`, whose login URL is
//! given at build time in `PENPEN_TEST_LOGIN_URL` (scripts/test.sh starts the
//! server and sets it).

use penpen_core::{ErrorReply, Frame, State};
use penpen_web::cache::IndexedDbCache;
use penpen_web::socket;
use serde::{Deserialize, Serialize};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct SyncPosition {
    seq: u64,
    note: String,
}

#[wasm_bindgen_test]
async fn indexeddb_keeps_what_was_written() {
    let name = format!("penpen-test-{}", js_sys::Math::random());
    let cache = IndexedDbCache::open_named(&name).await.expect("open");
    assert_eq!(cache.get_meta::<SyncPosition>("position").await, Ok(None));
    let written = SyncPosition {
        seq: 42,
        note: "中文与 emoji 🐧".into(),
    };
    cache.put_meta("position", &written).await.expect("write");
    cache.close();

    // A fresh connection reads what the first one committed.
    let cache = IndexedDbCache::open_named(&name).await.expect("reopen");
    assert_eq!(cache.get_meta("position").await, Ok(Some(written)));
    cache.close();
}

#[wasm_bindgen_test]
async fn websocket_reaches_the_running_server() {
    // Checked at run time, not with env!, so the crate still builds without a server.
    let Some(url) = option_env!("PENPEN_TEST_LOGIN_URL") else {
        panic!(
            "PENPEN_TEST_LOGIN_URL is not set: start penpen-server-mock and set it to its \
             login URL (scripts/test.sh does both)"
        );
    };
    let reply = socket::request(url, "not a frame").await.expect("a reply");
    let error: ErrorReply = Frame::decode(&reply)
        .and_then(|frame| frame.packet())
        .expect("an error reply in a valid envelope");
    assert_eq!(error.state, State::BAD_FRAME);
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_reported_not_hung_on() {
    // Port 9 (discard) has no WebSocket server on the test machine.
    let result = socket::request("ws://127.0.0.1:9/", "{}").await;
    assert!(
        matches!(result, Err(socket::SocketError::Closed(_))),
        "{result:?}"
    );
}
