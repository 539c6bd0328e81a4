//! The network between one browser and the server fails the ways real
//! networks do (see `penpen_e2e::faults`): every connection reset, or
//! silently dropped with nothing forwarded and nothing closed. Nothing is
//! lost or doubled, from the sender's view or the recipient's, and the
//! connection indicator tells the truth.

use penpen_e2e::app::{WANG, ZHANG, log_in, open_chat, send, wait_for_exactly};
use penpen_e2e::{Browser, Harness};
use std::time::Duration;

/// How long to watch for a late duplicate once everything arrived.
const SETTLE: Duration = Duration::from_secs(2);

/// The engine's heartbeat must notice a silent drop within this long.
const SILENT_DROP_NOTICED: Duration = Duration::from_secs(30);

/// How soon "at once" is, for the browser's own offline and online events.
const AT_ONCE: Duration = Duration::from_secs(5);

/// The server's ping interval where a silence should outlast its sessions.
const SERVER_HEARTBEAT: Duration = Duration::from_millis(500);

const QUEUED: &str = "#chat .message__state[data-state=\"queued\"]";

/// How long a browser may take to reconnect once a cut ends: its stream
/// waits up to the longest reconnect backoff (a long cut has doubled it
/// that far) before trying again, then gets the usual wait.
const RECONNECTED: Duration = Duration::from_millis(penpen_core::sync::RECONNECT_MAX_MS as u64)
    .saturating_add(penpen_e2e::WAIT);

/// Ends a cut (or a silence) and waits until the browser is connected again.
async fn end_cut(browser: &Browser, faults: &penpen_e2e::faults::Faults) -> anyhow::Result<()> {
    faults.pass();
    wait_for_connection(browser, "connected", true, RECONNECTED).await
}

/// Waits until the connection indicator's state is `state` (true) or no
/// longer `state` (false), for at most `within`.
async fn wait_for_connection(
    browser: &Browser,
    state: &str,
    is: bool,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    let mut last = None;
    while tokio::time::Instant::now() < deadline {
        last = browser.attribute("#connection", "data-state").await?;
        if (last.as_deref() == Some(state)) == is {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wanted = if is { "" } else { "anything but " };
    anyhow::bail!("the connection showed {last:?}, not {wanted}{state:?}, within {within:?}")
}

/// Wang and Zhang logged in, each in the other's chat.
async fn chatting(wang: &Browser, zhang: &Browser) -> anyhow::Result<()> {
    log_in(wang, WANG).await?;
    log_in(zhang, ZHANG).await?;
    open_chat(wang, ZHANG).await?;
    open_chat(zhang, WANG).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_missed_during_a_cut_or_a_silent_drop_arrive_once_each_in_order()
-> anyhow::Result<()> {
    Harness::run("faults_missed", |harness| async move {
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            chatting(&wang, &zhang).await?;

            faults.cut();
            wait_for_connection(&wang, "connected", false, penpen_e2e::WAIT).await?;
            for text in ["断线时-1", "断线时-2", "断线时-3"] {
                send(&zhang, text).await?;
            }
            zhang.wait_for_count(QUEUED, 0).await?;
            end_cut(&wang, &faults).await?;
            wait_for_exactly(&wang, &["断线时-1", "断线时-2", "断线时-3"], Duration::ZERO).await?;

            faults.silence();
            for text in ["静默时-1", "静默时-2", "静默时-3"] {
                send(&zhang, text).await?;
            }
            zhang.wait_for_count(QUEUED, 0).await?;
            faults.pass();
            wait_for_exactly(
                &wang,
                &[
                    "断线时-1",
                    "断线时-2",
                    "断线时-3",
                    "静默时-1",
                    "静默时-2",
                    "静默时-3",
                ],
                SETTLE,
            )
            .await?;
            Ok(())
        }
        .await;
        faults.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typed_during_a_cut_survive_a_reload_and_are_sent_once() -> anyhow::Result<()> {
    Harness::run("faults_typed", |harness| async move {
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            chatting(&wang, &zhang).await?;

            faults.cut();
            wait_for_connection(&wang, "connected", false, penpen_e2e::WAIT).await?;
            send(&wang, "断线中写的-1").await?;
            send(&wang, "断线中写的-2").await?;
            wang.wait_for_count(QUEUED, 2).await?;

            wang.goto(faults.app_url()).await?;
            open_chat(&wang, ZHANG).await?;
            wang.wait_for_count(QUEUED, 2).await?;
            wait_for_exactly(&wang, &["断线中写的-1", "断线中写的-2"], Duration::ZERO).await?;

            end_cut(&wang, &faults).await?;
            wang.wait_for_count(QUEUED, 0).await?;
            wait_for_exactly(&zhang, &["断线中写的-1", "断线中写的-2"], SETTLE).await?;
            wait_for_exactly(&wang, &["断线中写的-1", "断线中写的-2"], Duration::ZERO).await?;
            Ok(())
        }
        .await;
        faults.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_drop_then_a_cut_then_typing_and_a_reload_lose_nothing() -> anyhow::Result<()> {
    Harness::run("faults_sequence", |harness| async move {
        // The server gives up on a silent peer after three pings: soon here,
        // so that the silence outlasts the server's sessions, as a long one does.
        harness
            .restart_server_with(|config| config.heartbeat = SERVER_HEARTBEAT)
            .await?;
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            chatting(&wang, &zhang).await?;
            send(&wang, "之前-1").await?;
            wait_for_exactly(&zhang, &["之前-1"], Duration::ZERO).await?;

            // Wi-Fi drops: both write into the void.
            faults.silence();
            send(&zhang, "静默时收-2").await?;
            send(&wang, "静默时发-3").await?;
            zhang.wait_for_count(QUEUED, 0).await?;
            // The fault's length, not a wait for something: long enough for
            // the server to drop wang's silent sockets.
            tokio::time::sleep(SERVER_HEARTBEAT * 4).await;
            // Then the line is cut, and more is written meanwhile.
            faults.cut();
            wait_for_connection(&wang, "connected", false, penpen_e2e::WAIT).await?;
            send(&wang, "断线时发-4").await?;
            wang.wait_for_count_with_text("#chat .message", "断线时发-4", 1)
                .await?;
            wang.goto(faults.app_url()).await?;
            open_chat(&wang, ZHANG).await?;
            wang.wait_for_count_with_text("#chat .message", "断线时发-4", 1)
                .await?;

            end_cut(&wang, &faults).await?;
            wang.wait_for_count(QUEUED, 0).await?;
            let everything = ["之前-1", "静默时收-2", "静默时发-3", "断线时发-4"];
            wait_for_exactly(&wang, &everything, SETTLE).await?;
            wait_for_exactly(&zhang, &everything, Duration::ZERO).await?;
            Ok(())
        }
        .await;
        faults.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_drop_is_shown_within_30_seconds_and_mended_when_the_network_returns()
-> anyhow::Result<()> {
    Harness::run("faults_silent_truth", |harness| async move {
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            faults.silence();
            wait_for_connection(&wang, "connected", false, SILENT_DROP_NOTICED).await?;
            // Its reconnects went into the silence too, each failing late.
            end_cut(&wang, &faults).await?;
            open_chat(&zhang, WANG).await?;
            send(&zhang, "网络回来了").await?;
            wait_for_exactly(&wang, &["网络回来了"], Duration::ZERO).await?;
            Ok(())
        }
        .await;
        faults.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_going_offline_shows_at_once_and_online_reconnects_at_once()
-> anyhow::Result<()> {
    Harness::run("faults_offline_event", |harness| async move {
        let wang = harness.open_app("wang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            wang.set_network_offline(true).await?;
            let online = wang.script("return navigator.onLine;").await?;
            anyhow::ensure!(
                online == false,
                "navigator.onLine is {online} while offline"
            );
            wait_for_connection(&wang, "offline", true, AT_ONCE).await?;
            wang.set_network_offline(false).await?;
            let online = wang.script("return navigator.onLine;").await?;
            anyhow::ensure!(online == true, "navigator.onLine is {online} while online");
            wait_for_connection(&wang, "connected", true, AT_ONCE).await?;
            Ok(())
        }
        .await;
        wang.finish(outcome).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_in_two_tabs_during_a_cut_both_survive_a_reload() -> anyhow::Result<()> {
    Harness::run("faults_two_tabs", |harness| async move {
        let (wang, faults) = harness.open_app_with_faults("wang").await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            chatting(&wang, &zhang).await?;
            // A second tab on the same account and database.
            let first = wang.current_tab().await?;
            let second = wang.open_tab().await?;
            wang.switch_to(&second).await?;
            wang.goto(faults.app_url()).await?;
            wang.wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            open_chat(&wang, ZHANG).await?;

            // Each tab queues one while the line is cut: each numbers its
            // message on its own, from the same cached position.
            faults.cut();
            wait_for_connection(&wang, "connected", false, penpen_e2e::WAIT).await?;
            send(&wang, "第二个标签页写的").await?;
            wang.wait_for_count(QUEUED, 1).await?;
            wang.switch_to(&first).await?;
            wait_for_connection(&wang, "connected", false, penpen_e2e::WAIT).await?;
            send(&wang, "第一个标签页写的").await?;
            wang.wait_for_count_with_text("#chat .message", "第一个标签页写的", 1)
                .await?;

            wang.goto(faults.app_url()).await?;
            open_chat(&wang, ZHANG).await?;
            let both = ["第二个标签页写的", "第一个标签页写的"];
            wait_for_exactly(&wang, &both, Duration::ZERO).await?;
            end_cut(&wang, &faults).await?;
            wang.wait_for_count(QUEUED, 0).await?;
            wait_for_exactly(&zhang, &both, SETTLE).await?;
            wait_for_exactly(&wang, &both, Duration::ZERO).await?;
            Ok(())
        }
        .await;
        faults.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
