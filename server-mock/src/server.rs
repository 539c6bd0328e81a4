//! Starting and stopping the listeners.

use crate::config::{PortPlan, ServerConfig};
use crate::connection::{self, Connection};
use crate::context::{Context, now_ms};
use crate::limits::Connections;
use crate::listener::Listener;
use crate::origin::{self, OriginPolicy};
use crate::store::{Store, StoreError};
use crate::{auth, demo, services};
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use penpen_core::Service;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf as FsPathBuf;
use std::sync::Arc;
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
        path: FsPathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// The database could not be opened, migrated or filled.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
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
    /// The TLS certificate or key cannot be used.
    #[error("cannot serve TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The ICE servers handed to clients could not carry a call.
    #[error("cannot serve calls: {0}")]
    Ice(#[from] crate::calls::ice::IceConfigError),
    /// The meetings' media server could not start.
    #[error("cannot serve meeting media: {0}")]
    Media(#[from] crate::sfu::SfuError),
    /// The bus to the other nodes could not be reached.
    #[error(transparent)]
    Bus(#[from] crate::bus::BusError),
}

/// A server whose listeners are running.
#[derive(Debug)]
pub struct RunningServer {
    addrs: BTreeMap<Service, SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    context: Arc<Context>,
    /// Whether this server opened its store (and closes it at shutdown),
    /// rather than sharing another's.
    owns_store: bool,
}

/// What every connection handler of one listener can reach.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) service: Service,
    pub(crate) context: Arc<Context>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl RunningServer {
    /// Opens the store, binds every served port, then starts serving them.
    ///
    /// Binding happens before anything is served, so a port that is taken fails
    /// the whole start and no half-started server is left behind.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        RunningServer::start_with(config, None).await
    }

    /// Starts a node over `store`, which other nodes use at the same time
    /// (several nodes, one store: #17). Its shutdown leaves the store open
    /// for them. Without a bus between the nodes, a push reaches only the
    /// sessions of the node that stored the message; the others find it
    /// when they catch up. Tests use this to move a client between nodes.
    pub async fn start_sharing(
        config: ServerConfig,
        store: Store,
    ) -> Result<RunningServer, StartError> {
        RunningServer::start_with(config, Some(store)).await
    }

    /// The store this server uses, to share with another node.
    pub fn store(&self) -> Store {
        self.context.store.clone()
    }

    async fn start_with(
        config: ServerConfig,
        shared_store: Option<Store>,
    ) -> Result<RunningServer, StartError> {
        config.calls.ice.check()?;
        let tls = config.tls.as_ref().map(|tls| tls.acceptor()).transpose()?;
        let origins = OriginPolicy::new(&config.allowed_origins, &config.own_names());
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

        let sfu = crate::sfu::Sfu::start(media_config(&config)?).await?;

        let owns_store = shared_store.is_none();
        let store = match shared_store {
            Some(store) => store,
            None => {
                let location = config.store_location();
                let options = config.store;
                tokio::task::spawn_blocking(move || Store::open_at(&location, options))
                    .await
                    .map_err(|e| StoreError::Database(e.to_string()))??
            }
        };
        let files = services::files::folder(&config.data_dir);
        services::file_disk::prepare(&store, &files)
            .await
            .map_err(|source| StartError::DataDir {
                path: files,
                source,
            })?;
        if config.demo && demo::load_if_empty(&store, now_ms()).await? {
            // The server never writes a password to its log, not even the demo's.
            tracing::info!(
                "loaded the demo company: accounts 13800000001 to 13800000024 (their password is in the README)"
            );
        }
        let (bus, arrivals) = crate::bus::Bus::start(&config.bus).await?;
        tracing::info!(node = %bus.node(), shared = bus.is_shared(), "node");
        let context = Arc::new(Context {
            store,
            hub: Default::default(),
            bus,
            limiter: crate::login_limits::LoginLimiter::new(&config.auth),
            passwords: auth::PasswordWorkers::start(2, config.auth.password_queue),
            utc_offset_minutes: config.utc_offset_minutes,
            data_dir: config.data_dir.clone(),
            heartbeat: config.heartbeat,
            groups_page: config.groups_page,
            policy: config.auth.clone(),
            revocations: Default::default(),
            changes: crate::change_limits::ChangeLimiter::new(&config.auth),
            connections: Arc::new(Connections::new(
                config.limits.clone(),
                config.trusted_proxies.clone(),
            )),
            calls: crate::calls::Calls::new(&config.calls),
            meetings: crate::meetings::Meetings::new(
                &config.meetings,
                config.calls.rejoin_grace,
                config.media.max_per_room,
                sfu.clone(),
            ),
            sfu,
            recall: config.recall,
            uploads: crate::uploads::Uploads::new(config.files.clone()),
            receipts: config.receipts,
            reads: crate::reads::Reads::new(config.receipts.coalesce),
        });
        // Sessions that ended in a crash (of this node, or of a node none is
        // left to notice) could not record their users offline. A node
        // sharing its store without a bus cannot know who is online
        // elsewhere, so leaves presence as it is.
        if owns_store || context.bus.is_shared() {
            services::presence::sweep(&context).await;
        }
        // Made now, so the first login for an unknown account is not slower.
        let _ = context.passwords.run(|| auth::dummy_hash().len()).await;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut addrs = BTreeMap::new();
        let mut tasks = JoinSet::new();
        tasks.spawn(crate::revocation::watch_sessions(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(crate::uploads::run_expiry(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(services::calls::run_timers(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(services::meetings::run_timers(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tasks.spawn(crate::reads::run(context.clone(), shutdown_rx.clone()));
        if let Some(arrivals) = arrivals {
            tasks.spawn(crate::bus::run(
                context.clone(),
                arrivals,
                shutdown_rx.clone(),
            ));
            tasks.spawn(crate::bus::peers::run(context.clone(), shutdown_rx.clone()));
        }
        // Taken now: nothing else may read them once the server runs.
        if let Some(events) = context.sfu.take_events() {
            tasks.spawn(services::meetings::relay_sfu(
                context.clone(),
                events,
                shutdown_rx.clone(),
            ));
        }
        for (service, listener) in listeners {
            let addr = listener.local_addr().map_err(|source| StartError::Bind {
                service,
                addr: "the bound address".to_owned(),
                source,
            })?;
            addrs.insert(service, addr);
            let shared = Shared {
                service,
                context: context.clone(),
                shutdown: shutdown_rx.clone(),
            };
            let mut app = Router::new().route("/", get(upgrade));
            if matches!(service, Service::Image | Service::Voice) {
                app = app.route("/files/{name}", get(download));
            }
            if service == Service::Files {
                app = app.route("/files/{name}", get(download_file));
            }
            let router = app
                .with_state(shared)
                .layer(axum::middleware::from_fn_with_state(
                    origins.clone(),
                    origin::check,
                ));
            tasks.spawn(
                Listener {
                    tcp: listener,
                    router,
                    tls: tls.clone(),
                    connections: context.connections.clone(),
                    shutdown: shutdown_rx.clone(),
                }
                .run(),
            );
            tracing::info!(%service, %addr, "listening");
        }
        Ok(RunningServer {
            addrs,
            shutdown,
            tasks,
            context,
            owns_store,
        })
    }

    /// The address a service listens on.
    pub fn addr(&self, service: Service) -> Option<SocketAddr> {
        self.addrs.get(&service).copied()
    }

    /// How many Argon2 runs (password checks and hashes) have started: what
    /// the login limiter let through, for tests and measurements.
    pub fn password_checks(&self) -> u64 {
        self.context.passwords.runs()
    }

    /// The meetings' media server.
    pub fn sfu(&self) -> &crate::sfu::Sfu {
        &self.context.sfu
    }

    /// Every service and the address it listens on.
    pub fn addrs(&self) -> &BTreeMap<Service, SocketAddr> {
        &self.addrs
    }

    /// Stops accepting, closes every connection, waits for the handlers, then
    /// lets the store commit what it was given and closes it (unless the
    /// store is shared: [`RunningServer::start_sharing`]).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.context.sfu.shutdown().await;
        if self.owns_store {
            let store = self.context.store.clone();
            let _ = tokio::task::spawn_blocking(move || store.close()).await;
        }
    }
}

/// The SFU's settings under the server's port plan and host.
fn media_config(config: &ServerConfig) -> Result<crate::sfu::SfuConfig, StartError> {
    let port =
        match (config.media.port, config.ports) {
            (Some(port), _) => port,
            (None, PortPlan::Ephemeral) => 0,
            (None, PortPlan::Offset(offset)) => crate::config::MEDIA_PORT
                .checked_add(offset)
                .ok_or(StartError::OffsetTooLarge {
                    service: Service::CallSignalling,
                    offset,
                })?,
        };
    let advertised = match config.media.address {
        Some(address) => address,
        None if config.host.is_unspecified() => match default_route_address(config.host) {
            Some(address) => {
                tracing::info!(
                    %address,
                    "meeting media is advertised at the address of the default route; set --media-address if clients reach this server at another one"
                );
                address
            }
            None => {
                tracing::warn!(
                    "no default route: meeting media is advertised at 127.0.0.1 (only this machine can join meetings); set --media-address to the address clients reach"
                );
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
        },
        None => config.host,
    };
    let mut sfu = crate::sfu::SfuConfig::new(SocketAddr::new(config.host, port));
    // Port 0: the bound port, whatever the operating system chose.
    sfu.advertised = Some(SocketAddr::new(advertised, 0));
    sfu.max_per_room = config.media.max_per_room;
    sfu.lost_after = config.media.lost_after;
    Ok(sfu)
}

/// The local address the operating system would send from to reach the
/// outside world: the interface of the default route, for a server bound to
/// every interface. A UDP `connect` only picks a route; nothing is sent.
fn default_route_address(unspecified: std::net::IpAddr) -> Option<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
    // Documentation ranges (RFC 5737, RFC 3849): routed like any address,
    // never answered.
    let (any, outside): (IpAddr, IpAddr) = match unspecified {
        IpAddr::V4(_) => (
            Ipv4Addr::UNSPECIFIED.into(),
            Ipv4Addr::new(192, 0, 2, 1).into(),
        ),
        IpAddr::V6(_) => (
            Ipv6Addr::UNSPECIFIED.into(),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
        ),
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    socket.connect(SocketAddr::new(outside, 9)).ok()?;
    let address = socket.local_addr().ok()?.ip();
    (!address.is_unspecified() && !address.is_loopback()).then_some(address)
}

async fn upgrade(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let (peer, mut held) = match shared.context.connections.admit_upgrade(peer, &headers) {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.into_response(),
    };
    let ws = connection::limit_upgrade(
        ws,
        shared.service,
        shared.context.connections.limits().login_port_frame_bytes,
    );
    let Shared {
        service,
        context,
        shutdown,
    } = shared;
    let heartbeat = context.heartbeat;
    if service == Service::Login {
        return ws.on_upgrade(move |socket| {
            services::stream::serve(
                Connection::new(socket, heartbeat),
                context,
                shutdown,
                peer,
                held,
            )
        });
    }
    // Every other port needs a live session's token in the URL.
    let Some(token) = query.get("token").filter(|t| !t.is_empty()) else {
        return (
            StatusCode::UNAUTHORIZED,
            "missing ?token=: log in on the login port (20888) first",
        )
            .into_response();
    };
    match crate::revocation::check_token(&context, token).await {
        Ok(session) => {
            if let Err(refusal) = held.hold_token(&context.connections, &session.token_hash) {
                return refusal.into_response();
            }
            // Registered before the upgrade: a revocation from now on closes it.
            let ended = context.revocations.register(&session);
            let caller = services::Caller {
                user: session.user,
                token_hash: session.token_hash,
                address: Some(peer.ip()),
            };
            if service == Service::CallSignalling {
                return ws.on_upgrade(move |socket| {
                    services::calls::serve(
                        Connection::new(socket, heartbeat),
                        context,
                        shutdown,
                        caller,
                        ended,
                        held,
                    )
                });
            }
            ws.on_upgrade(move |socket| {
                services::requests::serve(
                    Connection::new(socket, heartbeat),
                    context,
                    service,
                    shutdown,
                    caller,
                    ended,
                    held,
                )
            })
        }
        Err(refusal) => {
            let status = if refusal.state == penpen_core::State::SERVER_ERROR {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNAUTHORIZED
            };
            (status, refusal.error).into_response()
        }
    }
}

/// `GET /files/<name>?ticket=…` on 22888 and 23888 (see `crate::tickets`).
async fn download(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    crate::tickets::download(
        &shared.context,
        &name,
        query.get("ticket").map(String::as_str),
    )
    .await
}

/// `GET /files/<name>?ticket=…` on 28888: files of any kind (§15.6).
async fn download_file(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let ticket = query.get("ticket").map(String::as_str);
    let mut response = match crate::tickets::ticket_user(&shared.context, &name, ticket).await {
        Ok(user) => crate::uploads::download::serve(&shared.context, &user, &name, &headers).await,
        Err(refusal) => refusal,
    };
    // The app reads a file's bytes (to keep it for offline use), which a
    // page of another port may only do when told so; a page of a site the
    // origin check refuses never gets this far.
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let answer = response.headers_mut();
        answer.insert(
            axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            origin.clone(),
        );
        answer.insert(
            axum::http::header::VARY,
            axum::http::HeaderValue::from_static("Origin"),
        );
    }
    response
}
