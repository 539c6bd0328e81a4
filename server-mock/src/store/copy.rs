//! Moving a company from one node on SQLite to several on PostgreSQL:
//! `admin migrate-to postgres://…` copies every row of the SQLite store into
//! an empty PostgreSQL database, in one PostgreSQL transaction (all or
//! nothing), from one SQLite read transaction (a consistent snapshot; stop
//! the server first so nothing is written after it).
//!
//! Ids are copied as they are (message ids, gids, seqs), so every client's
//! sync position stays true; the identity counters then continue after the
//! largest copied id. The search index is not copied: PostgreSQL's nodes
//! index the copied messages when they open it (`search_backfill`).

use super::StoreError;
use super::db::{AnyValue, Db, Param, PgConnection, Row};
use super::schema;
use std::path::Path;

/// The tables in the order their references need, with the columns both
/// schemas share.
const TABLES: &[(&str, &str)] = &[
    ("departments", "id, name"),
    ("jobs", "id, name"),
    (
        "users",
        "id, name, department, job, password_hash, signing, broadcaster, presence, disabled, receipts",
    ),
    (
        "sessions",
        "token_hash, user_id, created_ts, revoked, last_used_ts, ticket_key",
    ),
    ("revocations", "id, user_id, token_hash, reason, ts"),
    (
        "messages",
        "id, sender, target, conversation, type, content, duration, cid, ts, quote_id, \
         recalled_by, recalled_ts, recall_id, name, size, mentions, mention_all",
    ),
    ("inbox", "user_id, seq, message_id"),
    ("groups", "gid, holder, name, created_ts"),
    (
        "group_members",
        "gid, user_id, position, left_id, joined_id",
    ),
    ("broadcasts", "id, sender, kind, title, content, cid, ts"),
    ("files", "name, message_id, mime, size"),
    ("forwarded_files", "name, message_id"),
    (
        "uploads",
        "user_id, cid, target, name, size, stored, part, created_ts, updated_ts",
    ),
    ("muted_conversations", "user_id, target"),
    (
        "read_marks",
        "user_id, conversation, target, peer, message_id, version",
    ),
    ("dings", "message_id, by, ts"),
];

/// The identity columns whose counters continue after the copy.
const IDENTITIES: &[(&str, &str)] = &[
    ("messages", "id"),
    ("groups", "gid"),
    ("broadcasts", "id"),
    ("revocations", "id"),
];

/// Rows sent per INSERT.
const ROWS_PER_INSERT: usize = 500;

/// How many rows of each table were copied.
pub type CopyReport = Vec<(&'static str, u64)>;

/// Copies the SQLite store at `sqlite` into the empty PostgreSQL database
/// at `url`; `progress` hears each table as it is done.
pub fn sqlite_to_postgres(
    sqlite: &Path,
    url: &str,
    mut progress: impl FnMut(&str, u64),
) -> Result<CopyReport, StoreError> {
    if !sqlite.exists() {
        return Err(StoreError::Database(format!(
            "{} does not exist; expected the SQLite database of the server to move",
            sqlite.display()
        )));
    }
    let mut source = rusqlite::Connection::open(sqlite)?;
    // Brings an older file to the schema this build writes.
    schema::migrate(&mut source)?;
    let target = PgConnection::connect(url)?;
    schema::migrate_postgres(&target)?;
    let to = Db::Postgres(&target);
    let users: i64 = to.query_row("SELECT COUNT(*) FROM users", crate::params![], |row| {
        row.get(0)
    })?;
    if users > 0 {
        return Err(StoreError::Database(format!(
            "the PostgreSQL database already has {users} users; migrate-to copies into an empty database only"
        )));
    }
    let snapshot = source.transaction()?;
    target.batch("BEGIN")?;
    let copied = copy_tables(&snapshot, &to, &mut progress).and_then(|report| {
        finish(&Db::Sqlite(&snapshot), &to)?;
        Ok(report)
    });
    match copied {
        Ok(report) => {
            target.batch("COMMIT")?;
            Ok(report)
        }
        Err(err) => {
            let _ = target.batch("ROLLBACK");
            Err(err)
        }
    }
}

fn copy_tables(
    from: &rusqlite::Connection,
    to: &Db<'_>,
    progress: &mut impl FnMut(&str, u64),
) -> Result<CopyReport, StoreError> {
    // Each user's mailbox comes from the source, not from the trigger that
    // gives new users an empty one.
    to.execute_batch("ALTER TABLE users DISABLE TRIGGER users_get_a_mailbox")?;
    let mut report = Vec::new();
    for (table, columns) in TABLES
        .iter()
        .copied()
        .chain([("mailboxes", "user_id, last_seq, acked_seq")])
    {
        let width = columns.split(',').count();
        // Streamed: a big table never sits in memory whole.
        let mut statement = from.prepare(&format!("SELECT {columns} FROM {table}"))?;
        let mut rows = statement.query([])?;
        let mut chunk: Vec<AnyValue> = Vec::with_capacity(ROWS_PER_INSERT * width);
        let mut copied = 0u64;
        while let Some(row) = rows.next()? {
            let row = Row::Sqlite(row);
            for i in 0..width {
                chunk.push(row.get::<AnyValue>(i)?);
            }
            if chunk.len() == ROWS_PER_INSERT * width {
                copied += insert(to, table, columns, width, &chunk)?;
                chunk.clear();
            }
        }
        copied += insert(to, table, columns, width, &chunk)?;
        progress(table, copied);
        report.push((table, copied));
    }
    to.execute_batch("ALTER TABLE users ENABLE TRIGGER users_get_a_mailbox")?;
    Ok(report)
}

/// Inserts `values` (whole rows of `width` columns) into `table`; returns
/// how many rows.
fn insert(
    to: &Db<'_>,
    table: &str,
    columns: &str,
    width: usize,
    values: &[AnyValue],
) -> Result<u64, StoreError> {
    let rows = values.len() / width;
    if rows == 0 {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        placeholders.join(", ")
    );
    let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
    to.execute(&sql, &params)?;
    Ok(rows as u64)
}

/// The counters after the copy: identities continue after the largest id,
/// the read-mark version after the largest copied, and every copied
/// message is left for the nodes to index.
fn finish(from: &Db<'_>, to: &Db<'_>) -> Result<(), StoreError> {
    for (table, column) in IDENTITIES {
        to.execute_batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))?;
    }
    let version: i64 = from.query_row(
        "SELECT last FROM read_versions WHERE id = 1",
        crate::params![],
        |row| row.get(0),
    )?;
    to.execute(
        "UPDATE read_versions SET last = ?1 WHERE id = 1",
        crate::params![version],
    )?;
    to.execute_batch(
        "UPDATE search_backfill SET backfill_below = COALESCE((SELECT MAX(id) FROM messages), 0) + 1 WHERE id = 1",
    )?;
    Ok(())
}
