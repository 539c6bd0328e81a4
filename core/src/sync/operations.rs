//! Operations: changes the user asks of the server that are done at once or
//! not at all — a signature, a password, a discussion group.
//!
//! Unlike messages, they are not queued while offline: each one is refused
//! up front when the engine is not connected, and otherwise answered exactly
//! once with [`super::Event::Performed`]. A password change made later, on
//! a connection the user no longer watches, would surprise them; a group
//! created twice after a retry would too.

use crate::envelope::{Encoding, Frame, FrameError};
use crate::ids::{BroadcastId, GroupId, UserId};
use crate::packets::Packet;
use crate::packets::broadcast::{BroadcastKind, SendBroadcast};
use crate::packets::groups::{
    Group, GroupCreate, GroupMembersChange, GroupRename, Members, MembersAction,
};
use crate::packets::profile::{PasswordUpdate, SignatureUpdate};
use crate::service::Service;

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
            Operation::ChangeMembers {
                gid,
                action,
                members,
            } => checked(GroupMembersChange {
                gid,
                action,
                member: Members(members).deduplicated(),
            }),
        }
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
