//! Faults in a row, as the e2e `faults` tests drive them in a browser, here
//! on the simulated network: a silent drop (nothing arrives, nothing closes),
//! then a cut (every socket closes), then writing and a reload.

use crate::sim::{Net, ready, user};
use penpen_core::Peer;
use penpen_core::cache::Cache;
use penpen_core::sync::Connection;

const A: usize = 0;
const B: usize = 1;

#[test]
fn a_silent_drop_then_a_cut_then_writing_and_a_reload_lose_nothing() {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    net.run_for(5_000);
    let (to_b, to_a) = (Peer::User(user(2)), Peer::User(user(1)));
    let send = |net: &mut Net, client: usize, to: &Peer, text: &str| {
        let now = net.now;
        net.clients[client]
            .engine
            .send_text(to.clone(), text.into(), now)
            .expect("queued");
    };
    send(&mut net, A, &to_b, "之前-1");
    net.run_for(2_000);

    // Silent: A's sockets stay open, nothing gets through either way.
    net.clients[A].online = false;
    send(&mut net, B, &to_a, "静默时收-2");
    send(&mut net, A, &to_b, "静默时发-3");
    net.run_for(2_000);
    assert_eq!(net.clients[A].engine.connection(), Connection::Connected);
    // The cut: every socket of A closes.
    net.drop_connections(A);
    net.run_for(2_000);
    send(&mut net, A, &to_b, "断线时发-4");
    net.run_for(100);
    let outbox: Vec<String> = ready(net.clients[A].cache.load())
        .expect("load")
        .outbox
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(outbox, vec!["静默时发-3", "断线时发-4"]);
    net.reload(A);
    assert_eq!(net.clients[A].engine.queued(), 2);
    net.run_for(2_000);

    net.clients[A].online = true;
    let now = net.now;
    net.clients[A].engine.reconnect_now(now);
    net.run_for(60_000);
    let everything = ["之前-1", "静默时收-2", "静默时发-3", "断线时发-4"];
    assert_eq!(net.clients[A].texts(&to_b), everything);
    assert_eq!(net.clients[B].texts(&to_a), everything);
    assert_eq!(net.clients[A].engine.queued(), 0);
}
