//! Starting and stopping the listeners.

use crate::config::{PortPlan, ServerConfig};
use crate::connection;
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use penpen_core::{MAX_FRAME_BYTES, Service};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// A service port is taken or not allowed.
    #[error("cannot listen for {service} on {addr}: {source}")]
    Bind {
        /// The service whose port failed.
        service: Service,
        /// The address it tried.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// A port shifted by the configured offset does not fit in 16 bits.
    #[error(
        "port offset {offset} moves {service} beyond port 65535; expected an offset below 2648"
    )]
    OffsetTooLarge {
        /// The service whose port overflowed.
        service: Service,
        /// The offset asked for.
        offset: u16,
    },
}

/// A server whose listeners are running.
#[derive(Debug)]
pub struct RunningServer {
    addrs: BTreeMap<Service, SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// What every connection handler can reach.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) service: Service,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl RunningServer {
    /// Binds every served port, then starts serving them.
    ///
    /// Binding happens before anything is served, so a port that is taken fails
    /// the whole start and no half-started server is left behind.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let mut listeners = Vec::new();
        for service in Service::ALL.into_iter().filter(|s| s.is_served()) {
            let port = match config.ports {
                PortPlan::Ephemeral => 0,
                PortPlan::Offset(offset) => service
                    .port_with_offset(offset)
                    .ok_or(StartError::OffsetTooLarge { service, offset })?,
            };
            let addr = SocketAddr::new(config.host, port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind {
                    service,
                    addr: addr.to_string(),
                    source,
                })?;
            listeners.push((service, listener));
        }

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut addrs = BTreeMap::new();
        let mut tasks = JoinSet::new();
        for (service, listener) in listeners {
            let addr = listener.local_addr().map_err(|source| StartError::Bind {
                service,
                addr: "the bound address".to_owned(),
                source,
            })?;
            addrs.insert(service, addr);
            let shared = Shared {
                service,
                shutdown: shutdown_rx.clone(),
            };
            let mut stop = shutdown_rx.clone();
            let app = Router::new().route("/", get(upgrade)).with_state(shared);
            tasks.spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    })
                    .await;
                if let Err(err) = served {
                    tracing::error!(%service, %err, "listener failed");
                }
            });
            tracing::info!(%service, %addr, "listening");
        }
        Ok(RunningServer {
            addrs,
            shutdown,
            tasks,
        })
    }

    /// The address a service listens on.
    pub fn addr(&self, service: Service) -> Option<SocketAddr> {
        self.addrs.get(&service).copied()
    }

    /// Every service and the address it listens on.
    pub fn addrs(&self) -> &BTreeMap<Service, SocketAddr> {
        &self.addrs
    }

    /// Stops accepting, closes every connection and waits for the handlers to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Frames up to the protocol's limit are read whole so that the codec can answer
/// an oversized one with a reason; far larger ones end the connection.
const WEBSOCKET_MESSAGE_LIMIT: usize = MAX_FRAME_BYTES + 1024 * 1024;

async fn upgrade(State(shared): State<Shared>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(WEBSOCKET_MESSAGE_LIMIT)
        .max_frame_size(WEBSOCKET_MESSAGE_LIMIT)
        .on_upgrade(move |socket| connection::serve(socket, shared))
}
