//! Bad input of every kind gets its own typed error, never a panic.

use penpen_core::packets::login::{Login, Push, StreamRequest};
use penpen_core::packets::message::{SendFile, SendText};
use penpen_core::packets::profile::SignatureUpdate;
use penpen_core::packets::sync::SyncRequest;
use penpen_core::{ErrorReply, Frame, FrameError, State, limits};

fn plain(payload: &str) -> Frame {
    Frame::decode(&format!(
        r#"{{"head":1100,"body":{payload},"tail":"PENPEN 1.0"}}"#
    ))
    .expect("valid envelope")
}

fn b64(text: &str) -> String {
    penpen_core::envelope::encode_base64_text(text)
}

#[test]
fn a_field_over_its_limit_is_field_too_long() {
    let long = "字".repeat(limits::MAX_TEXT_CHARS + 1);
    let frame = plain(&format!(
        r#"{{"from":"13800000001","to":"13800000002","type":0,"content":"{}"}}"#,
        b64(&long)
    ));
    let err = frame.packet::<SendText>().expect_err("too long");
    assert_eq!(
        err,
        FrameError::FieldTooLong {
            field: "content",
            len: limits::MAX_TEXT_CHARS + 1,
            max: limits::MAX_TEXT_CHARS
        }
    );
    assert_eq!(ErrorReply::from(&err).state, State::BAD_PACKET);

    // Exactly at the limit is fine.
    let at_limit = "字".repeat(limits::MAX_TEXT_CHARS);
    let frame = plain(&format!(
        r#"{{"from":"13800000001","to":"13800000002","type":0,"content":"{}"}}"#,
        b64(&at_limit)
    ));
    assert_eq!(
        frame.packet::<SendText>().expect("at the limit").content,
        at_limit
    );
}

#[test]
fn a_field_that_is_not_base64_names_the_problem() {
    let frame = plain(r#"{"user":"12345678900","signing":"not base64!"}"#);
    let err = frame.packet::<SignatureUpdate>().expect_err("bad base64");
    let FrameError::NotExpectedPacket { packet, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*packet, "SignatureUpdate");
    assert!(reason.contains("not valid base64"), "{reason}");
}

#[test]
fn wrong_ids_are_refused_with_what_was_expected() {
    let frame = plain(r#"{"user":"1234","password":"6512bd43d9caa6e02c990b0a82652dca"}"#);
    let err = frame.packet::<Login>().expect_err("short user id");
    assert!(err.to_string().contains("11-digit"), "{err}");

    let frame = plain(r#"{"user":"12345678900","password":"11"}"#);
    let err = frame
        .packet::<Login>()
        .expect_err("password must be a digest");
    assert!(err.to_string().contains("md5"), "{err}");
}

#[test]
fn text_sends_must_be_text_and_not_empty() {
    let frame = plain(r#"{"from":"13800000001","to":"13800000002","type":1,"content":"57qm5ZCX"}"#);
    assert!(matches!(
        frame.packet::<SendText>(),
        Err(FrameError::NotExpectedPacket { .. })
    ));
    let frame = plain(r#"{"from":"13800000001","to":"13800000002","type":0,"content":""}"#);
    assert!(matches!(
        frame.packet::<SendText>(),
        Err(FrameError::NotExpectedPacket { .. })
    ));
}

#[test]
fn files_are_checked_for_size_kind_and_duration() {
    let too_big = vec![0u8; limits::MAX_VOICE_BYTES + 1];
    let file = |kind: u16, data: &[u8], duration: Option<u32>| {
        let mut json = serde_json::json!({
            "from": "13800000001", "to": "13800000002", "type": kind,
            "data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data),
        });
        if let Some(seconds) = duration {
            json["duration"] = seconds.into();
        }
        plain(&json.to_string()).packet::<SendFile>()
    };
    assert!(matches!(
        file(2, &too_big, Some(10)),
        Err(FrameError::FieldTooLong { field: "data", .. })
    ));
    assert!(file(2, b"OggS", Some(0)).is_err(), "a voice message of 0 s");
    assert!(
        file(2, b"OggS", Some(61)).is_err(),
        "a voice message over 60 s"
    );
    assert!(
        file(2, b"OggS", None).is_err(),
        "a voice message without duration"
    );
    assert!(
        file(1, b"\x89PNG", Some(3)).is_err(),
        "an image with a duration"
    );
    assert!(
        file(0, b"\x89PNG", None).is_err(),
        "a text type on a file port"
    );
    assert!(file(1, b"", None).is_err(), "an empty file");
    assert!(file(2, b"OggS", Some(60)).is_ok());
}

#[test]
fn services_with_several_requests_say_which_they_expected() {
    let err = StreamRequest::from_frame(&plain(r#"{"hello":1}"#)).expect_err("nothing known");
    assert!(err.to_string().contains("login"), "{err}");
    let err = SyncRequest::from_frame(&plain(r#"{"hello":5}"#)).expect_err("nothing known");
    assert!(err.to_string().contains("since"), "{err}");
    // The document's "sync all messages" has no fields: a catch-up from the start.
    for empty in [r#"{}"#, r#"{"limit":5}"#] {
        let request = SyncRequest::from_frame(&plain(empty)).expect("a catch-up");
        assert!(
            matches!(request, SyncRequest::CatchUp(c) if c.since == penpen_core::Seq(0)),
            "{empty} is a catch-up from the start"
        );
    }
    assert!(matches!(
        StreamRequest::from_frame(&plain(r#"{"ack":-1}"#)),
        Err(FrameError::NotExpectedPacket {
            packet: "StreamAck",
            ..
        })
    ));
    assert!(serde_json::from_str::<Push>(r#"{"weather":"fine"}"#).is_err());
}

#[test]
fn page_sizes_have_their_limits_per_request() {
    let sync = |text: &str| SyncRequest::from_frame(&plain(text));
    assert!(
        sync(r#"{"since":0,"limit":1000}"#).is_ok(),
        "a catch-up of 1,000"
    );
    let err = sync(r#"{"since":0,"limit":1001}"#).expect_err("a catch-up over 1,000");
    assert!(err.to_string().contains("at most 1000"), "{err}");
    assert!(
        sync(r#"{"since":0,"limit":0}"#).is_err(),
        "a page of nothing"
    );
    assert!(
        sync(r#"{"target":"7","limit":200}"#).is_ok(),
        "a history of 200"
    );
    let err = sync(r#"{"target":"7","limit":201}"#).expect_err("a history over 200");
    assert!(err.to_string().contains("at most 200"), "{err}");
}
