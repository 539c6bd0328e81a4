//! The reconnect storm: every client of a busy server resumes at once after
//! a restart, each after the web client's reconnect jitter.

use crate::{ServerProcess, Socket, account, connect, log_in_all, reply, send_packet};
use penpen_core::Service;
use penpen_core::packets::login::{LoginReply, Resume};
use penpen_core::sync::{RECONNECT_FIRST_MS, RECONNECT_MAX_MS, Rng, backoff_ms};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Opens `sessions` live sessions (resumed from `users` logins), restarts
/// the server, then lets every session resume as the web client does: the
/// first retry after `backoff_ms(1, …)` (0.5–1 s), later ones backing off.
/// Reports the time from the server listening again until every session is
/// live, and the percentiles of each session's wait.
pub(crate) async fn storm_scenario(
    server: &mut ServerProcess,
    users: usize,
    sessions: usize,
) -> anyhow::Result<()> {
    let streams = log_in_all(server, users).await?;
    let tokens: Vec<String> = streams.iter().map(|(_, t)| t.clone()).collect();
    drop(streams);
    let addr = server.addr(Service::Login);

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = Vec::with_capacity(sessions);
    for k in 0..sessions {
        let (gate, token) = (gate.clone(), tokens[k % users].clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            resume(addr, k % users, token).await
        }));
    }
    let mut held = Vec::with_capacity(sessions);
    for task in opening {
        held.push(task.await??);
    }
    println!(
        "opened {sessions} live sessions (64 resumes at a time) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    server.restart().await?;
    drop(held); // the sockets died with the old process
    let back = Instant::now();
    let mut waiting = Vec::with_capacity(sessions);
    for k in 0..sessions {
        let token = tokens[k % users].clone();
        waiting.push(tokio::spawn(async move {
            let mut rng = Rng::new(0x5EED ^ k as u64);
            for attempt in 1u32.. {
                let wait = backoff_ms(attempt, RECONNECT_FIRST_MS, RECONNECT_MAX_MS, &mut rng);
                tokio::time::sleep(Duration::from_millis(wait.max(0) as u64)).await;
                let tried = Instant::now();
                if let Ok(socket) = resume(addr, k % users, token.clone()).await {
                    return Some((socket, tried.elapsed(), back.elapsed(), attempt));
                }
                if back.elapsed() > Duration::from_secs(600) {
                    break;
                }
            }
            None
        }));
    }
    let mut resumed = Vec::with_capacity(sessions);
    let mut failed = 0usize;
    for task in waiting {
        match task.await? {
            Some(outcome) => resumed.push(outcome),
            None => failed += 1,
        }
    }
    let all_in = resumed
        .iter()
        .map(|(_, _, at, _)| *at)
        .max()
        .unwrap_or_default();
    let retried = resumed.iter().filter(|(_, _, _, tries)| *tries > 1).count();
    let mut waits: Vec<Duration> = resumed.iter().map(|(_, took, _, _)| *took).collect();
    waits.sort_unstable();
    let mut at: Vec<Duration> = resumed.iter().map(|(_, _, at, _)| *at).collect();
    at.sort_unstable();
    let pick = |list: &[Duration], p: f64| -> f64 {
        if list.is_empty() {
            return f64::NAN;
        }
        list[((list.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "storm: {} of {sessions} sessions resumed {:.1} s after the restarted server listened ({failed} gave up, {retried} needed a retry)",
        resumed.len(),
        all_in.as_secs_f64()
    );
    println!(
        "  resume round trip: p50 {:.0} ms, p99 {:.0} ms; live after the restart: p50 {:.0} ms, p99 {:.0} ms",
        pick(&waits, 0.50),
        pick(&waits, 0.99),
        pick(&at, 0.50),
        pick(&at, 0.99)
    );
    drop(resumed);
    if failed > 0 {
        anyhow::bail!("{failed} sessions did not resume");
    }
    Ok(())
}

async fn resume(addr: std::net::SocketAddr, index: usize, token: String) -> anyhow::Result<Socket> {
    let mut socket = connect(addr, None).await?;
    send_packet(
        &mut socket,
        &Resume {
            user: account(index),
            token,
            // As the web client resumes.
            catch_up: true,
        },
    )
    .await?;
    let _: LoginReply = reply(&mut socket).await?;
    Ok(socket)
}
