//! Measures the web client's budgets in headless Chromium against a server
//! holding the data (not part of the test command; run `scripts/budgets.sh`):
//!
//! - navigation to the conversation list rendered from the cache, with
//!   50,000 messages cached (the server is stopped, so only the cache answers);
//! - opening a conversation that holds 10,000 messages;
//! - the most message elements in the DOM while scrolling that conversation;
//! - searching all 50,000 cached messages (the first search also builds the
//!   index from IndexedDB).

#![allow(clippy::print_stdout)]

use anyhow::Context as _;
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::{Peer, UserId};
use penpen_e2e::{Browser, Harness};
use penpen_server_mock::store::Store;
use penpen_server_mock::store::queries::{self, NewMessage};
use std::time::{Duration, Instant};

const READER: &str = "13800000001";
const BIG_CONVERSATION: &str = "13800000003";
const TOTAL: usize = 50_000;
const IN_BIG: usize = 10_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    Harness::run("budgets", |harness| async move {
        harness.stop_server().await;
        let seeded = Instant::now();
        seed(&harness.server_config().database_path()).await?;
        println!(
            "seeded {TOTAL} messages for {READER} ({IN_BIG} with {BIG_CONVERSATION}) in {:.1} s",
            seeded.elapsed().as_secs_f64()
        );
        harness.start_server().await?;
        let browser = harness.open_app("reader").await?;
        let outcome = measure(&browser, &harness).await;
        browser.finish(outcome).await
    })
    .await
}

/// 50,000 messages to the reader: 10,000 in one conversation, the rest
/// spread over everyone else in the demo company.
async fn seed(database: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::open(database).context("open the database")?;
    store
        .write(|conn| {
            let reader = UserId::parse(READER).map_err(|e| refused(e.to_string()))?;
            let big = UserId::parse(BIG_CONVERSATION).map_err(|e| refused(e.to_string()))?;
            let others: Vec<UserId> = (2..=24)
                .map(|n| format!("138000000{n:02}"))
                .filter(|id| id != BIG_CONVERSATION)
                .filter_map(|id| UserId::parse(&id).ok())
                .collect();
            let start = penpen_server_mock::context::now_ms() - TOTAL as i64 * 1_000;
            for n in 0..TOTAL {
                let other = if n % (TOTAL / IN_BIG) == 0 {
                    big.clone()
                } else {
                    others[n % others.len()].clone()
                };
                // Both directions, like a real conversation.
                let (from, to) = if n % 3 == 0 {
                    (reader.clone(), other.clone())
                } else {
                    (other.clone(), reader.clone())
                };
                let message = NewMessage {
                    sender: Sender::User(from.clone()),
                    to: Peer::User(to),
                    kind: MessageType::Text,
                    content: format!("第 {n} 条消息：周报已经提交，请查收 📎"),
                    duration: None,
                    cid: None,
                    ts: start + n as i64 * 1_000,
                };
                queries::store_message(conn, &message, &[reader.clone(), other])?;
            }
            Ok(())
        })
        .await
        .context("store the messages")?;
    store.close();
    Ok(())
}

fn refused(reason: String) -> penpen_server_mock::store::StoreError {
    penpen_server_mock::store::StoreError::Database(reason)
}

async fn measure(browser: &Browser, harness: &penpen_e2e::HarnessRef) -> anyhow::Result<()> {
    browser.type_into("#login-account", READER).await?;
    browser.type_into("#login-password", "penpen2026").await?;
    let synced = Instant::now();
    browser.click("#login-submit").await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while browser
        .attribute("#connection", "data-synced")
        .await?
        .as_deref()
        != Some("true")
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "catch-up did not finish in 600 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "first sync of {TOTAL} messages into IndexedDB: {:.1} s",
        synced.elapsed().as_secs_f64()
    );

    // Only the cache can answer now.
    harness.stop_server().await;
    let mut list_ms = Vec::new();
    for _ in 0..5 {
        browser.goto(&harness.app_url).await?;
        let at = browser
            .script_async(
                "const done = arguments[0];
                 const ready = () => document.querySelector('#conversation-list .conversation');
                 const finish = () => requestAnimationFrame(() => done(performance.now()));
                 if (ready()) { finish(); return; }
                 new MutationObserver((_, observer) => {
                     if (ready()) { observer.disconnect(); finish(); }
                 }).observe(document.body, { childList: true, subtree: true });",
            )
            .await?;
        list_ms.push(at.as_f64().unwrap_or(f64::NAN));
    }
    report(
        "navigation to the conversation list, from cache",
        &list_ms,
        1_000.0,
    );

    let mut open_ms = Vec::new();
    for _ in 0..5 {
        let took = browser
            .script_async(&format!(
                "const done = arguments[0];
                 const row = document.querySelector('.conversation[data-peer=\"{BIG_CONVERSATION}\"]');
                 const start = performance.now();
                 const ready = () => document.querySelector('#chat[data-peer=\"{BIG_CONVERSATION}\"] .message');
                 const finish = () => requestAnimationFrame(() => done(performance.now() - start));
                 new MutationObserver((_, observer) => {{
                     if (ready()) {{ observer.disconnect(); finish(); }}
                 }}).observe(document.body, {{ childList: true, subtree: true }});
                 (row.querySelector('.conversation__open') || row).click();"
            ))
            .await?;
        open_ms.push(took.as_f64().unwrap_or(f64::NAN));
        // Back to the list for the next try.
        browser.goto(&harness.app_url).await?;
        browser
            .script_async(
                "const done = arguments[0];
                 const poll = () => document.querySelector('#conversation-list .conversation')
                     ? done(true) : setTimeout(poll, 20);
                 poll();",
            )
            .await?;
    }
    report(
        &format!("opening the conversation of {IN_BIG} messages"),
        &open_ms,
        200.0,
    );

    // Scroll up through the history, counting message elements.
    browser
        .click(&format!(".conversation[data-peer=\"{BIG_CONVERSATION}\"]"))
        .await?;
    let scrolled = browser
        .script_async(
            "const done = arguments[0];
             let most = 0, seen = new Set(), rounds = 0;
             const step = () => {
                 const scroller = document.querySelector('#chat .chat__messages');
                 if (!scroller) { setTimeout(step, 50); return; }
                 const messages = document.querySelectorAll('#chat .message');
                 most = Math.max(most, messages.length);
                 messages.forEach(m => seen.add(m.dataset.id || m.dataset.cid));
                 if (rounds++ >= 60) { done([most, seen.size]); return; }
                 scroller.scrollTop = 0;
                 scroller.dispatchEvent(new Event('scroll'));
                 setTimeout(step, 150);
             };
             setTimeout(step, 300);",
        )
        .await?;
    let most = scrolled.get(0).and_then(|v| v.as_u64()).unwrap_or(0);
    let seen = scrolled.get(1).and_then(|v| v.as_u64()).unwrap_or(0);
    println!(
        "scrolling up 60 times: at most {most} message elements in the DOM (budget 150), {seen} distinct messages shown"
    );
    measure_search(browser, harness).await
}

/// Searches the cached messages with the server stopped: the first search
/// builds the index, the others only search it.
async fn measure_search(browser: &Browser, harness: &penpen_e2e::HarnessRef) -> anyhow::Result<()> {
    browser.goto(&harness.app_url).await?;
    browser.click("#search-messages").await?;
    let mut search_ms = Vec::new();
    let mut typed_ms = Vec::new();
    let queries = [
        "周报",
        "第 4999 条",
        "查收",
        "📎",
        "REPORT",
        "没有这个词",
        "条消息",
    ];
    for (n, query) in queries.iter().enumerate() {
        let measured = browser
            .script_async(&format!(
                "const done = arguments[0];
                 const want = {query:?};
                 const input = document.querySelector('#search-input');
                 const start = performance.now();
                 input.value = want;
                 input.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 const poll = () => {{
                     const summary = document.querySelector('#search-summary');
                     if (summary && summary.dataset.query === want) {{
                         requestAnimationFrame(() => done([performance.now() - start,
                             parseFloat(summary.dataset.ms), parseInt(summary.dataset.total)]));
                     }} else {{ setTimeout(poll, 1); }}
                 }};
                 poll();"
            ))
            .await?;
        let typed = measured.get(0).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        let searched = measured.get(1).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        let total = measured.get(2).and_then(|v| v.as_u64()).unwrap_or(0);
        if n == 0 {
            println!(
                "first search, building the index from {TOTAL} cached messages: {typed:.0} ms to the results on screen ({total} hits)"
            );
        } else {
            println!(
                "search {query:?}: {searched:.1} ms in the index, {typed:.0} ms to the results on screen ({total} hits)"
            );
            search_ms.push(searched);
            typed_ms.push(typed);
        }
    }
    report(
        "searching 50,000 cached messages, in the index",
        &search_ms,
        100.0,
    );
    report(
        "searching 50,000 cached messages, keystroke to results on screen",
        &typed_ms,
        100.0,
    );
    Ok(())
}

fn report(what: &str, samples: &[f64], budget: f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    let worst = sorted.last().copied().unwrap_or(f64::NAN);
    println!(
        "{what}: median {median:.0} ms, worst {worst:.0} ms over {} runs (budget {budget:.0} ms)",
        samples.len()
    );
}
