//! Who has read a message (已读回执, PROTOCOL §16), computed from read marks.
//!
//! The server sends marks, never counts: one mark per member is enough to
//! answer "who has read message m" for every message of a group, so the
//! traffic grows with the members, not with members × messages.

use crate::ids::{MessageId, UserId};
use crate::packets::receipts::GroupReads;
use crate::sorted_map::SortedMap;

/// What the sender can tell about one reader and one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// 已读.
    Read,
    /// 未读.
    Unread,
    /// The reader does not share read receipts (§16.5), or nothing is
    /// known yet.
    Unknown,
}

/// The receipt of a 1:1 message from the other person's mark: `peer_read`
/// their newest message read, `private` they do not share receipts.
pub fn peer_receipt(peer_read: Option<MessageId>, private: bool, message: MessageId) -> Receipt {
    if private {
        Receipt::Unknown
    } else if peer_read.is_some_and(|read| read >= message) {
        Receipt::Read
    } else {
        Receipt::Unread
    }
}

/// One member's mark and the stretch of the group's history that is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Member {
    /// The newest message stored before they joined (`None`: from the start).
    joined: Option<MessageId>,
    /// The last message they could read, once they left.
    left: Option<MessageId>,
    /// The newest message they read.
    read: Option<MessageId>,
    private: bool,
}

impl Member {
    /// Whether a message sent at `message` was for them to read.
    fn is_for(&self, message: MessageId) -> bool {
        self.joined.is_none_or(|joined| joined < message)
            && self.left.is_none_or(|left| message <= left)
    }

    fn receipt(&self, message: MessageId) -> Receipt {
        if self.private {
            Receipt::Unknown
        } else if self.read.is_some_and(|read| read >= message) {
            Receipt::Read
        } else {
            Receipt::Unread
        }
    }
}

/// How many of the members a message is for have read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadCounts {
    /// 已读.
    pub read: usize,
    /// 未读: "N人未读".
    pub unread: usize,
    /// They do not share read receipts.
    pub unknown: usize,
}

impl ReadCounts {
    /// 全部已读: everyone it is for has read it (and nobody is unknown).
    pub fn all_read(&self) -> bool {
        self.unread == 0 && self.unknown == 0
    }
}

/// Who read a message, and who did not, in member order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadStatus {
    /// 已读.
    pub read: Vec<UserId>,
    /// 未读.
    pub unread: Vec<UserId>,
    /// Not sharing read receipts.
    pub unknown: Vec<UserId>,
}

/// A watched group's marks (§16.2), as full lists and changes arrive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupReceipts {
    members: SortedMap<UserId, Member>,
    /// A full list has arrived: until then nothing can be told.
    known: bool,
}

impl GroupReceipts {
    /// Takes a `reads` push: a full list replaces everything; a change moves
    /// the marks of members already known. A change for someone not in the
    /// list (they joined since) waits for the full list that the client
    /// asks for on the membership notice.
    pub fn apply(&mut self, reads: &GroupReads) {
        if reads.full {
            self.members = reads
                .marks
                .iter()
                .map(|mark| {
                    let member = Member {
                        joined: mark.joined,
                        left: mark.left,
                        read: mark.id,
                        private: mark.private,
                    };
                    (mark.user.clone(), member)
                })
                .collect();
            self.known = true;
            return;
        }
        for mark in &reads.marks {
            if let Some(member) = self.members.get_mut(&mark.user) {
                member.read = member.read.max(mark.id);
                member.private = mark.private;
            }
        }
    }

    /// Whether a full list has arrived.
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// The members `message` (sent by `sender`) is for: every member and
    /// former member whose stretch of history holds it, but the sender.
    fn readers<'a>(
        &'a self,
        message: MessageId,
        sender: &'a UserId,
    ) -> impl Iterator<Item = (&'a UserId, &'a Member)> + 'a {
        self.members
            .iter()
            .filter(move |(user, member)| *user != sender && member.is_for(message))
    }

    /// How many of the members `message` is for have read it.
    pub fn counts(&self, message: MessageId, sender: &UserId) -> ReadCounts {
        let mut counts = ReadCounts::default();
        for (_, member) in self.readers(message, sender) {
            match member.receipt(message) {
                Receipt::Read => counts.read += 1,
                Receipt::Unread => counts.unread += 1,
                Receipt::Unknown => counts.unknown += 1,
            }
        }
        counts
    }

    /// Who read `message`, and who did not.
    pub fn status(&self, message: MessageId, sender: &UserId) -> ReadStatus {
        let mut status = ReadStatus::default();
        for (user, member) in self.readers(message, sender) {
            let list = match member.receipt(message) {
                Receipt::Read => &mut status.read,
                Receipt::Unread => &mut status.unread,
                Receipt::Unknown => &mut status.unknown,
            };
            list.push(user.clone());
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::GroupId;
    use crate::packets::receipts::MemberRead;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("user id")
    }

    fn mark(id: &str, read: Option<u64>) -> MemberRead {
        MemberRead {
            user: user(id),
            id: read.map(MessageId),
            joined: None,
            left: None,
            private: false,
        }
    }

    fn reads(full: bool, marks: Vec<MemberRead>) -> GroupReads {
        GroupReads {
            target: GroupId::new(7).expect("gid"),
            full,
            marks,
        }
    }

    #[test]
    fn a_late_joiner_and_an_early_leaver_are_not_counted() {
        let sender = user("13800000001");
        let mut receipts = GroupReceipts::default();
        assert!(!receipts.is_known());
        receipts.apply(&reads(
            true,
            vec![
                mark("13800000001", Some(20)),
                mark("13800000002", Some(10)),
                MemberRead {
                    joined: Some(MessageId(10)),
                    ..mark("13800000003", None)
                },
                MemberRead {
                    left: Some(MessageId(10)),
                    ..mark("13800000004", Some(10))
                },
                MemberRead {
                    private: true,
                    ..mark("13800000005", None)
                },
            ],
        ));
        assert_eq!(
            receipts.counts(MessageId(10), &sender),
            ReadCounts {
                read: 2,
                unread: 0,
                unknown: 1
            }
        );
        let status = receipts.status(MessageId(11), &sender);
        assert_eq!(
            status.unread,
            vec![user("13800000002"), user("13800000003")]
        );
        assert_eq!(status.unknown, vec![user("13800000005")]);
        assert!(status.read.is_empty());

        // A change moves a known member's mark, never back, and skips a
        // stranger until the next full list.
        receipts.apply(&reads(
            false,
            vec![
                mark("13800000003", Some(11)),
                mark("13800000002", Some(9)),
                mark("13800000009", Some(11)),
            ],
        ));
        let status = receipts.status(MessageId(11), &sender);
        assert_eq!(status.read, vec![user("13800000003")]);
        assert_eq!(status.unread, vec![user("13800000002")]);
    }

    #[test]
    fn a_one_to_one_receipt_follows_the_other_persons_mark() {
        assert_eq!(
            peer_receipt(Some(MessageId(5)), false, MessageId(5)),
            Receipt::Read
        );
        assert_eq!(
            peer_receipt(Some(MessageId(5)), false, MessageId(6)),
            Receipt::Unread
        );
        assert_eq!(peer_receipt(None, false, MessageId(1)), Receipt::Unread);
        assert_eq!(
            peer_receipt(Some(MessageId(9)), true, MessageId(1)),
            Receipt::Unknown
        );
    }
}
