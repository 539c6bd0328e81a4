//! The PostgreSQL backend, which several server nodes share.
//!
//! Writes run on four writer threads, each with its own connection, and
//! each write in a transaction of its own: the nodes' writes interleave in
//! the database, so a node cannot batch them the way the single SQLite
//! writer does without making one node's slow batch hold row locks (a
//! user's seq counter) that every other node waits for. PostgreSQL commits
//! concurrent transactions with one WAL flush between them (its own group
//! commit), and a write is answered only after its `COMMIT` returned.
//!
//! Writes made by one task commit in the order it made them: each task's
//! writes go to one writer (chosen by its task id), whose queue is a FIFO.
//! A connection's pipelined sends are one task, so they are stored, and
//! answered, in the order sent, as with SQLite's single writer.
//!
//! What the SQLite writer gets from being alone, PostgreSQL gets from locks:
//! a user's next seq is taken with `UPDATE … RETURNING` on their mailbox
//! row, which holds the row until commit, so seqs commit in order; the
//! counters read after ("after version v", "after revocation n") are
//! bumped in the same way (see `queries::serialize_ids`).

use super::db::{Db, PgConnection};
use super::{Job, StoreError, StoreOptions, queries, schema};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// Writer threads (and connections) per node. A write waits for its
/// commit's WAL flush and concurrent commits share one flush, so more
/// writers help until PostgreSQL's backends compete for the cores: on this
/// 2-core machine 4 writers gave 1,137 msg/s and 16 gave 835
/// (scripts/node-figures.sh).
const WRITERS: usize = 4;
/// Read connections per node.
const READERS: usize = 4;

/// A PostgreSQL database, its writer threads and read connections.
#[derive(Debug)]
pub(super) struct PgStore {
    url: String,
    /// One queue per writer.
    jobs: Mutex<Option<Vec<mpsc::SyncSender<Job>>>>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<PgConnection>>>,
    read_slots: tokio::sync::Semaphore,
}

impl PgStore {
    /// Connects, migrates the schema (one node at a time) and starts the writers.
    pub(super) fn open(url: &str, options: StoreOptions) -> Result<PgStore, StoreError> {
        let conn = PgConnection::connect(url)?;
        schema::migrate_postgres(&conn)?;
        super::backfill_search(|| in_transaction(&conn, queries::backfill_round))?;
        let capacity = (options.queue_capacity / WRITERS).max(1);
        let mut writers = Vec::with_capacity(WRITERS);
        let mut jobs = Vec::with_capacity(WRITERS);
        let mut first = Some(conn);
        for n in 0..WRITERS {
            let (sender, queue) = mpsc::sync_channel::<Job>(capacity);
            let url = url.to_owned();
            let conn = first.take();
            let writer = std::thread::Builder::new()
                .name(format!("penpen-pg-writer-{n}"))
                .spawn(move || run_writer(url, conn, queue))
                .map_err(|e| StoreError::Database(format!("cannot start a writer thread: {e}")))?;
            writers.push(writer);
            jobs.push(sender);
        }
        Ok(PgStore {
            url: url.to_owned(),
            jobs: Mutex::new(Some(jobs)),
            writers: Mutex::new(writers),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: tokio::sync::Semaphore::new(READERS),
        })
    }

    /// Queues a write for the writer of the calling task.
    pub(super) fn submit(&self, job: Job) -> Result<(), StoreError> {
        let writer = tokio::task::try_id().map_or(0, |id| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            id.hash(&mut hasher);
            hasher.finish() as usize % WRITERS
        });
        let sender = self
            .jobs
            .lock()
            .map_err(|_| StoreError::Closed)?
            .as_ref()
            .and_then(|jobs| jobs.get(writer).cloned())
            .ok_or(StoreError::Closed)?;
        sender.try_send(job).map_err(|err| match err {
            mpsc::TrySendError::Full(_) => StoreError::Busy,
            mpsc::TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }

    /// Runs `f` on a read connection (outside any transaction), off the
    /// async threads.
    pub(super) async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Db<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let _slot = self
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let (url, readers) = (self.url.clone(), self.readers.clone());
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) if !conn.is_closed() => conn,
                _ => PgConnection::connect(&url)?,
            };
            let result = f(&Db::Postgres(&conn));
            // A connection the server closed is not kept.
            if !conn.is_closed()
                && let Ok(mut pool) = readers.lock()
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("a read task failed: {e}")))?
    }

    /// Stops taking writes, lets the writers finish what they have, and waits for them.
    pub(super) fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let writers = self
            .writers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for writer in writers {
            let _ = writer.join();
        }
    }
}

/// Runs `f` in a transaction of its own on `conn`.
fn in_transaction<R>(
    conn: &PgConnection,
    f: impl FnOnce(&Db<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    conn.batch("BEGIN")?;
    match f(&Db::Postgres(conn)) {
        Ok(result) => {
            conn.batch("COMMIT")?;
            Ok(result)
        }
        Err(err) => {
            let _ = conn.batch("ROLLBACK");
            Err(err)
        }
    }
}

/// Takes writes off its queue until it closes, each in its own
/// transaction; reconnects after the connection is lost.
fn run_writer(url: String, mut conn: Option<PgConnection>, queue: mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        if conn.as_ref().is_none_or(PgConnection::is_closed) {
            match PgConnection::connect(&url) {
                Ok(fresh) => conn = Some(fresh),
                Err(err) => {
                    tracing::error!(%err, "a PostgreSQL writer cannot connect");
                    job.abandon(&err);
                    continue;
                }
            }
        }
        let Some(db) = conn.as_ref() else { continue };
        if let Err(err) = db.batch("BEGIN") {
            job.abandon(&err);
            continue;
        }
        let (ok, completion) = job.run(&Db::Postgres(db));
        if ok {
            match db.batch("COMMIT") {
                Ok(()) => completion(None),
                Err(err) => {
                    // Unknown whether it committed if the connection broke
                    // during COMMIT; the caller hears "failed" and retries,
                    // and a repeated client message id finds the first.
                    tracing::warn!(%err, "a commit failed");
                    completion(Some(&err));
                }
            }
        } else {
            let _ = db.batch("ROLLBACK");
            completion(None);
        }
    }
}
