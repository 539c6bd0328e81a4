//! The engine's operations (signature, password, groups), presence and the
//! directory's live updates, driven frame by frame: each test plays the
//! server's part by hand, so it can answer, refuse or fall silent exactly
//! where it wants to.

use penpen_core::cache::{AccountMeta, Snapshot};
use penpen_core::packets::Done;
use penpen_core::packets::Packet;
use penpen_core::packets::broadcast::{
    Broadcast, BroadcastAck, BroadcastKind, BroadcastPage, BroadcastQuery, SendBroadcast,
};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::groups::{
    Group, GroupCreate, GroupCreated, GroupMembersChange, GroupRename, GroupUpdated, Groups,
    Members, MembersAction,
};
use penpen_core::packets::login::{LoginReply, PresenceChange, Push, Resume, SignatureChange};
use penpen_core::packets::message::{
    GroupMembersNotice, GroupRenamedNotice, Message, MessageType, SendAck, SendFile, Sender,
};
use penpen_core::packets::profile::{
    PasswordUpdate, Presence, PresenceUpdate, SignatureQuery, SignatureUpdate, Signatures,
};
use penpen_core::packets::sync::MessagePage;
use penpen_core::sync::{
    Action, Credentials, Engine, Event, FileKind, Operation, OperationError, OperationId, Outcome,
    REQUEST_TIMEOUT_MS, SendError,
};
use penpen_core::{
    BroadcastId, DepartmentId, Encoding, ErrorReply, Frame, JobId, MessageId, Peer, Seq, Service,
    State,
};
use std::collections::BTreeMap;

use penpen_core::testing::{gid, group, user};

fn frame<T: serde::Serialize>(packet: &T) -> String {
    Frame::encode(Encoding::Base64, packet).expect("encode")
}

fn contact(n: u64, signing: &str) -> Contact {
    Contact {
        name: format!("用户{n}"),
        user: user(n),
        department: DepartmentId(1),
        job: JobId(1),
        signing: signing.into(),
        presence: Presence::Online,
    }
}

fn broadcast(id: u64, from: u64, title: &str) -> Broadcast {
    Broadcast {
        id: BroadcastId(id),
        from: user(from),
        kind: BroadcastKind::Notice,
        title: title.into(),
        content: "正文".into(),
        time: "2026-11-26 09:00:00".into(),
        ts: 1_795_000_000_000 + id as i64,
    }
}

/// A message from user 2, pushed on the stream as the `seq`-th for user 1.
fn pushed(to: Peer, kind: MessageType, content: String, seq: u64) -> Push {
    Push::Message(Box::new(Message {
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
        from: Sender::User(user(2)),
        to,
        kind,
        content,
        time: "2026-11-26 12:00:00".into(),
        ts: 1,
        id: MessageId(100 + seq),
        seq: Some(Seq(seq)),
        cid: None,
        duration: None,
    }))
}

/// One engine and what it did, with the server's part played by the test.
struct Harness {
    engine: Engine,
    now: i64,
    /// Frames sent, per service, not yet looked at.
    sent: BTreeMap<Service, Vec<String>>,
    events: Vec<Event>,
    open: Vec<Service>,
}

impl Harness {
    /// Logged in as user 1, with a directory of users 1–3, one group and
    /// one broadcast.
    fn live() -> Harness {
        Harness::live_with(vec![broadcast(1, 2, "国庆放假通知")])
    }

    /// Logged in as user 1; the first broadcast sync brings `broadcasts`.
    fn live_with(broadcasts: Vec<Broadcast>) -> Harness {
        let snapshot = Snapshot {
            meta: Some(AccountMeta::new(user(1), "用户1".into(), false)),
            directory: Some(Directory {
                state: State::SUCCESS,
                departments: BTreeMap::new(),
                jobs: BTreeMap::new(),
                contacts: vec![contact(1, ""), contact(2, "旧签名"), contact(3, "")],
            }),
            groups: Some(vec![group(7, "项目组", &[1, 2, 3])]),
            ..Snapshot::default()
        };
        let credentials = Credentials::Token {
            user: user(1),
            token: "t".into(),
        };
        let mut harness = Harness {
            engine: Engine::new(credentials, snapshot, 7),
            now: 1_000,
            sent: BTreeMap::new(),
            events: Vec::new(),
            open: Vec::new(),
        };
        harness.engine.handle_timeout(harness.now);
        harness.pump();
        harness.logged_in();
        harness.pump();
        // Answer the login's own requests, so the sockets are idle.
        harness.answer(
            Service::SyncMessages,
            &MessagePage {
                state: State::SUCCESS,
                messages: Vec::new(),
                more: false,
            },
        );
        harness.answer(
            Service::SyncContacts,
            &harness.engine.directory().expect("directory").clone(),
        );
        harness.answer(
            Service::SyncGroups,
            &Groups {
                state: State::SUCCESS,
                groups: vec![group(7, "项目组", &[1, 2, 3])],
                more: false,
                next: None,
            },
        );
        harness.answer(
            Service::SyncBroadcasts,
            &BroadcastPage {
                state: State::SUCCESS,
                broadcasts,
                more: false,
            },
        );
        harness.answer(
            Service::ConversationSettings,
            &penpen_core::packets::settings::MutedList {
                state: State::SUCCESS,
                muted: Default::default(),
                receipts: None,
            },
        );
        harness.events.clear();
        harness.sent.clear();
        harness
    }

    /// The stream opens and the server accepts the token.
    fn logged_in(&mut self) {
        self.engine.opened(Service::Login, self.now);
        self.pump();
        self.take(Service::Login);
        self.engine.received(
            Service::Login,
            &frame(&LoginReply {
                state: State::SUCCESS,
                user: user(1),
                token: "t".into(),
                name: "用户1".into(),
                broadcaster: false,
            }),
            self.now,
        );
        self.pump();
    }

    /// Carries out the engine's actions: sockets open at once unless the
    /// test closed the door on them.
    fn pump(&mut self) {
        loop {
            let mut opened = Vec::new();
            while let Some(action) = self.engine.poll_action() {
                match action {
                    Action::Open(service) => opened.push(service),
                    Action::Close(service) => self.open.retain(|s| *s != service),
                    Action::Send(service, text) => self.sent.entry(service).or_default().push(text),
                    Action::Persist(_)
                    | Action::ReadChunk { .. }
                    | Action::ReleaseFile(_)
                    | Action::SwitchNode => {}
                    Action::Notify(event) => self.events.push(event),
                }
            }
            if opened.is_empty() {
                return;
            }
            for service in opened {
                if service != Service::Login {
                    self.open.push(service);
                    self.engine.opened(service, self.now);
                }
            }
        }
    }

    /// The frames sent on `service` since the last look.
    fn take(&mut self, service: Service) -> Vec<String> {
        self.pump();
        self.sent.remove(&service).unwrap_or_default()
    }

    /// The one request sent on `service`, decoded.
    fn request<T: Packet>(&mut self, service: Service) -> T {
        let sent = self.take(service);
        assert_eq!(sent.len(), 1, "one request on {service:?}: {sent:?}");
        Frame::decode(&sent[0])
            .and_then(|f| f.packet::<T>())
            .expect("a request of the expected packet")
    }

    fn answer<T: serde::Serialize>(&mut self, service: Service, reply: &T) {
        self.pump();
        self.engine.received(service, &frame(reply), self.now);
        self.pump();
    }

    fn push(&mut self, push: &Push) {
        self.engine.received(Service::Login, &frame(push), self.now);
        self.pump();
    }

    fn advance(&mut self, ms: i64) {
        self.now += ms;
        self.engine.handle_timeout(self.now);
        self.pump();
    }

    /// The answer to operation `id`, which must have come.
    fn performed(&mut self, id: OperationId) -> Result<Outcome, ErrorReply> {
        self.pump();
        let found = self.events.iter().find_map(|e| match e {
            Event::Performed { id: done, result } if *done == id => Some(result.clone()),
            _ => None,
        });
        found.unwrap_or_else(|| panic!("operation {id:?} was not answered: {:?}", self.events))
    }

    fn answered(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Performed { .. }))
            .count()
    }

    fn contact(&self, n: u64) -> Contact {
        let directory = self.engine.directory().expect("directory");
        directory
            .contacts
            .iter()
            .find(|c| c.user == user(n))
            .cloned()
            .expect("contact")
    }
}

#[test]
fn a_signature_change_is_sent_as_the_user_and_shows_in_the_directory() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(Operation::SetSignature("今天在深圳 🌴".into()), h.now)
        .expect("sent");
    let update: SignatureUpdate = h.request(Service::Signature);
    assert_eq!(update.user, user(1));
    assert_eq!(update.signing, "今天在深圳 🌴");
    // Not changed until the server has it.
    assert_eq!(h.contact(1).signing, "");
    h.answer(Service::Signature, &Done::new());
    assert_eq!(h.performed(id), Ok(Outcome::Done));
    assert_eq!(h.contact(1).signing, "今天在深圳 🌴");
    assert!(h.events.contains(&Event::DirectoryChanged));
}

#[test]
fn operations_are_refused_at_once_without_a_connection() {
    let mut h = Harness::live();
    h.engine.closed(Service::Login, h.now);
    h.pump();
    let refused = h.engine.perform(Operation::SetSignature("x".into()), h.now);
    assert_eq!(refused, Err(OperationError::Offline));
    let mut stopped = Harness::live();
    stopped.engine.log_out();
    assert_eq!(
        stopped
            .engine
            .perform(Operation::SetSignature("x".into()), stopped.now),
        Err(OperationError::NotLoggedIn)
    );
}

#[test]
fn an_operation_over_the_protocol_limits_is_refused_before_sending() {
    let mut h = Harness::live();
    let refused = h
        .engine
        .perform(Operation::SetSignature("长".repeat(10_000)), h.now);
    assert!(
        matches!(refused, Err(OperationError::Invalid(ref why)) if why.contains("signing")),
        "{refused:?}"
    );
    assert!(h.take(Service::Signature).is_empty());
}

#[test]
fn a_wrong_current_password_comes_back_as_the_servers_refusal() {
    let mut h = Harness::live();
    let old = penpen_core::digest::password_digest("旧密码");
    let new = penpen_core::digest::password_digest("新密码");
    let id = h
        .engine
        .perform(
            Operation::ChangePassword {
                old_digest: old.clone(),
                new_digest: new.clone(),
            },
            h.now,
        )
        .expect("sent");
    let update: PasswordUpdate = h.request(Service::Password);
    assert_eq!((update.user, update.old, update.new), (user(1), old, new));
    h.answer(
        Service::Password,
        &ErrorReply::new(State::WRONG_PASSWORD, "the current password is wrong"),
    );
    let refusal = h.performed(id).expect_err("refused");
    assert_eq!(refusal.state, State::WRONG_PASSWORD);
}

#[test]
fn creating_a_group_always_includes_the_creator_and_refreshes_the_groups() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(
            Operation::CreateGroup {
                name: "新项目".into(),
                members: vec![user(2), user(3), user(2)],
            },
            h.now,
        )
        .expect("sent");
    let create: GroupCreate = h.request(Service::GroupCreate);
    assert_eq!(create.holder, user(1));
    assert_eq!(create.member.0, vec![user(1), user(2), user(3)]);
    h.answer(
        Service::GroupCreate,
        &GroupCreated {
            state: State::SUCCESS,
            gid: gid(8),
        },
    );
    assert_eq!(h.performed(id), Ok(Outcome::GroupCreated(gid(8))));
    // The new group's name and members come from 53888.
    let _: penpen_core::packets::groups::GroupsQuery = h.request(Service::SyncGroups);
    h.answer(
        Service::SyncGroups,
        &Groups {
            state: State::SUCCESS,
            groups: vec![
                group(7, "项目组", &[1, 2, 3]),
                group(8, "新项目", &[1, 2, 3]),
            ],
            more: false,
            next: None,
        },
    );
    assert_eq!(h.engine.groups().expect("groups").len(), 2);
    assert!(h.events.contains(&Event::GroupsChanged));
}

/// Creates group 9, which makes the engine refresh its groups from 53888.
fn create_group_9(h: &mut Harness) {
    h.engine
        .perform(
            Operation::CreateGroup {
                name: "新项目".into(),
                members: vec![user(2)],
            },
            h.now,
        )
        .expect("sent");
    let _: GroupCreate = h.request(Service::GroupCreate);
    h.answer(
        Service::GroupCreate,
        &GroupCreated {
            state: State::SUCCESS,
            gid: gid(9),
        },
    );
}

#[test]
fn a_paged_group_list_replaces_the_old_one_only_when_every_page_is_in() {
    use penpen_core::packets::groups::GroupsQuery;
    let mut h = Harness::live();
    let before = h.engine.groups().map(<[Group]>::to_vec);
    create_group_9(&mut h);
    let first: GroupsQuery = h.request(Service::SyncGroups);
    assert_eq!((first.after, first.limit), (None, None), "the first page");
    h.answer(
        Service::SyncGroups,
        &Groups {
            state: State::SUCCESS,
            groups: vec![group(7, "项目组", &[1, 2, 3]), group(8, "新项目", &[1, 2])],
            more: true,
            next: Some(gid(8)),
        },
    );
    assert_eq!(
        h.engine.groups().map(<[Group]>::to_vec),
        before,
        "a first page does not replace the list"
    );
    let second: GroupsQuery = h.request(Service::SyncGroups);
    assert_eq!(second.after, Some(gid(8)));
    h.answer(
        Service::SyncGroups,
        &Groups {
            state: State::SUCCESS,
            groups: vec![group(9, "新项目", &[1, 2])],
            more: false,
            next: None,
        },
    );
    let gids: Vec<_> = h
        .engine
        .groups()
        .expect("groups")
        .iter()
        .map(|g| g.gid)
        .collect();
    assert_eq!(gids, vec![gid(7), gid(8), gid(9)]);
    assert!(
        h.take(Service::SyncGroups).is_empty(),
        "no further page is asked for"
    );
}

#[test]
fn a_group_refresh_cut_off_mid_way_starts_again_from_the_first_page() {
    use penpen_core::packets::groups::GroupsQuery;
    let mut h = Harness::live();
    create_group_9(&mut h);
    let _: GroupsQuery = h.request(Service::SyncGroups);
    h.answer(
        Service::SyncGroups,
        &Groups {
            state: State::SUCCESS,
            groups: vec![group(7, "项目组", &[1, 2, 3])],
            more: true,
            next: Some(gid(7)),
        },
    );
    let second: GroupsQuery = h.request(Service::SyncGroups);
    assert_eq!(second.after, Some(gid(7)));
    // The link drops before the second page comes.
    h.engine.closed(Service::SyncGroups, h.now);
    h.now += 60_000;
    h.engine.handle_timeout(h.now);
    let again: GroupsQuery = h.request(Service::SyncGroups);
    assert_eq!(again.after, None, "a partial refresh is not continued");
}

#[test]
fn renaming_and_leaving_update_the_group_list_from_the_reply() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(
            Operation::RenameGroup {
                gid: gid(7),
                name: "发布小组".into(),
            },
            h.now,
        )
        .expect("sent");
    let rename: GroupRename = h.request(Service::GroupRename);
    assert_eq!((rename.gid, rename.name.as_str()), (gid(7), "发布小组"));
    let renamed = group(7, "发布小组", &[1, 2, 3]);
    h.answer(
        Service::GroupRename,
        &GroupUpdated {
            state: State::SUCCESS,
            group: renamed.clone(),
        },
    );
    assert_eq!(h.performed(id), Ok(Outcome::Group(renamed.clone())));
    assert_eq!(h.engine.groups().expect("groups"), &[renamed]);

    let id = h
        .engine
        .perform(
            Operation::ChangeMembers {
                gid: gid(7),
                action: MembersAction::Leave,
                members: Vec::new(),
            },
            h.now,
        )
        .expect("sent");
    let change: GroupMembersChange = h.request(Service::GroupMembers);
    assert_eq!(change.action, MembersAction::Leave);
    h.answer(
        Service::GroupMembers,
        &GroupUpdated {
            state: State::SUCCESS,
            group: group(7, "发布小组", &[2, 3]),
        },
    );
    assert!(h.performed(id).is_ok());
    // The user is no longer in it: it stays known, without them.
    let kept = h.engine.groups().expect("groups");
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].member.contains(&user(1)));
    assert_eq!(kept[0].name, "发布小组");
}

#[test]
fn a_connection_lost_before_the_answer_fails_the_operation_once() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(
            Operation::RenameGroup {
                gid: gid(7),
                name: "x".into(),
            },
            h.now,
        )
        .expect("sent");
    assert_eq!(h.take(Service::GroupRename).len(), 1);
    h.engine.closed(Service::GroupRename, h.now);
    let refusal = h.performed(id).expect_err("failed");
    assert_eq!(refusal.state, State::UNAVAILABLE);
    // A late timeout or reconnect does not answer it again.
    h.advance(REQUEST_TIMEOUT_MS * 2);
    assert_eq!(h.answered(), 1);
    assert!(h.take(Service::GroupRename).is_empty(), "never sent twice");
}

#[test]
fn an_operation_whose_service_cannot_be_reached_fails_after_the_request_timeout() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(Operation::SetSignature("x".into()), h.now)
        .expect("accepted");
    // The socket never opens: every try is refused.
    for _ in 0..20 {
        h.pump();
        if h.open.contains(&Service::Signature) {
            h.take(Service::Signature);
            h.engine.closed(Service::Signature, h.now);
            h.open.retain(|s| *s != Service::Signature);
        }
        h.advance(1_000);
    }
    let refusal = h.performed(id).expect_err("failed");
    assert_eq!(refusal.state, State::UNAVAILABLE);
    assert_eq!(h.answered(), 1);
}

#[test]
fn presence_follows_visibility_unless_the_user_is_busy() {
    let mut h = Harness::live();
    // The server marked the session online at login: nothing to say.
    assert!(h.take(Service::Presence).is_empty());
    h.engine.set_visible(false, h.now);
    let away: PresenceUpdate = h.request(Service::Presence);
    assert_eq!((away.user, away.presence), (user(1), Presence::Away));
    // Nothing more is sent until the server has answered.
    h.engine.set_visible(true, h.now);
    assert!(h.take(Service::Presence).is_empty());
    h.answer(Service::Presence, &Done::new());
    let online: PresenceUpdate = h.request(Service::Presence);
    assert_eq!(online.presence, Presence::Online);
    h.answer(Service::Presence, &Done::new());
    h.engine.set_busy(true, h.now);
    let busy: PresenceUpdate = h.request(Service::Presence);
    assert_eq!(busy.presence, Presence::Busy);
    h.answer(Service::Presence, &Done::new());
    h.engine.set_visible(false, h.now);
    assert!(
        h.take(Service::Presence).is_empty(),
        "busy stays busy while hidden"
    );
    assert_eq!(h.engine.presence(), Presence::Busy);
}

#[test]
fn a_busy_user_is_busy_again_after_a_reconnect() {
    let mut h = Harness::live();
    h.engine.set_busy(true, h.now);
    h.take(Service::Presence);
    h.answer(Service::Presence, &Done::new());
    h.engine.closed(Service::Login, h.now);
    h.advance(60_000);
    h.logged_in();
    let again: PresenceUpdate = h.request(Service::Presence);
    assert_eq!(again.presence, Presence::Busy);
}

#[test]
fn pushed_presence_and_signatures_update_the_directory() {
    let mut h = Harness::live();
    h.push(&Push::Presence {
        presence: PresenceChange {
            user: user(2),
            presence: Presence::Away,
        },
    });
    assert_eq!(h.contact(2).presence, Presence::Away);
    h.push(&Push::Signature {
        signature: SignatureChange {
            user: user(2),
            signing: "新签名".into(),
        },
    });
    assert_eq!(h.contact(2).signing, "新签名");
    assert!(h.events.contains(&Event::DirectoryChanged));
    // Someone not in the directory changes nothing.
    h.events.clear();
    h.push(&Push::Presence {
        presence: PresenceChange {
            user: user(9),
            presence: Presence::Away,
        },
    });
    assert!(!h.events.contains(&Event::DirectoryChanged));
}

#[test]
fn signatures_are_refreshed_through_the_signature_sync() {
    let mut h = Harness::live();
    h.engine.refresh_signatures(vec![user(2), user(3)], h.now);
    let query: SignatureQuery = h.request(Service::SyncSignatures);
    assert_eq!(query.users, vec![user(2), user(3)]);
    h.answer(
        Service::SyncSignatures,
        &Signatures {
            state: State::SUCCESS,
            signatures: [(user(2), "刚更新".to_owned())].into_iter().collect(),
        },
    );
    assert_eq!(h.contact(2).signing, "刚更新");
    assert_eq!(h.contact(3).signing, "");
}

#[test]
fn a_group_notice_refreshes_the_groups() {
    let mut h = Harness::live();
    let notice = GroupRenamedNotice {
        by: user(2),
        name: "改名了".into(),
    };
    h.push(&pushed(
        Peer::Group(gid(7)),
        MessageType::GroupRenamed,
        serde_json::to_string(&notice).expect("json"),
        1,
    ));
    let _: penpen_core::packets::groups::GroupsQuery = h.request(Service::SyncGroups);
}

fn titles_and_read(h: &Harness) -> Vec<(String, bool)> {
    h.engine
        .broadcasts()
        .into_iter()
        .map(|b| (b.broadcast.title.clone(), b.read))
        .collect()
}

#[test]
fn a_new_device_s_broadcast_backlog_is_read_and_live_ones_are_not() {
    let mut h = Harness::live();
    assert_eq!(titles_and_read(&h), vec![("国庆放假通知".to_owned(), true)]);
    h.push(&Push::Broadcast {
        broadcast: broadcast(2, 2, "年会安排"),
    });
    assert_eq!(
        titles_and_read(&h),
        vec![
            ("年会安排".to_owned(), false),
            ("国庆放假通知".to_owned(), true)
        ]
    );
    assert_eq!(h.engine.unread_broadcasts(), 1);
    assert!(
        h.events
            .contains(&Event::BroadcastArrived(broadcast(2, 2, "年会安排")))
    );
    // The same broadcast again (resent, or also found by sync) is kept once.
    h.events.clear();
    h.push(&Push::Broadcast {
        broadcast: broadcast(2, 2, "年会安排"),
    });
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::BroadcastArrived(_) | Event::BroadcastsChanged)),
        "{:?}",
        h.events
    );
    h.engine.mark_broadcast_read(BroadcastId(2));
    h.pump();
    assert_eq!(h.engine.unread_broadcasts(), 0);
    assert!(h.events.contains(&Event::BroadcastsChanged));
}

#[test]
fn after_a_reconnect_broadcasts_are_synced_from_the_newest_one_kept() {
    let mut h = Harness::live();
    h.engine.closed(Service::Login, h.now);
    h.advance(60_000);
    h.logged_in();
    let query: BroadcastQuery = h.request(Service::SyncBroadcasts);
    assert_eq!(query.since, Some(BroadcastId(1)));
    h.answer(
        Service::SyncBroadcasts,
        &BroadcastPage {
            state: State::SUCCESS,
            broadcasts: vec![broadcast(2, 2, "错过的通知")],
            more: true,
        },
    );
    let next: BroadcastQuery = h.request(Service::SyncBroadcasts);
    assert_eq!(next.since, Some(BroadcastId(2)));
    h.answer(
        Service::SyncBroadcasts,
        &BroadcastPage {
            state: State::SUCCESS,
            broadcasts: Vec::new(),
            more: false,
        },
    );
    // Missed while away: unread, but no notification for old news.
    assert_eq!(h.engine.unread_broadcasts(), 1);
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::BroadcastArrived(_)))
    );
}

#[test]
fn a_sent_broadcast_is_kept_read() {
    let mut h = Harness::live();
    let id = h
        .engine
        .perform(
            Operation::SendBroadcast {
                kind: BroadcastKind::Announcement,
                title: "停电通知".into(),
                content: "周六 9:00–12:00 大楼停电".into(),
            },
            h.now,
        )
        .expect("sent");
    let send: SendBroadcast = h.request(Service::Broadcast);
    assert_eq!((send.from, send.title.as_str()), (user(1), "停电通知"));
    let stored = Broadcast {
        kind: BroadcastKind::Announcement,
        ..broadcast(5, 1, "停电通知")
    };
    h.answer(
        Service::Broadcast,
        &BroadcastAck {
            state: State::SUCCESS,
            cid: None,
            broadcast: stored,
        },
    );
    assert_eq!(h.performed(id), Ok(Outcome::Broadcast(BroadcastId(5))));
    assert_eq!(titles_and_read(&h)[0], ("停电通知".to_owned(), true));
    // Its own push does not notify the sender.
    h.push(&Push::Broadcast {
        broadcast: broadcast(5, 1, "停电通知"),
    });
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::BroadcastArrived(_)))
    );
}

/// A PNG signature and header declaring 1 × 1 pixels.
const PNG: [u8; 24] = [
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1,
];

#[test]
fn an_image_is_queued_with_its_bytes_and_settled_by_its_ack() {
    let mut h = Harness::live();
    let to = Peer::User(user(2));
    let cid = h
        .engine
        .send_file(to.clone(), FileKind::Image, PNG.to_vec(), h.now)
        .expect("queued");
    let queued = h.engine.outbox_of(&to);
    assert_eq!(queued.len(), 1);
    let file = queued[0]
        .file
        .clone()
        .expect("the file is kept in the outbox");
    assert_eq!((file.data, file.mime.as_str()), (PNG.to_vec(), "image/png"));
    let send: SendFile = h.request(Service::Image);
    assert_eq!(
        (send.kind, send.data, send.cid),
        (MessageType::Image, PNG.to_vec(), Some(cid.clone()))
    );
    h.answer(
        Service::Image,
        &SendAck {
            state: State::SUCCESS,
            cid: Some(cid),
            id: MessageId(1002),
            seq: Seq(1),
            time: "2026-11-26 12:00:00".into(),
            ts: 5,
            content: Some("1002.png".into()),
        },
    );
    assert!(h.engine.outbox_of(&to).is_empty());
    let last = h
        .engine
        .conversation(&to)
        .and_then(|c| c.last.clone())
        .expect("a row");
    assert_eq!(
        (last.kind, last.content.as_str()),
        (MessageType::Image, "1002.png")
    );
}

#[test]
fn files_are_checked_as_the_server_will() {
    let mut h = Harness::live();
    let to = Peer::Group(gid(7));
    let too_big = {
        let mut data = PNG.to_vec();
        data.resize(penpen_core::limits::MAX_IMAGE_BYTES + 1, 0);
        data
    };
    assert!(matches!(
        h.engine
            .send_file(to.clone(), FileKind::Image, too_big, h.now),
        Err(SendError::TooLarge { .. })
    ));
    assert!(matches!(
        h.engine
            .send_file(to.clone(), FileKind::Image, b"not an image".to_vec(), h.now),
        Err(SendError::UnsupportedFormat { .. })
    ));
    assert!(matches!(
        h.engine.send_file(
            to.clone(),
            FileKind::Voice { seconds: 61 },
            b"OggS".to_vec(),
            h.now
        ),
        Err(SendError::VoiceLength { seconds: 61, .. })
    ));
    // A decompression bomb: a few bytes declaring 60,000 × 60,000 pixels.
    let mut bomb = PNG.to_vec();
    bomb[16..24].copy_from_slice(&[0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60]);
    assert!(matches!(
        h.engine.send_file(to.clone(), FileKind::Image, bomb, h.now),
        Err(SendError::Refused(
            penpen_core::sniff::Refusal::TooManyPixels {
                width: 60_000,
                height: 60_000
            }
        ))
    ));
    // An Ogg Opus recording of 30 s sent as 3 s.
    let mut long = Vec::new();
    for (granule, body) in [
        (
            0u64,
            b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00".as_slice(),
        ),
        (0, b"OpusTags".as_slice()),
        (312 + 30 * 48_000, [0xFC; 20].as_slice()),
    ] {
        long.extend_from_slice(b"OggS\x00\x00");
        long.extend_from_slice(&granule.to_le_bytes());
        long.extend_from_slice(&[0; 12]);
        long.extend_from_slice(&[1, body.len() as u8]);
        long.extend_from_slice(body);
    }
    assert!(matches!(
        h.engine.send_file(
            to.clone(),
            FileKind::Voice { seconds: 3 },
            long.clone(),
            h.now
        ),
        Err(SendError::Refused(
            penpen_core::sniff::Refusal::DurationMismatch {
                declared: 3,
                recorded_ms: 30_000
            }
        ))
    ));
    assert!(h.engine.outbox_of(&to).is_empty(), "nothing was queued");
    // A group image travels as type 11.
    h.engine
        .send_file(to.clone(), FileKind::Image, PNG.to_vec(), h.now)
        .expect("queued");
    let send: SendFile = h.request(Service::Image);
    assert_eq!(send.kind, MessageType::GroupImage);
    h.engine
        .send_file(to.clone(), FileKind::Voice { seconds: 30 }, long, h.now)
        .expect("a recording as long as it says is queued");
}

#[test]
fn after_a_first_sync_with_no_broadcasts_the_next_ones_are_news() {
    // The company has sent none yet.
    let mut h = Harness::live_with(Vec::new());
    assert!(
        h.engine.account().broadcasts_synced,
        "kept with the account"
    );
    // Offline for a while; two are sent meanwhile.
    h.engine.closed(Service::Login, h.now);
    h.advance(60_000);
    h.logged_in();
    let _: BroadcastQuery = h.request(Service::SyncBroadcasts);
    h.answer(
        Service::SyncBroadcasts,
        &BroadcastPage {
            state: State::SUCCESS,
            broadcasts: vec![broadcast(7, 2, "周会改期"), broadcast(8, 2, "新系统上线")],
            more: false,
        },
    );
    assert_eq!(h.engine.unread_broadcasts(), 2);
}

#[test]
fn a_write_still_owed_is_reported_after_a_later_event_moves_the_clock_on() {
    let mut h = Harness::live();
    // A message arrives; its write (and the news of it) waits a moment to
    // gather what else comes.
    h.push(&pushed(
        Peer::User(user(1)),
        MessageType::Text,
        "在吗？".into(),
        1,
    ));
    assert!(!h.events.iter().any(|e| matches!(e, Event::Arrived { .. })));
    // A busy machine: the next frame is handled after that moment is past.
    h.now += penpen_core::sync::PERSIST_DELAY_MS + 20;
    h.push(&Push::Presence {
        presence: PresenceChange {
            user: user(3),
            presence: Presence::Away,
        },
    });
    // The write is still owed: the driver is to wake now, not at the next
    // resync a minute and a half later.
    let wake = h.engine.poll_timeout().expect("a deadline");
    assert!(wake <= h.now, "woken at {wake}, now is {}", h.now);
    h.engine.handle_timeout(h.now);
    h.pump();
    assert!(h.events.iter().any(|e| matches!(e, Event::Arrived { .. })));
}

#[test]
fn a_group_the_user_was_removed_from_keeps_its_name_without_them() {
    let mut h = Harness::live();
    // 张伟 (user 2) removes the user.
    let notice = GroupMembersNotice {
        by: user(2),
        member: Members(vec![user(1)]),
    };
    h.push(&pushed(
        Peer::Group(gid(7)),
        MessageType::GroupMembersRemoved,
        serde_json::to_string(&notice).expect("json"),
        1,
    ));
    let _: penpen_core::packets::groups::GroupsQuery = h.request(Service::SyncGroups);
    // The server lists only the groups the user is in: none now.
    h.answer(
        Service::SyncGroups,
        &Groups {
            state: State::SUCCESS,
            groups: Vec::new(),
            more: false,
            next: None,
        },
    );
    let groups = h.engine.groups().expect("groups");
    assert_eq!(groups.len(), 1, "still known, for its history");
    assert_eq!(groups[0].name, "项目组");
    assert_eq!(groups[0].member.0, vec![user(2), user(3)]);
}

/// The engine catches up on 50888 after every login, so its resume asks the
/// stream for new messages only, not the unacknowledged backlog a second time.
#[test]
fn a_resume_asks_the_stream_for_new_messages_only() {
    let credentials = Credentials::Token {
        user: user(1),
        token: "t".into(),
    };
    let mut engine = Engine::new(credentials, Snapshot::default(), 7);
    engine.handle_timeout(1_000);
    while engine.poll_action().is_some() {}
    engine.opened(Service::Login, 1_000);
    let mut sent = Vec::new();
    while let Some(action) = engine.poll_action() {
        if let Action::Send(Service::Login, text) = action {
            sent.push(text);
        }
    }
    assert_eq!(sent.len(), 1, "one resume: {sent:?}");
    let resume: Resume = Frame::decode(&sent[0])
        .and_then(|f| f.packet())
        .expect("a resume");
    assert!(resume.catch_up, "{resume:?}");
}
