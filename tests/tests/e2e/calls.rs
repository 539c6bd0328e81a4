//! 1:1 calls between real browsers with Chromium's fake camera and
//! microphone, at 320 × 240: media proven to flow by `getStats()` on both
//! sides, every device of the callee ringing and one taking the call, and
//! the calls kept as history.

use penpen_core::packets::call::IceTransportPolicy;
use penpen_e2e::app::{LI, WANG, ZHANG, log_in, open_chat, row, screenshots};
use penpen_e2e::calls::{media_flows, use_light_video, wait_for_call_state};
use penpen_e2e::{Harness, TurnServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_call_rings_every_device_is_taken_on_one_and_carries_video_both_ways()
-> anyhow::Result<()> {
    Harness::run("video_call", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let zhang_phone = harness.open_app("zhang-phone").await?;
        let outcome = async {
            for (browser, account) in [(&wang, WANG), (&zhang, ZHANG), (&zhang_phone, ZHANG)] {
                log_in(browser, account).await?;
                use_light_video(browser).await?;
            }
            // A phone-sized window for the second device.
            zhang_phone.resize(390, 844).await?;
            open_chat(&wang, ZHANG).await?;
            wang.click("#chat-call-video").await?;
            wait_for_call_state(&wang, "outgoing").await?;

            // Both of 张伟's devices ring, with the caller's name.
            for device in [&zhang, &zhang_phone] {
                wait_for_call_state(device, "incoming").await?;
                device.wait_for_text("#call-screen", "王建国").await?;
            }
            wang.wait_for_attribute("#call-screen", "data-ringing", "true")
                .await?;
            screenshots(&zhang, "call-incoming").await?;

            // Taken on the desktop: the phone stops ringing.
            zhang.click("#call-accept").await?;
            zhang_phone
                .wait_for_count("#call-screen[data-call-state=\"incoming\"]", 0)
                .await?;
            wait_for_call_state(&wang, "connected").await?;
            wait_for_call_state(&zhang, "connected").await?;

            // Video and audio both ways, frames decoded and counting on.
            let at_wang = media_flows(&wang, true).await?;
            let at_zhang = media_flows(&zhang, true).await?;
            eprintln!("video call: 王建国 received {at_wang:?}, 张伟 received {at_zhang:?}");
            // No ICE servers on this LAN: host candidates carry it.
            wang.wait_for_attribute("#call-quality", "data-route", "host")
                .await?;
            screenshots(&zhang, "call-video").await?;

            // The phone never joined: no call on it.
            anyhow::ensure!(
                zhang_phone
                    .count("#call-screen[data-call-state=\"connected\"]")
                    .await?
                    == 0,
                "the other device joined the call"
            );

            zhang.click("#call-hang-up").await?;
            wait_for_call_state(&wang, "ended").await?;
            wang.wait_for_count("#call-screen", 0).await?;

            // The call is history, on every device of both.
            wang.wait_for_count_with_text("#chat .message", "视频通话", 1)
                .await?;
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .message", "视频通话", 1)
                .await?;
            open_chat(&zhang_phone, WANG).await?;
            zhang_phone
                .wait_for_count_with_text("#chat .message", "视频通话", 1)
                .await?;
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
async fn a_voice_call_from_the_contact_page_carries_audio_and_a_missed_call_stays_after_reload()
-> anyhow::Result<()> {
    Harness::run("voice_call", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let li = harness.open_app("li").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&li, LI).await?;
            use_light_video(&li).await?;

            // A voice call from 陈静's page in the directory.
            li.click("#tab-contacts").await?;
            li.type_into("#contact-search", "wjg").await?;
            li.wait_for_count("#directory .contact", 1).await?;
            li.click(&format!(".contact[data-user=\"{WANG}\"] .contact__open"))
                .await?;
            li.wait_for_attribute("#contact-page", "data-user", WANG)
                .await?;
            li.click("#contact-call-voice").await?;
            wait_for_call_state(&wang, "incoming").await?;
            wang.wait_for_attribute("#call-screen", "data-media", "audio")
                .await?;
            wang.click("#call-accept").await?;
            wait_for_call_state(&li, "connected").await?;
            wait_for_call_state(&wang, "connected").await?;
            let at_li = media_flows(&li, false).await?;
            let at_wang = media_flows(&wang, false).await?;
            eprintln!("voice call: 陈静 received {at_li:?}, 王建国 received {at_wang:?}");
            screenshots(&wang, "call-voice").await?;

            // 陈静 turns her camera on: after the renegotiation 王建国
            // decodes her video, and the call goes on.
            li.click("#call-camera").await?;
            let seen = media_flows(&wang, true).await?;
            eprintln!("voice call with 陈静's camera on: 王建国 received {seen:?}");
            wait_for_call_state(&li, "connected").await?;
            wang.click("#call-hang-up").await?;
            wait_for_call_state(&li, "ended").await?;

            // 陈静 calls again; nobody answers and she gives up.
            li.wait_for_count("#call-screen", 0).await?;
            li.click("#contact-call-voice").await?;
            wait_for_call_state(&wang, "incoming").await?;
            li.click("#call-hang-up").await?;
            wang.wait_for_count("#call-screen[data-call-state=\"incoming\"]", 0)
                .await?;

            // After a reload both still have both calls; 王建国's missed
            // call counts unread.
            for browser in [&wang, &li] {
                browser.goto(&harness.app_url).await?;
                browser
                    .wait_for_attribute("#connection", "data-state", "connected")
                    .await?;
            }
            wang.wait_for_text(&format!("{} .badge", row(LI)), "1")
                .await?;
            open_chat(&wang, LI).await?;
            wang.wait_for_count_with_text("#chat .message", "未接来电", 1)
                .await?;
            wang.wait_for_count_with_text("#chat .message", "语音通话", 1)
                .await?;
            open_chat(&li, WANG).await?;
            li.wait_for_count_with_text("#chat .message", "对方未接听", 1)
                .await?;
            li.wait_for_count_with_text("#chat .message", "语音通话", 1)
                .await?;

            // Calls are found by search, in the words the chat shows.
            wang.click("#chat-search").await?;
            wang.type_into("#search-input", "未接").await?;
            wang.wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            wang.wait_for_count_with_text(".search-hit mark", "未接", 1)
                .await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        li.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_only_deployment_carries_the_call_through_its_turn_server() -> anyhow::Result<()> {
    Harness::run("turn_call", |harness| async move {
        // A deployment whose people must not learn each other's addresses:
        // every call goes through its coturn, with the server's short-lived
        // credentials.
        let turn = TurnServer::start("penpen-e2e-call-secret").await?;
        harness
            .restart_server_with(|config| {
                config.calls.ice = turn.ice_config(IceTransportPolicy::Relay);
            })
            .await?;
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome: anyhow::Result<()> = async {
            for (browser, account) in [(&wang, WANG), (&zhang, ZHANG)] {
                log_in(browser, account).await?;
                use_light_video(browser).await?;
            }
            open_chat(&wang, ZHANG).await?;
            wang.click("#chat-call-video").await?;
            wait_for_call_state(&zhang, "incoming").await?;
            zhang.click("#call-accept").await?;
            for browser in [&wang, &zhang] {
                wait_for_call_state(browser, "connected").await?;
                media_flows(browser, true).await?;
                browser
                    .wait_for_attribute("#call-quality", "data-route", "relay")
                    .await?;
            }
            wang.click("#call-hang-up").await?;
            wait_for_call_state(&zhang, "ended").await?;
            Ok(())
        }
        .await;
        let outcome: anyhow::Result<()> = match outcome {
            Ok(()) => Ok(()),
            Err(err) => Err(err.context(format!("coturn's log:\n{}", turn.log()))),
        };
        let outcome = wang.finish(outcome).await;
        let outcome = zhang.finish(outcome).await;
        turn.stop().await;
        outcome
    })
    .await
}
