//! The end-to-end harness: a real `penpen-server-mock`, the release web build
//! served over HTTP (or HTTPS, see [`Harness::run_over_tls`]), and headless
//! Chromium driven through Debian's chromedriver (or, with
//! [`Harness::run_in`], headless Firefox through geckodriver).
//!
//! The app finds its server the way a deployment points it there: the web
//! server serves a generated `penpen.json` beside `index.html` naming this
//! test's server, and the app's URL carries no `?server=`.
//!
//! Every piece starts on free ports and is torn down when the test ends, even
//! when it fails: [`Harness::run`] runs the test body in its own task, so a
//! failing assertion still reaches the cleanup, and a failing browser leaves a
//! screenshot in `target/e2e-screenshots/`.
//!
//! A browser opened with [`HarnessRef::open_app_with_faults`] reaches the
//! server through a proxy of its own ([`faults`]) that the test can make cut
//! or silently drop every connection. [`HarnessRef::start_nodes`] adds
//! server nodes sharing the server's store ([`nodes`]), for a client moving
//! between them.

#![allow(clippy::print_stdout)]

pub mod app;
mod browser;
pub mod calls;
mod driver;
pub mod evil;
pub mod faults;
pub mod meetings;
pub mod nodes;
mod static_files;
pub mod stun;
pub mod tls;
pub mod turn;

pub use browser::{Browser, BrowserKind, Tab, WAIT};
pub use faults::{Faults, Mode};
pub use nodes::Nodes;
pub use tls::TestCertificate;
pub use turn::TurnServer;

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
    web: SharedWeb,
    /// What the web server serves, for the web servers of faulty paths.
    site: static_files::Site,
    app_url: String,
    /// chromedriver, shared by the test's Chromium sessions; none for Firefox,
    /// whose sessions each start their own geckodriver.
    driver: Option<driver::DriverProcess>,
    browser: BrowserKind,
    test_name: String,
    tls: Option<ServerTls>,
}

/// The certificate of a run over TLS, and where its PEM files are.
#[derive(Debug, Clone)]
struct ServerTls {
    certificate: TestCertificate,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl Harness {
    /// Starts the server, the static file server and chromedriver, runs `body`,
    /// then stops them all, whether `body` succeeded, failed or panicked.
    pub async fn run<F, Fut>(test_name: &str, body: F) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Harness::run_with(test_name, BrowserKind::Chromium, false, body).await
    }

    /// [`Harness::run`] with every browser `body` opens being of `kind`.
    pub async fn run_in<F, Fut>(kind: BrowserKind, test_name: &str, body: F) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Harness::run_with(test_name, kind, false, body).await
    }

    /// As [`Harness::run`], but the page is served over HTTPS and the server
    /// speaks TLS on every port, both with one self-signed certificate that
    /// the test's browsers trust by its key; the app then uses `wss://`.
    pub async fn run_over_tls<F, Fut>(test_name: &str, body: F) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Harness::run_with(test_name, BrowserKind::Chromium, true, body).await
    }

    async fn run_with<F, Fut>(
        test_name: &str,
        kind: BrowserKind,
        tls: bool,
        body: F,
    ) -> anyhow::Result<()>
    where
        F: FnOnce(HarnessRef) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let harness = Harness::start(test_name, kind, tls).await?;
        let handle = HarnessRef {
            app_url: harness.app_url.clone(),
            driver_url: harness.driver.as_ref().map(|d| d.url().to_owned()),
            browser: harness.browser,
            test_name: harness.test_name.clone(),
            server: harness.server.clone(),
            server_data: harness._data.path().join("server"),
            port_offset: harness.port_offset,
            web: harness.web.clone(),
            site: harness.site.clone(),
            tls: harness.tls.clone(),
        };
        let outcome = tokio::spawn(body(handle)).await;
        harness.stop().await;
        match outcome {
            Ok(result) => result,
            Err(join_error) => bail!("the test body panicked: {join_error}"),
        }
    }

    async fn start(test_name: &str, browser: BrowserKind, tls: bool) -> anyhow::Result<Harness> {
        let data = tempfile::tempdir().context("temporary data folder")?;
        let tls = if tls {
            let certificate = TestCertificate::generate()?;
            let (cert_path, key_path) = certificate.write_pem(data.path())?;
            Some(ServerTls {
                certificate,
                cert_path,
                key_path,
            })
        } else {
            None
        };
        let (server, port_offset) = start_server_on_free_offset(data.path(), tls.as_ref()).await?;
        let dist = std::env::var_os("PENPEN_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("dist"));
        let site = static_files::Site {
            dist,
            generated: [(
                "penpen.json".to_owned(),
                deployment_file(port_offset, tls.is_some()).into_bytes(),
            )]
            .into(),
            tls: match &tls {
                Some(tls) => Some(tls.certificate.server_config()?),
                None => None,
            },
        };
        let web = static_files::StaticServer::start(site.clone()).await?;
        let app_url = format!("{}://{}/", web.scheme(), web.addr());
        let driver = match browser {
            BrowserKind::Chromium => Some(driver::DriverProcess::start(browser, None).await?),
            BrowserKind::Firefox => None,
        };
        Ok(Harness {
            server: Arc::new(tokio::sync::Mutex::new(Some(server))),
            port_offset,
            _data: data,
            web: Arc::new(tokio::sync::Mutex::new(web)),
            site,
            app_url,
            driver,
            browser,
            test_name: test_name.to_owned(),
            tls,
        })
    }

    async fn stop(mut self) {
        if let Some(driver) = self.driver.take() {
            driver.stop().await;
        }
        if let Some(server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        self.web.lock().await.stop().await;
    }
}

/// The `penpen.json` that points the app at the test's server, as a
/// deployment's web server would serve it.
fn deployment_file(port_offset: u16, tls: bool) -> String {
    serde_json::json!({"host": "127.0.0.1", "port_offset": port_offset, "tls": tls}).to_string()
}

/// Makes the server speak TLS on every port with the test certificate the
/// browsers trust.
fn enable_server_tls(config: &mut ServerConfig, tls: &ServerTls) -> anyhow::Result<()> {
    config.tls = Some(penpen_server_mock::TlsConfig::from_files(
        &tls.cert_path,
        &tls.key_path,
    )?);
    Ok(())
}

/// What a test body gets: where the app is, and a way to open browsers.
#[derive(Debug, Clone)]
pub struct HarnessRef {
    /// The app's URL; the web server beside it tells the app where this
    /// test's server is (`penpen.json`).
    pub app_url: String,
    driver_url: Option<String>,
    browser: BrowserKind,
    test_name: String,
    server: SharedServer,
    server_data: PathBuf,
    port_offset: u16,
    web: SharedWeb,
    site: static_files::Site,
    tls: Option<ServerTls>,
}

/// The test's server, which a test may stop and start again.
type SharedServer = Arc<tokio::sync::Mutex<Option<RunningServer>>>;
/// The test's web server, which a test may stop and start again.
type SharedWeb = Arc<tokio::sync::Mutex<static_files::StaticServer>>;

impl HarnessRef {
    /// Opens a new, independent browser (its own profile: own IndexedDB, own
    /// storage) called `name` in screenshots, and loads the app in it.
    pub async fn open_app(&self, name: &str) -> anyhow::Result<Browser> {
        let browser = self.open_browser(name).await?;
        browser.goto(&self.app_url).await?;
        Ok(browser)
    }

    /// Opens a new, independent browser, and loads the app in it from a web
    /// server of its own that points it at a proxy in front of the server:
    /// the returned [`Faults`] cut or silence that browser's connections
    /// alone. Reload it with [`Faults::app_url`].
    pub async fn open_app_with_faults(&self, name: &str) -> anyhow::Result<(Browser, Faults)> {
        let faults = Faults::start(self.port_offset, self.site.clone()).await?;
        let browser = self.open_browser(name).await?;
        if let Err(err) = browser.goto(faults.app_url()).await {
            faults.stop().await;
            return Err(err);
        }
        Ok((browser, faults))
    }

    /// Opens a new, independent browser without loading anything.
    pub async fn open_browser(&self, name: &str) -> anyhow::Result<Browser> {
        let extra: Vec<String> = self
            .tls
            .iter()
            .map(|tls| tls.certificate.chromium_argument())
            .collect();
        Browser::launch(
            self.browser,
            self.driver_url.as_deref(),
            &self.test_name,
            name,
            &extra,
        )
        .await
    }

    /// The port offset of the test's server.
    pub fn port_offset(&self) -> u16 {
        self.port_offset
    }

    /// The server's configuration (its data folder and ports).
    pub fn server_config(&self) -> ServerConfig {
        let mut config = ServerConfig::new(self.server_data.clone());
        config.ports = PortPlan::Offset(self.port_offset);
        config.demo = true;
        config
    }

    /// Stops the web server that serves the app (the server keeps running):
    /// only the service worker's cache can open the app now.
    pub async fn stop_web(&self) {
        self.web.lock().await.stop().await;
    }

    /// Starts the web server again, on the same address.
    pub async fn start_web(&self) -> anyhow::Result<()> {
        self.web.lock().await.restart().await
    }

    /// Stops the server (every connection drops; its data stays).
    pub async fn stop_server(&self) {
        if let Some(server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
    }

    /// Starts the server again on the same data and ports.
    pub async fn start_server(&self) -> anyhow::Result<()> {
        self.start_server_with(|_| {}).await
    }

    /// Stops the server and starts it again on the same data and ports with
    /// `change` made to its configuration (a shorter heartbeat, say).
    pub async fn restart_server_with(
        &self,
        change: impl FnOnce(&mut ServerConfig),
    ) -> anyhow::Result<()> {
        self.stop_server().await;
        self.start_server_with(change).await
    }

    async fn start_server_with(
        &self,
        change: impl FnOnce(&mut ServerConfig),
    ) -> anyhow::Result<()> {
        let mut slot = self.server.lock().await;
        if slot.is_some() {
            return Ok(());
        }
        let mut config = self.server_config();
        change(&mut config);
        if let Some(tls) = &self.tls {
            enable_server_tls(&mut config, tls)?;
        }
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
async fn start_server_on_free_offset(
    data: &Path,
    tls: Option<&ServerTls>,
) -> anyhow::Result<(RunningServer, u16)> {
    let seed = std::process::id() as u64 ^ now_nanos();
    let mut last_error = None;
    for attempt in 0..40u64 {
        let offset = free_offset_candidate(seed, attempt);
        let mut config = ServerConfig::new(data.join("server"));
        config.ports = PortPlan::Offset(offset);
        config.demo = true;
        if let Some(tls) = tls {
            enable_server_tls(&mut config, tls)?;
        }
        match RunningServer::start(config).await {
            Ok(server) => return Ok((server, offset)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(anyhow::anyhow!(
        "no port offset had every service port free; last error: {last_error:?}"
    ))
}

/// The `attempt`th port offset to try (1 to 998), spread so that parallel
/// tests rarely try the same ones.
fn free_offset_candidate(seed: u64, attempt: u64) -> u16 {
    1 + ((seed.wrapping_mul(31).wrapping_add(attempt * 7919)) % 998) as u16
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
