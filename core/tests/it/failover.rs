//! Several server nodes (#17): when the node a client uses goes away, the
//! engine asks its driver for another ([`Action::SwitchNode`]), resumes there
//! with its token, takes its service sockets along and catches up; nothing
//! is lost or duplicated. The simulated nodes share one set of data, as
//! nodes sharing one store and one bus do.

use crate::sim::{Net, user};
use penpen_core::sync::{
    Connection, Event, HEARTBEAT_IDLE_MS, HEARTBEAT_TIMEOUT_MS, RECONNECT_MAX_MS,
    REQUEST_TIMEOUT_MS,
};
use penpen_core::{Peer, Service};

const A: usize = 0;
const B: usize = 1;

/// Users 1 (client A, on node 0) and 2 (client B, on node 1) logged in on
/// two nodes.
fn two_nodes() -> Net {
    let mut net = Net::new(3);
    net.nodes = 2;
    net.log_in(1);
    net.log_in(2);
    net.clients[B].node = 1;
    net.run_for(5_000);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    assert_eq!(net.clients[B].engine.connection(), Connection::Connected);
    net
}

fn send(net: &mut Net, client: usize, to: u64, text: &str) {
    let now = net.now;
    net.clients[client]
        .engine
        .send_text(Peer::User(user(to)), text.into(), now)
        .expect("queued");
}

/// The indicator's states as the client was told them, in order.
fn indicator(net: &Net, client: usize) -> Vec<Connection> {
    net.clients[client]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionChanged(c) => Some(*c),
            _ => None,
        })
        .collect()
}

#[test]
fn a_client_whose_node_dies_moves_to_another_and_loses_nothing() {
    let mut net = two_nodes();
    send(&mut net, A, 2, "之前-1");
    send(&mut net, B, 1, "之前-2");
    net.run_for(2_000);
    let shown_before = indicator(&net, A).len();

    net.kill_node(0);
    send(&mut net, B, 1, "断开时收-3");
    send(&mut net, A, 2, "断开时发-4");
    net.run_for(300);
    assert_ne!(
        net.clients[A].engine.connection(),
        Connection::Connected,
        "the indicator shows the connection lost"
    );
    net.run_for(60_000);

    assert_eq!(net.clients[A].node, 1, "A moved to the living node");
    assert!(net.clients[A].switches >= 1);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    assert_eq!(
        net.password_logins, 2,
        "the move resumed with the token, no password login"
    );
    let after: Vec<Connection> = indicator(&net, A)[shown_before..].to_vec();
    assert_eq!(after.first(), Some(&Connection::Offline), "{after:?}");
    assert_eq!(after.last(), Some(&Connection::Connected), "{after:?}");

    send(&mut net, A, 2, "之后-5");
    send(&mut net, B, 1, "之后-6");
    net.run_for(5_000);
    let everything = [
        "之前-1",
        "之前-2",
        "断开时收-3",
        "断开时发-4",
        "之后-5",
        "之后-6",
    ];
    assert_eq!(net.clients[A].texts(&Peer::User(user(2))), everything);
    assert_eq!(net.clients[B].texts(&Peer::User(user(1))), everything);
    assert_eq!(net.clients[A].engine.queued(), 0);
    assert_eq!(net.message_count(), everything.len(), "each stored once");
    assert!(
        net.socket_nodes(A).values().all(|node| *node == 1),
        "{:?}",
        net.socket_nodes(A)
    );
}

#[test]
fn a_live_stream_that_drops_is_tried_again_on_its_node_first() {
    let mut net = two_nodes();
    // A blip: the connections drop, the node is fine.
    net.drop_connections(A);
    net.run_for(10_000);
    assert_eq!(net.clients[A].node, 0);
    assert_eq!(net.clients[A].switches, 0);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
}

#[test]
fn the_service_sockets_follow_the_stream_to_its_new_node() {
    let mut net = two_nodes();
    send(&mut net, A, 2, "之前-1");
    net.run_for(2_000);
    let before = net.socket_nodes(A);
    assert!(
        before.contains_key(&Service::Text) && before.values().all(|n| *n == 0),
        "A's text socket is open on node 0: {before:?}"
    );

    // Only the stream port fails: the other sockets to node 0 stay open.
    net.kill_stream_port(0);
    net.run_for(30_000);
    assert_eq!(net.clients[A].node, 1);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    send(&mut net, A, 2, "之后-2");
    net.run_for(5_000);
    let sockets = net.socket_nodes(A);
    assert!(
        sockets.contains_key(&Service::Text) && sockets.values().all(|n| *n == 1),
        "every socket of A is on node 1: {sockets:?}"
    );
    assert_eq!(
        net.clients[B].texts(&Peer::User(user(1))),
        ["之前-1", "之后-2"]
    );
}

#[test]
fn a_dead_node_is_tried_again_once_the_others_fail() {
    let mut net = two_nodes();
    net.kill_node(0);
    send(&mut net, B, 1, "一");
    net.run_for(30_000);
    assert_eq!(net.clients[A].node, 1);

    // Node 0 comes back and node 1 goes: A returns to node 0.
    net.revive_node(0);
    net.kill_node(1);
    send(&mut net, A, 2, "二");
    net.run_for(60_000);
    assert_eq!(net.clients[A].node, 0);
    assert_eq!(net.clients[B].node, 0, "B moved too");
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    send(&mut net, B, 1, "三");
    net.run_for(5_000);
    assert_eq!(
        net.clients[A].texts(&Peer::User(user(2))),
        ["一", "二", "三"]
    );
    assert_eq!(
        net.clients[B].texts(&Peer::User(user(1))),
        ["一", "二", "三"]
    );
}

#[test]
fn a_session_opened_on_a_dead_node_moves_on_without_a_password() {
    let mut net = two_nodes();
    send(&mut net, B, 1, "之前");
    net.run_for(2_000);
    // A reload while A's node is down: the first attempt fails.
    net.kill_node(0);
    send(&mut net, B, 1, "关闭时");
    net.reload(A);
    net.run_for(30_000);
    assert_eq!(net.clients[A].node, 1);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    assert_eq!(net.password_logins, 2);
    assert_eq!(
        net.clients[A].texts(&Peer::User(user(2))),
        ["之前", "关闭时"]
    );
}

#[test]
fn one_node_is_simply_tried_again() {
    // With one node the driver has nowhere else to go: the switch changes
    // nothing, and the server coming back is found as before.
    let mut net = Net::new(2);
    net.log_in(1);
    net.run_for(5_000);
    net.kill_node(0);
    net.run_for(20_000);
    assert_eq!(net.clients[A].node, 0);
    assert_ne!(net.clients[A].engine.connection(), Connection::Connected);
    net.revive_node(0);
    net.run_for(40_000);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
}

#[test]
fn a_node_gone_without_a_word_is_left_within_the_timeouts() {
    // A machine switched off: no reset, the sockets stay open and silent,
    // a new connection to it neither opens nor fails. The heartbeat notices
    // the silence, the reconnect to the same node is given up after the
    // request timeout, and the next attempt goes to the other node.
    let mut net = two_nodes();
    net.silence_node(0);
    send(&mut net, B, 1, "静默时收");
    let silenced_at = net.now;
    let limit = HEARTBEAT_IDLE_MS + HEARTBEAT_TIMEOUT_MS + REQUEST_TIMEOUT_MS + RECONNECT_MAX_MS;
    while net.clients[A].node != 1 && net.now < silenced_at + limit {
        net.run_for(500);
    }
    assert_eq!(net.clients[A].node, 1, "moved within {limit} ms");
    net.run_for(10_000);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    send(&mut net, A, 2, "之后");
    net.run_for(5_000);
    assert_eq!(
        net.clients[A].texts(&Peer::User(user(2))),
        ["静默时收", "之后"]
    );
    assert_eq!(
        net.clients[B].texts(&Peer::User(user(1))),
        ["静默时收", "之后"]
    );
}
