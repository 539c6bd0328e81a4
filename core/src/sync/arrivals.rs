//! Arrivals and the write batch: new messages are filed (by seq, so
//! duplicates and replays are dropped), written to the cache together if
//! they come within [`PERSIST_DELAY_MS`], and told to the UI with the write
//! that stores them; the cumulative ack goes out only after that write.

use super::timers::{Timer, TimerTable};
use super::{Action, Engine, Event, PERSIST_DELAY_MS, encode};
use crate::cache::{CacheBatch, CachedMessage, Conversation, Preview, RecallMark};
use crate::ids::{MessageId, Peer};
use crate::packets::login::StreamAck;
use crate::packets::message::{Message, Recalled, Sender};
use crate::service::Service;
use crate::sorted_map::SortedMap;

/// What the cache and the UI are still owed.
#[derive(Debug, Default)]
pub(super) struct Writes {
    /// Not handed to the driver yet.
    pub(super) batch: CacheBatch,
    /// When the deferred write was asked for.
    since: Option<i64>,
    /// New messages not told to the UI yet, by conversation (and whether any
    /// came live); told at the next write.
    arrivals: SortedMap<Peer, (Vec<Message>, bool)>,
}

impl Writes {
    /// Puts a conversation's row in the batch, replacing an earlier one.
    pub(super) fn put_conversation(&mut self, row: Conversation) {
        self.batch.conversations.retain(|c| c.peer != row.peer);
        self.batch.conversations.push(row);
    }

    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        if let Some(since) = self.since {
            table.add(Timer::Persist, since + PERSIST_DELAY_MS);
        }
    }
}

impl Engine {
    /// Hands the unwritten batch to the driver, then acks what it covers.
    pub(super) fn flush(&mut self) {
        self.writes.since = None;
        if !self.writes.batch.is_empty() {
            let batch = std::mem::take(&mut self.writes.batch);
            self.act(Action::Persist(Box::new(batch)));
        }
        if let Some(ack) = self.stream.ack_due(self.seqs.contiguous()) {
            self.act(Action::Send(Service::Login, encode(&StreamAck { ack })));
        }
        if !self.writes.arrivals.is_empty() {
            let me = self.meta.user.clone();
            for (conversation, (messages, live)) in std::mem::take(&mut self.writes.arrivals) {
                let muted = self.is_muted(&conversation);
                // Read on another device before it reached this one: no sound.
                let read_up_to = self
                    .conversations
                    .get(&conversation)
                    .and_then(|c| c.read_up_to);
                let alert = if live && !self.conversations.reading(&conversation) {
                    messages
                        .iter()
                        .rev()
                        .filter(|m| read_up_to.is_none_or(|mark| m.id > mark))
                        .find(|m| super::alerts(m, muted, &me))
                        .map(|m| Box::new(m.clone()))
                } else {
                    None
                };
                self.notify(Event::Arrived {
                    conversation,
                    messages,
                    live,
                    alert,
                });
            }
            self.notify(Event::ConversationsChanged);
        }
    }

    /// Writes soon, together with whatever else arrives meanwhile.
    pub(super) fn flush_soon(&mut self, now: i64) {
        if self.writes.since.is_none() {
            self.writes.since = Some(now);
        }
    }

    /// Files messages from the stream, catch-up or a send's ack: new ones
    /// (by seq) go to the cache and the conversation list, duplicates are
    /// dropped.
    pub(super) fn take_messages(&mut self, messages: Vec<Message>, live: bool, now: i64) {
        let me = self.meta.user.clone();
        let mut arrived: SortedMap<Peer, Vec<Message>> = SortedMap::new();
        let mut settled_outbox = false;
        for message in messages {
            let new = match message.seq {
                Some(seq) => self.seqs.record(seq),
                // Only history pages carry messages without a seq.
                None => false,
            };
            if !new {
                continue;
            }
            // Our own message from this session's outbox, pushed before its ack.
            if let Some(cid) = &message.cid
                && message.from == Sender::User(me.clone())
                && let Some(entry) = self.outbox.settled_by_stream(cid)
            {
                if entry.upload.is_some() {
                    self.upload_settled(&entry.cid);
                }
                self.writes.batch.outbox_delete.push(entry.cid);
                self.notify(Event::OutboxChanged(entry.to));
                settled_outbox = true;
            }
            if message.kind.changes_group() {
                // Someone renamed a group, or changed who is in it.
                self.roster.group_notice();
                if let Peer::Group(gid) = message.conversation(&me) {
                    self.receipts.membership_changed(gid);
                }
            }
            let conversation = message.conversation(&me);
            // On an empty cache, the backlog the stream pushes after login is
            // history too, like what catch-up brings.
            let news = !self.catch_up.first_sync;
            self.file_message(&conversation, &message, news);
            let earlier = arrived.get_or_insert_with(conversation, Vec::new);
            if let Some((id, recalled)) = recall_of(&message) {
                // The original came in this same call: the UI never sees its content.
                for original in earlier.iter_mut() {
                    original.take_recall(id, &recalled);
                }
            }
            earlier.push(message);
        }
        if arrived.is_empty() {
            return;
        }
        self.writes.batch.meta = Some(self.position());
        // Told together with the write: a backlog of thousands of pushes
        // becomes a few updates, not one per message.
        for (conversation, mut messages) in arrived {
            let (waiting, was_live) = self
                .writes
                .arrivals
                .get_or_insert_with(conversation, Default::default);
            waiting.append(&mut messages);
            *was_live |= live;
        }
        if settled_outbox {
            // The outbox entry is gone: show its message in the same breath.
            self.flush();
        } else {
            self.flush_soon(now);
        }
    }

    /// Takes a recall into the cache and into what the UI has not been told
    /// yet (§15.1): the original and the quotes of it, in this write or
    /// already cached. The recall itself is cached (history pages bring it
    /// too) but never shown or counted.
    fn file_recall(&mut self, conversation: &Peer, recall: &Message) {
        let Some((id, recalled)) = recall_of(recall) else {
            return; // not a recall this build can read: kept as it came
        };
        for cached in &mut self.writes.batch.messages {
            if &cached.conversation == conversation {
                cached.message.take_recall(id, &recalled);
            }
        }
        if let Some((waiting, _)) = self.writes.arrivals.get_mut(conversation) {
            for message in waiting {
                message.take_recall(id, &recalled);
            }
        }
        self.writes.batch.recalls.push(RecallMark {
            conversation: conversation.clone(),
            id,
            recalled,
        });
    }

    /// Puts one new message in the cache batch and its conversation's row.
    pub(super) fn file_message(&mut self, conversation: &Peer, message: &Message, news: bool) {
        if message.kind.is_recall() {
            self.file_recall(conversation, message);
        }
        self.receipts.filed(conversation, message.id);
        let me = self.meta.user.clone();
        let reading = self.conversations.reading(conversation);
        let row = self.conversations.row_mut(conversation);
        let newer = match &row.last {
            None => true,
            Some(last) => match last.id {
                Some(id) => message.id > id,
                None => message.ts >= last.ts || message.from.user() == Some(&me),
            },
        };
        // A recall of someone else's message still counted unread takes
        // it out of the count: there is nothing left to read.
        if let Some(notice) = message.recall_notice()
            && notice.sender != me
        {
            super::unread::uncount(row, notice.id);
        }
        if newer {
            row.last = Some(Preview {
                id: Some(message.id),
                from: message.from.user().cloned(),
                kind: message.kind,
                content: message.content.clone(),
                ts: message.ts,
            });
        }
        // A group notice tells and a call record reports what the person
        // took part in: neither calls for a reply, but a missed call does.
        // A message the user's own mark has passed (read on another
        // device) is not counted.
        if news
            && message.from.user() != Some(&me)
            && !reading
            && message.calls_for_reply()
            && super::unread::count(row, message.id)
            && super::mentions_me(message, &me)
        {
            row.mentioned = true;
            row.last_mention = row.last_mention.max(Some(message.id));
        }
        row.hidden = false;
        let row = row.clone();
        self.writes.put_conversation(row);
        self.writes.batch.messages.push(CachedMessage {
            conversation: conversation.clone(),
            message: message.clone(),
        });
    }
}

/// The message a recall takes back, and the mark it leaves.
fn recall_of(message: &Message) -> Option<(MessageId, Recalled)> {
    let notice = message.recall_notice()?;
    Some((
        notice.id,
        Recalled {
            by: notice.by,
            ts: message.ts,
        },
    ))
}
