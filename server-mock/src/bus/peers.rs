//! Which other nodes are alive: each node says so on the bus every
//! [`HEARTBEAT`], and one not heard for [`SILENCE`] went away (killed, or cut
//! off from NATS) with its sessions. Its users then have no session that
//! could ever record them offline, so one surviving node sweeps: whoever
//! the store shows present and no running node holds is recorded offline
//! and announced (`services::presence::sweep`).
//!
//! A node taken for gone by mistake (too busy to beat in time) costs only a
//! sweep: its users answer the sweep's probes, or the probes go unanswered
//! and nothing is concluded.

use super::NodeId;
use crate::context::Context;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// How long a node may stay unheard before it is taken for gone.
pub const SILENCE: Duration = Duration::from_secs(5);

/// When each other node was last heard.
#[derive(Debug, Default)]
pub struct Peers {
    heard: Mutex<HashMap<NodeId, Instant>>,
}

impl Peers {
    fn lock(&self) -> MutexGuard<'_, HashMap<NodeId, Instant>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.heard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `node` was heard at `at`.
    pub fn heard(&self, node: &NodeId, at: Instant) {
        self.lock().insert(node.clone(), at);
    }

    /// Every known node counts as heard at `at` (this node's link was down,
    /// so their silence says nothing about them).
    pub fn heard_all(&self, at: Instant) {
        for last in self.lock().values_mut() {
            *last = at;
        }
    }

    /// Forgets and returns the nodes not heard for [`SILENCE`] at `now`.
    pub fn gone(&self, now: Instant) -> Vec<NodeId> {
        let mut heard = self.lock();
        let mut gone: Vec<NodeId> = heard
            .iter()
            .filter(|(_, last)| now.saturating_duration_since(**last) >= SILENCE)
            .map(|(node, _)| node.clone())
            .collect();
        for node in &gone {
            heard.remove(node);
        }
        gone.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        gone
    }

    /// Whether `node` comes first by name among itself and the nodes still
    /// heard: the one of them that sweeps after a node went away.
    pub fn comes_first(&self, node: &NodeId) -> bool {
        self.lock()
            .keys()
            .all(|other| node.as_str() < other.as_str())
    }
}

/// Says this node is alive, notes the nodes that went away and has their
/// users swept, until the server stops (a NATS bus only).
pub async fn run(context: Arc<Context>, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The sweep runs beside the heartbeat, so a long one is not taken for
    // this node's own death; a node going away meanwhile asks for another.
    let mut sweeping: Option<tokio::task::JoinHandle<()>> = None;
    let mut wanted = false;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        }
        context.bus.publish(super::Event::Alive);
        let gone = context.bus.peers.gone(Instant::now());
        if !gone.is_empty() {
            let me = context.bus.node();
            let sweeps = context.bus.peers.comes_first(me);
            tracing::warn!(
                nodes = ?gone.iter().map(NodeId::as_str).collect::<Vec<_>>(),
                sweeps,
                "nodes not heard for {} s are taken for gone",
                SILENCE.as_secs()
            );
            wanted |= sweeps;
        }
        if wanted && sweeping.as_ref().is_none_or(|task| task.is_finished()) {
            wanted = false;
            let context = context.clone();
            sweeping = Some(tokio::spawn(async move {
                crate::services::presence::sweep(&context).await;
            }));
        }
    }
    if let Some(task) = sweeping {
        task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> NodeId {
        NodeId::parse(name).expect("a valid node name")
    }

    #[test]
    fn a_node_unheard_for_the_silence_is_gone_once() {
        let peers = Peers::default();
        let start = Instant::now();
        peers.heard(&node("b"), start);
        peers.heard(&node("c"), start);
        peers.heard(&node("c"), start + Duration::from_secs(3));
        let just_before = start + SILENCE - Duration::from_millis(1);
        assert!(peers.gone(just_before).is_empty());
        assert_eq!(peers.gone(start + SILENCE), vec![node("b")]);
        assert!(
            peers.gone(start + SILENCE).is_empty(),
            "forgotten once gone"
        );
        assert_eq!(
            peers.gone(start + Duration::from_secs(3) + SILENCE),
            vec![node("c")]
        );
    }

    #[test]
    fn after_the_link_comes_back_every_node_has_a_new_silence() {
        let peers = Peers::default();
        let start = Instant::now();
        peers.heard(&node("b"), start);
        let back = start + SILENCE * 2;
        peers.heard_all(back);
        assert!(
            peers
                .gone(back + SILENCE - Duration::from_millis(1))
                .is_empty()
        );
        assert_eq!(peers.gone(back + SILENCE), vec![node("b")]);
    }

    #[test]
    fn the_first_node_by_name_among_those_heard_sweeps() {
        let peers = Peers::default();
        assert!(peers.comes_first(&node("b")), "alone, a node sweeps");
        let now = Instant::now();
        peers.heard(&node("c"), now);
        assert!(peers.comes_first(&node("b")));
        peers.heard(&node("a"), now);
        assert!(!peers.comes_first(&node("b")));
    }
}
