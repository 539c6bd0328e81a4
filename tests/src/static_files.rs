//! Serves the release build (`dist/`) over HTTP or HTTPS, as a production web
//! server would, with the deployment's `penpen.json` beside `index.html`.
//!
//! A test may stop it (the web server is down: only the service worker's
//! cache can open the app) and start it again on the same address, which
//! keeps the page's origin, and with it its storage and service worker.

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// What the web server serves: the build, plus generated files (by path,
/// without the leading `/`) that take precedence over it.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) dist: PathBuf,
    pub(crate) generated: BTreeMap<String, Vec<u8>>,
    /// Serve HTTPS with this configuration instead of HTTP.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

#[derive(Debug)]
pub(crate) struct StaticServer {
    addr: SocketAddr,
    site: Arc<Site>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Starts serving `site` on a free port of 127.0.0.1.
    pub(crate) async fn start(site: Site) -> anyhow::Result<StaticServer> {
        if !site.dist.join("index.html").is_file() {
            bail!(
                "{} has no index.html; build the app first with `trunk build --release` (scripts/test.sh does)",
                site.dist.display()
            );
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the static file server")?;
        let addr = listener.local_addr()?;
        let mut server = StaticServer {
            addr,
            site: Arc::new(site),
            stop: None,
            task: None,
        };
        server.serve(listener);
        Ok(server)
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https` or `http`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.site.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Starts serving again on the same address after [`StaticServer::stop`].
    pub(crate) async fn restart(&mut self) -> anyhow::Result<()> {
        if self.task.is_some() {
            return Ok(());
        }
        // The old socket may linger for a moment after the stop.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(err) if tokio::time::Instant::now() >= deadline => {
                    bail!("the web server could not bind {} again: {err}", self.addr)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        self.serve(listener);
        Ok(())
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new()
            .fallback(serve_file)
            .with_state(self.site.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let task = match &self.site.tls {
            Some(config) => {
                let listener = TlsListener {
                    tcp: listener,
                    acceptor: TlsAcceptor::from(config.clone()),
                };
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await;
                })
            }
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            }),
        };
        self.stop = Some(stop);
        self.task = Some(task);
    }

    /// Stops serving: new connections are refused, open ones are closed.
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            // Connections still busy after a while are cut.
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

/// Accepts TCP connections and completes their TLS handshake.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                // Out of descriptors or similar: try again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            // A client that stalls its handshake must not hold the others up long.
            let handshake =
                tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await;
            if let Ok(Ok(tls)) = handshake {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

async fn serve_file(State(site): State<Arc<Site>>, uri: Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    if let Some(bytes) = site.generated.get(relative) {
        return file_response(Path::new(relative), bytes.clone());
    }
    // The app is a single page: anything that is not a file is the page itself.
    let mut path = site.dist.join(if relative.is_empty() {
        "index.html"
    } else {
        relative
    });
    if relative.split('/').any(|part| part == "..") || !path.is_file() {
        path = site.dist.join("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => file_response(&path, bytes),
        Err(_) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default(),
    }
}

fn file_response(path: &Path, bytes: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(bytes))
        .unwrap_or_default()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}
