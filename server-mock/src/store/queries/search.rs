//! Searching all history (PROTOCOL §17): the full-text index of messages
//! and the search over it.
//!
//! Every text is indexed under `penpen_core::search_terms::index_terms`
//! (single characters and overlapping pairs of each run of letters and
//! digits, folded) in `message_terms`: on SQLite an FTS5 table whose rowid
//! is the message id and whose `ascii` tokenizer keeps each term whole, on
//! PostgreSQL a `text[]` of the terms under a GIN index. A query's
//! terms narrow the candidates without losing one; each candidate is then
//! checked with the cached search's own rule (`is_hit`), so the server finds
//! exactly what a device's search of the same messages finds.
//!
//! A recall empties the message's content; its index row stays and is
//! never a hit (recalled messages are left out, and an empty text contains
//! nothing).

use super::messages::{
    AFTER_MESSAGE_COLUMNS, MESSAGE_COLUMNS, QUOTE_JOIN, RECALL_AND_QUOTE_COLUMNS, conversation_key,
    message_row, visible_up_to,
};
use crate::store::StoreError;
use crate::store::db::{Db, Dialect, params};
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::search_terms::{index_terms, is_hit, query_terms};
use penpen_core::{MessageId, Peer, UserId};

/// The most hits one page holds.
pub const MAX_SEARCH_PAGE: u32 = 200;
/// Hits per page when the request does not say.
pub const DEFAULT_SEARCH_PAGE: u32 = 20;
/// The most candidates read in one round. A round asks for the visible
/// candidates a page still needs (most candidates are hits: a pair of
/// characters rarely occurs apart from the query's other pairs) and the
/// next round twice as many: reading far more than a page needs made the
/// first page of a common pair cost a scan of a tenth of its index.
const MAX_CANDIDATE_ROUND: usize = 256;

/// The words of a message a search finds it by: a text's content, a
/// file's original name; `None` for messages without words.
pub fn searchable_text<'a>(
    kind: MessageType,
    content: &'a str,
    name: Option<&'a str>,
) -> Option<&'a str> {
    match kind {
        MessageType::Text | MessageType::GroupText => Some(content),
        kind if kind.is_file() => name,
        _ => None,
    }
}

/// Indexes message `id` under the terms of `text` (nothing for a text
/// without letters or digits).
pub fn index_message(conn: &Db<'_>, id: MessageId, text: &str) -> Result<(), StoreError> {
    let terms = index_terms(text);
    if terms.is_empty() {
        return Ok(());
    }
    let sql = match conn.dialect() {
        Dialect::Sqlite => "INSERT INTO message_terms (rowid, terms) VALUES (?1, ?2)",
        Dialect::Postgres => {
            "INSERT INTO message_terms (message_id, terms) VALUES (?1, string_to_array(?2, ' '))"
        }
    };
    conn.execute(sql, params![id.0 as i64, terms.join(" ")])?;
    Ok(())
}

/// How many older messages one backfill round indexes (each round is one
/// transaction).
const BACKFILL_ROUND: i64 = 5_000;

/// Indexes up to one round of the messages stored before the index existed
/// (schema version 9), newest first; returns how many are left.
pub fn backfill_round(conn: &Db<'_>) -> Result<i64, StoreError> {
    let below: i64 = conn.query_row(
        "SELECT backfill_below FROM search_backfill WHERE id = 1",
        params![],
        |row| row.get(0),
    )?;
    if below <= 1 {
        return Ok(0);
    }
    let from = (below - BACKFILL_ROUND).max(1);
    let rows: Vec<(i64, i64, String, Option<String>)> = conn.query_all(
        "SELECT id, type, content, name FROM messages
             WHERE id >= ?1 AND id < ?2 AND recalled_by IS NULL",
        params![from, below],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    for (id, kind, content, name) in rows {
        let kind = MessageType::from_code(kind as u16);
        if let Some(text) = searchable_text(kind, &content, name.as_deref()) {
            index_message(conn, MessageId(id as u64), text)?;
        }
    }
    conn.execute(
        "UPDATE search_backfill SET backfill_below = ?1 WHERE id = 1",
        params![from],
    )?;
    Ok(from - 1)
}

/// The FTS5 query for `terms`: every term, each quoted (terms are letters
/// and digits only, but quoting keeps FTS5's syntax out of the question).
fn match_expression(terms: &[String]) -> String {
    terms
        .iter()
        .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A page of `user`'s hits for `query`, newest first, in the conversation
/// with `target` or in all they may see, below `before`; and whether more
/// hits lie below the page.
pub fn search(
    conn: &Db<'_>,
    user: &UserId,
    query: &str,
    target: Option<&Peer>,
    before: Option<MessageId>,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let limit = limit.clamp(1, MAX_SEARCH_PAGE) as usize;
    let terms = query_terms(query);
    if terms.is_empty() {
        return Ok((Vec::new(), false));
    }
    // The index's part: FTS5's MATCH, or containment of the terms' array.
    let (expression, candidates, id_column) = match conn.dialect() {
        Dialect::Sqlite => (
            match_expression(&terms),
            "message_terms t JOIN messages m ON m.id = t.rowid",
            "t.rowid",
        ),
        Dialect::Postgres => (
            terms.join(" "),
            "message_terms t JOIN messages m ON m.id = t.message_id",
            "t.message_id",
        ),
    };
    let matches = match conn.dialect() {
        Dialect::Sqlite => "message_terms MATCH ?1",
        Dialect::Postgres => "t.terms @> string_to_array(?1, ' ')",
    };
    // One conversation: its key, and where a former member's view ends.
    let within = match target {
        Some(target) => Some((
            conversation_key(&Sender::User(user.clone()), target),
            visible_up_to(conn, user, target)?,
        )),
        None => None,
    };
    let (key, up_to) = match &within {
        Some((key, up_to)) => (Some(key.as_str()), *up_to),
        None => (None, i64::MAX),
    };
    // Visible: a 1:1 message the caller sent or received, or a message of a
    // group they are in (a former member's up to their last).
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, (SELECT seq FROM inbox WHERE message_id = m.id AND user_id = ?3),
         {RECALL_AND_QUOTE_COLUMNS}
         FROM {candidates} {QUOTE_JOIN}
         WHERE {matches} AND {id_column} < ?2 AND m.recalled_by IS NULL
           AND (CAST(?4 AS TEXT) IS NULL OR m.conversation = ?4)
           AND CASE WHEN substr(m.conversation, 1, 2) = 'u:' THEN m.sender = ?3 OR m.target = ?3
                    ELSE EXISTS (SELECT 1 FROM group_members g
                                 WHERE g.gid = CAST(m.target AS BIGINT) AND g.user_id = ?3
                                   AND (g.left_id IS NULL OR m.id <= g.left_id)) END
         ORDER BY {id_column} DESC LIMIT ?5"
    );
    let mut below = before
        .map(|b| b.0 as i64)
        .unwrap_or(i64::MAX)
        .min(up_to.saturating_add(1));
    let mut hits = Vec::with_capacity(limit + 1);
    let mut round = limit + 1;
    loop {
        let candidates = conn.query_all(
            &sql,
            params![expression, below, user.as_str(), key, round],
            |row| {
                let seq: Option<i64> = row.get(AFTER_MESSAGE_COLUMNS)?;
                message_row(
                    row,
                    seq.map(|s| penpen_core::Seq(s as u64)),
                    utc_offset_minutes,
                )
            },
        )?;
        let exhausted = candidates.len() < round;
        round = (round * 2).min(MAX_CANDIDATE_ROUND);
        for message in candidates {
            below = message.id.0 as i64;
            let text = searchable_text(message.kind, &message.content, message.name.as_deref());
            if text.is_some_and(|text| is_hit(text, query)) {
                hits.push(message);
                if hits.len() > limit {
                    hits.truncate(limit);
                    return Ok((hits, true));
                }
            }
        }
        if exhausted {
            return Ok((hits, false));
        }
    }
}
