//! Network faults between one browser and the server: a TCP proxy in front of
//! every service port that can pass traffic, reset every connection (a cable
//! pulled, a server that went away), or silently stop forwarding (Wi-Fi
//! dropping: sockets stay open, nothing arrives either way, no reset).
//!
//! The proxy listens on the server's ports shifted by an offset of its own,
//! and a web server of its own serves the app with a `penpen.json` naming
//! that offset, so only the browser that loads the app from
//! [`Faults::app_url`] goes through it; the test's other browsers talk to
//! the server directly.

use crate::static_files::{Site, StaticServer};
use anyhow::Context as _;
use penpen_core::Service;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything both ways.
    Pass,
    /// Reset every open connection (TCP RST to both ends), and every new one
    /// as soon as it is accepted.
    Cut,
    /// Forward nothing, close nothing: open connections stall with their
    /// sockets open, new ones are accepted and stall too. Bytes already read
    /// are held, and delivered if the proxy passes again before a reset (as
    /// TCP retransmits once the network is back).
    Silent,
}

/// One browser's way to the server, with the faults a test switches on.
#[derive(Debug)]
pub struct Faults {
    proxy: Proxy,
    web: StaticServer,
    app_url: String,
}

impl Faults {
    /// Starts a proxy to the server at `server_offset` and a web server whose
    /// `penpen.json` points the app at the proxy (`site` is the harness's
    /// own, whose generated files are replaced).
    pub(crate) async fn start(server_offset: u16, mut site: Site) -> anyhow::Result<Faults> {
        let proxy = Proxy::start(server_offset).await?;
        let tls = site.tls.is_some();
        site.generated = [(
            "penpen.json".to_owned(),
            crate::deployment_file(proxy.offset, tls).into_bytes(),
        )]
        .into();
        let web = StaticServer::start(site).await?;
        let app_url = format!("{}://{}/", web.scheme(), web.addr());
        Ok(Faults {
            proxy,
            web,
            app_url,
        })
    }

    /// The app's URL for the browser behind this proxy (a reload goes here).
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// The port offset the proxy listens on.
    pub fn offset(&self) -> u16 {
        self.proxy.offset
    }

    /// Forwards everything again.
    pub fn pass(&self) {
        self.proxy.set(Mode::Pass);
    }

    /// Resets every connection, and every new one while the cut lasts.
    pub fn cut(&self) {
        self.proxy.set(Mode::Cut);
    }

    /// Stops forwarding without closing anything.
    pub fn silence(&self) {
        self.proxy.set(Mode::Silent);
    }

    /// What the proxy does now.
    pub fn mode(&self) -> Mode {
        *self.proxy.mode.borrow()
    }

    /// Stops the proxy (resetting its connections) and its web server.
    pub async fn stop(mut self) {
        self.proxy.set(Mode::Cut);
        self.proxy.stop();
        self.web.stop().await;
    }
}

/// The listeners, one per served port, and the switch every connection watches.
#[derive(Debug)]
struct Proxy {
    offset: u16,
    mode: watch::Sender<Mode>,
    listeners: Vec<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on every served port at an offset whose ports are all free.
    async fn start(server_offset: u16) -> anyhow::Result<Proxy> {
        let (mode, _) = watch::channel(Mode::Pass);
        let seed = u64::from(std::process::id()) ^ crate::now_nanos() ^ 0x5eed;
        let mut last_error = None;
        for attempt in 0..40u64 {
            let offset = crate::free_offset_candidate(seed, attempt);
            if offset == server_offset {
                continue;
            }
            match bind_all(offset).await {
                Ok(bound) => {
                    let listeners = bound
                        .into_iter()
                        .map(|(service, listener)| {
                            let upstream = service.port_with_offset(server_offset).unwrap_or(0);
                            tokio::spawn(accept_loop(listener, upstream, mode.subscribe()))
                        })
                        .collect();
                    return Ok(Proxy {
                        offset,
                        mode,
                        listeners,
                    });
                }
                Err(err) => last_error = Some(err),
            }
        }
        Err(anyhow::anyhow!(
            "no port offset had every service port free for the proxy; last error: {last_error:?}"
        ))
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    fn stop(&mut self) {
        for listener in self.listeners.drain(..) {
            listener.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Connections watch the switch: a dropped sender resets them.
        self.stop();
    }
}

async fn bind_all(offset: u16) -> anyhow::Result<Vec<(Service, TcpListener)>> {
    let mut bound = Vec::new();
    for service in Service::ALL.into_iter().filter(|s| s.is_served()) {
        let port = service
            .port_with_offset(offset)
            .with_context(|| format!("{} + {offset} is past the last port", service.port()))?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("bind the proxy's port {port}"))?;
        bound.push((service, listener));
    }
    Ok(bound)
}

async fn accept_loop(listener: TcpListener, upstream: u16, mode: watch::Receiver<Mode>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(connection(client, upstream, mode.clone()));
            }
            // Out of descriptors or similar: try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// How one direction of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The sender closed its side; the close was passed on.
    Closed,
    /// The proxy cut it (or went away).
    Cut,
    /// A read or write failed: the connection is broken anyway.
    Failed,
}

/// Carries one accepted connection to the server while the switch allows.
async fn connection(mut client: TcpStream, upstream: u16, mut mode: watch::Receiver<Mode>) {
    // A new connection while silent waits, unanswered, like a SYN into the void.
    if !until_pass(&mut mode).await {
        reset(&client);
        return;
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        reset(&client);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (ends_up, ends_down) = {
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        tokio::join!(
            forward(&mut client_read, &mut server_write, mode.clone()),
            forward(&mut server_read, &mut client_write, mode.clone()),
        )
    };
    if ends_up != End::Closed || ends_down != End::Closed {
        reset(&client);
        reset(&server);
    }
}

/// Copies `from` to `to`, holding each chunk until the switch passes it; ends
/// at once when the switch cuts.
async fn forward(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    mut mode: watch::Receiver<Mode>,
) -> End {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            () = until_cut(&mut mode) => return End::Cut,
        };
        let n = match read {
            Ok(n) => n,
            Err(_) => return End::Failed,
        };
        // Also the end of the stream waits: a close is traffic too.
        if !until_pass(&mut mode).await {
            return End::Cut;
        }
        if n == 0 {
            let _ = to.shutdown().await;
            return End::Closed;
        }
        let written = tokio::select! {
            written = to.write_all(&buffer[..n]) => written,
            () = until_cut(&mut mode) => return End::Cut,
        };
        if written.is_err() {
            return End::Failed;
        }
    }
}

/// Waits until the switch passes (true) or cuts (false).
async fn until_pass(mode: &mut watch::Receiver<Mode>) -> bool {
    loop {
        match *mode.borrow_and_update() {
            Mode::Pass => return true,
            Mode::Cut => return false,
            Mode::Silent => {}
        }
        if mode.changed().await.is_err() {
            return false;
        }
    }
}

/// Returns when the switch cuts or the proxy goes away.
async fn until_cut(mode: &mut watch::Receiver<Mode>) {
    loop {
        if *mode.borrow_and_update() == Mode::Cut {
            return;
        }
        if mode.changed().await.is_err() {
            return;
        }
    }
}

/// Closes `stream` with a TCP reset when it is dropped, as a broken network
/// path or a crashed peer does, instead of an orderly close.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}
