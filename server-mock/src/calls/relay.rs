//! Calls across nodes (#17). A call lives on the node where it was invited:
//! its registry entry, its timers and its records. That node holds the
//! call's bus subject while the call goes on; a party whose 24888 socket is
//! on another node has its requests relayed there (a NATS request, answered
//! with the reply), and is represented there by a proxy socket whose
//! signals are published back to the socket's own node.

use super::{Calls, Socket};
use crate::bus::{Hold, NodeId};
use penpen_core::CallId;
use penpen_core::packets::call::CallSignal;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;

/// What the relay keeps (every map is small: calls going on, sockets open).
#[derive(Debug, Default)]
pub(crate) struct Relay {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Calls living here, each with this node's holds on its subject and
    /// its parties' subjects.
    holds: HashMap<CallId, Vec<Hold>>,
    /// Other nodes' sockets taking part in calls living here: their proxies.
    proxies: HashMap<(NodeId, u64), (CallId, Socket)>,
    /// This node's 24888 sockets, for the signals of calls living elsewhere.
    locals: HashMap<u64, mpsc::Sender<CallSignal>>,
    /// The calls each local socket asked about elsewhere (told when it closes).
    relayed: HashMap<u64, HashSet<CallId>>,
}

impl Relay {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change is a single insert or removal.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A call now lives here; `holds` keep its subjects until it ends.
    pub(crate) fn hold(&self, call: CallId, holds: Vec<Hold>) {
        self.lock().holds.insert(call, holds);
    }

    /// Lets go of the calls that ended, and of their proxies.
    pub(crate) fn sweep(&self, calls: &Calls) {
        let mut state = self.lock();
        state.holds.retain(|call, _| calls.has(call));
        state.proxies.retain(|_, (call, _)| calls.has(call));
    }

    /// The proxy of `node`'s socket `socket`, if it has one.
    pub(crate) fn proxy(&self, node: &NodeId, socket: u64) -> Option<Socket> {
        self.lock()
            .proxies
            .get(&(node.clone(), socket))
            .map(|(_, proxy)| proxy.clone())
    }

    /// Keeps a new proxy for `node`'s socket `socket` in `call`.
    pub(crate) fn add_proxy(&self, node: NodeId, socket: u64, call: CallId, proxy: Socket) {
        self.lock().proxies.insert((node, socket), (call, proxy));
    }

    /// `node`'s socket `socket` closed: the call sees its proxy close.
    pub(crate) fn remote_socket_closed(&self, calls: &Calls, node: &NodeId, socket: u64) {
        let proxy = self.lock().proxies.remove(&(node.clone(), socket));
        if let Some((_, proxy)) = proxy {
            calls.socket_closed(&proxy);
        }
    }

    /// A local 24888 socket opened.
    pub(crate) fn open_local(&self, socket: &Socket) {
        self.lock().locals.insert(socket.id, socket.signals.clone());
    }

    /// A local 24888 socket closed: the calls it asked about elsewhere.
    pub(crate) fn close_local(&self, socket: u64) -> HashSet<CallId> {
        let mut state = self.lock();
        state.locals.remove(&socket);
        state.relayed.remove(&socket).unwrap_or_default()
    }

    /// A local socket asked about `call`, which lives elsewhere.
    pub(crate) fn note_relayed(&self, socket: u64, call: CallId) {
        self.lock().relayed.entry(socket).or_default().insert(call);
    }

    /// A signal from a call living elsewhere, for local socket `socket`
    /// (dropped when its queue is full, like a local signal).
    pub(crate) fn signal(&self, socket: u64, signal: CallSignal) {
        if let Some(signals) = self.lock().locals.get(&socket) {
            let _ = signals.try_send(signal);
        }
    }
}
