//! Over TLS: the page is served over HTTPS and the server speaks TLS, both
//! with a self-signed certificate the browsers trust by its key; the app
//! then talks `wss://` on its own, and two people chat.

use penpen_e2e::Harness;
use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, row, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_log_in_and_chat_over_https_and_wss() -> anyhow::Result<()> {
    Harness::run_over_tls("tls_chat", |harness| async move {
        anyhow::ensure!(harness.app_url.starts_with("https://"));
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            let secure = wang
                .script("return window.isSecureContext && location.protocol;")
                .await?;
            anyhow::ensure!(
                secure == serde_json::json!("https:"),
                "the page is {secure}"
            );

            open_chat(&wang, ZHANG).await?;
            send(&wang, "加密连接上的第一条消息").await?;
            zhang
                .wait_for_text(&format!("{} .badge", row(WANG)), "1")
                .await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "加密连接上的第一条消息", 1)
                .await?;
            send(&zhang, "收到 🔒").await?;
            wang.wait_for_count_with_text("#chat .message", "收到 🔒", 1)
                .await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
