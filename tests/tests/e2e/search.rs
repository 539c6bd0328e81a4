//! Message search through the real UI: Chinese substrings and Latin words in
//! any case, across conversations and inside one, highlighted, and a hit
//! opens its conversation at the message.

use penpen_e2e::Harness;
use penpen_e2e::app::{TECH_GROUP, WANG, ZHANG, log_in, open_chat, screenshots, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_messages_and_jumps_to_them() -> anyhow::Result<()> {
    Harness::run("search", |harness| async move {
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&zhang, ZHANG).await?;
            open_chat(&zhang, TECH_GROUP).await?;
            send(&zhang, "Quarterly REPORT 已上传，请大家查收").await?;
            zhang
                .wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;

            // Across every conversation: the demo history and what was just sent.
            zhang.click("#search-messages").await?;
            zhang.type_into("#search-input", "查收").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "2")
                .await?;
            zhang
                .wait_for_count_with_text(".search-hit mark", "查收", 2)
                .await?;
            // Latin words in any case; the original case is what is shown.
            zhang.type_into("#search-input", "report").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            zhang.wait_for_text(".search-hit mark", "REPORT").await?;
            zhang.type_into("#search-input", "辛苦").await?;
            zhang
                .wait_for_attribute(".search-hit", "data-peer", WANG)
                .await?;
            screenshots(&zhang, "search").await?;

            // A hit opens its conversation with the message marked.
            zhang.click(".search-hit .conversation__open").await?;
            zhang.wait_for_attribute("#chat", "data-peer", WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .chat__row--focus", "好的，辛苦了", 1)
                .await?;

            // Inside one conversation, only its messages.
            zhang.click("#chat-search").await?;
            zhang.type_into("#search-input", "查收").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "0")
                .await?;
            zhang.type_into("#search-input", "演示").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            Ok(())
        }
        .await;
        zhang.finish(outcome).await
    })
    .await
}
