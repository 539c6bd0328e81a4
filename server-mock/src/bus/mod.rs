//! Live delivery between server nodes (#17): what one node's sessions must
//! hear from another node, and the two ways it travels.
//!
//! Every push a service makes goes through the [`Context`] methods below:
//! each applies the push to this node's [`Hub`](crate::hub::Hub) at once and
//! hands it to the [`Bus`], which carries it to the other nodes. With no
//! `--bus` the bus is in-process: a single node, nothing leaves it. With
//! `--bus nats://…` it is core NATS ([`nats`]): a subject per user
//! (`penpen.user.<id>`) that a node subscribes to while it holds one of the
//! user's sessions, one for everyone (`penpen.everyone`: broadcasts,
//! presence, signatures, revocations), one per group whose read marks a
//! session of the node watches (`penpen.group.<gid>`), one per call living on
//! the node (`penpen.call.<id>`) and one per node (`penpen.node.<id>`: call
//! signals for its sockets).
//!
//! The bus is best effort, like the hub's queues. Exactly-once still comes
//! from the store: a delivery that arrives with a gap makes the session read
//! what it owes, and when the NATS link comes back every local user's newest
//! seq is read again and raised, which wakes their sessions to read it.

pub mod interest;
mod nats;
pub mod peers;

use crate::context::Context;
use penpen_core::packets::call::{CallRequest, CallSignal};
use penpen_core::packets::login::Push;
use penpen_core::packets::message::Message;
use penpen_core::packets::receipts::MemberRead;
use penpen_core::{CallId, GroupId, Seq, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The subject prefix of every penpen subject on the bus.
const PREFIX: &str = "penpen";

/// How long a node waits for the others to say whether a user still has a
/// session there (a node holding the user answers at once; no holder makes
/// NATS answer "no responders" at once too).
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(750);

/// How long a login waits for its user's subscription to be in place before
/// going on without it (the link is down: catch-up and the raise after the
/// reconnection cover what the subscription misses).
pub const HOLD_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether some node holds a session of a user, as a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// A node answered that it does.
    Held,
    /// No node is subscribed to the user's subject (NATS said so at once),
    /// or there is no other node.
    NotHeld,
    /// No answer in time, or the link is down: nothing can be concluded.
    Unknown,
}

/// Which bus a server uses, and its name on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusConfig {
    /// The NATS server (`nats://host:4222`, several separated by commas);
    /// `None`: in-process, a single node.
    pub nats: Option<String>,
    /// This node's name in logs and on the bus; random when `None`.
    pub node_id: Option<NodeId>,
}

/// Why a node name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node id {0:?} is not 1 to 64 letters, digits, '-' or '_'")]
pub struct NodeIdError(pub String);

/// A node's name: letters, digits, `-` and `_`, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

impl TryFrom<String> for NodeId {
    type Error = NodeIdError;
    fn try_from(text: String) -> Result<NodeId, NodeIdError> {
        NodeId::parse(&text)
    }
}

impl From<NodeId> for String {
    fn from(node: NodeId) -> String {
        node.0
    }
}

impl NodeId {
    /// Checks a name given with `--node-id`.
    pub fn parse(text: &str) -> Result<NodeId, NodeIdError> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(NodeId(text.to_owned()))
        } else {
            Err(NodeIdError(text.to_owned()))
        }
    }

    /// A random name (`node-` and 8 hex digits), for a node started without one.
    pub fn random() -> NodeId {
        let mut bytes = [0u8; 4];
        // Without randomness the clock is unique enough for a log label.
        if getrandom::fill(&mut bytes).is_err() {
            bytes = (crate::context::now_ms() as u32).to_be_bytes();
        }
        NodeId(format!(
            "node-{:02x}{:02x}{:02x}{:02x}",
            bytes[0], bytes[1], bytes[2], bytes[3]
        ))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token hash on the bus (base64, like every binary field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(#[serde(with = "base64_bytes")] pub Vec<u8>);

mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// What one node tells the others. Every variant is something a node's
/// sessions must hear, applied on arrival exactly as the sending node
/// applied it to its own hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A stored message for `user` under their `seq` (`Hub::deliver`).
    Deliver {
        /// The recipient.
        user: UserId,
        /// Their seq for it.
        seq: Seq,
        /// The message, without `seq`.
        message: Box<Message>,
    },
    /// `user`'s newest seq is `seq` (a delivery too large to carry: their
    /// sessions read it from the store).
    Raise {
        /// The recipient.
        user: UserId,
        /// Their seq for the message.
        seq: Seq,
    },
    /// A push to every session of `user` but those of one token (`Hub::push_user`).
    Push {
        /// Whose sessions.
        user: UserId,
        /// The push.
        push: Box<Push>,
        /// The token whose sessions are left out.
        except: Option<TokenHash>,
    },
    /// A push that must not be lost (`Hub::push_user_or_drop`).
    PushOrDrop {
        /// Whose sessions.
        user: UserId,
        /// The push.
        push: Box<Push>,
    },
    /// A push to everyone connected (`Hub::push_everyone`).
    Everyone {
        /// The push.
        push: Box<Push>,
    },
    /// One session ended (logout): its connections on every node close.
    Revoke {
        /// Whose session.
        user: UserId,
        /// Its token's hash.
        token: TokenHash,
        /// What the connections are told.
        reason: String,
    },
    /// Every session of `user` but one ended (password changed).
    RevokeUser {
        /// Whose sessions.
        user: UserId,
        /// The session that stays.
        keep: Option<TokenHash>,
        /// What the connections are told.
        reason: String,
    },
    /// A member's read mark in a group moved (for the watchers, §16.2).
    Read {
        /// The group.
        gid: GroupId,
        /// The mark.
        mark: MemberRead,
    },
    /// `user` is no longer in group `gid`: their sessions stop watching it.
    LeftGroup {
        /// The group.
        gid: GroupId,
        /// Who left.
        user: UserId,
    },
    /// A 24888 request about a call that lives on another node, from a
    /// socket of the sending node (a request: the answer is the [`Reply`]
    /// of `services`, as JSON).
    CallRequest {
        /// The call (whose node subscribes to its subject while it goes on).
        call: CallId,
        /// The asking session's user.
        user: UserId,
        /// The asking 24888 socket, on the sending node.
        socket: u64,
        /// The request.
        request: Box<CallRequest>,
    },
    /// A 24888 socket of the sending node that carried `call` closed.
    CallSocketClosed {
        /// The call.
        call: CallId,
        /// The socket's user.
        user: UserId,
        /// The socket, on the sending node.
        socket: u64,
    },
    /// A signal of a call living on the sending node, for a 24888 socket of
    /// node `node`.
    CallSignal {
        /// The node of the socket.
        node: NodeId,
        /// The socket.
        socket: u64,
        /// The signal.
        signal: Box<CallSignal>,
    },
    /// Does any node hold a session of `user`? (a request: the answer is
    /// [`PROBE_ANSWER`] from a node that does; nothing from one that does not)
    Probe {
        /// Whose sessions.
        user: UserId,
    },
    /// Is `user` a party of a call living on some node? (a request: the
    /// node holding the user's party subject answers with the JSON of an
    /// `Option<calls::PartyOf>`)
    PartyProbe {
        /// Whose calls.
        user: UserId,
    },
    /// The sending node is alive (every [`peers::HEARTBEAT`]); a node not
    /// heard for [`peers::SILENCE`] is taken for gone, with its sessions.
    Alive,
}

/// What a node holding the probed user's session answers.
pub const PROBE_ANSWER: &[u8] = b"online";

/// An event as it travels: who sent it, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The sending node.
    pub node: NodeId,
    /// What it says.
    pub event: Event,
}

/// Why a bus payload cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read a bus message: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl Envelope {
    /// The payload on the bus (JSON).
    pub fn encode(&self) -> Vec<u8> {
        // Every field serializes (strings, numbers, the packets' own serde).
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a payload.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// What a subject is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One user's sessions.
    User(UserId),
    /// Everyone connected.
    Everyone,
    /// The watchers of one group's read marks.
    Group(GroupId),
    /// The node where a call lives.
    Call(CallId),
    /// One node (signals for its 24888 sockets).
    Node(NodeId),
    /// The node where a call with this user as a party lives.
    Party(UserId),
}

impl Topic {
    /// The NATS subject (ids are digits only, so always valid tokens).
    pub fn subject(&self) -> String {
        match self {
            Topic::User(user) => format!("{PREFIX}.user.{}", user.as_str()),
            Topic::Everyone => format!("{PREFIX}.everyone"),
            Topic::Group(gid) => format!("{PREFIX}.group.{gid}"),
            Topic::Call(call) => format!("{PREFIX}.call.{call}"),
            Topic::Node(node) => format!("{PREFIX}.node.{node}"),
            Topic::Party(user) => format!("{PREFIX}.party.{}", user.as_str()),
        }
    }
}

impl Event {
    /// Where the event goes: only nodes that may have someone to tell
    /// subscribe there.
    pub fn topic(&self) -> Topic {
        match self {
            Event::Deliver { user, .. }
            | Event::Raise { user, .. }
            | Event::Push { user, .. }
            | Event::PushOrDrop { user, .. }
            | Event::Probe { user } => Topic::User(user.clone()),
            // Every node: a session's connections on other ports (24888,
            // 28888…) may be on a node without its stream. Revocations are rare.
            Event::Everyone { .. }
            | Event::Revoke { .. }
            | Event::RevokeUser { .. }
            | Event::Alive => Topic::Everyone,
            Event::Read { gid, .. } | Event::LeftGroup { gid, .. } => Topic::Group(*gid),
            Event::CallRequest { call, .. } | Event::CallSocketClosed { call, .. } => {
                Topic::Call(call.clone())
            }
            Event::CallSignal { node, .. } => Topic::Node(node.clone()),
            Event::PartyProbe { user } => Topic::Party(user.clone()),
        }
    }
}

/// What arrives from the other nodes, for [`run`].
#[derive(Debug)]
pub enum Incoming {
    /// An event to apply here.
    Event(Envelope),
    /// Another node asks whether `user` has a session here; answer on `reply`.
    Probe {
        /// Whose sessions.
        user: UserId,
        /// Where the answer goes.
        reply: String,
    },
    /// Another node asks which call here `user` is a party of; answer on `reply`.
    PartyProbe {
        /// Whose calls.
        user: UserId,
        /// Where the answer goes.
        reply: String,
    },
    /// A call request from another node's socket; answer on `reply`.
    CallRequest {
        /// The asking node.
        node: NodeId,
        /// The call.
        call: CallId,
        /// The asking session's user.
        user: UserId,
        /// The asking socket, on `node`.
        socket: u64,
        /// The request.
        request: Box<CallRequest>,
        /// Where the answer goes.
        reply: String,
    },
    /// The link came back after a loss: what was published meanwhile is lost.
    Reconnected,
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The NATS server could not be reached or refused the connection.
    #[error("cannot connect to the NATS server {url}: {reason}")]
    Connect {
        /// What `--bus` said.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// The carrier between nodes: nothing (in-process) or a NATS link.
#[derive(Debug)]
pub struct Bus {
    node: NodeId,
    link: Option<nats::Link>,
    peers: peers::Peers,
}

/// A node's hold on a topic's subscription: dropped, it lets go (the last
/// hold of a topic unsubscribes).
#[derive(Debug)]
pub struct Hold {
    release: Option<(nats::Commands, Topic)>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some((commands, topic)) = self.release.take() {
            commands.release(topic);
        }
    }
}

impl Bus {
    /// The in-process bus of a single node.
    pub fn in_process(node: NodeId) -> Bus {
        Bus {
            node,
            link: None,
            peers: peers::Peers::default(),
        }
    }

    /// Connects as `config` says; the receiver (NATS only) carries what
    /// the other nodes send, for [`run`].
    pub async fn start(
        config: &BusConfig,
    ) -> Result<(Bus, Option<mpsc::Receiver<Incoming>>), BusError> {
        let node = config.node_id.clone().unwrap_or_else(NodeId::random);
        match &config.nats {
            None => Ok((Bus::in_process(node), None)),
            Some(url) => {
                let (link, incoming) = nats::Link::connect(url, &node).await?;
                Ok((
                    Bus {
                        node,
                        link: Some(link),
                        peers: peers::Peers::default(),
                    },
                    Some(incoming),
                ))
            }
        }
    }

    /// This node's name.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Whether other nodes may exist (a NATS link).
    pub fn is_shared(&self) -> bool {
        self.link.is_some()
    }

    /// Sends `event` to the other nodes (best effort; nothing in-process).
    pub fn publish(&self, event: Event) {
        if let Some(link) = &self.link {
            link.publish(Envelope {
                node: self.node.clone(),
                event,
            });
        }
    }

    /// Subscribes this node to `user`'s subject (counted: the first hold
    /// subscribes, the last release unsubscribes), and waits until the
    /// NATS server has the subscription, so that anything published from
    /// now on reaches this node.
    pub async fn hold_user(&self, user: &UserId) -> Hold {
        self.hold(Topic::User(user.clone()), true).await
    }

    /// Subscribes to a group's read marks while a session here watches it
    /// (waits until the subscription is in place, like [`Bus::hold_user`]).
    pub async fn hold_group(&self, gid: GroupId) -> Hold {
        self.hold(Topic::Group(gid), true).await
    }

    async fn hold(&self, topic: Topic, settle: bool) -> Hold {
        let Some(link) = &self.link else {
            return Hold { release: None };
        };
        let commands = link.commands();
        commands.hold(topic.clone(), settle).await;
        Hold {
            release: Some((commands, topic)),
        }
    }

    /// Subscribes to a call's subject while the call lives on this node,
    /// so the other party's node can reach it.
    pub async fn hold_call(&self, call: &CallId) -> Hold {
        self.hold(Topic::Call(call.clone()), true).await
    }

    /// Subscribes to a party's subject while a call living here has them
    /// as a party, so other nodes find them busy.
    pub async fn hold_party(&self, user: &UserId) -> Hold {
        self.hold(Topic::Party(user.clone()), true).await
    }

    /// The call `user` is a party of on another node (in-process, or no
    /// answer in time: none).
    pub(crate) async fn party_elsewhere(&self, user: &UserId) -> Option<crate::calls::PartyOf> {
        let event = Event::PartyProbe { user: user.clone() };
        let answer = self.request(event, PROBE_TIMEOUT).await?;
        serde_json::from_slice(&answer).unwrap_or_else(|err| {
            tracing::warn!(%err, "a node answered a party probe with something unreadable");
            None
        })
    }

    /// Sends a request to the node holding `event`'s topic and waits for
    /// the answer (`None`: nobody holds it, or no answer within `timeout`).
    pub async fn request(&self, event: Event, timeout: Duration) -> Option<Vec<u8>> {
        let link = self.link.as_ref()?;
        link.request(
            Envelope {
                node: self.node.clone(),
                event,
            },
            timeout,
        )
        .await
    }

    /// Whether a session of `user` is open on another node (in-process:
    /// there is none). A node that does not answer in time counts as none.
    pub async fn held_elsewhere(&self, user: &UserId) -> bool {
        self.holding_elsewhere(user).await == Holding::Held
    }

    /// Whether another node holds a session of `user`, or cannot be known.
    pub async fn holding_elsewhere(&self, user: &UserId) -> Holding {
        match &self.link {
            None => Holding::NotHeld,
            Some(link) => {
                link.probe(Envelope {
                    node: self.node.clone(),
                    event: Event::Probe { user: user.clone() },
                })
                .await
            }
        }
    }

    /// Answers a request (a probe: this node holds the user).
    pub(crate) async fn answer(&self, reply: String, payload: Vec<u8>) {
        if let Some(link) = &self.link {
            link.answer(reply, payload).await;
        }
    }

    /// Waits until the NATS server has seen everything sent before (a
    /// round trip); at once in-process.
    pub async fn settle(&self) {
        if let Some(link) = &self.link {
            link.settle().await;
        }
    }
}

/// The pushes of every service: applied to this node's hub, then sent to
/// the other nodes.
impl Context {
    /// Hands a committed message to `user`'s sessions on every node.
    pub fn deliver(&self, user: &UserId, seq: Seq, message: &Arc<Message>) {
        self.hub.deliver(user, seq, message);
        if self.bus.is_shared() {
            self.bus.publish(Event::Deliver {
                user: user.clone(),
                seq,
                message: Box::new((**message).clone()),
            });
        }
    }

    /// Queues `push` for every session of `user` on every node, but those
    /// of the token `except_token`.
    pub fn push_user(&self, user: &UserId, push: &Push, except_token: Option<&[u8]>) {
        self.hub.push_user(user, push, except_token);
        if self.bus.is_shared() {
            self.bus.publish(Event::Push {
                user: user.clone(),
                push: Box::new(push.clone()),
                except: except_token.map(|t| TokenHash(t.to_vec())),
            });
        }
    }

    /// Queues a push that must not be lost for every session of `user` on
    /// every node (a session too far behind is dropped and reconnects);
    /// returns how many sessions this node dropped.
    pub fn push_user_or_drop(&self, user: &UserId, push: &Push) -> usize {
        let dropped = self.hub.push_user_or_drop(user, push);
        if self.bus.is_shared() {
            self.bus.publish(Event::PushOrDrop {
                user: user.clone(),
                push: Box::new(push.clone()),
            });
        }
        dropped
    }

    /// Queues `push` for everyone connected to any node.
    pub fn push_everyone(&self, push: &Push) {
        self.hub.push_everyone(push);
        if self.bus.is_shared() {
            self.bus.publish(Event::Everyone {
                push: Box::new(push.clone()),
            });
        }
    }

    /// Ends one session's connections on every node (logout).
    pub fn revoke_session(&self, user: &UserId, token_hash: &[u8], reason: &str) {
        self.revocations.revoke(user, token_hash, reason);
        self.bus.publish(Event::Revoke {
            user: user.clone(),
            token: TokenHash(token_hash.to_vec()),
            reason: reason.to_owned(),
        });
    }

    /// Ends every session of `user` but `keep` on every node (password change).
    pub fn revoke_user(&self, user: &UserId, keep: Option<&[u8]>, reason: &str) {
        self.revocations.revoke_user(user, keep, reason);
        self.bus.publish(Event::RevokeUser {
            user: user.clone(),
            keep: keep.map(|k| TokenHash(k.to_vec())),
            reason: reason.to_owned(),
        });
    }

    /// A member's committed mark in `gid` moved: to the group's watchers on
    /// every node.
    pub fn read_moved(&self, gid: GroupId, mark: MemberRead) {
        if self.bus.is_shared() {
            self.bus.publish(Event::Read {
                gid,
                mark: mark.clone(),
            });
        }
        self.reads.moved(&self.hub, gid, mark);
    }

    /// `user` left group `gid`: their sessions on every node stop watching it.
    pub fn left_group(&self, gid: GroupId, user: &UserId) {
        self.reads.left_group(gid, user);
        self.bus.publish(Event::LeftGroup {
            gid,
            user: user.clone(),
        });
    }

    /// Applies what node `node` sent to this node's sessions.
    fn apply(&self, node: NodeId, event: Event) {
        match event {
            Event::Deliver { user, seq, message } => {
                self.hub.deliver(&user, seq, &Arc::new(*message));
            }
            Event::Raise { user, seq } => self.hub.raise(&user, seq),
            Event::Push { user, push, except } => {
                self.hub
                    .push_user(&user, &push, except.as_ref().map(|t| t.0.as_slice()));
            }
            Event::PushOrDrop { user, push } => {
                let dropped = self.hub.push_user_or_drop(&user, &push);
                if dropped > 0 {
                    tracing::info!(%user, dropped, "sessions too far behind for a push that must not be lost were closed");
                }
            }
            Event::Everyone { push } => self.hub.push_everyone(&push),
            Event::Revoke {
                user,
                token,
                reason,
            } => self.revocations.revoke(&user, &token.0, &reason),
            Event::RevokeUser { user, keep, reason } => {
                self.revocations
                    .revoke_user(&user, keep.as_ref().map(|k| k.0.as_slice()), &reason)
            }
            Event::Read { gid, mark } => self.reads.moved(&self.hub, gid, mark),
            Event::LeftGroup { gid, user } => self.reads.left_group(gid, &user),
            Event::CallSocketClosed { socket, .. } => {
                self.calls
                    .relay()
                    .remote_socket_closed(&self.calls, &node, socket)
            }
            Event::CallSignal { socket, signal, .. } => self.calls.relay().signal(socket, *signal),
            // Answered as requests (`Incoming::CallRequest`).
            Event::CallRequest { .. } => {}
            // Probes come as requests (`Incoming::Probe`), never as events.
            Event::Probe { .. } | Event::PartyProbe { .. } => {}
            // Noted by `run` like every event's sender.
            Event::Alive => {}
        }
    }

    /// Every local user's newest seq read again and raised: after the bus
    /// lost messages, their sessions wake and read what they owe.
    async fn refresh_newest(&self) {
        let users = self.hub.users();
        if users.is_empty() {
            return;
        }
        let found = self
            .store
            .read(move |conn| {
                let mut newest = Vec::with_capacity(users.len());
                for user in users {
                    let (last, _acked) = crate::store::queries::seqs(conn, &user)?;
                    newest.push((user, last));
                }
                Ok(newest)
            })
            .await;
        match found {
            Ok(newest) => {
                tracing::info!(
                    users = newest.len(),
                    "the bus is back: woke every local session to read what it missed"
                );
                for (user, seq) in newest {
                    self.hub.raise(&user, seq);
                }
            }
            Err(err) => tracing::warn!(%err, "cannot read the newest seqs after the bus came back"),
        }
    }
}

/// Applies what the other nodes send, until the server stops.
pub async fn run(
    context: Arc<Context>,
    mut incoming: mpsc::Receiver<Incoming>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            next = incoming.recv() => next,
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        };
        match next {
            None => break,
            Some(Incoming::Event(envelope)) => {
                // no_echo keeps a node's own messages away; this is the belt
                // to those braces (a node applied its own at once).
                if &envelope.node != context.bus.node() {
                    context
                        .bus
                        .peers
                        .heard(&envelope.node, std::time::Instant::now());
                    context.apply(envelope.node, envelope.event);
                }
            }
            Some(Incoming::Probe { user, reply }) => {
                if context.hub.has_sessions(&user) {
                    context.bus.answer(reply, PROBE_ANSWER.to_vec()).await;
                }
            }
            Some(Incoming::PartyProbe { user, reply }) => {
                // Answered even when the call just ended (`null`), so the
                // asking node need not wait for the subject to be released.
                let party = context.calls.party_of(&user);
                let payload = serde_json::to_vec(&party).unwrap_or_default();
                context.bus.answer(reply, payload).await;
            }
            Some(Incoming::CallRequest {
                node,
                call,
                user,
                socket,
                request,
                reply,
            }) => {
                // Answered in its own task: a call's effects wait for the store.
                let context = context.clone();
                tokio::spawn(async move {
                    let answer = crate::services::calls::answer_relayed(
                        &context, node, call, user, socket, *request,
                    )
                    .await;
                    let payload = serde_json::to_vec(&answer).unwrap_or_default();
                    context.bus.answer(reply, payload).await;
                });
            }
            Some(Incoming::Reconnected) => {
                // The subscriptions are sent again on reconnection; once the
                // server has them, whatever is stored from now on arrives, and
                // what was stored before is read here.
                context.bus.settle().await;
                // Nothing was heard while the link was down: not a sign
                // that the other nodes went away.
                context.bus.peers.heard_all(std::time::Instant::now());
                context.refresh_newest().await;
            }
        }
    }
}

/// Decodes a NATS payload for [`Incoming`], as the link does.
pub(crate) fn incoming(payload: &[u8], reply: Option<String>) -> Result<Incoming, DecodeError> {
    let envelope = Envelope::decode(payload)?;
    Ok(match (envelope.event, reply) {
        (Event::Probe { user }, Some(reply)) => Incoming::Probe { user, reply },
        (Event::PartyProbe { user }, Some(reply)) => Incoming::PartyProbe { user, reply },
        (
            Event::CallRequest {
                call,
                user,
                socket,
                request,
            },
            Some(reply),
        ) => Incoming::CallRequest {
            node: envelope.node,
            call,
            user,
            socket,
            request,
            reply,
        },
        (event, _) => Incoming::Event(Envelope {
            node: envelope.node,
            event,
        }),
    })
}

#[cfg(test)]
mod tests;
