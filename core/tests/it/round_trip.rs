//! Property tests: every packet survives encode → decode, in both encodings,
//! for arbitrary content — Chinese, emoji, control characters, empty strings
//! and text at the maximum length.

use penpen_core::packets::Packet;
use penpen_core::packets::broadcast::*;
use penpen_core::packets::directory::*;
use penpen_core::packets::groups::*;
use penpen_core::packets::login::*;
use penpen_core::packets::meeting::*;
use penpen_core::packets::message::*;
use penpen_core::packets::profile::*;
use penpen_core::packets::sync::*;
use penpen_core::*;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use std::fmt::Debug;

fn user() -> impl Strategy<Value = UserId> {
    (1u64..=99_999_999_999).prop_map(|n| UserId::parse(&format!("{n:011}")).expect("11 digits"))
}
fn gid() -> impl Strategy<Value = GroupId> {
    (1u64..=GroupId::MAX).prop_map(|n| GroupId::new(n).expect("in range"))
}
fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![user().prop_map(Peer::User), gid().prop_map(Peer::Group)]
}
fn cid() -> impl Strategy<Value = ClientMsgId> {
    let alphabet: Vec<char> = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(['-', '_'])
        .collect();
    vec(proptest::sample::select(alphabet), 1..=64).prop_map(|chars| {
        ClientMsgId::parse(&chars.into_iter().collect::<String>()).expect("valid")
    })
}
/// Text of 0 to `max` characters, biased towards Chinese and emoji, sometimes exactly `max`.
fn text(max: usize) -> impl Strategy<Value = String> {
    let character = prop_oneof![
        3 => proptest::char::range('\u{4e00}', '\u{9fa5}'),
        2 => proptest::char::range('\u{1f300}', '\u{1f64f}'),
        2 => proptest::char::range(' ', '~'),
        1 => any::<char>(),
    ];
    prop_oneof![
        4 => vec(character.clone(), 0..=max.min(40)),
        1 => vec(character, max..=max),
    ]
    .prop_map(|chars| chars.into_iter().collect())
}
fn non_empty(max: usize) -> impl Strategy<Value = String> {
    text(max).prop_filter("not blank", |t| !t.trim().is_empty())
}
fn digest() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| digest::password_digest(&s))
}
fn members() -> impl Strategy<Value = Members> {
    vec(user(), 1..20).prop_map(Members)
}
fn time() -> impl Strategy<Value = (String, i64)> {
    (0i64..4_102_444_800_000).prop_map(|ts| (time::format_time(ts, 480), ts))
}
fn message() -> impl Strategy<Value = Message> {
    (
        prop_oneof![Just(Sender::System), user().prop_map(Sender::User)],
        peer(),
        any::<u16>().prop_map(MessageType::from_code),
        text(limits::MAX_TEXT_CHARS),
        time(),
        (1u64..u64::MAX / 2, proptest::option::of(0u64..u64::MAX / 2)),
        proptest::option::of(cid()),
        proptest::option::of(1u32..=60),
    )
        .prop_map(
            |(from, to, kind, content, (time, ts), (id, seq), cid, duration)| Message {
                quote: None,
                mentions: None,
                mention_all: false,
                recalled: None,
                name: None,
                size: None,
                from,
                to,
                kind,
                content,
                time,
                ts,
                id: MessageId(id),
                seq: seq.map(Seq),
                cid,
                duration,
            },
        )
}
fn broadcast() -> impl Strategy<Value = Broadcast> {
    (
        1u64..u64::MAX / 2,
        user(),
        prop_oneof![
            Just(BroadcastKind::Notice),
            Just(BroadcastKind::News),
            Just(BroadcastKind::Announcement)
        ],
        non_empty(limits::MAX_BROADCAST_TITLE_CHARS),
        non_empty(limits::MAX_BROADCAST_CHARS),
        time(),
    )
        .prop_map(|(id, from, kind, title, content, (time, ts))| Broadcast {
            id: BroadcastId(id),
            from,
            kind,
            title,
            content,
            time,
            ts,
        })
}

fn meeting_id() -> impl Strategy<Value = MeetingId> {
    cid().prop_map(|cid| MeetingId::parse(&cid.to_string()).expect("a cid's characters"))
}
/// A session description: any text of 1 byte to the limit, line breaks and
/// quotes included (they travel escaped).
fn sdp() -> impl Strategy<Value = String> {
    prop_oneof![
        "v=0\r\no=- [0-9]{1,20} 2 IN IP4 127\\.0\\.0\\.1\r\n[ -~\r\n\"]{0,200}",
        Just("a".repeat(packets::call::MAX_SDP_BYTES)),
    ]
}
fn participant() -> impl Strategy<Value = Participant> {
    (user(), any::<bool>(), any::<bool>()).prop_map(|(user, mic, camera)| Participant {
        user,
        mic,
        camera,
    })
}

/// The property: through both encodings, the packet comes back equal.
fn survives<T: Packet + PartialEq + Debug>(packet: T) -> Result<(), TestCaseError> {
    for encoding in [Encoding::Base64, Encoding::Plain] {
        let frame =
            Frame::encode(encoding, &packet).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let decoded = Frame::decode(&frame)
            .and_then(|f| f.packet::<T>())
            .map_err(|e| TestCaseError::fail(format!("{encoding}: {e}")))?;
        prop_assert_eq!(&decoded, &packet);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn login(user in user(), password in digest()) {
        survives(Login { user, password })?;
    }

    #[test]
    fn login_reply(user in user(), token in "[0-9a-f]{64}", name in text(limits::MAX_PERSON_NAME_CHARS), broadcaster in any::<bool>()) {
        survives(LoginReply { state: State::SUCCESS, user, token, name, broadcaster })?;
    }

    #[test]
    fn resume_ack_logout(user in user(), token in "[0-9a-f]{64}", catch_up in any::<bool>(), ack in any::<u64>()) {
        survives(Resume { user, token, catch_up })?;
        survives(StreamAck { ack: Seq(ack) })?;
        survives(Logout { logout: true })?;
    }

    #[test]
    fn send_text(from in user(), to in peer(), group in any::<bool>(), content in non_empty(limits::MAX_TEXT_CHARS), cid in proptest::option::of(cid())) {
        let kind = if group { MessageType::GroupText } else { MessageType::Text };
        survives(SendText { quote: None, mentions: None, mention_all: false, from, to, kind, content, cid })?;
    }

    #[test]
    fn send_file(from in user(), to in peer(), data in vec(any::<u8>(), 1..4096), name in proptest::option::of(text(limits::MAX_FILE_NAME_CHARS)), voice in proptest::option::of(1u32..=60), cid in proptest::option::of(cid())) {
        let kind = if voice.is_some() { MessageType::Voice } else { MessageType::Image };
        survives(SendFile { from, to, kind, data, name, duration: voice, cid })?;
    }

    #[test]
    fn send_ack(cid in proptest::option::of(cid()), id in 1u64..u64::MAX / 2, seq in any::<u64>(), (time, ts) in time(), content in proptest::option::of(text(64))) {
        survives(SendAck { state: State::SUCCESS, cid, id: MessageId(id), seq: Seq(seq), time, ts, content })?;
    }

    #[test]
    fn pushes(message in message(), broadcast in broadcast(), user in user(), signing in text(limits::MAX_SIGNATURE_CHARS), reason in text(40)) {
        survives(Push::Message(Box::new(message.clone())))?;
        survives(Push::Broadcast { broadcast })?;
        survives(Push::Presence { presence: PresenceChange { user: user.clone(), presence: Presence::Away } })?;
        survives(Push::Signature { signature: SignatureChange { user, signing } })?;
        survives(Push::SignedOut { signed_out: reason })?;
    }

    #[test]
    fn meetings(gid in gid(), meeting in meeting_id(), sdp in sdp(), mic in any::<bool>(), camera in any::<bool>(), participants in vec(participant(), 0..=MAX_PARTICIPANTS), users in vec(user(), 0..=MAX_PARTICIPANTS), at in any::<i64>(), duration in any::<u32>(), by in proptest::option::of(user())) {
        survives(MeetingRequest::Start(gid))?;
        survives(MeetingRequest::Join { meeting: meeting.clone(), sdp: sdp.clone(), mic, camera })?;
        survives(MeetingRequest::Answer { meeting: meeting.clone(), sdp: sdp.clone() })?;
        survives(MeetingRequest::Media { meeting: meeting.clone(), mic, camera })?;
        survives(MeetingRequest::Leave(meeting.clone()))?;
        survives(MeetingRequest::End(meeting.clone()))?;
        survives(MeetingStartReply { state: State::SUCCESS, meeting: meeting.clone() })?;
        survives(MeetingJoinReply { state: State::SUCCESS, sdp: sdp.clone(), participants: participants.clone() })?;
        for event in [
            MeetingSignalEvent::Offer { sdp, participants: participants.clone() },
            MeetingSignalEvent::Participants(participants),
            MeetingSignalEvent::Ended(MeetingEndReason::Lost),
        ] {
            survives(MeetingSignal { signal: MeetingSignalBody { meeting: meeting.clone(), event } })?;
        }
        let started_by = users.first().cloned().unwrap_or_else(|| UserId::parse("13800000001").expect("user"));
        survives(Push::Meeting { meeting: Box::new(Meeting { gid, meeting: meeting.clone(), started_by: started_by.clone(), started_at: at, participants: users.clone() }) })?;
        survives(Push::MeetingEnded { meeting_ended: MeetingEnded { gid, meeting: meeting.clone(), reason: MeetingEndReason::Empty } })?;
        survives(MeetingStartedNotice { meeting: meeting.clone(), by: started_by })?;
        survives(MeetingEndedNotice { meeting, by, duration, participants: users })?;
    }

    #[test]
    fn message_sync(since in any::<u64>(), limit in proptest::option::of(1u32..=limits::MAX_PAGE), target in peer(), before in proptest::option::of(1u64..u64::MAX / 2), messages in vec(message(), 0..5), more in any::<bool>()) {
        survives(CatchUp { since: Seq(since), limit })?;
        survives(History { target, before: before.map(MessageId), limit })?;
        survives(MessagePage { state: State::SUCCESS, messages, more })?;
    }

    #[test]
    fn directory(
        departments in btree_map(1u64..1000, text(limits::MAX_DIRECTORY_NAME_CHARS), 0..8),
        jobs in btree_map(1u64..1000, text(limits::MAX_DIRECTORY_NAME_CHARS), 0..8),
        people in vec((text(limits::MAX_PERSON_NAME_CHARS), user(), 1u64..1000, 1u64..1000, text(limits::MAX_SIGNATURE_CHARS)), 0..8),
    ) {
        survives(DirectoryQuery { user: None })?;
        survives(Directory {
            state: State::SUCCESS,
            departments: departments.into_iter().map(|(k, v)| (DepartmentId(k), v)).collect(),
            jobs: jobs.into_iter().map(|(k, v)| (JobId(k), v)).collect(),
            contacts: people.into_iter().map(|(name, user, department, job, signing)| Contact {
                name, user, department: DepartmentId(department), job: JobId(job), signing, presence: Presence::Offline,
            }).collect(),
        })?;
    }

    #[test]
    fn profile(user in user(), old in digest(), new in digest(), signing in text(limits::MAX_SIGNATURE_CHARS), users in vec(user(), 0..20), signatures in btree_map(user(), text(limits::MAX_SIGNATURE_CHARS), 0..10)) {
        survives(PasswordUpdate { user: user.clone(), old, new })?;
        survives(SignatureUpdate { user: user.clone(), signing })?;
        survives(PresenceUpdate { user, presence: Presence::Busy })?;
        survives(SignatureQuery { users })?;
        survives(Signatures { state: State::SUCCESS, signatures })?;
    }

    #[test]
    fn groups(gid in gid(), holder in user(), name in non_empty(limits::MAX_GROUP_NAME_CHARS), member in members()) {
        let group = Group { gid, holder: holder.clone(), name: name.clone(), member: member.clone() };
        survives(GroupsQuery { user: Some(holder.clone()), after: Some(group.gid), limit: Some(3) })?;
        survives(Groups { state: State::SUCCESS, groups: vec![group.clone()], more: true, next: Some(group.gid) })?;
        survives(GroupCreate { holder, name: name.clone(), member: member.clone() })?;
        survives(GroupCreated { state: State::SUCCESS, gid })?;
        survives(GroupRename { gid, name })?;
        survives(GroupMembersChange { gid, action: MembersAction::Add, member: member.clone() })?;
        survives(GroupMembersChange { gid, action: MembersAction::Remove, member })?;
        survives(GroupUpdated { state: State::SUCCESS, group })?;
    }

    #[test]
    fn broadcasts(broadcast in broadcast(), cid in proptest::option::of(cid()), since in proptest::option::of(1u64..u64::MAX / 2), more in any::<bool>()) {
        survives(SendBroadcast { from: broadcast.from.clone(), kind: broadcast.kind, title: broadcast.title.clone(), content: broadcast.content.clone(), cid: cid.clone() })?;
        survives(BroadcastAck { state: State::SUCCESS, cid, broadcast: broadcast.clone() })?;
        survives(BroadcastQuery { since: since.map(BroadcastId), limit: None })?;
        survives(BroadcastPage { state: State::SUCCESS, broadcasts: vec![broadcast], more })?;
    }

    #[test]
    fn replies(state in any::<u16>(), error in text(200)) {
        survives(ErrorReply::new(State(state), error))?;
        survives(packets::Done::new())?;
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Frame::decode(&text);
    }

    #[test]
    fn decoding_arbitrary_envelopes_never_panics(head in any::<i64>(), body in any::<String>(), tail in any::<String>()) {
        let text = serde_json::json!({"head": head, "body": body, "tail": tail}).to_string();
        let _ = Frame::decode(&text);
    }
}
