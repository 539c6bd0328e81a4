//! Searching the cached messages: an index in memory, built once from the
//! cache and kept up to date as messages arrive, so a search over tens of
//! thousands of messages is a scan of plain strings, not of the database.
//!
//! Matching is by substring, which is what Chinese needs (there are no
//! spaces to split words at), and ignores case for Latin letters.

use crate::ids::{MessageId, Peer, UserId};
use crate::packets::message::{Message, MessageType};
use std::collections::BTreeMap;

/// The most hits one search returns (the newest).
pub const MAX_HITS: usize = 200;

/// One cached message that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Where it was said.
    pub conversation: Peer,
    /// Its id, to jump to.
    pub id: MessageId,
    /// Who said it.
    pub from: Option<UserId>,
    /// When.
    pub ts: i64,
    /// Its text.
    pub text: String,
}

impl Hit {
    /// The hit `message` of `conversation` makes, shown by its words (a
    /// text's content, a file's name): a hit the server found (§17) is
    /// drawn like a cached one. `None` for a message without words, or
    /// taken back.
    pub fn of(conversation: Peer, message: &Message) -> Option<Hit> {
        if message.recalled.is_some() {
            return None;
        }
        let text = match message.kind {
            MessageType::Text | MessageType::GroupText => message.content.clone(),
            kind if kind.is_file() => message.name.clone()?,
            _ => return None,
        };
        Some(Hit {
            conversation,
            id: message.id,
            from: message.from.user().cloned(),
            ts: message.ts,
            text,
        })
    }
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// The newest hits, newest first, at most [`MAX_HITS`].
    pub hits: Vec<Hit>,
    /// How many messages matched in all.
    pub total: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    conversation: Peer,
    from: Option<UserId>,
    ts: i64,
    text: String,
    /// `text` folded for matching (see [`fold`]).
    folded: String,
}

/// The searchable messages, by id.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    entries: BTreeMap<MessageId, Entry>,
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds messages of `conversation`: texts by their words and files
    /// (5, 15) by their original name (images, voice and group notices have
    /// no words to find; call records are described by the app, see
    /// [`SearchIndex::add_described`]). A message already held is kept once.
    /// A recall removes the message it took back.
    pub fn add<'a>(
        &mut self,
        conversation: &Peer,
        messages: impl IntoIterator<Item = &'a Message>,
    ) {
        for message in messages {
            if let Some(notice) = message.recall_notice() {
                // Taken back (§15.1): nothing of it may be found again.
                self.entries.remove(&notice.id);
                continue;
            }
            if message.recalled.is_some() {
                self.entries.remove(&message.id);
                continue;
            }
            if matches!(message.kind, MessageType::Text | MessageType::GroupText) {
                let text = message.content.clone();
                self.insert(conversation, message, &text, text.clone());
            } else if message.kind.is_file()
                && let Some(name) = &message.name
            {
                self.insert(conversation, message, name, name.clone());
            }
        }
    }

    /// Adds a message whose content is not its words (a call record's
    /// JSON): a hit shows `text`, and it is found by any of `words` (the
    /// line in every language the user may search in).
    pub fn add_described(
        &mut self,
        conversation: &Peer,
        message: &Message,
        text: String,
        words: &str,
    ) {
        self.insert(conversation, message, words, text);
    }

    fn insert(&mut self, conversation: &Peer, message: &Message, words: &str, text: String) {
        self.entries.entry(message.id).or_insert_with(|| Entry {
            conversation: conversation.clone(),
            from: message.from.user().cloned(),
            ts: message.ts,
            folded: fold(words),
            text,
        });
    }

    /// Forgets a conversation's messages (its local history was cleared).
    pub fn remove_conversation(&mut self, conversation: &Peer) {
        self.entries.retain(|_, e| &e.conversation != conversation);
    }

    /// The messages containing `query`, newest first, in one conversation or
    /// in all. A blank query finds nothing.
    pub fn search(&self, query: &str, within: Option<&Peer>) -> Found {
        let query = fold(query.trim());
        if query.is_empty() {
            return Found::default();
        }
        let mut found = Found::default();
        for (id, entry) in self.entries.iter().rev() {
            if within.is_some_and(|peer| peer != &entry.conversation) {
                continue;
            }
            if !entry.folded.contains(&query) {
                continue;
            }
            found.total += 1;
            if found.hits.len() < MAX_HITS {
                found.hits.push(Hit {
                    conversation: entry.conversation.clone(),
                    id: *id,
                    from: entry.from.clone(),
                    ts: entry.ts,
                    text: entry.text.clone(),
                });
            }
        }
        found
    }
}

/// Folds text for matching: each character to its lowercase when that is a
/// single character (so positions in the folded text are positions in the
/// original), else kept as it is.
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// `text` cut into pieces, each marked whether it matches `query` (for
/// highlighting): the pieces joined give `text` back.
pub fn highlight(text: &str, query: &str) -> Vec<(String, bool)> {
    let needle: Vec<char> = fold(query.trim()).chars().collect();
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|c| fold_char(*c)).collect();
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut push = |piece: &[char], matched: bool| {
        if piece.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some((last, was)) if *was == matched => last.extend(piece),
            _ => pieces.push((piece.iter().collect(), matched)),
        }
    };
    if needle.is_empty() {
        push(&chars, false);
        return pieces;
    }
    let (mut start, mut at) = (0, 0);
    while at + needle.len() <= chars.len() {
        if folded[at..at + needle.len()] == needle[..] {
            push(&chars[start..at], false);
            push(&chars[at..at + needle.len()], true);
            at += needle.len();
            start = at;
        } else {
            at += 1;
        }
    }
    push(&chars[start..], false);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;

    use crate::testing::user;

    /// A message from user 1 to user 2, as history (no seq).
    fn message(id: u64, kind: MessageType, text: &str) -> Message {
        Message {
            kind,
            seq: None,
            ..crate::testing::message(id, 1, Peer::User(user(2)), text)
        }
    }

    fn index() -> (SearchIndex, Peer, Peer) {
        let (one, group) = (
            Peer::User(user(2)),
            Peer::Group(GroupId::new(1).expect("gid")),
        );
        let mut index = SearchIndex::new();
        index.add(
            &one,
            &[
                message(1, MessageType::Text, "下午三点开会"),
                message(2, MessageType::Text, "Meeting moved to 4pm"),
                message(3, MessageType::Image, "开会.png"),
            ],
        );
        index.add(
            &group,
            &[
                message(4, MessageType::GroupText, "开会记录已上传 MEETING notes"),
                message(5, MessageType::GroupText, "收到 👍"),
            ],
        );
        (index, one, group)
    }

    #[test]
    fn chinese_substrings_are_found_newest_first() {
        let (index, one, group) = (index().0, index().1, index().2);
        let found = index.search("开会", None);
        assert_eq!(found.total, 2, "images are not searched");
        let ids: Vec<u64> = found.hits.iter().map(|h| h.id.0).collect();
        assert_eq!(ids, vec![4, 1]);
        assert_eq!(found.hits[0].conversation, group);
        assert_eq!(index.search("开会", Some(&one)).hits[0].id, MessageId(1));
        assert_eq!(index.search("👍", None).total, 1);
    }

    #[test]
    fn files_are_found_by_their_original_name() {
        let mut index = SearchIndex::new();
        let one = Peer::User(UserId::parse("13800000002").expect("user"));
        let mut file = message(9, MessageType::File, "0123456789abcdef0123456789abcdef.pdf");
        file.name = Some("季度报告 Q3.pdf".into());
        file.size = Some(52_428_800);
        index.add(&one, &[file]);
        let found = index.search("报告", None);
        assert_eq!(found.total, 1);
        assert_eq!(found.hits[0].text, "季度报告 Q3.pdf");
        assert_eq!(index.search("q3", None).total, 1);
        assert_eq!(
            index.search("0123456789", None).total,
            0,
            "not by the stored name"
        );
    }

    #[test]
    fn latin_letters_match_in_any_case_and_blank_finds_nothing() {
        let (index, _, _) = index();
        assert_eq!(index.search("meeting", None).total, 2);
        assert_eq!(index.search("MEEting", None).total, 2);
        assert_eq!(index.search("   ", None).total, 0);
        assert_eq!(index.search("没有的词", None).total, 0);
    }

    #[test]
    fn a_message_is_indexed_once_and_cleared_with_its_conversation() {
        let (mut index, one, _) = index();
        index.add(&one, &[message(1, MessageType::Text, "下午三点开会")]);
        assert_eq!(index.len(), 4);
        index.remove_conversation(&one);
        assert_eq!(index.search("开会", None).total, 1);
    }

    #[test]
    fn a_described_message_is_found_by_its_words_and_shows_its_text() {
        let (mut index, one, _) = index();
        let call = message(
            9,
            MessageType::Call,
            r#"{"media":"video","outcome":"missed"}"#,
        );
        index.add(&one, [&call]);
        assert_eq!(
            index.search("missed", None).total,
            0,
            "raw JSON is not words"
        );
        index.add_described(&one, &call, "未接来电".to_owned(), "未接来电 Missed call");
        let found = index.search("MISSED", None);
        assert_eq!(found.total, 1);
        assert_eq!(found.hits[0].text, "未接来电");
        assert_eq!(index.search("未接", Some(&one)).total, 1);
    }

    #[test]
    fn a_recall_removes_what_it_took_back_and_a_recalled_message_is_not_added() {
        let (mut index, one, _) = index();
        assert_eq!(index.search("开会", Some(&one)).total, 1);
        let recall = Message {
            kind: MessageType::Recall,
            ..message(
                20,
                MessageType::Recall,
                r#"{"id":"1","by":"13800000001","sender":"13800000001"}"#,
            )
        };
        index.add(&one, [&recall]);
        assert_eq!(index.search("开会", Some(&one)).total, 0, "gone");
        assert_eq!(index.search("13800000001", None).total, 0, "not itself");
        // A history page brings the original already recalled: not added.
        let mut recalled = message(1, MessageType::Text, "");
        recalled.recalled = Some(crate::packets::message::Recalled { by: user(1), ts: 1 });
        index.add(&one, [&recalled]);
        assert!(index.search("开会", None).hits.iter().all(|h| h.id.0 != 1));
    }

    #[test]
    fn hits_are_capped_but_all_are_counted() {
        let mut index = SearchIndex::new();
        let peer = Peer::User(user(2));
        let many: Vec<Message> = (1..=500)
            .map(|id| message(id, MessageType::Text, "好的"))
            .collect();
        index.add(&peer, &many);
        let found = index.search("好", None);
        assert_eq!((found.total, found.hits.len()), (500, MAX_HITS));
        assert_eq!(found.hits[0].id, MessageId(500));
    }

    #[test]
    fn highlighting_keeps_the_original_text_and_case() {
        assert_eq!(
            highlight("Meeting 在 MEETING 室", "meeting"),
            vec![
                ("Meeting".to_owned(), true),
                (" 在 ".to_owned(), false),
                ("MEETING".to_owned(), true),
                (" 室".to_owned(), false),
            ]
        );
        assert_eq!(
            highlight("下午开会", "开会"),
            vec![("下午".to_owned(), false), ("开会".to_owned(), true),]
        );
        assert_eq!(highlight("abc", ""), vec![("abc".to_owned(), false)]);
        // A character whose lowercase is longer keeps the positions aligned.
        let pieces = highlight("İstanbul istanbul", "istanbul");
        let joined: String = pieces.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(joined, "İstanbul istanbul");
        assert_eq!(pieces.last(), Some(&("istanbul".to_owned(), true)));
    }
}
