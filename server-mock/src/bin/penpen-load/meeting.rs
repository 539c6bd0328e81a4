//! The meeting load: the SFU in this process, on a thread of its own, with
//! scripted str0m clients at 320×240-like rates in rooms of growing size.
//! Reports forwarded packets per second per core of SFU CPU time, and the
//! largest room where every participant received at least 95% of what was
//! sent to it.

use penpen_server_mock::sfu::client::{Frames, MediaPlan, ScriptedClient};
use penpen_server_mock::sfu::{ParticipantKey, Sfu, SfuConfig, SfuEvent, SfuStats};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The share of frames every participant must get for a size to count.
const ENOUGH: f64 = 0.95;

type Clients = Arc<Mutex<HashMap<ParticipantKey, Arc<ScriptedClient>>>>;

/// The SFU on its own single-threaded runtime, so its CPU time can be told
/// apart from the clients'.
struct SfuThread {
    sfu: Sfu,
    cpu: mpsc::UnboundedSender<oneshot::Sender<Duration>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SfuThread {
    async fn start() -> anyhow::Result<SfuThread> {
        let (ready_tx, ready) = oneshot::channel();
        let (cpu, mut cpu_rx) = mpsc::unbounded_channel::<oneshot::Sender<Duration>>();
        let thread = std::thread::Builder::new()
            .name("sfu".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::anyhow!(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut config = SfuConfig::new(SocketAddr::new(LOCALHOST, 0));
                    config.max_per_room = 64;
                    let started = Sfu::start(config).await.map_err(anyhow::Error::from);
                    let sfu = started.as_ref().ok().cloned();
                    let _ = ready_tx.send(started);
                    // Answered on this thread: /proc/thread-self is the SFU's.
                    while let Some(reply) = cpu_rx.recv().await {
                        let _ = reply.send(thread_cpu());
                    }
                    if let Some(sfu) = sfu {
                        sfu.shutdown().await;
                    }
                });
            })?;
        let sfu = ready.await??;
        Ok(SfuThread {
            sfu,
            cpu,
            thread: Some(thread),
        })
    }

    async fn cpu(&self) -> Duration {
        let (reply, time) = oneshot::channel();
        let _ = self.cpu.send(reply);
        time.await.unwrap_or_default()
    }
}

impl Drop for SfuThread {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; it shuts the SFU down.
        let (closed, _) = mpsc::unbounded_channel();
        self.cpu = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The calling thread's CPU time (the first field of schedstat, in ns).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// The whole process's CPU time (utime + stime of /proc/self/stat, in
/// clock ticks of 1/100 s, Linux's USER_HZ).
fn process_cpu() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// A process's CPU time from its `/proc/<pid>/stat`.
pub(super) fn stat_cpu(path: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One room size measured.
struct Step {
    size: usize,
    forwarded_frames: f64,
    packets_out: f64,
    sfu_cpu: f64,
    process_cpu: f64,
    worst_share: f64,
}

pub(crate) async fn meeting_scenario(
    rooms: usize,
    sizes: &[usize],
    seconds: u64,
) -> anyhow::Result<()> {
    println!(
        "meeting load: {rooms} room(s) per step, each participant publishing {} audio frames/s and {} video frames/s of {} bytes, {seconds} s measured per step",
        MediaPlan::SMALL_VIDEO.audio_fps,
        MediaPlan::SMALL_VIDEO.video_fps,
        MediaPlan::SMALL_VIDEO.video_frame_bytes
    );
    println!(
        "{:>5} {:>13} {:>13} {:>10} {:>10} {:>16} {:>11}",
        "size",
        "frames fwd/s",
        "packets out/s",
        "SFU CPU",
        "proc CPU",
        "pkts/s per core",
        "worst share"
    );
    let mut largest_ok = None;
    for &size in sizes {
        let step = measure(rooms, size, Duration::from_secs(seconds)).await?;
        let per_core = if step.sfu_cpu > 0.0 {
            step.packets_out / step.sfu_cpu
        } else {
            0.0
        };
        println!(
            "{:>5} {:>13.0} {:>13.0} {:>9.0}% {:>9.0}% {:>16.0} {:>10.1}%",
            step.size,
            step.forwarded_frames,
            step.packets_out,
            step.sfu_cpu * 100.0,
            step.process_cpu * 100.0,
            per_core,
            step.worst_share * 100.0
        );
        if step.worst_share >= ENOUGH {
            largest_ok = Some(size);
        }
    }
    match largest_ok {
        Some(size) => println!(
            "largest room where every participant received >= 95% of the frames sent to it: {size}"
        ),
        None => println!("no room size measured kept every participant at >= 95%"),
    }
    Ok(())
}

async fn measure(rooms: usize, size: usize, window: Duration) -> anyhow::Result<Step> {
    let sfu = SfuThread::start().await?;
    let clients: Clients = Arc::default();
    let mut events = sfu
        .sfu
        .take_events()
        .ok_or_else(|| anyhow::anyhow!("the SFU's events were taken"))?;
    let (relay_sfu, relay_clients) = (sfu.sfu.clone(), clients.clone());
    let relay = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let SfuEvent::Offer { participant, sdp } = event {
                let client = relay_clients
                    .lock()
                    .ok()
                    .and_then(|c| c.get(&participant).cloned());
                if let Some(answer) = client.and_then(|c| c.answer_offer(&sdp).ok()) {
                    let _ = relay_sfu.answer(participant, answer).await;
                }
            }
        }
    });
    let mut members: Vec<Vec<(String, Arc<ScriptedClient>)>> = Vec::new();
    for room in 0..rooms {
        let mut in_room = Vec::new();
        for k in 0..size {
            let name = format!("r{room}p{k}");
            let (client, offer) = ScriptedClient::start(LOCALHOST, MediaPlan::SMALL_VIDEO).await?;
            let client = Arc::new(client);
            if let Ok(mut c) = clients.lock() {
                c.insert(ParticipantKey(name.clone()), client.clone());
            }
            let answer = sfu
                .sfu
                .join(
                    format!("room{room}").as_str().into(),
                    ParticipantKey(name.clone()),
                    offer,
                )
                .await?;
            client
                .accept_answer(&answer)
                .map_err(|e| anyhow::anyhow!("{name} cannot take the answer: {e}"))?;
            in_room.push((name, client));
        }
        members.push(in_room);
    }
    // Every participant views everyone else before the window opens.
    let settle = Instant::now() + Duration::from_secs(30);
    while !members.iter().all(|room| {
        room.iter()
            .all(|(_, c)| c.viewed_senders().len() + 1 == size && c.received().len() + 1 == size)
    }) {
        if Instant::now() > settle {
            println!("  (size {size}: not every track was flowing after 30 s; measuring anyway)");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = snapshot(&members);
    let (stats0, sfu_cpu0, proc_cpu0, t0) = (
        sfu.sfu.stats(),
        sfu.cpu().await,
        process_cpu(),
        Instant::now(),
    );
    tokio::time::sleep(window).await;
    let after = snapshot(&members);
    let (stats1, sfu_cpu1, proc_cpu1, elapsed) = (
        sfu.sfu.stats(),
        sfu.cpu().await,
        process_cpu(),
        t0.elapsed(),
    );
    // Frames still in flight at the window's end are counted as missing: a
    // small, conservative error.
    let mut worst_share = f64::INFINITY;
    for (r, room) in members.iter().enumerate() {
        for (name, _) in room {
            let mut due = 0u64;
            let mut got = 0u64;
            for (sender, _) in room.iter().filter(|(s, _)| s != name) {
                let sent_by = |snap: &Snapshot| snap[r][sender].0;
                let sent = sent_by(&after).audio + sent_by(&after).video
                    - sent_by(&before).audio
                    - sent_by(&before).video;
                let recv =
                    |snap: &Snapshot| snap[r][name].1.get(sender).map_or(0, |f| f.audio + f.video);
                due += sent;
                got += recv(&after) - recv(&before);
            }
            if due > 0 {
                worst_share = worst_share.min(got as f64 / due as f64);
            }
        }
    }
    let secs = elapsed.as_secs_f64();
    let step = Step {
        size,
        forwarded_frames: delta(&stats0, &stats1, |s| s.forwarded) / secs,
        packets_out: delta(&stats0, &stats1, |s| s.datagrams_out) / secs,
        sfu_cpu: (sfu_cpu1.saturating_sub(sfu_cpu0)).as_secs_f64() / secs,
        process_cpu: (proc_cpu1.saturating_sub(proc_cpu0)).as_secs_f64() / secs,
        worst_share: if worst_share.is_finite() {
            worst_share
        } else {
            0.0
        },
    };
    relay.abort();
    drop(members);
    if let Ok(mut c) = clients.lock() {
        c.clear();
    }
    drop(sfu);
    Ok(step)
}

type Snapshot = Vec<HashMap<String, (Frames, std::collections::BTreeMap<String, Frames>)>>;

fn snapshot(members: &[Vec<(String, Arc<ScriptedClient>)>]) -> Snapshot {
    members
        .iter()
        .map(|room| {
            room.iter()
                .map(|(name, c)| (name.clone(), (c.sent(), c.received())))
                .collect()
        })
        .collect()
}

fn delta(a: &SfuStats, b: &SfuStats, field: impl Fn(&SfuStats) -> u64) -> f64 {
    field(b).saturating_sub(field(a)) as f64
}
