//! 27888: message actions. A request is told apart by its key: `recall`
//! (§15.1), `forward` (§15.3) or `ding` (§16.4). A recall or a forward is
//! answered like a send, with a [`crate::packets::message::SendAck`] for the
//! message it made; a ding with `{"state":11}`.

use crate::frame_error::FrameError;
use crate::ids::{ClientMsgId, MessageId, Peer};
use crate::packet::{Packet, invalid};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Take back a message (§15.1): `{"recall":"1001"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recall {
    /// The message to take back.
    pub recall: MessageId,
}

impl Packet for Recall {
    const NAME: &'static str = "Recall";
}

/// The most messages one merged forward takes (§15.3).
pub const MAX_FORWARD_IDS: usize = 100;

/// Message ids joined by commas on the wire, like `member` (§3); a JSON
/// list of ids is read too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageIds(pub Vec<MessageId>);

impl Serialize for MessageIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let joined: Vec<String> = self.0.iter().map(MessageId::to_string).collect();
        serializer.serialize_str(&joined.join(","))
    }
}

impl<'de> Deserialize<'de> for MessageIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageIds, D::Error> {
        // A string or a list, told apart by a visitor (as `Members` does),
        // so serde's buffering code stays out of the web bundle.
        struct IdsVisitor;
        impl<'de> de::Visitor<'de> for IdsVisitor {
            type Value = MessageIds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("message ids, \"id,id,…\", [\"id\",…] or one id")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<MessageIds, E> {
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| serde_json::from_value(serde_json::Value::String(part.to_owned())))
                    .collect::<Result<Vec<MessageId>, _>>()
                    .map(MessageIds)
                    .map_err(|e| E::custom(format_args!("forward: {e}")))
            }
            fn visit_u64<E: de::Error>(self, id: u64) -> Result<MessageIds, E> {
                serde_json::from_value(serde_json::Value::from(id))
                    .map(|id| MessageIds(vec![id]))
                    .map_err(|e| E::custom(format_args!("forward: {e}")))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<MessageIds, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                Ok(MessageIds(ids))
            }
        }
        deserializer.deserialize_any(IdsVisitor)
    }
}

/// Forward messages to a conversation (§15.3):
/// `{"forward":"1001","to":"13800000003","cid":"c-0008"}`. One request makes
/// one message: a copy of one message, or (`merge`) a chat record of several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// The messages forwarded, oldest first.
    pub forward: MessageIds,
    /// The conversation the new message goes to.
    pub to: Peer,
    /// Whether the messages are merged into one chat record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merge: bool,
    /// The sender's id for the new message: a retry makes nothing new.
    pub cid: ClientMsgId,
}

impl Packet for Forward {
    const NAME: &'static str = "Forward";
    fn validate(&self) -> Result<(), FrameError> {
        let count = self.forward.0.len();
        if count == 0 {
            return Err(invalid(
                Self::NAME,
                "forward is empty; expected the id of a message",
            ));
        }
        if !self.merge && count > 1 {
            return Err(invalid(
                Self::NAME,
                format!(
                    "forward names {count} messages without merge; expected one, or \"merge\":true"
                ),
            ));
        }
        if count > MAX_FORWARD_IDS {
            return Err(invalid(
                Self::NAME,
                format!("forward names {count} messages; expected at most {MAX_FORWARD_IDS}"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(repeated) = self.forward.0.iter().find(|id| !seen.insert(**id)) {
            return Err(invalid(
                Self::NAME,
                format!("forward names message {repeated} twice; expected each once"),
            ));
        }
        Ok(())
    }
}

/// One request of 27888.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MessageAction {
    /// `recall`: take a message back.
    Recall(Recall),
    /// `forward`: copy messages, or a chat record of them, to a conversation.
    Forward(Forward),
    /// `ding`: remind those who have not read one's message (§16.4).
    Ding(crate::packets::receipts::Ding),
}

impl MessageAction {
    /// The keys that name an action, in the words of error messages.
    const KEYS: &'static str = "`recall`, `forward` or `ding`";
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
        } else if object.contains_key("forward") {
            Forward::deserialize(value)
                .map(MessageAction::Forward)
                .map_err(de::Error::custom)
        } else if object.contains_key("ding") {
            crate::packets::receipts::Ding::deserialize(value)
                .map(MessageAction::Ding)
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
        let checked = match self {
            MessageAction::Recall(recall) => recall.validate(),
            MessageAction::Forward(forward) => forward.validate(),
            MessageAction::Ding(ding) => ding.validate(),
        };
        checked.map_err(|e| match e {
            FrameError::NotExpectedPacket { reason, .. } => invalid(Self::NAME, reason),
            other => other,
        })
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
        assert!(
            err.contains("expected `recall`, `forward` or `ding`"),
            "{err}"
        );
        let err = action(r#"["recall"]"#).expect_err("not an object");
        assert!(err.contains("JSON object"), "{err}");
        let err = action(r#"{"recall":"0"}"#).expect_err("id 0");
        assert!(err.contains('0'), "{err}");
    }

    fn checked(json: &str) -> Result<MessageAction, String> {
        let action = action(json)?;
        action.validate().map_err(|e| e.to_string())?;
        Ok(action)
    }

    #[test]
    fn a_forward_reads_its_ids_joined_or_as_a_list() {
        let joined = checked(r#"{"forward":"1001,1002","to":"7","merge":true,"cid":"c-0009"}"#)
            .expect("joined");
        let listed = checked(r#"{"forward":["1001",1002],"to":7,"merge":true,"cid":"c-0009"}"#)
            .expect("listed");
        assert_eq!(joined, listed);
        let MessageAction::Forward(forward) = joined else {
            panic!("a forward: {joined:?}");
        };
        assert_eq!(forward.forward.0, vec![MessageId(1001), MessageId(1002)]);
        assert!(forward.merge);
    }

    #[test]
    fn a_forward_takes_one_id_unless_merged_at_most_a_hundred_and_a_cid() {
        let err = checked(r#"{"forward":"1001,1002","to":"7","cid":"c"}"#).expect_err("two");
        assert!(err.contains("merge"), "{err}");
        let err = checked(r#"{"forward":"","to":"7","cid":"c"}"#).expect_err("none");
        assert!(err.contains("empty"), "{err}");
        let many: Vec<String> = (1..=101).map(|id| id.to_string()).collect();
        let json = format!(
            r#"{{"forward":"{}","to":"7","merge":true,"cid":"c"}}"#,
            many.join(",")
        );
        let err = checked(&json).expect_err("101");
        assert!(err.contains("at most 100"), "{err}");
        let err = checked(r#"{"forward":"1001,1001","to":"7","merge":true,"cid":"c"}"#)
            .expect_err("repeated");
        assert!(err.contains("twice"), "{err}");
        let err = checked(r#"{"forward":"1001","to":"7"}"#).expect_err("no cid");
        assert!(err.contains("cid"), "{err}");
        let err = checked(r#"{"forward":"1001,x","to":"7","cid":"c"}"#).expect_err("bad id");
        assert!(err.contains("forward"), "{err}");
    }
}
