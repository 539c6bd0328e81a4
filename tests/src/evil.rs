//! A decoy "server" a crafted link could name: it listens on every service
//! port at some offset, accepts WebSocket connections, answers nothing, and
//! records every connection and frame, so a test can tell whether the app
//! reached it and whether a session token arrived.

use anyhow::bail;
use futures_util::StreamExt;
use penpen_core::{Frame, Service};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// What the decoy saw: for each connection its port, and each text frame's
/// payload (decoded when it is a PENPEN frame, else as it came).
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The ports connections arrived on, in order.
    pub connections: Vec<u16>,
    /// The frames' payloads, in order.
    pub frames: Vec<String>,
}

/// The decoy; it stops listening when dropped.
#[derive(Debug)]
pub struct Decoy {
    port_offset: u16,
    seen: Arc<Mutex<Seen>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Decoy {
    /// Listens on every service port at an offset where all are free.
    pub async fn start() -> anyhow::Result<Decoy> {
        let seed = std::process::id() as u64 ^ crate::now_nanos() ^ 0x5eed;
        'offsets: for attempt in 0..40u64 {
            let port_offset = crate::free_offset_candidate(seed, attempt);
            let mut listeners = Vec::new();
            for service in Service::ALL {
                let Some(port) = service.port_with_offset(port_offset) else {
                    continue 'offsets;
                };
                match TcpListener::bind(("127.0.0.1", port)).await {
                    Ok(listener) => listeners.push(listener),
                    Err(_) => continue 'offsets,
                }
            }
            let seen = Arc::new(Mutex::new(Seen::default()));
            let tasks = listeners
                .into_iter()
                .map(|listener| tokio::spawn(accept(listener, seen.clone())))
                .collect();
            return Ok(Decoy {
                port_offset,
                seen,
                tasks,
            });
        }
        bail!("no port offset had every service port free for the decoy")
    }

    /// The decoy's port offset (`?port_offset=` of the crafted link).
    pub fn port_offset(&self) -> u16 {
        self.port_offset
    }

    /// What it saw so far.
    pub fn seen(&self) -> Seen {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

impl Drop for Decoy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn accept(listener: TcpListener, seen: Arc<Mutex<Seen>>) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    while let Ok((stream, _)) = listener.accept().await {
        if let Ok(mut seen) = seen.lock() {
            seen.connections.push(port);
        }
        let seen = seen.clone();
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    let payload = Frame::decode(&text)
                        .map(|frame| frame.payload)
                        .unwrap_or_else(|_| text.to_string());
                    if let Ok(mut seen) = seen.lock() {
                        seen.frames.push(payload);
                    }
                }
            }
        });
    }
}
