//! Voice messages with Chromium's fake microphone: recorded, refused when
//! too short, cancelled with Esc, sent, and played on the other side with
//! its unplayed mark going away.

use penpen_e2e::Harness;
use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, screenshots};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_message_is_recorded_sent_and_played() -> anyhow::Result<()> {
    Harness::run("voice", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            let bubbles = wang.count("#chat .message").await?;

            // Too short: refused, nothing sent.
            wang.click("#record-voice").await?;
            wang.wait_for_count("#voice-send:not([disabled])", 1).await?;
            wang.click("#voice-send").await?;
            wang.wait_for_text("#attach-error", "说话时间太短").await?;

            // Esc cancels.
            wang.click("#record-voice").await?;
            wang.wait_for_count("#voice-send:not([disabled])", 1).await?;
            wang.script("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' })); return true;")
                .await?;
            wang.wait_for_count("#voice-recording", 0).await?;

            // Two seconds, sent.
            wang.click("#record-voice").await?;
            wang.wait_for_count("#voice-send:not([disabled])", 1).await?;
            tokio::time::sleep(Duration::from_millis(2_300)).await;
            wang.wait_for_text("#voice-elapsed", "0:02").await?;
            screenshots(&wang, "recording").await?;
            wang.click("#voice-send").await?;
            wang.wait_for_count("#chat .message[data-id] .voice", 1).await?;
            // Two seconds and the clicks around them: sent as 2 or 3.
            let seconds = wang
                .text("#chat .message[data-id] .voice .voice__seconds")
                .await?;
            anyhow::ensure!(
                seconds == "2″" || seconds == "3″",
                "the recording was sent as {seconds}"
            );
            anyhow::ensure!(
                wang.count("#chat .message").await? == bubbles + 1,
                "only the two-second recording was sent"
            );

            // The other side: unplayed until played; then it plays.
            open_chat(&zhang, WANG).await?;
            zhang
                .wait_for_count("#chat .voice[data-played=\"false\"] .voice__unplayed", 1)
                .await?;
            screenshots(&zhang, "voice").await?;
            zhang.click("#chat .voice").await?;
            zhang
                .wait_for_attribute("#chat .voice", "data-played", "true")
                .await?;
            zhang.wait_for_count("#chat .voice__unplayed", 0).await?;
            // It really plays: the audio's time moves on, and it ends.
            zhang
                .wait_for_attribute("#chat .voice", "data-state", "playing")
                .await?;
            zhang
                .wait_for_attribute("#chat .voice", "data-state", "paused")
                .await?;
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
