//! The outbox: messages written to the cache before they go on the wire,
//! sent one at a time per conversation (so order holds across refusals and
//! retries), retried with backoff after a drop or a transient refusal, and
//! settled by the ack or by the stream's copy with the same cid.

use super::links::Request;
use super::timers::{Timer, TimerTable};
use super::{
    Engine, Event, FileKind, RETRY_FIRST_MS, RETRY_MAX_MS, SendError, encode, is_transient,
    reply_of,
};
use crate::cache::{OutboxEntry, OutboxFile, OutboxState, Preview};
use crate::envelope::Frame;
use crate::ids::{ClientMsgId, Peer, UserId};
use crate::packets::groups::Members;
use crate::packets::message::{Message, MessageType, SendAck, SendFile, SendText, Sender};
use crate::reply::ErrorReply;
use crate::service::Service;
use crate::sorted_map::{SortedMap, SortedSet};
use crate::sync::timing::{Rng, backoff_ms};

/// The live part of an outbox entry.
#[derive(Debug, Clone, Copy, Default)]
struct Attempt {
    on_the_wire: bool,
    tries: u32,
    not_before: i64,
}

/// The unacknowledged messages, by order (the order sends go out in).
#[derive(Debug)]
pub(super) struct Outbox {
    entries: SortedMap<u64, OutboxEntry>,
    attempts: SortedMap<ClientMsgId, Attempt>,
}

impl Outbox {
    /// The cached entries. Two engines may have numbered entries on their
    /// own (one restarted on a rebuilt cache, two tabs on one database):
    /// each entry keeps a place of its own, in the order they were queued.
    pub(super) fn new(mut cached: Vec<OutboxEntry>) -> Outbox {
        crate::sorting::sort_by_key(&mut cached, |e| (e.order, e.created_ts));
        let mut entries = SortedMap::new();
        for mut entry in cached {
            if let Some(last) = entries.keys().next_back() {
                entry.order = entry.order.max(last + 1);
            }
            entries.insert(entry.order, entry);
        }
        Outbox {
            entries,
            attempts: SortedMap::new(),
        }
    }

    /// The order after every entry's.
    pub(super) fn next_order(&self) -> u64 {
        self.entries.keys().next_back().map_or(0, |last| last + 1)
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = &OutboxEntry> {
        self.entries.values()
    }

    /// How many wait to be sent.
    pub(super) fn queued(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.state == OutboxState::Queued)
            .count()
    }

    pub(super) fn order_of(&self, cid: &ClientMsgId) -> Option<u64> {
        self.entries
            .values()
            .find(|e| &e.cid == cid)
            .map(|e| e.order)
    }

    fn on_the_wire(&self, cid: &ClientMsgId) -> bool {
        self.attempts.get(cid).is_some_and(|a| a.on_the_wire)
    }

    pub(super) fn insert(&mut self, entry: OutboxEntry) {
        self.attempts.insert(entry.cid.clone(), Attempt::default());
        self.entries.insert(entry.order, entry);
    }

    /// A failed entry is queued again from scratch.
    pub(super) fn requeue(&mut self, cid: &ClientMsgId) -> Option<OutboxEntry> {
        let entry = self.entries.values_mut().find(|e| &e.cid == cid)?;
        entry.state = OutboxState::Queued;
        self.attempts.insert(cid.clone(), Attempt::default());
        Some(entry.clone())
    }

    /// Removes an entry that is not on the wire.
    pub(super) fn discard(&mut self, cid: &ClientMsgId) -> Option<OutboxEntry> {
        if self.on_the_wire(cid) {
            return None;
        }
        let entry = self.entries.remove(&self.order_of(cid)?)?;
        self.attempts.remove(cid);
        Some(entry)
    }

    /// The entry of `cid`, to change (an upload's progress).
    pub(super) fn entry_mut(&mut self, cid: &ClientMsgId) -> Option<&mut OutboxEntry> {
        self.entries.values_mut().find(|e| &e.cid == cid)
    }

    /// Removes the entry of `cid` whatever its state (a cancelled upload).
    pub(super) fn remove(&mut self, cid: &ClientMsgId) -> Option<OutboxEntry> {
        self.attempts.remove(cid);
        self.entries.remove(&self.order_of(cid)?)
    }

    /// Removes the entry of `cid` (its message arrived on the stream). Its
    /// attempt stays until the send's own reply comes.
    pub(super) fn settled_by_stream(&mut self, cid: &ClientMsgId) -> Option<OutboxEntry> {
        self.entries.remove(&self.order_of(cid)?)
    }

    /// The first queued entry of each conversation that has none on the
    /// wire, if its retry time has come.
    fn ready(&self, now: i64) -> Vec<OutboxEntry> {
        let mut busy: SortedSet<Peer> = SortedSet::new();
        let mut ready = Vec::new();
        for entry in self.entries.values() {
            if entry.state != OutboxState::Queued || !busy.insert(entry.to.clone()) {
                continue;
            }
            let attempt = self.attempts.get(&entry.cid).copied().unwrap_or_default();
            if !attempt.on_the_wire && now >= attempt.not_before {
                ready.push(entry.clone());
            }
        }
        ready
    }

    pub(super) fn sent(&mut self, cid: &ClientMsgId) {
        let attempt = self
            .attempts
            .get_or_insert_with(cid.clone(), Attempt::default);
        attempt.on_the_wire = true;
        attempt.tries += 1;
    }

    /// The socket carrying `cid` dropped: it goes again from `not_before`.
    pub(super) fn lost(&mut self, cid: &ClientMsgId, not_before: i64) {
        if let Some(attempt) = self.attempts.get_mut(cid) {
            attempt.on_the_wire = false;
            attempt.not_before = not_before;
        }
    }

    /// A new login: whatever waits for a retry may go at once.
    pub(super) fn after_login(&mut self, now: i64) {
        for attempt in self.attempts.values_mut() {
            attempt.not_before = attempt.not_before.min(now);
        }
    }

    /// The retry times of queued entries (only while the stream is live:
    /// nothing is sent otherwise).
    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        for entry in self.entries.values() {
            if let Some(attempt) = self.attempts.get(&entry.cid)
                && !attempt.on_the_wire
                && entry.state == OutboxState::Queued
            {
                table.add(Timer::SendRetry, attempt.not_before);
            }
        }
    }
}

/// A text's message type, after checking it can be sent.
pub(super) fn text_kind(to: &Peer, text: &str) -> Result<MessageType, SendError> {
    if text.trim().is_empty() {
        return Err(SendError::Empty);
    }
    let chars = text.chars().count();
    if chars > crate::limits::MAX_TEXT_CHARS {
        return Err(SendError::TooLong {
            chars,
            max: crate::limits::MAX_TEXT_CHARS,
        });
    }
    Ok(if to.group().is_some() {
        MessageType::GroupText
    } else {
        MessageType::Text
    })
}

/// A text's mentions, after checking them as the server will (only in a
/// group, each member once, at most a group's worth); `None` for none.
pub(super) fn mentions(
    to: &Peer,
    mentions: Vec<UserId>,
    mention_all: bool,
) -> Result<Option<Members>, SendError> {
    if to.group().is_none() && (mention_all || !mentions.is_empty()) {
        return Err(SendError::Mentions(
            "only a group text can @-mention someone".into(),
        ));
    }
    let mentions = Members(mentions).deduplicated();
    if mentions.0.len() > crate::limits::MAX_MENTIONS {
        return Err(SendError::Mentions(format!(
            "{} people are mentioned; at most {} can be",
            mentions.0.len(),
            crate::limits::MAX_MENTIONS
        )));
    }
    Ok((!mentions.0.is_empty()).then_some(mentions))
}

/// A file's message type and outbox part, after checking it as the server will.
pub(super) fn file_parts(
    to: &Peer,
    kind: FileKind,
    data: Vec<u8>,
) -> Result<(MessageType, OutboxFile), SendError> {
    use crate::limits::{MAX_IMAGE_BYTES, MAX_VOICE_BYTES, MAX_VOICE_SECONDS, MIN_VOICE_SECONDS};
    if data.is_empty() {
        return Err(SendError::Empty);
    }
    let group = to.group().is_some();
    let (message_kind, max, format, expected, duration) = match kind {
        FileKind::Image => (
            if group {
                MessageType::GroupImage
            } else {
                MessageType::Image
            },
            MAX_IMAGE_BYTES,
            crate::sniff::image(&data),
            "a JPEG, PNG, GIF or WebP image",
            None,
        ),
        FileKind::Voice { seconds } => {
            if !(MIN_VOICE_SECONDS..=MAX_VOICE_SECONDS).contains(&seconds) {
                return Err(SendError::VoiceLength {
                    seconds,
                    min: MIN_VOICE_SECONDS,
                    max: MAX_VOICE_SECONDS,
                });
            }
            (
                if group {
                    MessageType::GroupVoice
                } else {
                    MessageType::Voice
                },
                MAX_VOICE_BYTES,
                crate::sniff::voice(&data),
                "WebM or Ogg audio with Opus, or MP4 audio with AAC",
                Some(seconds),
            )
        }
    };
    if data.len() > max {
        return Err(SendError::TooLarge {
            bytes: data.len(),
            max,
        });
    }
    let format = format.ok_or(SendError::UnsupportedFormat { expected })?;
    // The server checks the same; refusing here saves sending it.
    match duration {
        None => crate::sniff::check_image(&data, format).map(|_| ())?,
        Some(seconds) => crate::sniff::check_voice(&data, format, seconds).map(|_| ())?,
    }
    Ok((
        message_kind,
        OutboxFile {
            data,
            mime: format.mime().to_owned(),
            duration,
        },
    ))
}

/// The service and frame that send `entry` as `me`.
fn send_request(entry: &OutboxEntry, me: &UserId) -> (Service, String) {
    match &entry.file {
        Some(file) => (
            if entry.kind.is_voice() {
                Service::Voice
            } else {
                Service::Image
            },
            encode(&SendFile {
                from: me.clone(),
                to: entry.to.clone(),
                kind: entry.kind,
                data: file.data.clone(),
                name: None,
                duration: file.duration,
                cid: Some(entry.cid.clone()),
            }),
        ),
        None => (
            if entry.to.group().is_some() {
                Service::GroupText
            } else {
                Service::Text
            },
            encode(&SendText {
                quote: entry.quote.as_ref().map(|q| q.id),
                mentions: entry.mentions.clone(),
                mention_all: entry.mention_all,
                from: me.clone(),
                to: entry.to.clone(),
                kind: entry.kind,
                content: entry.content.clone(),
                cid: Some(entry.cid.clone()),
            }),
        ),
    }
}

impl Engine {
    /// Puts a new entry in the outbox: written to the cache, then sent.
    pub(super) fn queue(&mut self, entry: OutboxEntry, now: i64) {
        let (to, kind) = (entry.to.clone(), entry.kind);
        let conversation = self.conversations.row_mut(&to);
        conversation.last = Some(Preview {
            id: None,
            from: None,
            kind,
            content: entry.content.clone(),
            ts: now,
        });
        conversation.hidden = false;
        conversation.draft.clear();
        let row = conversation.clone();
        self.writes.batch.conversations.push(row);
        self.writes.batch.outbox_put.push(entry.clone());
        self.writes.batch.meta = Some(self.position());
        self.outbox.insert(entry);
        // Written before anything can send it.
        self.flush();
        self.notify(Event::OutboxChanged(to));
        self.notify(Event::ConversationsChanged);
        self.drive(now);
    }

    /// Sends the first queued message of each conversation that has none on
    /// the wire: one at a time per conversation keeps them in order even when
    /// one is refused or retried.
    pub(super) fn send_outbox(&mut self, now: i64) {
        for entry in self.outbox.ready(now) {
            if let Some(upload) = &entry.upload {
                self.start_upload(&entry, upload, now);
                continue;
            }
            let (service, frame) = send_request(&entry, &self.meta.user);
            if self.request(service, Request::Send(entry.cid.clone()), frame, now) {
                self.outbox.sent(&entry.cid);
            }
        }
    }

    /// The reply to a send: the ack moves the entry into the timeline; a
    /// refusal retries it later or marks it failed.
    pub(super) fn send_reply(&mut self, cid: &ClientMsgId, frame: &Frame, now: i64) {
        let Some(order) = self.outbox.order_of(cid) else {
            // Already settled by the stream's copy of the message.
            self.outbox.attempts.remove(cid);
            return;
        };
        match reply_of::<SendAck>(frame) {
            Ok(ack) => {
                let Some(entry) = self.outbox.entries.remove(&order) else {
                    return;
                };
                self.outbox.attempts.remove(cid);
                let message = Message {
                    quote: entry.quote.clone(),
                    mentions: None,
                    mention_all: false,
                    recalled: None,
                    name: None,
                    size: None,
                    from: Sender::User(self.meta.user.clone()),
                    to: entry.to.clone(),
                    kind: entry.kind,
                    content: ack.content.unwrap_or(entry.content),
                    time: ack.time,
                    ts: ack.ts,
                    id: ack.id,
                    seq: Some(ack.seq),
                    cid: Some(entry.cid.clone()),
                    duration: entry.file.as_ref().and_then(|f| f.duration),
                };
                self.writes.batch.outbox_delete.push(entry.cid);
                self.notify(Event::OutboxChanged(entry.to));
                self.take_messages(vec![message], false, now);
                self.flush();
            }
            Err(refusal) => self.send_refused(cid, order, refusal, now),
        }
    }

    pub(super) fn send_refused(
        &mut self,
        cid: &ClientMsgId,
        order: u64,
        refusal: ErrorReply,
        now: i64,
    ) {
        let Some(entry) = self.outbox.entries.get_mut(&order) else {
            return;
        };
        let attempt = self
            .outbox
            .attempts
            .get_or_insert_with(cid.clone(), Attempt::default);
        attempt.on_the_wire = false;
        if is_transient(refusal.state) {
            attempt.not_before = now + retry_wait(attempt.tries, &mut self.rng);
        } else {
            entry.state = OutboxState::Failed {
                state: refusal.state.0,
                reason: refusal.error,
            };
            let (entry, to) = (entry.clone(), entry.to.clone());
            self.writes.batch.outbox_put.push(entry);
            self.flush();
            self.notify(Event::OutboxChanged(to));
        }
    }
}

fn retry_wait(tries: u32, rng: &mut Rng) -> i64 {
    backoff_ms(tries, RETRY_FIRST_MS, RETRY_MAX_MS, rng)
}
