//! Property test: the counts computed from a group's marks (a full list,
//! then changes) equal a brute-force count over every message, every member
//! and the times they joined and left (PROTOCOL §16.2).

use penpen_core::ids::{GroupId, MessageId, UserId};
use penpen_core::packets::receipts::{GroupReads, MemberRead};
use penpen_core::receipts::{GroupReceipts, ReadCounts};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const PEOPLE: usize = 8;

fn person(index: usize) -> UserId {
    UserId::parse(&format!("138000000{:02}", index + 1)).expect("user id")
}

/// What happens in the group, in order.
#[derive(Debug, Clone)]
enum Event {
    /// Someone (a current member, picked by index among them) sends a message.
    Send(usize),
    /// Someone who never was a member joins.
    Join(usize),
    /// A current member leaves.
    Leave(usize),
    /// A current member reads up to the message this far back from the newest.
    Read(usize, usize),
    /// Someone stops or starts sharing read receipts.
    Private(usize, bool),
}

fn event(membership: bool) -> impl Strategy<Value = Event> {
    let who = 0..PEOPLE;
    let common = prop_oneof![
        4 => who.clone().prop_map(Event::Send),
        6 => (who.clone(), 0..6usize).prop_map(|(who, back)| Event::Read(who, back)),
        1 => (who.clone(), any::<bool>()).prop_map(|(who, on)| Event::Private(who, on)),
    ];
    if membership {
        prop_oneof![
            6 => common,
            1 => who.clone().prop_map(Event::Join),
            1 => who.prop_map(Event::Leave),
        ]
        .boxed()
    } else {
        common.boxed()
    }
}

/// The group as a brute-force model: every message with who it was for at
/// the moment it was sent, and every message each person has read.
#[derive(Default)]
struct Model {
    /// Message id → (sender, the members other than the sender then).
    messages: BTreeMap<u64, (Option<UserId>, BTreeSet<UserId>)>,
    members: BTreeSet<UserId>,
    /// Everyone who ever joined: they can join only once in this model (a
    /// rejoin counts from the rejoin, like a first join).
    ever: BTreeSet<UserId>,
    joined: BTreeMap<UserId, Option<u64>>,
    left: BTreeMap<UserId, u64>,
    read: BTreeMap<UserId, BTreeSet<u64>>,
    mark: BTreeMap<UserId, u64>,
    private: BTreeSet<UserId>,
}

impl Model {
    fn new() -> Model {
        let mut model = Model::default();
        for founder in 0..3 {
            let user = person(founder);
            model.members.insert(user.clone());
            model.ever.insert(user.clone());
            model.joined.insert(user, None);
        }
        // The group's creation notice is message 1, sent by nobody.
        model.messages.insert(1, (None, model.members.clone()));
        model
    }

    fn newest(&self) -> u64 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    fn nth_member(&self, index: usize) -> Option<UserId> {
        let members: Vec<&UserId> = self.members.iter().collect();
        (!members.is_empty()).then(|| members[index % members.len()].clone())
    }

    fn apply(&mut self, event: &Event) {
        match *event {
            Event::Send(index) => {
                let Some(sender) = self.nth_member(index) else {
                    return;
                };
                let mut for_whom = self.members.clone();
                for_whom.remove(&sender);
                let id = self.newest() + 1;
                self.messages.insert(id, (Some(sender), for_whom));
            }
            Event::Join(index) => {
                let user = person(index);
                if self.ever.insert(user.clone()) {
                    self.members.insert(user.clone());
                    self.joined.insert(user, Some(self.newest()));
                }
            }
            Event::Leave(index) => {
                if let Some(user) = self.nth_member(index) {
                    self.members.remove(&user);
                    self.left.insert(user, self.newest());
                }
            }
            Event::Read(index, back) => {
                let Some(user) = self.nth_member(index) else {
                    return;
                };
                let up_to = self.newest().saturating_sub(back as u64).max(1);
                let read = self.read.entry(user.clone()).or_default();
                read.extend(self.messages.keys().copied().filter(|id| *id <= up_to));
                let mark = self.mark.entry(user).or_default();
                *mark = (*mark).max(up_to);
            }
            Event::Private(index, on) => {
                let user = person(index);
                if on {
                    self.private.insert(user);
                } else {
                    self.private.remove(&user);
                }
            }
        }
    }

    /// The count of one message, by brute force over its members.
    fn count(&self, id: u64) -> ReadCounts {
        let (_, for_whom) = &self.messages[&id];
        let mut counts = ReadCounts::default();
        for user in for_whom {
            if self.private.contains(user) {
                counts.unknown += 1;
            } else if self.read.get(user).is_some_and(|read| read.contains(&id)) {
                counts.read += 1;
            } else {
                counts.unread += 1;
            }
        }
        counts
    }

    fn mark_of(&self, user: &UserId) -> MemberRead {
        let private = self.private.contains(user);
        MemberRead {
            user: user.clone(),
            id: (!private)
                .then(|| self.mark.get(user).copied().map(MessageId))
                .flatten(),
            joined: None,
            left: None,
            private,
        }
    }

    /// What the server sends on a watch.
    fn full_list(&self) -> GroupReads {
        let marks = self
            .ever
            .iter()
            .map(|user| MemberRead {
                joined: self.joined[user].map(MessageId),
                left: self.left.get(user).copied().map(MessageId),
                ..self.mark_of(user)
            })
            .collect();
        GroupReads {
            target: GroupId::new(7).expect("gid"),
            full: true,
            marks,
        }
    }

    /// What the server sends after the marks of `moved` changed.
    fn changes(&self, moved: &BTreeSet<UserId>) -> GroupReads {
        GroupReads {
            target: GroupId::new(7).expect("gid"),
            full: false,
            marks: moved.iter().map(|user| self.mark_of(user)).collect(),
        }
    }
}

fn moved_by(event: &Event, model: &Model) -> Option<UserId> {
    match *event {
        Event::Read(index, _) => model.nth_member(index),
        Event::Private(index, _) => Some(person(index)),
        _ => None,
    }
}

proptest! {
    #[test]
    fn counts_from_marks_equal_a_brute_force_count(
        before in proptest::collection::vec(event(true), 0..60),
        after in proptest::collection::vec(event(false), 0..40),
        coalesce in 1..5usize,
    ) {
        let mut model = Model::new();
        for event in &before {
            model.apply(event);
        }
        // The watch: a full list; then changes, several reads coalesced
        // into one push, as the server does.
        let mut receipts = GroupReceipts::default();
        receipts.apply(&model.full_list());
        for chunk in after.chunks(coalesce) {
            let mut moved = BTreeSet::new();
            for event in chunk {
                if let Some(user) = moved_by(event, &model) {
                    moved.insert(user);
                }
                model.apply(event);
            }
            receipts.apply(&model.changes(&moved));
        }
        for (id, (sender, _)) in &model.messages {
            let Some(sender) = sender else { continue };
            let counted = receipts.counts(MessageId(*id), sender);
            prop_assert_eq!(counted, model.count(*id), "message {}", id);
            let status = receipts.status(MessageId(*id), sender);
            prop_assert_eq!(
                (status.read.len(), status.unread.len(), status.unknown.len()),
                (counted.read, counted.unread, counted.unknown)
            );
        }
    }
}
