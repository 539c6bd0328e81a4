//! One headless browser (Chromium or Firefox), with its own profile, driven
//! over WebDriver.

use crate::driver::DriverProcess;
use anyhow::{Context as _, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::time::Duration;

/// How long a wait for something on the page lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// How many times a Firefox session is tried before the test fails: on a busy
/// machine Firefox's first start can outlast geckodriver's patience.
const FIREFOX_TRIES: usize = 3;

/// The browsers the end-to-end tests run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserKind {
    /// Debian's Chromium, through chromedriver (`CHROME_BIN`, `CHROMEDRIVER`).
    Chromium,
    /// Debian's Firefox ESR, through geckodriver (`FIREFOX_BIN`, `GECKODRIVER`).
    Firefox,
}

/// A browser session: its own browser process and profile.
#[derive(Debug)]
pub struct Browser {
    client: Option<Client>,
    // Before the profile, so that a browser stops before its profile folder
    // is removed.
    driver: Option<DriverProcess>,
    _profile: tempfile::TempDir,
    label: String,
}

impl Browser {
    /// Opens a session of `kind`. Chromium sessions share the test's
    /// chromedriver at `shared_driver`, with `extra` arguments after the
    /// usual ones (e.g. the test certificate's key to trust); a Firefox
    /// session starts its own geckodriver, which allows one session per process.
    pub(crate) async fn launch(
        kind: BrowserKind,
        shared_driver: Option<&str>,
        test: &str,
        name: &str,
        extra: &[String],
    ) -> anyhow::Result<Browser> {
        if kind == BrowserKind::Firefox {
            return Browser::launch_firefox(test, name).await;
        }
        let driver_url = shared_driver.context("no chromedriver was started for this test")?;
        let profile = tempfile::tempdir().context("browser profile folder")?;
        let chromium = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--window-size=1280,800",
        ]
        .map(str::to_owned)
        .into();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra.iter().cloned());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": args,
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(driver_url)
            .await
            .context("start a Chromium session through chromedriver")?;
        Ok(Browser {
            client: Some(client),
            driver: None,
            _profile: profile,
            label: format!("{test}-{name}"),
        })
    }

    /// Starts a geckodriver whose temporary profile goes into this browser's
    /// profile folder, and opens a session; a Firefox that does not come up
    /// is tried again with a fresh driver.
    async fn launch_firefox(test: &str, name: &str) -> anyhow::Result<Browser> {
        let profile = tempfile::tempdir().context("browser profile folder")?;
        let mut last_error = None;
        for _ in 0..FIREFOX_TRIES {
            let driver = DriverProcess::start(BrowserKind::Firefox, Some(profile.path())).await?;
            let session = ClientBuilder::new(HttpConnector::new())
                .capabilities(firefox_capabilities())
                .connect(driver.url())
                .await;
            match session {
                Ok(client) => {
                    let browser = Browser {
                        client: Some(client),
                        driver: Some(driver),
                        _profile: profile,
                        label: format!("{test}-{name}-firefox"),
                    };
                    // Headless Firefox opens at 1366 × 768; the tests and their
                    // screenshots expect the 1280 × 800 Chromium is given.
                    browser.resize(1280, 800).await?;
                    return Ok(browser);
                }
                Err(err) => {
                    last_error = Some(err);
                    driver.stop().await;
                }
            }
        }
        Err(anyhow::anyhow!(
            "Firefox did not start through geckodriver in {FIREFOX_TRIES} tries; last error: {last_error:?}"
        ))
    }

    fn client(&self) -> anyhow::Result<&Client> {
        self.client
            .as_ref()
            .context("the browser was already closed")
    }

    /// Loads `url`.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client()?
            .goto(url)
            .await
            .with_context(|| format!("load {url}"))
    }

    /// Waits until the element matching `css` exists, and returns its text.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self.wait_for(css).await?;
        Ok(element.text().await?)
    }

    /// Waits until the element matching `css` shows text containing `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client()?.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return Ok(last);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} did not show {expected:?} within {WAIT:?}; it showed {last:?}")
    }

    /// Types `text` into the input matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element.clear().await?;
        element
            .send_keys(text)
            .await
            .with_context(|| format!("type into {css}"))
    }

    /// Chooses the file at `path` in the file input matching `css`.
    pub async fn upload(&self, css: &str, path: &std::path::Path) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element
            .send_keys(&path.display().to_string())
            .await
            .with_context(|| format!("choose {} in {css}", path.display()))
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element
            .click()
            .await
            .with_context(|| format!("click {css}"))
    }

    /// Types `text` into the field matching `css` (without clearing it) and
    /// presses Enter.
    pub async fn type_and_enter(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element
            .send_keys(&format!("{text}\u{E007}"))
            .await
            .with_context(|| format!("type into {css} and press Enter"))
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client()?.find_all(Locator::Css(css)).await?.len())
    }

    /// Waits until exactly `expected` elements match `css`.
    pub async fn wait_for_count(&self, css: &str, expected: usize) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = 0;
        while tokio::time::Instant::now() < deadline {
            last = self.count(css).await?;
            if last == expected {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} matched {last} elements, not {expected}, within {WAIT:?}")
    }

    /// Waits until the element matching `css` has `attribute` equal to `value`.
    pub async fn wait_for_attribute(
        &self,
        css: &str,
        attribute: &str,
        value: &str,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client()?.find(Locator::Css(css)).await {
                last = element.attr(attribute).await.unwrap_or_default();
                if last.as_deref() == Some(value) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} [{attribute}] was {last:?}, not {value:?}, within {WAIT:?}")
    }

    /// Opens the context menu of the element matching `css`, as a right click does.
    pub async fn right_click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?;
        self.client()?
            .execute(
                "const element = document.querySelector(arguments[0]);
                 const box = element.getBoundingClientRect();
                 element.dispatchEvent(new MouseEvent('contextmenu', {
                     bubbles: true, cancelable: true, button: 2,
                     clientX: box.left + 10, clientY: box.top + 10 }));",
                vec![json!(css)],
            )
            .await
            .with_context(|| format!("right-click {css}"))?;
        Ok(())
    }

    /// How many elements matching `css` contain `text`.
    pub async fn count_with_text(&self, css: &str, text: &str) -> anyhow::Result<usize> {
        let count = self
            .client()?
            .execute(
                "return [...document.querySelectorAll(arguments[0])]
                     .filter(e => e.textContent.includes(arguments[1])).length;",
                vec![json!(css), json!(text)],
            )
            .await?;
        Ok(count.as_u64().unwrap_or_default() as usize)
    }

    /// Waits until exactly `expected` elements matching `css` contain `text`.
    pub async fn wait_for_count_with_text(
        &self,
        css: &str,
        text: &str,
        expected: usize,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = 0;
        while tokio::time::Instant::now() < deadline {
            last = self.count_with_text(css, text).await?;
            if last == expected {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{last} elements {css} held {text:?}, not {expected}, within {WAIT:?}")
    }

    /// The value of `attribute` of the element matching `css` (waiting for it).
    pub async fn attribute(&self, css: &str, attribute: &str) -> anyhow::Result<Option<String>> {
        let element = self.wait_for(css).await?;
        Ok(element.attr(attribute).await?)
    }

    /// Resizes the window, e.g. to a phone's 390 × 844.
    pub async fn resize(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.client()?.set_window_size(width, height).await?;
        Ok(())
    }

    /// Saves a screenshot as `target/e2e-screenshots/<test>-<name>-<what>.png`.
    pub async fn screenshot_as(&self, what: &str) -> anyhow::Result<std::path::PathBuf> {
        let png = self.client()?.screenshot().await?;
        let folder = crate::workspace_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{}-{what}.png", self.label));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Runs an asynchronous script in the page (it calls `arguments[0]` with
    /// its result) and returns the result.
    pub async fn script_async(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client()?.execute_async(script, vec![]).await?)
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client()?.execute(script, vec![]).await?)
    }

    /// Runs a script in the page with `arguments` and returns its result.
    pub async fn script_with(
        &self,
        script: &str,
        arguments: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.client()?.execute(script, arguments).await?)
    }

    /// The tab being driven now.
    pub async fn current_tab(&self) -> anyhow::Result<Tab> {
        Ok(Tab(self.client()?.window().await?))
    }

    /// Opens another tab of this browser (the same profile: the same
    /// storage, so the app in it shares the first tab's database). The first
    /// tab is still the one driven until [`Browser::switch_to`].
    pub async fn open_tab(&self) -> anyhow::Result<Tab> {
        let opened = self.client()?.new_window(true).await?;
        Ok(Tab(opened.handle))
    }

    /// Drives `tab` from now on.
    pub async fn switch_to(&self, tab: &Tab) -> anyhow::Result<()> {
        self.client()?.switch_to_window(tab.0.clone()).await?;
        Ok(())
    }

    /// Makes the browser's network offline (or online again) as Chromium's
    /// DevTools do: `navigator.onLine` changes and the page gets its
    /// `offline` or `online` event. Chromium only (a DevTools command).
    pub async fn set_network_offline(&self, offline: bool) -> anyhow::Result<()> {
        let command = DevTools {
            method: "Network.emulateNetworkConditions",
            params: json!({
                "offline": offline,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            }),
        };
        self.client()?.issue_cmd(command).await.with_context(|| {
            format!(
                "emulate the network going {}",
                if offline { "offline" } else { "online" }
            )
        })?;
        Ok(())
    }

    /// Sends a Chrome DevTools Protocol command to the page and returns its
    /// result (Chromium only), for measurements such as a CPU profile.
    pub async fn devtools(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        self.client()?
            .issue_cmd(DevTools { method, params })
            .await
            .with_context(|| format!("the DevTools command {method}"))
    }

    /// The value of `document.documentElement.lang`.
    pub async fn page_language(&self) -> anyhow::Result<String> {
        let value = self
            .client()?
            .execute("return document.documentElement.lang;", vec![])
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client()?
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("wait for {css}"))
    }

    /// Saves a screenshot to `target/e2e-screenshots/<test>-<name>.png` and
    /// returns its path.
    pub async fn screenshot(&self) -> anyhow::Result<std::path::PathBuf> {
        let png = self.client()?.screenshot().await?;
        let folder = crate::workspace_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{}.png", self.label));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session. If `outcome` is a failure, a screenshot is saved first
    /// and its path added to the error.
    pub async fn finish(mut self, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let outcome = match outcome {
            Ok(()) => Ok(()),
            Err(err) => match self.screenshot().await {
                Ok(path) => Err(err.context(format!("screenshot: {}", path.display()))),
                Err(_) => Err(err),
            },
        };
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        if let Some(driver) = self.driver.take() {
            driver.stop().await;
        }
        outcome
    }
}

/// One tab of a [`Browser`].
#[derive(Debug, Clone)]
pub struct Tab(fantoccini::wd::WindowHandle);

/// Firefox's counterpart of the Chromium flags in [`Browser::launch`]:
/// headless, a fake camera and microphone without a permission prompt, no
/// HTTP/3. geckodriver adds its own automation preferences (no updates, no
/// first-run pages).
fn firefox_capabilities() -> serde_json::Map<String, serde_json::Value> {
    let firefox = std::env::var("FIREFOX_BIN").unwrap_or_else(|_| "/usr/bin/firefox-esr".into());
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("firefox"));
    capabilities.insert(
        "moz:firefoxOptions".into(),
        json!({
            "binary": firefox,
            "args": ["-headless"],
            "prefs": {
                "media.navigator.streams.fake": true,
                "media.navigator.permission.disabled": true,
                "network.http.http3.enable": false,
            },
            "log": { "level": "error" },
        }),
    );
    capabilities
}

/// A Chrome DevTools Protocol command, through chromedriver's
/// `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.method, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}
