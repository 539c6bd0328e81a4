//! Durable storage: SQLite in WAL mode with `synchronous=FULL`, behind a narrow
//! interface (`read` and `write` of closures over a connection) so another
//! backend can replace it.
//!
//! All writes go through one writer thread. It takes every write that is
//! waiting, runs each in its own savepoint inside one transaction, commits
//! once, and only then answers them: concurrent sends share one fsync (group
//! commit) and nobody hears "stored" before it is on disk.

pub mod queries;
pub mod schema;
pub mod sessions;

use penpen_core::{ErrorReply, State};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The most writes committed together.
const MAX_BATCH: usize = 512;

/// Why a read or write did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database failed; nothing of the write was kept.
    #[error("database error: {0}")]
    Database(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// The request breaks a rule (unknown user, not a member, …); nothing was written.
    #[error("{}", .0.error)]
    Refused(ErrorReply),
}

impl StoreError {
    /// A refusal with a state and a reason.
    pub fn refused(state: State, reason: impl Into<String>) -> StoreError {
        StoreError::Refused(ErrorReply::new(state, reason))
    }

    /// The reply a client gets for this error.
    pub fn reply(&self) -> ErrorReply {
        match self {
            StoreError::Refused(reply) => reply.clone(),
            StoreError::Database(_) | StoreError::Closed => ErrorReply::new(
                State::SERVER_ERROR,
                "the server could not store this; nothing was kept, please retry",
            ),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> StoreError {
        StoreError::Database(err.to_string())
    }
}

/// A write waiting for the writer thread.
trait WriteJob: Send {
    /// Runs inside the batch transaction; says whether it succeeded (so its
    /// savepoint is kept or rolled back) and returns what will answer the caller.
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Completion);
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
    F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Completion) {
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

/// The database of one server.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    /// Stops the checkpointer when dropped or sent to.
    checkpointer: Mutex<Option<mpsc::Sender<()>>>,
    /// At most this many reads run at once, each on a pooled connection:
    /// more would only add connections (each with its own page cache) and
    /// threads competing for the same two cores.
    read_slots: tokio::sync::Semaphore,
}

/// How many read connections the pool keeps.
const READERS: usize = 4;

impl Store {
    /// Opens (creating and migrating as needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = open_connection(path)?;
        schema::migrate(&mut conn)?;
        // Checkpoints copy the WAL into the database and fsync it; done by the
        // writer they stall every send in that batch, so a checkpointer thread
        // does them instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = spawn_checkpointer(path)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("penpen-store-writer".into())
            .spawn(move || run_writer(conn, queue))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                jobs: Mutex::new(Some(jobs)),
                writer: Mutex::new(Some(writer)),
                readers: Mutex::new(Vec::new()),
                checkpointer: Mutex::new(Some(checkpointer)),
                read_slots: tokio::sync::Semaphore::new(READERS),
            }),
        })
    }

    /// Runs `f` in a write transaction; returns its result once committed.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(TypedJob { f, reply });
        let sender = self
            .inner
            .jobs
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read connection, off the async threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = inner.readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("a read task failed: {e}")))?
    }

    /// Stops taking writes, lets the writer commit what it already has, and waits for it.
    pub fn close(&self) {
        if let Ok(mut checkpointer) = self.inner.checkpointer.lock() {
            checkpointer.take();
        }
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let writer = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Only takes effect on a new database (before WAL mode is set).
    conn.pragma_update(None, "page_size", 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit survives power loss, which is what an ack promises.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// How often the WAL is copied back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// A thread that checkpoints the WAL until its sender is dropped.
fn spawn_checkpointer(path: &Path) -> Result<mpsc::Sender<()>, StoreError> {
    let conn = open_connection(path)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("penpen-store-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                // PASSIVE never blocks writers; what it cannot copy now waits for the next round.
                if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(%err, "checkpoint failed");
                }
            }
        })
        .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
    Ok(stop)
}

/// Runs a statement without parameters, compiled once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn run_writer(conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch);
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        let err = StoreError::from(err);
        for job in batch {
            job.abandon(&err);
        }
        return;
    }
    let mut completions = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(err) = run_cached(conn, "SAVEPOINT job") {
            job.abandon(&StoreError::from(err));
            continue;
        }
        let (ok, completion) = job.run(conn);
        let undone = if ok {
            run_cached(conn, "RELEASE job")
        } else {
            run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"))
        }
        .err()
        .map(StoreError::from);
        completions.push((completion, undone));
    }
    let commit_error = run_cached(conn, "COMMIT").err().map(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        tracing::error!(%e, "commit failed; the batch was rolled back");
        StoreError::from(e)
    });
    for (completion, undone) in completions {
        completion(commit_error.as_ref().or(undone.as_ref()));
    }
}
