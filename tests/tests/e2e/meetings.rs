//! Group meetings between three real browsers with Chromium's fake camera
//! and microphone, at 320 × 240, through the server's media forwarder:
//! each proves by `getStats()` that it decodes the other two's video and
//! receives their audio; one leaves and comes back late and gets video at
//! once; the meeting's start and end stay in the group's history.

use penpen_e2e::Harness;
use penpen_e2e::app::{LI, LIU, TECH_GROUP, ZHANG, log_in, open_chat, screenshots};
use penpen_e2e::calls::use_light_video;
use penpen_e2e::meetings::{media_flows_from, tile, wait_for_link, wait_for_participants};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_browsers_meet_in_a_group_each_sees_and_hears_the_other_two_and_a_late_joiner_gets_video()
-> anyhow::Result<()> {
    Harness::run("meeting", |harness| async move {
        let zhang = harness.open_app("zhang").await?;
        let li = harness.open_app("li").await?;
        let liu = harness.open_app("liu").await?;
        let outcome = async {
            for (browser, account) in [(&zhang, ZHANG), (&li, LI), (&liu, LIU)] {
                log_in(browser, account).await?;
                use_light_video(browser).await?;
                open_chat(browser, TECH_GROUP).await?;
            }

            // 张伟 starts the meeting from the group chat.
            zhang.click("#chat-meeting-start").await?;
            wait_for_link(&zhang, "connected").await?;
            // The other members see it running, and join from the bar.
            for browser in [&li, &liu] {
                browser
                    .wait_for_attribute("#meeting-bar", "data-count", "1")
                    .await?;
                browser.wait_for_text("#meeting-bar", "会议进行中").await?;
            }
            screenshots(&li, "meeting-bar").await?;
            li.click("#meeting-join").await?;
            wait_for_link(&li, "connected").await?;
            liu.wait_for_attribute("#meeting-bar", "data-count", "2")
                .await?;
            liu.click("#meeting-join").await?;
            wait_for_link(&liu, "connected").await?;
            for browser in [&zhang, &li, &liu] {
                wait_for_participants(browser, 3).await?;
                browser
                    .wait_for_count("#meeting-screen .meeting-tile", 3)
                    .await?;
            }

            // Everyone decodes the other two's video and receives their audio.
            for (browser, me, others) in [
                (&zhang, ZHANG, [LI, LIU]),
                (&li, LI, [ZHANG, LIU]),
                (&liu, LIU, [ZHANG, LI]),
            ] {
                browser
                    .wait_for_attribute(&tile(me), "data-self", "true")
                    .await?;
                for other in others {
                    let (_, counts) = media_flows_from(browser, other).await?;
                    eprintln!("meeting: {me} receives from {other}: {counts:?}");
                }
            }
            screenshots(&zhang, "meeting-three").await?;

            // 陈静 leaves: the others see two, and her tile goes.
            li.click("#meeting-leave").await?;
            li.wait_for_count("#meeting-screen", 0).await?;
            for browser in [&zhang, &liu] {
                wait_for_participants(browser, 2).await?;
                browser.wait_for_count(&tile(LI), 0).await?;
            }
            li.wait_for_attribute("#meeting-bar", "data-count", "2")
                .await?;

            // She comes back late: video from both others starts at once
            // (the forwarder asks their senders for a keyframe).
            li.click("#meeting-join").await?;
            wait_for_link(&li, "connected").await?;
            for other in [ZHANG, LIU] {
                let (first_frame, _) = media_flows_from(&li, other).await?;
                eprintln!(
                    "meeting: the late joiner's first frame from {other} after {first_frame:?}"
                );
            }
            for browser in [&zhang, &liu] {
                wait_for_participants(browser, 3).await?;
                media_flows_from(browser, LI).await?;
            }

            // Her microphone off: everyone sees it on her tile.
            li.click("#meeting-mic").await?;
            for browser in [&zhang, &liu] {
                browser
                    .wait_for_attribute(&tile(LI), "data-mic", "false")
                    .await?;
            }

            // 刘洋 turns his camera off and on again: no renegotiation, the
            // others see it on his tile and his video comes back.
            liu.click("#meeting-camera").await?;
            zhang
                .wait_for_attribute(&tile(LIU), "data-camera", "false")
                .await?;
            liu.click("#meeting-camera").await?;
            zhang
                .wait_for_attribute(&tile(LIU), "data-camera", "true")
                .await?;
            media_flows_from(&zhang, LIU).await?;

            // 刘洋 may not end it; 张伟 started it and ends it for everyone.
            liu.wait_for_count("#meeting-end", 0).await?;
            zhang.click("#meeting-end").await?;
            for browser in [&li, &liu] {
                browser
                    .wait_for_attribute("#meeting-screen", "data-ended", "ended")
                    .await?;
            }
            for browser in [&zhang, &li, &liu] {
                browser.wait_for_count("#meeting-bar", 0).await?;
                // Start and end are notices in the group's history.
                browser
                    .wait_for_count_with_text("#chat .notice", "发起了会议", 1)
                    .await?;
                browser
                    .wait_for_count_with_text("#chat .notice", "3人参加", 1)
                    .await?;
            }
            Ok(())
        }
        .await;
        let outcome = zhang.finish(outcome).await;
        let outcome = li.finish(outcome).await;
        liu.finish(outcome).await
    })
    .await
}
