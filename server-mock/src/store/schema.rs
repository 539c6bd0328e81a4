//! The database schema, as numbered migrations, one list per backend.
//! SQLite's `PRAGMA user_version` records how many have run, PostgreSQL's
//! `schema_version` table; each runs once, in its own transaction.
//!
//! Both lists end at the same tables, columns and meaning (the queries are
//! one code for both); PostgreSQL starts at the state SQLite reached in
//! its version 10, with its own types: every integer is a `BIGINT` (flags
//! too, 0 or 1, as in SQLite), bytes are `BYTEA`, ids are identity columns.

use super::StoreError;
use super::db::PgConnection;
use rusqlite::Connection;

/// Each entry brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the directory, sessions, messages with per-user delivery, groups, broadcasts, files.
    r#"
    CREATE TABLE departments (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE jobs (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,            -- 11-digit account
        name          TEXT NOT NULL,
        department    INTEGER NOT NULL REFERENCES departments(id),
        job           INTEGER NOT NULL REFERENCES jobs(id),
        password_hash TEXT NOT NULL,               -- Argon2id (PHC string) of the md5 digest
        signing       TEXT NOT NULL DEFAULT '',
        broadcaster   INTEGER NOT NULL DEFAULT 0,
        presence      TEXT NOT NULL DEFAULT 'offline',
        last_seq      INTEGER NOT NULL DEFAULT 0,  -- unused since version 2 (see mailboxes)
        acked_seq     INTEGER NOT NULL DEFAULT 0   -- unused since version 2
    );
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,               -- sha256 of the token; the token is never stored
        user       TEXT NOT NULL REFERENCES users(id),
        created_ts INTEGER NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_by_user ON sessions(user);
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        sender       TEXT NOT NULL,                -- a user id, or '0' for notices
        target       TEXT NOT NULL,                -- a user id or a gid
        conversation TEXT NOT NULL,                -- 'g:<gid>' or 'u:<lower id>:<higher id>'
        type         INTEGER NOT NULL,
        content      TEXT NOT NULL,
        duration     INTEGER,
        cid          TEXT,
        ts           INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX messages_by_cid ON messages(sender, cid) WHERE cid IS NOT NULL;
    CREATE INDEX messages_by_conversation ON messages(conversation, id);
    CREATE TABLE inbox (
        user       TEXT NOT NULL REFERENCES users(id),
        seq        INTEGER NOT NULL,
        message_id INTEGER NOT NULL REFERENCES messages(id),
        PRIMARY KEY (user, seq)
    ) WITHOUT ROWID;
    CREATE INDEX inbox_by_message ON inbox(message_id, user);
    CREATE TABLE groups (
        gid        INTEGER PRIMARY KEY AUTOINCREMENT,
        holder     TEXT NOT NULL REFERENCES users(id),
        name       TEXT NOT NULL,
        created_ts INTEGER NOT NULL
    );
    CREATE TABLE group_members (
        gid       INTEGER NOT NULL REFERENCES groups(gid),
        user      TEXT NOT NULL REFERENCES users(id),
        position  INTEGER NOT NULL,                -- join order, for handing the group over
        left_id   INTEGER,                         -- last message id they may read, once they left
        PRIMARY KEY (gid, user)
    ) WITHOUT ROWID;
    CREATE INDEX group_members_by_user ON group_members(user);
    CREATE TABLE broadcasts (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        sender  TEXT NOT NULL REFERENCES users(id),
        kind    INTEGER NOT NULL,
        title   TEXT NOT NULL,
        content TEXT NOT NULL,
        cid     TEXT,
        ts      INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX broadcasts_by_cid ON broadcasts(sender, cid) WHERE cid IS NOT NULL;
    CREATE TABLE files (
        name       TEXT PRIMARY KEY,               -- chosen by the server, never by a client
        message_id INTEGER NOT NULL REFERENCES messages(id),
        mime       TEXT NOT NULL,
        size       INTEGER NOT NULL
    );
    "#,
    // 2: each user's seq counters in a narrow table of their own. Every stored
    // message bumps its recipients' counters; in the wide users rows (password
    // hash, signature) that rewrote far more pages per commit than needed.
    r#"
    CREATE TABLE mailboxes (
        user      TEXT PRIMARY KEY REFERENCES users(id),
        last_seq  INTEGER NOT NULL DEFAULT 0,     -- the user's newest seq
        acked_seq INTEGER NOT NULL DEFAULT 0      -- everything up to here is delivered
    ) WITHOUT ROWID;
    INSERT INTO mailboxes (user, last_seq, acked_seq) SELECT id, last_seq, acked_seq FROM users;
    CREATE TRIGGER users_get_a_mailbox AFTER INSERT ON users BEGIN
        INSERT INTO mailboxes (user) VALUES (NEW.id);
    END;
    "#,
    // 3: sessions expire and can be revoked from another process. A session
    // remembers when it was last used (NULL: never since it was created) and
    // the key of its file tickets; a disabled user cannot log in; the admin
    // commands append to `revocations`, which a running server polls.
    r#"
    ALTER TABLE sessions ADD COLUMN last_used_ts INTEGER;
    ALTER TABLE sessions ADD COLUMN ticket_key BLOB;
    ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE revocations (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        user       TEXT NOT NULL,
        token_hash BLOB,                           -- NULL: every session of the user
        reason     TEXT NOT NULL,
        ts         INTEGER NOT NULL
    );
    "#,
    // 4: recall and quote (§15.1, §15.2). A recalled message keeps its row,
    // with its content emptied, who recalled it and when, and the type-4/14
    // message that did (a repeated recall is answered with that one). A
    // reply names the message it quotes; its snapshot is read from that row,
    // so a quote of a message recalled later reads as recalled.
    r#"
    ALTER TABLE messages ADD COLUMN quote_id INTEGER;
    ALTER TABLE messages ADD COLUMN recalled_by TEXT;
    ALTER TABLE messages ADD COLUMN recalled_ts INTEGER;
    ALTER TABLE messages ADD COLUMN recall_id INTEGER;
    "#,
    // 5: forward (§15.3). A forwarded copy or chat record names the stored
    // files of its originals without a new upload; each such (file, message)
    // pair is a row here, so the parties of the new message's conversation
    // may fetch those files, and only them.
    r#"
    CREATE TABLE forwarded_files (
        name       TEXT NOT NULL,                -- a name of the files table
        message_id INTEGER NOT NULL REFERENCES messages(id),
        PRIMARY KEY (name, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX forwarded_files_by_message ON forwarded_files(message_id);
    "#,
    // 6: files (§15.6): uploads under way, keyed by (user, cid), with the
    // bytes durably stored so far in their partial file; a file message's
    // original name and size. (Which messages name a stored file: its row
    // of `files`, and `forwarded_files` for copies, version 5.)
    r#"
    CREATE TABLE uploads (
        user       TEXT NOT NULL REFERENCES users(id),
        cid        TEXT NOT NULL,
        target     TEXT NOT NULL,                -- a user id or a gid
        name       TEXT NOT NULL,                -- the original name, for display
        size       INTEGER NOT NULL,             -- the whole file's bytes
        stored     INTEGER NOT NULL DEFAULT 0,   -- bytes written and flushed to `part`
        part       TEXT NOT NULL,                -- the partial file in the files folder
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        PRIMARY KEY (user, cid)
    ) WITHOUT ROWID;
    CREATE INDEX uploads_by_age ON uploads(updated_ts);
    ALTER TABLE messages ADD COLUMN name TEXT;
    ALTER TABLE messages ADD COLUMN size INTEGER;
    "#,
    // 7: @mentions and mute (#15): who a group text mentions, and each user's
    // muted conversations (PROTOCOL §15.4, §15.5).
    r#"
    ALTER TABLE messages ADD COLUMN mentions TEXT;    -- user ids joined by commas; NULL: none
    ALTER TABLE messages ADD COLUMN mention_all INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE muted_conversations (
        user   TEXT NOT NULL REFERENCES users(id),
        target TEXT NOT NULL,                     -- a user id or a gid, as on the wire
        PRIMARY KEY (user, target)
    ) WITHOUT ROWID;
    "#,
    // 8: read receipts (#16, PROTOCOL §16). A read mark per (user,
    // conversation) holds the newest message read and the `version` it was
    // last changed under (one counter, bumped inside the single writer's
    // transaction, so versions commit in order and a catch-up "after
    // version v" misses nothing). `peer` is the other person of a 1:1
    // conversation: the marks a caller may see are their own rows and the
    // rows whose peer they are. A member's `joined_id` is the newest message
    // of the group stored before they joined (NULL: a founder); for members
    // of before this version it is the message before the first one they
    // received there (NULL when that was the group's first, or none). A
    // user's `receipts` is their choice (NULL: the company default). The
    // reminders (加急) sent, for their rate limit and their replay at login.
    r#"
    CREATE TABLE read_marks (
        user         TEXT NOT NULL REFERENCES users(id),
        conversation TEXT NOT NULL,               -- as messages.conversation
        target       TEXT NOT NULL,               -- as the reader names it: the other person or the gid
        peer         TEXT,                        -- the other person of a 1:1 conversation
        message_id   INTEGER NOT NULL,
        version      INTEGER NOT NULL,
        PRIMARY KEY (user, conversation)
    ) WITHOUT ROWID;
    CREATE INDEX read_marks_by_user_version ON read_marks(user, version);
    CREATE INDEX read_marks_by_peer_version ON read_marks(peer, version) WHERE peer IS NOT NULL;
    CREATE TABLE read_versions (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        last INTEGER NOT NULL
    );
    INSERT INTO read_versions (id, last) VALUES (1, 0);
    ALTER TABLE group_members ADD COLUMN joined_id INTEGER;
    UPDATE group_members SET joined_id = (
        SELECT CASE WHEN first.id = (SELECT MIN(id) FROM messages WHERE conversation = 'g:' || group_members.gid)
                    THEN NULL ELSE first.id - 1 END
        FROM (SELECT m.id FROM messages m
              WHERE m.conversation = 'g:' || group_members.gid
                AND EXISTS (SELECT 1 FROM inbox i WHERE i.message_id = m.id AND i.user = group_members.user)
              ORDER BY m.id LIMIT 1) AS first
    );
    ALTER TABLE users ADD COLUMN receipts INTEGER;
    CREATE TABLE dings (
        message_id INTEGER NOT NULL REFERENCES messages(id),
        by         TEXT NOT NULL REFERENCES users(id),
        ts         INTEGER NOT NULL
    );
    CREATE INDEX dings_by_message ON dings(message_id, ts);
    CREATE INDEX dings_by_ts ON dings(ts);
    "#,
    // 9: searching all history (#17, PROTOCOL §17). Each text's (and file
    // name's) index terms (`penpen_core::search_terms`), joined by spaces,
    // under the message id as rowid; the `ascii` tokenizer keeps every term
    // whole (it splits at ASCII punctuation and spaces only, and terms are
    // letters and digits). Contentless with `detail=none`: only which
    // messages hold a term is kept, the text is in `messages`. The messages
    // stored before this version are indexed after the migration, newest
    // first, in rounds (`queries::backfill_round`); `backfill_below` is
    // where the next round ends.
    r#"
    CREATE VIRTUAL TABLE message_terms USING fts5(
        terms, tokenize = 'ascii', content = '', detail = 'none'
    );
    CREATE TABLE search_backfill (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        backfill_below INTEGER NOT NULL
    );
    INSERT INTO search_backfill (id, backfill_below) SELECT 1, COALESCE(MAX(id), 0) + 1 FROM messages;
    "#,
    // 10: one SQL for SQLite and PostgreSQL (#17). `user` is a reserved
    // word in PostgreSQL, so the column naming a user is `user_id`
    // everywhere (SQLite renames it in the indexes and the trigger too).
    r#"
    ALTER TABLE sessions RENAME COLUMN user TO user_id;
    ALTER TABLE inbox RENAME COLUMN user TO user_id;
    ALTER TABLE group_members RENAME COLUMN user TO user_id;
    ALTER TABLE mailboxes RENAME COLUMN user TO user_id;
    ALTER TABLE revocations RENAME COLUMN user TO user_id;
    ALTER TABLE uploads RENAME COLUMN user TO user_id;
    ALTER TABLE muted_conversations RENAME COLUMN user TO user_id;
    ALTER TABLE read_marks RENAME COLUMN user TO user_id;
    "#,
];

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();

/// PostgreSQL's migrations: each brings the schema from version `i` to `i + 1`.
const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1: everything SQLite has at its version 10.
    r#"
    CREATE TABLE departments (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE jobs (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        department    BIGINT NOT NULL REFERENCES departments(id),
        job           BIGINT NOT NULL REFERENCES jobs(id),
        password_hash TEXT NOT NULL,
        signing       TEXT NOT NULL DEFAULT '',
        broadcaster   BIGINT NOT NULL DEFAULT 0,
        presence      TEXT NOT NULL DEFAULT 'offline',
        disabled      BIGINT NOT NULL DEFAULT 0,
        receipts      BIGINT
    );
    CREATE TABLE mailboxes (
        user_id   TEXT PRIMARY KEY REFERENCES users(id),
        last_seq  BIGINT NOT NULL DEFAULT 0,
        acked_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE FUNCTION users_get_a_mailbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO mailboxes (user_id) VALUES (NEW.id);
        RETURN NEW;
    END $$;
    CREATE TRIGGER users_get_a_mailbox AFTER INSERT ON users
        FOR EACH ROW EXECUTE FUNCTION users_get_a_mailbox();
    CREATE TABLE sessions (
        token_hash   BYTEA PRIMARY KEY,
        user_id      TEXT NOT NULL REFERENCES users(id),
        created_ts   BIGINT NOT NULL,
        revoked      BIGINT NOT NULL DEFAULT 0,
        last_used_ts BIGINT,
        ticket_key   BYTEA
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE revocations (
        id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id    TEXT NOT NULL,
        token_hash BYTEA,
        reason     TEXT NOT NULL,
        ts         BIGINT NOT NULL
    );
    CREATE TABLE messages (
        id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sender       TEXT NOT NULL,
        target       TEXT NOT NULL,
        conversation TEXT NOT NULL,
        type         BIGINT NOT NULL,
        content      TEXT NOT NULL,
        duration     BIGINT,
        cid          TEXT,
        ts           BIGINT NOT NULL,
        quote_id     BIGINT,
        recalled_by  TEXT,
        recalled_ts  BIGINT,
        recall_id    BIGINT,
        name         TEXT,
        size         BIGINT,
        mentions     TEXT,
        mention_all  BIGINT NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX messages_by_cid ON messages(sender, cid) WHERE cid IS NOT NULL;
    CREATE INDEX messages_by_conversation ON messages(conversation, id);
    CREATE TABLE inbox (
        user_id    TEXT NOT NULL REFERENCES users(id),
        seq        BIGINT NOT NULL,
        message_id BIGINT NOT NULL REFERENCES messages(id),
        PRIMARY KEY (user_id, seq)
    );
    CREATE INDEX inbox_by_message ON inbox(message_id, user_id);
    CREATE TABLE groups (
        gid        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        holder     TEXT NOT NULL REFERENCES users(id),
        name       TEXT NOT NULL,
        created_ts BIGINT NOT NULL
    );
    CREATE TABLE group_members (
        gid       BIGINT NOT NULL REFERENCES groups(gid),
        user_id   TEXT NOT NULL REFERENCES users(id),
        position  BIGINT NOT NULL,
        left_id   BIGINT,
        joined_id BIGINT,
        PRIMARY KEY (gid, user_id)
    );
    CREATE INDEX group_members_by_user ON group_members(user_id);
    CREATE TABLE broadcasts (
        id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sender  TEXT NOT NULL REFERENCES users(id),
        kind    BIGINT NOT NULL,
        title   TEXT NOT NULL,
        content TEXT NOT NULL,
        cid     TEXT,
        ts      BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX broadcasts_by_cid ON broadcasts(sender, cid) WHERE cid IS NOT NULL;
    CREATE TABLE files (
        name       TEXT PRIMARY KEY,
        message_id BIGINT NOT NULL REFERENCES messages(id),
        mime       TEXT NOT NULL,
        size       BIGINT NOT NULL
    );
    CREATE TABLE forwarded_files (
        name       TEXT NOT NULL,
        message_id BIGINT NOT NULL REFERENCES messages(id),
        PRIMARY KEY (name, message_id)
    );
    CREATE INDEX forwarded_files_by_message ON forwarded_files(message_id);
    CREATE TABLE uploads (
        user_id    TEXT NOT NULL REFERENCES users(id),
        cid        TEXT NOT NULL,
        target     TEXT NOT NULL,
        name       TEXT NOT NULL,
        size       BIGINT NOT NULL,
        stored     BIGINT NOT NULL DEFAULT 0,
        part       TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        updated_ts BIGINT NOT NULL,
        PRIMARY KEY (user_id, cid)
    );
    CREATE INDEX uploads_by_age ON uploads(updated_ts);
    CREATE TABLE muted_conversations (
        user_id TEXT NOT NULL REFERENCES users(id),
        target  TEXT NOT NULL,
        PRIMARY KEY (user_id, target)
    );
    CREATE TABLE read_marks (
        user_id      TEXT NOT NULL REFERENCES users(id),
        conversation TEXT NOT NULL,
        target       TEXT NOT NULL,
        peer         TEXT,
        message_id   BIGINT NOT NULL,
        version      BIGINT NOT NULL,
        PRIMARY KEY (user_id, conversation)
    );
    CREATE INDEX read_marks_by_user_version ON read_marks(user_id, version);
    CREATE INDEX read_marks_by_peer_version ON read_marks(peer, version) WHERE peer IS NOT NULL;
    CREATE TABLE read_versions (id BIGINT PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL);
    INSERT INTO read_versions (id, last) VALUES (1, 0);
    CREATE TABLE dings (
        message_id BIGINT NOT NULL REFERENCES messages(id),
        by         TEXT NOT NULL REFERENCES users(id),
        ts         BIGINT NOT NULL
    );
    CREATE INDEX dings_by_message ON dings(message_id, ts);
    CREATE INDEX dings_by_ts ON dings(ts);
    -- Search (§17): each text's index terms, as SQLite's message_terms,
    -- under a GIN index; a query's terms are matched with @>.
    CREATE TABLE message_terms (
        message_id BIGINT PRIMARY KEY REFERENCES messages(id),
        terms      TEXT[] NOT NULL
    );
    CREATE INDEX message_terms_by_term ON message_terms USING GIN (terms);
    CREATE TABLE search_backfill (id BIGINT PRIMARY KEY CHECK (id = 1), backfill_below BIGINT NOT NULL);
    INSERT INTO search_backfill (id, backfill_below) VALUES (1, 1);
    "#,
];

/// The key of the advisory lock under which a node migrates PostgreSQL, so
/// that nodes starting together do not migrate at once.
const MIGRATION_LOCK: i64 = 0x7065_6e70_656e; // "penpen"

/// Runs every PostgreSQL migration the database has not had yet.
pub fn migrate_postgres(conn: &PgConnection) -> Result<(), StoreError> {
    conn.batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let result = migrate_postgres_locked(conn);
    let unlocked = conn.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    result.and(unlocked)
}

fn migrate_postgres_locked(conn: &PgConnection) -> Result<(), StoreError> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
         INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING;",
    )?;
    let db = super::db::Db::Postgres(conn);
    let current: usize = db.query_row(
        "SELECT version FROM schema_version WHERE id = 1",
        crate::params![],
        |row| row.get(0),
    )?;
    if current > POSTGRES_MIGRATIONS.len() {
        return Err(StoreError::Database(format!(
            "the database has schema version {current}, newer than this server's {}; run a newer server",
            POSTGRES_MIGRATIONS.len()
        )));
    }
    for (index, sql) in POSTGRES_MIGRATIONS.iter().enumerate().skip(current) {
        conn.batch("BEGIN")?;
        let step = conn.batch(sql).and_then(|()| {
            conn.batch(&format!(
                "UPDATE schema_version SET version = {} WHERE id = 1",
                index + 1
            ))
        });
        match step {
            Ok(()) => conn.batch("COMMIT")?,
            Err(err) => {
                let _ = conn.batch("ROLLBACK");
                return Err(err);
            }
        }
    }
    Ok(())
}

/// Runs every migration the database has not had yet.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_record_the_version() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        migrate(&mut conn).expect("first run");
        migrate(&mut conn).expect("second run is a no-op");
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, VERSION);
    }

    #[test]
    fn version_8_says_when_members_of_before_joined() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(&MIGRATIONS[..7].concat())
            .expect("version 7");
        conn.pragma_update(None, "user_version", 7)
            .expect("set version");
        // Group 1 founded by a and b (message 1), c added later (message 3 is
        // the first c received), d a member who never received anything.
        conn.execute_batch(
            "INSERT INTO departments VALUES (1, 'd'); INSERT INTO jobs VALUES (1, 'j');
             INSERT INTO users (id, name, department, job, password_hash) VALUES
               ('13800000001', 'a', 1, 1, 'h'), ('13800000002', 'b', 1, 1, 'h'),
               ('13800000003', 'c', 1, 1, 'h'), ('13800000004', 'd', 1, 1, 'h');
             INSERT INTO groups (gid, holder, name, created_ts) VALUES (1, '13800000001', 'g', 0);
             INSERT INTO group_members (gid, user, position) VALUES
               (1, '13800000001', 0), (1, '13800000002', 1), (1, '13800000003', 2),
               (1, '13800000004', 3);
             INSERT INTO messages (id, sender, target, conversation, type, content, ts) VALUES
               (1, '0', '1', 'g:1', 19, '', 0), (2, '13800000001', '1', 'g:1', 11, 'x', 0),
               (3, '0', '1', 'g:1', 21, '', 0);
             INSERT INTO inbox (user, seq, message_id) VALUES
               ('13800000001', 1, 1), ('13800000002', 1, 1), ('13800000001', 2, 2),
               ('13800000002', 2, 2), ('13800000001', 3, 3), ('13800000002', 3, 3),
               ('13800000003', 1, 3);",
        )
        .expect("v7 rows");
        migrate(&mut conn).expect("to the newest version");
        let joined = |user: &str| -> Option<i64> {
            conn.query_row(
                "SELECT joined_id FROM group_members WHERE gid = 1 AND user_id = ?1",
                [user],
                |row| row.get(0),
            )
            .expect("member")
        };
        assert_eq!(joined("13800000001"), None, "a founder");
        assert_eq!(joined("13800000002"), None, "a founder");
        assert_eq!(joined("13800000003"), Some(2), "joined after message 2");
        assert_eq!(joined("13800000004"), None, "nothing to tell from");
    }

    #[test]
    fn version_2_moves_the_seq_counters_into_mailboxes() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        // A version 1 database with a user who has messages.
        conn.execute_batch(MIGRATIONS[0]).expect("version 1");
        conn.pragma_update(None, "user_version", 1)
            .expect("set version");
        conn.execute_batch(
            "INSERT INTO departments VALUES (1, 'd'); INSERT INTO jobs VALUES (1, 'j');
             INSERT INTO users (id, name, department, job, password_hash, last_seq, acked_seq)
             VALUES ('13800000001', 'a', 1, 1, 'h', 7, 5);",
        )
        .expect("v1 rows");
        migrate(&mut conn).expect("to version 2");
        let counters: (i64, i64) = conn
            .query_row(
                "SELECT last_seq, acked_seq FROM mailboxes WHERE user_id = '13800000001'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("carried over");
        assert_eq!(counters, (7, 5));
        // Users added later get an empty mailbox.
        conn.execute(
            "INSERT INTO users (id, name, department, job, password_hash)
             VALUES ('13800000002', 'b', 1, 1, 'h')",
            [],
        )
        .expect("new user");
        let fresh: i64 = conn
            .query_row(
                "SELECT last_seq FROM mailboxes WHERE user_id = '13800000002'",
                [],
                |row| row.get(0),
            )
            .expect("mailbox made by the trigger");
        assert_eq!(fresh, 0);
    }
}
