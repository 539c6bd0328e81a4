//! Identifiers. Each is a newtype, so a user id can never be passed where a
//! group id is meant; input accepts a JSON string or number, output is always a string.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A user id that is not exactly 11 digits.
    #[error("{0:?} is not a user id; expected an 11-digit phone number such as \"13800000001\"")]
    NotAUserId(String),
}

/// A user's account: their 11-digit mobile number, e.g. `"15228977313"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// The length of every user id.
    pub const LEN: usize = 11;

    /// Checks and wraps an account number.
    pub fn parse(text: &str) -> Result<UserId, IdError> {
        let text = text.trim();
        if text.len() == UserId::LEN && text.bytes().all(|b| b.is_ascii_digit()) {
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

impl FromStr for UserId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<UserId, IdError> {
        UserId::parse(text)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UserId, D::Error> {
        struct UserIdVisitor;
        impl Visitor<'_> for UserIdVisitor {
            type Value = UserId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an 11-digit user id, as a string or a number")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<UserId, E> {
                UserId::parse(text).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<UserId, E> {
                UserId::parse(&number.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<UserId, E> {
                UserId::parse(&number.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(UserIdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_eleven_digits_from_strings_or_numbers() {
        let id: UserId = serde_json::from_str("\"15228977313\"").expect("string");
        assert_eq!(id.as_str(), "15228977313");
        let id: UserId = serde_json::from_str("15228977313").expect("number");
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"15228977313\"");
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
}
