//! Recall and quote reply (§15.1, §15.2) through the real UI: a 1:1 recall
//! seen live by the other person and by their second device that was
//! offline when it happened; 重新编辑; a quote reply on both sides whose
//! quote jumps to the original; the group holder's recall, which the quote
//! then shows as recalled.

use penpen_e2e::Browser;
use penpen_e2e::app::{LIU, TECH_GROUP, WANG, ZHANG, log_in, open_chat, screenshots, send};
use penpen_e2e::{Harness, WAIT};
use std::time::Duration;

/// The `data-id` of the open chat's message holding `text`, once it is stored.
async fn message_id(browser: &Browser, text: &str) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let id = browser
            .script_with(
                "const m = [...document.querySelectorAll('#chat .message[data-id]')]
                     .find(m => m.textContent.includes(arguments[0]));
                 return m ? m.dataset.id : null;",
                vec![serde_json::json!(text)],
            )
            .await?;
        if let Some(id) = id.as_str() {
            return Ok(id.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no stored message holding {text:?} within {WAIT:?}")
}

/// Picks `action` from the action menu of message `id`, opened by a right-click.
async fn act_on(browser: &Browser, id: &str, action: &str) -> anyhow::Result<()> {
    browser
        .right_click(&format!(
            "#chat .message[data-id=\"{id}\"] .message__bubble"
        ))
        .await?;
    browser
        .click(&format!("#message-menu [data-action=\"{action}\"]"))
        .await
}

/// Waits until message `id` shows as recalled, reading `line`.
async fn wait_recalled(browser: &Browser, id: &str, line: &str) -> anyhow::Result<()> {
    browser
        .wait_for_count_with_text(
            &format!("#chat .notice--recalled[data-id=\"{id}\"]"),
            line,
            1,
        )
        .await?;
    browser
        .wait_for_count(&format!("#chat .message[data-id=\"{id}\"]"), 0)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_reaches_the_other_person_live_and_their_device_that_was_offline()
-> anyhow::Result<()> {
    Harness::run("recall_1to1", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let zhang_phone = harness.open_app("zhang-phone").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&zhang_phone, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            send(&wang, "这条发错了，请忽略").await?;
            let id = message_id(&wang, "这条发错了").await?;
            for device in [&zhang, &zhang_phone] {
                open_chat(device, WANG).await?;
                device
                    .wait_for_count_with_text("#chat .message", "这条发错了", 1)
                    .await?;
            }
            // 张伟's second device loses the network before the recall.
            zhang_phone.set_network_offline(true).await?;
            zhang_phone
                .wait_for_attribute("#connection", "data-state", "offline")
                .await?;

            act_on(&wang, &id, "recall").await?;
            wait_recalled(&wang, &id, "你撤回了一条消息").await?;
            wait_recalled(&zhang, &id, "王建国撤回了一条消息").await?;
            // The list shows the recall, not the text.
            zhang
                .wait_for_count_with_text(
                    &format!(".conversation[data-peer=\"{WANG}\"]"),
                    "王建国撤回了一条消息",
                    1,
                )
                .await?;
            screenshots(&zhang, "recall").await?;

            // Back online, the device catches the recall up.
            zhang_phone.set_network_offline(false).await?;
            zhang_phone
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            wait_recalled(&zhang_phone, &id, "王建国撤回了一条消息").await?;
            anyhow::ensure!(
                zhang_phone.count_with_text("#chat", "这条发错了").await? == 0,
                "the recalled text is still on the phone"
            );

            // 重新编辑 puts the text back in the sender's composer.
            screenshots(&wang, "recall-reedit").await?;
            wang.click(&format!(
                "#chat .notice--recalled[data-id=\"{id}\"] .notice__reedit"
            ))
            .await?;
            let typed = wang
                .script("return document.getElementById('composer').value;")
                .await?;
            anyhow::ensure!(
                typed == serde_json::json!("这条发错了，请忽略"),
                "the composer holds {typed}"
            );
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        zhang_phone.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_reply_jumps_to_its_original_which_reads_recalled_after_the_holder_recalls_it()
-> anyhow::Result<()> {
    Harness::run("recall_quote_group", |harness| async move {
        let zhang = harness.open_app("zhang").await?;
        let liu = harness.open_app("liu").await?;
        let outcome = async {
            log_in(&zhang, ZHANG).await?;
            log_in(&liu, LIU).await?;
            open_chat(&liu, TECH_GROUP).await?;
            send(&liu, "技术方案初稿已发到群文件").await?;
            let original = message_id(&liu, "技术方案初稿").await?;

            // 张伟 replies to it.
            open_chat(&zhang, TECH_GROUP).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "技术方案初稿", 1)
                .await?;
            act_on(&zhang, &original, "quote").await?;
            zhang
                .wait_for_count_with_text("#composer-quote", "技术方案初稿", 1)
                .await?;
            screenshots(&zhang, "quote-composer").await?;
            send(&zhang, "收到，下午评审").await?;
            zhang.wait_for_count("#composer-quote", 0).await?;
            let quoted = format!(".message__quote[data-quote=\"{original}\"]");
            for side in [&zhang, &liu] {
                side.wait_for_count_with_text(&format!("#chat {quoted}"), "技术方案初稿", 1)
                    .await?;
            }
            screenshots(&liu, "quote").await?;

            // Clicking the quote shows the original, marked.
            liu.click(&format!("#chat {quoted}")).await?;
            liu.wait_for_count_with_text("#chat .chat__row--focus", "技术方案初稿", 1)
                .await?;

            // The holder takes 刘洋's message back: both see it recalled, and
            // the quote of it too.
            act_on(&zhang, &original, "recall").await?;
            wait_recalled(&zhang, &original, "你撤回了刘洋的一条消息").await?;
            wait_recalled(&liu, &original, "群主撤回了你的一条消息").await?;
            for side in [&zhang, &liu] {
                side.wait_for_count_with_text(
                    &format!("#chat {quoted}[data-recalled]"),
                    "引用的消息已撤回",
                    1,
                )
                .await?;
            }
            // 刘洋 is not the holder: no recall in the menu of 张伟's reply.
            let reply = message_id(&liu, "收到，下午评审").await?;
            liu.right_click(&format!(
                "#chat .message[data-id=\"{reply}\"] .message__bubble"
            ))
            .await?;
            liu.wait_for_count("#message-menu [data-action=\"quote\"]", 1)
                .await?;
            liu.wait_for_count("#message-menu [data-action=\"recall\"]", 0)
                .await?;
            screenshots(&liu, "message-menu").await?;
            screenshots(&zhang, "recall-holder").await?;
            Ok(())
        }
        .await;
        let outcome = zhang.finish(outcome).await;
        liu.finish(outcome).await
    })
    .await
}
