//! Identifiers. Each is a newtype, so a user id can never be passed where a
//! group id is meant. Input accepts a JSON string or number; output is always
//! the canonical form (ids as strings, counters as numbers).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A user id that is not exactly 11 digits.
    #[error("{0:?} is not a user id; expected an 11-digit mobile number such as \"13800000001\"")]
    NotAUserId(String),
    /// A group id that is not 1 to 10 digits.
    #[error("{0:?} is not a group id; expected a decimal number of 1 to 10 digits")]
    NotAGroupId(String),
    /// A number that is not a decimal integer in range (ids start at 1, counters at 0).
    #[error("{0:?} is not a {1}; expected a whole number")]
    NotANumber(String, &'static str),
    /// A target that is neither a user id nor a group id.
    #[error("{0:?} is neither a user id (11 digits) nor a group id (1 to 10 digits)")]
    NotAPeer(String),
    /// A client message id with characters or a length outside the rule.
    #[error("{0:?} is not a cid; expected 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'")]
    NotAClientMsgId(String),
    /// A call id with characters or a length outside the rule.
    #[error("{0:?} is not a call id; expected 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'")]
    NotACallId(String),
    /// A meeting id with characters or a length outside the rule.
    #[error("{0:?} is not a meeting id; expected 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'")]
    NotAMeetingId(String),
}

/// Reads an id from a JSON string or number, handing its text to `parse`.
fn deserialize_text<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, IdError>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    // The visitor is the same type for every id (it hands the text to a
    // `dyn` closure that keeps the parsed id), so the deserializer's
    // `deserialize_any` is compiled once, not once per id type.
    let mut parsed = None;
    let mut keep = |text: &str| parse(text).map(|id| parsed = Some(id));
    deserializer.deserialize_any(TextVisitor {
        expecting,
        parse: &mut keep,
    })?;
    parsed.ok_or_else(|| de::Error::custom(format!("no {expecting} was read")))
}

/// Hands an id's text (a string, or a number written out) to `parse`.
struct TextVisitor<'a> {
    expecting: &'static str,
    parse: &'a mut dyn FnMut(&str) -> Result<(), IdError>,
}

impl Visitor<'_> for TextVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        (self.parse)(text).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<(), E> {
        (self.parse)(&number.to_string()).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<(), E> {
        (self.parse)(&number.to_string()).map_err(E::custom)
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A user's account: their 11-digit mobile number, e.g. `"15228977313"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// The length of every user id.
    pub const LEN: usize = 11;

    /// Checks and wraps an account number (surrounding spaces are ignored).
    pub fn parse(text: &str) -> Result<UserId, IdError> {
        let text = text.trim();
        if text.len() == UserId::LEN && all_digits(text) {
            Ok(UserId(text.to_owned()))
        } else {
            Err(IdError::NotAUserId(text.to_owned()))
        }
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A discussion group, numbered by the server: 1 to 10 digits, so it can never
/// be mistaken for an 11-digit user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(u64);

impl GroupId {
    /// The largest group id (10 digits).
    pub const MAX: u64 = 9_999_999_999;

    /// Wraps a server-assigned number; `None` for 0 or more than 10 digits.
    pub fn new(number: u64) -> Option<GroupId> {
        (1..=GroupId::MAX)
            .contains(&number)
            .then_some(GroupId(number))
    }

    /// Checks and wraps a group id written in decimal.
    pub fn parse(text: &str) -> Result<GroupId, IdError> {
        let text = text.trim();
        let refuse = || IdError::NotAGroupId(text.to_owned());
        if !all_digits(text) || text.len() > 10 {
            return Err(refuse());
        }
        text.parse::<u64>()
            .ok()
            .and_then(GroupId::new)
            .ok_or_else(refuse)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Where a message goes: a person or a discussion group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// A 1:1 conversation with this user.
    User(UserId),
    /// A discussion group.
    Group(GroupId),
}

impl Peer {
    /// 11 digits name a user, 1 to 10 digits a group.
    pub fn parse(text: &str) -> Result<Peer, IdError> {
        let trimmed = text.trim();
        if trimmed.len() == UserId::LEN {
            UserId::parse(trimmed).map(Peer::User)
        } else {
            GroupId::parse(trimmed)
                .map(Peer::Group)
                .map_err(|_| IdError::NotAPeer(trimmed.to_owned()))
        }
    }

    /// The group, if this is one.
    pub fn group(&self) -> Option<GroupId> {
        match self {
            Peer::Group(gid) => Some(*gid),
            Peer::User(_) => None,
        }
    }

    /// The user, if this is one.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Peer::User(user) => Some(user),
            Peer::Group(_) => None,
        }
    }
}

/// A positive counter that travels as a JSON number.
macro_rules! counter {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// Reads the decimal text of a counter.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                let text = text.trim();
                // u64::MAX has 20 digits; parse() refuses anything larger.
                if text.len() <= 20 && all_digits(text) {
                    text.parse().map($name).map_err(|_| IdError::NotANumber(text.to_owned(), $what))
                } else {
                    Err(IdError::NotANumber(text.to_owned(), $what))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                deserialize_text(deserializer, concat!("a ", $what, " (a whole number)"), $name::parse)
            }
        }
    };
}

counter!(
    /// A user's receive sequence: every message a user receives (their own sent
    /// ones included) gets the next number. `0` means "nothing yet".
    Seq,
    "seq"
);

/// An id that is a number but travels as a JSON string.
macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl $name {
            /// Reads the decimal text of the id.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                Seq::parse(text)
                    .ok()
                    .filter(|seq| seq.0 > 0)
                    .map(|seq| $name(seq.0))
                    .ok_or_else(|| IdError::NotANumber(text.trim().to_owned(), $what))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                deserialize_text(deserializer, concat!("a ", $what, " (a string of digits)"), $name::parse)
            }
        }
    };
}

numeric_id!(
    /// A stored message. Increases server-wide, so it orders a conversation's history.
    MessageId,
    "message id"
);
numeric_id!(
    /// A stored broadcast. Increases server-wide.
    BroadcastId,
    "broadcast id"
);
numeric_id!(
    /// A department of the directory.
    DepartmentId,
    "department id"
);
numeric_id!(
    /// A job title of the directory.
    JobId,
    "job id"
);

/// The client's own id for a message it sends (`cid`), unique per sender, so a
/// retried send is recognised and never stored twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// The longest cid accepted.
    pub const MAX_LEN: usize = 64;

    /// A cid made by a client from random bits and a counter (always valid).
    pub(crate) fn generated(random: u64, counter: u64) -> ClientMsgId {
        ClientMsgId(format!("{random:016x}-{counter}"))
    }

    /// Checks and wraps a cid: 1 to 64 characters of `A-Z a-z 0-9 - _`.
    pub fn parse(text: &str) -> Result<ClientMsgId, IdError> {
        if is_client_token(text) {
            Ok(ClientMsgId(text.to_owned()))
        } else {
            Err(IdError::NotAClientMsgId(text.to_owned()))
        }
    }

    /// The text of the cid.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// FromStr and string serde for the ids that travel as strings.
macro_rules! text_id_traits {
    ($name:ident, $expecting:literal) => {
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<$name, IdError> {
                $name::parse(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                deserialize_text(deserializer, $expecting, $name::parse)
            }
        }
    };
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::User(user) => user.fmt(f),
            Peer::Group(gid) => gid.fmt(f),
        }
    }
}

/// Whether `text` is 1 to 64 characters of `A-Z a-z 0-9 - _`: the ids a
/// client makes up (cids, call ids).
fn is_client_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= ClientMsgId::MAX_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random id in a cid's characters, made up by whoever names the thing:
/// the struct, `generated` (from 128 random bits, with a prefix that says
/// what it names), `parse` and `as_str`.
macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $error:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("A ", $what, " id from 128 random bits (always valid).")]
            pub fn generated(high: u64, low: u64) -> $name {
                $name(format!(concat!($prefix, "-{:016x}{:016x}"), high, low))
            }

            #[doc = concat!("Checks and wraps a ", $what, " id: 1 to 64 characters of `A-Z a-z 0-9 - _`.")]
            pub fn parse(text: &str) -> Result<$name, IdError> {
                if is_client_token(text) {
                    Ok($name(text.to_owned()))
                } else {
                    Err(IdError::$error(text.to_owned()))
                }
            }

            /// The text of the id.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(
    /// A call (24888), named by its caller: random, unique among the server's
    /// calls, in the same characters as a cid.
    CallId,
    "call",
    NotACallId,
    "call"
);

token_id!(
    /// A meeting (24888), named by the server when a group's meeting starts:
    /// random, unique among the server's meetings, in the same characters as
    /// a cid.
    MeetingId,
    "meet",
    NotAMeetingId,
    "meeting"
);

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

text_id_traits!(UserId, "an 11-digit user id, as a string or a number");
text_id_traits!(
    GroupId,
    "a group id of 1 to 10 digits, as a string or a number"
);
text_id_traits!(Peer, "a user id (11 digits) or a group id (1 to 10 digits)");
text_id_traits!(
    ClientMsgId,
    "a cid of 1 to 64 characters of A-Z a-z 0-9 - _"
);
text_id_traits!(CallId, "a call id of 1 to 64 characters of A-Z a-z 0-9 - _");
text_id_traits!(
    MeetingId,
    "a meeting id of 1 to 64 characters of A-Z a-z 0-9 - _"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).expect("serializes")
    }

    #[test]
    fn user_ids_are_eleven_digits_from_strings_or_numbers() {
        let id: UserId = serde_json::from_str("\"15228977313\"").expect("string");
        assert_eq!(id.as_str(), "15228977313");
        let id: UserId = serde_json::from_str("15228977313").expect("number");
        assert_eq!(json(&id), "\"15228977313\"");
        for bad in [
            "\"1231241243\"",
            "\"152289773130\"",
            "\"1522897731a\"",
            "\"\"",
            "-1",
        ] {
            assert!(serde_json::from_str::<UserId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_ids_are_one_to_ten_digits_and_never_zero() {
        let gid: GroupId = serde_json::from_str("7").expect("number");
        assert_eq!(json(&gid), "\"7\"");
        let gid: GroupId = serde_json::from_str("\"9999999999\"").expect("string");
        assert_eq!(gid.get(), GroupId::MAX);
        for bad in ["0", "\"0\"", "\"10000000000\"", "\"gid\"", "-3", "1.5"] {
            assert!(serde_json::from_str::<GroupId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn peers_tell_users_from_groups_by_length() {
        assert_eq!(
            Peer::parse("13800000001"),
            Ok(Peer::User(UserId::parse("13800000001").expect("user")))
        );
        assert_eq!(
            Peer::parse("42"),
            Ok(Peer::Group(GroupId::new(42).expect("gid")))
        );
        assert!(matches!(
            Peer::parse("1231241243x"),
            Err(IdError::NotAUserId(_))
        ));
        assert!(matches!(Peer::parse("abc"), Err(IdError::NotAPeer(_))));
        let peer: Peer = serde_json::from_str("13800000001").expect("number");
        assert_eq!(json(&peer), "\"13800000001\"");
    }

    #[test]
    fn counters_are_numbers_and_message_ids_are_strings() {
        let seq: Seq = serde_json::from_str("\"57\"").expect("string");
        assert_eq!(json(&seq), "57");
        let id: MessageId = serde_json::from_str("1001").expect("number");
        assert_eq!(json(&id), "\"1001\"");
        assert!(serde_json::from_str::<MessageId>("0").is_err());
        assert!(serde_json::from_str::<Seq>("-1").is_err());
        assert!(serde_json::from_str::<Seq>("\"99999999999999999999\"").is_err());
        let max: Seq = serde_json::from_str("\"18446744073709551615\"").expect("u64::MAX");
        assert_eq!(max, Seq(u64::MAX));
    }

    #[test]
    fn cids_are_short_and_url_safe() {
        assert!(ClientMsgId::parse("0b9f3c1e-6a2d-4c1b-9f1e-3c2a1b0d9e8f").is_ok());
        assert!(ClientMsgId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "中文", &"a".repeat(65)] {
            assert!(ClientMsgId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn call_and_meeting_ids_are_random_tokens_that_say_what_they_name() {
        let call = CallId::generated(0x5f0c_6b1e_2d3a_4f5e, 0x6a7b_8c9d_0e1f_2a3b);
        assert_eq!(call.as_str(), "call-5f0c6b1e2d3a4f5e6a7b8c9d0e1f2a3b");
        let meeting = MeetingId::generated(1, u64::MAX);
        assert_eq!(meeting.to_string(), "meet-0000000000000001ffffffffffffffff");
        assert_eq!(MeetingId::parse(meeting.as_str()), Ok(meeting));
        let err = MeetingId::parse("has space").expect_err("a space");
        assert!(err.to_string().contains("not a meeting id"), "{err}");
        assert!(CallId::parse(&"a".repeat(65)).is_err());
    }
}
