//! The WebDriver servers the browsers are driven through: Debian's
//! chromedriver for Chromium, geckodriver (built from crates.io by
//! `scripts/setup.sh`) for Firefox.
//!
//! chromedriver holds any number of sessions, so a test starts one and every
//! Chromium shares it. geckodriver holds one session per process, so every
//! Firefox gets its own geckodriver, whose temporary profile lives in that
//! browser's profile folder.

use crate::BrowserKind;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a freshly spawned driver may take to listen on its port.
const LISTEN_WAIT: Duration = Duration::from_secs(20);

/// One running chromedriver or geckodriver, stopped when dropped (together
/// with the browser it started, if any).
#[derive(Debug)]
pub(crate) struct DriverProcess {
    child: Child,
    url: String,
    /// The driver's and its browser's `TMPDIR`. A browser killed with
    /// SIGKILL never removes its `scoped_dir` folders; here they go with
    /// this folder instead of piling up in /tmp run after run. Declared after
    /// `child`, so it is removed once the processes are gone.
    _temporary: tempfile::TempDir,
}

impl DriverProcess {
    /// Starts the driver of `kind` on a free port and waits until it listens.
    /// A port found free can be taken before the driver binds it, so a driver
    /// that exits early is started again on another port.
    /// `profile_root` is where geckodriver creates its temporary profile.
    pub(crate) async fn start(
        kind: BrowserKind,
        profile_root: Option<&Path>,
    ) -> anyhow::Result<DriverProcess> {
        let binary = binary(kind);
        let mut last_error = None;
        for _ in 0..3 {
            let port = crate::free_port().await?;
            let temporary = tempfile::tempdir().context("a temporary folder for the driver")?;
            let mut command = Command::new(&binary);
            command.env("TMPDIR", temporary.path());
            match kind {
                BrowserKind::Chromium => {
                    command
                        .arg(format!("--port={port}"))
                        .arg("--allowed-ips=127.0.0.1");
                }
                BrowserKind::Firefox => {
                    command
                        .arg("--port")
                        .arg(port.to_string())
                        .arg("--host")
                        .arg("127.0.0.1")
                        .arg("--log")
                        .arg("error");
                    if let Some(root) = profile_root {
                        command.arg("--profile-root").arg(root);
                    }
                }
            }
            let child = command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| {
                    format!("cannot start {}; {}", binary.display(), install_hint(kind))
                })?;
            let mut driver = DriverProcess {
                child,
                url: format!("http://127.0.0.1:{port}"),
                _temporary: temporary,
            };
            match driver.wait_until_listening(port).await {
                Ok(()) => return Ok(driver),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("no attempt was made"))
            .context(format!("{} did not start", binary.display())))
    }

    async fn wait_until_listening(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + LISTEN_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("it exited with {status} before listening on port {port}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("it did not listen on port {port} within {LISTEN_WAIT:?}")
    }

    /// The WebDriver URL to connect sessions to.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Stops the driver and whatever browser it still runs.
    pub(crate) async fn stop(mut self) {
        kill_children(&self.child);
        let _ = self.child.kill().await;
    }
}

impl Drop for DriverProcess {
    // A test that panics drops its browsers without closing their sessions.
    // Killing only the driver would leave its browser running without a
    // parent, so the browser goes first (its own helper processes follow it).
    fn drop(&mut self) {
        kill_children(&self.child);
    }
}

/// Sends SIGKILL to the direct children of `child` (the browser a driver
/// started). /proc lists children per thread, and geckodriver starts Firefox
/// from a worker thread, so every thread is read. The workspace forbids
/// `unsafe`, so the signal goes through kill(1).
fn kill_children(child: &Child) {
    let Some(pid) = child.id() else { return };
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    let mut pids = Vec::new();
    for thread in threads.flatten() {
        if let Ok(children) = std::fs::read_to_string(thread.path().join("children")) {
            pids.extend(children.split_whitespace().map(str::to_owned));
        }
    }
    if pids.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .args(&pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The driver binary: `CHROMEDRIVER` / `GECKODRIVER` when set (the variables
/// wasm-bindgen-test-runner reads too), else where setup.sh installs it.
fn binary(kind: BrowserKind) -> PathBuf {
    match kind {
        BrowserKind::Chromium => std::env::var_os("CHROMEDRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver")),
        BrowserKind::Firefox => std::env::var_os("GECKODRIVER")
            .map(PathBuf::from)
            .or_else(|| {
                let installed =
                    PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/geckodriver");
                installed.is_file().then_some(installed)
            })
            .unwrap_or_else(|| PathBuf::from("geckodriver")),
    }
}

fn install_hint(kind: BrowserKind) -> &'static str {
    match kind {
        BrowserKind::Chromium => "install chromium-driver (scripts/setup.sh does)",
        BrowserKind::Firefox => {
            "install geckodriver with `cargo install geckodriver --locked` (scripts/setup.sh does) or set GECKODRIVER"
        }
    }
}
