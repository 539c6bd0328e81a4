//! Measures the web client's budgets in headless Chromium against a server
//! holding the data (not part of the test command; run `scripts/budgets.sh`):
//!
//! - the first sync of 50,000 messages into IndexedDB, next to a bare
//!   IndexedDB insert of the same 50,000 records in the same browser (same
//!   stores, indexes and record shape, one transaction per catch-up page), as
//!   a multiple of it;
//! - navigation to the conversation list rendered from the cache, with
//!   50,000 messages cached (the server is stopped, so only the cache answers);
//! - opening a conversation that holds 10,000 messages;
//! - the most message elements in the DOM while scrolling that conversation;
//! - searching all 50,000 cached messages (the first search also builds the
//!   index from IndexedDB);
//! - catching up after being away while 10,000 messages arrived: the app is
//!   opened again and the time runs until they are stored and shown.
//!
//! Every figure is printed next to its budget; the tool exits with an error
//! when any budget is missed, so `scripts/budgets.sh` fails.

#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::sync::CATCH_UP_PAGE;
use penpen_core::{Peer, UserId};
use penpen_e2e::{Browser, Harness};
use penpen_server_mock::store::Store;
use penpen_server_mock::store::queries::{self, NewMessage};
use std::ops::Range;
use std::time::{Duration, Instant};

const READER: &str = "13800000001";
const BIG_CONVERSATION: &str = "13800000003";
const TOTAL: usize = 50_000;
const IN_BIG: usize = 10_000;
/// Messages stored for the reader while its device was away.
const WHILE_AWAY: usize = 10_000;

/// Time to the conversation list rendered from 50,000 cached messages.
const LIST_FROM_CACHE_MS: f64 = 500.0;
/// Time to open the conversation of 10,000 messages.
const OPEN_BIG_MS: f64 = 100.0;
/// Message elements in the DOM while scrolling that conversation.
const MOST_MESSAGE_ELEMENTS: f64 = 150.0;
/// A search of the 50,000 cached messages, in the index and to the screen.
const SEARCH_MS: f64 = 100.0;
/// The first sync of 50,000 messages, in seconds.
const FIRST_SYNC_S: f64 = 8.0;
/// The first sync as a multiple of the bare IndexedDB insert.
const FIRST_SYNC_TIMES_BARE: f64 = 2.0;
/// Catching up 10,000 messages after being away, in seconds.
const CATCH_UP_S: f64 = 2.0;
/// How long a sync may take before the tool gives up.
const SYNC_DEADLINE: Duration = Duration::from_secs(600);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    Harness::run("budgets", |harness| async move {
        harness.stop_server().await;
        let seeded = Instant::now();
        let database = harness.server_config().database_path();
        let start = penpen_server_mock::context::now_ms() - TOTAL as i64 * 1_000;
        seed(&database, 0..TOTAL, start, 1_000).await?;
        println!(
            "seeded {TOTAL} messages for {READER} ({IN_BIG} with {BIG_CONVERSATION}) in {:.1} s",
            seeded.elapsed().as_secs_f64()
        );
        harness.start_server().await?;
        let browser = harness.open_app("reader").await?;
        let mut budgets = Budgets::default();
        let outcome = measure(&browser, &harness, &mut budgets).await;
        let outcome = outcome.and_then(|()| budgets.verdict());
        browser.finish(outcome).await
    })
    .await
}

/// Stores the messages numbered `numbers` to the reader, `step_ms` apart from
/// `first_ts` on: one in five with one conversation (10,000 of the first
/// 50,000), the rest spread over everyone else in the demo company.
async fn seed(
    database: &std::path::Path,
    numbers: Range<usize>,
    first_ts: i64,
    step_ms: i64,
) -> anyhow::Result<()> {
    let store = Store::open(database).context("open the database")?;
    store
        .write(move |conn| {
            let reader = UserId::parse(READER).map_err(|e| refused(e.to_string()))?;
            let big = UserId::parse(BIG_CONVERSATION).map_err(|e| refused(e.to_string()))?;
            let others: Vec<UserId> = (2..=24)
                .map(|n| format!("138000000{n:02}"))
                .filter(|id| id != BIG_CONVERSATION)
                .filter_map(|id| UserId::parse(&id).ok())
                .collect();
            let first = numbers.start;
            for n in numbers {
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
                    file: None,
                    sender: Sender::User(from.clone()),
                    to: Peer::User(to),
                    kind: MessageType::Text,
                    content: message_text(n),
                    duration: None,
                    cid: None,
                    ts: first_ts + (n - first) as i64 * step_ms,
                    mentions: None,
                    mention_all: false,
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

/// The text of message number `n`.
fn message_text(n: usize) -> String {
    format!("第 {n} 条消息：周报已经提交，请查收 📎")
}

fn refused(reason: String) -> penpen_server_mock::store::StoreError {
    penpen_server_mock::store::StoreError::Database(reason)
}

async fn measure(
    browser: &Browser,
    harness: &penpen_e2e::HarnessRef,
    budgets: &mut Budgets,
) -> anyhow::Result<()> {
    browser.type_into("#login-account", READER).await?;
    browser.type_into("#login-password", "penpen2026").await?;
    // Timed in the page, from the click to the app saying it caught up.
    browser
        .script(&format!(
            "{WATCH_SYNCED}
             window.__firstSync = {{ start: performance.now() }};
             watchSynced(window.__firstSync, null);
             document.querySelector('#login-submit').click();"
        ))
        .await?;
    let seen = wait_for_page_value(browser, "window.__firstSync.synced", SYNC_DEADLINE)
        .await
        .context("the first sync")?;
    let start = page_number(browser, "window.__firstSync.start").await?;
    let first_sync_s = (seen - start) / 1_000.0;
    // The demo company's own history comes on top of the seeded messages.
    let stored = stored_messages(browser).await?;
    println!("first sync stored {stored} messages ({TOTAL} seeded, the rest the demo's)");
    anyhow::ensure!(
        stored >= TOTAL as u64,
        "after the first sync IndexedDB holds {stored} messages, expected at least {TOTAL}"
    );
    budgets.at_most(
        &format!("first sync of {TOTAL} messages into IndexedDB, to the list on screen"),
        first_sync_s,
        FIRST_SYNC_S,
        "s",
    );

    let bare = bare_insert(browser).await?;
    println!(
        "bare IndexedDB insert of the same {} records: {:.1} s in transactions of \
         {CATCH_UP_PAGE} (one per catch-up page, the faster of two runs), {:.1} s in one \
         transaction",
        bare.records,
        bare.per_page_ms / 1_000.0,
        bare.single_ms / 1_000.0
    );
    budgets.at_most(
        &format!(
            "first sync as a multiple of the bare insert in transactions of {CATCH_UP_PAGE} \
             ({first_sync_s:.1} s / {:.1} s)",
            bare.per_page_ms / 1_000.0
        ),
        first_sync_s * 1_000.0 / bare.per_page_ms,
        FIRST_SYNC_TIMES_BARE,
        "×",
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
    budgets.median_at_most(
        &format!("navigation to the conversation list, from {TOTAL} cached messages"),
        &list_ms,
        LIST_FROM_CACHE_MS,
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
    budgets.median_at_most(
        &format!("opening the conversation of {IN_BIG} messages"),
        &open_ms,
        OPEN_BIG_MS,
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
    budgets.at_most(
        &format!("scrolling up 60 times ({seen} distinct messages shown), the most message elements in the DOM"),
        most as f64,
        MOST_MESSAGE_ELEMENTS,
        "elements",
    );
    measure_search(browser, harness, budgets).await?;
    measure_catch_up(browser, harness, budgets, &bare).await
}

/// Defines `watchSynced(seen, newest)`: records in `seen.synced` the page's
/// clock when the connection indicator first says caught up (and, with
/// `newest`, the conversation list shows that text), in `seen.list` when
/// the list first has a row, and in `seen.connected` when the connection
/// first says connected.
const WATCH_SYNCED: &str = "
    const watchSynced = (seen, newest) => {
        const check = () => {
            const at = performance.now();
            const connection = document.querySelector('#connection');
            const list = document.querySelector('#conversation-list');
            if (seen.list === undefined && list && list.querySelector('.conversation')) {
                seen.list = at;
            }
            if (seen.connected === undefined && connection
                && connection.dataset.state === 'connected') {
                seen.connected = at;
            }
            if (seen.synced === undefined && connection && connection.dataset.synced === 'true'
                && (newest === null || (list && list.textContent.includes(newest)))) {
                seen.synced = at;
            }
            return seen.synced !== undefined;
        };
        if (check()) { seen.already = true; return; }
        new MutationObserver((_, observer) => { if (check()) observer.disconnect(); })
            .observe(document.documentElement,
                { childList: true, subtree: true, attributes: true, characterData: true });
    };";

/// Polls `expression` in the page until it is a number, and returns it.
async fn wait_for_page_value(
    browser: &Browser,
    expression: &str,
    deadline: Duration,
) -> anyhow::Result<f64> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = page_number_or_none(browser, expression).await? {
            return Ok(value);
        }
        if Instant::now() >= until {
            bail!("{expression} was not set within {} s", deadline.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_number_or_none(browser: &Browser, expression: &str) -> anyhow::Result<Option<f64>> {
    let value = browser
        .script(&format!(
            "try {{ const v = {expression}; return typeof v === 'number' ? v : null; }} \
             catch (e) {{ return null; }}"
        ))
        .await?;
    Ok(value.as_f64())
}

async fn page_number(browser: &Browser, expression: &str) -> anyhow::Result<f64> {
    page_number_or_none(browser, expression)
        .await?
        .with_context(|| format!("{expression} is not a number in the page"))
}

/// Finds the app's database in the page, for scripts that read it:
/// defines `request(r)` (a promise of an IndexedDB request) and
/// `appDatabase()` (the app's database of the reader, opened).
const APP_DATABASE: &str = "
    const request = r => new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
    });
    const appDatabase = async () => {
        const names = (await indexedDB.databases()).map(d => d.name);
        const name = names.find(n => n.startsWith('penpen-') && n.endsWith('-READER'));
        if (!name) { throw new Error('no database of the reader among ' + names.join(', ')); }
        return request(indexedDB.open(name));
    };";

/// How many messages the app's IndexedDB holds.
async fn stored_messages(browser: &Browser) -> anyhow::Result<u64> {
    let counted = browser
        .script_async(&format!(
            "const done = arguments[0];
             {}
             appDatabase()
                 .then(db => request(db.transaction('messages').objectStore('messages').count())
                     .finally(() => db.close()))
                 .then(done, e => done('error: ' + e));",
            APP_DATABASE.replace("READER", READER)
        ))
        .await?;
    counted
        .as_u64()
        .with_context(|| format!("counting the cached messages: {counted}"))
}

/// The bare IndexedDB insert, in milliseconds.
#[derive(Debug)]
struct BareInsert {
    /// The records: every message the app stored.
    records: u64,
    /// In one transaction per catch-up page, each awaited before the next
    /// (as the app writes a page); the faster of two runs.
    per_page_ms: f64,
    /// All in one transaction (the best the browser can do).
    single_ms: f64,
}

/// Inserts the records the app stored, read back from its database, into a
/// fresh database with the app's schema: no network, no JSON, no app.
async fn bare_insert(browser: &Browser) -> anyhow::Result<BareInsert> {
    browser
        .script(&format!(
            "{}
             const finished = tx => new Promise((resolve, reject) => {{
                 tx.oncomplete = resolve;
                 tx.onabort = () => reject(tx.error);
             }});
             const fresh = async name => {{
                 await request(indexedDB.deleteDatabase(name));
                 // The schema of web/src/cache/schema.rs.
                 const open = indexedDB.open(name, 2);
                 open.onupgradeneeded = () => {{
                     const db = open.result;
                     db.createObjectStore('meta');
                     db.createObjectStore('messages', {{ keyPath: 'id' }})
                         .createIndex('timeline', ['conv', 'id']);
                     db.createObjectStore('outbox', {{ keyPath: 'cid' }});
                     db.createObjectStore('conversations', {{ keyPath: 'peer' }});
                 }};
                 return request(open);
             }};
             const insert = async (records, page) => {{
                 const name = 'penpen-bare-insert';
                 const db = await fresh(name);
                 const start = performance.now();
                 for (let i = 0; i < records.length; i += page) {{
                     const tx = db.transaction('messages', 'readwrite');
                     const store = tx.objectStore('messages');
                     for (let j = i; j < Math.min(i + page, records.length); j++) {{
                         store.put(records[j]);
                     }}
                     await finished(tx);
                 }}
                 const took = performance.now() - start;
                 db.close();
                 await request(indexedDB.deleteDatabase(name));
                 return took;
             }};
             window.__bare = null;
             (async () => {{
                 const app = await appDatabase();
                 const records = await request(
                     app.transaction('messages').objectStore('messages').getAll());
                 app.close();
                 // The faster of two: the machine is shared, and this is the
                 // measure of what it can do at all.
                 const perPage = Math.min(await insert(records, {CATCH_UP_PAGE}),
                     await insert(records, {CATCH_UP_PAGE}));
                 const single = await insert(records, records.length);
                 window.__bare = {{ records: records.length, perPage, single }};
             }})().catch(e => {{ window.__bare = {{ error: String(e) }}; }});",
            APP_DATABASE.replace("READER", READER)
        ))
        .await?;
    let until = Instant::now() + SYNC_DEADLINE;
    loop {
        let bare = browser.script("return window.__bare;").await?;
        if let Some(error) = bare.get("error") {
            bail!("the bare IndexedDB insert failed: {error}");
        }
        if let (Some(records), Some(per_page_ms), Some(single_ms)) = (
            bare.get("records").and_then(|v| v.as_u64()),
            bare.get("perPage").and_then(|v| v.as_f64()),
            bare.get("single").and_then(|v| v.as_f64()),
        ) {
            anyhow::ensure!(
                records >= TOTAL as u64,
                "the bare insert had {records} records, expected at least {TOTAL}"
            );
            return Ok(BareInsert {
                records,
                per_page_ms,
                single_ms,
            });
        }
        anyhow::ensure!(
            Instant::now() < until,
            "the bare IndexedDB insert did not finish in {} s",
            SYNC_DEADLINE.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The device was away (the app closed, the server stopped) while 10,000
/// messages were stored for the reader; the app is opened again, and the
/// time runs from its navigation until the app says it caught up and the
/// conversation list shows the newest of them (the app writes a page to
/// IndexedDB before it shows it, and says caught up only after the last
/// write).
async fn measure_catch_up(
    browser: &Browser,
    harness: &penpen_e2e::HarnessRef,
    budgets: &mut Budgets,
    bare: &BareInsert,
) -> anyhow::Result<()> {
    let before = stored_messages(browser).await?;
    browser.goto("about:blank").await?;
    harness.stop_server().await;
    let arrived = TOTAL..TOTAL + WHILE_AWAY;
    let newest = message_text(arrived.end - 1);
    let newest = newest.split('：').next().unwrap_or_default().to_owned();
    let now = penpen_server_mock::context::now_ms();
    seed(
        &harness.server_config().database_path(),
        arrived,
        now - WHILE_AWAY as i64,
        1,
    )
    .await?;
    harness.start_server().await?;
    browser.goto(&harness.app_url).await?;
    let profiling = std::env::var_os(PROFILE_VARIABLE).is_some();
    if profiling {
        start_profile(browser).await?;
    }
    browser
        .script(&format!(
            "{WATCH_SYNCED}
             window.__catchUp = {{}};
             watchSynced(window.__catchUp, {newest:?});"
        ))
        .await?;
    let synced = wait_for_page_value(browser, "window.__catchUp.synced", SYNC_DEADLINE)
        .await
        .context("the catch-up")?;
    if profiling {
        print_profile(browser, "the catch-up").await?;
    }
    let list = page_number_or_none(browser, "window.__catchUp.list").await?;
    let connected = page_number_or_none(browser, "window.__catchUp.connected").await?;
    let already = browser
        .script("return window.__catchUp.already === true;")
        .await?
        .as_bool()
        .unwrap_or(false);
    let after = stored_messages(browser).await?;
    anyhow::ensure!(
        after == before + WHILE_AWAY as u64,
        "after catching up IndexedDB holds {after} messages, expected {before} + {WHILE_AWAY}"
    );
    let ms = |at: Option<f64>| at.map_or_else(|| "-".to_owned(), |at| format!("{at:.0} ms"));
    println!(
        "catch-up after {WHILE_AWAY} messages arrived while away: list from cache at {}, \
         connected at {}, caught up and shown at {synced:.0} ms after opening the app{}",
        ms(list),
        ms(connected),
        if already {
            " (already when first looked at: an upper bound)"
        } else {
            ""
        }
    );
    budgets.at_most(
        &format!("catch-up of {WHILE_AWAY} messages, from opening the app to stored and shown"),
        synced / 1_000.0,
        CATCH_UP_S,
        "s",
    );
    // For comparison only: the bare insert's time for as many records.
    let bare_share_ms = bare.per_page_ms * WHILE_AWAY as f64 / bare.records as f64;
    println!(
        "catch-up as a multiple of the bare insert of {WHILE_AWAY} records ({:.1} s): {:.2} ×",
        bare_share_ms / 1_000.0,
        synced / bare_share_ms
    );
    Ok(())
}

/// Set (to anything) to print where the page's main thread spent the
/// catch-up: a CPU profile's time by function, idle included.
const PROFILE_VARIABLE: &str = "PENPEN_BUDGETS_PROFILE";

async fn start_profile(browser: &Browser) -> anyhow::Result<()> {
    browser
        .devtools("Profiler.enable", serde_json::json!({}))
        .await?;
    browser
        .devtools(
            "Profiler.setSamplingInterval",
            serde_json::json!({"interval": 200}),
        )
        .await?;
    browser
        .devtools("Profiler.start", serde_json::json!({}))
        .await?;
    Ok(())
}

/// Stops the profile and prints the main thread's time per function (self
/// time, the 25 largest), so a budget's missing milliseconds can be placed.
async fn print_profile(browser: &Browser, what: &str) -> anyhow::Result<()> {
    let stopped = browser
        .devtools("Profiler.stop", serde_json::json!({}))
        .await?;
    let profile = &stopped["profile"];
    let mut names = std::collections::HashMap::new();
    for node in profile["nodes"].as_array().into_iter().flatten() {
        let frame = &node["callFrame"];
        let name = format!(
            "{} {}",
            frame["functionName"].as_str().unwrap_or_default(),
            frame["url"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
        );
        names.insert(node["id"].as_i64().unwrap_or_default(), name);
    }
    let mut spent: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let samples = profile["samples"].as_array().into_iter().flatten();
    let deltas = profile["timeDeltas"].as_array().into_iter().flatten();
    let mut total = 0.0;
    for (sample, delta) in samples.zip(deltas) {
        let ms = delta.as_f64().unwrap_or_default() / 1_000.0;
        total += ms;
        let name = names.get(&sample.as_i64().unwrap_or_default());
        *spent.entry(name.map_or("?", String::as_str)).or_default() += ms;
    }
    let mut spent: Vec<(&str, f64)> = spent.into_iter().collect();
    spent.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("profile of {what}: {total:.0} ms sampled on the page's main thread");
    for (name, ms) in spent.iter().take(25) {
        println!("  {ms:8.1} ms  {:5.1} %  {name}", ms / total * 100.0);
    }
    Ok(())
}

/// Searches the cached messages with the server stopped: the first search
/// builds the index, the others only search it.
async fn measure_search(
    browser: &Browser,
    harness: &penpen_e2e::HarnessRef,
    budgets: &mut Budgets,
) -> anyhow::Result<()> {
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
    budgets.median_at_most(
        &format!("searching {TOTAL} cached messages, in the index"),
        &search_ms,
        SEARCH_MS,
    );
    budgets.median_at_most(
        &format!("searching {TOTAL} cached messages, keystroke to results on screen"),
        &typed_ms,
        SEARCH_MS,
    );
    Ok(())
}

/// The figures measured, each against its budget.
#[derive(Debug, Default)]
struct Budgets {
    missed: Vec<String>,
    checked: usize,
}

impl Budgets {
    /// Prints `figure` next to its budget, and remembers a miss.
    fn at_most(&mut self, what: &str, figure: f64, budget: f64, unit: &str) {
        self.checked += 1;
        let met = figure <= budget;
        let (figure, budget) = match unit {
            "s" | "×" => (format!("{figure:.2} {unit}"), format!("{budget:.1} {unit}")),
            _ => (format!("{figure:.0} {unit}"), format!("{budget:.0} {unit}")),
        };
        println!(
            "{what}: {figure} (budget {budget}): {}",
            if met { "ok" } else { "MISSED" }
        );
        if !met {
            self.missed
                .push(format!("{what}: {figure}, budget {budget}"));
        }
    }

    /// Samples of one measurement: their median is held to the budget.
    fn median_at_most(&mut self, what: &str, samples: &[f64], budget: f64) {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        let worst = sorted.last().copied().unwrap_or(f64::NAN);
        self.at_most(
            &format!(
                "{what} (median of {} runs, worst {worst:.0} ms)",
                samples.len()
            ),
            // A run that measured nothing misses the budget.
            if median.is_nan() {
                f64::INFINITY
            } else {
                median
            },
            budget,
            "ms",
        );
    }

    /// An error naming every missed budget, if any was.
    fn verdict(&self) -> anyhow::Result<()> {
        if self.missed.is_empty() {
            println!("all {} budgets met", self.checked);
            return Ok(());
        }
        bail!(
            "{} of {} budgets missed:\n  {}",
            self.missed.len(),
            self.checked,
            self.missed.join("\n  ")
        )
    }
}
