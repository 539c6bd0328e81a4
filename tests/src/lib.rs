//! The end-to-end harness: a real `penpen-server-mock`, the release web build
//! served over HTTP, and headless Chromium driven through Debian's chromedriver
//! (or, with [`Harness::run_in`], headless Firefox through geckodriver).
//!
//! Every piece starts on free ports and is torn down when the test ends, even
//! when it fails: [`Harness::run`] runs the test body in its own task, so a
//! failing assertion still reaches the cleanup, and a failing browser leaves a
//! screenshot in `target/e2e-screenshots/`.

#![allow(clippy::print_stdout)]

pub mod app;
mod browser;
mod driver;
mod static_files;

pub use browser::{Browser, BrowserKind};

use anyhow::{Context as _, bail};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
    /// chromedriver, shared by the test's Chromium sessions; none for Firefox,
    /// whose sessions each start their own geckodriver.
    driver: Option<driver::DriverProcess>,
    browser: BrowserKind,
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
        Harness::run_in(BrowserKind::Chromium, test_name, body).await
    }

    /// [`Harness::run`] with every browser `body` opens being of `kind`.
    pub async fn run_in<F, Fut>(kind: BrowserKind, test_name: &str, body: F) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let harness = Harness::start(test_name, kind).await?;
        let handle = HarnessRef {
            app_url: harness.app_url(),
            driver_url: harness.driver.as_ref().map(|d| d.url().to_owned()),
            browser: harness.browser,
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

    async fn start(test_name: &str, browser: BrowserKind) -> anyhow::Result<Harness> {
        let data = tempfile::tempdir().context("temporary data folder")?;
        let (server, port_offset) = start_server_on_free_offset(data.path()).await?;
        let dist = std::env::var_os("PENPEN_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("dist"));
        let web = static_files::StaticServer::start(&dist).await?;
        let driver = match browser {
            BrowserKind::Chromium => Some(driver::DriverProcess::start(browser, None).await?),
            BrowserKind::Firefox => None,
        };
        Ok(Harness {
            server: Arc::new(tokio::sync::Mutex::new(Some(server))),
            port_offset,
            _data: data,
            web,
            driver,
            browser,
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
        if let Some(driver) = self.driver.take() {
            driver.stop().await;
        }
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
    driver_url: Option<String>,
    browser: BrowserKind,
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
        let browser = Browser::launch(
            self.browser,
            self.driver_url.as_deref(),
            &self.test_name,
            name,
        )
        .await?;
        browser.goto(&self.app_url).await?;
        Ok(browser)
    }

    /// The server's configuration (its data folder and ports).
    pub fn server_config(&self) -> ServerConfig {
        let mut config = ServerConfig::new(self.server_data.clone());
        config.ports = PortPlan::Offset(self.port_offset);
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
        match RunningServer::start(config).await {
            Ok(server) => return Ok((server, offset)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(anyhow::anyhow!(
        "no port offset had every service port free; last error: {last_error:?}"
    ))
}

pub(crate) async fn free_port() -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(listener.local_addr()?.port())
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0)
}
