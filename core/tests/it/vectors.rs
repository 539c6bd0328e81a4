//! Golden vectors: every packet against its canonical JSON, both ways.
//!
//! For each vector: the Rust value serializes to exactly the canonical bytes;
//! the canonical bytes decode to the value and re-encode to the same bytes; the
//! value survives a 1110 frame; and each alternate input (as older clients
//! wrote it, e.g. `type` as a string) decodes to the same value.

use penpen_core::packets::actions::*;
use penpen_core::packets::broadcast::*;
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
use penpen_core::packets::{Done, Packet};
use penpen_core::*;
use std::collections::BTreeMap;
use std::fmt::Debug;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}
fn gid(n: u64) -> GroupId {
    GroupId::new(n).expect("valid group id")
}
fn cid(text: &str) -> ClientMsgId {
    ClientMsgId::parse(text).expect("valid cid")
}
fn members(ids: &[&str]) -> Members {
    Members(ids.iter().map(|id| user(id)).collect())
}

const TOKEN: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn check<T: Packet + PartialEq + Debug>(value: T, canonical: &str, alternates: &[&str]) {
    let written = serde_json::to_string(&value).expect("serializes");
    assert_eq!(written, canonical, "struct → bytes");
    let read: T = serde_json::from_str(canonical).expect("canonical bytes decode");
    assert_eq!(read, value, "bytes → struct");
    assert_eq!(
        serde_json::to_string(&read).expect("serializes"),
        canonical,
        "bytes → struct → bytes"
    );
    read.validate().expect("vectors are within the limits");

    let frame = Frame::encode(Encoding::Base64, &value).expect("encodes");
    let back: T = Frame::decode(&frame)
        .and_then(|f| f.packet())
        .expect("frame decodes");
    assert_eq!(back, value, "through a 1110 frame");

    for alternate in alternates {
        let read: T = serde_json::from_str(alternate)
            .unwrap_or_else(|e| panic!("alternate {alternate} does not decode: {e}"));
        assert_eq!(read, value, "alternate {alternate}");
        assert_eq!(
            serde_json::to_string(&read).expect("serializes"),
            canonical,
            "alternate {alternate} → canonical"
        );
    }
}

macro_rules! vectors {
    ($($name:ident: $value:expr => $canonical:expr $(, also [$($alt:expr),* $(,)?])?;)*) => {
        $(
            #[test]
            fn $name() {
                check($value, $canonical, &[$($($alt),*)?]);
            }
        )*
    };
}

fn received_text() -> Message {
    Message {
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
        from: Sender::User(user("15228977313")),
        to: Peer::User(user("13800000001")),
        kind: MessageType::Text,
        content: "约吗".into(),
        time: "2026-11-27 21:05:09".into(),
        ts: 1_795_784_709_000,
        id: MessageId(1001),
        seq: Some(Seq(57)),
        cid: Some(cid("c-0001")),
        duration: None,
    }
}

fn group() -> Group {
    Group {
        gid: gid(7),
        holder: user("12345678903"),
        name: "项目组".into(),
        member: members(&["12345678900", "12345678909", "12345678903"]),
    }
}

const MEETING: &str = "meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn meeting() -> MeetingId {
    MeetingId::parse(MEETING).expect("valid meeting id")
}

fn participant(id: &str, mic: bool, camera: bool) -> Participant {
    Participant {
        user: user(id),
        mic,
        camera,
    }
}

fn meeting_signal(event: MeetingSignalEvent) -> MeetingSignal {
    MeetingSignal {
        signal: MeetingSignalBody {
            meeting: meeting(),
            event,
        },
    }
}

fn group_notice(kind: MessageType, content: &str, ts: i64, id: u64, seq: u64) -> Push {
    Push::Message(Box::new(Message {
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
        from: Sender::System,
        to: Peer::Group(gid(7)),
        kind,
        content: content.into(),
        time: time::format_time(ts, 480),
        ts,
        id: MessageId(id),
        seq: Some(Seq(seq)),
        cid: None,
        duration: None,
    }))
}

fn broadcast() -> Broadcast {
    Broadcast {
        id: BroadcastId(3),
        from: user("13800000001"),
        kind: BroadcastKind::Notice,
        title: "国庆放假通知".into(),
        content: "10月1日至7日放假，请大家提前安排好工作。".into(),
        time: "2026-11-27 21:05:09".into(),
        ts: 1_795_784_709_000,
    }
}

vectors! {
    // 20888 ------------------------------------------------------------
    login_document_example: Login { user: user("12345678900"), password: "6512bd43d9caa6e02c990b0a82652dca".into() }
        => r#"{"user":"12345678900","password":"6512bd43d9caa6e02c990b0a82652dca"}"#,
        also [r#"{"user":12345678900,"password":"6512bd43d9caa6e02c990b0a82652dca"}"#];
    resume: Resume { user: user("12345678900"), token: TOKEN.into(), catch_up: false }
        => r#"{"user":"12345678900","token":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}"#;
    resume_catching_up: Resume { user: user("12345678900"), token: TOKEN.into(), catch_up: true }
        => r#"{"user":"12345678900","token":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","catch_up":true}"#;
    login_reply: LoginReply { state: State::SUCCESS, user: user("12345678900"), token: TOKEN.into(), name: "张三".into(), broadcaster: false }
        => r#"{"state":11,"user":"12345678900","token":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","name":"5byg5LiJ","broadcaster":false}"#;
    login_failed: ErrorReply::new(State::LOGIN_FAILED, "wrong account or password")
        => r#"{"state":12,"error":"wrong account or password"}"#;
    stream_ack: StreamAck { ack: Seq(57) } => r#"{"ack":57}"#, also [r#"{"ack":"57"}"#];
    logout: Logout { logout: true } => r#"{"logout":true}"#;
    heartbeat: Heartbeat { heartbeat: true } => r#"{"heartbeat":true}"#;
    push_message: Push::Message(Box::new(received_text()))
        => r#"{"from":"15228977313","to":"13800000001","type":0,"content":"57qm5ZCX","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1001","seq":57,"cid":"c-0001"}"#;
    push_broadcast: Push::Broadcast { broadcast: broadcast() }
        => r#"{"broadcast":{"id":"3","from":"13800000001","kind":0,"title":"5Zu95bqG5pS+5YGH6YCa55+l","content":"MTDmnIgx5pel6IezN+aXpeaUvuWBh++8jOivt+Wkp+WutuaPkOWJjeWuieaOkuWlveW3peS9nOOAgg==","time":"2026-11-27 21:05:09","ts":1795784709000}}"#;
    push_presence: Push::Presence { presence: PresenceChange { user: user("13800000002"), presence: Presence::Busy } }
        => r#"{"presence":{"user":"13800000002","presence":"busy"}}"#;
    push_signature: Push::Signature { signature: SignatureChange { user: user("12345678900"), signing: "今天天气好好~".into() } }
        => r#"{"signature":{"user":"12345678900","signing":"5LuK5aSp5aSp5rCU5aW95aW9fg=="}}"#;
    push_conversation_muted: Push::Conversation { conversation: ConversationMute { target: Peer::Group(gid(7)), muted: true } }
        => r#"{"conversation":{"target":"7","muted":true}}"#,
        also [r#"{"conversation":{"target":7,"muted":true}}"#];
    push_signed_out: Push::SignedOut { signed_out: "password changed".into() }
        => r#"{"signed_out":"password changed"}"#;

    // 21888 / 26888 ----------------------------------------------------
    send_text_document_example: SendText { quote: None, mentions: None, mention_all: false, from: user("15228977313"), to: Peer::Group(gid(1_231_241_243)), kind: MessageType::Text, content: "约吗".into(), cid: None }
        => r#"{"from":"15228977313","to":"1231241243","type":0,"content":"57qm5ZCX"}"#,
        also [r#"{"from":"15228977313","to":"1231241243","type":"0","content":"57qm5ZCX"}"#];
    send_text: SendText { quote: None, mentions: None, mention_all: false, from: user("15228977313"), to: Peer::User(user("13800000001")), kind: MessageType::Text, content: "周五下午三点开会 🐧".into(), cid: Some(cid("c-0002")) }
        => r#"{"from":"15228977313","to":"13800000001","type":0,"content":"5ZGo5LqU5LiL5Y2I5LiJ54K55byA5LyaIPCfkKc=","cid":"c-0002"}"#,
        also [r#"{"from":15228977313,"to":13800000001,"type":"0","content":"5ZGo5LqU5LiL5Y2I5LiJ54K55byA5LyaIPCfkKc=","cid":"c-0002"}"#];
    send_group_text: SendText { quote: None, mentions: None, mention_all: false, from: user("12345678900"), to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "约吗".into(), cid: Some(cid("c-0003")) }
        => r#"{"from":"12345678900","to":"7","type":10,"content":"57qm5ZCX","cid":"c-0003"}"#,
        also [r#"{"from":"12345678900","to":7,"type":"10","content":"57qm5ZCX","cid":"c-0003"}"#];
    send_text_quoting: SendText { quote: Some(MessageId(1001)), mentions: None, mention_all: false, from: user("13800000001"), to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "好的".into(), cid: Some(cid("c-0007")) }
        => r#"{"from":"13800000001","to":"7","type":10,"content":"5aW955qE","quote":"1001","cid":"c-0007"}"#,
        also [r#"{"from":"13800000001","to":"7","type":10,"content":"5aW955qE","quote":1001,"cid":"c-0007"}"#];
    received_text_quoting: Message { quote: Some(Quote { id: MessageId(1001), from: Sender::User(user("13800000002")), kind: MessageType::GroupText, content: Some("周五开会".into()), recalled: false }), seq: Some(Seq(62)), id: MessageId(1006), to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "好的".into(), from: Sender::User(user("13800000001")), cid: None, ..received_text() }
        => r#"{"from":"13800000001","to":"7","type":10,"content":"5aW955qE","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1006","seq":62,"quote":{"id":"1001","from":"13800000002","type":10,"content":"5ZGo5LqU5byA5Lya"}}"#;
    received_text_quoting_a_recalled_one: Message { quote: Some(Quote { id: MessageId(1001), from: Sender::User(user("13800000002")), kind: MessageType::Text, content: None, recalled: true }), seq: Some(Seq(62)), id: MessageId(1006), cid: None, ..received_text() }
        => r#"{"from":"15228977313","to":"13800000001","type":0,"content":"57qm5ZCX","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1006","seq":62,"quote":{"id":"1001","from":"13800000002","type":0,"recalled":true}}"#;
    received_recalled_original: Message { content: String::new(), recalled: Some(Recalled { by: user("15228977313"), ts: 1_795_784_761_000 }), ..received_text() }
        => r#"{"from":"15228977313","to":"13800000001","type":0,"content":"","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1001","seq":57,"cid":"c-0001","recalled":{"by":"15228977313","ts":1795784761000}}"#;

    // 27888 -------------------------------------------------------------
    recall_request: MessageAction::Recall(Recall { recall: MessageId(1001) })
        => r#"{"recall":"1001"}"#,
        also [r#"{"recall":1001}"#];
    forward_one: MessageAction::Forward(Forward { forward: MessageIds(vec![MessageId(1001)]), to: Peer::User(user("13800000003")), merge: false, cid: cid("c-0008") })
        => r#"{"forward":"1001","to":"13800000003","cid":"c-0008"}"#,
        also [r#"{"forward":1001,"to":"13800000003","merge":false,"cid":"c-0008"}"#, r#"{"forward":["1001"],"to":"13800000003","cid":"c-0008"}"#];
    forward_merged: MessageAction::Forward(Forward { forward: MessageIds(vec![MessageId(1001), MessageId(1002)]), to: Peer::Group(gid(7)), merge: true, cid: cid("c-0009") })
        => r#"{"forward":"1001,1002","to":"7","merge":true,"cid":"c-0009"}"#,
        also [r#"{"forward":[1001,"1002"],"to":7,"merge":true,"cid":"c-0009"}"#, r#"{"forward":"1001, 1002","to":"7","merge":true,"cid":"c-0009"}"#];
    chat_record: ChatRecord { source: Peer::User(user("13800000002")), items: vec![
            ChatRecordItem { from: user("13800000002"), kind: MessageType::Text, content: "周五开会".into(), ts: 1_795_784_709_000, time: "2026-11-27 21:05:09".into(), duration: None, name: None, size: None },
            ChatRecordItem { from: user("13800000001"), kind: MessageType::File, content: "ab.pdf".into(), ts: 1_795_784_719_000, time: "2026-11-27 21:05:19".into(), duration: None, name: Some("报告.pdf".into()), size: Some(2048) },
        ] }
        => r#"{"source":"13800000002","items":[{"from":"13800000002","type":0,"content":"5ZGo5LqU5byA5Lya","ts":1795784709000,"time":"2026-11-27 21:05:09"},{"from":"13800000001","type":5,"content":"YWIucGRm","ts":1795784719000,"time":"2026-11-27 21:05:19","name":"5oql5ZGKLnBkZg==","size":2048}]}"#;
    received_recall: Message { from: Sender::User(user("13800000002")), to: Peer::User(user("13800000001")), kind: MessageType::Recall, content: r#"{"id":"1001","by":"13800000002","sender":"13800000002"}"#.into(), time: "2026-11-27 21:06:01".into(), ts: 1_795_784_761_000, id: MessageId(1005), seq: Some(Seq(61)), cid: None, ..received_text() }
        => r#"{"from":"13800000002","to":"13800000001","type":4,"content":"eyJpZCI6IjEwMDEiLCJieSI6IjEzODAwMDAwMDAyIiwic2VuZGVyIjoiMTM4MDAwMDAwMDIifQ==","time":"2026-11-27 21:06:01","ts":1795784761000,"id":"1005","seq":61}"#;
    send_group_text_with_mentions: SendText { quote: None, mentions: Some(members(&["13800000002"])), mention_all: false, from: user("13800000001"), to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "@李娜 请看下".into(), cid: Some(cid("c-0010")) }
        => r#"{"from":"13800000001","to":"7","type":10,"content":"QOadjuWonCDor7fnnIvkuIs=","mentions":"13800000002","cid":"c-0010"}"#,
        also [r#"{"from":"13800000001","to":"7","type":10,"content":"QOadjuWonCDor7fnnIvkuIs=","mentions":["13800000002"],"mention_all":false,"cid":"c-0010"}"#];
    send_group_text_to_everyone: SendText { quote: None, mentions: None, mention_all: true, from: user("13800000001"), to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "@所有人 下午三点开会".into(), cid: Some(cid("c-0011")) }
        => r#"{"from":"13800000001","to":"7","type":10,"content":"QOaJgOacieS6uiDkuIvljYjkuInngrnlvIDkvJo=","mention_all":true,"cid":"c-0011"}"#;
    send_ack: SendAck { state: State::SUCCESS, cid: Some(cid("c-0002")), id: MessageId(1001), seq: Seq(58), time: "2026-11-27 21:05:09".into(), ts: 1_795_784_709_000, content: None }
        => r#"{"state":11,"cid":"c-0002","id":"1001","seq":58,"time":"2026-11-27 21:05:09","ts":1795784709000}"#;

    // 22888 / 23888 ----------------------------------------------------
    send_image: SendFile { from: user("15228977313"), to: Peer::User(user("13800000001")), kind: MessageType::Image, data: vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a], name: Some("photo.png".into()), duration: None, cid: Some(cid("c-0004")) }
        => r#"{"from":"15228977313","to":"13800000001","type":1,"data":"iVBORw0KGgo=","name":"cGhvdG8ucG5n","cid":"c-0004"}"#;
    send_group_voice: SendFile { from: user("12345678900"), to: Peer::Group(gid(7)), kind: MessageType::GroupVoice, data: vec![0x1a, 0x45, 0xdf, 0xa3], name: None, duration: Some(3), cid: Some(cid("c-0005")) }
        => r#"{"from":"12345678900","to":"7","type":12,"data":"GkXfow==","duration":3,"cid":"c-0005"}"#;
    send_file_ack: SendAck { state: State::SUCCESS, cid: Some(cid("c-0004")), id: MessageId(1002), seq: Seq(59), time: "2026-11-27 21:05:09".into(), ts: 1_795_784_709_000, content: Some("1002.png".into()) }
        => r#"{"state":11,"cid":"c-0004","id":"1002","seq":59,"time":"2026-11-27 21:05:09","ts":1795784709000,"content":"MTAwMi5wbmc="}"#;

    // 28888 files ------------------------------------------------------
    upload_start: Upload::Start { cid: cid("c-0011"), to: Peer::Group(gid(7)), name: "内容报告.pdf".into(), size: 52_428_800 }
        => r#"{"upload":"start","cid":"c-0011","to":"7","name":"5YaF5a655oql5ZGKLnBkZg==","size":52428800}"#,
        also [r#"{"size":52428800,"name":"5YaF5a655oql5ZGKLnBkZg==","to":7,"cid":"c-0011","upload":"start"}"#];
    upload_chunk: Upload::Chunk { cid: cid("c-0011"), offset: 1_048_576, data: b"%PDF-1.7\n".to_vec() }
        => r#"{"upload":"chunk","cid":"c-0011","offset":1048576,"data":"JVBERi0xLjcK"}"#;
    upload_send: Upload::Send { cid: cid("c-0011") } => r#"{"upload":"send","cid":"c-0011"}"#;
    upload_cancel: Upload::Cancel { cid: cid("c-0012") } => r#"{"upload":"cancel","cid":"c-0012"}"#;
    upload_offset: UploadOffset::stored(1_048_576) => r#"{"state":11,"offset":1048576}"#;
    upload_wrong_offset: UploadOffset { state: State::UPLOAD_OFFSET, error: Some("upload c-0011 holds 2097152 bytes; the chunk starts at 1048576".into()), offset: 2_097_152 }
        => r#"{"state":42,"error":"upload c-0011 holds 2097152 bytes; the chunk starts at 1048576","offset":2097152}"#;
    push_file: Push::Message(Box::new(Message { quote: None, mentions: None, mention_all: false, recalled: None,
            name: Some("内容报告.pdf".into()), size: Some(52_428_800),
            from: Sender::User(user("13800000001")), to: Peer::Group(gid(7)), kind: MessageType::GroupFile,
            content: "1011.pdf".into(), time: "2026-11-27 21:07:09".into(), ts: 1_795_784_829_000,
            id: MessageId(1011), seq: Some(Seq(62)), cid: Some(cid("c-0011")), duration: None }))
        => r#"{"from":"13800000001","to":"7","type":15,"content":"MTAxMS5wZGY=","time":"2026-11-27 21:07:09","ts":1795784829000,"id":"1011","seq":62,"cid":"c-0011","name":"5YaF5a655oql5ZGKLnBkZg==","size":52428800}"#;

    // 50888 ------------------------------------------------------------
    catch_up: CatchUp { since: Seq(56), limit: Some(100) } => r#"{"since":56,"limit":100}"#, also [r#"{"since":"56","limit":100}"#];
    catch_up_from_start: CatchUp { since: Seq(0), limit: None } => r#"{"since":0}"#, also [r#"{}"#];
    history: History { target: Peer::Group(gid(7)), before: Some(MessageId(1001)), limit: Some(50) }
        => r#"{"target":"7","before":"1001","limit":50}"#, also [r#"{"target":7,"before":1001,"limit":50}"#];
    history_newest: History { target: Peer::User(user("13800000001")), before: None, limit: None }
        => r#"{"target":"13800000001"}"#;
    message_page: MessagePage { state: State::SUCCESS, messages: vec![received_text()], more: false }
        => r#"{"state":11,"messages":[{"from":"15228977313","to":"13800000001","type":0,"content":"57qm5ZCX","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1001","seq":57,"cid":"c-0001"}],"more":false}"#;

    // 51888 ------------------------------------------------------------
    directory_query: DirectoryQuery { user: None } => r#"{}"#, also [r#"{"extra":"ignored"}"#];
    directory: Directory {
            state: State::SUCCESS,
            departments: BTreeMap::from([(DepartmentId(1), "研发部".into()), (DepartmentId(2), "市场部".into())]),
            jobs: BTreeMap::from([(JobId(1), "工程师".into()), (JobId(2), "经理".into())]),
            contacts: vec![Contact { name: "张三".into(), user: user("12345678900"), department: DepartmentId(1), job: JobId(2), signing: "今天天气好好~".into(), presence: Presence::Online }],
        }
        => r#"{"state":11,"departments":"{\"1\":\"56CU5Y+R6YOo\",\"2\":\"5biC5Zy66YOo\"}","jobs":"{\"1\":\"5bel56iL5biI\",\"2\":\"57uP55CG\"}","contacts":"[{\"name\":\"5byg5LiJ\",\"user\":\"12345678900\",\"department\":\"1\",\"job\":\"2\",\"signing\":\"5LuK5aSp5aSp5rCU5aW95aW9fg==\",\"presence\":\"online\"}]"}"#,
        also [r#"{"state":11,"departments":{"1":"56CU5Y+R6YOo","2":"5biC5Zy66YOo"},"jobs":{"1":"5bel56iL5biI","2":"57uP55CG"},"contacts":[{"name":"5byg5LiJ","user":"12345678900","department":1,"job":"2","signing":"5LuK5aSp5aSp5rCU5aW95aW9fg==","presence":"online"}]}"#];

    // 30888 / 31888 / 33888 / 52888 ------------------------------------
    password_update: PasswordUpdate { user: user("12345678900"), old: "6512bd43d9caa6e02c990b0a82652dca".into(), new: "e10adc3949ba59abbe56e057f20f883e".into() }
        => r#"{"user":"12345678900","old":"6512bd43d9caa6e02c990b0a82652dca","new":"e10adc3949ba59abbe56e057f20f883e"}"#;
    signature_update_document_example: SignatureUpdate { user: user("12345678900"), signing: "今天天气好好~".into() }
        => r#"{"user":"12345678900","signing":"5LuK5aSp5aSp5rCU5aW95aW9fg=="}"#;
    // 32888 ------------------------------------------------------------
    mute_conversation: ConversationMute { target: Peer::Group(gid(7)), muted: true }
        => r#"{"target":"7","muted":true}"#, also [r#"{"target":7,"muted":true}"#];
    unmute_conversation: ConversationMute { target: Peer::User(user("13800000002")), muted: false }
        => r#"{"target":"13800000002","muted":false}"#;
    muted_query: MutedQuery {} => r#"{}"#, also [r#"{"extra":"ignored"}"#];
    muted_list: MutedList { state: State::SUCCESS, muted: Conversations(vec![Peer::Group(gid(7)), Peer::User(user("13800000002"))]), receipts: Some(true) }
        => r#"{"state":11,"muted":"7,13800000002","receipts":true}"#, also [r#"{"state":11,"muted":"7, 13800000002,","receipts":true}"#];
    receipts_off: ReceiptsSetting { receipts: false } => r#"{"receipts":false}"#;
    // §17 history search ----------------------------------------------------
    search_all: Search { search: "周报".into(), target: None, before: None, limit: None }
        => r#"{"search":"5ZGo5oql"}"#;
    search_one_group: Search { search: "周报".into(), target: Some(Peer::Group(gid(7))), before: Some(MessageId(1042)), limit: Some(20) }
        => r#"{"search":"5ZGo5oql","target":"7","before":"1042","limit":20}"#, also [r#"{"search":"5ZGo5oql","target":7,"before":1042,"limit":20}"#];
    search_page: SearchPage { state: State::SUCCESS, messages: vec![Message { to: Peer::Group(gid(7)), kind: MessageType::GroupText, content: "请周五前交周报".into(), seq: None, cid: None, ..received_text() }], more: true }
        => r#"{"state":11,"messages":[{"from":"15228977313","to":"7","type":10,"content":"6K+35ZGo5LqU5YmN5Lqk5ZGo5oql","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1001"}],"more":true}"#;
    // §16 read receipts ---------------------------------------------------
    read_mark: ReadMark { read: MessageId(1001) } => r#"{"read":"1001"}"#, also [r#"{"read":1001}"#];
    watch_group: Watch { watch: Some(gid(7)) } => r#"{"watch":"7"}"#, also [r#"{"watch":7}"#];
    watch_nothing: Watch { watch: None } => r#"{"watch":null}"#;
    peer_read: PeerRead { target: Peer::User(user("13800000002")), by: user("13800000002"), id: Some(MessageId(1001)), private: false }
        => r#"{"target":"13800000002","by":"13800000002","id":"1001"}"#;
    peer_read_private: PeerRead { target: Peer::User(user("13800000002")), by: user("13800000002"), id: None, private: true }
        => r#"{"target":"13800000002","by":"13800000002","private":true}"#;
    reads_query: ReadsQuery { reads: 0 } => r#"{"reads":0}"#;
    reads_page: ReadsPage { state: State::SUCCESS, reads: vec![PeerRead { target: Peer::Group(gid(7)), by: user("13800000001"), id: Some(MessageId(1042)), private: false }], version: 57, more: false }
        => r#"{"state":11,"reads":[{"target":"7","by":"13800000001","id":"1042"}],"version":57,"more":false}"#;
    group_reads_full: GroupReads { target: gid(7), full: true, marks: vec![
            MemberRead { user: user("13800000001"), id: Some(MessageId(1042)), joined: None, left: None, private: false },
            MemberRead { user: user("13800000003"), id: None, joined: Some(MessageId(1001)), left: None, private: false },
            MemberRead { user: user("13800000004"), id: None, joined: None, left: Some(MessageId(1030)), private: true },
        ] }
        => r#"{"target":"7","full":true,"marks":[{"user":"13800000001","id":"1042"},{"user":"13800000003","joined":"1001"},{"user":"13800000004","left":"1030","private":true}]}"#;
    group_reads_delta: GroupReads { target: gid(7), full: false, marks: vec![MemberRead { user: user("13800000003"), id: Some(MessageId(1042)), joined: None, left: None, private: false }] }
        => r#"{"target":"7","marks":[{"user":"13800000003","id":"1042"}]}"#;
    ding: Ding { ding: MessageId(1042) } => r#"{"ding":"1042"}"#;
    ding_notice: DingNotice { target: Peer::Group(gid(7)), by: user("13800000001"), ts: 1795784709000, message: Quote { id: MessageId(1042), from: Sender::User(user("13800000001")), kind: MessageType::GroupText, content: Some("下午三点开会".into()), recalled: false } }
        => r#"{"target":"7","by":"13800000001","ts":1795784709000,"message":{"id":"1042","from":"13800000001","type":10,"content":"5LiL5Y2I5LiJ54K55byA5Lya"}}"#;
    muted_list_empty: MutedList { state: State::SUCCESS, muted: Conversations(vec![]), receipts: None }
        => r#"{"state":11,"muted":""}"#;
    presence_update: PresenceUpdate { user: user("12345678900"), presence: Presence::Away }
        => r#"{"user":"12345678900","presence":"away"}"#;
    signature_query: SignatureQuery { users: vec![user("12345678900"), user("13800000002")] }
        => r#"{"users":["12345678900","13800000002"]}"#, also [r#"{"users":[12345678900,"13800000002"]}"#];
    signatures: Signatures { state: State::SUCCESS, signatures: BTreeMap::from([(user("12345678900"), "今天天气好好~".into()), (user("13800000002"), String::new())]) }
        => r#"{"state":11,"signatures":{"12345678900":"5LuK5aSp5aSp5rCU5aW95aW9fg==","13800000002":""}}"#;
    done: Done::new() => r#"{"state":11}"#;
    wrong_password: ErrorReply::new(State::WRONG_PASSWORD, "the current password is wrong")
        => r#"{"state":34,"error":"the current password is wrong"}"#;

    // 53888 / 60888 / 61888 / 62888 ------------------------------------
    groups_query: GroupsQuery { user: Some(user("12345678900")), after: None, limit: None } => r#"{"user":"12345678900"}"#;
    groups_query_next_page: GroupsQuery { user: None, after: Some(gid(7)), limit: Some(50) } => r#"{"after":"7","limit":50}"#,
        also [r#"{"after":7,"limit":50}"#];
    groups: Groups { state: State::SUCCESS, groups: vec![group()], more: false, next: None }
        => r#"{"state":11,"groups":"[{\"gid\":\"7\",\"holder\":\"12345678903\",\"name\":\"6aG555uu57uE\",\"member\":\"12345678900,12345678909,12345678903\"}]"}"#,
        also [r#"{"state":11,"groups":"[{\"gid\":\"7\",\"holder\":\"12345678903\",\"name\":\"6aG555uu57uE\",\"member\":\"12345678900,12345678909,12345678903\"}]","more":false}"#];
    groups_with_more: Groups { state: State::SUCCESS, groups: vec![group()], more: true, next: Some(gid(7)) }
        => r#"{"state":11,"groups":"[{\"gid\":\"7\",\"holder\":\"12345678903\",\"name\":\"6aG555uu57uE\",\"member\":\"12345678900,12345678909,12345678903\"}]","more":true,"next":"7"}"#;
    group_create_document_example: GroupCreate { holder: user("12345678903"), name: "项目组".into(), member: members(&["12345678900", "12345678909", "12345678903"]) }
        => r#"{"holder":"12345678903","name":"6aG555uu57uE","member":"12345678900,12345678909,12345678903"}"#,
        also [r#"{"holder":"12345678903","name":"6aG555uu57uE","member":["12345678900","12345678909","12345678903"]}"#];
    group_created: GroupCreated { state: State::SUCCESS, gid: gid(7) } => r#"{"state":11,"gid":"7"}"#;
    group_created_notice: Push::Message(Box::new(Message { quote: None, mentions: None, mention_all: false, recalled: None, name: None, size: None,
            from: Sender::System,
            to: Peer::Group(gid(7)),
            kind: MessageType::GroupCreated,
            content: r#"{"holder":"12345678903","name":"6aG555uu57uE","member":"12345678900,12345678909,12345678903"}"#.into(),
            time: "2026-11-27 21:05:09".into(),
            ts: 1_795_784_709_000,
            id: MessageId(1003),
            seq: Some(Seq(60)),
            cid: None,
            duration: None,
        }))
        => r#"{"from":"0","to":"7","type":19,"content":"eyJob2xkZXIiOiIxMjM0NTY3ODkwMyIsIm5hbWUiOiI2YUc1NTV1dTU3dUUiLCJtZW1iZXIiOiIxMjM0NTY3ODkwMCwxMjM0NTY3ODkwOSwxMjM0NTY3ODkwMyJ9","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1003","seq":60}"#,
        also [r#"{"from":0,"to":"7","type":"19","content":"eyJob2xkZXIiOiIxMjM0NTY3ODkwMyIsIm5hbWUiOiI2YUc1NTV1dTU3dUUiLCJtZW1iZXIiOiIxMjM0NTY3ODkwMCwxMjM0NTY3ODkwOSwxMjM0NTY3ODkwMyJ9","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1003","seq":60}"#];
    group_rename: GroupRename { gid: gid(7), name: "项目组（新）".into() } => r#"{"gid":"7","name":"6aG555uu57uE77yI5paw77yJ"}"#;
    group_add_members: GroupMembersChange { gid: gid(7), action: MembersAction::Add, member: members(&["13800000002"]) }
        => r#"{"gid":"7","action":"add","member":"13800000002"}"#;
    group_remove_members: GroupMembersChange { gid: gid(7), action: MembersAction::Remove, member: members(&["12345678909"]) }
        => r#"{"gid":"7","action":"remove","member":"12345678909"}"#;
    group_leave: GroupMembersChange { gid: gid(7), action: MembersAction::Leave, member: Members::default() }
        => r#"{"gid":"7","action":"leave","member":""}"#, also [r#"{"gid":"7","action":"leave"}"#];
    group_updated: GroupUpdated { state: State::SUCCESS, group: group() }
        => r#"{"state":11,"group":{"gid":"7","holder":"12345678903","name":"6aG555uu57uE","member":"12345678900,12345678909,12345678903"}}"#;
    not_a_member: ErrorReply::new(State::NOT_A_MEMBER, "13800000002 is not a member of group 7")
        => r#"{"state":33,"error":"13800000002 is not a member of group 7"}"#;

    // 24888 meetings ---------------------------------------------------
    meeting_start: MeetingRequest::Start(gid(7)) => r#"{"op":"meeting_start","gid":"7"}"#,
        also [r#"{"op":"meeting_start","gid":7}"#];
    meeting_start_reply: MeetingStartReply { state: State::SUCCESS, meeting: meeting() }
        => r#"{"state":11,"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9"}"#;
    meeting_join: MeetingRequest::Join { meeting: meeting(), sdp: "v=0\r\n".into(), mic: true, camera: false }
        => r#"{"op":"meeting_join","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","sdp":"v=0\r\n","mic":true,"camera":false}"#,
        also [r#"{"camera":false,"mic":true,"sdp":"v=0\r\n","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","op":"meeting_join","extra":1}"#];
    meeting_join_reply: MeetingJoinReply { state: State::SUCCESS, sdp: "v=0\r\n".into(), participants: vec![participant("12345678903", true, true), participant("12345678900", true, false)] }
        => r#"{"state":11,"sdp":"v=0\r\n","participants":[{"user":"12345678903","mic":true,"camera":true},{"user":"12345678900","mic":true,"camera":false}]}"#,
        also [r#"{"state":11,"sdp":"v=0\r\n","participants":[{"user":12345678903,"mic":true,"camera":true},{"user":"12345678900","mic":true,"camera":false}]}"#];
    meeting_answer: MeetingRequest::Answer { meeting: meeting(), sdp: "v=0\r\n".into() }
        => r#"{"op":"meeting_answer","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","sdp":"v=0\r\n"}"#;
    meeting_media: MeetingRequest::Media { meeting: meeting(), mic: false, camera: true }
        => r#"{"op":"meeting_media","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","mic":false,"camera":true}"#;
    meeting_leave: MeetingRequest::Leave(meeting())
        => r#"{"op":"meeting_leave","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9"}"#;
    meeting_end: MeetingRequest::End(meeting())
        => r#"{"op":"meeting_end","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9"}"#;
    meeting_offer: meeting_signal(MeetingSignalEvent::Offer { sdp: "v=0\r\n".into(), participants: vec![participant("12345678903", true, true), participant("12345678900", true, false)] })
        => r#"{"signal":{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","event":"offer","sdp":"v=0\r\n","participants":[{"user":"12345678903","mic":true,"camera":true},{"user":"12345678900","mic":true,"camera":false}]}}"#;
    meeting_participants: meeting_signal(MeetingSignalEvent::Participants(vec![participant("12345678903", false, true)]))
        => r#"{"signal":{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","event":"participants","participants":[{"user":"12345678903","mic":false,"camera":true}]}}"#;
    meeting_ended_signal: meeting_signal(MeetingSignalEvent::Ended(MeetingEndReason::JoinedElsewhere))
        => r#"{"signal":{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","event":"ended","reason":"joined_elsewhere"}}"#;
    push_meeting: Push::Meeting { meeting: Box::new(Meeting { gid: gid(7), meeting: meeting(), started_by: user("12345678903"), started_at: 1_795_784_709_000, participants: vec![user("12345678903"), user("12345678900")] }) }
        => r#"{"meeting":{"gid":"7","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","started_by":"12345678903","started_at":1795784709000,"participants":["12345678903","12345678900"]}}"#;
    push_meeting_ended: Push::MeetingEnded { meeting_ended: MeetingEnded { gid: gid(7), meeting: meeting(), reason: MeetingEndReason::Removed } }
        => r#"{"meeting_ended":{"gid":"7","meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","reason":"removed"}}"#;
    meeting_started_notice: MeetingStartedNotice { meeting: meeting(), by: user("12345678903") }
        => r#"{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","by":"12345678903"}"#;
    meeting_ended_notice: MeetingEndedNotice { meeting: meeting(), by: None, duration: 723, participants: vec![user("12345678903"), user("12345678900")] }
        => r#"{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","duration":723,"participants":["12345678903","12345678900"]}"#;
    meeting_started_message: group_notice(MessageType::MeetingStarted, r#"{"meeting":"meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9","by":"12345678903"}"#, 1_795_784_709_000, 1010, 61)
        => r#"{"from":"0","to":"7","type":24,"content":"eyJtZWV0aW5nIjoibWVldC05YTFiMmMzZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOSIsImJ5IjoiMTIzNDU2Nzg5MDMifQ==","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1010","seq":61}"#,
        also [r#"{"from":0,"to":7,"type":"24","content":"eyJtZWV0aW5nIjoibWVldC05YTFiMmMzZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOSIsImJ5IjoiMTIzNDU2Nzg5MDMifQ==","time":"2026-11-27 21:05:09","ts":1795784709000,"id":1010,"seq":61}"#];
    meeting_full: ErrorReply::new(State::MEETING_FULL, "meeting meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9 has 16 participants; a meeting takes at most 16")
        => r#"{"state":38,"error":"meeting meet-9a1b2c3d4e5f60718293a4b5c6d7e8f9 has 16 participants; a meeting takes at most 16"}"#;

    // 25888 / 55888 ----------------------------------------------------
    send_broadcast: SendBroadcast { from: user("13800000001"), kind: BroadcastKind::Notice, title: "国庆放假通知".into(), content: "10月1日至7日放假，请大家提前安排好工作。".into(), cid: Some(cid("b-0001")) }
        => r#"{"from":"13800000001","kind":0,"title":"5Zu95bqG5pS+5YGH6YCa55+l","content":"MTDmnIgx5pel6IezN+aXpeaUvuWBh++8jOivt+Wkp+WutuaPkOWJjeWuieaOkuWlveW3peS9nOOAgg==","cid":"b-0001"}"#;
    broadcast_ack: BroadcastAck { state: State::SUCCESS, cid: Some(cid("b-0001")), broadcast: broadcast() }
        => r#"{"state":11,"cid":"b-0001","broadcast":{"id":"3","from":"13800000001","kind":0,"title":"5Zu95bqG5pS+5YGH6YCa55+l","content":"MTDmnIgx5pel6IezN+aXpeaUvuWBh++8jOivt+Wkp+WutuaPkOWJjeWuieaOkuWlveW3peS9nOOAgg==","time":"2026-11-27 21:05:09","ts":1795784709000}}"#;
    broadcast_query: BroadcastQuery { since: Some(BroadcastId(2)), limit: None } => r#"{"since":"2"}"#, also [r#"{"since":2}"#];
    broadcast_page: BroadcastPage { state: State::SUCCESS, broadcasts: vec![broadcast()], more: true }
        => r#"{"state":11,"broadcasts":[{"id":"3","from":"13800000001","kind":0,"title":"5Zu95bqG5pS+5YGH6YCa55+l","content":"MTDmnIgx5pel6IezN+aXpeaUvuWBh++8jOivt+Wkp+WutuaPkOWJjeWuieaOkuWlveW3peS9nOOAgg==","time":"2026-11-27 21:05:09","ts":1795784709000}],"more":true}"#;
}

#[test]
fn group_created_notice_content_is_the_documents_shape() {
    let push: Push = serde_json::from_str(
        r#"{"from":"0","to":"7","type":19,"content":"eyJob2xkZXIiOiIxMjM0NTY3ODkwMyIsIm5hbWUiOiI2YUc1NTV1dTU3dUUiLCJtZW1iZXIiOiIxMjM0NTY3ODkwMCwxMjM0NTY3ODkwOSwxMjM0NTY3ODkwMyJ9","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1003","seq":60}"#,
    )
    .expect("decodes");
    let Push::Message(message) = push else {
        panic!("a type-19 notice is a message");
    };
    let notice: GroupCreatedNotice = message.notice().expect("notice content");
    assert_eq!(
        notice,
        GroupCreatedNotice {
            holder: user("12345678903"),
            name: "项目组".into(),
            member: members(&["12345678900", "12345678909", "12345678903"]),
        }
    );
}

#[test]
fn meeting_notices_are_group_notices_with_their_documented_content() {
    let ended = r#"{"from":"0","to":"7","type":25,"content":"eyJtZWV0aW5nIjoibWVldC05YTFiMmMzZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOSIsImJ5IjoiMTIzNDU2Nzg5MDMiLCJkdXJhdGlvbiI6NzIzLCJwYXJ0aWNpcGFudHMiOlsiMTIzNDU2Nzg5MDMiLCIxMjM0NTY3ODkwMCIsIjEyMzQ1Njc4OTA5Il19","time":"2026-11-27 21:17:12","ts":1795785432000,"id":"1024","seq":70}"#;
    let Push::Message(message) = serde_json::from_str(ended).expect("decodes") else {
        panic!("a type-25 notice is a message");
    };
    assert_eq!(message.kind, MessageType::MeetingEnded);
    assert!(message.kind.is_notice() && message.kind.is_group());
    assert!(
        !message.kind.changes_group(),
        "a meeting's notice does not change the group"
    );
    assert!(
        !message.calls_for_reply(),
        "notices count unread for no one"
    );
    let notice: MeetingEndedNotice = message.notice().expect("notice content");
    assert_eq!(
        notice,
        MeetingEndedNotice {
            meeting: meeting(),
            by: Some(user("12345678903")),
            duration: 723,
            participants: vec![
                user("12345678903"),
                user("12345678900"),
                user("12345678909")
            ],
        }
    );
    assert_eq!(MessageType::from_code(24), MessageType::MeetingStarted);
    assert_eq!(MessageType::MeetingStarted.code(), 24);
    assert!(MessageType::GroupMemberLeft.changes_group());
}

#[test]
fn unknown_message_types_survive_a_round_trip() {
    let json = r#"{"from":"15228977313","to":"13800000001","type":42,"content":"57qm5ZCX","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1001"}"#;
    let message: Message = serde_json::from_str(json).expect("a newer type still decodes");
    assert_eq!(message.kind, MessageType::Unknown(42));
    assert_eq!(serde_json::to_string(&message).expect("encodes"), json);
}

#[test]
fn upload_requests_refuse_what_breaks_the_limits() {
    let refused = |json: &str| {
        let upload: Upload = serde_json::from_str(json).expect("decodes");
        upload.validate().expect_err(json).to_string()
    };
    let big = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        vec![0u8; limits::MAX_UPLOAD_CHUNK_BYTES + 1],
    );
    let err = refused(&format!(
        r#"{{"upload":"chunk","cid":"c-1","offset":0,"data":"{big}"}}"#
    ));
    assert!(err.contains("expected at most 1048576"), "{err}");
    let err = refused(r#"{"upload":"chunk","cid":"c-1","offset":0,"data":""}"#);
    assert!(err.contains("data is empty"), "{err}");
    let err = refused(r#"{"upload":"start","cid":"c-1","to":"7","name":"YQ==","size":0}"#);
    assert!(err.contains("size is 0"), "{err}");
    let err = refused(r#"{"upload":"start","cid":"c-1","to":"7","name":"","size":5}"#);
    assert!(err.contains("name is empty"), "{err}");
    assert!(serde_json::from_str::<Upload>(r#"{"upload":"resume","cid":"c-1"}"#).is_err());
}
