//! `penpen-load`: a load tool and benchmark for penpen-server-mock.
//!
//! It starts the real server binary (the `penpen-server-mock` beside this one)
//! on a fresh data folder with N provisioned users, then drives it over real
//! WebSockets:
//!
//! - `send`: every user keeps its live stream (20888) open and sends 1:1 text
//!   (21888) to the next user, either as fast as acks allow (`--window` sends
//!   in flight per user) or at a total `--rate` per second. It reports durable
//!   acknowledged messages per second, sender-to-recipient latency
//!   percentiles, and checks every acknowledged message arrived exactly once.
//! - `idle`: logs the users in, then holds `--sessions` idle live sessions
//!   (resumed by token) and reports the server's resident memory per session.
//! - `preauth`: opens `--connections` anonymous 20888 connections that each
//!   send the largest frame allowed before login, and reports the server's
//!   peak memory (VmHWM). The server keeps its production limits except the
//!   per-address cap, since every connection comes from 127.0.0.1.
//!
//! - `baseline`: in one run, on the same cores, a bare WebSocket echo server
//!   driven like `send` (same connections, window and frame), penpen's `send`
//!   as fast as acks allow, and a bare SQLite group-commit insert loop at
//!   `synchronous=FULL`; reports penpen's msg/s as a fraction of the echo
//!   server's frames/s divided by penpen's frames per message, and of the
//!   insert loop's rows/s.
//! - `storm`: holds `--sessions` live sessions, restarts the server, and lets
//!   every one resume with the web client's reconnect jitter; reports how long
//!   until all are live again.
//!
//! - `meeting`: the meetings' SFU in this process (no server binary) with
//!   scripted str0m clients at 320×240-like rates, in rooms of each
//!   `--sizes`; reports forwarded packets per second per core of the SFU's
//!   CPU time and the largest room where everyone got ≥ 95% of its frames.
//!
//! - `files`: one user uploads a `--mib` MiB file in 1 MiB chunks, the other
//!   downloads it with a file ticket; reports both throughputs over loopback
//!   and the server's resident and peak memory.
//!
//! - `receipts`: a group of `--members` where everyone reads a burst of
//!   `--messages` while the sender watches (§16): the receipt frames the
//!   server sent, its CPU time and the delay from a read to the watcher;
//!   `--naive` pushes every mark to every member instead
//!   (`scripts/receipt-figures.sh` runs both).
//!
//! - `search`: the server's search of all history over `--messages` stored
//!   messages (in this process, on `--store`): p50/p99 of the first page
//!   for two- and four-character queries (`scripts/search-figures.sh`).
//!
//! Run it through `scripts/bench.sh`, which builds with optimisations and raises
//! the open-file limit.

#![allow(clippy::print_stdout)]

mod baseline;
mod client;
mod files;
mod meeting;
mod receipts;
mod search;
mod server;
mod storm;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::login::{LoginReply, Push, Resume, StreamAck};
use penpen_core::packets::message::{MessageType, SendAck, SendText, Sender};
use penpen_core::{ClientMsgId, Encoding, Frame, Peer, Seq, Service, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use client::{connect, log_in_all, next_payload, reply, send_packet};
use server::{Cluster, ServerProcess};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PASSWORD: &str = "load-test-password";

#[derive(Debug, Parser)]
#[command(about = "Load tool for penpen-server-mock")]
struct Args {
    /// How many users to provision and log in.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// The port offset the server is started on (node k of several: this plus k).
    #[arg(long, default_value_t = 700)]
    port_offset: u16,
    /// Server nodes to start over one store (#17); users spread over them
    /// (user i on node i mod N), so with N > 1 most messages cross nodes.
    /// More than one needs --store postgres://… and --bus.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The nodes' store (penpen-server-mock --store); default: SQLite in a
    /// fresh data folder. A PostgreSQL database must be empty.
    #[arg(long)]
    store: Option<String>,
    /// The NATS server the nodes deliver over (penpen-server-mock --bus).
    #[arg(long)]
    bus: Option<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Send 1:1 text between the users and measure throughput and latency.
    Send {
        /// How long to send, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Total messages per second across all users; absent = as fast as acks allow.
        #[arg(long)]
        rate: Option<u64>,
        /// Sends in flight per user before waiting for acks.
        #[arg(long, default_value_t = 1)]
        window: usize,
    },
    /// penpen's throughput next to a bare echo server and a bare insert loop.
    Baseline {
        /// How long each of the three runs, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Frames (messages, rows) in flight per user.
        #[arg(long, default_value_t = 16)]
        window: usize,
    },
    /// Restart the server under live sessions and time their resumes.
    Storm {
        /// How many live sessions resume after the restart.
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
    /// Hold idle live sessions and measure the server's memory.
    Idle {
        /// How many live sessions to hold.
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
    /// The meetings' SFU in-process with scripted media clients (no server binary).
    Meeting {
        /// Rooms measured at once.
        #[arg(long, default_value_t = 1)]
        rooms: usize,
        /// Participants per room, one measurement each (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [2, 3, 4, 6, 8, 12, 16])]
        sizes: Vec<usize>,
        /// How long each size is measured, in seconds.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
    },
    /// Upload and download one large file: throughput and server memory.
    Files {
        /// The file's size in MiB.
        #[arg(long, default_value_t = 100)]
        mib: usize,
        /// Chunks in flight (the web client sends one at a time).
        #[arg(long, default_value_t = 1)]
        window: usize,
    },
    /// A group where everyone reads a burst of messages while the sender watches (§16).
    Receipts {
        /// The group's members, the sender included (they replace --users).
        #[arg(long, default_value_t = 500)]
        members: usize,
        /// The messages of the burst.
        #[arg(long, default_value_t = 100)]
        messages: usize,
        /// Members other than the sender who have the group open too.
        #[arg(long, default_value_t = 0)]
        watchers: usize,
        /// For comparison: every member watches and marks every message, and
        /// the server pushes every mark at once.
        #[arg(long)]
        naive: bool,
    },
    /// The server's search of all history over a large store (in this process).
    Search {
        /// The store: sqlite:DIR or postgres://…; filled once, kept.
        #[arg(long, value_parser = penpen_server_mock::store::StoreLocation::parse)]
        store: penpen_server_mock::store::StoreLocation,
        /// How many messages to fill an empty store with.
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        /// Searches timed per query.
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Anonymous connections each sending the largest pre-login frame: peak memory.
    Preauth {
        /// How many anonymous connections to open.
        #[arg(long, default_value_t = 1_000)]
        connections: usize,
        /// The server's limit on 20888 frames, which each connection sends in full.
        #[arg(long, default_value_t = penpen_server_mock::ConnectionLimits::default().login_port_frame_bytes)]
        frame_bytes: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    report_open_file_limit();
    if let Scenario::Meeting {
        rooms,
        sizes,
        seconds,
    } = &args.scenario
    {
        return meeting::meeting_scenario(*rooms, sizes, *seconds).await;
    }
    if let Scenario::Search {
        store,
        messages,
        queries,
    } = &args.scenario
    {
        return search::search_scenario(store.clone(), *messages, *queries).await;
    }
    let many = 1_000_000.to_string();
    let server_args: Vec<String> = match &args.scenario {
        // Every connection comes from 127.0.0.1 and these scenarios share
        // tokens widely: lift the per-address and per-token caps.
        Scenario::Send { .. }
        | Scenario::Idle { .. }
        | Scenario::Baseline { .. }
        | Scenario::Storm { .. }
        | Scenario::Receipts { .. } => [
            "--max-connections",
            &many,
            "--max-connections-per-address",
            &many,
            "--max-sockets-per-token",
            &many,
            // The live streams are read only once every user is logged in,
            // which takes over a minute for 1,000 users on a busy machine:
            // the server's pings must not find them silent meanwhile.
            "--heartbeat",
            "600",
        ]
        .map(str::to_owned)
        .to_vec(),
        Scenario::Meeting { .. } | Scenario::Files { .. } | Scenario::Search { .. } => Vec::new(),
        Scenario::Preauth { frame_bytes, .. } => vec![
            "--max-connections-per-address".to_owned(),
            many.clone(),
            "--login-frame-bytes".to_owned(),
            frame_bytes.to_string(),
        ],
    };
    let mut server_args = server_args;
    let mut users = args.users;
    if let Scenario::Receipts { members, naive, .. } = &args.scenario {
        users = *members;
        if *naive {
            server_args.extend(["--reads-coalesce-ms".to_owned(), "0".to_owned()]);
        }
    }
    if args.nodes > 1 && (args.store.is_none() || args.bus.is_none()) {
        bail!(
            "--nodes {} needs --store postgres://… and --bus nats://…",
            args.nodes
        );
    }
    let cluster = Cluster {
        nodes: args.nodes.max(1),
        store: args.store.clone(),
        bus: args.bus.clone(),
    };
    let mut server = ServerProcess::start(users, args.port_offset, &server_args, cluster).await?;
    let outcome = match args.scenario {
        Scenario::Send {
            seconds,
            rate,
            window,
        } => send_scenario(
            &server,
            args.users,
            Duration::from_secs(seconds),
            rate,
            window,
        )
        .await
        .map(drop),
        Scenario::Baseline { seconds, window } => {
            baseline_scenario(&server, args.users, Duration::from_secs(seconds), window).await
        }
        Scenario::Storm { sessions } => {
            storm::storm_scenario(&mut server, args.users, sessions).await
        }
        Scenario::Idle { sessions } => idle_scenario(&server, args.users, sessions).await,
        Scenario::Preauth {
            connections,
            frame_bytes,
        } => preauth_scenario(&server, connections, frame_bytes).await,
        Scenario::Files { mib, window } => files::files_scenario(&server, mib, window).await,
        Scenario::Receipts {
            members,
            messages,
            watchers,
            naive,
        } => {
            let plan = receipts::Plan {
                members,
                messages,
                watchers,
                naive,
            };
            receipts::receipts_scenario(&server, plan).await
        }
        Scenario::Meeting { .. } | Scenario::Search { .. } => Ok(()),
    };
    server.stop().await;
    outcome
}

fn account(index: usize) -> UserId {
    UserId::parse(&format!("137{:08}", index + 1)).expect("11 digits")
}

#[derive(Default)]
struct Stats {
    sent_at: Mutex<HashMap<String, Instant>>,
    acked: Mutex<HashMap<String, ()>>,
    received: Mutex<HashMap<String, u32>>,
    latencies_us: Mutex<Vec<u64>>,
    acks: AtomicU64,
    /// Frames the clients sent and received for the messages (sends, send
    /// acks, pushes, stream acks): what one message costs on the wire.
    frames: AtomicU64,
}

/// What a `send` run measured.
pub(crate) struct SendOutcome {
    /// Durable acknowledged messages per second while sending.
    pub(crate) per_second: f64,
    /// Frames on the wire per acknowledged message.
    pub(crate) frames_per_message: f64,
    /// Sender-to-recipient latency p99, in milliseconds.
    pub(crate) p99_ms: f64,
}

async fn send_scenario(
    server: &ServerProcess,
    users: usize,
    duration: Duration,
    rate: Option<u64>,
    window: usize,
) -> anyhow::Result<SendOutcome> {
    if users < 2 {
        bail!("send needs at least 2 users");
    }
    let streams = log_in_all(server, users).await?;
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));

    // Receivers: every live stream records what reaches it and acks it.
    let mut receivers = Vec::new();
    let mut tokens = Vec::new();
    for (i, (mut stream, token)) in streams.into_iter().enumerate() {
        tokens.push(token);
        let stats = stats.clone();
        receivers.push(tokio::spawn(async move {
            let me = account(i);
            let mut newest = Seq(0);
            let mut unacked = 0;
            while let Some(payload) = next_payload(&mut stream).await {
                let Ok(Push::Message(message)) = serde_json::from_str::<Push>(&payload) else {
                    continue;
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                newest = message.seq.unwrap_or(newest).max(newest);
                if message.from != Sender::User(me.clone())
                    && let Some(cid) = &message.cid
                {
                    let now = Instant::now();
                    if let Some(sent) = stats.sent_at.lock().await.get(cid.as_str()) {
                        stats
                            .latencies_us
                            .lock()
                            .await
                            .push(now.duration_since(*sent).as_micros() as u64);
                    }
                    *stats
                        .received
                        .lock()
                        .await
                        .entry(cid.to_string())
                        .or_default() += 1;
                }
                unacked += 1;
                if unacked >= 64 {
                    unacked = 0;
                    stats.frames.fetch_add(1, Ordering::Relaxed);
                    let _ = send_packet(&mut stream, &StreamAck { ack: newest }).await;
                }
            }
        }));
    }

    // Every sender connects before the clock starts.
    let mut sockets = Vec::with_capacity(users);
    for (i, token) in tokens.iter().enumerate() {
        sockets.push(connect(server.addr_for(i, Service::Text), Some(token)).await?);
    }
    // A shared pace for --rate: one permit per message.
    let pace = rate.map(|per_second| {
        let permits = Arc::new(Semaphore::new(0));
        let (permits2, stop2) = (permits.clone(), stop.clone());
        tokio::spawn(async move {
            let tick = Duration::from_millis(5);
            let per_tick = per_second as f64 * tick.as_secs_f64();
            let mut owed = 0.0;
            let mut interval = tokio::time::interval(tick);
            while !stop2.load(Ordering::Relaxed) {
                interval.tick().await;
                owed += per_tick;
                let whole = owed.floor();
                owed -= whole;
                permits2.add_permits(whole as usize);
            }
            // Wakes senders still waiting for a permit, so they see the stop.
            permits2.close();
        });
        permits
    });

    let started = Instant::now();
    let cpu_before = server.cpu();
    let mut senders = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let (mut sink, mut source) = socket.split();
        let (stats, stop, pace) = (stats.clone(), stop.clone(), pace.clone());
        let in_flight = Arc::new(Semaphore::new(window));
        let acks_in = in_flight.clone();
        let ack_stats = stats.clone();
        let ack_reader = tokio::spawn(async move {
            while let Some(Ok(message)) = source.next().await {
                let WsMessage::Text(text) = message else {
                    continue;
                };
                ack_stats.frames.fetch_add(1, Ordering::Relaxed);
                let Ok(frame) = Frame::decode(text.as_str()) else {
                    continue;
                };
                if let Ok(ack) = frame.packet::<SendAck>()
                    && let Some(cid) = ack.cid
                {
                    ack_stats.acked.lock().await.insert(cid.to_string(), ());
                    ack_stats.acks.fetch_add(1, Ordering::Relaxed);
                }
                acks_in.add_permits(1);
            }
        });
        senders.push(tokio::spawn(async move {
            let from = account(i);
            let to = Peer::User(account((i + 1) % users));
            for n in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(pace) = &pace {
                    match pace.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => break,
                    }
                }
                let Ok(permit) = in_flight.acquire().await else {
                    break;
                };
                permit.forget();
                let cid = format!("u{i}-{n}");
                let send = SendText {
                    quote: None,
                    mentions: None,
                    mention_all: false,
                    from: from.clone(),
                    to: to.clone(),
                    kind: MessageType::Text,
                    content: CONTENT.into(),
                    cid: Some(ClientMsgId::parse(&cid).expect("valid cid")),
                };
                stats.sent_at.lock().await.insert(cid, Instant::now());
                let Ok(frame) = Frame::encode(Encoding::Base64, &send) else {
                    break;
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                if sink.send(WsMessage::text(frame)).await.is_err() {
                    break;
                }
            }
            // Let the last acks come in.
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                in_flight.acquire_many(window as u32),
            )
            .await;
            let _ = sink.close().await;
            ack_reader.abort();
        }));
    }

    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let sending_time = started.elapsed();
    let acked_during = stats.acks.load(Ordering::Relaxed);
    let server_cpu = server.cpu().saturating_sub(cpu_before);
    for sender in senders {
        let _ = sender.await;
    }
    // Deliveries still in flight.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for receiver in &receivers {
        receiver.abort();
    }

    let acked = stats.acked.lock().await;
    let received = stats.received.lock().await;
    let lost = acked
        .keys()
        .filter(|cid| !received.contains_key(*cid))
        .count();
    let duplicated = received.values().filter(|n| **n > 1).count();
    let mut latencies = stats.latencies_us.lock().await.clone();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index] as f64 / 1000.0
    };
    println!(
        "send: {users} users, {} s, {}",
        duration.as_secs(),
        match rate {
            Some(rate) => format!("target {rate} msg/s"),
            None => format!("as fast as acks allow (window {window})"),
        }
    );
    println!(
        "  durable acknowledged: {acked_during} in {:.1} s = {:.0} msg/s",
        sending_time.as_secs_f64(),
        acked_during as f64 / sending_time.as_secs_f64()
    );
    println!(
        "  server CPU while sending: {:.2} s (all nodes) = {:.0} µs per acknowledged message",
        server_cpu.as_secs_f64(),
        server_cpu.as_secs_f64() * 1e6 / acked_during.max(1) as f64
    );
    println!(
        "  delivery latency (sender to recipient): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms over {} deliveries",
        percentile(0.50),
        percentile(0.99),
        percentile(0.999),
        latencies.len()
    );
    println!(
        "  exactly once: {} acknowledged, {} lost, {} duplicated",
        acked.len(),
        lost,
        duplicated
    );
    if lost > 0 || duplicated > 0 {
        bail!(
            "{lost} acknowledged messages were not delivered and {duplicated} were delivered twice"
        );
    }
    let frames_per_message =
        stats.frames.load(Ordering::Relaxed) as f64 / (acked.len().max(1)) as f64;
    println!("  frames on the wire per message: {frames_per_message:.3}");
    Ok(SendOutcome {
        per_second: acked_during as f64 / sending_time.as_secs_f64(),
        frames_per_message,
        p99_ms: percentile(0.99),
    })
}

/// The text every sender sends (a typical Chinese message).
const CONTENT: &str = "压测消息：一条典型长度的中文文本消息 🐧";

async fn baseline_scenario(
    server: &ServerProcess,
    users: usize,
    duration: Duration,
    window: usize,
) -> anyhow::Result<()> {
    // The frame penpen's senders send, so the echo server moves the same bytes.
    let frame = Frame::encode(
        Encoding::Base64,
        &SendText {
            quote: None,
            mentions: None,
            mention_all: false,
            from: account(0),
            to: Peer::User(account(1)),
            kind: MessageType::Text,
            content: CONTENT.into(),
            cid: Some(ClientMsgId::parse("u0-1000000").expect("valid cid")),
        },
    )?;
    println!(
        "=== bare WebSocket echo: {users} connections, window {window}, {} byte frames",
        frame.len()
    );
    let echo = baseline::echo_frames_per_second(users, window, duration, frame).await?;
    println!("  {echo:.0} frames/s (read + written)");
    println!("=== penpen: {users} users, window {window}");
    let penpen = send_scenario(server, users, duration, None, window).await?;
    println!(
        "=== bare SQLite group-commit inserts: {} writers, synchronous=FULL",
        users * window
    );
    let rows = baseline::insert_rows_per_second(users * window, duration, CONTENT).await?;
    println!("  {rows:.0} messages/s (a message row and two inbox rows each)");
    let limit = echo / penpen.frames_per_message;
    println!(
        "baseline: penpen {:.0} durable msg/s at {:.2} frames/msg (p99 {:.1} ms)",
        penpen.per_second, penpen.frames_per_message, penpen.p99_ms
    );
    println!(
        "  echo limit {echo:.0} frames/s / {:.2} = {limit:.0} msg/s: penpen at {:.0}%",
        penpen.frames_per_message,
        100.0 * penpen.per_second / limit
    );
    println!(
        "  insert loop {rows:.0} msg/s: penpen at {:.0}%",
        100.0 * penpen.per_second / rows
    );
    Ok(())
}

async fn idle_scenario(
    server: &ServerProcess,
    users: usize,
    sessions: usize,
) -> anyhow::Result<()> {
    let streams = log_in_all(server, users).await?;
    let tokens: Vec<String> = streams.iter().map(|(_, t)| t.clone()).collect();
    let before = server.resident_kib().unwrap_or(0);
    let started = Instant::now();
    let addr = server.addr(Service::Login);
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for k in 0..sessions.saturating_sub(users) {
        let (gate, token, user) = (gate.clone(), tokens[k % users].clone(), account(k % users));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let mut socket = connect(addr, None).await?;
            send_packet(
                &mut socket,
                &Resume {
                    user,
                    token,
                    catch_up: false,
                },
            )
            .await?;
            let _: LoginReply = reply(&mut socket).await?;
            anyhow::Ok(socket)
        }));
    }
    let mut held = Vec::with_capacity(sessions);
    for task in tasks {
        held.push(task.await??);
    }
    let total = held.len() + streams.len();
    println!(
        "opened {total} live sessions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.resident_kib().unwrap_or(0);
    println!(
        "idle: server resident memory {:.1} MiB with {users} sessions, {:.1} MiB with {total}: {:.1} KiB per added idle session",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / (total - users).max(1) as f64
    );
    drop(held);
    Ok(())
}

/// Every connection is a descriptor here and in the server (which inherits
/// the limit); scripts/bench.sh raises the soft limit to the hard one.
fn report_open_file_limit() {
    let raised = std::process::Command::new("sh")
        .args(["-c", "ulimit -n"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok());
    println!(
        "open-file limit (soft): {}",
        raised.as_deref().map(str::trim).unwrap_or("unknown")
    );
}

/// A 20888 frame of exactly `bytes` bytes that is no login: the server reads
/// it whole and answers with a refusal, as it would for an attacker's frame.
fn padded_frame(bytes: usize) -> anyhow::Result<String> {
    let empty = r#"{"head":1100,"body":{"pad":""},"tail":"PENPEN 1.0"}"#;
    let Some(pad) = bytes.checked_sub(empty.len()) else {
        bail!("a frame cannot be smaller than {} bytes", empty.len());
    };
    Ok(format!(
        r#"{{"head":1100,"body":{{"pad":"{}"}},"tail":"PENPEN 1.0"}}"#,
        "x".repeat(pad)
    ))
}

async fn preauth_scenario(
    server: &ServerProcess,
    connections: usize,
    frame_bytes: usize,
) -> anyhow::Result<()> {
    let addr = server.addr(Service::Login);
    let frame = Arc::new(padded_frame(frame_bytes)?);
    // One byte over the limit is refused and closed.
    let mut over = connect(addr, None).await?;
    over.send(WsMessage::text(padded_frame(frame_bytes + 1)?))
        .await?;
    let refused = next_payload(&mut over).await.unwrap_or_default();
    println!(
        "a {} byte frame before login: {}",
        frame_bytes + 1,
        if refused.contains("too large") {
            "refused as too large, connection closed"
        } else {
            "NOT refused"
        }
    );
    drop(over);

    let before = server.resident_kib().unwrap_or(0);
    let started = Instant::now();
    // Connect everyone first, then send all frames at once: the peak is when
    // every connection holds its frame.
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = Vec::with_capacity(connections);
    for _ in 0..connections {
        let gate = gate.clone();
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            connect(addr, None).await
        }));
    }
    let mut sockets = Vec::with_capacity(connections);
    for task in opening {
        sockets.push(task.await??);
    }
    let opened = started.elapsed();
    let go = Arc::new(tokio::sync::Barrier::new(connections));
    let mut sending = Vec::with_capacity(connections);
    for mut socket in sockets {
        let (go, frame) = (go.clone(), frame.clone());
        sending.push(tokio::spawn(async move {
            go.wait().await;
            socket.send(WsMessage::text(frame.as_str())).await?;
            let reply = next_payload(&mut socket)
                .await
                .context("closed before a reply")?;
            anyhow::Ok((socket, reply))
        }));
    }
    let mut held = Vec::with_capacity(connections);
    let mut refused = 0;
    for task in sending {
        let (socket, reply) = task.await??;
        if reply.contains("\"state\"") {
            refused += 1;
        }
        held.push(socket);
    }
    let peak = server.peak_kib().unwrap_or(0);
    let after = server.resident_kib().unwrap_or(0);
    println!(
        "preauth: {connections} anonymous connections opened in {:.1} s, each sent a {frame_bytes} byte frame and got a refusal ({refused} refusals)",
        opened.as_secs_f64()
    );
    println!(
        "  server memory: {:.1} MiB resident before, {:.1} MiB after, peak (VmHWM) {:.1} MiB",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    drop(held);
    Ok(())
}
