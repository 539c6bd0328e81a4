//! Files of any kind through the real UI and server (§15.6): a PDF sent by
//! one person, downloaded (kept for offline use, byte-identical) and
//! previewed offline by the other, and found by its name; a 50 MB upload cut off by
//! the network and resumed once it is back, arriving once, byte-identical.

use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, row, screenshots};
use penpen_e2e::{Browser, Harness};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// A small but real PDF: one page saying hello, padded with a comment so
/// the upload takes a few chunks.
fn pdf() -> Vec<u8> {
    let mut body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n\
4 0 obj<</Length 44>>stream\nBT /F1 24 Tf 40 70 Td (penpen report) Tj ET\nendstream endobj\n\
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
        .to_vec();
    for line in 0..40_000u32 {
        body.extend_from_slice(format!("% padding line {line:08}\n").as_bytes());
    }
    body.extend_from_slice(b"trailer<</Root 1 0 R>>\n%%EOF\n");
    body
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 of the one file the app keeps in IndexedDB's `downloads`.
async fn downloaded_sha256(browser: &Browser, account: &str) -> anyhow::Result<String> {
    let script = format!(
        "const done = arguments[arguments.length - 1];
        (async () => {{
            const info = (await indexedDB.databases()).find(d => d.name.endsWith('-{account}'));
            const db = await new Promise((ok, no) => {{
                const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
            }});
            const store = db.transaction('downloads').objectStore('downloads');
            const blobs = await new Promise(ok => {{ const r = store.getAll(); r.onsuccess = () => ok(r.result); }});
            db.close();
            if (blobs.length !== 1) return done('downloads holds ' + blobs.length + ' files');
            const hash = await crypto.subtle.digest('SHA-256', await blobs[0].arrayBuffer());
            done([...new Uint8Array(hash)].map(b => b.toString(16).padStart(2, '0')).join(''));
        }})().catch(e => done('error: ' + e));"
    );
    Ok(browser
        .script_async(&script)
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The stored files (not partial uploads) in the server's files folder.
fn stored_files(data: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(data.join("files"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e != "part"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `done` says so about `browser`, for at most `within`.
async fn wait_until(
    browser: &Browser,
    what: &str,
    within: Duration,
    done: impl Fn(&Browser) -> futures_util::future::BoxFuture<'_, anyhow::Result<bool>>,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if done(browser).await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what} did not happen within {within:?}")
}

/// The bytes the server holds of the upload shown in the outbox bubble.
async fn uploaded(browser: &Browser) -> anyhow::Result<u64> {
    Ok(browser
        .attribute("#chat .message[data-cid] .file__progress", "value")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_is_sent_downloaded_byte_identical_previewed_and_found() -> anyhow::Result<()> {
    Harness::run("files_pdf", |harness| async move {
        let folder = tempfile::tempdir()?;
        let report = folder.path().join("季度报告.pdf");
        let pdf = pdf();
        std::fs::write(&report, &pdf)?;

        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            wang.upload("#file-input", &report).await?;
            // Stored: the bubble is the server's, with the name and size.
            wang.wait_for_count("#chat .message[data-id] .file[data-kind=\"pdf\"]", 1)
                .await?;
            wang.wait_for_count("#chat .message[data-cid]", 0).await?;
            wang.wait_for_text("#chat .message[data-id] .file__name", "季度报告.pdf")
                .await?;

            zhang
                .wait_for_text(&format!("{} .conversation__preview", row(WANG)), "[文件]")
                .await?;
            open_chat(&zhang, WANG).await?;
            let card = "#chat .message[data-id] .file";
            // Under a MiB: read in KB, rounded up.
            let kib = pdf.len().div_ceil(1024);
            zhang
                .wait_for_text(&format!("{card} .file__size"), &format!("{kib} KB"))
                .await?;
            zhang.click(&format!("{card} .file__download")).await?;
            zhang
                .wait_for_count(&format!("{card} .file__note[data-saved=\"true\"]"), 1)
                .await?;
            let hash = downloaded_sha256(&zhang, ZHANG).await?;
            anyhow::ensure!(hash == hex_sha256(&pdf), "the download differs: {hash}");

            // Offline now: the preview opens from IndexedDB, not the server.
            zhang.set_network_offline(true).await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "offline")
                .await?;
            zhang.click(&format!("{card} .file__preview")).await?;
            zhang
                .wait_for_count(&format!("{card} iframe.file__frame"), 1)
                .await?;
            let src = zhang
                .attribute(&format!("{card} iframe.file__frame"), "src")
                .await?
                .unwrap_or_default();
            anyhow::ensure!(src.starts_with("blob:"), "the preview is local: {src}");
            zhang.set_network_offline(false).await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            screenshots(&zhang, "file-pdf-preview").await?;

            // Found by its name.
            zhang.click("#chat-search").await?;
            zhang.type_into("#search-input", "季度报告").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            screenshots(&zhang, "file-search").await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_upload_cut_off_by_the_network_resumes_and_arrives_once_byte_identical()
-> anyhow::Result<()> {
    Harness::run("files_resume", |harness| async move {
        let folder = tempfile::tempdir()?;
        let video = folder.path().join("会议录像.mp4");
        // Generated here, not kept in git: bytes that differ everywhere.
        let mut data = vec![0u8; 50 * 1024 * 1024];
        let mut x: u32 = 0x9E37_79B9;
        for byte in &mut data {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *byte = x as u8;
        }
        std::fs::write(&video, &data)?;
        let server_data = harness.server_config().data_dir;

        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            open_chat(&zhang, WANG).await?;
            wang.upload("#file-input", &video).await?;
            wait_until(&wang, "a few chunks stored", Duration::from_secs(60), |b| {
                Box::pin(async move { Ok(uploaded(b).await? >= 5 * 1024 * 1024) })
            })
            .await?;
            screenshots(&wang, "file-uploading").await?;
            faults.cut();
            let at_cut = uploaded(&wang).await?;
            wait_until(&wang, "the cut to show", Duration::from_secs(30), |b| {
                Box::pin(async move {
                    Ok(b.attribute("#connection", "data-state").await?.as_deref()
                        != Some("connected"))
                })
            })
            .await?;
            anyhow::ensure!(
                stored_files(&server_data).is_empty(),
                "nothing was stored before the upload ended"
            );
            faults.pass();
            wait_until(
                &wang,
                "the upload to finish",
                Duration::from_secs(240),
                |b| {
                    Box::pin(
                        async move { Ok(b.count("#chat .message[data-id] .file").await? == 1) },
                    )
                },
            )
            .await?;
            wang.wait_for_count("#chat .message[data-cid]", 0).await?;
            anyhow::ensure!(at_cut < data.len() as u64, "the cut came mid-upload");

            // The other side has it once; the server's copy is byte-identical.
            zhang
                .wait_for_count("#chat .message[data-id] .file", 1)
                .await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            zhang
                .wait_for_count("#chat .message[data-id] .file", 1)
                .await?;
            zhang.wait_for_text("#chat .file__size", "50.0 MB").await?;
            let stored = stored_files(&server_data);
            anyhow::ensure!(stored.len() == 1, "stored once: {stored:?}");
            let bytes = std::fs::read(&stored[0])?;
            anyhow::ensure!(bytes == data, "the stored file is byte-identical");
            screenshots(&zhang, "file-in-chat").await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        faults.stop().await;
        outcome
    })
    .await
}
