//! Several server nodes (#17): a browser that knows two nodes sharing one
//! store moves to the other when its node goes away, resuming with its
//! token and catching up; nothing is lost or doubled, the indicator says
//! what happens, and the cache stays the one database of the deployment.

use penpen_e2e::app::{
    WANG, ZHANG, local_databases, log_in, open_chat, remembered_session, send, wait_for_exactly,
};
use penpen_e2e::{Browser, Harness, Nodes};
use std::time::Duration;

/// How long to watch for a late duplicate once everything arrived.
const SETTLE: Duration = Duration::from_secs(2);

const QUEUED: &str = "#chat .message__state[data-state=\"queued\"]";

/// The node `browser` uses now, as its indicator names it.
async fn node_of(browser: &Browser, nodes: &Nodes) -> anyhow::Result<usize> {
    let label = browser
        .attribute("#connection", "data-node")
        .await?
        .unwrap_or_default();
    nodes
        .index_of(&label)
        .ok_or_else(|| anyhow::anyhow!("the app names the node {label:?}, not one of the test's"))
}

/// Waits until the indicator shows anything but connected.
async fn wait_until_not_connected(browser: &Browser) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + penpen_e2e::WAIT;
    let mut last = None;
    while tokio::time::Instant::now() < deadline {
        last = browser.attribute("#connection", "data-state").await?;
        if last.as_deref() != Some("connected") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the connection still showed {last:?} after its node went away")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_moves_to_the_other_node_when_its_node_dies_and_loses_nothing()
-> anyhow::Result<()> {
    Harness::run("nodes_move", |harness| async move {
        let mut nodes = harness.start_nodes(2).await?;
        let wang = harness.open_app_on(&nodes, "wang").await?;
        let zhang = harness.open_app_on(&nodes, "zhang").await?;
        let outcome = async {
            log_in(&wang, WANG).await?;
            log_in(&zhang, ZHANG).await?;
            open_chat(&wang, ZHANG).await?;
            open_chat(&zhang, WANG).await?;
            let wang_node = node_of(&wang, &nodes).await?;
            let other = 1 - wang_node;

            send(&zhang, "换节点前-1").await?;
            send(&wang, "换节点前-2").await?;
            wang.wait_for_count_with_text("#chat .message", "换节点前-2", 1)
                .await?;
            wang.wait_for_count(QUEUED, 0).await?;
            zhang.wait_for_count(QUEUED, 0).await?;

            nodes.kill(wang_node).await;
            wait_until_not_connected(&wang).await?;
            wang.wait_for_attribute("#connection", "data-node", &nodes.label(other))
                .await?;
            wang.wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            // Zhang either was there or moved too: live pushes need both on
            // the node that stores the message (no bus between these nodes).
            zhang
                .wait_for_attribute("#connection", "data-node", &nodes.label(other))
                .await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;

            send(&zhang, "换节点后-3").await?;
            send(&wang, "换节点后-4").await?;
            let everything = ["换节点前-1", "换节点前-2", "换节点后-3", "换节点后-4"];
            wait_for_exactly(&wang, &everything, SETTLE).await?;
            wang.wait_for_count(QUEUED, 0).await?;

            // One database, named after the deployment's first node, before
            // and after the move; the session resumed (no new login) and
            // remembers both nodes.
            let databases = local_databases(&wang).await?;
            anyhow::ensure!(
                databases == [format!("penpen-{}-{WANG}", nodes.label(0))],
                "the app's databases are {databases:?}"
            );
            let session = remembered_session(&wang)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no remembered session"))?;
            anyhow::ensure!(
                session["other_nodes"].as_array().map(Vec::len) == Some(1),
                "the session does not remember the other node: {session}"
            );
            anyhow::ensure!(
                wang.count("#login-submit").await? == 0,
                "the move asked for the password again"
            );

            // Zhang sees everything once too (after a reload: a message Wang
            // stored on the other node before the move was not pushed there).
            zhang.goto(nodes.app_url()).await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "connected")
                .await?;
            open_chat(&zhang, WANG).await?;
            wait_for_exactly(&zhang, &everything, SETTLE).await?;
            Ok(())
        }
        .await;
        nodes.stop().await;
        let outcome = wang.finish(outcome).await;
        zhang.finish(outcome).await
    })
    .await
}
