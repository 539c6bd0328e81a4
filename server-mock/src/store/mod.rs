//! Durable storage behind one interface: `write` runs a closure over a
//! connection inside a transaction and answers once it is committed, `read`
//! runs one on a read connection. Two backends hold the data: SQLite, the
//! embedded default (`sqlite`), and PostgreSQL, which several server nodes
//! share (`pg`). The queries (`queries`) are written once for both,
//! against [`db::Db`].
//!
//! Nobody hears "stored" before the commit: both backends answer a write
//! only after its transaction committed, and answer it failed (nothing
//! kept) otherwise.
//!
//! The queue of waiting writes is bounded: when it is full a write is answered
//! [`StoreError::Busy`] at once (state 52, which clients retry) instead of
//! holding memory without end.

pub mod copy;
pub mod db;
mod pg;
pub mod queries;
pub mod schema;
pub mod sessions;
mod sqlite;

use db::Db;
use penpen_core::{ErrorReply, State};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Why a read or write did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database failed; nothing of the write was kept.
    #[error("database error: {0}")]
    Database(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// The writer's queue is full; nothing was written, retry shortly.
    #[error("the writer's queue is full")]
    Busy,
    /// The request breaks a rule (unknown user, not a member, …); nothing was written.
    #[error("{}", .0.error)]
    Refused(ErrorReply),
}

impl StoreError {
    /// A refusal with a state and a reason.
    pub fn refused(state: State, reason: impl Into<String>) -> StoreError {
        StoreError::Refused(ErrorReply::new(state, reason))
    }

    /// A stored value that does not read back as what it must be (a user
    /// id, a peer): the database holds something no write of this server
    /// put there.
    pub fn corrupt(err: impl std::fmt::Display) -> StoreError {
        StoreError::Database(format!("a stored value is not valid: {err}"))
    }

    /// The reply a client gets for this error.
    pub fn reply(&self) -> ErrorReply {
        match self {
            StoreError::Refused(reply) => reply.clone(),
            StoreError::Busy => ErrorReply::new(
                State::BUSY,
                "the server is busy storing other writes; nothing was kept, retry shortly",
            ),
            StoreError::Database(_) | StoreError::Closed => {
                // The client hears only that nothing was kept; the operator
                // needs the database's own words.
                tracing::error!(err = %self, "a store operation failed");
                ErrorReply::new(
                    State::SERVER_ERROR,
                    "the server could not store this; nothing was kept, please retry",
                )
            }
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> StoreError {
        StoreError::Database(err.to_string())
    }
}

/// A write waiting for a writer thread.
trait WriteJob: Send {
    /// Runs inside the transaction; says whether it succeeded (so its
    /// savepoint is kept or rolled back) and returns what will answer the caller.
    fn run(self: Box<Self>, conn: &Db<'_>) -> (bool, Completion);
    /// Answers the caller without running (the transaction could not start).
    fn abandon(self: Box<Self>, err: &StoreError);
}

type Job = Box<dyn WriteJob>;
/// Answers the caller once the commit's outcome is known (`Some` = it failed).
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;

struct TypedJob<R, F> {
    f: F,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<R, F> WriteJob for TypedJob<R, F>
where
    R: Send + 'static,
    F: FnOnce(&Db<'_>) -> Result<R, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Db<'_>) -> (bool, Completion) {
        let TypedJob { f, reply } = *self;
        let result = f(conn);
        let ok = result.is_ok();
        let completion: Completion = Box::new(move |commit_error| {
            let outcome = match commit_error {
                Some(err) => Err(err.clone()),
                None => result,
            };
            // The caller may have gone away (its connection closed); the
            // outcome stands either way.
            let _ = reply.send(outcome);
        });
        (ok, completion)
    }

    fn abandon(self: Box<Self>, err: &StoreError) {
        let _ = self.reply.send(Err(err.clone()));
    }
}

/// How a store runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// The most writes that may wait for the writer; one more is answered
    /// [`StoreError::Busy`].
    pub queue_capacity: usize,
    /// The most pages (of 1 KiB) the database may grow to; a write beyond it
    /// fails as on a full disk. `None`: as large as the disk allows.
    pub max_pages: Option<u64>,
}

impl Default for StoreOptions {
    /// A queue of 4,096 writes (eight full batches), no size cap.
    fn default() -> StoreOptions {
        StoreOptions {
            queue_capacity: 4096,
            max_pages: None,
        }
    }
}

/// Where a server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite database file (one node).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database (`postgres://user:password@host:port/database`),
    /// which several nodes may share.
    Postgres(String),
}

impl StoreLocation {
    /// Reads `--store`: `sqlite:DIR` (the database file `penpen.db` in DIR)
    /// or a `postgres://` (or `postgresql://`) URL.
    pub fn parse(text: &str) -> Result<StoreLocation, String> {
        if let Some(dir) = text.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err("sqlite: needs a folder, e.g. sqlite:/srv/penpen".into());
            }
            Ok(StoreLocation::Sqlite(Path::new(dir).join("penpen.db")))
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(StoreLocation::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "{:?} is not a store; expected sqlite:DIR or postgres://user@host:port/database",
                db::redact(text)
            ))
        }
    }
}

/// The database of one server (or of several nodes, on PostgreSQL).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(pg::PgStore),
}

impl Store {
    /// Opens (creating and migrating as needed) the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens the SQLite database at `path` with `options`.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Arc::new(Backend::Sqlite(sqlite::SqliteStore::open(path, options)?)),
        })
    }

    /// Opens the store at `location`, creating and migrating its schema as
    /// needed. Blocking: call it off the async threads.
    pub fn open_at(location: &StoreLocation, options: StoreOptions) -> Result<Store, StoreError> {
        match location {
            StoreLocation::Sqlite(path) => Store::open_with(path, options),
            StoreLocation::Postgres(url) => Ok(Store {
                backend: Arc::new(Backend::Postgres(pg::PgStore::open(url, options)?)),
            }),
        }
    }

    /// Which engine holds the data.
    pub fn dialect(&self) -> db::Dialect {
        match &*self.backend {
            Backend::Sqlite(_) => db::Dialect::Sqlite,
            Backend::Postgres(_) => db::Dialect::Postgres,
        }
    }

    /// Runs `f` in a write transaction; returns its result once committed.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Db<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(TypedJob { f, reply });
        match &*self.backend {
            Backend::Sqlite(store) => store.submit(job)?,
            Backend::Postgres(store) => store.submit(job)?,
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read connection, off the async threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Db<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        match &*self.backend {
            Backend::Sqlite(store) => store.read(f).await,
            Backend::Postgres(store) => store.read(f).await,
        }
    }

    /// Stops taking writes, lets the writers commit what they already
    /// have, and waits for them.
    pub fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(store) => store.close(),
            Backend::Postgres(store) => store.close(),
        }
    }
}

/// Indexes for search the messages stored before the index existed (a
/// database of before schema version 9, or one copied in by `migrate-to`),
/// one round per transaction, before the server takes requests: a search
/// must never miss an old message.
fn backfill_search(mut round: impl FnMut() -> Result<i64, StoreError>) -> Result<(), StoreError> {
    let mut logged = false;
    loop {
        let left = round()?;
        if left == 0 {
            return Ok(());
        }
        if !logged {
            tracing::info!(left, "indexing the stored messages for search (once)");
            logged = true;
        }
    }
}
