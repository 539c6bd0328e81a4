//! Two and three people in separate browsers chat through the real server:
//! 1:1 and in a group, across a reload, and with the server stopped. The
//! first two also run in Firefox.

use penpen_e2e::app::{LI, TECH_GROUP, WANG, ZHANG, log_in, open_chat, row, send};
use penpen_e2e::{BrowserKind, Harness};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_chat_both_ways_in_1to1_and_in_a_group() -> anyhow::Result<()> {
    chat_both_ways(BrowserKind::Chromium).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_chat_both_ways_in_firefox() -> anyhow::Result<()> {
    chat_both_ways(BrowserKind::Firefox).await
}

async fn chat_both_ways(kind: BrowserKind) -> anyhow::Result<()> {
    Harness::run_in(kind, "chat_both_ways", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&li, LI).await?;

            open_chat(&wang, ZHANG).await?;
            send(&wang, "周五的演示准备好了吗？").await?;
            // Sent: acknowledged by the server, no longer queued.
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;

            zhang
                .wait_for_text(&format!("{} .badge", row(WANG)), "1")
                .await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "周五的演示准备好了吗？", 1)
                .await?;
            send(&zhang, "准备好了 👍").await?;
            wang.wait_for_count_with_text("#chat .message", "准备好了 👍", 1)
                .await?;

            open_chat(&zhang, TECH_GROUP).await?;
            send(&zhang, "技术部全体：下午三点开会").await?;
            li.wait_for_text(&format!("{} .badge", row(TECH_GROUP)), "1")
                .await?;
            open_chat(&li, TECH_GROUP).await?;
            li.wait_for_count_with_text("#chat .message", "技术部全体：下午三点开会", 1)
                .await?;
            // In a group the sender is named.
            let sender = li
                .script(
                    "const bubble = [...document.querySelectorAll('#chat .message')]
                         .find(m => m.textContent.includes('技术部全体：下午三点开会'));
                     const name = bubble && bubble.querySelector('.message__sender');
                     return name ? name.textContent : null;",
                )
                .await?;
            anyhow::ensure!(
                sender == serde_json::json!("张伟"),
                "the sender shows as {sender}"
            );
            send(&li, "收到，三点见").await?;
            zhang
                .wait_for_count_with_text("#chat .message", "收到，三点见", 1)
                .await?;
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
async fn a_message_written_while_the_server_is_down_arrives_once_after_it_returns()
-> anyhow::Result<()> {
    chat_offline(BrowserKind::Chromium).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_offline_in_firefox_arrives_once_after_the_server_returns()
-> anyhow::Result<()> {
    chat_offline(BrowserKind::Firefox).await
}

async fn chat_offline(kind: BrowserKind) -> anyhow::Result<()> {
    Harness::run_in(kind, "chat_offline", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;

            harness.stop_server().await;
            wang.wait_for_attribute("#connection", "data-state", "offline")
                .await?;
            send(&wang, "服务器停了也能发").await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 1)
                .await?;
            wang.wait_for_text("#connection", "1").await?;

            // A reload with the server still down shows the list, the history
            // and the queued message, all from the cache.
            wang.goto(&harness.app_url).await?;
            wang.wait_for_count(&row(ZHANG), 1).await?;
            open_chat(&wang, ZHANG).await?;
            wang.wait_for_count_with_text("#chat .message", "张伟，新版本的进度怎么样了？", 1)
                .await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 1)
                .await?;

            harness.start_server().await?;
            wang.wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            wang.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "服务器停了也能发", 1)
                .await?;
            // Still once after everything settles.
            tokio::time::sleep(Duration::from_secs(2)).await;
            anyhow::ensure!(
                zhang
                    .count_with_text("#chat .message", "服务器停了也能发")
                    .await?
                    == 1,
                "the message arrived more than once"
            );
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_badges_and_pins_survive_a_reload() -> anyhow::Result<()> {
    Harness::run("chat_badges", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            send(&wang, "第一条").await?;
            send(&wang, "第二条").await?;
            let badge = format!("{} .badge", row(WANG));
            zhang.wait_for_text(&badge, "2").await?;

            zhang.right_click(&row(WANG)).await?;
            zhang
                .click("#conversation-menu [data-action=\"pin\"]")
                .await?;
            zhang
                .wait_for_attribute(&row(WANG), "data-pinned", "true")
                .await?;

            zhang.goto(&harness.app_url).await?;
            zhang.wait_for_text(&badge, "2").await?;
            zhang
                .wait_for_attribute(&row(WANG), "data-pinned", "true")
                .await?;
            // Pinned first, above the groups with newer messages.
            let first = zhang
                .attribute("#conversation-list .conversation", "data-peer")
                .await?;
            anyhow::ensure!(first.as_deref() == Some(WANG), "first row is {first:?}");
            zhang.screenshot_as("desktop-list").await?;

            // On a phone the list and the chat take the whole screen in turn.
            zhang.resize(390, 844).await?;
            zhang
                .wait_for_attribute(".main", "data-view", "list")
                .await?;
            zhang.screenshot_as("phone-list").await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_attribute(".main", "data-view", "chat")
                .await?;
            zhang
                .wait_for_count_with_text("#chat .message", "第二条", 1)
                .await?;
            zhang.screenshot_as("phone-chat").await?;
            zhang.click("#chat-back").await?;
            zhang
                .wait_for_attribute(".main", "data-view", "list")
                .await?;
            // The phone's back button closes a chat too, and stays in the app.
            open_chat(&zhang, WANG).await?;
            zhang.script("history.back(); return true;").await?;
            zhang
                .wait_for_attribute(".main", "data-view", "list")
                .await?;
            zhang.wait_for_count(&row(WANG), 1).await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_conversation_starts_from_the_directory() -> anyhow::Result<()> {
    Harness::run("chat_directory", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&li, LI).await?;
            // 陈静 and 王总 have never talked: no row yet.
            anyhow::ensure!(
                li.count(&row(WANG)).await? == 0,
                "a conversation with 王总 already exists"
            );
            li.click("#tab-contacts").await?;
            // By pinyin initials, as Chinese users search: 王建国 → wjg.
            li.type_into("#contact-search", "wjg").await?;
            li.wait_for_count("#directory .contact", 1).await?;
            li.screenshot_as("directory").await?;
            li.click(&format!(".contact[data-user=\"{WANG}\"] .contact__open"))
                .await?;
            // The contact's page, then a message from it.
            li.wait_for_attribute("#contact-page", "data-user", WANG)
                .await?;
            li.wait_for_text("#contact-name", "王建国").await?;
            li.screenshot_as("contact").await?;
            li.click("#contact-message").await?;
            li.wait_for_attribute("#chat", "data-peer", WANG).await?;
            send(&li, "王总您好，我是技术部的陈静").await?;
            li.wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;
            // The new conversation is in both lists now.
            li.click("#tab-chats").await?;
            li.wait_for_count(&row(WANG), 1).await?;
            wang.wait_for_text(&format!("{} .badge", row(LI)), "1")
                .await?;
            open_chat(&wang, LI).await?;
            wang.wait_for_count_with_text("#chat .message", "王总您好，我是技术部的陈静", 1)
                .await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        li.finish(outcome).await
    })
    .await
}
