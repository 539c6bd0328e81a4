//! The chat's rows and which of them are in the DOM: pure, so the
//! virtualization's arithmetic is tested natively.

use crate::state::OpenConversation;
use penpen_core::cache::OutboxEntry;
use penpen_core::packets::message::{Message, Sender};
use penpen_core::{ClientMsgId, MessageId, UserId};
use std::fmt;
use std::ops::Range;

/// At most this many rows are in the DOM (the e2e budget is 150 messages).
pub const WINDOW: usize = 100;
/// How far the window slides at a time: well under [`WINDOW`], so the row
/// the view is anchored on stays in the DOM across the slide.
pub const STEP: usize = 40;

/// One row of the chat: a message the server has, or one still in the outbox.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Row<'a> {
    /// Stored by the server.
    Sent(&'a Message),
    /// Written here, not acknowledged yet.
    Unsent(&'a OutboxEntry),
}

/// A row's identity across renders. One's own messages are known by their
/// cid, so a bubble keeps its element when its outbox entry becomes the
/// stored message; everything else by its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowKey {
    /// A stored message of someone else's, or one of ours without a cid.
    Id(MessageId),
    /// One of ours.
    Cid(ClientMsgId),
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only [A-Za-z0-9_-] after the prefix, so the key is safe inside a
        // quoted CSS attribute selector.
        match self {
            RowKey::Id(id) => write!(f, "m{id}"),
            RowKey::Cid(cid) => write!(f, "c{cid}"),
        }
    }
}

impl<'a> Row<'a> {
    /// When it was written (by the server's clock once stored).
    pub fn ts(&self) -> i64 {
        match self {
            Row::Sent(message) => message.ts,
            Row::Unsent(entry) => entry.created_ts,
        }
    }

    /// Whether the reader wrote it.
    pub fn own(&self, me: Option<&UserId>) -> bool {
        match self {
            Row::Sent(message) => matches!(&message.from, Sender::User(from) if Some(from) == me),
            Row::Unsent(_) => true,
        }
    }

    /// Whether `key` is this row's identity (without building the key).
    pub fn is(&self, key: &RowKey, me: Option<&UserId>) -> bool {
        match (self, key) {
            (Row::Unsent(entry), RowKey::Cid(cid)) => &entry.cid == cid,
            (Row::Sent(message), RowKey::Cid(cid)) => {
                message.cid.as_ref() == Some(cid) && self.own(me)
            }
            (Row::Sent(message), RowKey::Id(id)) => &message.id == id,
            (Row::Unsent(_), RowKey::Id(_)) => false,
        }
    }

    /// Its identity.
    pub fn key(&self, me: Option<&UserId>) -> RowKey {
        match self {
            Row::Sent(message) => match (&message.cid, self.own(me)) {
                (Some(cid), true) => RowKey::Cid(cid.clone()),
                _ => RowKey::Id(message.id),
            },
            Row::Unsent(entry) => RowKey::Cid(entry.cid.clone()),
        }
    }
}

/// The rows of the open conversation: its messages, then the outbox entries
/// that are not among them yet (an entry and its stored message may both be
/// present for a moment while the driver reports the acknowledgement).
pub fn rows<'a>(open: &'a OpenConversation, me: Option<&UserId>) -> Vec<Row<'a>> {
    // A recall is never shown itself: its original stands in its place.
    let mut rows: Vec<Row<'a>> = open
        .messages
        .iter()
        .filter(|m| !m.kind.is_recall())
        .map(Row::Sent)
        .collect();
    if !open.outbox.is_empty() {
        // A sorted list rather than a hash set: the bundle then carries no
        // hash table for this one key type.
        let mut stored: Vec<&ClientMsgId> = open
            .messages
            .iter()
            .filter(|m| Row::Sent(m).own(me))
            .filter_map(|m| m.cid.as_ref())
            .collect();
        penpen_core::sorting::sort_by(&mut stored, |a, b| a.cmp(b));
        rows.extend(
            open.outbox
                .iter()
                .filter(|entry| stored.binary_search(&&entry.cid).is_err())
                .map(Row::Unsent),
        );
    }
    rows
}

/// Where the row keyed `key` is, if it is still there.
pub fn position(rows: &[Row<'_>], key: &RowKey, me: Option<&UserId>) -> Option<usize> {
    match key {
        // Stored messages are in id order: no need to look at all of them.
        RowKey::Id(id) => {
            let sent = rows.partition_point(|row| matches!(row, Row::Sent(_)));
            rows[..sent]
                .binary_search_by_key(id, |row| match row {
                    Row::Sent(message) => message.id,
                    Row::Unsent(_) => MessageId(u64::MAX),
                })
                .ok()
        }
        // Own rows gather at the end (the outbox, recent sends): look there first.
        RowKey::Cid(_) => rows.iter().rposition(|row| row.is(key, me)),
    }
}

/// The rows to put in the DOM: `size` of them from `start`, or the newest
/// `size` when following the bottom (or when `start` is unknown). A window
/// too close to the end is moved back so it stays full.
pub fn window(len: usize, start: Option<usize>, follow: bool, size: usize) -> Range<usize> {
    let last_full = len.saturating_sub(size);
    let start = match start {
        Some(start) if !follow => start.min(last_full),
        _ => last_full,
    };
    start..(start + size).min(len)
}

/// Where the window starts now that its first row, at `before` last time, is
/// at `found` (`None`: gone). A window that began at the oldest row takes in
/// up to [`STEP`] of the older rows that arrived before it: the reader is at
/// the top and sees them at once, and there is room above to stay anchored.
pub fn resume(before: usize, found: Option<usize>) -> usize {
    match found {
        Some(now) if before == 0 && now > 0 => now.saturating_sub(STEP),
        Some(now) => now,
        None => before,
    }
}

/// Where the window starts after sliding towards older rows.
pub fn slide_up(current: &Range<usize>) -> usize {
    current.start.saturating_sub(STEP)
}

/// Where the window starts after sliding towards newer rows.
pub fn slide_down(current: &Range<usize>, len: usize, size: usize) -> usize {
    (current.start + STEP).min(len.saturating_sub(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::Peer;
    use penpen_core::cache::OutboxState;
    use penpen_core::packets::message::MessageType;

    fn me() -> UserId {
        UserId::parse("13800000009").expect("a test account")
    }

    fn other() -> UserId {
        UserId::parse("13800000001").expect("a test account")
    }

    fn cid(text: &str) -> ClientMsgId {
        ClientMsgId::parse(text).expect("a test cid")
    }

    fn message(id: u64, from: &UserId, cid: Option<&str>) -> Message {
        Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: None,
            size: None,
            from: Sender::User(from.clone()),
            to: Peer::User(me()),
            kind: MessageType::Text,
            content: format!("m{id}"),
            time: String::new(),
            ts: id as i64 * 1000,
            id: MessageId(id),
            seq: None,
            cid: cid.map(self::cid),
            duration: None,
        }
    }

    fn entry(text: &str) -> OutboxEntry {
        OutboxEntry {
            cid: cid(text),
            order: 1,
            to: Peer::User(other()),
            kind: MessageType::Text,
            content: text.to_owned(),
            created_ts: 0,
            state: OutboxState::Queued,
            file: None,
            quote: None,
        }
    }

    fn open(messages: Vec<Message>, outbox: Vec<OutboxEntry>) -> OpenConversation {
        let mut open = OpenConversation::new(Peer::User(other()));
        open.merge(&messages);
        open.outbox = outbox;
        open
    }

    #[test]
    fn the_outbox_follows_the_messages_once() {
        let me = me();
        let conversation = open(
            vec![
                message(1, &other(), Some("theirs")),
                message(2, &me, Some("acked")),
            ],
            vec![entry("acked"), entry("waiting")],
        );
        let rows = rows(&conversation, Some(&me));
        let keys: Vec<String> = rows.iter().map(|r| r.key(Some(&me)).to_string()).collect();
        assert_eq!(keys, ["m1", "cacked", "cwaiting"]);
        assert!(!rows[0].own(Some(&me)));
        assert!(rows[1].own(Some(&me)) && rows[2].own(Some(&me)));
    }

    #[test]
    fn rows_are_found_by_key_after_older_ones_arrive() {
        let me = me();
        let mut conversation = open(
            (10..20).map(|id| message(id, &other(), None)).collect(),
            vec![entry("waiting")],
        );
        let key = RowKey::Id(MessageId(12));
        assert_eq!(
            position(&rows(&conversation, Some(&me)), &key, Some(&me)),
            Some(2)
        );
        conversation.merge(
            &(1..10)
                .map(|id| message(id, &other(), None))
                .collect::<Vec<_>>(),
        );
        let rows = rows(&conversation, Some(&me));
        assert_eq!(position(&rows, &key, Some(&me)), Some(11));
        assert_eq!(
            position(&rows, &RowKey::Cid(cid("waiting")), Some(&me)),
            Some(19)
        );
        assert_eq!(position(&rows, &RowKey::Id(MessageId(99)), Some(&me)), None);
    }

    #[test]
    fn the_window_stays_full_and_follows_the_bottom() {
        assert_eq!(window(30, None, true, 100), 0..30);
        assert_eq!(window(1000, None, true, 100), 900..1000);
        assert_eq!(window(1000, Some(10), true, 100), 900..1000);
        assert_eq!(window(1000, Some(10), false, 100), 10..110);
        assert_eq!(window(1000, Some(950), false, 100), 900..1000);
        assert_eq!(window(0, Some(5), false, 100), 0..0);
    }

    #[test]
    fn a_window_at_the_oldest_row_takes_in_older_arrivals() {
        assert_eq!(resume(0, Some(50)), 10);
        assert_eq!(resume(0, Some(30)), 0);
        assert_eq!(resume(0, Some(0)), 0);
        assert_eq!(resume(200, Some(250)), 250);
        assert_eq!(resume(200, None), 200);
    }

    #[test]
    fn slides_keep_the_anchor_row_inside() {
        let current = 500..600;
        let up = slide_up(&current);
        assert_eq!(up, 460);
        assert!((up..up + WINDOW).contains(&current.start));
        let down = slide_down(&current, 1000, WINDOW);
        assert_eq!(down, 540);
        assert!((down..down + WINDOW).contains(&(current.end - 1)));
        assert_eq!(slide_up(&(10..110)), 0);
        assert_eq!(slide_down(&(880..980), 1000, WINDOW), 900);
    }
}
