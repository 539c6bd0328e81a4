//! The one place where base64 text fields are encoded and decoded.
//!
//! Text that people write (names, signatures, message content, group names,
//! broadcast text, file names) travels as standard base64 of its UTF-8 bytes.
//! Packet structs hold the decoded `String` and name one of these adapters in
//! `#[serde(with = …)]`, so no call site ever sees base64.

use crate::envelope::{decode_base64_text, encode_base64_text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A `String` carried as base64 of its UTF-8 bytes.
pub mod b64 {
    use super::*;

    /// Writes the text as base64.
    pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode_base64_text(text))
    }

    /// Reads base64 and decodes it to UTF-8 text.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw = Cow::<str>::deserialize(deserializer)?;
        decode_base64_text("text field", &raw).map_err(D::Error::custom)
    }
}

/// An `Option<String>` carried as base64; absent when `None`.
pub mod b64_opt {
    use super::*;

    /// Writes the text as base64 (call with `skip_serializing_if = "Option::is_none"`).
    pub fn serialize<S: Serializer>(
        text: &Option<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match text {
            Some(text) => b64::serialize(text, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads base64 text, or nothing.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        let raw = Option::<Cow<str>>::deserialize(deserializer)?;
        raw.map(|raw| decode_base64_text("text field", &raw).map_err(D::Error::custom))
            .transpose()
    }
}

/// Bytes (file data) carried as base64.
pub mod b64_bytes {
    use super::*;

    /// Writes the bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads base64 into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let raw = Cow::<str>::deserialize(deserializer)?;
        STANDARD.decode(raw.as_bytes()).map_err(|e| {
            D::Error::custom(format!(
                "data is not valid base64 ({e}); expected standard base64 with padding"
            ))
        })
    }
}

/// A map whose values are base64 text, e.g. the directory's departments.
pub mod b64_values {
    use super::*;

    /// Writes every value as base64.
    pub fn serialize<K: Serialize + Ord, S: Serializer>(
        map: &BTreeMap<K, String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        // The map iterates in key order already: collecting it into another
        // map would only sort it again.
        serializer.collect_map(map.iter().map(|(k, v)| (k, encode_base64_text(v))))
    }

    /// Reads a map of base64 values.
    pub fn deserialize<'de, K, D>(deserializer: D) -> Result<BTreeMap<K, String>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        D: Deserializer<'de>,
    {
        let raw = BTreeMap::<K, Cow<str>>::deserialize(deserializer)?;
        let mut decoded = BTreeMap::new();
        for (k, v) in raw {
            let v = decode_base64_text("text field", &v).map_err(D::Error::custom)?;
            decoded.insert(k, v);
        }
        Ok(decoded)
    }
}

/// A value carried as a JSON string holding JSON, as the protocol document
/// writes the directory and group lists (`"contacts":"[{…}]"`). A plain JSON
/// value is accepted on input too.
pub mod json_in_string {
    use super::*;

    /// Writes the value as a string of JSON.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let json = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&json)
    }

    /// Reads a string of JSON, or the JSON value itself.
    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        // Taken as raw JSON text and read with `from_str` either way: going
        // through a `serde_json::Value` would compile every `T` a second
        // time, for the `Value` deserializer, into the web bundle.
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            let json: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            serde_json::from_str(&json).map_err(D::Error::custom)
        } else {
            serde_json::from_str(text).map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Signed {
        #[serde(with = "b64")]
        signing: String,
    }

    #[test]
    fn text_fields_travel_as_base64_of_utf8() {
        let signed = Signed {
            signing: "今天天气好好~".into(),
        };
        let json = serde_json::to_string(&signed).expect("json");
        assert_eq!(json, r#"{"signing":"5LuK5aSp5aSp5rCU5aW95aW9fg=="}"#);
        assert_eq!(serde_json::from_str::<Signed>(&json).expect("back"), signed);
    }

    #[test]
    fn bad_base64_and_non_utf8_are_errors_that_say_so() {
        let err = serde_json::from_str::<Signed>(r#"{"signing":"%%%"}"#).expect_err("bad");
        assert!(err.to_string().contains("not valid base64"), "{err}");
        let err = serde_json::from_str::<Signed>(r#"{"signing":"//4="}"#).expect_err("bad");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Listed {
        #[serde(with = "json_in_string")]
        list: Vec<u32>,
    }

    #[test]
    fn json_in_a_string_or_plain_json_reads_the_same() {
        let listed = Listed { list: vec![1, 2] };
        let json = serde_json::to_string(&listed).expect("json");
        assert_eq!(json, r#"{"list":"[1,2]"}"#);
        assert_eq!(
            serde_json::from_str::<Listed>(&json).expect("string"),
            listed
        );
        let plain = serde_json::from_str::<Listed>(r#"{"list": [1, 2]}"#).expect("plain");
        assert_eq!(plain, listed);
        let err = serde_json::from_str::<Listed>(r#"{"list":"[1,\"x\"]"}"#).expect_err("bad");
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
