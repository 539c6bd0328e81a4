//! Who and what the user sees besides messages: the directory (51888) with
//! pushed presence and signatures and 52888 refreshes, the user's groups
//! (53888, in pages), the company broadcasts (55888) and the user's own
//! presence (33888).

use super::group_pages::{GroupPages, PageOutcome};
use super::links::Request;
use super::{Engine, Event, Wanted, encode, reply_of};
use crate::cache::CachedBroadcast;
use crate::envelope::Frame;
use crate::ids::{BroadcastId, UserId};
use crate::packets::broadcast::{Broadcast, BroadcastPage, BroadcastQuery};
use crate::packets::directory::{Contact, Directory, DirectoryQuery};
use crate::packets::groups::{Group, Groups};
use crate::packets::login::Push;
use crate::packets::profile::{Presence, PresenceUpdate, SignatureQuery, Signatures};
use crate::service::Service;
use crate::sorted_map::{SortedMap, SortedSet};

/// The directory, groups, broadcasts and presence.
#[derive(Debug)]
pub(super) struct Roster {
    pub(super) directory: Option<Directory>,
    directory_wanted: Wanted,
    pub(super) groups: Option<Vec<Group>>,
    groups_wanted: Wanted,
    group_pages: GroupPages,
    /// The company broadcasts, by id.
    pub(super) broadcasts: SortedMap<BroadcastId, CachedBroadcast>,
    broadcasts_wanted: Wanted,
    /// The broadcasts now being synced are this device's first: the
    /// company's history, counted read.
    broadcasts_backlog: bool,
    /// The user chose to show as busy (else: online while the app is
    /// visible, away while it is hidden).
    pub(super) busy: bool,
    /// The presence the server last took from this session.
    presence_sent: Option<Presence>,
    /// Contacts whose signatures are to be fetched (52888).
    pub(super) signatures_wanted: SortedSet<UserId>,
}

impl Roster {
    pub(super) fn new(
        directory: Option<Directory>,
        groups: Option<Vec<Group>>,
        broadcasts: Vec<CachedBroadcast>,
    ) -> Roster {
        Roster {
            directory,
            directory_wanted: Wanted::No,
            groups,
            groups_wanted: Wanted::No,
            group_pages: GroupPages::default(),
            broadcasts: broadcasts
                .into_iter()
                .map(|b| (b.broadcast.id, b))
                .collect(),
            broadcasts_wanted: Wanted::No,
            broadcasts_backlog: false,
            busy: false,
            presence_sent: None,
            signatures_wanted: SortedSet::new(),
        }
    }

    /// A login: everything is synced again; `broadcasts_synced` says whether
    /// this device has had its first broadcast sync.
    pub(super) fn logged_in(&mut self, broadcasts_synced: bool) {
        self.directory_wanted = Wanted::Yes;
        self.groups_wanted = Wanted::Yes;
        self.broadcasts_wanted = Wanted::Yes;
        self.broadcasts_backlog = !broadcasts_synced;
        // The server marks every new session online.
        self.presence_sent = Some(Presence::Online);
    }

    pub(super) fn stream_lost(&mut self) {
        self.presence_sent = None;
    }

    /// The socket carrying `request` dropped: ask again.
    pub(super) fn ask_again(&mut self, request: &Request) {
        match request {
            Request::Directory => self.directory_wanted = Wanted::Yes,
            Request::Groups(_) => {
                self.groups_wanted = Wanted::Yes;
                self.group_pages.restart();
            }
            Request::Broadcasts => self.broadcasts_wanted = Wanted::Yes,
            _ => {}
        }
    }

    pub(super) fn presence_lost(&mut self) {
        self.presence_sent = None;
    }

    /// A group notice arrived: the groups are refreshed.
    pub(super) fn group_notice(&mut self) {
        if self.groups_wanted == Wanted::No {
            self.groups_wanted = Wanted::Yes;
        }
    }

    /// A group was created: the groups are refreshed.
    pub(super) fn group_created(&mut self) {
        self.groups_wanted = Wanted::Yes;
    }

    /// The presence this session shows.
    pub(super) fn presence(&self, visible: bool) -> Presence {
        if self.busy {
            Presence::Busy
        } else if visible {
            Presence::Online
        } else {
            Presence::Away
        }
    }
}

impl Engine {
    /// Asks for what the roster wants: the directory, the next group page,
    /// broadcasts, a presence change, signatures.
    pub(super) fn ask_roster(&mut self, now: i64) {
        if self.roster.directory_wanted == Wanted::Yes
            && self.request(
                Service::SyncContacts,
                Request::Directory,
                encode(&DirectoryQuery { user: None }),
                now,
            )
        {
            self.roster.directory_wanted = Wanted::Asked;
        }
        if self.roster.groups_wanted == Wanted::Yes {
            let (query, after) = self.roster.group_pages.query();
            if self.request(
                Service::SyncGroups,
                Request::Groups(after),
                encode(&query),
                now,
            ) {
                self.roster.groups_wanted = Wanted::Asked;
            }
        }
        if self.roster.broadcasts_wanted == Wanted::Yes {
            let since = self.roster.broadcasts.keys().next_back().copied();
            let frame = encode(&BroadcastQuery {
                since,
                limit: Some(crate::limits::MAX_PAGE),
            });
            if self.request(Service::SyncBroadcasts, Request::Broadcasts, frame, now) {
                self.roster.broadcasts_wanted = Wanted::Asked;
            }
        }
        let presence = self.presence();
        if self
            .roster
            .presence_sent
            .is_some_and(|sent| sent != presence)
            && !self.links.asked(Service::Presence)
        {
            let frame = encode(&PresenceUpdate {
                user: self.meta.user.clone(),
                presence,
            });
            self.request(Service::Presence, Request::Presence(presence), frame, now);
        }
        if !self.roster.signatures_wanted.is_empty() && !self.links.asked(Service::SyncSignatures) {
            let users: Vec<UserId> = self
                .roster
                .signatures_wanted
                .iter()
                .take(crate::limits::MAX_SIGNATURE_USERS)
                .cloned()
                .collect();
            let frame = encode(&SignatureQuery {
                users: users.clone(),
            });
            if self.request(Service::SyncSignatures, Request::Signatures, frame, now) {
                for user in &users {
                    self.roster.signatures_wanted.remove(user);
                }
            }
        }
    }

    /// A push other than a message or a sign-out.
    pub(super) fn roster_push(&mut self, push: Push, now: i64) {
        match push {
            Push::Presence { presence } => {
                let (user, presence) = (presence.user, presence.presence);
                self.edit_contact(&user, now, |c| c.presence = presence);
            }
            Push::Signature { signature } => {
                let signing = signature.signing;
                self.edit_contact(&signature.user, now, |c| c.signing = signing);
            }
            Push::Broadcast { broadcast } => {
                let fresh = !self.roster.broadcasts.contains_key(&broadcast.id);
                let own = broadcast.from == self.meta.user;
                self.take_broadcasts(vec![broadcast.clone()], own, now);
                if fresh && !own {
                    self.notify(Event::BroadcastArrived(broadcast));
                }
            }
            Push::Call { call } => self.notify(Event::CallInvited(call)),
            Push::CallEnded { call_ended } => self.notify(Event::CallEnded(call_ended)),
            Push::Meeting { meeting } => self.notify(Event::MeetingChanged(meeting)),
            Push::MeetingEnded { meeting_ended } => self.notify(Event::MeetingEnded(meeting_ended)),
            Push::Conversation { conversation } => {
                self.apply_muted(&conversation.target, conversation.muted)
            }
            Push::Read { read } => self.read_push(&read),
            Push::Reads { reads } => self.group_reads_push(&reads),
            Push::Ding { ding } => self.ding_push(*ding),
            Push::Message(_) | Push::SignedOut { .. } => {}
        }
    }

    pub(super) fn directory_reply(&mut self, frame: &Frame, now: i64) {
        self.roster.directory_wanted = Wanted::No;
        if let Ok(directory) = reply_of::<Directory>(frame)
            && self.roster.directory.as_ref() != Some(&directory)
        {
            self.writes.batch.directory = Some(directory.clone());
            self.roster.directory = Some(directory);
            self.flush_soon(now);
            self.notify(Event::DirectoryChanged);
        }
    }

    pub(super) fn broadcasts_reply(&mut self, frame: &Frame, now: i64) {
        match reply_of::<BroadcastPage>(frame) {
            Ok(page) => {
                let more = page.more && !page.broadcasts.is_empty();
                let read = self.roster.broadcasts_backlog;
                self.take_broadcasts(page.broadcasts, read, now);
                self.roster.broadcasts_wanted = if more { Wanted::Yes } else { Wanted::No };
                if !more {
                    self.roster.broadcasts_backlog = false;
                    if !self.meta.broadcasts_synced {
                        self.meta.broadcasts_synced = true;
                        self.writes.batch.meta = Some(self.position());
                        self.flush_soon(now);
                    }
                }
            }
            // Asked again at the next login.
            Err(_) => self.roster.broadcasts_wanted = Wanted::No,
        }
    }

    pub(super) fn presence_reply(&mut self, presence: Presence) {
        // A refusal is not retried until something changes: asking
        // again at once would only be refused again.
        self.roster.presence_sent = Some(presence);
    }

    pub(super) fn signatures_reply(&mut self, frame: &Frame, now: i64) {
        if let Ok(found) = reply_of::<Signatures>(frame) {
            for (user, signing) in found.signatures {
                self.edit_contact(&user, now, |c| c.signing = signing);
            }
        }
    }

    pub(super) fn groups_reply(
        &mut self,
        after: Option<crate::ids::GroupId>,
        frame: &Frame,
        now: i64,
    ) {
        match reply_of::<Groups>(frame) {
            Ok(page) => match self.roster.group_pages.take(after, page) {
                PageOutcome::Next => self.roster.groups_wanted = Wanted::Yes,
                // A repeated request's answer: the refresh goes on.
                PageOutcome::Stale => {}
                PageOutcome::Done(all) => {
                    self.roster.groups_wanted = Wanted::No;
                    self.replace_groups(all, now);
                }
            },
            // Asked again at the next login or group notice.
            Err(_) => {
                self.roster.groups_wanted = Wanted::No;
                self.roster.group_pages.restart();
            }
        }
    }

    /// Replaces the user's groups with `all` (every page of a refresh).
    fn replace_groups(&mut self, mut all: Vec<Group>, now: i64) {
        // Groups the user is no longer in are kept, without them among the
        // members: their history keeps its name, and the app knows not to
        // offer posting there.
        let me = self.meta.user.clone();
        for mut old in self.roster.groups.clone().unwrap_or_default() {
            if !all.iter().any(|g| g.gid == old.gid) {
                old.member.0.retain(|m| m != &me);
                all.push(old);
            }
        }
        crate::sorting::sort_by_key(&mut all, |g| g.gid);
        self.set_groups(all, now);
    }

    /// Keeps broadcasts not seen before (`read` or not), and tells the UI.
    pub(super) fn take_broadcasts(&mut self, broadcasts: Vec<Broadcast>, read: bool, now: i64) {
        let mut changed = false;
        for broadcast in broadcasts {
            if !self.roster.broadcasts.contains_key(&broadcast.id) {
                let id = broadcast.id;
                self.roster
                    .broadcasts
                    .insert(id, CachedBroadcast { broadcast, read });
                changed = true;
            }
        }
        if changed {
            self.writes.batch.broadcasts = Some(self.roster.broadcasts.values().cloned().collect());
            self.flush_soon(now);
            self.notify(Event::BroadcastsChanged);
        }
    }

    /// Replaces a group in the user's list with the server's view of it
    /// (after leaving, without the user among its members).
    pub(super) fn put_group(&mut self, group: Group, now: i64) {
        let mut groups = self.roster.groups.clone().unwrap_or_default();
        groups.retain(|g| g.gid != group.gid);
        groups.push(group);
        crate::sorting::sort_by_key(&mut groups, |g| g.gid);
        self.set_groups(groups, now);
    }

    fn set_groups(&mut self, groups: Vec<Group>, now: i64) {
        if self.roster.groups.as_ref() != Some(&groups) {
            self.writes.batch.groups = Some(groups.clone());
            self.roster.groups = Some(groups);
            self.flush_soon(now);
            self.notify(Event::GroupsChanged);
        }
    }

    /// Changes one contact in the directory (a push, a reply), if it is there.
    pub(super) fn edit_contact(
        &mut self,
        user: &UserId,
        now: i64,
        edit: impl FnOnce(&mut Contact),
    ) {
        let Some(directory) = self.roster.directory.as_mut() else {
            return;
        };
        let Some(contact) = directory.contacts.iter_mut().find(|c| &c.user == user) else {
            return;
        };
        let before = contact.clone();
        edit(contact);
        if *contact != before {
            self.writes.batch.directory = Some(directory.clone());
            self.flush_soon(now);
            self.notify(Event::DirectoryChanged);
        }
    }
}
