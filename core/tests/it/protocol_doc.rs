//! docs/PROTOCOL.md agrees with the code: every example marked
//! `<!-- example: Packet -->` decodes as that packet and re-encodes to exactly
//! the same bytes, and every `<!-- frame: Packet -->` does so as a whole frame.

use penpen_core::packets::Packet;
use penpen_core::packets::actions::*;
use penpen_core::packets::broadcast::*;
use penpen_core::packets::call::*;
use penpen_core::packets::directory::*;
use penpen_core::packets::groups::*;
use penpen_core::packets::login::*;
use penpen_core::packets::meeting::*;
use penpen_core::packets::message::*;
use penpen_core::packets::profile::*;
use penpen_core::packets::receipts::*;
use penpen_core::packets::settings::*;
use penpen_core::packets::sync::*;
use penpen_core::packets::upload::*;
use penpen_core::{ErrorReply, Frame, packets::Done};
use std::path::Path;

/// (marker kind, packet name, JSON text) for every marked example.
fn marked_examples() -> Vec<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(&path).expect("docs/PROTOCOL.md is readable");
    let mut examples = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(marker) = line
            .trim()
            .strip_prefix("<!-- ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let Some((kind, packet)) = marker.split_once(": ") else {
            continue;
        };
        assert_eq!(
            lines.next().map(str::trim),
            Some("```json"),
            "{marker} must precede a json block"
        );
        let json = lines.next().expect("an example line").to_owned();
        assert_eq!(
            lines.next().map(str::trim),
            Some("```"),
            "{marker}: one line per example"
        );
        examples.push((kind.to_owned(), packet.to_owned(), json));
    }
    examples
}

fn canonical<T: Packet>(json: &str) -> Result<String, String> {
    let packet: T = serde_json::from_str(json).map_err(|e| e.to_string())?;
    packet.validate().map_err(|e| e.to_string())?;
    serde_json::to_string(&packet).map_err(|e| e.to_string())
}

fn frame_round_trip<T: Packet>(text: &str) -> Result<String, String> {
    let frame = Frame::decode(text).map_err(|e| e.to_string())?;
    let packet: T = frame.packet().map_err(|e| e.to_string())?;
    Frame::encode(frame.encoding, &packet).map_err(|e| e.to_string())
}

macro_rules! dispatch {
    ($name:expr, $f:ident, $arg:expr; $($ty:ident),*) => {
        match $name {
            $(stringify!($ty) => $f::<$ty>($arg),)*
            other => Err(format!("docs name a packet the test does not know: {other}")),
        }
    };
}

fn reencode(kind: &str, packet: &str, json: &str) -> Result<String, String> {
    match kind {
        "example" => dispatch!(packet, canonical, json;
            Login, Resume, LoginReply, StreamAck, Logout, Heartbeat, Push, SendText, SendFile, SendAck,
            CatchUp, History, MessagePage, DirectoryQuery, Directory, PasswordUpdate,
            SignatureUpdate, PresenceUpdate, SignatureQuery, Signatures, Done, GroupsQuery, Groups,
            GroupCreate, GroupCreated, GroupRename, GroupMembersChange, GroupUpdated,
            SendBroadcast, BroadcastAck, BroadcastQuery, BroadcastPage, ErrorReply,
            CallRequest, IceServersReply, CallSignal, CallRecord, MeetingRequest,
            MeetingStartReply, MeetingJoinReply, MeetingSignal, MeetingStartedNotice,
            MeetingEndedNotice, MessageAction, ChatRecord, Upload, UploadOffset, ConversationMute,
            MutedQuery, MutedList, ReadMark, Watch, ReadsQuery, ReadsPage, ReceiptsSetting, Search, SearchPage),
        "frame" => dispatch!(packet, frame_round_trip, json; Login),
        other => Err(format!("unknown marker kind {other}")),
    }
}

#[test]
fn every_marked_example_is_canonical() {
    let examples = marked_examples();
    assert!(
        examples.len() >= 40,
        "only {} marked examples",
        examples.len()
    );
    for (kind, packet, json) in &examples {
        match reencode(kind, packet, json) {
            Ok(again) => assert_eq!(&again, json, "{kind} {packet} is not canonical"),
            Err(e) => panic!("{kind} {packet}: {e}\n{json}"),
        }
    }
}

#[test]
fn every_packet_has_an_example() {
    let examples = marked_examples();
    for name in [
        "Login",
        "Resume",
        "LoginReply",
        "StreamAck",
        "Logout",
        "Heartbeat",
        "Push",
        "SendText",
        "MessageAction",
        "ChatRecord",
        "SendFile",
        "SendAck",
        "CatchUp",
        "History",
        "MessagePage",
        "DirectoryQuery",
        "Directory",
        "PasswordUpdate",
        "SignatureUpdate",
        "PresenceUpdate",
        "SignatureQuery",
        "Signatures",
        "Done",
        "GroupsQuery",
        "Groups",
        "GroupCreate",
        "GroupCreated",
        "GroupRename",
        "GroupMembersChange",
        "GroupUpdated",
        "CallRequest",
        "IceServersReply",
        "CallSignal",
        "CallRecord",
        "MeetingRequest",
        "Upload",
        "UploadOffset",
        "ConversationMute",
        "MutedQuery",
        "MutedList",
        "ReadMark",
        "Watch",
        "ReadsQuery",
        "ReadsPage",
        "ReceiptsSetting",
        "Search",
        "SearchPage",
        "MeetingStartReply",
        "MeetingJoinReply",
        "MeetingSignal",
        "MeetingStartedNotice",
        "MeetingEndedNotice",
        "SendBroadcast",
        "BroadcastAck",
        "BroadcastQuery",
        "BroadcastPage",
        "ErrorReply",
    ] {
        assert!(
            examples.iter().any(|(_, p, _)| p == name),
            "docs/PROTOCOL.md has no example of {name}"
        );
    }
}

#[test]
fn the_state_table_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("readable");
    for (state, _) in penpen_core::State::TABLE {
        assert!(
            doc.contains(&format!("| {} |", state.0)),
            "state {} is not documented",
            state.0
        );
    }
}
