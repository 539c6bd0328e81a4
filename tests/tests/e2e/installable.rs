//! The installed app opens without the network: its service worker keeps the
//! page and its assets, the cache keeps the messages. With the web server
//! and the server both down, a reload shows the conversations and queues
//! what is written; everything goes out once they are back.

use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, row, send};
use penpen_e2e::{Browser, Harness, WAIT};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_opens_from_its_own_cache_when_the_web_server_is_down() -> anyhow::Result<()> {
    Harness::run("offline_app", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            wang.wait_for_count(&row(ZHANG), 1).await?;
            wait_for_kept_release(&wang).await?;
            let manifest = wang
                .script("const link = document.querySelector('link[rel=manifest]'); return link && link.href;")
                .await?;
            anyhow::ensure!(
                manifest.as_str().is_some_and(|m| m.ends_with("/manifest.webmanifest")),
                "the page names no manifest: {manifest}"
            );

            harness.stop_web().await;
            harness.stop_server().await;
            wang.goto(&harness.app_url).await?;
            wang.wait_for_text("#me-name", "王建国").await?;
            wang.wait_for_count(&row(ZHANG), 1).await?;
            open_chat(&wang, ZHANG).await?;
            wang.wait_for_count_with_text("#chat .message", "张伟，新版本的进度怎么样了？", 1)
                .await?;
            send(&wang, "网页服务器停了也能打开").await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 1)
                .await?;
            let cached = cached_urls(&wang).await?;
            anyhow::ensure!(
                !cached.iter().any(|u| u.contains("token=") || u.contains("ticket=")),
                "a URL with a credential was cached: {cached:?}"
            );

            harness.start_server().await?;
            harness.start_web().await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "网页服务器停了也能打开", 1)
                .await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

/// Waits until the service worker controls the page and has kept the
/// current release (the page and every hashed asset it names).
async fn wait_for_kept_release(browser: &Browser) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = serde_json::Value::Null;
    while tokio::time::Instant::now() < deadline {
        last = browser
            .script_async(
                "const done = arguments[arguments.length - 1];
                 (async () => {
                     const registration = await navigator.serviceWorker.ready;
                     const page = new URL('./', registration.scope).href;
                     for (const key of await caches.keys()) {
                         if (key.startsWith('penpen-release-')
                             && await (await caches.open(key)).match(page)) {
                             return true;
                         }
                     }
                     return 'no release kept yet: ' + (await caches.keys()).join(', ');
                 })().then(done, err => done('error: ' + err));",
            )
            .await?;
        if last == serde_json::Value::Bool(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the service worker kept no release within {WAIT:?}: {last}")
}

/// Every URL in the app's caches.
async fn cached_urls(browser: &Browser) -> anyhow::Result<Vec<String>> {
    let urls = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             (async () => {
                 const urls = [];
                 for (const key of await caches.keys()) {
                     for (const request of await (await caches.open(key)).keys()) {
                         urls.push(request.url);
                     }
                 }
                 return urls;
             })().then(done, err => done(['error: ' + err]));",
        )
        .await?;
    Ok(serde_json::from_value(urls)?)
}
