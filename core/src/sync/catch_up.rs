//! Catch-up (50888) after every login, page by page from the contiguous
//! point; the resync that runs it again while connected; history pages on
//! demand.

use super::links::Request;
use super::timers::{Timer, TimerTable};
use super::{CATCH_UP_PAGE, Engine, Event, RESYNC_MS, Wanted, encode, is_transient, reply_of};
use crate::cache::CachedMessage;
use crate::envelope::Frame;
use crate::ids::{MessageId, Peer, Seq};
use crate::packets::sync::{CatchUp as CatchUpQuery, History, MessagePage};
use crate::service::Service;
use crate::sorted_map::SortedMap;

/// Catch-up and history: what is asked of 50888.
#[derive(Debug)]
pub(super) struct CatchUp {
    wanted: Wanted,
    /// Where the next catch-up page starts.
    since: Seq,
    /// When the last catch-up finished on this connection.
    caught_up_at: Option<i64>,
    /// The first catch-up of an empty cache (a new device, a rebuilt cache):
    /// what arrives until it is done is history, not news, and is not
    /// counted unread.
    pub(super) first_sync: bool,
    /// Conversations whose older history is wanted: before which id, and
    /// how many messages at most.
    history: SortedMap<Peer, (Option<MessageId>, u32)>,
}

impl CatchUp {
    pub(super) fn new(first_sync: bool) -> CatchUp {
        CatchUp {
            wanted: Wanted::No,
            since: Seq(0),
            caught_up_at: None,
            first_sync,
            history: SortedMap::new(),
        }
    }

    /// Catch up from `contiguous` (a login, a resync).
    pub(super) fn start(&mut self, contiguous: Seq) {
        self.wanted = Wanted::Yes;
        self.since = contiguous;
    }

    /// The page's socket dropped: ask again.
    pub(super) fn ask_again(&mut self) {
        self.wanted = Wanted::Yes;
    }

    /// The stream dropped: catch-up is redone on the next connection.
    pub(super) fn stream_lost(&mut self) {
        self.wanted = Wanted::No;
        self.caught_up_at = None;
    }

    /// A page of up to `limit` messages before `before` is wanted for `peer`.
    pub(super) fn want_history(&mut self, peer: Peer, before: Option<MessageId>, limit: u32) {
        self.history.insert(peer, (before, limit));
    }

    fn resync_at(&self) -> Option<i64> {
        match (self.wanted, self.caught_up_at) {
            (Wanted::No, Some(done)) => Some(done + RESYNC_MS),
            _ => None,
        }
    }

    /// The resync's time (only while the stream is live).
    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        if let Some(at) = self.resync_at() {
            table.add(Timer::Resync, at);
        }
    }

    /// Starts the resync if it is due.
    pub(super) fn resync(&mut self, now: i64, contiguous: Seq) {
        if self.resync_at().is_some_and(|at| now >= at) {
            self.start(contiguous);
        }
    }
}

impl Engine {
    /// Asks for the next catch-up page and the wanted history pages.
    pub(super) fn ask_catch_up(&mut self, now: i64) {
        if self.catch_up.wanted == Wanted::Yes {
            let frame = encode(&CatchUpQuery {
                since: self.catch_up.since,
                limit: Some(CATCH_UP_PAGE),
            });
            if self.request(Service::SyncMessages, Request::CatchUp, frame, now) {
                self.catch_up.wanted = Wanted::Asked;
            }
        }
        let histories: Vec<(Peer, (Option<MessageId>, u32))> = self
            .catch_up
            .history
            .iter()
            .map(|(p, b)| (p.clone(), *b))
            .collect();
        for (peer, (before, limit)) in histories {
            let request = Request::History(peer.clone());
            if !self.links.is_pending(Service::SyncMessages, &request) {
                let frame = encode(&History {
                    target: peer,
                    before,
                    limit: Some(limit),
                });
                self.request(Service::SyncMessages, request, frame, now);
            }
        }
    }

    pub(super) fn catch_up_reply(&mut self, frame: &Frame, now: i64) {
        match reply_of::<MessagePage>(frame) {
            Ok(page) => {
                let more = page.more && !page.messages.is_empty();
                let last = page.messages.iter().filter_map(|m| m.seq).max();
                let since = self.catch_up.since;
                self.catch_up.since = last.unwrap_or(since).max(since);
                self.take_messages(page.messages, false, now);
                if more {
                    self.catch_up.wanted = Wanted::Yes;
                    // The next page is asked for before this one is written:
                    // the server reads it while the cache writes this one. A
                    // page is a batch already: it is written at once, not
                    // after the wait that gathers pushes.
                    self.ask_catch_up(now);
                    self.flush();
                } else {
                    self.catch_up.wanted = Wanted::No;
                    self.catch_up.caught_up_at = Some(now);
                    self.catch_up.first_sync = false;
                    self.flush();
                    self.notify(Event::CaughtUp);
                }
            }
            Err(_) => {
                // Asked again after a pause, on a fresh socket.
                self.catch_up.wanted = Wanted::Yes;
                self.act(super::Action::Close(Service::SyncMessages));
                self.link_lost(Service::SyncMessages, now);
            }
        }
    }

    pub(super) fn history_reply(&mut self, peer: Peer, frame: &Frame, now: i64) {
        self.catch_up.history.remove(&peer);
        match reply_of::<MessagePage>(frame) {
            Ok(page) => self.take_history(peer, page, now),
            Err(refusal) => {
                // Not a member, no such user: there is nothing older
                // to show. A server failure may pass: scrolling asks again.
                self.notify(Event::History {
                    conversation: peer,
                    messages: Vec::new(),
                    complete: !is_transient(refusal.state),
                });
            }
        }
    }

    fn take_history(&mut self, peer: Peer, page: MessagePage, now: i64) {
        let complete = !page.more;
        for message in &page.messages {
            if let Some(seq) = message.seq
                && self.seqs.record(seq)
            {
                // A received message the cache missed: file it like any other.
                self.file_message(&peer, message, false);
                continue;
            }
            self.writes.batch.messages.push(CachedMessage {
                conversation: peer.clone(),
                message: message.clone(),
            });
        }
        if complete {
            let row = self.conversations.row_mut(&peer);
            row.history_complete = true;
            let row = row.clone();
            self.writes.put_conversation(row);
        }
        self.writes.batch.meta = Some(self.position());
        self.flush_soon(now);
        self.notify(Event::History {
            conversation: peer,
            messages: page.messages,
            complete,
        });
    }
}
