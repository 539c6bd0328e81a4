//! Measures files of any kind in a headless Chromium tab (not part of the
//! test command; run `scripts/file-figures.sh`):
//!
//! - the tab's memory while it uploads a 100 MiB file: the peak resident
//!   memory of the tool's Chromium renderer processes and of the page's JS
//!   heap (WebAssembly memory is in the former only),
//!   next to the same before the upload (the file is read one 1 MiB chunk
//!   at a time, never whole);
//! - how long a resumed upload takes to continue after a network cut: from
//!   the network passing again to the first chunk the server acknowledges
//!   (the progress bar moving), after cuts of a few lengths.
//!
//! The browser runs on this machine, so `Date.now()` times both ends.

#![allow(clippy::print_stdout)]

use anyhow::{Context as _, bail};
use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat};
// ZHANG is only the recipient: no browser of theirs is opened.
use penpen_e2e::{Browser, Harness};
use std::time::{Duration, Instant};

/// Notes when the outbox bubble's progress value last changed, and to what.
const WATCH: &str = r#"
window.__penpenFile = { changedAt: null, value: 0 };
const seen = () => {
  const bar = document.querySelector('#chat .message[data-cid] .file__progress');
  const value = bar ? Number(bar.getAttribute('value')) : 0;
  if (value !== window.__penpenFile.value) {
    window.__penpenFile.value = value;
    window.__penpenFile.changedAt = Date.now();
  }
};
if (window.__penpenObserver) window.__penpenObserver.disconnect();
window.__penpenObserver = new MutationObserver(seen);
window.__penpenObserver.observe(document.body, { subtree: true, childList: true, attributes: true });
return true;
"#;

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The parent of every process, by pid.
fn parents() -> std::collections::HashMap<u32, u32> {
    let mut parents = std::collections::HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return parents;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the name may hold spaces.
        let ppid = stat
            .rfind(')')
            .and_then(|close| stat[close + 2..].split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            parents.insert(pid, ppid);
        }
    }
    parents
}

/// The resident memory of the renderer processes this tool's browser
/// started (descendants of this process: other programs' browsers on the
/// machine are not counted), in MiB.
fn renderer_rss_mib() -> f64 {
    let me = std::process::id();
    let parents = parents();
    let ours = |mut pid: u32| {
        while let Some(&parent) = parents.get(&pid) {
            if parent == me {
                return true;
            }
            if parent <= 1 {
                return false;
            }
            pid = parent;
        }
        false
    };
    let mut kib = 0u64;
    for (&pid, _) in parents.iter().filter(|(pid, _)| ours(**pid)) {
        let path = std::path::Path::new("/proc").join(pid.to_string());
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains("chrom") || !cmdline.contains("--type=renderer") {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(path.join("status")) else {
            continue;
        };
        kib += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    kib as f64 / 1024.0
}

async fn js_heap_mib(browser: &Browser) -> anyhow::Result<f64> {
    let metrics = browser
        .devtools("Performance.getMetrics", serde_json::json!({}))
        .await?;
    let used = metrics["metrics"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["name"] == "JSHeapUsedSize"))
        .and_then(|m| m["value"].as_f64())
        .unwrap_or(0.0);
    Ok(used / (1024.0 * 1024.0))
}

async fn progress(browser: &Browser) -> anyhow::Result<u64> {
    Ok(browser
        .attribute("#chat .message[data-cid] .file__progress", "value")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn write_file(
    folder: &std::path::Path,
    name: &str,
    mib: usize,
) -> anyhow::Result<std::path::PathBuf> {
    let path = folder.join(name);
    let mut x: u32 = 0x1234_5678 ^ mib as u32;
    let data: Vec<u8> = (0..mib * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(&path, data)?;
    Ok(path)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    Harness::run("file_figures", |harness| async move {
        let folder = tempfile::tempdir()?;
        let big = write_file(folder.path(), "一百兆.bin", 100)?;
        // One browser only: the renderers measured are this tab's (the
        // recipient needs no browser for the upload).
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            open_chat(&wang, ZHANG).await?;
            wang.devtools("Performance.enable", serde_json::json!({})).await?;

            // Memory during a 100 MiB upload.
            let (rss_before, heap_before) = (renderer_rss_mib(), js_heap_mib(&wang).await?);
            let started = Instant::now();
            wang.upload("#file-input", &big).await?;
            let (mut rss_peak, mut heap_peak) = (rss_before, heap_before);
            loop {
                rss_peak = rss_peak.max(renderer_rss_mib());
                heap_peak = heap_peak.max(js_heap_mib(&wang).await?);
                if wang.count("#chat .message[data-id] .file").await? == 1 {
                    break;
                }
                if started.elapsed() > Duration::from_secs(600) {
                    bail!("the 100 MiB upload did not finish within 10 minutes");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let took = started.elapsed().as_secs_f64();
            println!(
                "100 MiB upload from the tab: {took:.1} s ({:.1} MiB/s through the app)",
                100.0 / took
            );
            println!(
                "  renderer processes' resident memory: {rss_before:.0} MiB before, peak {rss_peak:.0} MiB during"
            );
            println!(
                "  the page's JS heap: {heap_before:.1} MiB before, peak {heap_peak:.1} MiB during"
            );

            // Resuming after cuts.
            let mut resumes = Vec::new();
            for (round, cut) in [2u64, 5, 10, 2, 5, 10].into_iter().enumerate() {
                let file = write_file(folder.path(), &format!("续传{round}.bin"), 20)?;
                wang.script(WATCH).await?;
                wang.upload("#file-input", &file).await?;
                let deadline = Instant::now() + Duration::from_secs(120);
                while progress(&wang).await? < 3 * 1024 * 1024 {
                    if Instant::now() > deadline {
                        bail!("round {round}: the upload did not start");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                faults.cut();
                tokio::time::sleep(Duration::from_secs(cut)).await;
                let value_at_cut = progress(&wang).await?;
                let passed_at = now_ms();
                faults.pass();
                let deadline = Instant::now() + Duration::from_secs(120);
                let moved_at = loop {
                    let noted = wang.script("return window.__penpenFile;").await?;
                    let value = noted["value"].as_f64().unwrap_or(0.0) as u64;
                    if value > value_at_cut {
                        break noted["changedAt"].as_f64().context("a change time")?;
                    }
                    if Instant::now() > deadline {
                        bail!("round {round}: the upload did not go on after the cut");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let resumed = moved_at - passed_at;
                println!("  cut of {cut} s: the upload went on {resumed:.0} ms after the network came back");
                resumes.push((cut, resumed));
                let deadline = Instant::now() + Duration::from_secs(300);
                while wang.count("#chat .message[data-cid]").await? > 0 {
                    if Instant::now() > deadline {
                        bail!("round {round}: the upload did not finish");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            let mut all: Vec<f64> = resumes.iter().map(|(_, ms)| *ms).collect();
            all.sort_by(f64::total_cmp);
            println!(
                "resume after a cut (network back → first acknowledged chunk): median {:.0} ms, min {:.0} ms, max {:.0} ms over {} cuts",
                all[all.len() / 2],
                all[0],
                all[all.len() - 1],
                all.len()
            );
            Ok(())
        }
        .await;
        let outcome = wang.finish(outcome).await;
        faults.stop().await;
        outcome
    })
    .await
}
