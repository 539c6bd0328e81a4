//! Several server processes sharing one store and one NATS server (#17), and
//! test devices that hold a live stream on one node and move to another
//! when it goes away, catching up like the web client.
//!
//! The store is a parameter: `StoreChoice::postgres` (what the node tests
//! use, as several nodes run in production) gives every node a fresh
//! database of the tests' throwaway PostgreSQL; `StoreChoice::sqlite` has
//! them share one SQLite data folder (WAL works across processes on one
//! machine).

use super::{Client, decode_reply, log_in_at, user};
use penpen_core::packets::login::{LoginReply, Push, Resume};
use penpen_core::packets::message::{Message, MessageType, SendAck, SendText};
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{ClientMsgId, Frame, Peer, Seq, Service};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen soon.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `check` until it is true or `DEADLINE` passes (then panics saying `what`).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < until, "not within {DEADLINE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; good enough for a test).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn wait_for_port(addr: SocketAddr, child: &mut Child) -> bool {
    for _ in 0..400 {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn wait_for_log(log: &Path, line: &str, child: &mut Child) -> bool {
    for _ in 0..600 {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if std::fs::read_to_string(log).is_ok_and(|text| text.contains(line)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A throwaway `nats-server` on a free port, in a temporary folder.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts one (installed by scripts/setup.sh from Debian).
    pub async fn start() -> NatsServer {
        let mut dir = tempfile::tempdir().expect("a folder for nats-server");
        for _ in 0..20 {
            let port = free_port();
            let mut server = NatsServer {
                child: None,
                port,
                dir,
            };
            if server.run().await {
                return server;
            }
            dir = server.dir;
        }
        panic!("nats-server did not start (is it installed? scripts/setup.sh installs it)");
    }

    async fn run(&mut self) -> bool {
        let log = std::fs::File::create(self.dir.path().join("nats.log")).expect("log file");
        let mut child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .current_dir(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server runs (scripts/setup.sh installs it)");
        let up = wait_for_port(SocketAddr::from(([127, 0, 0, 1], self.port)), &mut child).await;
        self.child = Some(child);
        up
    }

    /// The URL the nodes are given with `--bus`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: subscriptions and messages in flight are gone).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        for _ in 0..100 {
            if self.run().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nats-server did not start again on port {}", self.port);
    }
}

/// Which store the nodes share.
#[derive(Debug, Clone)]
pub struct StoreChoice {
    /// Given to every node besides `--data`.
    pub args: Vec<String>,
}

impl StoreChoice {
    /// A fresh database of the tests' throwaway PostgreSQL.
    pub fn postgres() -> StoreChoice {
        StoreChoice {
            args: vec![
                "--store".to_owned(),
                super::postgres::shared().fresh_database(),
            ],
        }
    }

    /// SQLite in the cluster's shared data folder.
    pub fn sqlite() -> StoreChoice {
        StoreChoice { args: Vec::new() }
    }
}

/// One server process.
pub struct Node {
    /// Its `--node-id`.
    pub id: String,
    /// Its `--port-offset`.
    pub offset: u16,
    child: Option<Child>,
}

/// Port offsets handed out in this test process (each cluster's nodes and
/// each test get their own).
static NEXT_OFFSET: AtomicU16 = AtomicU16::new(0);

/// N nodes on one store and one bus.
pub struct Cluster {
    /// The nodes, in start order.
    pub nodes: Vec<Node>,
    /// The shared data folder (and the nodes' logs beside it).
    pub dir: tempfile::TempDir,
    /// The store every node uses.
    pub store: StoreChoice,
}

impl Cluster {
    /// Starts `n` nodes on `bus` and `store`; the first loads the demo company.
    pub async fn start(n: usize, bus: &str, store: &StoreChoice) -> Cluster {
        let dir = tempfile::tempdir().expect("a folder for the cluster");
        let data = dir.path().join("data");
        let mut nodes = Vec::new();
        for i in 0..n {
            nodes.push(spawn_node(&data, dir.path(), i, bus, store).await);
        }
        Cluster {
            nodes,
            dir,
            store: store.clone(),
        }
    }

    /// Where node `i` serves `service`.
    pub fn addr(&self, i: usize, service: Service) -> SocketAddr {
        let offset = self.nodes[i].offset;
        SocketAddr::from((
            [127, 0, 0, 1],
            service.port_with_offset(offset).expect("fits"),
        ))
    }

    /// The 20888 address of every node, in order.
    pub fn login_addrs(&self) -> Vec<SocketAddr> {
        (0..self.nodes.len())
            .map(|i| self.addr(i, Service::Login))
            .collect()
    }

    /// Kills node `i` with SIGKILL.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.kill().await.expect("SIGKILL");
        }
    }

    /// Freezes node `i` (SIGSTOP) or lets it run again (SIGCONT): a node
    /// that misses everything for a while without its sockets closing.
    pub async fn freeze(&self, i: usize, frozen: bool) {
        let pid = self.nodes[i]
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("a running node");
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Node `i`'s log so far (for a failing assertion's message).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node-{i}.log"))).unwrap_or_default()
    }
}

async fn spawn_node(data: &Path, logs: &Path, i: usize, bus: &str, store: &StoreChoice) -> Node {
    let base = (std::process::id() % 400) as u16;
    for _ in 0..60 {
        // Offsets of 3 apart never share a port (services are 1000 apart,
        // the media port too); runs of one process step through them.
        let step = NEXT_OFFSET.fetch_add(1, Ordering::Relaxed);
        let offset = 100 + (base + step * 7) % 890;
        let id = format!("node-{i}");
        let log = std::fs::File::create(logs.join(format!("node-{i}.log"))).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"));
        command
            .arg("--data")
            .arg(data)
            .args(&store.args)
            .args(["--port-offset", &offset.to_string()])
            .args(["--bus", bus, "--node-id", &id])
            .env(
                "RUST_LOG",
                "info,penpen_server_mock::services::login=debug,penpen_server_mock::services::presence=debug",
            )
            // The server logs to stdout.
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .kill_on_drop(true);
        if i == 0 {
            command.arg("--demo");
        }
        let mut child = command.spawn().expect("the server binary starts");
        // Ready once it says so: a port answering may be another process's.
        if wait_for_log(
            &logs.join(format!("node-{i}.log")),
            "ready; stop with Ctrl-C",
            &mut child,
        )
        .await
        {
            return Node {
                id,
                offset,
                child: Some(child),
            };
        }
        let _ = child.kill().await;
    }
    panic!("node {i} found no port offset with every port free");
}

/// Logs `account` in on `addr` (20888) and returns the token; the login
/// connection is closed again.
pub async fn token_on(addr: SocketAddr, account: &str) -> String {
    log_in_at(addr, account).await.1.token
}

/// A text from `from` to `to`, with the cid `cid`.
pub fn text(from: &str, to: Peer, cid: &str) -> SendText {
    let kind = match to {
        Peer::Group(_) => MessageType::GroupText,
        Peer::User(_) => MessageType::Text,
    };
    SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(from),
        to,
        kind,
        content: format!("{cid} 你好"),
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

/// Sends one text on node `i` and returns its ack.
pub async fn send_on(cluster: &Cluster, i: usize, token: &str, send: &SendText) -> SendAck {
    let service = match send.to {
        Peer::Group(_) => Service::GroupText,
        Peer::User(_) => Service::Text,
    };
    let mut port = Client::try_connect(cluster.addr(i, service), Some(token))
        .await
        .expect("text port");
    port.request(send).await.expect("stored")
}

/// What a device has received.
#[derive(Debug, Default)]
pub struct Received {
    /// Messages by seq (each seq once, however often it came).
    pub messages: BTreeMap<Seq, Message>,
    /// Every other push, in arrival order.
    pub pushes: Vec<Push>,
    /// The node it is on now (`None` while moving).
    pub node: Option<usize>,
    /// How many times it (re)connected.
    pub connections: usize,
    /// The session was refused (revoked or expired): it stopped.
    pub signed_out: bool,
}

impl Received {
    /// How many distinct messages (by seq) carry each cid.
    pub fn cids(&self) -> BTreeMap<String, usize> {
        let mut cids = BTreeMap::new();
        for message in self.messages.values() {
            if let Some(cid) = &message.cid {
                *cids.entry(cid.to_string()).or_insert(0) += 1;
            }
        }
        cids
    }

    /// The contiguous point: every seq from 1 up to it is held (what the
    /// client catches up from).
    pub fn contiguous(&self) -> Seq {
        let mut point = 0;
        for seq in self.messages.keys() {
            if seq.0 != point + 1 {
                break;
            }
            point = seq.0;
        }
        Seq(point)
    }
}

/// One logged-in device: a live 20888 stream on one node, moving to the next
/// node of its list when its node goes away, and catching up (50888) after
/// every (re)connection, like the web client.
pub struct Device {
    /// Its account.
    pub account: &'static str,
    /// Its session token.
    pub token: String,
    received: Arc<Mutex<Received>>,
    outgoing: mpsc::UnboundedSender<String>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Device {
    /// Logs `account` in on the first node of `order`; that login's stream
    /// is its first (no session ends meanwhile, so no presence flickers).
    pub async fn start(cluster: &Cluster, account: &'static str, order: &[usize]) -> Device {
        let (stream, reply) = log_in_at(cluster.addr(order[0], Service::Login), account).await;
        Device::spawn(cluster, account, reply.token, order, Some(stream)).await
    }

    /// A device of an existing session (`token`).
    pub async fn resume(
        cluster: &Cluster,
        account: &'static str,
        token: String,
        order: &[usize],
    ) -> Device {
        Device::spawn(cluster, account, token, order, None).await
    }

    async fn spawn(
        cluster: &Cluster,
        account: &'static str,
        token: String,
        order: &[usize],
        logged_in: Option<Client>,
    ) -> Device {
        let nodes: Vec<(usize, SocketAddr, SocketAddr)> = order
            .iter()
            .map(|&i| {
                (
                    i,
                    cluster.addr(i, Service::Login),
                    cluster.addr(i, Service::SyncMessages),
                )
            })
            .collect();
        let received = Arc::new(Mutex::new(Received::default()));
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_device(
            account,
            token.clone(),
            nodes,
            logged_in,
            received.clone(),
            outgoing_rx,
            stop_rx,
        ));
        let device = Device {
            account,
            token,
            received,
            outgoing,
            stop,
            task,
        };
        device
            .wait("connected", |r| r.node.is_some() || r.signed_out)
            .await;
        device
    }

    /// What it has received so far.
    pub fn received(&self) -> MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `check` holds for what it received.
    pub async fn wait(&self, what: &str, check: impl Fn(&Received) -> bool) {
        let what = format!("{} {what}", self.account);
        eventually(&what, || check(&self.received())).await;
    }

    /// Sends a request on its live stream (when connected).
    pub fn send<T: serde::Serialize>(&self, packet: &T) {
        let frame =
            Frame::encode(penpen_core::Encoding::Base64, packet).expect("the packet encodes");
        let _ = self.outgoing.send(frame);
    }

    /// Closes its stream and stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The device's loop: connect, resume, catch up, then read the stream until
/// it closes; then the next node.
async fn run_device(
    account: &'static str,
    token: String,
    nodes: Vec<(usize, SocketAddr, SocketAddr)>,
    mut logged_in: Option<Client>,
    received: Arc<Mutex<Received>>,
    mut outgoing: mpsc::UnboundedReceiver<String>,
    mut stop: watch::Receiver<bool>,
) {
    let lock = || received.lock().unwrap_or_else(|p| p.into_inner());
    let mut next = 0usize;
    loop {
        if *stop.borrow() {
            return;
        }
        let (node, login, sync) = nodes[next % nodes.len()];
        next += 1;
        let mut stream = match logged_in.take() {
            Some(stream) => stream,
            None => {
                let Ok(mut stream) = Client::try_connect(login, None).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                stream
                    .send(&Resume {
                        user: user(account),
                        token: token.clone(),
                        catch_up: true,
                    })
                    .await;
                let Some(payload) = stream.next_payload(Duration::from_secs(10)).await else {
                    continue;
                };
                if decode_reply::<LoginReply>(&payload).is_err() {
                    let mut r = lock();
                    r.signed_out = true;
                    r.node = None;
                    return;
                }
                stream
            }
        };
        // Catch up from what it holds; the stream pushes what is stored
        // from the resume on (duplicates are dropped by seq).
        if catch_up(sync, &token, &received).await.is_err() {
            continue;
        }
        {
            let mut r = lock();
            r.node = Some(node);
            r.connections += 1;
        }
        // Read until the stream closes or the test stops the device.
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    stream.close().await;
                    lock().node = None;
                    return;
                }
                Some(frame) = outgoing.recv() => stream.send_text(&frame).await,
                payload = stream.next_payload(Duration::from_secs(3600)) => {
                    let Some(payload) = payload else { break };
                    // No acks: the device catches up from its own contiguous
                    // point after every resume (`catch_up`), so it needs none,
                    // and a node frozen by a test mid-write would hold the
                    // shared store's write lock.
                    let mut r = lock();
                    match serde_json::from_str::<Push>(&payload) {
                        Ok(Push::Message(message)) => {
                            if let Some(seq) = message.seq {
                                r.messages.entry(seq).or_insert(*message);
                            }
                        }
                        Ok(push) => r.pushes.push(push),
                        Err(_) => {} // a reply or a refusal
                    }
                }
            }
        }
        lock().node = None;
    }
}

/// Reads every message after the newest held, in pages.
async fn catch_up(
    sync: SocketAddr,
    token: &str,
    received: &Arc<Mutex<Received>>,
) -> Result<(), String> {
    let mut port = Client::try_connect(sync, Some(token)).await?;
    let mut since = received
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contiguous();
    loop {
        port.send(&CatchUp {
            since,
            limit: Some(500),
        })
        .await;
        let payload = port
            .next_payload(Duration::from_secs(10))
            .await
            .ok_or("the sync port closed")?;
        let page: MessagePage = decode_reply(&payload).map_err(|e| format!("{e:?}"))?;
        let mut r = received.lock().unwrap_or_else(|p| p.into_inner());
        for message in page.messages {
            if let Some(seq) = message.seq {
                since = since.max(seq);
                r.messages.entry(seq).or_insert(message);
            }
        }
        if !page.more {
            return Ok(());
        }
    }
}

/// The path of the cluster's shared data folder.
pub fn data_dir(cluster: &Cluster) -> PathBuf {
    cluster.dir.path().join("data")
}
