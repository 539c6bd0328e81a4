//! The web crate's browser tests, one wasm binary (one link and one browser
//! start instead of five), run in headless Chromium and Firefox by
//! wasm-bindgen-test-runner (scripts/test.sh).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

mod browser;
mod calls;
mod dom;
mod driver;
mod failover;
mod file_tickets;
mod forward;
mod login;
mod meeting_rtc;
mod meetings;
mod mute_mentions;
mod receipts;
mod rtc;
mod screens;
