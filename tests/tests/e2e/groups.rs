//! Discussion groups through the real UI and server, with three people in
//! separate browsers: create one and chat in it, rename it, and remove a
//! member, who keeps the history but can no longer post.

use penpen_e2e::Harness;
use penpen_e2e::app::{LI, WANG, ZHANG, log_in, open_chat, row, screenshots, send};

fn picker_person(user: &str) -> String {
    format!(".picker__person[data-user=\"{user}\"] input")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_created_chatted_in_renamed_and_a_removed_member_cannot_post()
-> anyhow::Result<()> {
    Harness::run("groups", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            log_in(&li, LI).await?;

            // Create: a name and two colleagues, found by pinyin initials.
            wang.click("#new-group").await?;
            wang.click("#new-group-create").await?;
            wang.wait_for_text("#new-group-status", "请填写讨论组名称")
                .await?;
            wang.type_into("#new-group-name", "发布小组").await?;
            wang.type_into("#new-group .picker__search", "zw").await?;
            wang.click(&picker_person(ZHANG)).await?;
            wang.type_into("#new-group .picker__search", "cj").await?;
            wang.click(&picker_person(LI)).await?;
            wang.wait_for_text("#new-group-count", "已选 2 人").await?;
            screenshots(&wang, "new-group").await?;
            wang.click("#new-group-create").await?;

            // The new group's chat opens, with its creation notice.
            wang.wait_for_text("#chat-title", "发布小组").await?;
            let gid = wang
                .attribute("#chat", "data-peer")
                .await?
                .ok_or_else(|| anyhow::anyhow!("the chat names no peer"))?;
            wang.wait_for_count_with_text("#chat .notice", "创建了讨论组", 1)
                .await?;
            send(&wang, "各位好，发布计划在这里讨论").await?;

            for member in [&zhang, &li] {
                member.wait_for_count(&row(&gid), 1).await?;
                open_chat(member, &gid).await?;
                member
                    .wait_for_count_with_text("#chat .message", "各位好，发布计划在这里讨论", 1)
                    .await?;
            }
            send(&zhang, "收到").await?;
            wang.wait_for_count_with_text("#chat .message", "收到", 1)
                .await?;

            // Rename, from the group's page.
            wang.click("#chat-details").await?;
            wang.wait_for_attribute("#group-page", "data-gid", &gid)
                .await?;
            wang.wait_for_count("#group-page .member", 3).await?;
            wang.type_into("#group-rename-input", "发布小组（二期）")
                .await?;
            wang.click("#group-rename-save").await?;
            wang.wait_for_text("#group-name", "发布小组（二期）")
                .await?;
            zhang
                .wait_for_count_with_text("#chat .notice", "将讨论组改名为 发布小组（二期）", 1)
                .await?;
            zhang
                .wait_for_text("#chat-title", "发布小组（二期）")
                .await?;

            // Remove 陈静: only the holder sees the buttons.
            zhang.click("#chat-details").await?;
            zhang.wait_for_count("#group-page .member", 3).await?;
            anyhow::ensure!(
                zhang.count("#group-page .member__remove").await? == 0,
                "a member who is not the holder may not remove anyone"
            );
            screenshots(&wang, "group").await?;
            wang.click(&format!(
                "#group-page .member[data-user=\"{LI}\"] .member__remove"
            ))
            .await?;
            wang.wait_for_count("#group-page .member", 2).await?;

            // 陈静 keeps what was said, sees why, and cannot post any more.
            li.wait_for_count_with_text("#chat .notice", "移出了", 1)
                .await?;
            li.wait_for_count("#chat-readonly", 1).await?;
            anyhow::ensure!(
                li.count("#composer").await? == 0,
                "a removed member still has a composer"
            );
            li.wait_for_count_with_text("#chat .message", "各位好，发布计划在这里讨论", 1)
                .await?;
            screenshots(&li, "removed-from-group").await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        li.finish(outcome).await
    })
    .await
}
