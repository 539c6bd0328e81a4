//! The SQLite backend: one database file in WAL mode with
//! `synchronous=FULL`, the embedded default.
//!
//! All writes go through one writer thread. It takes every write that is
//! waiting, runs each in its own savepoint inside one transaction, commits
//! once, and only then answers them: concurrent sends share one fsync (group
//! commit) and nobody hears "stored" before it is on disk.
//!
//! Every answer matches what is on disk. SQLite may roll a whole transaction
//! back by itself in the middle of a batch (disk full, I/O error); the writer
//! notices (the connection is back in autocommit mode), tells the jobs already
//! run that nothing of theirs was kept, and runs the rest in a new
//! transaction. A commit hook refuses every commit but the writer's own, so no
//! statement can slip onto disk one by one in autocommit mode meanwhile.

use super::db::Db;
use super::{Job, StoreError, StoreOptions, queries, schema};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// The most writes committed together.
const MAX_BATCH: usize = 512;

/// A SQLite database and its threads.
#[derive(Debug)]
pub(super) struct SqliteStore {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::SyncSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Stops the checkpointer when dropped or sent to.
    checkpointer: Mutex<Option<mpsc::Sender<()>>>,
    /// At most this many reads run at once, each on a pooled connection:
    /// more would only add connections (each with its own page cache) and
    /// threads competing for the same two cores.
    read_slots: tokio::sync::Semaphore,
}

/// How many read connections the pool keeps.
const READERS: usize = 4;

impl SqliteStore {
    /// Opens (creating and migrating as needed) the database at `path`.
    pub(super) fn open(path: &Path, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let mut conn = open_connection(path)?;
        schema::migrate(&mut conn)?;
        super::backfill_search(|| {
            let tx = conn.transaction()?;
            let left = queries::backfill_round(&Db::Sqlite(&tx))?;
            tx.commit()?;
            Ok(left)
        })?;
        if let Some(pages) = options.max_pages {
            conn.pragma_update(None, "max_page_count", pages)?;
        }
        // Checkpoints copy the WAL into the database and fsync it; done by the
        // writer they stall every send in that batch, so a checkpointer thread
        // does them instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = spawn_checkpointer(path)?;
        let (jobs, queue) = mpsc::sync_channel::<Job>(options.queue_capacity.max(1));
        let writer = std::thread::Builder::new()
            .name("penpen-store-writer".into())
            .spawn(move || run_writer(conn, queue))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            jobs: Mutex::new(Some(jobs)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            checkpointer: Mutex::new(Some(checkpointer)),
            read_slots: tokio::sync::Semaphore::new(READERS),
        })
    }

    /// Queues a write for the writer thread.
    pub(super) fn submit(&self, job: Job) -> Result<(), StoreError> {
        let sender = self
            .jobs
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)?;
        sender.try_send(job).map_err(|err| match err {
            mpsc::TrySendError::Full(_) => StoreError::Busy,
            mpsc::TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }

    /// Runs `f` on a read connection, off the async threads.
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
        let (path, readers) = (self.path.clone(), self.readers.clone());
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&path)?,
            };
            let result = f(&Db::Sqlite(&conn));
            if let Ok(mut pool) = readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("a read task failed: {e}")))?
    }

    /// Stops taking writes, lets the writer commit what it already has, and waits for it.
    pub(super) fn close(&self) {
        if let Ok(mut checkpointer) = self.checkpointer.lock() {
            checkpointer.take();
        }
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
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
    // Set only while the writer commits a batch: any other commit (a
    // statement run in autocommit mode after SQLite rolled the batch back by
    // itself) is turned into a rollback, so nothing reaches the disk that no
    // caller will hear about as stored.
    let committing = Arc::new(AtomicBool::new(false));
    let allowed = committing.clone();
    conn.commit_hook(Some(move || !allowed.load(Ordering::SeqCst)));
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        while !batch.is_empty() {
            batch = commit_batch(&conn, &committing, batch);
        }
    }
}

/// The error every job of a batch that SQLite rolled back hears.
fn batch_lost() -> StoreError {
    StoreError::Database(
        "the database rolled the batch back (disk full or I/O error); nothing of it was kept"
            .to_owned(),
    )
}

/// Runs `batch` in one transaction and answers every job it ran. Returns the
/// jobs it did not run because the transaction was lost on the way; they
/// belong in a new one.
fn commit_batch(conn: &Connection, committing: &AtomicBool, batch: Vec<Job>) -> Vec<Job> {
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        let err = StoreError::from(err);
        for job in batch {
            job.abandon(&err);
        }
        return Vec::new();
    }
    // Each job's answer-to-be, and whether its work is in the transaction.
    let mut ran: Vec<(super::Completion, bool)> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(err) = run_cached(conn, "SAVEPOINT job") {
            job.abandon(&StoreError::from(err));
            return lost(conn, ran, jobs);
        }
        let (ok, completion) = job.run(&Db::Sqlite(conn));
        ran.push((completion, ok));
        if conn.is_autocommit() {
            return lost(conn, ran, jobs);
        }
        let closed = if ok {
            run_cached(conn, "RELEASE job")
        } else {
            run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"))
        };
        if closed.is_err() || conn.is_autocommit() {
            // Whether the job's work is still in the transaction is unknown:
            // only dropping the whole batch keeps every answer true.
            return lost(conn, ran, jobs);
        }
    }
    committing.store(true, Ordering::SeqCst);
    let commit_result = run_cached(conn, "COMMIT");
    committing.store(false, Ordering::SeqCst);
    let commit_error = commit_result.err().map(|e| {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        tracing::error!(%e, "commit failed; the batch was rolled back");
        StoreError::from(e)
    });
    for (completion, _) in ran {
        completion(commit_error.as_ref());
    }
    Vec::new()
}

/// The transaction is lost or unusable: it is rolled back (if SQLite has not
/// done so already), every job already run hears that nothing of it was kept
/// (a job that failed by itself keeps its own error), and the jobs not yet run
/// are handed back for a new transaction.
fn lost(
    conn: &Connection,
    ran: Vec<(super::Completion, bool)>,
    rest: std::vec::IntoIter<Job>,
) -> Vec<Job> {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let err = batch_lost();
    tracing::error!(
        jobs = ran.len(),
        "a batch was rolled back before its commit; its jobs are answered failed, the rest retried"
    );
    for (completion, ok) in ran {
        completion(ok.then_some(&err));
    }
    rest.collect()
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;
    use crate::params;
    use penpen_core::State;
    use std::future::Future;
    use tokio::sync::oneshot;

    fn keys(path: &Path) -> Vec<i64> {
        let conn = Connection::open(path).expect("the database opens again");
        let mut statement = conn
            .prepare("SELECT k FROM blobs ORDER BY k")
            .expect("the table exists");
        statement
            .query_map([], |row| row.get(0))
            .expect("query runs")
            .collect::<Result<_, _>>()
            .expect("rows read")
    }

    /// Fills a database capped at a few pages with many concurrent writes:
    /// SQLite rolls whole batches back by itself on the way (a full disk).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_disk_leaves_every_answer_true() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("full.db");
        {
            let store = Store::open(&path).expect("opens");
            store
                .write(|conn| {
                    conn.execute_batch("CREATE TABLE blobs (k INTEGER PRIMARY KEY, v BLOB)")?;
                    Ok(())
                })
                .await
                .expect("the table is made");
            let pages: u64 = store
                .read(|conn| conn.query_row("PRAGMA page_count", params![], |r| r.get(0)))
                .await
                .expect("page count");
            store.close();
            let options = StoreOptions {
                max_pages: Some(pages + 40),
                ..StoreOptions::default()
            };
            let store = Store::open_with(&path, options).expect("opens capped");
            let mut acked = Vec::new();
            let mut failed = Vec::new();
            for round in 0..4i64 {
                let writes = (0..150i64).map(|i| {
                    let k = round * 1000 + i;
                    let store = store.clone();
                    async move {
                        let outcome = store
                            .write(move |conn| {
                                conn.execute(
                                    "INSERT INTO blobs (k, v) VALUES (?1, zeroblob(1500))",
                                    params![k],
                                )?;
                                Ok(())
                            })
                            .await;
                        (k, outcome)
                    }
                });
                for (k, outcome) in futures_util::future::join_all(writes).await {
                    match outcome {
                        Ok(()) => acked.push(k),
                        Err(StoreError::Database(_)) => failed.push(k),
                        Err(other) => panic!("write {k} got {other:?}"),
                    }
                }
            }
            let closing = store.clone();
            tokio::task::spawn_blocking(move || closing.close())
                .await
                .expect("closes");
            assert!(!acked.is_empty(), "some writes fit");
            assert!(!failed.is_empty(), "the cap was reached");
            let on_disk = keys(&path);
            let lost: Vec<_> = acked.iter().filter(|k| !on_disk.contains(k)).collect();
            let stored_but_failed: Vec<_> = failed.iter().filter(|k| on_disk.contains(k)).collect();
            assert!(lost.is_empty(), "acknowledged but not on disk: {lost:?}");
            assert!(
                stored_but_failed.is_empty(),
                "answered failed but on disk: {stored_but_failed:?}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let options = StoreOptions {
            queue_capacity: 2,
            ..StoreOptions::default()
        };
        let store = Store::open_with(&dir.path().join("busy.db"), options).expect("opens");
        // The writer is held inside the first job until the queue behind it is full.
        let (release, hold) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let first = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |_| {
                        let _ = started.send(());
                        let _ = hold.recv();
                        Ok(())
                    })
                    .await
            }
        });
        running.await.expect("the first write runs");
        // Polled once, each write is in the queue (a bounded channel of two).
        let mut queued: Vec<_> = (0..2).map(|_| Box::pin(store.write(|_| Ok(())))).collect();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        for write in &mut queued {
            assert!(write.as_mut().poll(&mut cx).is_pending());
        }
        let refused = store.write(|_| Ok(())).await;
        assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");
        assert_eq!(StoreError::Busy.reply().state, State::BUSY);
        release.send(()).expect("the first write waits");
        first
            .await
            .expect("joins")
            .expect("the held write is stored");
        for write in queued {
            write.await.expect("queued writes are stored");
        }
    }
}
