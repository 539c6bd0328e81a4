//! Operations: changes the user asks of the server that are done at once or
//! not at all — a signature, a password, a discussion group.
//!
//! Unlike messages, they are not queued while offline: each one is refused
//! up front when the engine is not connected, and otherwise answered exactly
//! once with [`super::Event::Performed`]. A password change made later, on
//! a connection the user no longer watches, would surprise them; a group
//! created twice after a retry would too.

use super::links::Request;
use super::timers::{Timer, TimerTable};
use super::{Engine, Event, REQUEST_TIMEOUT_MS, reply_of};
use crate::envelope::{Encoding, Frame, FrameError};
use crate::ids::{BroadcastId, ClientMsgId, GroupId, MessageId, Peer, UserId};
use crate::packets::Done;
use crate::packets::Packet;
use crate::packets::actions::{Forward, MessageAction, MessageIds, Recall};
use crate::packets::broadcast::{BroadcastAck, BroadcastKind, SendBroadcast};
use crate::packets::groups::{
    Group, GroupCreate, GroupCreated, GroupMembersChange, GroupRename, GroupUpdated, Members,
    MembersAction,
};
use crate::packets::message::{Message, MessageType, RecallNotice, SendAck, Sender};
use crate::packets::profile::{PasswordUpdate, SignatureUpdate};
use crate::packets::receipts::{Ding, ReceiptsSetting};
use crate::packets::settings::ConversationMute;
use crate::reply::{ErrorReply, State};
use crate::service::Service;
use crate::sorted_map::SortedMap;

/// Something the user asks the server to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Set one's signature (31888).
    SetSignature(String),
    /// Change one's password (30888); both are md5 digests. The server signs
    /// out every other session of the user.
    ChangePassword {
        /// The md5 of the current password.
        old_digest: String,
        /// The md5 of the new password.
        new_digest: String,
    },
    /// Create a discussion group (60888); the user is always a member.
    CreateGroup {
        /// Its name.
        name: String,
        /// The other members.
        members: Vec<UserId>,
    },
    /// Rename a group (61888).
    RenameGroup {
        /// Which.
        gid: GroupId,
        /// The new name.
        name: String,
    },
    /// Send a company broadcast (25888; broadcasters only).
    SendBroadcast {
        /// 通知, 新闻 or 公告.
        kind: BroadcastKind,
        /// Its title.
        title: String,
        /// Its text.
        content: String,
    },
    /// Take back a message (27888, §15.1): the sender's own within the
    /// server's window, or any user's message in a group the user holds.
    Recall {
        /// The conversation it is in.
        conversation: Peer,
        /// The message.
        id: MessageId,
        /// Who sent it.
        sender: UserId,
    },
    /// Forward messages to one conversation (27888, §15.3): a copy of one
    /// message, or (`merge`) one chat record of several of one conversation.
    /// The copy reaches the user's timelines through the stream, like any
    /// message of theirs. [`Engine::forward`] makes these for several
    /// messages and targets.
    Forward {
        /// The messages, oldest first; exactly one unless `merge`.
        ids: Vec<MessageId>,
        /// The conversation the new message goes to.
        to: Peer,
        /// One chat record of all of them.
        merge: bool,
        /// The new message's cid: a repeat of the request stores nothing new.
        cid: ClientMsgId,
    },
    /// Mute a conversation, or notify again (32888, §15.5); every device
    /// of the user follows.
    SetMuted {
        /// The other person, or the group.
        peer: Peer,
        /// 消息免打扰 on or off.
        muted: bool,
    },
    /// Remind everyone who has not read one of the user's messages
    /// (加急, 27888, §16.4).
    Ding {
        /// The user's own message.
        id: MessageId,
    },
    /// Share read receipts with others, or stop (32888, §16.5);
    /// [`Engine::receipts_shared`] follows.
    SetReceipts {
        /// 发送已读回执 on or off.
        shared: bool,
    },
    /// Add or remove members, or leave (62888).
    ChangeMembers {
        /// Which group.
        gid: GroupId,
        /// Add, remove (the holder only) or leave.
        action: MembersAction,
        /// Whom to add or remove (ignored for leave).
        members: Vec<UserId>,
    },
}

impl Operation {
    /// The service that does it.
    pub fn service(&self) -> Service {
        match self {
            Operation::SetSignature(_) => Service::Signature,
            Operation::ChangePassword { .. } => Service::Password,
            Operation::CreateGroup { .. } => Service::GroupCreate,
            Operation::RenameGroup { .. } => Service::GroupRename,
            Operation::ChangeMembers { .. } => Service::GroupMembers,
            Operation::SendBroadcast { .. } => Service::Broadcast,
            Operation::Recall { .. } | Operation::Forward { .. } | Operation::Ding { .. } => {
                Service::MessageActions
            }
            Operation::SetMuted { .. } | Operation::SetReceipts { .. } => {
                Service::ConversationSettings
            }
        }
    }

    /// The request frame, checked against the protocol's limits.
    pub fn frame(&self, me: &UserId) -> Result<String, FrameError> {
        match self.clone() {
            Operation::SetSignature(signing) => checked(SignatureUpdate {
                user: me.clone(),
                signing,
            }),
            Operation::ChangePassword {
                old_digest,
                new_digest,
            } => checked(PasswordUpdate {
                user: me.clone(),
                old: old_digest,
                new: new_digest,
            }),
            Operation::CreateGroup { name, members } => {
                let mut member = vec![me.clone()];
                member.extend(members.into_iter().filter(|m| m != me));
                checked(GroupCreate {
                    holder: me.clone(),
                    name,
                    member: Members(member).deduplicated(),
                })
            }
            Operation::RenameGroup { gid, name } => checked(GroupRename { gid, name }),
            Operation::SendBroadcast {
                kind,
                title,
                content,
            } => checked(SendBroadcast {
                from: me.clone(),
                kind,
                title,
                content,
                cid: None,
            }),
            Operation::Recall { id, .. } => checked(MessageAction::Recall(Recall { recall: id })),
            Operation::Forward {
                ids,
                to,
                merge,
                cid,
            } => checked(MessageAction::Forward(Forward {
                forward: MessageIds(ids),
                to,
                merge,
                cid,
            })),
            Operation::ChangeMembers {
                gid,
                action,
                members,
            } => checked(GroupMembersChange {
                gid,
                action,
                member: Members(members).deduplicated(),
            }),
            Operation::SetMuted { peer, muted } => checked(ConversationMute {
                target: peer,
                muted,
            }),
            Operation::Ding { id } => checked(MessageAction::Ding(Ding { ding: id })),
            Operation::SetReceipts { shared } => checked(ReceiptsSetting { receipts: shared }),
        }
    }
}

/// The recall message `ack` answered for, as the stream brings it to the
/// user's other sessions.
fn recall_message(
    me: &UserId,
    conversation: &Peer,
    id: MessageId,
    sender: &UserId,
    ack: &SendAck,
) -> Message {
    let notice = RecallNotice {
        id,
        by: me.clone(),
        sender: sender.clone(),
    };
    Message {
        from: Sender::User(me.clone()),
        to: conversation.clone(),
        kind: if conversation.group().is_some() {
            MessageType::GroupRecall
        } else {
            MessageType::Recall
        },
        content: serde_json::to_string(&notice).unwrap_or_default(),
        time: ack.time.clone(),
        ts: ack.ts,
        id: ack.id,
        seq: Some(ack.seq),
        cid: None,
        duration: None,
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
    }
}

/// Encodes a request after checking it as the server will.
fn checked<T: Packet>(packet: T) -> Result<String, FrameError> {
    packet.validate()?;
    Frame::encode(Encoding::Base64, &packet)
}

/// Names one operation, to match it with its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub u64);

/// What a successful operation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing to show.
    Done,
    /// The new group.
    GroupCreated(GroupId),
    /// The group as it now is (after a rename or a membership change; after
    /// leaving, as the others see it).
    Group(Group),
    /// The stored broadcast.
    Broadcast(BroadcastId),
    /// The message was taken back by the recall message with this id (already
    /// filed, like one from the stream).
    Recalled(MessageId),
    /// The forwarded copy or chat record was stored with this id; the
    /// stream brings it to the timelines.
    Forwarded(MessageId),
}

/// Why an operation was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// It needs the server, and the server cannot be reached now.
    #[error("not connected to the server; try again when the connection is back")]
    Offline,
    /// The engine has stopped (signed out or logged out).
    #[error("not logged in")]
    NotLoggedIn,
    /// It breaks a protocol limit (a name too long, too many members).
    #[error("{0}")]
    Invalid(String),
}

/// An operation waiting for its answer.
#[derive(Debug, Clone)]
struct PendingOperation {
    operation: Operation,
    frame: String,
    /// When the user asked: one not on the wire by the request timeout fails.
    asked_at: i64,
    on_the_wire: bool,
}

/// The operations not answered yet, by id.
#[derive(Debug, Default)]
pub(super) struct Operations {
    pending: SortedMap<OperationId, PendingOperation>,
    next: u64,
}

impl Operations {
    /// Takes an operation (its frame already checked); its id.
    pub(super) fn add(&mut self, operation: Operation, frame: String, now: i64) -> OperationId {
        let id = OperationId(self.next);
        self.next += 1;
        self.pending.insert(
            id,
            PendingOperation {
                operation,
                frame,
                asked_at: now,
                on_the_wire: false,
            },
        );
        id
    }

    /// The ones not on the wire yet.
    pub(super) fn unsent(&self) -> Vec<OperationId> {
        self.pending
            .iter()
            .filter(|(_, p)| !p.on_the_wire)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every one waiting.
    pub(super) fn ids(&self) -> Vec<OperationId> {
        self.pending.keys().copied().collect()
    }

    fn deadline(pending: &PendingOperation) -> Option<i64> {
        (!pending.on_the_wire).then_some(pending.asked_at + REQUEST_TIMEOUT_MS)
    }

    /// The ones that could not go out within the request timeout.
    pub(super) fn stale(&self, now: i64) -> Vec<OperationId> {
        self.pending
            .iter()
            .filter(|(_, p)| Self::deadline(p).is_some_and(|at| now >= at))
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        for at in self.pending.values().filter_map(Self::deadline) {
            table.add(Timer::OperationTimeout, at);
        }
    }
}

impl Engine {
    /// Forwards messages to each of `targets` (§15.3): one by one, one
    /// request per message per target, in order; merged, one chat record per
    /// target. Refused as a whole, before anything is asked, when offline or
    /// when a request would break the protocol's limits; otherwise each
    /// request is answered once with [`Event::Performed`].
    pub fn forward(
        &mut self,
        ids: &[MessageId],
        targets: &[Peer],
        merge: bool,
        now: i64,
    ) -> Result<Vec<OperationId>, OperationError> {
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(OperationError::NotLoggedIn);
        }
        if !self.stream.is_live() {
            return Err(OperationError::Offline);
        }
        let batches: Vec<Vec<MessageId>> = if merge {
            vec![ids.to_vec()]
        } else {
            ids.iter().map(|id| vec![*id]).collect()
        };
        let mut asked = Vec::new();
        for to in targets {
            for batch in &batches {
                let operation = Operation::Forward {
                    ids: batch.clone(),
                    to: to.clone(),
                    merge,
                    cid: ClientMsgId::generated(self.rng.next_u64(), self.rng.next_u64()),
                };
                let frame = operation
                    .frame(&self.meta.user)
                    .map_err(|e| OperationError::Invalid(e.to_string()))?;
                asked.push((operation, frame));
            }
        }
        if asked.is_empty() {
            return Err(OperationError::Invalid(
                "nothing to forward; expected a message and a conversation".into(),
            ));
        }
        let ids = asked
            .into_iter()
            .map(|(operation, frame)| self.operations.add(operation, frame, now))
            .collect();
        self.drive(now);
        Ok(ids)
    }

    /// Sends the operations not on the wire yet.
    pub(super) fn ask_operations(&mut self, now: i64) {
        let unsent: Vec<(OperationId, Service, String)> = self
            .operations
            .pending
            .iter()
            .filter(|(_, p)| !p.on_the_wire)
            .map(|(id, p)| (*id, p.operation.service(), p.frame.clone()))
            .collect();
        for (id, service, frame) in unsent {
            if self.request(service, Request::Operation(id), frame, now)
                && let Some(pending) = self.operations.pending.get_mut(&id)
            {
                pending.on_the_wire = true;
            }
        }
    }

    pub(super) fn operation_reply(&mut self, id: OperationId, frame: &Frame, now: i64) {
        let Some(pending) = self.operations.pending.remove(&id) else {
            return;
        };
        let result = match &pending.operation {
            Operation::SetSignature(signing) => reply_of::<Done>(frame).map(|_| {
                let (me, signing) = (self.meta.user.clone(), signing.clone());
                self.edit_contact(&me, now, |c| c.signing = signing);
                Outcome::Done
            }),
            Operation::ChangePassword { .. } | Operation::Ding { .. } => {
                reply_of::<Done>(frame).map(|_| Outcome::Done)
            }
            Operation::SetReceipts { shared } => reply_of::<Done>(frame).map(|_| {
                self.receipts.shared = Some(*shared);
                Outcome::Done
            }),
            Operation::SetMuted { peer, muted } => reply_of::<Done>(frame).map(|_| {
                let (peer, muted) = (peer.clone(), *muted);
                self.apply_muted(&peer, muted);
                Outcome::Done
            }),
            Operation::SendBroadcast { .. } => reply_of::<BroadcastAck>(frame).map(|ack| {
                let id = ack.broadcast.id;
                self.take_broadcasts(vec![ack.broadcast], true, now);
                Outcome::Broadcast(id)
            }),
            Operation::CreateGroup { .. } => reply_of::<GroupCreated>(frame).map(|created| {
                self.roster.group_created();
                Outcome::GroupCreated(created.gid)
            }),
            Operation::Recall {
                conversation,
                id,
                sender,
            } => reply_of::<SendAck>(frame).map(|ack| {
                let recall = recall_message(&self.meta.user, conversation, *id, sender, &ack);
                let filed = recall.id;
                self.take_messages(vec![recall], false, now);
                Outcome::Recalled(filed)
            }),
            Operation::Forward { .. } => {
                reply_of::<SendAck>(frame).map(|ack| Outcome::Forwarded(ack.id))
            }
            Operation::RenameGroup { .. } | Operation::ChangeMembers { .. } => {
                reply_of::<GroupUpdated>(frame).map(|updated| {
                    self.put_group(updated.group.clone(), now);
                    Outcome::Group(updated.group)
                })
            }
        };
        self.notify(Event::Performed { id, result });
    }

    /// Answers an operation with a failure, if it still waits.
    pub(super) fn fail_operation(&mut self, id: OperationId, state: State, reason: &str) {
        if self.operations.pending.remove(&id).is_some() {
            self.notify(Event::Performed {
                id,
                result: Err(ErrorReply::new(state, reason)),
            });
        }
    }
}
