//! Company broadcasts through the real UI and server: a broadcaster sends
//! one, a colleague gets it live, unread, and reads it; only broadcasters
//! see the form.

use penpen_e2e::Harness;
use penpen_e2e::app::{WANG, ZHANG, log_in, screenshots};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_arrives_live_unread_and_is_read() -> anyhow::Result<()> {
    Harness::run("broadcasts", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;

            // The demo company's broadcasts came with the first sync, read.
            zhang.click("#tab-broadcasts").await?;
            zhang.wait_for_count("#broadcasts .broadcast", 3).await?;
            anyhow::ensure!(
                zhang.count(".broadcast[data-unread=\"true\"]").await? == 0,
                "a new device's backlog counts as read"
            );
            anyhow::ensure!(
                zhang.count("#new-broadcast").await? == 0,
                "张伟 may not broadcast, and sees no form"
            );

            wang.click("#tab-broadcasts").await?;
            wang.click("#new-broadcast").await?;
            wang.click("#broadcast-send").await?;
            wang.wait_for_text("#broadcast-status", "请填写标题")
                .await?;
            wang.script("document.querySelector('#broadcast-kind').value = '2'; return true;")
                .await?;
            wang.type_into("#broadcast-title-input", "关于元旦放假的公告")
                .await?;
            wang.type_into(
                "#broadcast-content-input",
                "1月1日至3日放假，共3天。\n请各部门提前安排好工作。",
            )
            .await?;
            screenshots(&wang, "new-broadcast").await?;
            wang.click("#broadcast-send").await?;
            wang.wait_for_text("#broadcast-title", "关于元旦放假的公告")
                .await?;

            // Live, unread, counted on the tab.
            zhang
                .wait_for_count(".broadcast[data-unread=\"true\"]", 1)
                .await?;
            zhang.wait_for_text("#tab-broadcasts", "通知 1").await?;
            zhang
                .wait_for_text(".broadcast[data-unread=\"true\"] .broadcast__kind", "公告")
                .await?;
            screenshots(&zhang, "broadcasts").await?;
            zhang
                .click(".broadcast[data-unread=\"true\"] .broadcast__open")
                .await?;
            zhang
                .wait_for_text("#broadcast-content", "请各部门提前安排好工作")
                .await?;
            zhang
                .wait_for_count(".broadcast[data-unread=\"true\"]", 0)
                .await?;
            screenshots(&zhang, "broadcast").await?;
            // Read stays read after a reload.
            zhang.goto(&harness.app_url).await?;
            zhang.click("#tab-broadcasts").await?;
            zhang.wait_for_count("#broadcasts .broadcast", 4).await?;
            anyhow::ensure!(
                zhang.count(".broadcast[data-unread=\"true\"]").await? == 0,
                "the read mark was kept"
            );
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
