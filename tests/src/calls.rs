//! Steps of a call through the app's call screen, and the proof that media
//! flows: the screen's quality indicator (`#call-quality`) carries the peer
//! connection's `getStats()` counts, refreshed every two seconds.

use crate::Browser;
use anyhow::{Context, bail};
use std::time::{Duration, Instant};

/// How long media may take to start or to move on, on a busy 2-core machine.
const MEDIA_DEADLINE: Duration = Duration::from_secs(90);

/// Asks the camera for 320 × 240 at 15 frames a second from now on (the
/// Me page's 流畅 setting), so two or three browsers fit on two cores.
pub async fn use_light_video(browser: &Browser) -> anyhow::Result<()> {
    browser
        .script("localStorage.setItem('penpen.call.video', 'smooth'); return true;")
        .await?;
    Ok(())
}

/// Waits until the call screen shows `state` (`incoming`, `connected`, …).
pub async fn wait_for_call_state(browser: &Browser, state: &str) -> anyhow::Result<()> {
    browser
        .wait_for_attribute("#call-screen", "data-call-state", state)
        .await
        .with_context(|| format!("the call screen never showed {state}"))?;
    Ok(())
}

/// What the quality indicator counts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaCounts {
    /// Video frames decoded from the other party.
    pub video_frames: u64,
    /// Audio packets received from the other party.
    pub audio_packets: u64,
}

/// Reads the call screen's counts (zero when not shown yet).
pub async fn media_counts(browser: &Browser) -> anyhow::Result<MediaCounts> {
    let read = |name: &'static str| async move {
        let value = browser
            .attribute("#call-quality", name)
            .await
            .ok()
            .flatten();
        Ok::<u64, anyhow::Error>(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    };
    Ok(MediaCounts {
        video_frames: read("data-video-frames-decoded").await?,
        audio_packets: read("data-audio-packets-received").await?,
    })
}

/// Proves media flows to `browser`: audio packets (and, with `video`, video
/// frames decoded) arrive and keep arriving — counted twice, the second
/// count higher than the first. Returns the second count.
pub async fn media_flows(browser: &Browser, video: bool) -> anyhow::Result<MediaCounts> {
    let enough = |counts: &MediaCounts, than: &MediaCounts| {
        counts.audio_packets > than.audio_packets
            && (!video || counts.video_frames > than.video_frames)
    };
    let none = MediaCounts {
        video_frames: 0,
        audio_packets: 0,
    };
    let first = wait_for_counts(browser, |c| enough(c, &none)).await?;
    wait_for_counts(browser, |c| enough(c, &first)).await
}

async fn wait_for_counts(
    browser: &Browser,
    enough: impl Fn(&MediaCounts) -> bool,
) -> anyhow::Result<MediaCounts> {
    let deadline = Instant::now() + MEDIA_DEADLINE;
    loop {
        let counts = media_counts(browser).await?;
        if enough(&counts) {
            return Ok(counts);
        }
        if Instant::now() > deadline {
            bail!(
                "media did not flow within {MEDIA_DEADLINE:?}: last counts {counts:?}, call screen {:?}",
                browser
                    .attribute("#call-screen", "data-call-state")
                    .await
                    .ok()
                    .flatten()
            );
        }
        // The indicator refreshes every two seconds: looking more often
        // only costs the busy machine.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
