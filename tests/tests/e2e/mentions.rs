//! @mentions and 消息免打扰 through the real UI and server, with three people
//! of 技术部 in separate browsers and a second device of one of them: a
//! member mutes the group (the other device follows, and still has it
//! after a reload, from the server); a normal message then makes no alert
//! and only a dot; the holder's @所有人 alerts the muted member anyway and
//! shows "[有人@我]" until the group is opened; a member's @mention, picked
//! with the keyboard, reaches the person mentioned on both devices, and
//! reading it on one clears the mark on the other (read marks, §16).

use penpen_e2e::app::{LI, LIU, TECH_GROUP, ZHANG, log_in, open_chat, row, screenshots, send};
use penpen_e2e::{Browser, Harness, WAIT};
use std::time::Duration;

/// How many message alerts (sound or notification) the page gave.
async fn alerts(browser: &Browser) -> anyhow::Result<u64> {
    Ok(browser
        .attribute("html", "data-alerts")
        .await?
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

/// Waits until the page gave `expected` alerts.
async fn wait_for_alerts(browser: &Browser, expected: u64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = 0;
    while tokio::time::Instant::now() < deadline {
        last = alerts(browser).await?;
        if last == expected {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the page gave {last} alerts, not {expected}, within {WAIT:?}")
}

fn tech_row(attribute: &str, value: &str) -> String {
    format!("{}[data-{attribute}=\"{value}\"]", row(TECH_GROUP))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_group_stays_quiet_but_mentions_still_reach_the_member() -> anyhow::Result<()> {
    Harness::run("mentions", |harness| async move {
        let zhang = harness.open_app("zhang").await?;
        let liu = harness.open_app("liu").await?;
        let liu_phone = harness.open_app("liu-phone").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            for (browser, account) in [(&zhang, ZHANG), (&liu, LIU), (&liu_phone, LIU), (&li, LI)] {
                log_in(browser, account).await?;
                browser.wait_for_count(&row(TECH_GROUP), 1).await?;
            }

            // 刘洋 mutes 技术部 from the list's menu; the other device follows.
            liu.right_click(&format!("{} button", row(TECH_GROUP)))
                .await?;
            liu.click("#conversation-menu [data-action=\"mute\"]")
                .await?;
            liu.wait_for_count(&tech_row("muted", "true"), 1).await?;
            liu.wait_for_count(&format!("{} .conversation__muted", row(TECH_GROUP)), 1)
                .await?;
            liu_phone
                .wait_for_count(&tech_row("muted", "true"), 1)
                .await?;
            liu_phone.goto(&harness.app_url).await?;
            liu_phone
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            liu_phone
                .wait_for_count(&tech_row("muted", "true"), 1)
                .await?;

            // A normal message: 陈静 (not muted) is alerted, 刘洋 only sees a dot.
            let (liu_before, li_before) = (alerts(&liu).await?, alerts(&li).await?);
            open_chat(&zhang, TECH_GROUP).await?;
            send(&zhang, "今天的站会取消").await?;
            li.wait_for_count(&tech_row("unread", "1"), 1).await?;
            wait_for_alerts(&li, li_before + 1).await?;
            liu.wait_for_count(&tech_row("unread", "1"), 1).await?;
            liu.wait_for_count(&format!("{} .badge.badge--dot", row(TECH_GROUP)), 1)
                .await?;
            // The alert would have come with the list's update; give a late
            // one time to show before saying there was none.
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            anyhow::ensure!(
                alerts(&liu).await? == liu_before,
                "a muted group alerted 刘洋 for a normal message"
            );
            anyhow::ensure!(
                !liu.script("return document.title;")
                    .await?
                    .as_str()
                    .unwrap_or("")
                    .starts_with('('),
                "a muted group counts in the title"
            );

            // The holder's @所有人, picked from the composer's picker.
            zhang.type_into("#composer", "@").await?;
            zhang
                .wait_for_count(
                    "#mention-picker .mention-picker__item[data-user=\"all\"]",
                    1,
                )
                .await?;
            screenshots(&zhang, "mention-picker").await?;
            zhang
                .click("#mention-picker .mention-picker__item[data-user=\"all\"]")
                .await?;
            send(&zhang, "下午三点开会").await?;
            zhang
                .wait_for_count_with_text("#chat .message", "@所有人 下午三点开会", 1)
                .await?;
            liu.wait_for_count(&tech_row("mentioned", "true"), 1)
                .await?;
            wait_for_alerts(&liu, liu_before + 1).await?;
            anyhow::ensure!(
                liu.attribute("html", "data-last-alert").await?.as_deref() == Some("技术部"),
                "the alert names the group"
            );
            let body = liu.attribute("html", "data-last-alert-body").await?;
            anyhow::ensure!(
                body.as_deref()
                    .is_some_and(|b| b.starts_with("[有人@我] ") && b.contains("下午三点开会")),
                "the notification says why a muted group speaks up: {body:?}"
            );
            liu.wait_for_text(
                &format!("{} .conversation__preview", row(TECH_GROUP)),
                "[有人@我]",
            )
            .await?;
            liu_phone
                .wait_for_count(&tech_row("mentioned", "true"), 1)
                .await?;
            screenshots(&liu, "mentioned-in-muted-group").await?;
            // Opened, it is read: the mark goes, on the other device too
            // (its read mark reaches it, §16).
            open_chat(&liu, TECH_GROUP).await?;
            liu.wait_for_count(&tech_row("mentioned", "false"), 1)
                .await?;
            liu_phone
                .wait_for_count(&tech_row("mentioned", "false"), 1)
                .await?;
            // Back to the list, so the next mention is not read at once.
            liu.script("document.getElementById('chat-back').click(); return null;")
                .await?;
            liu.wait_for_count("#chat", 0).await?;

            // 陈静 mentions 刘洋 with the keyboard: "@ly", Enter, text, Enter.
            open_chat(&li, TECH_GROUP).await?;
            li.type_into("#composer", "@ly").await?;
            li.wait_for_count(
                &format!("#mention-picker .mention-picker__item[data-user=\"{LIU}\"]"),
                1,
            )
            .await?;
            li.type_and_enter("#composer", "").await?;
            li.wait_for_count("#mention-picker", 0).await?;
            anyhow::ensure!(
                li.script("return document.getElementById('composer').value;")
                    .await?
                    == serde_json::json!("@刘洋 "),
                "Enter put the chosen name in the composer"
            );
            send(&li, "请看下接口文档").await?;
            liu.wait_for_count(&tech_row("mentioned", "true"), 1)
                .await?;
            // 刘洋's other device is marked too.
            liu_phone
                .wait_for_count(&tech_row("mentioned", "true"), 1)
                .await?;
            liu_phone
                .wait_for_text(
                    &format!("{} .conversation__preview", row(TECH_GROUP)),
                    "[有人@我]",
                )
                .await?;
            // The sender is not.
            li.wait_for_count(&tech_row("mentioned", "false"), 1)
                .await?;
            screenshots(&liu_phone, "mentioned-on-other-device").await?;
            // Read on one device, the mark goes on the other.
            open_chat(&liu, TECH_GROUP).await?;
            liu.wait_for_count_with_text("#chat .message", "@刘洋 请看下接口文档", 1)
                .await?;
            liu_phone
                .wait_for_count(&tech_row("mentioned", "false"), 1)
                .await?;
            Ok(())
        }
        .await;
        let outcome = zhang.finish(outcome).await;
        let outcome = liu.finish(outcome).await;
        let outcome = liu_phone.finish(outcome).await;
        li.finish(outcome).await
    })
    .await
}
