//! Images through the real UI and server: picked from disk, shown at once
//! from the outbox, stored, fetched by the other side with a file ticket, viewed
//! full size; a file that is not an image or is too large is refused with a
//! reason.

use penpen_e2e::Harness;
use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, screenshots};

/// A 160 × 120 PNG (a sun over a field): a real image the browser decodes.
const PNG: &[u8] = include_bytes!("../../fixtures/photo.png");

/// Whether the image in the last bubble matching `css` has loaded.
const LOADED: &str = "const imgs = [...document.querySelectorAll(arguments[0])];
     const img = imgs[imgs.length - 1];
     return !!img && img.complete && img.naturalWidth > 0;";

async fn wait_loaded(browser: &penpen_e2e::Browser, css: &str) -> anyhow::Result<()> {
    let script = LOADED.replace("arguments[0]", &format!("{css:?}"));
    for _ in 0..100 {
        if browser.script(&script).await? == serde_json::json!(true) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    anyhow::bail!("{css} did not load an image within 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_sent_shown_on_both_sides_and_viewed() -> anyhow::Result<()> {
    Harness::run("images", |harness| async move {
        let files = tempfile::tempdir()?;
        let photo = files.path().join("photo.png");
        std::fs::write(&photo, PNG)?;
        let notes = files.path().join("notes.txt");
        std::fs::write(&notes, "not an image")?;
        let huge = files.path().join("huge.png");
        let mut big = PNG.to_vec();
        big.resize(6 * 1024 * 1024, 0);
        std::fs::write(&huge, big)?;

        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;

            // Refused here, with the reason, before anything is queued.
            wang.upload("#image-input", &notes).await?;
            wang.wait_for_text("#attach-error", "只能发送 JPEG、PNG、GIF 或 WebP 图片")
                .await?;
            wang.upload("#image-input", &huge).await?;
            wang.wait_for_text("#attach-error", "图片不能超过 5 MB").await?;

            wang.upload("#image-input", &photo).await?;
            wang.wait_for_count("#attach-error", 0).await?;
            // Stored: the bubble now shows the server's copy.
            wang.wait_for_count("#chat .message[data-id] .image-thumb img", 1)
                .await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;
            wait_loaded(&wang, "#chat .message[data-id] .image-thumb img").await?;

            // The other side fetches it with a file ticket of its own session,
            // never with the session token in the URL.
            zhang.wait_for_text(&format!("{} .conversation__preview", penpen_e2e::app::row(WANG)), "[图片]")
                .await?;
            open_chat(&zhang, WANG).await?;
            wait_loaded(&zhang, "#chat .image-thumb img").await?;
            let src = zhang
                .attribute("#chat .image-thumb img", "src")
                .await?
                .unwrap_or_default();
            anyhow::ensure!(
                src.contains("/files/") && src.contains("?ticket=") && !src.contains("token"),
                "the image URL carries a file ticket, not the token: {src}"
            );
            screenshots(&zhang, "image-in-chat").await?;
            zhang.click("#chat .image-thumb").await?;
            zhang.wait_for_count("#image-viewer img", 1).await?;
            screenshots(&zhang, "image-viewer").await?;
            zhang
                .script("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' })); return true;")
                .await?;
            zhang.wait_for_count("#image-viewer", 0).await?;
            // Click to close, too.
            zhang.click("#chat .image-thumb").await?;
            zhang.click("#image-viewer").await?;
            zhang.wait_for_count("#image-viewer", 0).await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
