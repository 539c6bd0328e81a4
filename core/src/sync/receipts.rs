//! Read receipts (PROTOCOL §16) in the engine: the user's own read marks
//! (raised by what is on screen, sent on 20888 at most once a
//! [`READS_COALESCE_MS`] per conversation, caught up on 50888 after every
//! login and sent again when the server holds less), the other person's
//! mark in each 1:1 conversation, the marks of the group being watched,
//! the urgent reminders (加急) to the user, and whether the user shares
//! receipts.
//!
//! Own marks live in the conversation rows (`read_up_to`, `read_synced`),
//! so they are cached with the unread counts they lower; the group marks,
//! reminders and the sharing choice live here, in memory: the server sends
//! them again after every login.

use super::links::Request;
use super::timers::{Timer, TimerTable};
use super::{Action, Engine, Event, Wanted, encode, reply_of, unread};
use crate::cache::Conversation;
use crate::envelope::Frame;
use crate::ids::{GroupId, MessageId, Peer};
use crate::packets::receipts::{
    DingNotice, GroupReads, PeerRead, READS_COALESCE_MS, ReadMark, ReadsPage, ReadsQuery, Watch,
};
use crate::receipts::GroupReceipts;
use crate::service::Service;
use crate::sorted_map::{SortedMap, SortedSet};

/// The engine's part of read receipts that is not in the conversation rows.
#[derive(Debug)]
pub(super) struct Receipts {
    /// Own marks not sent yet, per conversation: the highest.
    unsent: SortedMap<Peer, MessageId>,
    /// When each conversation's last mark went out on this connection.
    sent_at: SortedMap<Peer, i64>,
    /// The group open in a visible window.
    watched: Option<GroupId>,
    /// What this connection's server was last told to watch (`None`:
    /// nothing since the login, so nothing is watched there).
    watch_told: Option<Option<GroupId>>,
    /// The watched group's marks, once a full list came.
    group: Option<(GroupId, GroupReceipts)>,
    /// Reminders not handled yet, oldest first.
    dings: Vec<DingNotice>,
    /// Reminders (message, when) read or dismissed: a replay of one at
    /// login is not shown again.
    handled: SortedSet<(MessageId, i64)>,
    /// The user's 发送已读回执 setting, once the 32888 list told it.
    pub(super) shared: Option<bool>,
    /// The 50888 catch-up of marks.
    catch_up: Wanted,
    /// The newest message filed in each conversation since the start (the
    /// row's preview may be an unsent message of the user's, without an id).
    newest: SortedMap<Peer, MessageId>,
    /// The highest mark of each conversation sent on this connection: the
    /// catch-up does not send it again (the server may have refused it,
    /// say in a group the user left, and the resync must not send it every
    /// time).
    sent: SortedMap<Peer, MessageId>,
}

impl Receipts {
    pub(super) fn new() -> Receipts {
        Receipts {
            unsent: SortedMap::new(),
            sent_at: SortedMap::new(),
            watched: None,
            watch_told: None,
            group: None,
            dings: Vec::new(),
            handled: SortedSet::new(),
            shared: None,
            catch_up: Wanted::No,
            newest: SortedMap::new(),
            sent: SortedMap::new(),
        }
    }

    /// A login: marks are caught up, and the server, which forgot the
    /// watch with the old connection, is told it again.
    pub(super) fn logged_in(&mut self) {
        self.catch_up = Wanted::Yes;
        self.watch_told = None;
        self.sent_at.clear();
        self.sent.clear();
    }

    /// The stream dropped: nothing is asked until the next login.
    pub(super) fn stream_lost(&mut self) {
        self.catch_up = Wanted::No;
        self.watch_told = None;
    }

    /// The periodic resync while connected: marks are caught up again too.
    pub(super) fn resync(&mut self) {
        if self.catch_up == Wanted::No {
            self.catch_up = Wanted::Yes;
        }
    }

    /// The catch-up's socket dropped: ask again.
    pub(super) fn ask_again(&mut self) {
        if self.catch_up == Wanted::Asked {
            self.catch_up = Wanted::Yes;
        }
    }

    /// Message `id` was filed in `conversation`.
    pub(super) fn filed(&mut self, conversation: &Peer, id: MessageId) {
        let newest = self.newest.get_or_insert_with(conversation.clone(), || id);
        *newest = (*newest).max(id);
    }

    /// The membership of `gid` changed: a watcher asks for a new full list.
    pub(super) fn membership_changed(&mut self, gid: GroupId) {
        if self.watched == Some(gid) {
            self.watch_told = None;
        }
    }

    /// When the next held-back mark may go (only while the stream is live).
    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        for peer in self.unsent.keys() {
            if let Some(sent) = self.sent_at.get(peer) {
                table.add(Timer::ReadMark, sent + READS_COALESCE_MS);
            }
        }
    }

    /// The marks whose conversation may send one at `now`.
    fn due(&self, now: i64) -> Vec<(Peer, MessageId)> {
        self.unsent
            .iter()
            .filter(|(peer, _)| {
                self.sent_at
                    .get(peer)
                    .is_none_or(|sent| now >= sent + READS_COALESCE_MS)
            })
            .map(|(peer, id)| (peer.clone(), *id))
            .collect()
    }

    /// Drops the reminders in `conversation` up to `mark` (the user read them).
    fn read_dings(&mut self, conversation: &Peer, mark: MessageId) -> bool {
        let before = self.dings.len();
        let handled = &mut self.handled;
        self.dings.retain(|ding| {
            let read = &ding.target == conversation && ding.message.id <= mark;
            if read {
                handled.insert((ding.message.id, ding.ts));
            }
            !read
        });
        self.dings.len() != before
    }
}

impl Engine {
    /// The UI shows message `id` of `peer` (the newest on screen) in a
    /// visible window: the user's mark rises to it, the conversation's
    /// unread count drops to the messages after it, and the mark goes to
    /// the server (the highest of a conversation at most about once a
    /// second, when live; made offline, after the next login). An id above
    /// the newest message the engine has is taken as that one: a mark is
    /// never sent for a message the user has not received.
    pub fn mark_seen(&mut self, peer: &Peer, id: MessageId, now: i64) {
        self.advance(now);
        let Some(row) = self.conversations.get(peer) else {
            return;
        };
        let newest = row
            .last
            .as_ref()
            .and_then(|last| last.id)
            .max(self.receipts.newest.get(peer).copied());
        let mark = match newest {
            Some(newest) => id.min(newest),
            // The preview is an unsent message and nothing arrived since
            // the start: the UI shows what the cache holds, all received.
            None if row.last.is_some() => id,
            None => return,
        };
        if row.read_up_to.is_some_and(|held| held >= mark) {
            return;
        }
        self.edit_conversation(peer, |row| {
            row.read_up_to = Some(mark);
            unread::read_through(row, mark);
        });
        self.receipts.read_dings(peer, mark);
        let unsent = self
            .receipts
            .unsent
            .get_or_insert_with(peer.clone(), || mark);
        *unsent = (*unsent).max(mark);
        self.drive(now);
    }

    /// The group chat open in a visible window (none: no group is): its
    /// members' marks are watched (§16.2), and kept in
    /// [`Engine::group_receipts`].
    pub fn watch_reads(&mut self, group: Option<GroupId>, now: i64) {
        self.advance(now);
        if self.receipts.watched != group {
            self.receipts.watched = group;
            if self.receipts.group.as_ref().map(|(gid, _)| *gid) != group {
                self.receipts.group = None;
            }
        }
        self.drive(now);
    }

    /// The watched group's marks: `None` when `group` is not watched or its
    /// full list has not come yet.
    pub fn group_receipts(&self, group: GroupId) -> Option<&GroupReceipts> {
        match &self.receipts.group {
            Some((gid, receipts)) if *gid == group && receipts.is_known() => Some(receipts),
            _ => None,
        }
    }

    /// Urgent reminders (加急) to the user not handled yet, oldest first.
    /// One drops out when the user's mark in its conversation reaches its
    /// message, or on [`Engine::dismiss_ding`].
    pub fn dings(&self) -> &[DingNotice] {
        &self.receipts.dings
    }

    /// The user dismissed the reminder about `message`.
    pub fn dismiss_ding(&mut self, message: MessageId) {
        let handled = &mut self.receipts.handled;
        self.receipts.dings.retain(|ding| {
            let dismissed = ding.message.id == message;
            if dismissed {
                handled.insert((ding.message.id, ding.ts));
            }
            !dismissed
        });
    }

    /// Whether the user shares read receipts (发送已读回执), from the 32888
    /// list (`None`: not known yet).
    pub fn receipts_shared(&self) -> Option<bool> {
        self.receipts.shared
    }

    /// Sends what read receipts owe the server: the marks that are due,
    /// the watch, the catch-up of marks.
    pub(super) fn ask_receipts(&mut self, now: i64) {
        if self.receipts.catch_up == Wanted::Yes {
            let frame = encode(&ReadsQuery {
                reads: self.meta.reads_version,
            });
            if self.request(Service::SyncMessages, Request::Reads, frame, now) {
                self.receipts.catch_up = Wanted::Asked;
            }
        }
        let watched = self.receipts.watched;
        let tell = match self.receipts.watch_told {
            None => watched.is_some(),
            Some(told) => told != watched,
        };
        if tell {
            self.receipts.watch_told = Some(watched);
            self.act(Action::Send(
                Service::Login,
                encode(&Watch { watch: watched }),
            ));
        }
        self.send_marks(now);
    }

    /// Sends each held-back mark whose conversation may send one now.
    pub(super) fn send_marks(&mut self, now: i64) {
        if !self.stream.is_live() {
            return;
        }
        let due = self.receipts.due(now);
        if due.is_empty() {
            return;
        }
        // The rows that raised these marks are written first.
        self.flush();
        for (peer, id) in due {
            self.receipts.unsent.remove(&peer);
            self.receipts.sent_at.insert(peer.clone(), now);
            self.receipts.sent.insert(peer, id);
            self.act(Action::Send(Service::Login, encode(&ReadMark { read: id })));
        }
    }

    /// A `read` push: the user's own mark from another device, or the
    /// other person's in a 1:1 conversation.
    pub(super) fn read_push(&mut self, read: &PeerRead) {
        let (own, peer_moved) = self.take_read(read);
        if own {
            self.flush();
            self.notify(Event::ConversationsChanged);
        }
        if let Some(peer) = peer_moved {
            self.flush();
            self.notify(Event::ReadsChanged(peer));
        }
    }

    /// Puts one mark into its row (without writing it yet): whether the
    /// user's own rows changed, and the 1:1 conversation whose other
    /// person's mark moved.
    fn take_read(&mut self, read: &PeerRead) -> (bool, Option<Peer>) {
        if read.by == self.meta.user {
            let Some(mark) = read.id else {
                return (false, None);
            };
            let conversation = read.target.clone();
            if self
                .receipts
                .unsent
                .get(&conversation)
                .is_some_and(|unsent| *unsent <= mark)
            {
                self.receipts.unsent.remove(&conversation);
            }
            let dings = self.receipts.read_dings(&conversation, mark);
            let rows = self.edit_read_row(&conversation, |row| {
                row.read_up_to = row.read_up_to.max(Some(mark));
                row.read_synced = row.read_synced.max(Some(mark));
                if let Some(held) = row.read_up_to {
                    unread::read_through(row, held);
                }
            });
            return (rows || dings, None);
        }
        // Another person's mark: only 1:1 conversations (a group's come
        // through the watch), named by the reader.
        if read.target.group().is_some() {
            return (false, None);
        }
        let conversation = Peer::User(read.by.clone());
        let moved = self.edit_read_row(&conversation, |row| {
            row.peer_private = read.private;
            if let Some(id) = read.id {
                row.peer_read = row.peer_read.max(Some(id));
            }
        });
        (false, moved.then_some(conversation))
    }

    /// Changes a row for a read mark, in the write batch but not written
    /// yet; a conversation without a row gets a hidden one (its first
    /// message shows it). Whether it changed.
    fn edit_read_row(&mut self, peer: &Peer, edit: impl FnOnce(&mut Conversation)) -> bool {
        let existed = self.conversations.get(peer).is_some();
        let row = self.conversations.row_mut(peer);
        if !existed {
            row.hidden = true;
        }
        let before = row.clone();
        edit(row);
        if *row == before && existed {
            return false;
        }
        let row = row.clone();
        self.writes.put_conversation(row);
        true
    }

    /// A page of the 50888 catch-up of marks: applied like pushes, written
    /// with the version it reached in one batch; after the last, own marks
    /// the server holds lower are sent again.
    pub(super) fn reads_reply(&mut self, frame: &Frame, now: i64) {
        let page = match reply_of::<ReadsPage>(frame) {
            Ok(page) => page,
            // A server without read marks: asked again at the next login.
            Err(_) => {
                self.receipts.catch_up = Wanted::No;
                return;
            }
        };
        let mut own = false;
        let mut peers = SortedSet::new();
        for read in &page.reads {
            let (rows, peer) = self.take_read(read);
            own |= rows;
            if let Some(peer) = peer {
                peers.insert(peer);
            }
        }
        self.meta.reads_version = self.meta.reads_version.max(page.version);
        self.writes.batch.meta = Some(self.position());
        let more = page.more && !page.reads.is_empty();
        if more {
            self.receipts.catch_up = Wanted::Yes;
        } else {
            self.receipts.catch_up = Wanted::No;
            self.resend_marks();
        }
        self.flush();
        if own || !peers.is_empty() {
            self.notify(Event::ConversationsChanged);
        }
        for peer in peers.iter() {
            self.notify(Event::ReadsChanged(peer.clone()));
        }
        self.drive(now);
    }

    /// Own marks above what the server is known to hold (made offline, or
    /// lost on the way) go again.
    fn resend_marks(&mut self) {
        let behind: Vec<(Peer, MessageId)> = self
            .conversations
            .rows()
            .filter_map(|row| {
                let mark = row.read_up_to?;
                (row.read_synced < Some(mark)).then(|| (row.peer.clone(), mark))
            })
            .filter(|(peer, mark)| self.receipts.sent.get(peer) < Some(mark))
            .collect();
        for (peer, mark) in behind {
            let unsent = self.receipts.unsent.get_or_insert_with(peer, || mark);
            *unsent = (*unsent).max(mark);
        }
    }

    /// A `reads` push: the watched group's marks, full or changed.
    pub(super) fn group_reads_push(&mut self, reads: &GroupReads) {
        if self.receipts.watched != Some(reads.target) {
            return;
        }
        let receipts = match &mut self.receipts.group {
            Some((gid, receipts)) if *gid == reads.target => receipts,
            slot => &mut slot.insert((reads.target, GroupReceipts::default())).1,
        };
        receipts.apply(reads);
        if receipts.is_known() {
            self.notify(Event::ReadsChanged(Peer::Group(reads.target)));
        }
    }

    /// A `ding` push: a reminder to the user, shown unless its message is
    /// read already or it is one held or handled (a replay at login).
    pub(super) fn ding_push(&mut self, ding: DingNotice) {
        let read = self
            .conversations
            .get(&ding.target)
            .and_then(|c| c.read_up_to)
            .is_some_and(|mark| mark >= ding.message.id);
        let known = (ding.message.id, ding.ts);
        if read
            || self.receipts.handled.contains(&known)
            || self
                .receipts
                .dings
                .iter()
                .any(|held| (held.message.id, held.ts) == known)
        {
            return;
        }
        // A later reminder of the same message replaces the earlier one.
        self.receipts
            .dings
            .retain(|held| held.message.id != ding.message.id);
        self.receipts.dings.push(ding.clone());
        self.notify(Event::Dinged(Box::new(ding)));
    }
}
