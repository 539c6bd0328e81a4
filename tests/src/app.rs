//! Steps through the app that every end-to-end test takes: log in, open a
//! conversation, send a message.

use crate::Browser;

/// The demo accounts' password.
pub const PASSWORD: &str = "penpen2026";
/// 王建国, 总经理, may broadcast.
pub const WANG: &str = "13800000001";
/// 张伟, head of 技术部 (group 1).
pub const ZHANG: &str = "13800000003";
/// 陈静, 技术部.
pub const LI: &str = "13800000005";
/// 刘洋, 技术部.
pub const LIU: &str = "13800000004";
/// 技术部's discussion group.
pub const TECH_GROUP: &str = "1";

/// Logs in with `password` and waits for the live connection.
pub async fn log_in_with(browser: &Browser, account: &str, password: &str) -> anyhow::Result<()> {
    browser.type_into("#login-account", account).await?;
    browser.type_into("#login-password", password).await?;
    browser.click("#login-submit").await?;
    browser
        .wait_for_attribute("#connection", "data-state", "connected")
        .await
}

/// Logs in with the demo password.
pub async fn log_in(browser: &Browser, account: &str) -> anyhow::Result<()> {
    log_in_with(browser, account, PASSWORD).await
}

/// The conversation list's row of `peer` (an account or a gid).
pub fn row(peer: &str) -> String {
    format!(".conversation[data-peer=\"{peer}\"]")
}

/// Opens the conversation with `peer` from the list.
pub async fn open_chat(browser: &Browser, peer: &str) -> anyhow::Result<()> {
    browser.click(&row(peer)).await?;
    browser.wait_for_attribute("#chat", "data-peer", peer).await
}

/// Types `text` into the composer and sends it with Enter.
pub async fn send(browser: &Browser, text: &str) -> anyhow::Result<()> {
    browser.type_and_enter("#composer", text).await
}

/// Saves a screenshot of what `browser` shows at a desktop size and at a
/// phone's 390 × 844, as `<what>-desktop` and `<what>-phone`; the window is
/// left at the desktop size.
pub async fn screenshots(browser: &Browser, what: &str) -> anyhow::Result<()> {
    browser.resize(1280, 800).await?;
    browser.screenshot_as(&format!("{what}-desktop")).await?;
    browser.resize(390, 844).await?;
    browser.screenshot_as(&format!("{what}-phone")).await?;
    browser.resize(1280, 800).await
}

/// The names of the app's IndexedDB databases in `browser` (`penpen-…`).
pub async fn local_databases(browser: &Browser) -> anyhow::Result<Vec<String>> {
    let names = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             indexedDB.databases()
                 .then(list => done(list.map(d => d.name).filter(n => n.startsWith('penpen-'))))
                 .catch(e => done(['error: ' + e]));",
        )
        .await?;
    let names: Vec<String> = serde_json::from_value(names)?;
    anyhow::ensure!(
        !names.iter().any(|n| n.starts_with("error: ")),
        "indexedDB.databases() failed: {names:?}"
    );
    Ok(names)
}

/// The session the app remembers in `browser` (localStorage), if any.
pub async fn remembered_session(browser: &Browser) -> anyhow::Result<Option<serde_json::Value>> {
    let json = browser
        .script("return localStorage.getItem('penpen.session');")
        .await?;
    Ok(match json.as_str() {
        Some(text) => Some(serde_json::from_str(text)?),
        None => None,
    })
}

/// Which of `markers` the open chat's messages hold, in the order the chat
/// shows them (a message holding none is left out).
pub async fn markers_in_chat(browser: &Browser, markers: &[&str]) -> anyhow::Result<Vec<String>> {
    let found = browser
        .script_with(
            "const markers = arguments[0];
             return [...document.querySelectorAll('#chat .message')]
                 .map(m => markers.find(k => m.textContent.includes(k)))
                 .filter(k => k !== undefined);",
            vec![serde_json::json!(markers)],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

/// Waits until the open chat shows each of `expected` exactly once and in
/// this order (no other message holds one of them), then checks once more
/// after `settle` that nothing arrived twice late.
pub async fn wait_for_exactly(
    browser: &Browser,
    expected: &[&str],
    settle: std::time::Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + crate::WAIT;
    let mut last = Vec::new();
    while tokio::time::Instant::now() < deadline {
        last = markers_in_chat(browser, expected).await?;
        if last == expected {
            tokio::time::sleep(settle).await;
            let again = markers_in_chat(browser, expected).await?;
            anyhow::ensure!(
                again == expected,
                "the chat showed {expected:?}, then {again:?}"
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "the chat showed {last:?}, not {expected:?} once each in order, within {:?}",
        crate::WAIT
    )
}
