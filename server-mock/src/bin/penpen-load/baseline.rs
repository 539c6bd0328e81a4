//! The machine's own limits, measured in the same run as penpen: a bare
//! WebSocket echo server driven like penpen's senders, and a bare SQLite
//! group-commit insert loop at `synchronous=FULL` with penpen's row shape.
//! penpen's throughput is reported as a fraction of each, so the figure does
//! not drift with the machine or with what else runs on it.

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A bare echo server on its own runtime (as many workers as penpen's
/// server has), counting the frames it reads and writes.
struct EchoServer {
    addr: std::net::SocketAddr,
    frames: Arc<AtomicU64>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl EchoServer {
    fn start() -> anyhow::Result<EchoServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("echo-server")
            .build()?;
        let frames = Arc::new(AtomicU64::new(0));
        // Bound here, served on the echo runtime (the caller is async, so
        // this cannot block on that runtime).
        let bound = std::net::TcpListener::bind("127.0.0.1:0")?;
        bound.set_nonblocking(true)?;
        let addr = bound.local_addr()?;
        let counted = frames.clone();
        runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(bound) else {
                return;
            };
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let frames = counted.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    while let Some(Ok(message)) = ws.next().await {
                        if !message.is_text() {
                            continue;
                        }
                        frames.fetch_add(2, Ordering::Relaxed);
                        if ws.send(message).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(EchoServer {
            addr,
            frames,
            runtime: Some(runtime),
        })
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Frames per second (read plus written) a bare echo server handles with
/// `connections` clients keeping `window` frames of `frame` in flight each.
pub(crate) async fn echo_frames_per_second(
    connections: usize,
    window: usize,
    duration: Duration,
    frame: String,
) -> anyhow::Result<f64> {
    let server = EchoServer::start()?;
    let url = format!("ws://{}/", server.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (socket, _) = tokio_tungstenite::connect_async_with_config(&url, None, true).await?;
        clients.push(socket);
    }
    let before = server.frames.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for socket in clients {
        let (mut sink, mut source) = socket.split();
        let in_flight = Arc::new(Semaphore::new(window));
        let echoed = in_flight.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(_)) = source.next().await {
                echoed.add_permits(1);
            }
        });
        let (stop, frame) = (stop.clone(), frame.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(permit) = in_flight.acquire().await else {
                    break;
                };
                permit.forget();
                if sink.send(WsMessage::text(frame.as_str())).await.is_err() {
                    break;
                }
            }
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                in_flight.acquire_many(window as u32),
            )
            .await;
            let _ = sink.close().await;
            reader.abort();
        }));
    }
    tokio::time::sleep(duration).await;
    let frames = server.frames.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    Ok(frames as f64 / elapsed.as_secs_f64())
}

/// One message's rows, as penpen stores a 1:1 text: the message, and an
/// inbox row under the next seq of each of its two recipients.
struct Row {
    sender: String,
    target: String,
    content: String,
    cid: String,
    done: oneshot::Sender<()>,
}

/// The most rows committed together (penpen's store commits up to 512 writes).
const MAX_BATCH: usize = 512;

/// Messages per second a bare SQLite writer thread commits when
/// `producers` callers each wait for their row's commit before sending the
/// next: group commit, WAL, `synchronous=FULL`, penpen's page size.
pub(crate) async fn insert_rows_per_second(
    producers: usize,
    duration: Duration,
    content: &str,
) -> anyhow::Result<f64> {
    let folder = tempfile::tempdir()?;
    let path = folder.path().join("baseline.sqlite3");
    let conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "page_size", 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // As in penpen, checkpoints do not stall the writer (penpen runs them on
    // their own thread; a few seconds of WAL need none).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.execute_batch(
        "CREATE TABLE messages (
             id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, target TEXT NOT NULL,
             conversation TEXT NOT NULL, type INTEGER NOT NULL, content TEXT NOT NULL,
             duration INTEGER, cid TEXT, ts INTEGER NOT NULL);
         CREATE UNIQUE INDEX messages_by_cid ON messages(sender, cid) WHERE cid IS NOT NULL;
         CREATE INDEX messages_by_conversation ON messages(conversation, id);
         CREATE TABLE mailboxes (user TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
         CREATE TABLE inbox (user TEXT NOT NULL, seq INTEGER NOT NULL, message_id INTEGER NOT NULL,
             PRIMARY KEY (user, seq)) WITHOUT ROWID;
         CREATE INDEX inbox_by_message ON inbox(message_id, user);",
    )?;
    let (queue, jobs) = std::sync::mpsc::channel::<Row>();
    let committed = Arc::new(AtomicU64::new(0));
    let counted = committed.clone();
    let writer = std::thread::spawn(move || -> rusqlite::Result<()> {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH
                && let Ok(next) = jobs.try_recv()
            {
                batch.push(next);
            }
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for row in &batch {
                insert(&conn, row)?;
            }
            conn.execute_batch("COMMIT")?;
            counted.fetch_add(batch.len() as u64, Ordering::Relaxed);
            for row in batch {
                let _ = row.done.send(());
            }
        }
        Ok(())
    });
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(producers);
    for i in 0..producers {
        let (queue, stop, content) = (queue.clone(), stop.clone(), content.to_owned());
        tasks.push(tokio::spawn(async move {
            for n in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let (done, committed) = oneshot::channel();
                let row = Row {
                    sender: format!("137{:08}", i + 1),
                    target: format!("137{:08}", (i + 1) % producers + 1),
                    content: content.clone(),
                    cid: format!("u{i}-{n}"),
                    done,
                };
                if queue.send(row).is_err() || committed.await.is_err() {
                    break;
                }
            }
        }));
    }
    drop(queue);
    let before = committed.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    let rows = committed.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    match writer.join() {
        Ok(result) => result?,
        Err(_) => anyhow::bail!("the insert loop's writer thread panicked"),
    }
    Ok(rows as f64 / elapsed.as_secs_f64())
}

fn insert(conn: &rusqlite::Connection, row: &Row) -> rusqlite::Result<()> {
    let conversation = if row.sender < row.target {
        format!("u:{}:{}", row.sender, row.target)
    } else {
        format!("u:{}:{}", row.target, row.sender)
    };
    conn.prepare_cached(
        "INSERT INTO messages (sender, target, conversation, type, content, duration, cid, ts)
         VALUES (?1, ?2, ?3, 1, ?4, NULL, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        row.sender,
        row.target,
        conversation,
        row.content,
        row.cid,
        1_800_000_000_000i64
    ])?;
    let id = conn.last_insert_rowid();
    for user in [&row.sender, &row.target] {
        let seq: i64 = conn
            .prepare_cached(
                "INSERT INTO mailboxes (user, last_seq) VALUES (?1, 1)
                 ON CONFLICT(user) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
            )?
            .query_row([user], |r| r.get(0))?;
        conn.prepare_cached("INSERT INTO inbox (user, seq, message_id) VALUES (?1, ?2, ?3)")?
            .execute(rusqlite::params![user, seq, id])?;
    }
    Ok(())
}
