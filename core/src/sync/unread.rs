//! A conversation row's unread count, kept exact as messages arrive, read
//! marks pass them (§16) and recalls take them back (§15.1).
//!
//! The row remembers the newest counted messages by id
//! ([`Conversation::unread_ids`], capped): a mark or a recall lowers the
//! count by exactly the messages it concerns. Counted messages not
//! remembered (beyond the cap, or from a row written before #16) are all
//! older than the remembered ones, so a mark at or past the oldest
//! remembered one clears them too.

use crate::cache::{Conversation, UNREAD_IDS_KEPT};
use crate::ids::MessageId;

/// How many counted messages the row does not remember by id.
fn untracked(row: &Conversation) -> u32 {
    row.unread
        .saturating_sub(u32::try_from(row.unread_ids.len()).unwrap_or(u32::MAX))
}

/// Counts message `id` (someone else's, calling for a reply) as unread,
/// unless the user's own mark has passed it. Whether it was counted.
pub(super) fn count(row: &mut Conversation, id: MessageId) -> bool {
    if row.read_up_to.is_some_and(|mark| id <= mark) || row.unread_ids.contains(&id) {
        return false;
    }
    row.first_unread = Some(match row.first_unread {
        Some(first) if row.unread > 0 => first.min(id),
        _ => id,
    });
    row.unread += 1;
    let at = row.unread_ids.partition_point(|known| *known < id);
    row.unread_ids.insert(at, id);
    if row.unread_ids.len() > UNREAD_IDS_KEPT {
        // The oldest is forgotten: every message not remembered stays older
        // than every one remembered.
        row.unread_ids.remove(0);
    }
    true
}

/// The user's mark reached `mark`: messages up to it no longer count.
pub(super) fn read_through(row: &mut Conversation, mark: MessageId) {
    let untracked = untracked(row);
    let clears_untracked = untracked > 0
        && match row.unread_ids.first() {
            Some(oldest) => mark >= *oldest,
            // Nothing remembered: the counted ones are at most the newest.
            None => row
                .last
                .as_ref()
                .and_then(|last| last.id)
                .is_some_and(|newest| mark >= newest),
        };
    row.unread_ids.retain(|id| *id > mark);
    if row.last_mention.is_some_and(|mention| mention <= mark) {
        row.mentioned = false;
        row.last_mention = None;
    }
    let kept = if clears_untracked { 0 } else { untracked };
    settle(row, kept);
}

/// Message `id` was taken back: if it was counted, it no longer is.
pub(super) fn uncount(row: &mut Conversation, id: MessageId) {
    let untracked = untracked(row);
    if let Some(at) = row.unread_ids.iter().position(|known| *known == id) {
        row.unread_ids.remove(at);
        settle(row, untracked);
    } else if untracked > 0
        && row.first_unread.is_some_and(|first| first <= id)
        && row.unread_ids.first().is_none_or(|oldest| id < *oldest)
        && row.read_up_to.is_none_or(|mark| id > mark)
    {
        // Among the counted messages not remembered.
        settle(row, untracked - 1);
    }
}

/// Forgets every unread message (the user read the whole conversation).
pub(super) fn clear(row: &mut Conversation) {
    row.unread_ids.clear();
    settle(row, 0);
}

/// Sets the count from the remembered ids and `untracked` others.
fn settle(row: &mut Conversation, untracked: u32) {
    row.unread = untracked + u32::try_from(row.unread_ids.len()).unwrap_or(u32::MAX);
    if row.unread == 0 {
        row.first_unread = None;
        row.mentioned = false;
        row.last_mention = None;
    } else if untracked == 0 {
        row.first_unread = row.unread_ids.first().copied();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Preview;
    use crate::ids::Peer;
    use crate::packets::message::MessageType;
    use crate::testing::user;

    fn row() -> Conversation {
        Conversation::new(Peer::User(user(2)))
    }

    #[test]
    fn a_mark_lowers_the_count_by_the_messages_it_passes() {
        let mut row = row();
        for id in [10, 12, 15, 20] {
            assert!(count(&mut row, MessageId(id)));
        }
        read_through(&mut row, MessageId(13));
        assert_eq!((row.unread, row.first_unread), (2, Some(MessageId(15))));
        read_through(&mut row, MessageId(20));
        assert_eq!((row.unread, row.first_unread), (0, None));
    }

    #[test]
    fn a_mark_past_the_mention_clears_it_before_the_rest_is_read() {
        let mut row = row();
        count(&mut row, MessageId(10));
        row.mentioned = true;
        row.last_mention = Some(MessageId(10));
        count(&mut row, MessageId(12));
        read_through(&mut row, MessageId(9));
        assert!(row.mentioned);
        read_through(&mut row, MessageId(10));
        assert!(!row.mentioned);
        assert_eq!(row.unread, 1);
    }

    #[test]
    fn a_message_the_mark_has_passed_is_not_counted() {
        let mut row = row();
        row.read_up_to = Some(MessageId(30));
        assert!(!count(&mut row, MessageId(29)));
        assert!(count(&mut row, MessageId(31)));
        assert_eq!(row.unread, 1);
    }

    #[test]
    fn beyond_the_cap_the_oldest_are_cleared_once_the_mark_reaches_the_remembered() {
        let mut row = row();
        let kept = UNREAD_IDS_KEPT as u64;
        for id in 1..=kept + 10 {
            count(&mut row, MessageId(id));
        }
        assert_eq!(row.unread_ids.len(), UNREAD_IDS_KEPT);
        // Inside the forgotten stretch: how many it passes is not known.
        read_through(&mut row, MessageId(5));
        assert_eq!(row.unread as u64, kept + 10);
        read_through(&mut row, MessageId(20));
        assert_eq!(row.unread as u64, kept + 10 - 20);
    }

    #[test]
    fn a_row_from_before_read_marks_clears_at_its_newest_message() {
        let mut row = row();
        row.unread = 3;
        row.first_unread = Some(MessageId(7));
        row.last = Some(Preview {
            id: Some(MessageId(9)),
            from: Some(user(2)),
            kind: MessageType::Text,
            content: "在吗".into(),
            ts: 5,
        });
        read_through(&mut row, MessageId(8));
        assert_eq!(row.unread, 3);
        read_through(&mut row, MessageId(9));
        assert_eq!(row.unread, 0);
    }

    #[test]
    fn a_recall_takes_back_only_a_counted_message() {
        let mut row = row();
        count(&mut row, MessageId(10));
        count(&mut row, MessageId(12));
        uncount(&mut row, MessageId(11));
        assert_eq!(row.unread, 2);
        uncount(&mut row, MessageId(10));
        assert_eq!((row.unread, row.first_unread), (1, Some(MessageId(12))));
    }
}
