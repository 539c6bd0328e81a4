//! `penpen-web`: the penpen browser client, a Yew app compiled to WebAssembly.
//!
//! The protocol itself lives in `penpen-core`; this crate only connects it to
//! the browser: WebSockets, IndexedDB and the screens. It holds no protocol
//! rules of its own and never hand-writes a frame.

#![warn(missing_docs)]

pub mod app;
pub mod cache;
pub mod calls;
pub mod config;
pub mod deployment;
pub mod driver;
pub mod files;
pub mod i18n;
pub mod login;
pub mod meetings;
pub mod net;
pub mod notify;
pub mod pinyin;
pub mod prefs;
pub mod session;
pub mod socket;
pub mod state;
pub mod ui;

pub use app::App;
