//! The read receipts load (§16): a group of `--members` users, its creator
//! watching it (plus `--watchers` other members), sends a burst of
//! `--messages`; every member reads them as the web client marks: at most
//! once a second, the newest shown (so one or two marks each). Reports the
//! receipt frames the server sent (counted at the clients), the server's CPU
//! time from the burst until nothing more was sent, and the delay from a
//! member's mark to the watching sender seeing it.
//!
//! `--naive` is the approach §16 avoids, for comparison: every member
//! watches, the server pushes every mark at once (`--reads-coalesce-ms 0`),
//! and every member marks every message.

use super::{ServerProcess, Socket, account, connect, log_in_all, reply, send_packet};
use anyhow::Context as _;
use futures_util::StreamExt;
use penpen_core::packets::groups::{GroupCreate, GroupCreated, Members};
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::packets::receipts::{ReadMark, Watch};
use penpen_core::{Frame, GroupId, MessageId, Peer, Service};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How the clients behave.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) members: usize,
    pub(super) messages: usize,
    pub(super) watchers: usize,
    pub(super) naive: bool,
}

/// A client marks at most this often (the web client's debounce).
const MARK_EVERY: Duration = Duration::from_secs(1);
/// The run gives up waiting for the last marks after this long, or once
/// nothing has reached the clients for [`STALLED`] (pushes a full queue
/// dropped never come).
const PATIENCE: Duration = Duration::from_secs(300);
const STALLED: Duration = Duration::from_secs(10);

/// What the clients saw, shared by their tasks.
#[derive(Default)]
struct Seen {
    /// `{"read":…}` pushes (the reader's own devices; 1:1 peers).
    read_frames: AtomicU64,
    /// `{"reads":…}` changes to watchers.
    reads_frames: AtomicU64,
    /// `{"reads":…,"full":true}` lists answering a watch.
    full_frames: AtomicU64,
    /// Marks the clients sent.
    marks: AtomicU64,
    /// The marks each member sent and the sender has not seen yet, in order.
    sent: Mutex<HashMap<usize, std::collections::VecDeque<(u64, Instant)>>>,
    /// Mark-to-watcher delays seen by the sender, in microseconds: until it
    /// saw the member's mark at or above the one sent (a mark overtaken
    /// within one coalescing interval counts when the later one is seen).
    delays_us: Mutex<Vec<u64>>,
    /// The newest message each member's mark reached, as the sender saw it.
    reached: Mutex<HashMap<usize, u64>>,
}

pub(super) async fn receipts_scenario(server: &ServerProcess, plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(plan.members >= 2, "a group needs at least 2 members");
    let streams = log_in_all(server, plan.members).await?;
    let tokens: Vec<String> = streams.iter().map(|(_, t)| t.clone()).collect();
    let sender_token = tokens.first().context("the sender")?.clone();

    let mut create = connect(server.addr(Service::GroupCreate), Some(&sender_token)).await?;
    send_packet(
        &mut create,
        &GroupCreate {
            holder: account(0),
            name: "回执压测".into(),
            member: Members((1..plan.members).map(account).collect()),
        },
    )
    .await?;
    let gid = reply::<GroupCreated>(&mut create).await?.gid;

    let seen = Arc::new(Seen::default());
    let (stop_tx, stop) = watch::channel(false);
    let watching = if plan.naive {
        plan.members
    } else {
        (1 + plan.watchers).min(plan.members)
    };
    let mut tasks = Vec::new();
    let (watched_tx, mut watched) = tokio::sync::mpsc::channel::<()>(plan.members);
    for (index, (socket, _)) in streams.into_iter().enumerate() {
        let member = Member {
            index,
            gid,
            socket,
            watches: index < watching,
            plan,
            seen: seen.clone(),
            stop: stop.clone(),
            watched: watched_tx.clone(),
        };
        tasks.push(tokio::spawn(member.run()));
    }
    drop(watched_tx);
    for _ in 0..watching {
        watched.recv().await.context("a watcher's full list")?;
    }

    let cpu_before = server.cpu();
    let started = Instant::now();
    let mut text = connect(server.addr(Service::GroupText), Some(&sender_token)).await?;
    for n in 0..plan.messages {
        send_packet(
            &mut text,
            &SendText {
                quote: None,
                mentions: None,
                mention_all: false,
                from: account(0),
                to: Peer::Group(gid),
                kind: MessageType::GroupText,
                content: format!("第{n}条"),
                cid: None,
            },
        )
        .await?;
    }
    let mut newest = MessageId(0);
    for _ in 0..plan.messages {
        newest = newest.max(reply::<SendAck>(&mut text).await?.id);
    }
    let sent_in = started.elapsed();

    // Done when the sender saw every other member's mark reach the newest.
    let readers = plan.members - 1;
    let frames =
        || seen.read_frames.load(Ordering::SeqCst) + seen.reads_frames.load(Ordering::SeqCst);
    let (mut last_count, mut last_change) = (frames(), Instant::now());
    let mut stalled = false;
    loop {
        if frames() != last_count {
            (last_count, last_change) = (frames(), Instant::now());
        }
        if last_change.elapsed() > STALLED {
            println!(
                "  (nothing more reached the clients for {} s: stopped waiting)",
                STALLED.as_secs()
            );
            stalled = true;
            break;
        }
        let reached = seen
            .reached
            .lock()
            .map(|r| r.values().filter(|id| **id >= newest.0).count())
            .unwrap_or(0);
        if reached >= readers || started.elapsed() > PATIENCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Until the last frame came, not the wait for more after it.
    let elapsed = if stalled {
        last_change - started
    } else {
        started.elapsed()
    };
    // What is still on its way to the other watchers counts too: wait until
    // the clients have been sent nothing more for half a second.
    let settle_by = Instant::now() + Duration::from_secs(30);
    let mut before = frames();
    while Instant::now() < settle_by {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = frames();
        if now == before {
            break;
        }
        before = now;
    }
    let cpu = server.cpu().saturating_sub(cpu_before);
    let _ = stop_tx.send(true);
    for task in tasks {
        task.await??;
    }

    let reached = seen.reached.lock().map(|r| r.len()).unwrap_or(0);
    let mut delays = seen.delays_us.lock().map(|d| d.clone()).unwrap_or_default();
    delays.sort_unstable();
    let ms = |q: f64| -> f64 {
        if delays.is_empty() {
            return f64::NAN;
        }
        let i = ((delays.len() - 1) as f64 * q).round() as usize;
        delays[i] as f64 / 1000.0
    };
    let (read, reads, full, marks) = (
        seen.read_frames.load(Ordering::SeqCst),
        seen.reads_frames.load(Ordering::SeqCst),
        seen.full_frames.load(Ordering::SeqCst),
        seen.marks.load(Ordering::SeqCst),
    );
    println!(
        "receipts{}: {} members, {} messages sent in {:.2} s, {watching} watching",
        if plan.naive { " (naive)" } else { "" },
        plan.members,
        plan.messages,
        sent_in.as_secs_f64()
    );
    println!(
        "  marks sent by the members: {marks}; the sender saw {reached}/{readers} members' marks, {} at the newest, {:.2} s after the burst began",
        seen.reached
            .lock()
            .map(|r| r.values().filter(|id| **id >= newest.0).count())
            .unwrap_or(0),
        elapsed.as_secs_f64()
    );
    println!(
        "  receipt frames the server sent: {} in all = {reads} group changes to watchers + {read} marks to readers' own sessions + {full} full lists",
        reads + read + full
    );
    if plan.naive {
        println!(
            "  one push per mark per watching member would be {} group changes (the rest did not fit the sessions' push queues and were dropped)",
            marks * watching as u64
        );
    }
    println!(
        "  server CPU from the burst until the clients were sent nothing more: {:.2} s (storing and pushing the messages included)",
        cpu.as_secs_f64()
    );
    println!(
        "  mark → the watching sender sees it: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} marks seen)",
        ms(0.5),
        ms(0.99),
        ms(1.0),
        delays.len()
    );
    Ok(())
}

enum Event {
    Frame(String),
    Due,
}

/// One member's live stream: reads what comes, marks as a client does.
struct Member {
    index: usize,
    gid: GroupId,
    socket: Socket,
    watches: bool,
    plan: Plan,
    seen: Arc<Seen>,
    stop: watch::Receiver<bool>,
    watched: tokio::sync::mpsc::Sender<()>,
}

impl Member {
    async fn run(mut self) -> anyhow::Result<()> {
        if self.watches {
            send_packet(
                &mut self.socket,
                &Watch {
                    watch: Some(self.gid),
                },
            )
            .await?;
        }
        let (mut newest, mut marked) = (0u64, 0u64);
        // The naive client marks every message as it arrives.
        let mut unmarked = std::collections::VecDeque::new();
        let mut last_mark: Option<Instant> = None;
        loop {
            // The sender reads its own messages too, but never marks them.
            let due = if self.index == 0 {
                None
            } else if self.plan.naive {
                (!unmarked.is_empty()).then(Instant::now)
            } else {
                (newest > marked).then(|| last_mark.map_or_else(Instant::now, |t| t + MARK_EVERY))
            };
            let wait = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let event = tokio::select! {
                frame = self.socket.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => Event::Frame(text.as_str().to_owned()),
                    Some(Ok(_)) => continue,
                    None | Some(Err(_)) => return Ok(()), // closed: the run is over
                },
                () = wait => Event::Due,
                _ = self.stop.wait_for(|s| *s) => return Ok(()),
            };
            match event {
                Event::Frame(text) => {
                    let Ok(frame) = Frame::decode(&text) else {
                        continue;
                    };
                    if let Some(id) = self.take(&frame.payload).await {
                        newest = newest.max(id);
                        unmarked.push_back(id);
                    }
                }
                Event::Due => {
                    let id = if self.plan.naive {
                        unmarked.pop_front().unwrap_or(newest)
                    } else {
                        unmarked.clear();
                        newest
                    };
                    self.mark(id).await?;
                    marked = marked.max(id);
                    last_mark = Some(Instant::now());
                }
            }
        }
    }

    async fn mark(&mut self, id: u64) -> anyhow::Result<()> {
        if let Ok(mut sent) = self.seen.sent.lock() {
            sent.entry(self.index)
                .or_default()
                .push_back((id, Instant::now()));
        }
        self.seen.marks.fetch_add(1, Ordering::Relaxed);
        send_packet(
            &mut self.socket,
            &ReadMark {
                read: MessageId(id),
            },
        )
        .await
    }

    /// Counts a push; returns the id of a message of the burst.
    async fn take(&mut self, payload: &str) -> Option<u64> {
        let push: Push = serde_json::from_str(payload).ok()?;
        match push {
            Push::Message(message) if message.to == Peer::Group(self.gid) => {
                (message.kind == MessageType::GroupText).then_some(message.id.0)
            }
            Push::Read { .. } => {
                self.seen.read_frames.fetch_add(1, Ordering::Relaxed);
                None
            }
            Push::Reads { reads } if reads.full => {
                self.seen.full_frames.fetch_add(1, Ordering::Relaxed);
                let _ = self.watched.send(()).await;
                None
            }
            Push::Reads { reads } => {
                self.seen.reads_frames.fetch_add(1, Ordering::Relaxed);
                if self.index == 0 {
                    self.note_seen(&reads.marks);
                }
                None
            }
            _ => None,
        }
    }

    /// The sender's watcher saw these marks: their delays, and how far each
    /// member got.
    fn note_seen(&self, marks: &[penpen_core::packets::receipts::MemberRead]) {
        let now = Instant::now();
        let (Ok(mut sent), Ok(mut delays), Ok(mut reached)) = (
            self.seen.sent.lock(),
            self.seen.delays_us.lock(),
            self.seen.reached.lock(),
        ) else {
            return;
        };
        for mark in marks {
            let (Some(id), Some(index)) = (mark.id, index_of(&mark.user)) else {
                continue;
            };
            if let Some(waiting) = sent.get_mut(&index) {
                while let Some((_, at)) = waiting.front().filter(|(sent, _)| *sent <= id.0) {
                    delays.push(now.saturating_duration_since(*at).as_micros() as u64);
                    waiting.pop_front();
                }
            }
            let newest = reached.entry(index).or_default();
            *newest = (*newest).max(id.0);
        }
    }
}

/// The member index of a load account (137 + index + 1 in 8 digits).
fn index_of(user: &penpen_core::UserId) -> Option<usize> {
    user.as_str()
        .strip_prefix("137")?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}
