//! The PENPEN envelope: every frame, in both directions, is
//! `{"head":<encoding>,"body":<payload>,"tail":"PENPEN 1.0"}`.
//!
//! Decoding checks the frame size first, so nothing is allocated for a frame
//! larger than [`MAX_FRAME_BYTES`], then the version, the encoding and the body.
//! Every failure is a [`FrameError`] naming what was wrong and what was expected.

pub use crate::frame_error::FrameError;
use crate::packet::Packet;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt;

/// The protocol version every frame carries in its `tail`.
pub const PROTOCOL_VERSION: &str = "PENPEN 1.0";

/// The largest frame accepted, in bytes of JSON text.
///
/// An image of the largest allowed size, base64-encoded inside a payload that is
/// itself base64-encoded, fits with room to spare.
pub const MAX_FRAME_BYTES: usize = 12 * 1024 * 1024;

/// How a frame's payload is carried in its `body` (the envelope's `head`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// 1100: the body is the payload itself, a JSON object or a string holding JSON.
    Plain,
    /// 1110: the body is the standard base64 (with padding) of the payload's UTF-8 JSON.
    Base64,
    /// 1160: md5. One-way, so it cannot carry a payload; frames in it are refused.
    Md5,
}

impl Encoding {
    /// The number that stands for this encoding in a frame's `head`.
    pub const fn head(self) -> u16 {
        match self {
            Encoding::Plain => 1100,
            Encoding::Base64 => 1110,
            Encoding::Md5 => 1160,
        }
    }

    /// The encoding a `head` number stands for.
    pub fn from_head(head: i64) -> Result<Encoding, FrameError> {
        match head {
            1100 => Ok(Encoding::Plain),
            1110 => Ok(Encoding::Base64),
            1160 => Ok(Encoding::Md5),
            other => Err(FrameError::UnknownHead(other.to_string())),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
            Encoding::Md5 => "md5",
        };
        write!(f, "{} ({name})", self.head())
    }
}

/// A frame whose envelope has been checked, holding its payload as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The encoding the frame arrived in; replies use the same one.
    pub encoding: Encoding,
    /// The payload: UTF-8 JSON text.
    pub payload: String,
}

impl Frame {
    /// Parses and checks an envelope, returning its payload as JSON text.
    pub fn decode(text: &str) -> Result<Frame, FrameError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge {
                size: text.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                FrameError::NotAnEnvelope(e.to_string())
            } else {
                FrameError::NotJson(e.to_string())
            }
        })?;
        let tail = raw.tail.ok_or(FrameError::MissingField("tail"))?;
        let tail = tail_text(tail)?;
        if tail != PROTOCOL_VERSION {
            return Err(FrameError::WrongVersion(tail));
        }
        let head = raw.head.ok_or(FrameError::MissingField("head"))?;
        let encoding = Encoding::from_head(head_number(head)?)?;
        let body = raw.body.ok_or(FrameError::MissingField("body"))?;
        let payload = match encoding {
            Encoding::Md5 => return Err(FrameError::OneWayEncoding),
            Encoding::Base64 => {
                let text: String = serde_json::from_str(body.get()).map_err(|_| {
                    FrameError::NotAnEnvelope(
                        "body of a 1110 frame must be a string of base64".to_owned(),
                    )
                })?;
                decode_base64_text("body", &text)?
            }
            Encoding::Plain => {
                let json = body.get();
                if json.starts_with('"') {
                    serde_json::from_str::<String>(json)
                        .map_err(|e| FrameError::NotAnEnvelope(e.to_string()))?
                } else {
                    json.to_owned()
                }
            }
        };
        // The payload must be a JSON object; checking it here gives one clear
        // error instead of a confusing one from each packet's parser. RawValue
        // checks the syntax without building a tree.
        let raw: &RawValue =
            serde_json::from_str(&payload).map_err(|e| FrameError::BodyNotJson(e.to_string()))?;
        if !raw.get().starts_with('{') {
            return Err(FrameError::BodyNotJson(format!(
                "found {}",
                json_kind(raw.get())
            )));
        }
        Ok(Frame { encoding, payload })
    }

    /// Reads the payload as the packet `T` and checks the protocol's limits on it.
    pub fn packet<T: Packet>(&self) -> Result<T, FrameError> {
        let packet: T =
            serde_json::from_str(&self.payload).map_err(|e| FrameError::NotExpectedPacket {
                packet: T::NAME,
                reason: e.to_string(),
            })?;
        packet.validate()?;
        Ok(packet)
    }

    /// The names of the payload's fields, for services that take several requests.
    ///
    /// The values are skipped, not built: a `serde_json::Value` tree of a
    /// 12 MiB frame of tiny arrays takes about 16 times the frame's size.
    pub fn field_names(&self) -> Result<Vec<String>, FrameError> {
        let FieldNames(names) = serde_json::from_str(&self.payload)
            .map_err(|e| FrameError::BodyNotJson(e.to_string()))?;
        Ok(names)
    }

    /// Builds the frame text for `packet` in `encoding`.
    ///
    /// Fails only for [`Encoding::Md5`], which cannot carry a payload.
    pub fn encode<T: Serialize>(encoding: Encoding, packet: &T) -> Result<String, FrameError> {
        let payload = serde_json::to_string(packet)
            .expect("packets serialize to JSON: every packet map has string keys");
        Frame::encode_payload(encoding, &payload)
    }

    /// Builds the frame text for a payload that is already JSON text.
    pub fn encode_payload(encoding: Encoding, payload: &str) -> Result<String, FrameError> {
        let body = match encoding {
            Encoding::Md5 => return Err(FrameError::OneWayEncoding),
            Encoding::Base64 => OutBody::Base64(STANDARD.encode(payload)),
            // The payload goes in as it is, keeping its field order and bytes.
            Encoding::Plain => OutBody::Plain(
                RawValue::from_string(payload.to_owned())
                    .map_err(|e| FrameError::BodyNotJson(e.to_string()))?,
            ),
        };
        let envelope = OutEnvelope {
            head: encoding.head(),
            body,
            tail: PROTOCOL_VERSION,
        };
        Ok(serde_json::to_string(&envelope).expect("an envelope of JSON values serializes"))
    }
}

/// Decodes standard base64 (with padding) into UTF-8 text; `field` names the
/// text in the error.
pub fn decode_base64_text(field: &'static str, text: &str) -> Result<String, FrameError> {
    let bytes = STANDARD.decode(text).map_err(|e| FrameError::BadBase64 {
        field,
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| FrameError::NotUtf8(field))
}

/// Encodes UTF-8 text as standard base64 with padding.
pub fn encode_base64_text(text: &str) -> String {
    STANDARD.encode(text)
}

/// The keys of a JSON object, its values checked for syntax and dropped.
struct FieldNames(Vec<String>);

impl<'de> Deserialize<'de> for FieldNames {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = FieldNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FieldNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    names.push(name);
                }
                Ok(FieldNames(names))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(borrow)]
    head: Option<&'a RawValue>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    #[serde(borrow)]
    tail: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct OutEnvelope {
    head: u16,
    body: OutBody,
    tail: &'static str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutBody {
    Base64(String),
    Plain(Box<RawValue>),
}

/// `head` is a number in the document; a numeric string is accepted too.
///
/// Read as a number or a string only, never as a `Value`: a huge array in
/// `head` is refused without building it.
fn head_number(raw: &RawValue) -> Result<i64, FrameError> {
    let json = raw.get();
    if json.starts_with('"') {
        let s: String = serde_json::from_str(json)
            .map_err(|e| FrameError::NotAnEnvelope(format!("head is not a string: {e}")))?;
        return s
            .trim()
            .parse::<i64>()
            .map_err(|_| FrameError::UnknownHead(format!("{s:?}")));
    }
    match serde_json::from_str::<serde_json::Number>(json) {
        Ok(n) => n
            .as_i64()
            .ok_or_else(|| FrameError::UnknownHead(n.to_string())),
        Err(_) => Err(FrameError::NotAnEnvelope(format!(
            "head is {}, expected a number",
            json_kind(json)
        ))),
    }
}

fn tail_text(raw: &RawValue) -> Result<String, FrameError> {
    serde_json::from_str::<String>(raw.get())
        .map_err(|_| FrameError::WrongVersion(raw.get().to_owned()))
}

/// What kind of JSON value a (syntactically valid, trimmed) text holds.
fn json_kind(json: &str) -> &'static str {
    match json.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The login example of the protocol document, as the mobile client sent it.
    const LOGIN_PAYLOAD: &str =
        r#"{"user":"12345678900","password":"6512bd43d9caa6e02c990b0a82652dca"}"#;
    const LOGIN_FRAME: &str = r#"{"head":1110,"body":"eyJ1c2VyIjoiMTIzNDU2Nzg5MDAiLCJwYXNzd29yZCI6IjY1MTJiZDQzZDljYWE2ZTAyYzk5MGIwYTgyNjUyZGNhIn0=","tail":"PENPEN 1.0"}"#;

    #[test]
    fn login_example_round_trips_in_base64() {
        let frame = Frame::decode(LOGIN_FRAME).expect("valid frame");
        assert_eq!(frame.encoding, Encoding::Base64);
        assert_eq!(frame.payload, LOGIN_PAYLOAD);
        let text = Frame::encode_payload(Encoding::Base64, &frame.payload).expect("encodes");
        assert_eq!(text, LOGIN_FRAME);
    }

    #[test]
    fn plain_body_may_be_an_object_or_a_string_of_json() {
        let object = r#"{"head":1100,"body":{"user":"12345678900","password":"6512bd43d9caa6e02c990b0a82652dca"},"tail":"PENPEN 1.0"}"#;
        let string = r#"{"head":1100,"body":"{\"user\":\"12345678900\",\"password\":\"6512bd43d9caa6e02c990b0a82652dca\"}","tail":"PENPEN 1.0"}"#;
        for text in [object, string] {
            let frame = Frame::decode(text).expect("valid frame");
            assert_eq!(frame.encoding, Encoding::Plain);
            let value: serde_json::Value = serde_json::from_str(&frame.payload).expect("json");
            assert_eq!(
                value,
                json!({"user":"12345678900","password":"6512bd43d9caa6e02c990b0a82652dca"})
            );
        }
        assert_eq!(
            Frame::encode_payload(Encoding::Plain, LOGIN_PAYLOAD).expect("encodes"),
            object
        );
    }

    #[test]
    fn payload_may_be_surrounded_by_whitespace() {
        // base64 of " {} "
        let frame = Frame::decode(r#"{"head":1110,"body":"IHt9IA==","tail":"PENPEN 1.0"}"#);
        assert!(frame.is_ok(), "{frame:?}");
    }

    #[test]
    fn head_may_be_a_numeric_string() {
        let text = LOGIN_FRAME.replace("\"head\":1110", "\"head\":\"1110\"");
        assert_eq!(
            Frame::decode(&text).expect("valid").encoding,
            Encoding::Base64
        );
    }

    #[test]
    fn every_bad_frame_gets_its_own_error() {
        type IsExpected = fn(&FrameError) -> bool;
        let cases: Vec<(String, IsExpected)> = vec![
            ("not json".into(), |e| matches!(e, FrameError::NotJson(_))),
            ("[1,2]".into(), |e| {
                matches!(e, FrameError::NotAnEnvelope(_))
            }),
            (r#"{"body":"e30=","tail":"PENPEN 1.0"}"#.into(), |e| {
                *e == FrameError::MissingField("head")
            }),
            (r#"{"head":1110,"tail":"PENPEN 1.0"}"#.into(), |e| {
                *e == FrameError::MissingField("body")
            }),
            (r#"{"head":1110,"body":"e30="}"#.into(), |e| {
                *e == FrameError::MissingField("tail")
            }),
            (
                r#"{"head":1234,"body":"e30=","tail":"PENPEN 1.0"}"#.into(),
                |e| *e == FrameError::UnknownHead("1234".into()),
            ),
            (
                r#"{"head":1110,"body":"e30=","tail":"PENPEN 2.0"}"#.into(),
                |e| *e == FrameError::WrongVersion("PENPEN 2.0".into()),
            ),
            (
                r#"{"head":1160,"body":"e30=","tail":"PENPEN 1.0"}"#.into(),
                |e| *e == FrameError::OneWayEncoding,
            ),
            (
                r#"{"head":1110,"body":"e30","tail":"PENPEN 1.0"}"#.into(),
                |e| matches!(e, FrameError::BadBase64 { field: "body", .. }),
            ),
            (
                // base64 of the bytes ff fe: not UTF-8
                r#"{"head":1110,"body":"//4=","tail":"PENPEN 1.0"}"#.into(),
                |e| *e == FrameError::NotUtf8("body"),
            ),
            (
                // base64 of "hello": not JSON
                r#"{"head":1110,"body":"aGVsbG8=","tail":"PENPEN 1.0"}"#.into(),
                |e| matches!(e, FrameError::BodyNotJson(_)),
            ),
            (
                // base64 of "[1]": JSON, but not an object
                r#"{"head":1110,"body":"WzFd","tail":"PENPEN 1.0"}"#.into(),
                |e| matches!(e, FrameError::BodyNotJson(_)),
            ),
            (
                // base64 of " [1] ": whitespace does not hide the array
                r#"{"head":1110,"body":"IFsxXSA=","tail":"PENPEN 1.0"}"#.into(),
                |e| *e == FrameError::BodyNotJson("found an array".into()),
            ),
        ];
        for (text, expected) in cases {
            let err = Frame::decode(&text).expect_err(&text);
            assert!(expected(&err), "{text} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn oversized_frames_are_refused_before_parsing() {
        let text = " ".repeat(MAX_FRAME_BYTES + 1);
        assert_eq!(
            Frame::decode(&text),
            Err(FrameError::TooLarge {
                size: MAX_FRAME_BYTES + 1,
                max: MAX_FRAME_BYTES
            })
        );
    }

    #[test]
    fn md5_cannot_be_encoded() {
        assert_eq!(
            Frame::encode_payload(Encoding::Md5, "{}"),
            Err(FrameError::OneWayEncoding)
        );
    }

    #[test]
    fn payload_that_is_not_the_expected_packet_names_it() {
        let frame =
            Frame::decode(r#"{"head":1100,"body":{"user":"12345678900"},"tail":"PENPEN 1.0"}"#)
                .expect("valid envelope");
        let err = frame
            .packet::<crate::packets::login::Login>()
            .expect_err("password is missing");
        assert!(
            matches!(&err, FrameError::NotExpectedPacket { packet: "Login", reason } if reason.contains("password")),
            "{err:?}"
        );
    }
}
