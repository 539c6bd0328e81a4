//! The signed-in screens: the conversation list, the chat, the composer and
//! the bar above them.
//!
//! Every component reads [`crate::state::Shared`] from the context and sends
//! [`crate::state::Command`]s; none of them touches the network or the cache.
//! What can be computed without a browser (words, times, which rows are in the
//! DOM) lives in [`format`] and [`rows`] and is tested natively.

mod attach;
mod avatar;
mod broadcasts;
mod bubble;
mod call;
mod chat;
mod composer;
mod connection;
mod contact;
pub(crate) mod controls;
mod conversations;
mod ding;
mod directory;
pub mod file_card;
pub mod format;
pub mod forward;
mod group;
mod image;
mod logout;
mod me;
mod meeting;
mod menu;
mod message_menu;
mod mute;
mod operation;
mod panel;
pub mod receipts;
pub mod rows;
mod search;
mod shell;
mod timeline;
mod voice;

pub use broadcasts::{BroadcastList, BroadcastPage, NewBroadcast};
pub use call::CallOverlay;
pub use chat::Chat;
pub use composer::Composer;
pub use connection::ConnectionIndicator;
pub use contact::ContactPage;
pub use conversations::ConversationList;
pub use ding::DingBanner;
pub use directory::DirectoryList;
pub use group::{GroupPage, NewGroup};
pub use logout::LogoutButton;
pub use me::MePage;
pub use meeting::MeetingOverlay;
pub use search::SearchPanel;
pub use shell::{Main, MainProps};
pub use timeline::Timeline;

/// The current time, for relative times and day lines. Read by the views
/// only; the engine gets its clock from the driver.
fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// Whether the two-pane desktop layout is on (the width CSS switches at).
fn wide() -> bool {
    gloo::utils::window()
        .inner_width()
        .ok()
        .and_then(|width| width.as_f64())
        .is_some_and(|width| width >= 768.0)
}
