//! 27888: message actions. A request is told apart by its key: `recall`
//! (§15.1) today; `forward` (§15.3) joins as a second variant of
//! [`MessageAction`]. Every action is answered like a send, with a
//! [`crate::packets::message::SendAck`] for the message it made.

use crate::frame_error::FrameError;
use crate::ids::MessageId;
use crate::packet::{Packet, invalid};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// Take back a message (§15.1): `{"recall":"1001"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recall {
    /// The message to take back.
    pub recall: MessageId,
}

impl Packet for Recall {
    const NAME: &'static str = "Recall";
}

/// One request of 27888.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MessageAction {
    /// `recall`: take a message back.
    Recall(Recall),
}

impl MessageAction {
    /// The keys that name an action, in the words of error messages.
    const KEYS: &'static str = "`recall`";
}

impl<'de> Deserialize<'de> for MessageAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageAction, D::Error> {
        // The key says which action it is, so a malformed request is refused
        // with that action's own error rather than "no variant matched".
        let value = serde_json::Value::deserialize(deserializer)?;
        let Some(object) = value.as_object() else {
            return Err(de::Error::custom(format_args!(
                "a message action is a JSON object with {}",
                MessageAction::KEYS
            )));
        };
        if object.contains_key("recall") {
            Recall::deserialize(value)
                .map(MessageAction::Recall)
                .map_err(de::Error::custom)
        } else {
            Err(de::Error::custom(format_args!(
                "no action named; expected {}",
                MessageAction::KEYS
            )))
        }
    }
}

impl Packet for MessageAction {
    const NAME: &'static str = "MessageAction";
    fn validate(&self) -> Result<(), FrameError> {
        match self {
            MessageAction::Recall(recall) => recall.validate().map_err(|e| match e {
                FrameError::NotExpectedPacket { reason, .. } => invalid(Self::NAME, reason),
                other => other,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(json: &str) -> Result<MessageAction, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_recall_is_told_apart_by_its_key() {
        assert_eq!(
            action(r#"{"recall":"1001"}"#),
            Ok(MessageAction::Recall(Recall {
                recall: MessageId(1001)
            }))
        );
        assert_eq!(
            action(r#"{"recall":1001}"#),
            Ok(MessageAction::Recall(Recall {
                recall: MessageId(1001)
            }))
        );
    }

    #[test]
    fn a_request_without_a_known_key_or_with_a_bad_id_says_what_was_expected() {
        let err = action(r#"{"undo":"1001"}"#).expect_err("no key");
        assert!(err.contains("expected `recall`"), "{err}");
        let err = action(r#"["recall"]"#).expect_err("not an object");
        assert!(err.contains("JSON object"), "{err}");
        let err = action(r#"{"recall":"0"}"#).expect_err("id 0");
        assert!(err.contains('0'), "{err}");
    }
}
