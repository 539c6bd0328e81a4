//! Forward (§15.3) through the real UI and server, with three people: 张伟
//! forwards an image of his chat with 王建国 into 技术部 one by one, and
//! several messages merged into a chat with 刘洋. The recipients see them,
//! open the record with its original senders and times, and the forwarded
//! image loads for 刘洋, who was never in the conversation it came from.

use penpen_e2e::Browser;
use penpen_e2e::app::{LIU, TECH_GROUP, WANG, ZHANG, log_in, open_chat, row, screenshots, send};

/// A 160 × 120 PNG: a real image the browser decodes.
const PNG: &[u8] = include_bytes!("../../fixtures/photo.png");

/// Whether every image matching `css` has loaded (and there is one).
async fn wait_loaded(browser: &Browser, css: &str) -> anyhow::Result<()> {
    let script = format!(
        "const imgs = [...document.querySelectorAll({css:?})];
         return imgs.length > 0 && imgs.every(img => img.complete && img.naturalWidth > 0);"
    );
    for _ in 0..100 {
        if browser.script(&script).await? == serde_json::json!(true) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    anyhow::bail!("{css} did not load within 20 s")
}

/// Ticks, in the multi-select mode, the message whose bubble shows `text`
/// (or, for `None`, the image).
async fn tick(browser: &Browser, text: Option<&str>) -> anyhow::Result<()> {
    let found = match text {
        Some(text) => format!("r => r.querySelector('.message__bubble')?.textContent === {text:?}"),
        None => "r => r.querySelector('.image-thumb') !== null".to_owned(),
    };
    let script = format!(
        "const rows = [...document.querySelectorAll('#chat .chat__pick')].filter({found});
         const row = rows[rows.length - 1];
         if (!row) return false;
         row.querySelector('.message__select').click();
         return true;"
    );
    anyhow::ensure!(
        browser.script(&script).await? == serde_json::json!(true),
        "no message {text:?} to tick"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_forwarded_into_a_group_and_messages_merged_into_a_chat_reach_their_recipients()
-> anyhow::Result<()> {
    penpen_e2e::Harness::run("forward", |harness| async move {
        let files = tempfile::tempdir()?;
        let photo = files.path().join("photo.png");
        std::fs::write(&photo, PNG)?;
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let liu = harness.open_app("liu").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&liu, LIU).await?;

            // 王建国 and 张伟 talk; 刘洋 is not part of it.
            open_chat(&wang, ZHANG).await?;
            send(&wang, "方案在这").await?;
            wang.upload("#image-input", &photo).await?;
            wang.wait_for_count("#chat .message[data-id] .image-thumb img", 1).await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0).await?;
            zhang.wait_for_text(&format!("{} .conversation__preview", row(WANG)), "[图片]").await?;
            open_chat(&zhang, WANG).await?;
            send(&zhang, "收到，我转给大家").await?;
            zhang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0).await?;

            // One by one: the image into 技术部.
            zhang.click("#chat-select").await?;
            zhang.wait_for_count("#forward-bar", 1).await?;
            tick(&zhang, None).await?;
            zhang.wait_for_text(".forward-bar__count", "已选 1 条").await?;
            zhang.click("#forward-one").await?;
            zhang.wait_for_count("#forward-picker", 1).await?;
            zhang.click(&format!(".forward-picker__target[data-peer=\"{TECH_GROUP}\"] input")).await?;
            zhang.wait_for_text("#forward-send", "发送 (1)").await?;
            screenshots(&zhang, "forward-picker").await?;
            zhang.click("#forward-send").await?;
            zhang.wait_for_count("#forward-picker", 0).await?;
            zhang.wait_for_count("#forward-bar", 0).await?;

            open_chat(&liu, TECH_GROUP).await?;
            liu.wait_for_count("#chat .message[data-id] .image-thumb img", 1).await?;
            wait_loaded(&liu, "#chat .image-thumb img").await?;

            // Merged: the text, the image and the reply, into a chat with 刘洋,
            // found by his pinyin initials.
            zhang.click("#chat-select").await?;
            tick(&zhang, Some("方案在这")).await?;
            tick(&zhang, None).await?;
            tick(&zhang, Some("收到，我转给大家")).await?;
            zhang.wait_for_text(".forward-bar__count", "已选 3 条").await?;
            screenshots(&zhang, "forward-selecting").await?;
            zhang.click("#forward-merged").await?;
            zhang.wait_for_count("#forward-picker[data-merge=\"true\"]", 1).await?;
            zhang.type_into(".forward-picker__search", "ly").await?;
            zhang.wait_for_count(&format!(".forward-picker__target[data-peer=\"{LIU}\"]"), 1).await?;
            zhang.click(&format!(".forward-picker__target[data-peer=\"{LIU}\"] input")).await?;
            zhang.click("#forward-send").await?;
            zhang.wait_for_count("#forward-picker", 0).await?;

            liu.wait_for_count(&row(ZHANG), 1).await?;
            open_chat(&liu, ZHANG).await?;
            liu.wait_for_text("#chat .chat-record__title", "王建国和张伟的聊天记录").await?;
            liu.wait_for_count("#chat .chat-record__line", 3).await?;
            screenshots(&liu, "forward-record-bubble").await?;
            liu.click("#chat .chat-record").await?;
            liu.wait_for_count(".record-viewer .record-item", 3).await?;
            let senders = liu
                .script(
                    "return [...document.querySelectorAll('.record-viewer .record-item__sender')]
                        .map(e => e.textContent).join(',');",
                )
                .await?;
            anyhow::ensure!(
                senders == serde_json::json!("王建国,王建国,张伟"),
                "the original senders, oldest first: {senders}"
            );
            let times = liu
                .script(
                    "return [...document.querySelectorAll('.record-viewer .record-item__time')]
                        .every(e => /^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$/.test(e.textContent));",
                )
                .await?;
            anyhow::ensure!(times == serde_json::json!(true), "every item has its time");
            wait_loaded(&liu, ".record-viewer .image-thumb img").await?;
            screenshots(&liu, "forward-record-viewer").await?;
            liu.click(".record-viewer__close").await?;
            liu.wait_for_count(".record-viewer", 0).await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        liu.finish(outcome).await
    })
    .await
}
