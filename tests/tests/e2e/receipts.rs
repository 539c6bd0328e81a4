//! Read receipts (§16) through the real UI and server. Three people in a new
//! group: the sender's message shows 2人未读, 1人未读 once one member opened
//! the chat, and the read list names who read it; 加急 then reaches only the
//! member who has not read it, and once they read it, 全部已读. In 1:1, a
//! read on one of the person's devices turns the sender's 未读 into 已读 and
//! clears the badge on their other device.

use penpen_e2e::app::{LI, WANG, ZHANG, log_in, open_chat, row, screenshots, send};
use penpen_e2e::{Browser, Harness};
use std::time::Duration;

fn picker_person(user: &str) -> String {
    format!(".picker__person[data-user=\"{user}\"] input")
}

/// The receipt line under the open chat's (own) message holding `text`.
async fn receipt_of(browser: &Browser, text: &str) -> anyhow::Result<String> {
    let found = browser
        .script_with(
            "const bubble = [...document.querySelectorAll('#chat .message')]
                 .find(m => m.textContent.includes(arguments[0]));
             const receipt = bubble && bubble.querySelector('.receipt');
             return receipt ? receipt.textContent : '';",
            vec![serde_json::json!(text)],
        )
        .await?;
    Ok(found.as_str().unwrap_or("").to_owned())
}

/// Waits until the receipt under the message holding `text` says `expected`.
async fn wait_for_receipt(browser: &Browser, text: &str, expected: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + penpen_e2e::WAIT;
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        last = receipt_of(browser, text).await?;
        if last == expected {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "the receipt under {text:?} said {last:?}, not {expected:?}, within {:?}",
        penpen_e2e::WAIT
    )
}

/// The accounts listed in one column of the open read list.
async fn listed(browser: &Browser, column: &str) -> anyhow::Result<Vec<String>> {
    let found = browser
        .script(&format!(
            "return [...document.querySelectorAll('#{column} [data-user]')].map(p => p.dataset.user);"
        ))
        .await?;
    Ok(serde_json::from_value(found)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_message_counts_its_readers_and_a_ding_reaches_only_the_unread()
-> anyhow::Result<()> {
    Harness::run("receipts_group", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&li, LI).await?;

            // 王建国 makes a group of three and asks something in it.
            wang.click("#new-group").await?;
            wang.type_into("#new-group-name", "周报小组").await?;
            wang.type_into("#new-group .picker__search", "zw").await?;
            wang.click(&picker_person(ZHANG)).await?;
            wang.type_into("#new-group .picker__search", "cj").await?;
            wang.click(&picker_person(LI)).await?;
            wang.click("#new-group-create").await?;
            wang.wait_for_text("#chat-title", "周报小组").await?;
            let gid = wang
                .attribute("#chat", "data-peer")
                .await?
                .ok_or_else(|| anyhow::anyhow!("the chat names no peer"))?;
            let question = "请周五前交周报";
            send(&wang, question).await?;
            wait_for_receipt(&wang, question, "2人未读").await?;

            // 张伟 opens the chat: one reader.
            zhang.wait_for_count(&row(&gid), 1).await?;
            li.wait_for_count(&row(&gid), 1).await?;
            open_chat(&zhang, &gid).await?;
            zhang
                .wait_for_count_with_text("#chat .message", question, 1)
                .await?;
            wait_for_receipt(&wang, question, "1人未读").await?;
            screenshots(&wang, "receipts-group-count").await?;

            // The read list names who read it and who has not.
            let label = wang
                .script_with(
                    "const bubble = [...document.querySelectorAll('#chat .message')]
                         .find(m => m.textContent.includes(arguments[0]));
                     bubble.querySelector('.receipt').click();
                     return bubble.dataset.id;",
                    vec![serde_json::json!(question)],
                )
                .await?;
            let id = label
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("the message has no id"))?
                .to_owned();
            wang.wait_for_attribute("#read-list", "data-id", &id)
                .await?;
            wang.wait_for_count(&format!("#read-list-read [data-user=\"{ZHANG}\"]"), 1)
                .await?;
            anyhow::ensure!(
                listed(&wang, "read-list-unread").await? == [LI],
                "陈静 has not read it"
            );
            wang.wait_for_count_with_text("#read-list-read", "张伟", 1)
                .await?;
            screenshots(&wang, "receipts-read-list").await?;

            // 提醒未读的人: only 陈静 is reminded.
            wang.click("#read-list-remind").await?;
            wang.click("#read-list-remind-confirm").await?;
            wang.wait_for_text("#message-action-done span", "已加急提醒")
                .await?;
            li.wait_for_attribute("#ding-banner", "data-id", &id)
                .await?;
            li.wait_for_count_with_text(
                "#ding-banner",
                &format!("王建国 加急提醒你：{question}"),
                1,
            )
            .await?;
            screenshots(&li, "receipts-ding").await?;
            // 张伟 read it: no reminder (a late one would have come with 陈静's).
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            anyhow::ensure!(
                zhang.count("#ding-banner").await? == 0,
                "a member who read the message was reminded"
            );

            // 陈静 views it from the banner: read, the banner goes.
            li.click("#ding-view").await?;
            li.wait_for_attribute("#chat", "data-peer", &gid).await?;
            li.wait_for_count_with_text("#chat .message", question, 1)
                .await?;
            li.wait_for_count("#ding-banner", 0).await?;
            wang.wait_for_count_with_text("#read-list-read [data-user]", "陈静", 1)
                .await?;
            wang.click("#read-list-close").await?;
            wait_for_receipt(&wang, question, "全部已读").await?;
            screenshots(&wang, "receipts-all-read").await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        li.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_on_one_device_shows_as_read_and_clears_the_other_devices_badge()
-> anyhow::Result<()> {
    Harness::run("receipts_devices", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let zhang_phone = harness.open_app("zhang-phone").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&zhang_phone, ZHANG).await?;

            open_chat(&wang, ZHANG).await?;
            let text = "明天上午九点评审";
            send(&wang, text).await?;
            wait_for_receipt(&wang, text, "未读").await?;
            for device in [&zhang, &zhang_phone] {
                device
                    .wait_for_text(&format!("{} .badge", row(WANG)), "1")
                    .await?;
            }
            let title = zhang.script("return document.title;").await?;
            anyhow::ensure!(
                title.as_str().is_some_and(|t| t.starts_with("(1)")),
                "the title counts the unread message: {title}"
            );

            // Read on the phone.
            zhang_phone.resize(390, 844).await?;
            open_chat(&zhang_phone, WANG).await?;
            zhang_phone
                .wait_for_count_with_text("#chat .message", text, 1)
                .await?;
            // The desktop's badge and title clear; the sender sees 已读.
            zhang
                .wait_for_attribute(&row(WANG), "data-unread", "0")
                .await?;
            zhang
                .wait_for_count(&format!("{} .badge", row(WANG)), 0)
                .await?;
            wait_for_receipt(&wang, text, "已读").await?;
            screenshots(&wang, "receipts-one-to-one").await?;
            screenshots(&zhang, "receipts-other-device").await?;
            let title = zhang.script("return document.title;").await?;
            anyhow::ensure!(
                title == serde_json::json!("penpen"),
                "the desktop's title still counts: {title}"
            );

            // 张伟 stops sharing receipts: 王建国 sees nothing, not 未读.
            zhang.click("#tab-me").await?;
            zhang
                .wait_for_attribute("#receipts-toggle", "data-known", "true")
                .await?;
            zhang.click("#receipts-toggle").await?;
            zhang
                .wait_for_attribute("#receipts-toggle", "data-shared", "false")
                .await?;
            screenshots(&zhang, "receipts-setting").await?;
            // Once 张伟 reads the next message, 王建国 is told it is private.
            zhang.click("#tab-chats").await?;
            open_chat(&zhang, WANG).await?;
            let later = "评审改到十点";
            send(&wang, later).await?;
            zhang
                .wait_for_count_with_text("#chat .message", later, 1)
                .await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;
            wait_for_receipt(&wang, later, "").await?;
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            let shown = receipt_of(&wang, later).await?;
            anyhow::ensure!(
                shown.is_empty(),
                "a person who does not share receipts shows as {shown:?}, not unknown"
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
