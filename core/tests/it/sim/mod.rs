//! A simulated PENPEN server and network for the sync engine's tests: real
//! frames through `penpen-core`'s codec, a simulated clock, and faults on
//! demand (dropped connections, lost replies, duplicate and reordered pushes,
//! a server restart).

#![allow(dead_code)]

mod actions;
mod files;
mod messages;
mod receipts;
mod settings;
mod stream;
mod sync;

use penpen_core::cache::{Cache, MemoryCache};
use penpen_core::digest::password_digest;
use penpen_core::packets::actions::MessageAction;
use penpen_core::packets::directory::Directory;
use penpen_core::packets::groups::{Group, Groups, Members};
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{Message, SendText};
use penpen_core::packets::upload::Upload;
use penpen_core::sync::{Action, Credentials, Engine, Event};
use penpen_core::{
    ClientMsgId, Encoding, ErrorReply, Frame, GroupId, Peer, Seq, Service, State, UserId,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub const PASSWORD: &str = "penpen2026";

pub use penpen_core::testing::user;

/// The in-memory cache never waits, so one poll finishes every future.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the in-memory cache never waits"),
    }
}

#[derive(Debug, Default)]
struct Account {
    name: String,
    last_seq: u64,
    acked: u64,
    /// seq -> message id
    inbox: BTreeMap<u64, u64>,
}

/// The durable part of the server: survives restarts.
#[derive(Debug, Default)]
pub struct ServerData {
    accounts: BTreeMap<UserId, Account>,
    messages: BTreeMap<u64, Message>,
    cids: BTreeMap<(UserId, String), u64>,
    tokens: BTreeMap<String, UserId>,
    /// Members, the holder first.
    groups: BTreeMap<GroupId, Vec<UserId>>,
    /// Former members of a group, with the last message id they could see.
    left: BTreeMap<(GroupId, UserId), u64>,
    /// Uploads under way (§15.6), by (user, cid): the bytes so far.
    pub uploads: BTreeMap<(UserId, String), SimUpload>,
    /// Stored files by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The largest chunk the server received.
    pub largest_chunk: usize,
    /// Each user's muted conversations (32888).
    pub muted: BTreeMap<UserId, BTreeSet<Peer>>,
    /// Read marks, watches and reminders (§16).
    pub reads: receipts::SimReads,
    next_id: u64,
    next_token: u64,
    clock: i64,
}

/// An upload under way on the simulated server.
#[derive(Debug, Clone)]
pub struct SimUpload {
    pub to: Peer,
    pub name: String,
    pub size: u64,
    pub data: Vec<u8>,
}

/// A socket between a client and the server.
#[derive(Debug)]
struct Socket {
    user: Option<UserId>,
    /// The server node it connects to.
    node: usize,
    live: bool,
    /// The group this stream watches the marks of (§16.2).
    watch: Option<GroupId>,
}

pub struct Client {
    pub engine: Engine,
    pub cache: MemoryCache,
    pub events: Vec<Event>,
    pub token: Option<String>,
    sockets: BTreeMap<Service, Socket>,
    /// Frames on their way to the client, per service, in order.
    inbound: VecDeque<(Service, String)>,
    /// While false, nothing reaches the client or the server.
    pub online: bool,
    /// The files the driver keeps for uploads (the browser's IndexedDB),
    /// by cid; they survive a reload.
    pub files: BTreeMap<ClientMsgId, Vec<u8>>,
    /// Chunks the engine asked for, not yet read (when `hold_reads`).
    pub reads: VecDeque<(ClientMsgId, u64, u64)>,
    /// Leave chunk reads waiting until the test hands them over.
    pub hold_reads: bool,
    /// The server node its next connections go to (the driver's choice:
    /// [`Action::SwitchNode`] moves it to the next node in turn).
    pub node: usize,
    /// How many times the engine asked for another node.
    pub switches: usize,
}

pub struct Net {
    pub server: ServerData,
    pub server_up: bool,
    pub clients: Vec<Client>,
    pub now: i64,
    /// Replies to drop (the server acts, the answer is lost), per service.
    pub lose_next_reply: BTreeSet<Service>,
    /// Users whose next live push is lost on the way.
    pub lose_next_push_to: BTreeSet<UserId>,
    /// Heartbeats the server answered.
    pub heartbeats: usize,
    /// The server nodes (one unless a test says): every node serves every
    /// user from the same data, as nodes sharing one store and one bus do.
    pub nodes: usize,
    /// Nodes that are down: nothing connects to them.
    pub nodes_down: BTreeSet<usize>,
    /// Nodes whose stream port (20888) alone is down.
    pub streams_down: BTreeSet<usize>,
    /// Nodes gone without a word (a machine switched off): a connection to
    /// them neither opens nor fails, and nothing arrives from them.
    pub nodes_silent: BTreeSet<usize>,
    /// Logins with a password the server answered (resumes are not counted).
    pub password_logins: usize,
}

impl Net {
    pub fn new(people: u64) -> Net {
        let mut server = ServerData {
            next_id: 1000,
            clock: 1_795_000_000_000,
            ..Default::default()
        };
        for n in 1..=people {
            server.accounts.insert(
                user(n),
                Account {
                    name: format!("用户{n}"),
                    ..Default::default()
                },
            );
        }
        server.groups.insert(
            GroupId::new(7).expect("gid"),
            (1..=people).map(user).collect(),
        );
        Net {
            server,
            server_up: true,
            clients: Vec::new(),
            now: 1_795_000_000_000,
            lose_next_reply: BTreeSet::new(),
            lose_next_push_to: BTreeSet::new(),
            heartbeats: 0,
            nodes: 1,
            nodes_down: BTreeSet::new(),
            streams_down: BTreeSet::new(),
            nodes_silent: BTreeSet::new(),
            password_logins: 0,
        }
    }

    /// A client that logs in with the password, on a fresh cache.
    pub fn log_in(&mut self, n: u64) -> usize {
        let credentials = Credentials::Password {
            user: user(n),
            digest: password_digest(PASSWORD),
        };
        self.add_client(credentials, MemoryCache::new())
    }

    pub fn add_client(&mut self, credentials: Credentials, cache: MemoryCache) -> usize {
        let snapshot = ready(cache.load()).expect("load");
        let engine = Engine::new(credentials, snapshot, 42 + self.clients.len() as u64);
        self.clients.push(Client {
            engine,
            cache,
            events: Vec::new(),
            token: None,
            sockets: BTreeMap::new(),
            inbound: VecDeque::new(),
            online: true,
            files: BTreeMap::new(),
            reads: VecDeque::new(),
            hold_reads: false,
            node: 0,
            switches: 0,
        });
        let index = self.clients.len() - 1;
        self.clients[index].engine.handle_timeout(self.now);
        index
    }

    /// Restarts a client from its cache (a page reload), resuming by token.
    pub fn reload(&mut self, index: usize) {
        let old = &mut self.clients[index];
        let token = old.token.clone().expect("logged in before");
        let user = old.engine.account().user;
        for (_, socket) in std::mem::take(&mut old.sockets) {
            drop(socket);
        }
        old.inbound.clear();
        old.reads.clear();
        let cache = std::mem::take(&mut old.cache);
        let snapshot = ready(cache.load()).expect("load");
        old.engine = Engine::new(
            Credentials::Token {
                user,
                token: token.clone(),
            },
            snapshot,
            99,
        );
        old.cache = cache;
        old.token = Some(token);
        old.engine.handle_timeout(self.now);
    }

    /// Runs until nothing is left to do before `until`, advancing the clock
    /// to each deadline.
    pub fn run_until(&mut self, until: i64) {
        loop {
            let mut progressed = true;
            while progressed {
                progressed = false;
                for index in 0..self.clients.len() {
                    progressed |= self.step_client(index);
                }
            }
            let next = self
                .clients
                .iter()
                .filter_map(|c| c.engine.poll_timeout())
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    for client in &mut self.clients {
                        client.engine.handle_timeout(self.now);
                    }
                }
                _ => {
                    self.now = self.now.max(until);
                    for client in &mut self.clients {
                        client.engine.handle_timeout(self.now);
                    }
                    if self.clients.iter().all(|c| c.inbound.is_empty()) {
                        return;
                    }
                }
            }
        }
    }

    /// Runs for `ms` of simulated time.
    pub fn run_for(&mut self, ms: i64) {
        let until = self.now + ms;
        self.run_until(until);
    }

    /// Does one thing for a client: an action or an inbound frame.
    fn step_client(&mut self, index: usize) -> bool {
        let now = self.now;
        if let Some(action) = self.clients[index].engine.poll_action() {
            self.carry_out(index, action);
            return true;
        }
        if let Some((service, text)) = self.clients[index].inbound.pop_front() {
            let client = &mut self.clients[index];
            if client.sockets.contains_key(&service) {
                client.engine.received(service, &text, now);
            }
            return true;
        }
        false
    }

    fn carry_out(&mut self, index: usize, action: Action) {
        let now = self.now;
        match action {
            Action::Open(service) => {
                let node = self.clients[index].node;
                if self.nodes_silent.contains(&node) {
                    // The connect hangs: no open, no close.
                    return;
                }
                let reachable = self.server_up
                    && self.clients[index].online
                    && !self.nodes_down.contains(&node)
                    && !(service == Service::Login && self.streams_down.contains(&node));
                let user = if service == Service::Login {
                    Some(None)
                } else {
                    // Service ports check the token at the upgrade.
                    self.clients[index]
                        .token
                        .as_ref()
                        .and_then(|t| self.server.tokens.get(t).cloned())
                        .map(Some)
                };
                let client = &mut self.clients[index];
                match (reachable, user) {
                    (true, Some(user)) => {
                        client.sockets.insert(
                            service,
                            Socket {
                                user,
                                node,
                                live: false,
                                watch: None,
                            },
                        );
                        client.engine.opened(service, now);
                    }
                    _ => client.engine.closed(service, now),
                }
            }
            Action::Close(service) => {
                let client = &mut self.clients[index];
                client.sockets.remove(&service);
                client.inbound.retain(|(s, _)| *s != service);
            }
            Action::Send(service, frame) => {
                let client = &self.clients[index];
                let silent = client
                    .sockets
                    .get(&service)
                    .is_some_and(|socket| self.nodes_silent.contains(&socket.node));
                if !client.sockets.contains_key(&service)
                    || !client.online
                    || !self.server_up
                    || silent
                {
                    return;
                }
                self.server_handles(index, service, &frame);
            }
            Action::Persist(batch) => {
                ready(self.clients[index].cache.apply(&batch)).expect("apply");
            }
            Action::Notify(event) => {
                if let Event::LoggedIn { token, .. } = &event {
                    self.clients[index].token = Some(token.clone());
                }
                self.clients[index].events.push(event);
            }
            Action::ReadChunk { cid, offset, len } => {
                self.clients[index].reads.push_back((cid, offset, len));
                if !self.clients[index].hold_reads {
                    self.read_chunks(index);
                }
            }
            Action::ReleaseFile(cid) => {
                self.clients[index].files.remove(&cid);
            }
            Action::SwitchNode => {
                let client = &mut self.clients[index];
                client.node = (client.node + 1) % self.nodes;
                client.switches += 1;
            }
        }
    }

    /// Hands every chunk the engine asked for to it, as the driver does.
    pub fn read_chunks(&mut self, index: usize) {
        let now = self.now;
        let client = &mut self.clients[index];
        while let Some((cid, offset, len)) = client.reads.pop_front() {
            match client.files.get(&cid) {
                Some(file) => {
                    let start = (offset as usize).min(file.len());
                    let end = (start + len as usize).min(file.len());
                    let chunk = file[start..end].to_vec();
                    client.engine.chunk_read(&cid, offset, chunk, now);
                }
                None => client
                    .engine
                    .chunk_unreadable(&cid, "the file is gone".into(), now),
            }
        }
    }

    /// Queues a file upload: the driver keeps the bytes, the engine the entry.
    pub fn send_upload(
        &mut self,
        index: usize,
        to: Peer,
        name: &str,
        data: Vec<u8>,
    ) -> ClientMsgId {
        let now = self.now;
        let client = &mut self.clients[index];
        let cid = client
            .engine
            .send_upload(to, name.into(), data.len() as u64, now)
            .expect("queued");
        client.files.insert(cid.clone(), data);
        cid
    }

    /// Carries out one action (for tests that step by hand).
    pub fn carry_out_for_test(&mut self, index: usize, action: Action) {
        self.carry_out(index, action);
    }

    /// Hands one inbound frame to its client, if any is waiting.
    pub fn deliver_one_for_test(&mut self) {
        let now = self.now;
        for client in &mut self.clients {
            if let Some((service, text)) = client.inbound.pop_front() {
                if client.sockets.contains_key(&service) {
                    client.engine.received(service, &text, now);
                }
                return;
            }
        }
    }

    /// Revokes every session (a password change, say).
    pub fn server_revoke_all_tokens(&mut self) {
        self.server.tokens.clear();
    }

    /// Closes every socket of a client, as a dropped network would.
    pub fn drop_connections(&mut self, index: usize) {
        let now = self.now;
        let client = &mut self.clients[index];
        let services: Vec<Service> = client.sockets.keys().copied().collect();
        client.sockets.clear();
        client.inbound.clear();
        for service in services {
            client.engine.closed(service, now);
        }
    }

    /// The server goes down (every connection drops) and later comes back.
    pub fn stop_server(&mut self) {
        self.server_up = false;
        for index in 0..self.clients.len() {
            self.drop_connections(index);
        }
    }

    /// Node `node` goes down: every connection to it drops, and nothing
    /// connects to it until [`Net::revive_node`].
    pub fn kill_node(&mut self, node: usize) {
        self.nodes_down.insert(node);
        self.drop_node_sockets(node, |_| true);
    }

    /// Only the stream port of `node` goes down (its stream drops, its other
    /// sockets stay open): the client must move all of them.
    pub fn kill_stream_port(&mut self, node: usize) {
        self.streams_down.insert(node);
        self.drop_node_sockets(node, |service| service == Service::Login);
    }

    /// Node `node` goes away without a word: its sockets stay open with
    /// nothing arriving, new connections to it hang.
    pub fn silence_node(&mut self, node: usize) {
        self.nodes_silent.insert(node);
        for client in &mut self.clients {
            let silenced: Vec<Service> = client
                .sockets
                .iter()
                .filter(|(_, socket)| socket.node == node)
                .map(|(service, _)| *service)
                .collect();
            client.inbound.retain(|(s, _)| !silenced.contains(s));
        }
    }

    /// Node `node` comes back.
    pub fn revive_node(&mut self, node: usize) {
        self.nodes_down.remove(&node);
        self.streams_down.remove(&node);
        self.nodes_silent.remove(&node);
    }

    fn drop_node_sockets(&mut self, node: usize, which: impl Fn(Service) -> bool) {
        let now = self.now;
        for client in &mut self.clients {
            let dropped: Vec<Service> = client
                .sockets
                .iter()
                .filter(|(service, socket)| socket.node == node && which(**service))
                .map(|(service, _)| *service)
                .collect();
            for service in dropped {
                client.sockets.remove(&service);
                client.inbound.retain(|(s, _)| *s != service);
                client.engine.closed(service, now);
            }
        }
    }

    /// The nodes of a client's open sockets.
    pub fn socket_nodes(&self, index: usize) -> BTreeMap<Service, usize> {
        self.clients[index]
            .sockets
            .iter()
            .map(|(service, socket)| (*service, socket.node))
            .collect()
    }

    pub fn start_server(&mut self) {
        self.server_up = true;
        for client in &mut self.clients {
            client.engine.reconnect_now(self.now);
        }
    }

    /// Pushes a stored message to a client's stream again, out of band.
    pub fn push_again(&mut self, index: usize, message: &Message) {
        self.push(index, &Push::Message(Box::new(message.clone())));
    }

    /// Pushes `push` to a client's stream, out of band.
    pub fn push(&mut self, index: usize, push: &Push) {
        let frame = Frame::encode(Encoding::Base64, push).expect("encode");
        self.clients[index]
            .inbound
            .push_back((Service::Login, frame));
    }

    /// Every message a user received, with their seqs.
    pub fn received_by(&self, who: &UserId) -> Vec<Message> {
        let account = &self.server.accounts[who];
        account
            .inbox
            .iter()
            .map(|(seq, id)| Message {
                seq: Some(Seq(*seq)),
                ..self.server.messages[id].clone()
            })
            .collect()
    }

    /// The answers `index` got for operation `id` (exactly one is right).
    pub fn performed(
        &self,
        index: usize,
        id: penpen_core::sync::OperationId,
    ) -> Vec<Result<penpen_core::sync::Outcome, ErrorReply>> {
        self.clients[index]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Performed { id: done, result } if *done == id => Some(result.clone()),
                _ => None,
            })
            .collect()
    }

    /// A group of `members` (the holder first), known to the server only:
    /// clients hear of it at their next group refresh.
    pub fn add_group(&mut self, gid: GroupId, members: Vec<UserId>) {
        self.server.groups.insert(gid, members);
    }

    /// `who` leaves group `gid` (quietly: the sim sends no notice); they
    /// keep seeing its history up to its newest message now.
    pub fn leave_group(&mut self, gid: GroupId, who: &UserId) {
        let last = self
            .server
            .messages
            .values()
            .filter(|m| m.to == Peer::Group(gid))
            .map(|m| m.id.0)
            .max()
            .unwrap_or(0);
        if let Some(members) = self.server.groups.get_mut(&gid) {
            members.retain(|m| m != who);
        }
        self.server.left.insert((gid, who.clone()), last);
    }

    pub fn message_count(&self) -> usize {
        self.server.messages.len()
    }

    // ------------------------------------------------------------ the server

    fn reply(&mut self, index: usize, service: Service, frame: String) {
        if self.lose_next_reply.remove(&service) {
            return;
        }
        self.clients[index].inbound.push_back((service, frame));
    }

    fn reply_packet<T: serde::Serialize>(&mut self, index: usize, service: Service, packet: &T) {
        let frame = Frame::encode(Encoding::Base64, packet).expect("encode");
        self.reply(index, service, frame);
    }

    fn refuse(&mut self, index: usize, service: Service, state: State, why: &str) {
        self.reply_packet(index, service, &ErrorReply::new(state, why));
    }

    fn server_handles(&mut self, index: usize, service: Service, text: &str) {
        let frame = match Frame::decode(text) {
            Ok(frame) => frame,
            Err(err) => return self.refuse(index, service, State::BAD_FRAME, &err.to_string()),
        };
        let session_user = self.clients[index]
            .sockets
            .get(&service)
            .and_then(|s| s.user.clone());
        match service {
            Service::Login => self.stream_request(index, &frame),
            Service::Text | Service::GroupText => {
                let Some(me) = session_user else { return };
                match frame.packet::<SendText>() {
                    Ok(send) => self.store_and_ack(index, service, &me, send),
                    Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
                }
            }
            Service::MessageActions => {
                let Some(me) = session_user else { return };
                match frame.packet::<MessageAction>() {
                    Ok(MessageAction::Recall(recall)) => self.recall(index, &me, recall),
                    Ok(MessageAction::Forward(forward)) => self.forward(index, &me, forward),
                    Ok(MessageAction::Ding(ding)) => self.ding(index, &me, ding),
                    Err(e) => {
                        self.refuse(index, service, State::BAD_PACKET, &e.to_string());
                    }
                }
            }
            Service::SyncMessages => {
                let Some(me) = session_user else { return };
                self.sync_request(index, me, &frame);
            }
            Service::SyncContacts => {
                let directory = Directory {
                    state: State::SUCCESS,
                    departments: BTreeMap::new(),
                    jobs: BTreeMap::new(),
                    contacts: Vec::new(),
                };
                self.reply_packet(index, service, &directory);
            }
            Service::SyncGroups => {
                let Some(me) = session_user else { return };
                let groups = self
                    .server
                    .groups
                    .iter()
                    .filter(|(_, members)| members.contains(&me))
                    .map(|(gid, members)| Group {
                        gid: *gid,
                        holder: members[0].clone(),
                        name: "讨论组".into(),
                        member: Members(members.clone()),
                    })
                    .collect();
                self.reply_packet(
                    index,
                    service,
                    &Groups {
                        state: State::SUCCESS,
                        groups,
                        more: false,
                        next: None,
                    },
                );
            }
            Service::Files => {
                let Some(me) = session_user else { return };
                match frame.packet::<Upload>() {
                    Ok(upload) => self.upload(index, &me, upload),
                    Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
                }
            }
            Service::ConversationSettings => {
                let Some(me) = session_user else { return };
                self.settings_request(index, &me, &frame);
            }
            _ => self.refuse(index, service, State::UNAVAILABLE, "not simulated"),
        }
    }
}

impl Client {
    /// The cached timeline of a conversation, all of it.
    pub fn timeline(&self, peer: &Peer) -> Vec<Message> {
        ready(self.cache.timeline(peer, None, usize::MAX)).expect("timeline")
    }

    pub fn texts(&self, peer: &Peer) -> Vec<String> {
        self.timeline(peer).into_iter().map(|m| m.content).collect()
    }
}
