//! A simulated PENPEN server and network for the sync engine's tests: real
//! frames through `penpen-core`'s codec, a simulated clock, and faults on
//! demand (dropped connections, lost replies, duplicate and reordered pushes,
//! a server restart).

#![allow(dead_code)]

use penpen_core::cache::{Cache, MemoryCache};
use penpen_core::digest::password_digest;
use penpen_core::packets::Done;
use penpen_core::packets::actions::{Forward, MessageAction, Recall};
use penpen_core::packets::directory::Directory;
use penpen_core::packets::groups::{Group, Groups, Members};
use penpen_core::packets::login::{LoginReply, Push, StreamRequest};
use penpen_core::packets::message::{
    ChatRecord, ChatRecordItem, Message, MessageType, Quote, RecallNotice, Recalled, SendAck,
    SendText, Sender,
};
use penpen_core::packets::settings::{Conversations, MutedList, SettingsRequest};
use penpen_core::packets::sync::{MessagePage, SyncRequest};
use penpen_core::packets::upload::{Upload, UploadOffset};
use penpen_core::sync::{Action, Credentials, Engine, Event};
use penpen_core::{
    ClientMsgId, Encoding, ErrorReply, Frame, GroupId, MessageId, Peer, Seq, Service, State, UserId,
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
    /// Uploads under way (§15.6), by (user, cid): the bytes so far.
    pub uploads: BTreeMap<(UserId, String), SimUpload>,
    /// Stored files by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The largest chunk the server received.
    pub largest_chunk: usize,
    /// Each user's muted conversations (32888).
    pub muted: BTreeMap<UserId, BTreeSet<Peer>>,
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
    live: bool,
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
                let reachable = self.server_up && self.clients[index].online;
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
                        client.sockets.insert(service, Socket { user, live: false });
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
                if !client.sockets.contains_key(&service) || !client.online || !self.server_up {
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
                    Ok(MessageAction::Ding(_)) => {
                        self.refuse(index, service, State::UNAVAILABLE, "not simulated yet")
                    }
                    Err(e) => {
                        self.refuse(index, service, State::BAD_PACKET, &e.to_string());
                    }
                }
            }
            Service::SyncMessages => {
                let Some(me) = session_user else { return };
                match SyncRequest::from_frame(&frame) {
                    Ok(SyncRequest::CatchUp(catch_up)) => {
                        let limit = catch_up.limit.unwrap_or(50) as usize;
                        let all: Vec<Message> = self
                            .received_by(&me)
                            .into_iter()
                            .filter(|m| m.seq > Some(catch_up.since))
                            .collect();
                        let more = all.len() > limit;
                        let page = MessagePage {
                            state: State::SUCCESS,
                            messages: all.into_iter().take(limit).collect(),
                            more,
                        };
                        self.reply_packet(index, service, &page);
                    }
                    Ok(SyncRequest::Reads(_)) => {
                        self.refuse(index, service, State::UNAVAILABLE, "not simulated yet")
                    }
                    Ok(SyncRequest::History(history)) => {
                        let limit = history.limit.unwrap_or(50) as usize;
                        let seqs: BTreeMap<u64, u64> = self.server.accounts[&me]
                            .inbox
                            .iter()
                            .map(|(seq, id)| (*id, *seq))
                            .collect();
                        let mut older: Vec<Message> = self
                            .server
                            .messages
                            .values()
                            .filter(|m| m.conversation(&me) == history.target)
                            .filter(|m| {
                                history.target.group().is_some()
                                    || m.to == Peer::User(me.clone())
                                    || m.from == Sender::User(me.clone())
                            })
                            .filter(|m| history.before.is_none_or(|b| m.id < b))
                            .map(|m| Message {
                                seq: seqs.get(&m.id.0).map(|s| Seq(*s)),
                                ..m.clone()
                            })
                            .collect();
                        let more = older.len() > limit;
                        let start = older.len().saturating_sub(limit);
                        let page = MessagePage {
                            state: State::SUCCESS,
                            messages: older.split_off(start),
                            more,
                        };
                        self.reply_packet(index, service, &page);
                    }
                    Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
                }
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

    fn upload(&mut self, index: usize, me: &UserId, upload: Upload) {
        let service = Service::Files;
        let key = (me.clone(), upload.cid().to_string());
        let offset = |offset: u64| UploadOffset::stored(offset);
        match upload {
            Upload::Start {
                cid,
                to,
                name,
                size,
            } => {
                if self.server.cids.contains_key(&key) {
                    return self.repeat_ack(index, service, me, &cid);
                }
                if size > penpen_core::limits::MAX_FILE_BYTES {
                    return self.refuse(index, service, State::TOO_LARGE, "too large");
                }
                let stored = self
                    .server
                    .uploads
                    .entry(key)
                    .or_insert(SimUpload {
                        to,
                        name,
                        size,
                        data: Vec::new(),
                    })
                    .data
                    .len();
                self.reply_packet(index, service, &offset(stored as u64));
            }
            Upload::Chunk {
                offset: at, data, ..
            } => {
                self.server.largest_chunk = self.server.largest_chunk.max(data.len());
                let Some(upload) = self.server.uploads.get_mut(&key) else {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("unknown".into()),
                            offset: 0,
                        },
                    );
                };
                let stored = upload.data.len() as u64;
                if at != stored {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("elsewhere".into()),
                            offset: stored,
                        },
                    );
                }
                upload.data.extend_from_slice(&data);
                let stored = upload.data.len() as u64;
                self.reply_packet(index, service, &offset(stored));
            }
            Upload::Send { cid } => {
                if self.server.cids.contains_key(&key) {
                    return self.repeat_ack(index, service, me, &cid);
                }
                let Some(upload) = self.server.uploads.get(&key).cloned() else {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("unknown".into()),
                            offset: 0,
                        },
                    );
                };
                if (upload.data.len() as u64) < upload.size {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("more".into()),
                            offset: upload.data.len() as u64,
                        },
                    );
                }
                self.server.uploads.remove(&key);
                let stored_name = format!("{}.bin", self.server.next_id + 1);
                self.server.files.insert(stored_name.clone(), upload.data);
                let kind = if upload.to.group().is_some() {
                    MessageType::GroupFile
                } else {
                    MessageType::File
                };
                self.store_file(
                    index,
                    me,
                    upload.to,
                    kind,
                    stored_name,
                    cid,
                    (upload.name, upload.size),
                );
            }
            Upload::Cancel { .. } => {
                self.server.uploads.remove(&key);
                self.reply_packet(index, service, &Done::new());
            }
        }
    }

    fn repeat_ack(&mut self, index: usize, service: Service, me: &UserId, cid: &ClientMsgId) {
        let id = self.server.cids[&(me.clone(), cid.to_string())];
        let seq = self.server.accounts[me]
            .inbox
            .iter()
            .find(|(_, m)| **m == id)
            .map(|(s, _)| *s)
            .expect("the sender received it");
        let message = self.server.messages[&id].clone();
        self.reply_packet(index, service, &ack(cid, &message, seq));
    }

    fn stream_request(&mut self, index: usize, frame: &Frame) {
        let request = match StreamRequest::from_frame(frame) {
            Ok(request) => request,
            Err(e) => return self.refuse(index, Service::Login, State::BAD_PACKET, &e.to_string()),
        };
        // What the server pushes after the reply: the unacknowledged messages,
        // unless the client said it catches up itself.
        let mut backlog = true;
        let user = match request {
            StreamRequest::Read(_) | StreamRequest::Watch(_) => {
                return self.refuse(
                    index,
                    Service::Login,
                    State::UNAVAILABLE,
                    "not simulated yet",
                );
            }
            StreamRequest::Login(login) => {
                if login.password != password_digest(PASSWORD)
                    || !self.server.accounts.contains_key(&login.user)
                {
                    return self.refuse(
                        index,
                        Service::Login,
                        State::LOGIN_FAILED,
                        "wrong account or password",
                    );
                }
                self.server.next_token += 1;
                let token = format!("token-{}", self.server.next_token);
                self.server.tokens.insert(token.clone(), login.user.clone());
                (login.user, token)
            }
            StreamRequest::Resume(resume) => {
                if self.server.tokens.get(&resume.token) != Some(&resume.user) {
                    return self.refuse(
                        index,
                        Service::Login,
                        State::SESSION_INVALID,
                        "token revoked",
                    );
                }
                backlog = !resume.catch_up;
                (resume.user, resume.token)
            }
            StreamRequest::Ack(ack) => {
                let Some(me) = self.clients[index]
                    .sockets
                    .get(&Service::Login)
                    .and_then(|s| s.user.clone())
                else {
                    return;
                };
                let account = self.server.accounts.get_mut(&me).expect("account");
                account.acked = account.acked.max(ack.ack.0.min(account.last_seq));
                return;
            }
            StreamRequest::Logout(_) => {
                let token = self.clients[index].token.clone().unwrap_or_default();
                self.server.tokens.remove(&token);
                return;
            }
            StreamRequest::Heartbeat(heartbeat) => {
                self.heartbeats += 1;
                return self.reply_packet(index, Service::Login, &heartbeat);
            }
        };
        let (who, token) = user;
        let name = self.server.accounts[&who].name.clone();
        if let Some(socket) = self.clients[index].sockets.get_mut(&Service::Login) {
            socket.user = Some(who.clone());
            socket.live = true;
        }
        self.reply_packet(
            index,
            Service::Login,
            &LoginReply {
                state: State::SUCCESS,
                user: who.clone(),
                token,
                name,
                broadcaster: false,
            },
        );
        // The backlog: everything not acknowledged, oldest first.
        let acked = self.server.accounts[&who].acked;
        if !backlog {
            return;
        }
        for message in self.received_by(&who) {
            if message.seq > Some(Seq(acked)) {
                let frame = Frame::encode(Encoding::Base64, &Push::Message(Box::new(message)))
                    .expect("encode");
                self.clients[index]
                    .inbound
                    .push_back((Service::Login, frame));
            }
        }
    }

    /// 32888: a mute (pushed to every live session of the user) or the list.
    fn settings_request(&mut self, index: usize, me: &UserId, frame: &Frame) {
        let service = Service::ConversationSettings;
        match SettingsRequest::from_frame(frame) {
            Ok(SettingsRequest::Mute(mute)) => {
                let set = self.server.muted.entry(me.clone()).or_default();
                if mute.muted {
                    set.insert(mute.target.clone());
                } else {
                    set.remove(&mute.target);
                }
                self.reply_packet(index, service, &Done::new());
                let push =
                    Frame::encode(Encoding::Base64, &Push::Conversation { conversation: mute })
                        .expect("encode");
                self.push_live(me, &push);
            }
            Ok(SettingsRequest::Receipts(_)) => {
                self.refuse(index, service, State::UNAVAILABLE, "not simulated yet")
            }
            Ok(SettingsRequest::List(_)) => {
                let muted = self.server.muted.get(me).cloned().unwrap_or_default();
                self.reply_packet(
                    index,
                    service,
                    &MutedList {
                        state: State::SUCCESS,
                        muted: Conversations(muted.into_iter().collect()),
                        receipts: None,
                    },
                );
            }
            Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
        }
    }

    /// Queues `frame` on every live stream of `who`.
    fn push_live(&mut self, who: &UserId, frame: &str) {
        for client in &mut self.clients {
            let live = client
                .sockets
                .get(&Service::Login)
                .is_some_and(|s| s.live && s.user.as_ref() == Some(who));
            if live && client.online {
                client.inbound.push_back((Service::Login, frame.to_owned()));
            }
        }
    }

    /// Stores a message, gives it each recipient's next seq and pushes it
    /// to their live sessions; the message and the sender's seq.
    #[allow(clippy::too_many_arguments)]
    fn store_and_push(
        &mut self,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        content: String,
        cid: Option<ClientMsgId>,
        quote: Option<Quote>,
        recipients: &[UserId],
    ) -> (Message, u64) {
        self.store_and_push_file(
            me,
            to,
            kind,
            content,
            cid,
            quote,
            None,
            (None, false),
            recipients,
        )
    }

    /// [`Self::store_and_push`] for a file's message, with its name and size.
    #[allow(clippy::too_many_arguments)]
    fn store_and_push_file(
        &mut self,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        content: String,
        cid: Option<ClientMsgId>,
        quote: Option<Quote>,
        file: Option<(String, u64)>,
        (mentions, mention_all): (Option<Members>, bool),
        recipients: &[UserId],
    ) -> (Message, u64) {
        let (name, size) = file.unzip();
        self.server.next_id += 1;
        self.server.clock += 1000;
        let id = self.server.next_id;
        let message = Message {
            quote,
            mentions,
            mention_all,
            recalled: None,
            name,
            size,
            from: Sender::User(me.clone()),
            to,
            kind,
            content,
            time: "2026-11-26 12:00:00".into(),
            ts: self.server.clock,
            id: MessageId(id),
            seq: None,
            cid,
            duration: None,
        };
        self.server.messages.insert(id, message.clone());
        let mut my_seq = 0;
        for who in recipients {
            let account = self.server.accounts.get_mut(who).expect("account");
            account.last_seq += 1;
            account.inbox.insert(account.last_seq, id);
            if who == me {
                my_seq = account.last_seq;
            }
            let pushed = Message {
                seq: Some(Seq(account.last_seq)),
                ..message.clone()
            };
            let frame =
                Frame::encode(Encoding::Base64, &Push::Message(Box::new(pushed))).expect("encode");
            if self.lose_next_push_to.remove(who) {
                continue;
            }
            for client in &mut self.clients {
                let live = client
                    .sockets
                    .get(&Service::Login)
                    .is_some_and(|s| s.live && s.user.as_ref() == Some(who));
                if live && client.online {
                    client.inbound.push_back((Service::Login, frame.clone()));
                }
            }
        }
        (message, my_seq)
    }

    /// 27888: a recall by the sender (the simulated server keeps no
    /// windows and no holders: §15.1's rules are the real server's tests).
    fn recall(&mut self, index: usize, me: &UserId, Recall { recall: id }: Recall) {
        let service = Service::MessageActions;
        let Some(original) = self.server.messages.get(&id.0).cloned() else {
            return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
        };
        if original.from != Sender::User(me.clone()) {
            return self.refuse(index, service, State::FORBIDDEN, "not the sender");
        }
        let conversation = original.conversation(me);
        let recipients: Vec<UserId> = match &conversation {
            Peer::Group(gid) => self.server.groups[gid].clone(),
            Peer::User(other) if other == me => vec![me.clone()],
            Peer::User(other) => vec![me.clone(), other.clone()],
        };
        let notice = RecallNotice {
            id,
            by: me.clone(),
            sender: me.clone(),
        };
        let kind = if conversation.group().is_some() {
            MessageType::GroupRecall
        } else {
            MessageType::Recall
        };
        let content = serde_json::to_string(&notice).expect("encode");
        let (message, my_seq) =
            self.store_and_push(me, conversation, kind, content, None, None, &recipients);
        let recalled = Recalled {
            by: me.clone(),
            ts: message.ts,
        };
        for stored in self.server.messages.values_mut() {
            stored.take_recall(id, &recalled);
        }
        let mut ack = ack(
            &ClientMsgId::parse("unused").expect("cid"),
            &message,
            my_seq,
        );
        ack.cid = None;
        self.reply_packet(index, service, &ack);
    }

    /// The answer to a repeated (sender, cid): the first message's ack.
    fn earlier(&self, me: &UserId, cid: &ClientMsgId) -> Option<SendAck> {
        let id = *self.server.cids.get(&(me.clone(), cid.to_string()))?;
        let seq = self.server.accounts[me]
            .inbox
            .iter()
            .find(|(_, m)| **m == id)
            .map(|(s, _)| *s)
            .expect("the sender received it");
        Some(ack(cid, &self.server.messages[&id], seq))
    }

    /// 27888: a forward (§15.3): a copy typed for its new conversation, or
    /// one chat record; the visibility and kind rules are the real server's
    /// tests, this one checks only that the ids exist.
    fn forward(&mut self, index: usize, me: &UserId, forward: Forward) {
        let service = Service::MessageActions;
        let key = (me.clone(), forward.cid.to_string());
        if let Some(ack) = self.earlier(me, &forward.cid) {
            return self.reply_packet(index, service, &ack);
        }
        let mut originals = Vec::new();
        for id in &forward.forward.0 {
            match self.server.messages.get(&id.0) {
                Some(original) => originals.push(original.clone()),
                None => {
                    return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
                }
            }
        }
        let recipients: Vec<UserId> = match &forward.to {
            Peer::Group(gid) => self.server.groups[gid].clone(),
            Peer::User(other) if other == me => vec![me.clone()],
            Peer::User(other) => vec![me.clone(), other.clone()],
        };
        let group = forward.to.group().is_some();
        let (kind, content) = if forward.merge {
            let record = ChatRecord {
                source: originals[0].conversation(me),
                items: originals
                    .iter()
                    .map(|o| ChatRecordItem {
                        from: match &o.from {
                            Sender::User(from) => from.clone(),
                            Sender::System => me.clone(),
                        },
                        kind: o.kind,
                        content: o.content.clone(),
                        ts: o.ts,
                        time: o.time.clone(),
                        duration: o.duration,
                        name: None,
                        size: None,
                    })
                    .collect(),
            };
            (
                MessageType::ChatRecord.for_conversation(group),
                serde_json::to_string(&record).expect("encode"),
            )
        } else {
            let one = &originals[0];
            (one.kind.for_conversation(group), one.content.clone())
        };
        let Some(kind) = kind else {
            return self.refuse(index, service, State::BAD_PACKET, "not forwardable");
        };
        let (message, my_seq) = self.store_and_push(
            me,
            forward.to.clone(),
            kind,
            content,
            Some(forward.cid.clone()),
            None,
            &recipients,
        );
        self.server.cids.insert(key, message.id.0);
        self.reply_packet(index, service, &ack(&forward.cid, &message, my_seq));
    }

    fn store_and_ack(&mut self, index: usize, service: Service, me: &UserId, send: SendText) {
        if &send.from != me {
            return self.refuse(index, service, State::FORBIDDEN, "not you");
        }
        let cid = send.cid.clone().expect("the engine always sends a cid");
        let key = (me.clone(), cid.to_string());
        if let Some(ack) = self.earlier(me, &cid) {
            return self.reply_packet(index, service, &ack);
        }
        let Some(recipients) = self.recipients(index, service, me, &send.to) else {
            return;
        };
        if let Peer::Group(gid) = &send.to {
            let members = &self.server.groups[gid];
            let mentioned = send.mentions.iter().flat_map(|m| &m.0);
            if mentioned.clone().any(|m| !members.contains(m)) {
                return self.refuse(index, service, State::BAD_PACKET, "not a member");
            }
            if send.mention_all && members.first() != Some(me) {
                return self.refuse(index, service, State::FORBIDDEN, "not the holder");
            }
        }
        let quote = match send.quote {
            None => None,
            Some(quoted) => match self.server.messages.get(&quoted.0) {
                Some(original) if original.conversation(me) == send.to => {
                    if original.recalled.is_some() || original.kind.is_recall() {
                        return self.refuse(index, service, State::BAD_PACKET, "not quotable");
                    }
                    Some(Quote::of(original))
                }
                _ => return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message"),
            },
        };
        let (message, my_seq) = self.store_and_push_file(
            me,
            send.to.clone(),
            send.kind,
            send.content.clone(),
            Some(cid.clone()),
            quote,
            None,
            (send.mentions.clone(), send.mention_all),
            &recipients,
        );
        self.server.cids.insert(key, message.id.0);
        self.reply_packet(index, service, &ack(&cid, &message, my_seq));
    }

    /// Who receives a message to `to` from `me`, or `None` once refused.
    fn recipients(
        &mut self,
        index: usize,
        service: Service,
        me: &UserId,
        to: &Peer,
    ) -> Option<Vec<UserId>> {
        match to {
            Peer::User(other) => {
                if !self.server.accounts.contains_key(other) {
                    self.refuse(index, service, State::UNKNOWN_USER, "no such user");
                    return None;
                }
                let mut people = vec![me.clone()];
                if other != me {
                    people.push(other.clone());
                }
                Some(people)
            }
            Peer::Group(gid) => match self.server.groups.get(gid) {
                Some(members) if members.contains(me) => Some(members.clone()),
                Some(_) => {
                    self.refuse(index, service, State::NOT_A_MEMBER, "not a member");
                    None
                }
                None => {
                    self.refuse(index, service, State::UNKNOWN_GROUP, "no such group");
                    None
                }
            },
        }
    }

    /// Stores an uploaded file as a type 5/15 message and acknowledges it.
    #[allow(clippy::too_many_arguments)]
    fn store_file(
        &mut self,
        index: usize,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        stored_name: String,
        cid: ClientMsgId,
        file: (String, u64),
    ) {
        let service = Service::Files;
        let Some(recipients) = self.recipients(index, service, me, &to) else {
            return;
        };
        let (mut message, my_seq) = self.store_and_push_file(
            me,
            to,
            kind,
            stored_name.clone(),
            Some(cid.clone()),
            None,
            Some(file),
            (None, false),
            &recipients,
        );
        self.server
            .cids
            .insert((me.clone(), cid.to_string()), message.id.0);
        message.seq = Some(Seq(my_seq));
        let mut reply = ack(&cid, &message, my_seq);
        reply.content = Some(stored_name);
        self.reply_packet(index, service, &reply);
    }
}

fn ack(cid: &ClientMsgId, message: &Message, seq: u64) -> SendAck {
    SendAck {
        state: State::SUCCESS,
        cid: Some(cid.clone()),
        id: message.id,
        seq: Seq(seq),
        time: message.time.clone(),
        ts: message.ts,
        content: None,
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
