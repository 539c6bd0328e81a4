//! Read receipts (§16) on the simulated server: marks on 20888 (kept at
//! their maximum, refused for a message the reader may not see, pushed to
//! the reader's sessions and, in 1:1, to the other person unless private),
//! group watches (a full list, then each change at once: the sim does not
//! coalesce, the real server's tests cover that), the 50888 catch-up of
//! marks by version, reminders (加急) with their replay at login, and the
//! sharing choice on 32888.

use super::Net;
use penpen_core::packets::Done;
use penpen_core::packets::groups::Members;
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{GroupMembersNotice, Message, MessageType, Quote, Sender};
use penpen_core::packets::receipts::{
    DING_INTERVAL_MS, DING_REPLAY_MS, Ding, DingNotice, GroupReads, MAX_READS_PAGE, MemberRead,
    PeerRead, ReadsPage, ReadsQuery,
};
use penpen_core::{Encoding, Frame, GroupId, MessageId, Peer, Service, State, UserId};
use std::collections::{BTreeMap, BTreeSet};

/// The durable read receipts of the simulated server.
#[derive(Debug, Default)]
pub struct SimReads {
    /// (reader, the conversation as the reader names it) → the mark and
    /// the version of its last change.
    marks: BTreeMap<(UserId, Peer), (MessageId, u64)>,
    /// The last version given out.
    version: u64,
    /// People who do not share read receipts.
    pub private: BTreeSet<UserId>,
    /// Members who joined a group after its start: the newest message then.
    joined: BTreeMap<(GroupId, UserId), MessageId>,
    /// Stored reminders: to whom, and what.
    dings: Vec<(UserId, DingNotice)>,
    /// When each message was last reminded of.
    dinged_at: BTreeMap<MessageId, i64>,
    /// Marks per catch-up page (0: the protocol's most).
    pub page: usize,
    /// Every `read` frame the server got, in order.
    pub marks_received: Vec<(UserId, MessageId)>,
    /// Every `watch` frame the server got, in order.
    pub watches_received: Vec<(UserId, Option<GroupId>)>,
    /// Catch-up queries of marks, with the version asked from.
    pub reads_queries: Vec<(UserId, u64)>,
}

impl SimReads {
    fn mark(&self, reader: &UserId, conversation: &Peer) -> Option<MessageId> {
        self.marks
            .get(&(reader.clone(), conversation.clone()))
            .map(|(id, _)| *id)
    }

    fn bump(&mut self) -> u64 {
        self.version += 1;
        self.version
    }
}

fn encode<T: serde::Serialize>(push: &T) -> String {
    Frame::encode(Encoding::Base64, push).expect("encode")
}

impl Net {
    /// The user logged in on the Login socket of `index`, if any.
    fn stream_user(&self, index: usize) -> Option<UserId> {
        self.clients[index]
            .sockets
            .get(&Service::Login)
            .filter(|s| s.live)
            .and_then(|s| s.user.clone())
    }

    /// The mark of `reader` in `conversation` (as they name it).
    pub fn read_mark(&self, reader: &UserId, conversation: &Peer) -> Option<MessageId> {
        self.server.reads.mark(reader, conversation)
    }

    /// Whether `user` may see message `message`: theirs in a 1:1
    /// conversation, or sent in a group while they were in it.
    fn may_see(&self, user: &UserId, message: &Message) -> bool {
        match &message.to {
            Peer::Group(gid) => {
                self.server
                    .groups
                    .get(gid)
                    .is_some_and(|members| members.contains(user))
                    && self
                        .server
                        .reads
                        .joined
                        .get(&(*gid, user.clone()))
                        .is_none_or(|joined| *joined < message.id)
            }
            Peer::User(to) => to == user || message.from == Sender::User(user.clone()),
        }
    }

    /// `{"read":id}` on 20888.
    pub(super) fn take_read_mark(&mut self, index: usize, id: MessageId) {
        let Some(me) = self.stream_user(index) else {
            return;
        };
        self.server.reads.marks_received.push((me.clone(), id));
        let Some(message) = self.server.messages.get(&id.0).cloned() else {
            return self.refuse(
                index,
                Service::Login,
                State::NO_SUCH_MESSAGE,
                "no such message",
            );
        };
        if !self.may_see(&me, &message) {
            return self.refuse(
                index,
                Service::Login,
                State::NO_SUCH_MESSAGE,
                "a message of a conversation the caller is not in",
            );
        }
        let conversation = message.conversation(&me);
        if self
            .server
            .reads
            .mark(&me, &conversation)
            .is_some_and(|held| held >= id)
        {
            return;
        }
        let version = self.server.reads.bump();
        self.server
            .reads
            .marks
            .insert((me.clone(), conversation.clone()), (id, version));
        let own = Push::Read {
            read: PeerRead {
                target: conversation.clone(),
                by: me.clone(),
                id: Some(id),
                private: false,
            },
        };
        self.push_live(&me, &encode(&own));
        let private = self.server.reads.private.contains(&me);
        match &conversation {
            Peer::User(other) if other != &me => {
                let theirs = Push::Read {
                    read: PeerRead {
                        target: Peer::User(me.clone()),
                        by: me.clone(),
                        id: (!private).then_some(id),
                        private,
                    },
                };
                self.push_live(&other.clone(), &encode(&theirs));
            }
            Peer::Group(gid) => {
                let change = Push::Reads {
                    reads: GroupReads {
                        target: *gid,
                        full: false,
                        marks: vec![MemberRead {
                            user: me.clone(),
                            id: (!private).then_some(id),
                            joined: None,
                            left: None,
                            private,
                        }],
                    },
                };
                self.push_to_watchers(*gid, &encode(&change));
            }
            Peer::User(_) => {}
        }
    }

    /// Queues `frame` on every live session watching `gid`.
    fn push_to_watchers(&mut self, gid: GroupId, frame: &str) {
        for client in &mut self.clients {
            let watching = client
                .sockets
                .get(&Service::Login)
                .is_some_and(|s| s.live && s.watch == Some(gid));
            if watching && client.online {
                client.inbound.push_back((Service::Login, frame.to_owned()));
            }
        }
    }

    /// `{"watch":gid}` or `{"watch":null}` on 20888.
    pub(super) fn watch(&mut self, index: usize, group: Option<GroupId>) {
        let Some(me) = self.stream_user(index) else {
            return;
        };
        self.server.reads.watches_received.push((me.clone(), group));
        let Some(gid) = group else {
            if let Some(socket) = self.clients[index].sockets.get_mut(&Service::Login) {
                socket.watch = None;
            }
            return;
        };
        let Some(members) = self.server.groups.get(&gid).cloned() else {
            return self.refuse(index, Service::Login, State::UNKNOWN_GROUP, "no such group");
        };
        if !members.contains(&me) {
            return self.refuse(index, Service::Login, State::NOT_A_MEMBER, "not a member");
        }
        if let Some(socket) = self.clients[index].sockets.get_mut(&Service::Login) {
            socket.watch = Some(gid);
        }
        let reads = &self.server.reads;
        let marks = members
            .iter()
            .map(|user| {
                let private = reads.private.contains(user);
                MemberRead {
                    user: user.clone(),
                    id: reads.mark(user, &Peer::Group(gid)).filter(|_| !private),
                    joined: reads.joined.get(&(gid, user.clone())).copied(),
                    left: None,
                    private,
                }
            })
            .collect();
        let full = Push::Reads {
            reads: GroupReads {
                target: gid,
                full: true,
                marks,
            },
        };
        self.clients[index]
            .inbound
            .push_back((Service::Login, encode(&full)));
    }

    /// `{"reads":version}` on 50888: the marks `me` may see that changed
    /// after `version`, oldest change first, in pages.
    pub(super) fn reads_page(&mut self, index: usize, me: &UserId, query: ReadsQuery) {
        self.server
            .reads
            .reads_queries
            .push((me.clone(), query.reads));
        let reads = &self.server.reads;
        let mut changed: Vec<(u64, PeerRead)> = reads
            .marks
            .iter()
            .filter(|(_, (_, version))| *version > query.reads)
            .filter_map(|((reader, conversation), (id, version))| {
                if reader == me {
                    return Some((
                        *version,
                        PeerRead {
                            target: conversation.clone(),
                            by: me.clone(),
                            id: Some(*id),
                            private: false,
                        },
                    ));
                }
                // The other person's mark in a 1:1 conversation with `me`.
                if conversation != &Peer::User(me.clone()) {
                    return None;
                }
                let private = reads.private.contains(reader);
                Some((
                    *version,
                    PeerRead {
                        target: Peer::User(reader.clone()),
                        by: reader.clone(),
                        id: (!private).then_some(*id),
                        private,
                    },
                ))
            })
            .collect();
        changed.sort_by_key(|(version, _)| *version);
        let limit = if reads.page == 0 {
            MAX_READS_PAGE
        } else {
            reads.page
        };
        let more = changed.len() > limit;
        changed.truncate(limit);
        let version = if more {
            changed.last().map_or(query.reads, |(version, _)| *version)
        } else {
            reads.version.max(query.reads)
        };
        let page = ReadsPage {
            state: State::SUCCESS,
            reads: changed.into_iter().map(|(_, read)| read).collect(),
            version,
            more,
        };
        self.reply_packet(index, Service::SyncMessages, &page);
    }

    /// `{"receipts":shared}` on 32888: whether others see `me`'s marks.
    /// Their 1:1 marks change version, so the other people catch up the
    /// change.
    pub(super) fn set_receipts(&mut self, index: usize, me: &UserId, shared: bool) {
        let reads = &mut self.server.reads;
        let changed = if shared {
            reads.private.remove(me)
        } else {
            reads.private.insert(me.clone())
        };
        if changed {
            let keys: Vec<(UserId, Peer)> = reads
                .marks
                .keys()
                .filter(|(reader, conversation)| {
                    reader == me
                        && conversation.group().is_none()
                        && conversation != &Peer::User(me.clone())
                })
                .cloned()
                .collect();
            for key in keys {
                let version = reads.bump();
                if let Some(entry) = reads.marks.get_mut(&key) {
                    entry.1 = version;
                }
            }
        }
        self.reply_packet(index, Service::ConversationSettings, &Done::new());
    }

    /// Whether `me` shares read receipts (the 32888 list says it).
    pub(super) fn shares_receipts(&self, me: &UserId) -> bool {
        !self.server.reads.private.contains(me)
    }

    /// `{"ding":id}` on 27888: the members who have not read `me`'s message
    /// are reminded on every session, and the reminder is kept for their
    /// next login.
    pub(super) fn ding(&mut self, index: usize, me: &UserId, Ding { ding: id }: Ding) {
        let service = Service::MessageActions;
        let Some(message) = self.server.messages.get(&id.0).cloned() else {
            return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
        };
        if !self.may_see(me, &message) {
            return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
        }
        if message.from != Sender::User(me.clone()) {
            return self.refuse(index, service, State::FORBIDDEN, "not the caller's message");
        }
        if message.recalled.is_some() || message.kind.is_recall() {
            return self.refuse(index, service, State::TOO_LATE_TO_RECALL, "recalled");
        }
        let now = self.now;
        if self
            .server
            .reads
            .dinged_at
            .get(&id)
            .is_some_and(|at| now < at + DING_INTERVAL_MS)
        {
            return self.refuse(index, service, State::RATE_LIMITED, "wait a minute");
        }
        self.server.reads.dinged_at.insert(id, now);
        let readers: Vec<UserId> = match &message.to {
            Peer::Group(gid) => self.server.groups[gid]
                .iter()
                .filter(|member| *member != me && self.may_see(member, &message))
                .cloned()
                .collect(),
            Peer::User(other) if other != me => vec![other.clone()],
            Peer::User(_) => Vec::new(),
        };
        for reader in readers {
            let conversation = message.conversation(&reader);
            if self
                .server
                .reads
                .mark(&reader, &conversation)
                .is_some_and(|mark| mark >= id)
            {
                continue;
            }
            let notice = DingNotice {
                target: conversation,
                by: me.clone(),
                ts: now,
                message: Quote::of(&message),
            };
            let push = Push::Ding {
                ding: Box::new(notice.clone()),
            };
            self.push_live(&reader, &encode(&push));
            self.server.reads.dings.push((reader, notice));
        }
        self.reply_packet(index, service, &Done::new());
    }

    /// After a login: the reminders of the last day for messages still unread.
    pub(super) fn replay_dings(&mut self, index: usize, who: &UserId) {
        let now = self.now;
        let due: Vec<DingNotice> = self
            .server
            .reads
            .dings
            .iter()
            .filter(|(to, notice)| {
                to == who
                    && now - notice.ts <= DING_REPLAY_MS
                    && self
                        .server
                        .reads
                        .mark(who, &notice.target)
                        .is_none_or(|mark| mark < notice.message.id)
            })
            .map(|(_, notice)| notice.clone())
            .collect();
        for notice in due {
            let push = Push::Ding {
                ding: Box::new(notice),
            };
            self.clients[index]
                .inbound
                .push_back((Service::Login, encode(&push)));
        }
    }

    /// Sets who is in group `gid` (the holder first), as at its start.
    pub fn set_group(&mut self, gid: GroupId, members: Vec<UserId>) {
        self.server.groups.insert(gid, members);
    }

    /// `user` joins group `gid` (as the holder adding them would): from now
    /// on its messages are theirs to read, and every member gets the notice.
    pub fn add_member(&mut self, gid: GroupId, user: &UserId) {
        let newest = MessageId(self.server.next_id);
        self.server.reads.joined.insert((gid, user.clone()), newest);
        let members = self.server.groups.get_mut(&gid).expect("group");
        members.push(user.clone());
        let members = members.clone();
        let notice = GroupMembersNotice {
            by: members[0].clone(),
            member: Members(vec![user.clone()]),
        };
        self.server.next_id += 1;
        self.server.clock += 1000;
        let id = self.server.next_id;
        let message = Message {
            from: Sender::System,
            kind: MessageType::GroupMembersAdded,
            content: serde_json::to_string(&notice).expect("encode"),
            ts: self.server.clock,
            seq: None,
            ..penpen_core::testing::message(id, 1, Peer::Group(gid), "")
        };
        self.deliver(message, &members, None);
    }
}
