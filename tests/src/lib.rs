//! The end-to-end harness: a real `penpen-server-mock`, the release web build
//! served over HTTP, and headless Chromium driven through Debian's chromedriver.
//!
//! Every piece starts on free ports and is torn down when the test ends, even
//! when it fails: [`Harness::run`] runs the test body in its own task, so a
//! failing assertion still reaches the cleanup, and a failing browser leaves a
//! screenshot in `target/e2e-screenshots/`.

#![allow(clippy::print_stdout)]

pub mod app;
mod browser;
mod static_files;

pub use browser::Browser;

use anyhow::{Context as _, bail};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The workspace root (the folder holding `Cargo.toml` of the workspace).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Everything one end-to-end test runs against.
#[derive(Debug)]
pub struct Harness {
    server: SharedServer,
    port_offset: u16,
    _data: tempfile::TempDir,
    web: static_files::StaticServer,
    driver: Child,
    driver_url: String,
    test_name: String,
}

impl Harness {
    /// Starts the server, the static file server and chromedriver, runs `body`,
    /// then stops them all, whether `body` succeeded, failed or panicked.
    pub async fn run<F, Fut>(test_name: &str, body: F) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let harness = Harness::start(test_name).await?;
        let handle = HarnessRef {
            app_url: harness.app_url(),
            driver_url: harness.driver_url.clone(),
            test_name: harness.test_name.clone(),
            server: harness.server.clone(),
            server_data: harness._data.path().join("server"),
            port_offset: harness.port_offset,
        };
        let outcome = tokio::spawn(body(handle)).await;
        harness.stop().await;
        match outcome {
            Ok(result) => result,
            Err(join_error) => bail!("the test body panicked: {join_error}"),
        }
    }

    async fn start(test_name: &str) -> anyhow::Result<Harness> {
        let data = tempfile::tempdir().context("temporary data folder")?;
        let (server, port_offset) = start_server_on_free_offset(data.path()).await?;
        let dist = std::env::var_os("PENPEN_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("dist"));
        let web = static_files::StaticServer::start(&dist).await?;
        let (driver, driver_url) = start_chromedriver().await?;
        Ok(Harness {
            server: Arc::new(tokio::sync::Mutex::new(Some(server))),
            port_offset,
            _data: data,
            web,
            driver,
            driver_url,
            test_name: test_name.to_owned(),
        })
    }

    fn app_url(&self) -> String {
        format!(
            "http://{}/?server=127.0.0.1&port_offset={}",
            self.web.addr(),
            self.port_offset
        )
    }

    async fn stop(mut self) {
        let _ = self.driver.kill().await;
        if let Some(server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        self.web.stop().await;
    }
}

/// What a test body gets: where the app is, and a way to open browsers.
#[derive(Debug, Clone)]
pub struct HarnessRef {
    /// The app's URL, already pointing the client at this test's server.
    pub app_url: String,
    driver_url: String,
    test_name: String,
    server: SharedServer,
    server_data: PathBuf,
    port_offset: u16,
}

/// The test's server, which a test may stop and start again.
type SharedServer = Arc<tokio::sync::Mutex<Option<RunningServer>>>;

impl HarnessRef {
    /// Opens a new, independent browser (its own profile: own IndexedDB, own
    /// storage) called `name` in screenshots, and loads the app in it.
    pub async fn open_app(&self, name: &str) -> anyhow::Result<Browser> {
        let browser = Browser::launch(&self.driver_url, &self.test_name, name).await?;
        browser.goto(&self.app_url).await?;
        Ok(browser)
    }

    /// The server's configuration (its data folder and ports).
    pub fn server_config(&self) -> ServerConfig {
        let mut config = ServerConfig::new(self.server_data.clone());
        config.ports = PortPlan::Offset(self.port_offset);
        config.demo = true;
        config
    }

    /// Stops the server (every connection drops; its data stays).
    pub async fn stop_server(&self) {
        if let Some(server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
    }

    /// Starts the server again on the same data and ports.
    pub async fn start_server(&self) -> anyhow::Result<()> {
        let mut slot = self.server.lock().await;
        if slot.is_some() {
            return Ok(());
        }
        let config = self.server_config();
        // The old listeners may take a moment to be gone.
        let mut last_error = None;
        for _ in 0..50 {
            match RunningServer::start(config.clone()).await {
                Ok(server) => {
                    *slot = Some(server);
                    return Ok(());
                }
                Err(err) => last_error = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not start again: {last_error:?}")
    }
}

/// The server on a port offset whose ports are all free. Binding is the only
/// reliable test, so offsets are tried until one binds.
async fn start_server_on_free_offset(data: &Path) -> anyhow::Result<(RunningServer, u16)> {
    let seed = std::process::id() as u64 ^ now_nanos();
    let mut last_error = None;
    for attempt in 0..40u64 {
        let offset = 1 + ((seed.wrapping_mul(31).wrapping_add(attempt * 7919)) % 998) as u16;
        let mut config = ServerConfig::new(data.join("server"));
        config.ports = PortPlan::Offset(offset);
        config.demo = true;
        match RunningServer::start(config).await {
            Ok(server) => return Ok((server, offset)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(anyhow::anyhow!(
        "no port offset had every service port free; last error: {last_error:?}"
    ))
}

async fn start_chromedriver() -> anyhow::Result<(Child, String)> {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port().await?;
    let driver = Command::new(&binary)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!("cannot start {binary}; install chromium-driver (scripts/setup.sh does)")
        })?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok((driver, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("chromedriver did not listen on port {port} within 10 s")
}

async fn free_port() -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(listener.local_addr()?.port())
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0)
}
