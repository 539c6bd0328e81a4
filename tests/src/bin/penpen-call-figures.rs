//! Measures 1:1 video calls between two headless Chromium browsers with
//! fake cameras at 320 × 240 (not part of the test command; run
//! `scripts/call-figures.sh`):
//!
//! - from pressing the call button to the callee's screen ringing;
//! - from pressing accept to the first remote video frame shown, on the
//!   callee and on the caller;
//! - the CPU the two browsers (every Chromium process) use during a call,
//!   over 30 seconds, in percent of one core.
//!
//! With `meeting` it measures a group meeting of three browsers instead:
//!
//! - from a late joiner pressing join to the first video frame shown of each
//!   of the two already in the meeting;
//! - the CPU the three browsers use during the meeting, over 30 seconds.
//!
//! The browsers run on this machine, so one clock (`Date.now()`) times
//! every end. The frame times come from the page itself
//! (`requestVideoFrameCallback` on the remote video), not from polling.

#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use penpen_e2e::app::{LI, LIU, TECH_GROUP, WANG, ZHANG, log_in, open_chat};
use penpen_e2e::calls::{media_flows, use_light_video, wait_for_call_state};
use penpen_e2e::meetings::{media_flows_from, wait_for_link, wait_for_participants};
use penpen_e2e::{Browser, Harness};
use std::time::{Duration, Instant};

/// Calls measured.
const CALLS: usize = 5;
/// How long the CPU is measured during a call.
const CPU_WINDOW: Duration = Duration::from_secs(30);

/// Installed in a page before a call: notes when the call screen first
/// shows `incoming`, and when the remote video presents its first frame.
const WATCH: &str = r#"
window.__penpenCall = { ringAt: null, firstFrameAt: null };
const seen = () => {
  const screen = document.querySelector('#call-screen');
  if (screen && screen.dataset.callState === 'incoming' && window.__penpenCall.ringAt === null) {
    window.__penpenCall.ringAt = Date.now();
  }
  const video = document.querySelector('#call-remote');
  if (video && !video.__penpenWatched) {
    video.__penpenWatched = true;
    video.requestVideoFrameCallback(() => {
      if (window.__penpenCall.firstFrameAt === null) window.__penpenCall.firstFrameAt = Date.now();
    });
  }
};
if (window.__penpenObserver) window.__penpenObserver.disconnect();
window.__penpenObserver = new MutationObserver(seen);
window.__penpenObserver.observe(document.body, { subtree: true, childList: true, attributes: true });
return true;
"#;

/// Installed in the late joiner's page before it joins: notes when each
/// remote participant's tile video presents its first frame.
const MEETING_WATCH: &str = r#"
window.__penpenCall = {};
const seen = () => {
  for (const tile of document.querySelectorAll('#meeting-screen .meeting-tile')) {
    const video = tile.querySelector('video');
    const user = tile.dataset.user;
    if (tile.dataset.self === 'true' || !video || video.__penpenWatched) continue;
    video.__penpenWatched = true;
    video.requestVideoFrameCallback(() => {
      const key = 'firstFrameOf' + user;
      if (!(key in window.__penpenCall)) window.__penpenCall[key] = Date.now();
    });
  }
};
if (window.__penpenObserver) window.__penpenObserver.disconnect();
window.__penpenObserver = new MutationObserver(seen);
window.__penpenObserver.observe(document.body, { subtree: true, childList: true, attributes: true });
return true;
"#;

/// Clicks `css` and returns the time of the click (ms since the epoch).
async fn click_at(browser: &Browser, css: &str) -> anyhow::Result<f64> {
    let at = browser
        .script_with(
            "const t = Date.now(); document.querySelector(arguments[0]).click(); return t;",
            vec![css.into()],
        )
        .await?;
    at.as_f64().context("the click's time")
}

/// Waits for a time the watcher noted.
async fn noted(browser: &Browser, what: &str) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let value = browser
            .script_with(
                "return window.__penpenCall ? window.__penpenCall[arguments[0]] : null;",
                vec![what.into()],
            )
            .await?;
        if let Some(at) = value.as_f64() {
            return Ok(at);
        }
        if Instant::now() > deadline {
            bail!("{what} was never noted");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// CPU time (user + system, in clock ticks) of every Chromium process now.
fn chromium_ticks() -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc")? {
        let path = entry?.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // `pid (comm) state …`: the name may hold spaces, so split after ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        if !(name.starts_with("chrom") || name.contains("Chrome")) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat; here 12 and 13
        // (after pid and comm).
        let ticks = |at: usize| {
            fields
                .get(at)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += ticks(11) + ticks(12);
    }
    Ok(total)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn summary(name: &str, values: &[f64]) {
    summary_of(name, values, "calls");
}

fn summary_of(name: &str, values: &[f64], unit: &str) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{name}: median {median:.0} ms, min {:.0} ms, max {:.0} ms over {} {unit}",
        sorted[0],
        sorted[sorted.len() - 1],
        sorted.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("meeting") {
        return Harness::run("meeting_figures", |harness| async move {
            let zhang = harness.open_app("starter").await?;
            let liu = harness.open_app("member").await?;
            let li = harness.open_app("late-joiner").await?;
            let outcome = measure_meeting(&zhang, &liu, &li).await;
            let outcome = zhang.finish(outcome).await;
            let outcome = liu.finish(outcome).await;
            li.finish(outcome).await
        })
        .await;
    }
    Harness::run("call_figures", |harness| async move {
        let wang = harness.open_app("caller").await?;
        let zhang = harness.open_app("callee").await?;
        let outcome = measure(&wang, &zhang).await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

async fn measure(wang: &Browser, zhang: &Browser) -> anyhow::Result<()> {
    log_in(wang, WANG).await?;
    log_in(zhang, ZHANG).await?;
    use_light_video(wang).await?;
    use_light_video(zhang).await?;
    open_chat(wang, ZHANG).await?;
    let (mut ring, mut callee_frame, mut caller_frame) = (Vec::new(), Vec::new(), Vec::new());
    for call in 0..CALLS {
        wang.script(WATCH).await?;
        zhang.script(WATCH).await?;
        let pressed = click_at(wang, "#chat-call-video").await?;
        let rang = noted(zhang, "ringAt").await?;
        let accepted = click_at(zhang, "#call-accept").await?;
        let at_callee = noted(zhang, "firstFrameAt").await?;
        let at_caller = noted(wang, "firstFrameAt").await?;
        ring.push(rang - pressed);
        callee_frame.push(at_callee - accepted);
        caller_frame.push(at_caller - accepted);
        wait_for_call_state(wang, "connected").await?;
        if call == CALLS - 1 {
            // The last call runs on for the CPU figure.
            media_flows(wang, true).await?;
            media_flows(zhang, true).await?;
            let (used, over) = chromium_cpu().await?;
            let counts = media_flows(zhang, true).await?;
            println!(
                "CPU of both browsers during a 320×240 video call: {:.0}% of one core \
                 ({used:.1} s over {over:.1} s; the callee had decoded {} frames by then)",
                used * 100.0 / over,
                counts.video_frames
            );
        }
        wang.click("#call-hang-up").await?;
        wait_for_call_state(zhang, "ended").await?;
        wang.wait_for_count("#call-screen", 0).await?;
        zhang.wait_for_count("#call-screen", 0).await?;
    }
    summary("press call → callee rings", &ring);
    summary("accept → first remote frame at the callee", &callee_frame);
    summary("accept → first remote frame at the caller", &caller_frame);
    Ok(())
}

/// CPU seconds every Chromium process used over [`CPU_WINDOW`], and the
/// seconds it took.
async fn chromium_cpu() -> anyhow::Result<(f64, f64)> {
    let (ticks, started) = (chromium_ticks()?, Instant::now());
    tokio::time::sleep(CPU_WINDOW).await;
    let used = (chromium_ticks()? - ticks) as f64 / TICKS_PER_SECOND;
    Ok((used, started.elapsed().as_secs_f64()))
}

async fn measure_meeting(zhang: &Browser, liu: &Browser, li: &Browser) -> anyhow::Result<()> {
    for (browser, account) in [(zhang, ZHANG), (liu, LIU), (li, LI)] {
        log_in(browser, account).await?;
        use_light_video(browser).await?;
        open_chat(browser, TECH_GROUP).await?;
    }
    zhang.click("#chat-meeting-start").await?;
    wait_for_link(zhang, "connected").await?;
    liu.wait_for_attribute("#meeting-bar", "data-count", "1")
        .await?;
    liu.click("#meeting-join").await?;
    wait_for_link(liu, "connected").await?;
    media_flows_from(zhang, LIU).await?;
    media_flows_from(liu, ZHANG).await?;
    let (mut first, mut both) = (Vec::new(), Vec::new());
    for join in 0..CALLS {
        li.wait_for_attribute("#meeting-bar", "data-count", "2")
            .await?;
        li.script(MEETING_WATCH).await?;
        let pressed = click_at(li, "#meeting-join").await?;
        let of_zhang = noted(li, &format!("firstFrameOf{ZHANG}")).await? - pressed;
        let of_liu = noted(li, &format!("firstFrameOf{LIU}")).await? - pressed;
        first.push(of_zhang.min(of_liu));
        both.push(of_zhang.max(of_liu));
        if join == CALLS - 1 {
            wait_for_participants(zhang, 3).await?;
            media_flows_from(zhang, LI).await?;
            let (used, over) = chromium_cpu().await?;
            println!(
                "CPU of three browsers in a 320×240 meeting: {:.0}% of one core ({used:.1} s over {over:.1} s)",
                used * 100.0 / over
            );
        }
        li.click("#meeting-leave").await?;
        li.wait_for_count("#meeting-screen", 0).await?;
    }
    summary_of(
        "late joiner: press join → first remote frame",
        &first,
        "joins",
    );
    summary_of(
        "late joiner: press join → frames of both others",
        &both,
        "joins",
    );
    Ok(())
}
