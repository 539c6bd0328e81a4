//! Steps of a group meeting through the app's meeting screen, and the proof
//! that media flows: every remote participant's tile (`.meeting-tile`)
//! carries the `getStats()` counts of what this browser receives from them,
//! refreshed every second or two.

use crate::Browser;
use anyhow::{Context, bail};
use std::time::{Duration, Instant};

/// How long media may take to start or to move on, on a busy 2-core machine.
const MEDIA_DEADLINE: Duration = Duration::from_secs(90);

/// The tile of `user` on the meeting screen.
pub fn tile(user: &str) -> String {
    format!("#meeting-screen .meeting-tile[data-user=\"{user}\"]")
}

/// Waits until the meeting screen's connection shows `link`
/// (`connecting`, `connected`, `reconnecting`).
pub async fn wait_for_link(browser: &Browser, link: &str) -> anyhow::Result<()> {
    browser
        .wait_for_attribute("#meeting-screen", "data-link", link)
        .await
        .with_context(|| format!("the meeting screen never showed {link}"))?;
    Ok(())
}

/// Waits until the meeting screen counts `count` participants.
pub async fn wait_for_participants(browser: &Browser, count: usize) -> anyhow::Result<()> {
    browser
        .wait_for_attribute("#meeting-screen", "data-count", &count.to_string())
        .await
        .with_context(|| format!("the meeting screen never counted {count} participants"))?;
    Ok(())
}

/// What one tile counts of what this browser receives from its participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TileCounts {
    /// Video frames decoded.
    pub video_frames: u64,
    /// Audio packets received.
    pub audio_packets: u64,
}

/// Reads `user`'s tile counts (zero when the tile or a count is not there yet).
pub async fn tile_counts(browser: &Browser, user: &str) -> anyhow::Result<TileCounts> {
    let read = |name: &'static str| async move {
        let value = browser.attribute(&tile(user), name).await.ok().flatten();
        Ok::<u64, anyhow::Error>(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    };
    Ok(TileCounts {
        video_frames: read("data-video-frames-decoded").await?,
        audio_packets: read("data-audio-packets-received").await?,
    })
}

/// Proves `browser` receives `from`'s audio and video: both counts rise, and
/// rise again. Returns how long until the first video frame was decoded,
/// counted from the call, and the last counts.
pub async fn media_flows_from(
    browser: &Browser,
    from: &str,
) -> anyhow::Result<(Duration, TileCounts)> {
    let started = Instant::now();
    let first = wait_for_tile(browser, from, |c| c.video_frames > 0 && c.audio_packets > 0).await?;
    let to_first_frame = started.elapsed();
    let second = wait_for_tile(browser, from, |c| {
        c.video_frames > first.video_frames && c.audio_packets > first.audio_packets
    })
    .await?;
    Ok((to_first_frame, second))
}

async fn wait_for_tile(
    browser: &Browser,
    user: &str,
    enough: impl Fn(&TileCounts) -> bool,
) -> anyhow::Result<TileCounts> {
    let deadline = Instant::now() + MEDIA_DEADLINE;
    loop {
        let counts = tile_counts(browser, user).await?;
        if enough(&counts) {
            return Ok(counts);
        }
        if Instant::now() > deadline {
            bail!(
                "media from {user} did not flow within {MEDIA_DEADLINE:?}: last counts {counts:?}, meeting screen link {:?}, {:?} participants",
                browser
                    .attribute("#meeting-screen", "data-link")
                    .await
                    .ok()
                    .flatten(),
                browser
                    .attribute("#meeting-screen", "data-count")
                    .await
                    .ok()
                    .flatten(),
            );
        }
        // The counts refresh every second or two: looking more often only
        // costs the busy machine.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
