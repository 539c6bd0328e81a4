//! Serves the release build (`dist/`) over HTTP, as a production web server would.

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug)]
pub(crate) struct StaticServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub(crate) async fn start(dist: &Path) -> anyhow::Result<StaticServer> {
        if !dist.join("index.html").is_file() {
            bail!(
                "{} has no index.html; build the app first with `trunk build --release` (scripts/test.sh does)",
                dist.display()
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the static file server")?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .fallback(serve_file)
            .with_state(dist.to_path_buf());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(StaticServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

async fn serve_file(State(dist): State<PathBuf>, uri: Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    // The app is a single page: anything that is not a file is the page itself.
    let mut path = dist.join(if relative.is_empty() {
        "index.html"
    } else {
        relative
    });
    if relative.split('/').any(|part| part == "..") || !path.is_file() {
        path = dist.join("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, content_type(&path))
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(bytes))
            .unwrap_or_default(),
        Err(_) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default(),
    }
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
        _ => "application/octet-stream",
    }
}
