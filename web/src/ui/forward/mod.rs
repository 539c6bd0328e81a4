//! Forward (转发, §15.3) on screen: choosing messages in the timeline
//! (`select`), choosing where they go (`picker`), and the chat record that a
//! merged forward makes, with its viewer (`record`).

mod picker;
mod record;
mod select;

pub use picker::{ForwardPicker, Target, TargetSection, matching_targets, targets};
pub use record::{ChatRecordCard, RecordViewer, item_line, record_title};
pub use select::{ForwardActions, ForwardBar, Selecting, Selection, SelectionAction};

use penpen_core::packets::message::{Message, MessageType};

/// Whether `message` may be forwarded: a user's text, image, voice, file or
/// chat record that was not recalled (the server refuses the rest with 21).
pub fn forwardable(message: &Message) -> bool {
    use MessageType as T;
    message.recalled.is_none()
        && message.from.user().is_some()
        && matches!(
            message.kind,
            T::Text
                | T::GroupText
                | T::Image
                | T::GroupImage
                | T::Voice
                | T::GroupVoice
                | T::File
                | T::GroupFile
                | T::ChatRecord
                | T::GroupChatRecord
        )
}
