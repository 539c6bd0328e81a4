//! The client sync engine, sans-IO.
//!
//! The driver (the browser app, a test, a native tool) feeds it what happened —
//! a socket opened or closed, a frame arrived, the user did something, time
//! passed — and carries out what it asks for, in order: open or close a
//! socket, send a frame, write a batch to the cache, tell the UI. The engine
//! owns every rule of staying in sync:
//!
//! - login with a password or resume with a token on the 20888 stream, and
//!   reconnecting with backoff and jitter whenever it drops;
//! - the stream's cumulative ack, sent only after what it covers is written;
//! - catch-up through 50888 after every (re)connect, history pages on demand;
//! - the **outbox**: written to the cache before it goes on the wire, sent in
//!   order per conversation, retried until acknowledged, failed with the
//!   server's reason when refused;
//! - de-duplication by seq and message id, and the conversation list.
//!
//! Nothing here reads a clock or blocks: time comes in as `now` (milliseconds
//! since the epoch) and [`Engine::poll_timeout`] says when to call back.

mod group_pages;
mod operations;
mod seqs;
mod timing;

pub use operations::{Operation, OperationError, OperationId, Outcome};
pub use seqs::SeqTracker;
pub use timing::{Rng, backoff_ms};

use crate::cache::{
    AccountMeta, CacheBatch, CachedBroadcast, CachedMessage, Conversation, OutboxEntry, OutboxFile,
    OutboxState, Preview, Snapshot,
};
use crate::envelope::{Encoding, Frame};
use crate::ids::{BroadcastId, ClientMsgId, MessageId, Peer, Seq, UserId};
use crate::packets::Done;
use crate::packets::Packet;
use crate::packets::broadcast::{Broadcast, BroadcastAck, BroadcastPage, BroadcastQuery};
use crate::packets::directory::{Contact, Directory, DirectoryQuery};
use crate::packets::groups::{Group, Groups};
use crate::packets::groups::{GroupCreated, GroupUpdated};
use crate::packets::login::{Login, LoginReply, Push, Resume, StreamAck};
use crate::packets::message::{Message, MessageType, SendAck, SendFile, SendText, Sender};
use crate::packets::profile::{Presence, PresenceUpdate, SignatureQuery, Signatures};
use crate::packets::sync::{CatchUp, History, MessagePage};
use crate::reply::{ErrorReply, State};
use crate::service::Service;
use group_pages::{GroupPages, PageOutcome};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How the engine proves who the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A first login: the account and the md5 digest of the password.
    Password {
        /// The account.
        user: UserId,
        /// `penpen_core::digest::password_digest` of the password.
        digest: String,
    },
    /// A session from an earlier login (after a reload).
    Token {
        /// The account.
        user: UserId,
        /// The session token.
        token: String,
    },
}

impl Credentials {
    /// Whose credentials these are.
    pub fn user(&self) -> &UserId {
        match self {
            Credentials::Password { user, .. } | Credentials::Token { user, .. } => user,
        }
    }

    fn token(&self) -> Option<&str> {
        match self {
            Credentials::Token { token, .. } => Some(token),
            Credentials::Password { .. } => None,
        }
    }
}

/// Something for the driver to do. Carry them out in the order given: a
/// `Persist` must be written before any later `Send` goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a WebSocket to this service (with `?token=` unless it is 20888).
    Open(Service),
    /// Close the WebSocket of this service.
    Close(Service),
    /// Send this text frame on the open WebSocket of this service.
    Send(Service, String),
    /// Write this batch to the cache in one transaction.
    Persist(Box<CacheBatch>),
    /// Tell the UI.
    Notify(Event),
}

/// What the UI hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server accepted the credentials; keep the token for the next start.
    LoggedIn {
        /// The account.
        user: UserId,
        /// The session token.
        token: String,
        /// The display name.
        name: String,
        /// Whether the account may send broadcasts.
        broadcaster: bool,
    },
    /// A password login was refused (wrong password, too many attempts). The
    /// engine stops.
    LoginFailed(ErrorReply),
    /// A password login could not reach the server. The engine stops.
    Unreachable,
    /// The session ended (token revoked, logged out). The engine stops.
    SignedOut(String),
    /// The connection indicator changed.
    ConnectionChanged(Connection),
    /// New messages in a conversation, oldest first; `live` when they arrived
    /// on the stream rather than from catch-up.
    Arrived {
        /// The conversation.
        conversation: Peer,
        /// The messages.
        messages: Vec<Message>,
        /// Pushed just now (worth a notification).
        live: bool,
    },
    /// An older page of a conversation came from the server.
    History {
        /// The conversation.
        conversation: Peer,
        /// The messages, oldest first.
        messages: Vec<Message>,
        /// Nothing older exists.
        complete: bool,
    },
    /// The outbox of a conversation changed (queued, sent or failed).
    OutboxChanged(Peer),
    /// The conversation list changed.
    ConversationsChanged,
    /// The directory was refreshed.
    DirectoryChanged,
    /// The user's groups were refreshed.
    GroupsChanged,
    /// Catch-up finished: the cache holds everything the server had.
    CaughtUp,
    /// An operation was answered, or could not be sent after all.
    Performed {
        /// Which.
        id: OperationId,
        /// What it produced, or why it failed.
        result: Result<Outcome, ErrorReply>,
    },
    /// The broadcasts changed (arrived, read).
    BroadcastsChanged,
    /// A broadcast arrived live from someone else (for a notification).
    BroadcastArrived(Broadcast),
    /// A push other than a message (broadcast, presence, signature).
    Pushed(Push),
}

/// The connection indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Logged in on a live stream.
    Connected,
    /// Trying to (re)connect.
    Connecting,
    /// Waiting before the next try (or the browser is offline).
    Offline,
}

/// Why a send was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nothing to send.
    #[error("the message is empty")]
    Empty,
    /// Over the protocol's limit.
    #[error("the message has {chars} characters; at most {max} fit in one message")]
    TooLong {
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The engine has stopped (signed out or logged out).
    #[error("not logged in")]
    NotLoggedIn,
    /// A file over the protocol's limit.
    #[error("the file has {bytes} bytes; at most {max} can be sent")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not an image (or a voice recording) the server accepts.
    #[error("the file is not {expected}")]
    UnsupportedFormat {
        /// What was expected.
        expected: &'static str,
    },
    /// A file in an accepted format whose contents are refused: an image
    /// declaring an absurd canvas, a recording not as long as it says.
    #[error("{0}")]
    Refused(#[from] crate::sniff::Refusal),
    /// A voice message outside the allowed length.
    #[error("a voice message lasts {min} to {max} seconds; this one is {seconds}")]
    VoiceLength {
        /// Its length.
        seconds: u32,
        /// The shortest allowed.
        min: u32,
        /// The longest allowed.
        max: u32,
    },
}

/// What kind of file a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A picture (22888).
    Image,
    /// A voice recording of `seconds` (23888).
    Voice {
        /// Its length in whole seconds.
        seconds: u32,
    },
}

/// Time to wait for a reply before the socket is taken for dead.
pub const REQUEST_TIMEOUT_MS: i64 = 15_000;
/// A service socket unused this long is closed.
pub const SERVICE_IDLE_MS: i64 = 60_000;
/// Received messages are written together if they arrive within this long.
pub const PERSIST_DELAY_MS: i64 = 30;
/// Reconnect delays: the first, and the most.
pub const RECONNECT_FIRST_MS: i64 = 1_000;
/// The longest wait between reconnects.
pub const RECONNECT_MAX_MS: i64 = 30_000;
/// Send retry delays after a transient refusal: the first, and the most.
pub const RETRY_FIRST_MS: i64 = 1_000;
/// The longest wait between retries of one send.
pub const RETRY_MAX_MS: i64 = 60_000;
/// While connected, catch-up runs again this long after the last one: a
/// push lost on the way (a server fault, a proxy) is found within this time
/// rather than at the next reconnect.
pub const RESYNC_MS: i64 = 90_000;
/// Messages per catch-up page.
pub const CATCH_UP_PAGE: u32 = crate::limits::MAX_PAGE;
/// Messages per history page.
pub const HISTORY_PAGE: u32 = crate::limits::DEFAULT_PAGE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// Not connected; the next try is at `retry_at` (none: waiting for an
    /// event such as the browser coming online).
    Down { retry_at: Option<i64> },
    /// The socket is being opened.
    Opening,
    /// Login or resume sent; waiting for the reply.
    Authenticating { since: i64 },
    /// Logged in.
    Live,
    /// Signed out, logged out, or the login was refused: nothing more happens.
    Stopped,
}

/// A request waiting for its reply on a service socket (replies come in order).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    Send(ClientMsgId),
    CatchUp,
    History(Peer),
    Directory,
    /// A 53888 page, asked for with this `after`.
    Groups(Option<crate::ids::GroupId>),
    Broadcasts,
    Operation(OperationId),
    Presence(Presence),
    Signatures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Closed { retry_at: i64 },
    Opening,
    Open,
}

#[derive(Debug, Clone)]
struct Link {
    state: LinkState,
    /// Sent, in order, with when.
    pending: VecDeque<(Request, i64)>,
    last_used: i64,
    failures: u32,
}

impl Link {
    fn new() -> Link {
        Link {
            state: LinkState::Closed { retry_at: 0 },
            pending: VecDeque::new(),
            last_used: 0,
            failures: 0,
        }
    }
}

/// The live part of an outbox entry.
#[derive(Debug, Clone, Copy, Default)]
struct Attempt {
    on_the_wire: bool,
    tries: u32,
    not_before: i64,
}

/// The sync engine of one account. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    credentials: Credentials,
    meta: AccountMeta,
    seqs: SeqTracker,
    conversations: BTreeMap<Peer, Conversation>,
    /// By order: the order sends go out in.
    outbox: BTreeMap<u64, OutboxEntry>,
    attempts: BTreeMap<ClientMsgId, Attempt>,
    directory: Option<Directory>,
    groups: Option<Vec<Group>>,
    stream: Stream,
    stream_failures: u32,
    /// The server has answered a login or resume on this engine: from then
    /// on a lost connection is retried, never reported as unreachable.
    reached_server: bool,
    online: bool,
    links: BTreeMap<Service, Link>,
    actions: VecDeque<Action>,
    unwritten: CacheBatch,
    unwritten_since: Option<i64>,
    acked: Seq,
    catch_up: Wanted,
    directory_wanted: Wanted,
    groups_wanted: Wanted,
    group_pages: GroupPages,
    /// Conversations whose older history is wanted, before which id.
    history_wanted: BTreeMap<Peer, Option<MessageId>>,
    /// Where the next catch-up page starts.
    catch_up_since: Seq,
    /// When the last catch-up finished on this connection.
    caught_up_at: Option<i64>,
    in_view: Option<Peer>,
    visible: bool,
    connection: Connection,
    rng: Rng,
    /// The latest `now` seen: deadlines already past are not reported again.
    clock: i64,
    /// New messages not told to the UI yet, by conversation (and whether any
    /// came live); told at the next write.
    arrivals: BTreeMap<Peer, (Vec<Message>, bool)>,
    /// Operations not answered yet, by id.
    operations: BTreeMap<OperationId, PendingOperation>,
    next_operation: u64,
    /// The user chose to show as busy (else: online while the app is
    /// visible, away while it is hidden).
    busy: bool,
    /// The presence the server last took from this session.
    presence_sent: Option<Presence>,
    /// The company broadcasts, by id.
    broadcasts: BTreeMap<BroadcastId, CachedBroadcast>,
    broadcasts_wanted: Wanted,
    /// The broadcasts now being synced are this device's first: the
    /// company's history, counted read.
    broadcasts_backlog: bool,
    /// Contacts whose signatures are to be fetched (52888).
    signatures_wanted: BTreeSet<UserId>,
    /// The first catch-up of an empty cache (a new device, a rebuilt cache):
    /// what arrives until it is done is history, not news, and is not
    /// counted unread.
    first_sync: bool,
}

/// An operation waiting for its answer.
#[derive(Debug, Clone)]
struct PendingOperation {
    operation: Operation,
    frame: String,
    /// When the user asked: one not on the wire by the request timeout fails.
    asked_at: i64,
    on_the_wire: bool,
}

/// A request made once per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    No,
    Yes,
    Asked,
}

impl Engine {
    /// An engine for `credentials`, starting from what the cache holds.
    /// `seed` spreads retries and makes cids unique: give it real randomness.
    pub fn new(credentials: Credentials, snapshot: Snapshot, seed: u64) -> Engine {
        let user = credentials.user().clone();
        let first_sync = snapshot
            .meta
            .as_ref()
            .is_none_or(|m| m.synced_seq == Seq(0));
        let mut meta = match snapshot.meta {
            Some(meta) if meta.user == user => meta,
            _ => AccountMeta::new(user, String::new(), false),
        };
        let seqs = SeqTracker::new(meta.synced_seq, &meta.seqs_above);
        let conversations = snapshot
            .conversations
            .into_iter()
            .map(|c| (c.peer.clone(), c))
            .collect();
        // Two engines may have numbered entries on their own (one restarted
        // on a rebuilt cache, whose export has no account position; two tabs
        // on one database): each entry keeps a place of its own, in the
        // order they were queued, and new ones come after all of them.
        let mut entries = snapshot.outbox;
        entries.sort_by_key(|e| (e.order, e.created_ts));
        let mut outbox = BTreeMap::new();
        for mut entry in entries {
            if let Some(last) = outbox.keys().next_back() {
                entry.order = entry.order.max(last + 1);
            }
            meta.next_outbox_order = meta.next_outbox_order.max(entry.order + 1);
            outbox.insert(entry.order, entry);
        }
        Engine {
            credentials,
            acked: seqs.contiguous(),
            meta,
            seqs,
            conversations,
            outbox,
            attempts: BTreeMap::new(),
            directory: snapshot.directory,
            groups: snapshot.groups,
            stream: Stream::Down { retry_at: Some(0) },
            stream_failures: 0,
            reached_server: false,
            online: true,
            links: BTreeMap::new(),
            actions: VecDeque::new(),
            unwritten: CacheBatch::default(),
            unwritten_since: None,
            catch_up: Wanted::No,
            catch_up_since: Seq(0),
            caught_up_at: None,
            directory_wanted: Wanted::No,
            groups_wanted: Wanted::No,
            group_pages: GroupPages::default(),
            history_wanted: BTreeMap::new(),
            in_view: None,
            visible: true,
            connection: Connection::Connecting,
            rng: Rng::new(seed),
            clock: 0,
            arrivals: BTreeMap::new(),
            operations: BTreeMap::new(),
            next_operation: 0,
            busy: false,
            presence_sent: None,
            signatures_wanted: BTreeSet::new(),
            broadcasts: snapshot
                .broadcasts
                .into_iter()
                .map(|b| (b.broadcast.id, b))
                .collect(),
            broadcasts_wanted: Wanted::No,
            broadcasts_backlog: false,
            first_sync,
        }
    }

    // ------------------------------------------------------------ queries

    /// The account and its sync position.
    pub fn account(&self) -> AccountMeta {
        self.position()
    }

    /// The conversation list, in display order (pinned first, then newest),
    /// without the ones the user removed.
    pub fn conversations(&self) -> Vec<&Conversation> {
        let mut list: Vec<&Conversation> =
            self.conversations.values().filter(|c| !c.hidden).collect();
        list.sort_by_key(|c| std::cmp::Reverse(c.sort_key()));
        list
    }

    /// One conversation's row, if it exists.
    pub fn conversation(&self, peer: &Peer) -> Option<&Conversation> {
        self.conversations.get(peer)
    }

    /// The unread total (for the tab title).
    pub fn unread_total(&self) -> u32 {
        self.conversations
            .values()
            .filter(|c| !c.hidden)
            .map(|c| c.unread + u32::from(c.marked_unread && c.unread == 0))
            .sum()
    }

    /// A conversation's unacknowledged messages, in sending order.
    pub fn outbox_of(&self, peer: &Peer) -> Vec<&OutboxEntry> {
        self.outbox.values().filter(|e| &e.to == peer).collect()
    }

    /// How many messages wait to be sent.
    pub fn queued(&self) -> usize {
        self.outbox
            .values()
            .filter(|e| e.state == OutboxState::Queued)
            .count()
    }

    /// The connection indicator.
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// Whether the engine has stopped for good (signed out or logged out).
    pub fn is_stopped(&self) -> bool {
        self.stream == Stream::Stopped
    }

    /// What a rebuilt cache should start from: the user's conversations
    /// (pins, drafts) and unsent messages, but no sync position, so the new
    /// cache catches up everything from the server.
    pub fn export(&self) -> Snapshot {
        Snapshot {
            meta: None,
            conversations: self
                .conversations
                .values()
                .map(|c| Conversation {
                    history_complete: false,
                    ..c.clone()
                })
                .collect(),
            outbox: self.outbox.values().cloned().collect(),
            directory: self.directory.clone(),
            groups: self.groups.clone(),
            broadcasts: self.broadcasts.values().cloned().collect(),
        }
    }

    /// The company broadcasts, newest first.
    pub fn broadcasts(&self) -> Vec<&CachedBroadcast> {
        self.broadcasts.values().rev().collect()
    }

    /// How many broadcasts are unread.
    pub fn unread_broadcasts(&self) -> usize {
        self.broadcasts.values().filter(|b| !b.read).count()
    }

    /// Marks a broadcast read (it was opened).
    pub fn mark_broadcast_read(&mut self, id: BroadcastId) {
        if let Some(cached) = self.broadcasts.get_mut(&id)
            && !cached.read
        {
            cached.read = true;
            self.unwritten.broadcasts = Some(self.broadcasts.values().cloned().collect());
            self.flush();
            self.notify(Event::BroadcastsChanged);
        }
    }

    /// The company directory, if synced.
    pub fn directory(&self) -> Option<&Directory> {
        self.directory.as_ref()
    }

    /// The user's groups, if synced, and the groups they have left or were
    /// removed from (without them among the members).
    pub fn groups(&self) -> Option<&[Group]> {
        self.groups.as_deref()
    }

    // ------------------------------------------------------------ driving

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`Engine::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<i64> {
        let mut next: Option<i64> = None;
        let clock = self.clock;
        // `handled`: handle_timeout acts on this deadline whenever it is
        // due, so one already past is still reported (at once) until it has
        // been — an event that moved the clock on must not make it forgotten.
        // The others are also acted on by events, and are reported only
        // while ahead (reporting one that nothing acts on yet, a retry while
        // offline, would wake the driver in a loop).
        let mut at = |t: i64, handled: bool| {
            if handled || t > clock {
                next = Some(next.map_or(t, |n: i64| n.min(t)));
            }
        };
        if let Some(since) = self.unwritten_since {
            at(since + PERSIST_DELAY_MS, true);
        }
        match self.stream {
            Stream::Down {
                retry_at: Some(retry_at),
            } => at(retry_at, false),
            Stream::Authenticating { since } => at(since + REQUEST_TIMEOUT_MS, true),
            _ => {}
        }
        for link in self.links.values() {
            match link.state {
                LinkState::Closed { retry_at } => at(retry_at, false),
                LinkState::Open => {
                    if let Some((_, sent)) = link.pending.front() {
                        at(sent + REQUEST_TIMEOUT_MS, true);
                    } else {
                        at(link.last_used + SERVICE_IDLE_MS, true);
                    }
                }
                _ => {}
            }
        }
        if self.stream == Stream::Live
            && self.catch_up == Wanted::No
            && let Some(done) = self.caught_up_at
        {
            at(done + RESYNC_MS, true);
        }
        for pending in self.operations.values() {
            if !pending.on_the_wire {
                at(pending.asked_at + REQUEST_TIMEOUT_MS, true);
            }
        }
        if self.stream == Stream::Live {
            for entry in self.outbox.values() {
                if let Some(attempt) = self.attempts.get(&entry.cid)
                    && !attempt.on_the_wire
                    && entry.state == OutboxState::Queued
                {
                    at(attempt.not_before, false);
                }
            }
        }
        next
    }

    /// Time passed: retries, timeouts, deferred writes.
    pub fn handle_timeout(&mut self, now: i64) {
        self.clock = self.clock.max(now);
        if self
            .unwritten_since
            .is_some_and(|since| now >= since + PERSIST_DELAY_MS)
        {
            self.flush();
        }
        if let Stream::Authenticating { since } = self.stream
            && now >= since + REQUEST_TIMEOUT_MS
        {
            self.act(Action::Close(Service::Login));
            self.stream_lost(now);
        }
        let timed_out: Vec<Service> = self
            .links
            .iter()
            .filter(|(_, link)| {
                link.state == LinkState::Open
                    && link
                        .pending
                        .front()
                        .is_some_and(|(_, sent)| now >= sent + REQUEST_TIMEOUT_MS)
            })
            .map(|(service, _)| *service)
            .collect();
        for service in timed_out {
            self.act(Action::Close(service));
            self.link_lost(service, now);
        }
        let idle: Vec<Service> = self
            .links
            .iter()
            .filter(|(_, link)| {
                link.state == LinkState::Open
                    && link.pending.is_empty()
                    && now >= link.last_used + SERVICE_IDLE_MS
            })
            .map(|(service, _)| *service)
            .collect();
        for service in idle {
            self.act(Action::Close(service));
            if let Some(link) = self.links.get_mut(&service) {
                link.state = LinkState::Closed { retry_at: now };
            }
        }
        let stale: Vec<OperationId> = self
            .operations
            .iter()
            .filter(|(_, p)| !p.on_the_wire && now >= p.asked_at + REQUEST_TIMEOUT_MS)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.fail_operation(
                id,
                State::UNAVAILABLE,
                "the service could not be reached; nothing was changed",
            );
        }
        if self.stream == Stream::Live
            && self.catch_up == Wanted::No
            && self
                .caught_up_at
                .is_some_and(|done| now >= done + RESYNC_MS)
        {
            self.catch_up = Wanted::Yes;
            self.catch_up_since = self.seqs.contiguous();
        }
        self.drive(now);
    }

    /// The socket of `service` opened.
    pub fn opened(&mut self, service: Service, now: i64) {
        self.clock = self.clock.max(now);
        if service == Service::Login {
            if self.stream != Stream::Opening {
                return;
            }
            let frame = match &self.credentials {
                Credentials::Password { user, digest } => encode(&Login {
                    user: user.clone(),
                    password: digest.clone(),
                }),
                Credentials::Token { user, token } => encode(&Resume {
                    user: user.clone(),
                    token: token.clone(),
                }),
            };
            self.stream = Stream::Authenticating { since: now };
            self.act(Action::Send(Service::Login, frame));
            return;
        }
        let Some(link) = self.links.get_mut(&service) else {
            return;
        };
        if link.state == LinkState::Opening {
            link.state = LinkState::Open;
            link.last_used = now;
        }
        self.drive(now);
    }

    /// The socket of `service` closed, or could not be opened.
    pub fn closed(&mut self, service: Service, now: i64) {
        self.clock = self.clock.max(now);
        if service == Service::Login {
            match self.stream {
                Stream::Opening | Stream::Authenticating { .. } | Stream::Live => {
                    self.stream_lost(now)
                }
                Stream::Down { .. } | Stream::Stopped => {}
            }
        } else {
            self.link_lost(service, now);
        }
        self.drive(now);
    }

    /// A text frame arrived on the socket of `service`.
    pub fn received(&mut self, service: Service, text: &str, now: i64) {
        self.clock = self.clock.max(now);
        let frame = match Frame::decode(text) {
            Ok(frame) => frame,
            // A frame we cannot read is dropped: the server resends what
            // matters (unacked messages) and replies are timed out.
            Err(_) => return,
        };
        if service == Service::Login {
            self.stream_frame(&frame, now);
        } else {
            self.reply(service, &frame, now);
        }
        self.drive(now);
    }

    /// The browser went online or offline.
    pub fn set_online(&mut self, online: bool, now: i64) {
        self.clock = self.clock.max(now);
        self.online = online;
        if online {
            self.reconnect_now(now);
        } else {
            self.update_connection();
        }
    }

    /// Try to connect now instead of waiting (the tab became visible, the
    /// user pressed retry).
    pub fn reconnect_now(&mut self, now: i64) {
        self.clock = self.clock.max(now);
        if let Stream::Down { .. } = self.stream {
            self.stream = Stream::Down {
                retry_at: Some(now),
            };
            self.stream_failures = 0;
        }
        for link in self.links.values_mut() {
            if let LinkState::Closed { .. } = link.state {
                link.state = LinkState::Closed { retry_at: now };
            }
        }
        self.drive(now);
    }

    // ------------------------------------------------------------ intents

    /// Queues a text message; it is written to the cache before it is sent.
    pub fn send_text(
        &mut self,
        to: Peer,
        text: String,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        self.clock = self.clock.max(now);
        if self.stream == Stream::Stopped {
            return Err(SendError::NotLoggedIn);
        }
        if text.trim().is_empty() {
            return Err(SendError::Empty);
        }
        let chars = text.chars().count();
        if chars > crate::limits::MAX_TEXT_CHARS {
            return Err(SendError::TooLong {
                chars,
                max: crate::limits::MAX_TEXT_CHARS,
            });
        }
        let order = self.meta.next_outbox_order;
        self.meta.next_outbox_order += 1;
        let cid = self.new_cid(order);
        let kind = if to.group().is_some() {
            MessageType::GroupText
        } else {
            MessageType::Text
        };
        let entry = OutboxEntry {
            cid: cid.clone(),
            order,
            to: to.clone(),
            kind,
            content: text,
            created_ts: now,
            state: OutboxState::Queued,
            file: None,
        };
        self.queue(entry, now);
        Ok(cid)
    }

    /// Queues an image or a voice message. The bytes decide whether it is
    /// one the server accepts, as they will on the server.
    pub fn send_file(
        &mut self,
        to: Peer,
        kind: FileKind,
        data: Vec<u8>,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        use crate::limits::{
            MAX_IMAGE_BYTES, MAX_VOICE_BYTES, MAX_VOICE_SECONDS, MIN_VOICE_SECONDS,
        };
        self.clock = self.clock.max(now);
        if self.stream == Stream::Stopped {
            return Err(SendError::NotLoggedIn);
        }
        if data.is_empty() {
            return Err(SendError::Empty);
        }
        let group = to.group().is_some();
        let (message_kind, max, format, expected, duration) = match kind {
            FileKind::Image => (
                if group {
                    MessageType::GroupImage
                } else {
                    MessageType::Image
                },
                MAX_IMAGE_BYTES,
                crate::sniff::image(&data),
                "a JPEG, PNG, GIF or WebP image",
                None,
            ),
            FileKind::Voice { seconds } => {
                if !(MIN_VOICE_SECONDS..=MAX_VOICE_SECONDS).contains(&seconds) {
                    return Err(SendError::VoiceLength {
                        seconds,
                        min: MIN_VOICE_SECONDS,
                        max: MAX_VOICE_SECONDS,
                    });
                }
                (
                    if group {
                        MessageType::GroupVoice
                    } else {
                        MessageType::Voice
                    },
                    MAX_VOICE_BYTES,
                    crate::sniff::voice(&data),
                    "WebM or Ogg audio with Opus, or MP4 audio with AAC",
                    Some(seconds),
                )
            }
        };
        if data.len() > max {
            return Err(SendError::TooLarge {
                bytes: data.len(),
                max,
            });
        }
        let format = format.ok_or(SendError::UnsupportedFormat { expected })?;
        // The server checks the same; refusing here saves sending it.
        match duration {
            None => crate::sniff::check_image(&data, format).map(|_| ())?,
            Some(seconds) => crate::sniff::check_voice(&data, format, seconds).map(|_| ())?,
        }
        let order = self.meta.next_outbox_order;
        self.meta.next_outbox_order += 1;
        let cid = self.new_cid(order);
        let entry = OutboxEntry {
            cid: cid.clone(),
            order,
            to,
            kind: message_kind,
            content: String::new(),
            created_ts: now,
            state: OutboxState::Queued,
            file: Some(OutboxFile {
                data,
                mime: format.mime().to_owned(),
                duration,
            }),
        };
        self.queue(entry, now);
        Ok(cid)
    }

    /// Puts a new entry in the outbox: written to the cache, then sent.
    fn queue(&mut self, entry: OutboxEntry, now: i64) {
        let (to, kind, cid) = (entry.to.clone(), entry.kind, entry.cid.clone());
        let conversation = self.conversation_mut(&to);
        conversation.last = Some(Preview {
            id: None,
            from: None,
            kind,
            content: entry.content.clone(),
            ts: now,
        });
        conversation.hidden = false;
        conversation.draft.clear();
        let row = conversation.clone();
        self.unwritten.conversations.push(row);
        self.unwritten.outbox_put.push(entry.clone());
        self.unwritten.meta = Some(self.position());
        self.outbox.insert(entry.order, entry);
        self.attempts.insert(cid, Attempt::default());
        // Written before anything can send it.
        self.flush();
        self.notify(Event::OutboxChanged(to));
        self.notify(Event::ConversationsChanged);
        self.drive(now);
    }

    /// Sends a failed message again.
    pub fn retry(&mut self, cid: &ClientMsgId, now: i64) {
        let Some(entry) = self.outbox.values_mut().find(|e| &e.cid == cid) else {
            return;
        };
        entry.state = OutboxState::Queued;
        let (entry, to) = (entry.clone(), entry.to.clone());
        self.attempts.insert(cid.clone(), Attempt::default());
        self.unwritten.outbox_put.push(entry);
        self.flush();
        self.notify(Event::OutboxChanged(to));
        self.drive(now);
    }

    /// Gives up on an unsent message.
    pub fn discard(&mut self, cid: &ClientMsgId) {
        let Some(order) = self
            .outbox
            .values()
            .find(|e| &e.cid == cid && !self.on_the_wire(&e.cid))
            .map(|e| e.order)
        else {
            return;
        };
        if let Some(entry) = self.outbox.remove(&order) {
            self.attempts.remove(cid);
            self.unwritten.outbox_delete.push(cid.clone());
            self.flush();
            self.notify(Event::OutboxChanged(entry.to));
        }
    }

    /// Asks the server for the page of `peer` before `before` (the oldest
    /// message the cache holds, or none). The answer comes as [`Event::History`].
    pub fn load_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        if self
            .conversations
            .get(&peer)
            .is_some_and(|c| c.history_complete)
        {
            self.notify(Event::History {
                conversation: peer,
                messages: Vec::new(),
                complete: true,
            });
            return;
        }
        self.history_wanted.insert(peer, before);
        self.drive(now);
    }

    /// The conversation now on screen (none: the list). Opening one reads it.
    pub fn set_in_view(&mut self, peer: Option<Peer>) {
        self.in_view = peer.clone();
        if let Some(peer) = peer
            && self.visible
        {
            self.mark_read(&peer);
        }
    }

    /// Whether the tab is visible: messages to a conversation in view count
    /// as read only while it is.
    pub fn set_visible(&mut self, visible: bool, now: i64) {
        self.clock = self.clock.max(now);
        self.visible = visible;
        if visible {
            if let Some(peer) = self.in_view.clone() {
                self.mark_read(&peer);
            }
            self.reconnect_now(now);
        } else {
            self.drive(now);
        }
    }

    /// Shows the user as busy (until turned off), whatever the app's visibility.
    pub fn set_busy(&mut self, busy: bool, now: i64) {
        self.clock = self.clock.max(now);
        self.busy = busy;
        self.drive(now);
    }

    /// The presence this session shows: busy if the user chose it, else
    /// online while the app is visible and away while it is hidden.
    pub fn presence(&self) -> Presence {
        if self.busy {
            Presence::Busy
        } else if self.visible {
            Presence::Online
        } else {
            Presence::Away
        }
    }

    /// Asks the server for these contacts' current signatures (52888), to
    /// refresh what the directory says (a contact page being opened).
    pub fn refresh_signatures(&mut self, users: Vec<UserId>, now: i64) {
        self.clock = self.clock.max(now);
        self.signatures_wanted.extend(users);
        self.drive(now);
    }

    /// Asks the server to change something now. It is refused at once when
    /// there is no connection; otherwise it is answered exactly once with
    /// [`Event::Performed`].
    pub fn perform(
        &mut self,
        operation: Operation,
        now: i64,
    ) -> Result<OperationId, OperationError> {
        self.clock = self.clock.max(now);
        match self.stream {
            Stream::Stopped => return Err(OperationError::NotLoggedIn),
            Stream::Live => {}
            _ => return Err(OperationError::Offline),
        }
        let frame = operation
            .frame(&self.meta.user)
            .map_err(|e| OperationError::Invalid(e.to_string()))?;
        let id = OperationId(self.next_operation);
        self.next_operation += 1;
        self.operations.insert(
            id,
            PendingOperation {
                operation,
                frame,
                asked_at: now,
                on_the_wire: false,
            },
        );
        self.drive(now);
        Ok(id)
    }

    /// Marks a conversation read.
    pub fn mark_read(&mut self, peer: &Peer) {
        self.edit_conversation(peer, |c| {
            c.unread = 0;
            c.marked_unread = false;
        });
    }

    /// Marks a conversation unread (a badge until it is opened).
    pub fn mark_unread(&mut self, peer: &Peer) {
        self.edit_conversation(peer, |c| c.marked_unread = true);
    }

    /// Pins a conversation to the top, or unpins it.
    pub fn set_pinned(&mut self, peer: &Peer, pinned: bool, now: i64) {
        self.edit_conversation(peer, |c| c.pinned_at = pinned.then_some(now));
    }

    /// Keeps the composer's text of a conversation.
    pub fn set_draft(&mut self, peer: &Peer, draft: String) {
        if self.conversations.get(peer).map(|c| &c.draft) == Some(&draft) {
            return;
        }
        self.edit_conversation(peer, |c| c.draft = draft);
    }

    /// Removes a conversation from the list and its messages from this
    /// device (the server keeps them); a new message brings it back.
    pub fn delete_conversation(&mut self, peer: &Peer) {
        // What arrived before the delete goes first, so the delete clears it.
        self.flush();
        self.unwritten.clear_messages.push(peer.clone());
        self.edit_conversation(peer, |c| {
            c.hidden = true;
            c.unread = 0;
            c.marked_unread = false;
            c.pinned_at = None;
            c.history_complete = false;
            c.last = None;
        });
    }

    /// Clears a conversation's messages from this device but keeps it in
    /// the list; its history is fetched from the server again when scrolled.
    pub fn clear_history(&mut self, peer: &Peer) {
        self.flush();
        self.unwritten.clear_messages.push(peer.clone());
        if self.conversations.contains_key(peer) {
            self.edit_conversation(peer, |c| {
                c.unread = 0;
                c.marked_unread = false;
                c.history_complete = false;
            });
        }
        self.flush();
    }

    /// Logs out: the server revokes the token; the engine stops.
    pub fn log_out(&mut self) {
        if self.stream == Stream::Live {
            self.act(Action::Send(
                Service::Login,
                encode(&crate::packets::login::Logout { logout: true }),
            ));
        }
        self.stop();
    }

    /// Stops without logging out (the app closed this session's view): the
    /// token stays valid for the next start.
    pub fn stop_here(&mut self) {
        self.stop();
    }

    // ------------------------------------------------------------ internals

    fn act(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn notify(&mut self, event: Event) {
        self.act(Action::Notify(event));
    }

    fn position(&self) -> AccountMeta {
        AccountMeta {
            synced_seq: self.seqs.contiguous(),
            seqs_above: self.seqs.above(),
            ..self.meta.clone()
        }
    }

    /// Hands the unwritten batch to the driver, then acks what it covers.
    fn flush(&mut self) {
        self.unwritten_since = None;
        if !self.unwritten.is_empty() {
            let batch = std::mem::take(&mut self.unwritten);
            self.act(Action::Persist(Box::new(batch)));
        }
        if self.stream == Stream::Live && self.seqs.contiguous() > self.acked {
            self.acked = self.seqs.contiguous();
            self.act(Action::Send(
                Service::Login,
                encode(&StreamAck { ack: self.acked }),
            ));
        }
        if !self.arrivals.is_empty() {
            for (conversation, (messages, live)) in std::mem::take(&mut self.arrivals) {
                self.notify(Event::Arrived {
                    conversation,
                    messages,
                    live,
                });
            }
            self.notify(Event::ConversationsChanged);
        }
    }

    /// Writes soon, together with whatever else arrives meanwhile.
    fn flush_soon(&mut self, now: i64) {
        if self.unwritten_since.is_none() {
            self.unwritten_since = Some(now);
        }
    }

    fn new_cid(&mut self, order: u64) -> ClientMsgId {
        ClientMsgId::generated(self.rng.next_u64(), order)
    }

    fn conversation_mut(&mut self, peer: &Peer) -> &mut Conversation {
        self.conversations
            .entry(peer.clone())
            .or_insert_with(|| Conversation::new(peer.clone()))
    }

    fn edit_conversation(&mut self, peer: &Peer, edit: impl FnOnce(&mut Conversation)) {
        let conversation = self.conversation_mut(peer);
        let before = conversation.clone();
        edit(conversation);
        if *conversation != before {
            let row = conversation.clone();
            self.unwritten.conversations.retain(|c| &c.peer != peer);
            self.unwritten.conversations.push(row);
            self.flush();
            self.notify(Event::ConversationsChanged);
        }
    }

    fn on_the_wire(&self, cid: &ClientMsgId) -> bool {
        self.attempts.get(cid).is_some_and(|a| a.on_the_wire)
    }

    fn stop(&mut self) {
        self.flush();
        let ids: Vec<OperationId> = self.operations.keys().copied().collect();
        for id in ids {
            self.fail_operation(
                id,
                State::SESSION_INVALID,
                "signed out before the server answered",
            );
        }
        self.stream = Stream::Stopped;
        for (service, link) in std::mem::take(&mut self.links) {
            if !matches!(link.state, LinkState::Closed { .. }) {
                self.actions.push_back(Action::Close(service));
            }
        }
        self.act(Action::Close(Service::Login));
        self.update_connection();
    }

    fn update_connection(&mut self) {
        let now = match self.stream {
            Stream::Live => Connection::Connected,
            Stream::Opening | Stream::Authenticating { .. } if self.online => {
                Connection::Connecting
            }
            _ => Connection::Offline,
        };
        if now != self.connection {
            self.connection = now;
            self.notify(Event::ConnectionChanged(now));
        }
    }

    fn stream_lost(&mut self, now: i64) {
        let was_live = self.stream == Stream::Live;
        if !self.reached_server && matches!(self.credentials, Credentials::Password { .. }) {
            // A first login that cannot reach the server says so at once.
            self.stop();
            self.notify(Event::Unreachable);
            return;
        }
        if !was_live {
            self.stream_failures += 1;
        } else {
            self.stream_failures = 1;
        }
        let wait = backoff_ms(
            self.stream_failures,
            RECONNECT_FIRST_MS,
            RECONNECT_MAX_MS,
            &mut self.rng,
        );
        self.stream = Stream::Down {
            retry_at: Some(now + wait),
        };
        // Operations not sent yet wait for no reconnect: the user is told now.
        let unsent: Vec<OperationId> = self
            .operations
            .iter()
            .filter(|(_, p)| !p.on_the_wire)
            .map(|(id, _)| *id)
            .collect();
        for id in unsent {
            self.fail_operation(
                id,
                State::UNAVAILABLE,
                "the connection was lost; nothing was changed",
            );
        }
        self.presence_sent = None;
        // The service sockets live on their own, but catch-up is redone on
        // the next connection, and nothing new is asked before it.
        self.catch_up = Wanted::No;
        self.caught_up_at = None;
        self.update_connection();
    }

    fn link_lost(&mut self, service: Service, now: i64) {
        let Some(link) = self.links.get_mut(&service) else {
            return;
        };
        link.failures += 1;
        let wait = backoff_ms(
            link.failures,
            RECONNECT_FIRST_MS,
            RECONNECT_MAX_MS,
            &mut self.rng,
        );
        link.state = LinkState::Closed {
            retry_at: now + wait,
        };
        let lost: Vec<Request> = link.pending.drain(..).map(|(r, _)| r).collect();
        for request in lost {
            match request {
                Request::Send(cid) => {
                    if let Some(attempt) = self.attempts.get_mut(&cid) {
                        attempt.on_the_wire = false;
                        attempt.not_before = now + wait;
                    }
                }
                Request::CatchUp => self.catch_up = Wanted::Yes,
                Request::Directory => self.directory_wanted = Wanted::Yes,
                Request::Groups(_) => {
                    self.groups_wanted = Wanted::Yes;
                    self.group_pages.restart();
                }
                Request::Broadcasts => self.broadcasts_wanted = Wanted::Yes,
                // Still in history_wanted: asked again when the link is back.
                Request::History(_) => {}
                // Whether it took effect is unknown: the user decides.
                Request::Operation(id) => self.fail_operation(
                    id,
                    State::UNAVAILABLE,
                    "the connection was lost before the answer; check whether it took effect",
                ),
                Request::Presence(_) => self.presence_sent = None,
                Request::Signatures => {}
            }
        }
    }

    /// Issues whatever can be issued now.
    fn drive(&mut self, now: i64) {
        if let Stream::Down {
            retry_at: Some(retry_at),
        } = self.stream
            && self.online
            && now >= retry_at
        {
            self.stream = Stream::Opening;
            self.act(Action::Open(Service::Login));
        }
        self.update_connection();
        if self.stream != Stream::Live {
            return;
        }
        if self.catch_up == Wanted::Yes {
            let since = self.catch_up_since;
            if self.request(
                Service::SyncMessages,
                Request::CatchUp,
                encode(&CatchUp {
                    since,
                    limit: Some(CATCH_UP_PAGE),
                }),
                now,
            ) {
                self.catch_up = Wanted::Asked;
            }
        }
        if self.directory_wanted == Wanted::Yes
            && self.request(
                Service::SyncContacts,
                Request::Directory,
                encode(&DirectoryQuery { user: None }),
                now,
            )
        {
            self.directory_wanted = Wanted::Asked;
        }
        if self.groups_wanted == Wanted::Yes {
            let (query, after) = self.group_pages.query();
            if self.request(
                Service::SyncGroups,
                Request::Groups(after),
                encode(&query),
                now,
            ) {
                self.groups_wanted = Wanted::Asked;
            }
        }
        if self.broadcasts_wanted == Wanted::Yes {
            let since = self.broadcasts.keys().next_back().copied();
            let frame = encode(&BroadcastQuery {
                since,
                limit: Some(crate::limits::MAX_PAGE),
            });
            if self.request(Service::SyncBroadcasts, Request::Broadcasts, frame, now) {
                self.broadcasts_wanted = Wanted::Asked;
            }
        }
        let histories: Vec<(Peer, Option<MessageId>)> = self
            .history_wanted
            .iter()
            .map(|(p, b)| (p.clone(), *b))
            .collect();
        for (peer, before) in histories {
            let asked = self.links.get(&Service::SyncMessages).is_some_and(|l| {
                l.pending
                    .iter()
                    .any(|(r, _)| r == &Request::History(peer.clone()))
            });
            if !asked {
                let frame = encode(&History {
                    target: peer.clone(),
                    before,
                    limit: Some(HISTORY_PAGE),
                });
                self.request(Service::SyncMessages, Request::History(peer), frame, now);
            }
        }
        let presence = self.presence();
        if self.presence_sent.is_some_and(|sent| sent != presence) && !self.asked(Service::Presence)
        {
            let frame = encode(&PresenceUpdate {
                user: self.meta.user.clone(),
                presence,
            });
            self.request(Service::Presence, Request::Presence(presence), frame, now);
        }
        if !self.signatures_wanted.is_empty() && !self.asked(Service::SyncSignatures) {
            let users: Vec<UserId> = self
                .signatures_wanted
                .iter()
                .take(crate::limits::MAX_SIGNATURE_USERS)
                .cloned()
                .collect();
            let frame = encode(&SignatureQuery {
                users: users.clone(),
            });
            if self.request(Service::SyncSignatures, Request::Signatures, frame, now) {
                for user in &users {
                    self.signatures_wanted.remove(user);
                }
            }
        }
        let unsent: Vec<(OperationId, Service, String)> = self
            .operations
            .iter()
            .filter(|(_, p)| !p.on_the_wire)
            .map(|(id, p)| (*id, p.operation.service(), p.frame.clone()))
            .collect();
        for (id, service, frame) in unsent {
            if self.request(service, Request::Operation(id), frame, now)
                && let Some(pending) = self.operations.get_mut(&id)
            {
                pending.on_the_wire = true;
            }
        }
        self.send_outbox(now);
    }

    /// Whether a request is waiting for its reply on the socket of `service`.
    fn asked(&self, service: Service) -> bool {
        self.links
            .get(&service)
            .is_some_and(|l| !l.pending.is_empty())
    }

    /// Sends the first queued message of each conversation that has none on
    /// the wire: one at a time per conversation keeps them in order even when
    /// one is refused or retried.
    fn send_outbox(&mut self, now: i64) {
        let mut busy: BTreeSet<Peer> = BTreeSet::new();
        let mut ready: Vec<OutboxEntry> = Vec::new();
        for entry in self.outbox.values() {
            if entry.state != OutboxState::Queued || !busy.insert(entry.to.clone()) {
                continue;
            }
            let attempt = self.attempts.get(&entry.cid).copied().unwrap_or_default();
            if !attempt.on_the_wire && now >= attempt.not_before {
                ready.push(entry.clone());
            }
        }
        for entry in ready {
            let (service, frame) = match &entry.file {
                Some(file) => (
                    if entry.kind.is_voice() {
                        Service::Voice
                    } else {
                        Service::Image
                    },
                    encode(&SendFile {
                        from: self.meta.user.clone(),
                        to: entry.to.clone(),
                        kind: entry.kind,
                        data: file.data.clone(),
                        name: None,
                        duration: file.duration,
                        cid: Some(entry.cid.clone()),
                    }),
                ),
                None => (
                    if entry.to.group().is_some() {
                        Service::GroupText
                    } else {
                        Service::Text
                    },
                    encode(&SendText {
                        from: self.meta.user.clone(),
                        to: entry.to.clone(),
                        kind: entry.kind,
                        content: entry.content.clone(),
                        cid: Some(entry.cid.clone()),
                    }),
                ),
            };
            if self.request(service, Request::Send(entry.cid.clone()), frame, now) {
                let attempt = self.attempts.entry(entry.cid.clone()).or_default();
                attempt.on_the_wire = true;
                attempt.tries += 1;
            }
        }
    }

    /// Sends a request if its socket is open (opening it if needed); says
    /// whether it went out.
    fn request(&mut self, service: Service, request: Request, frame: String, now: i64) -> bool {
        let link = self.links.entry(service).or_insert_with(Link::new);
        match link.state {
            LinkState::Open => {
                link.pending.push_back((request, now));
                link.last_used = now;
                // Whatever the cache still owes is written before this goes out.
                self.flush();
                self.act(Action::Send(service, frame));
                true
            }
            LinkState::Opening => false,
            LinkState::Closed { retry_at } => {
                if now >= retry_at {
                    link.state = LinkState::Opening;
                    self.act(Action::Open(service));
                }
                false
            }
        }
    }

    fn stream_frame(&mut self, frame: &Frame, now: i64) {
        match self.stream {
            Stream::Authenticating { .. } => self.login_reply(frame, now),
            Stream::Live => match frame.packet::<Push>() {
                Ok(Push::Message(message)) => {
                    self.take_messages(vec![*message], true, now);
                }
                Ok(Push::SignedOut { signed_out }) => {
                    self.stop();
                    self.notify(Event::SignedOut(signed_out));
                }
                Ok(push) => {
                    match &push {
                        Push::Presence { presence } => {
                            let (user, presence) = (presence.user.clone(), presence.presence);
                            self.edit_contact(&user, now, |c| c.presence = presence);
                        }
                        Push::Signature { signature } => {
                            let signing = signature.signing.clone();
                            self.edit_contact(&signature.user.clone(), now, |c| {
                                c.signing = signing
                            });
                        }
                        Push::Broadcast { broadcast } => {
                            let fresh = !self.broadcasts.contains_key(&broadcast.id);
                            let own = broadcast.from == self.meta.user;
                            self.take_broadcasts(vec![broadcast.clone()], own, now);
                            if fresh && !own {
                                self.notify(Event::BroadcastArrived(broadcast.clone()));
                            }
                        }
                        _ => {}
                    }
                    self.notify(Event::Pushed(push));
                }
                // An error reply (to an ack) or a push this build does not
                // know: nothing to keep.
                Err(_) => {}
            },
            _ => {}
        }
    }

    fn login_reply(&mut self, frame: &Frame, now: i64) {
        match reply_of::<LoginReply>(frame) {
            Ok(reply) => {
                self.stream = Stream::Live;
                self.reached_server = true;
                self.stream_failures = 0;
                self.credentials = Credentials::Token {
                    user: reply.user.clone(),
                    token: reply.token.clone(),
                };
                if self.meta.name != reply.name || self.meta.broadcaster != reply.broadcaster {
                    self.meta.name = reply.name.clone();
                    self.meta.broadcaster = reply.broadcaster;
                    self.unwritten.meta = Some(self.position());
                    self.flush();
                }
                self.notify(Event::LoggedIn {
                    user: reply.user,
                    token: reply.token,
                    name: reply.name,
                    broadcaster: reply.broadcaster,
                });
                self.catch_up = Wanted::Yes;
                self.catch_up_since = self.seqs.contiguous();
                self.directory_wanted = Wanted::Yes;
                self.groups_wanted = Wanted::Yes;
                self.broadcasts_wanted = Wanted::Yes;
                self.broadcasts_backlog = !self.meta.broadcasts_synced;
                // The server marks every new session online.
                self.presence_sent = Some(Presence::Online);
                // Sends that were on the wire when the stream dropped go again.
                for attempt in self.attempts.values_mut() {
                    attempt.not_before = attempt.not_before.min(now);
                }
                self.update_connection();
            }
            Err(refusal) => {
                let permanent = refusal.state == State::LOGIN_FAILED
                    || refusal.state == State::SESSION_INVALID
                    || refusal.state == State::SESSION_EXPIRED
                    || (refusal.state == State::RATE_LIMITED
                        && matches!(self.credentials, Credentials::Password { .. }));
                if permanent {
                    let token_session = self.credentials.token().is_some();
                    self.stop();
                    self.notify(if token_session {
                        Event::SignedOut(refusal.error)
                    } else {
                        Event::LoginFailed(refusal)
                    });
                } else {
                    self.act(Action::Close(Service::Login));
                    self.reached_server = true;
                    self.stream_lost(now);
                }
            }
        }
    }

    fn reply(&mut self, service: Service, frame: &Frame, now: i64) {
        let Some(link) = self.links.get_mut(&service) else {
            return;
        };
        let Some((request, _)) = link.pending.pop_front() else {
            return;
        };
        link.last_used = now;
        link.failures = 0;
        match request {
            Request::Send(cid) => self.send_reply(&cid, frame, now),
            Request::CatchUp => match reply_of::<MessagePage>(frame) {
                Ok(page) => {
                    let more = page.more && !page.messages.is_empty();
                    let last = page.messages.iter().filter_map(|m| m.seq).max();
                    self.catch_up_since =
                        last.unwrap_or(self.catch_up_since).max(self.catch_up_since);
                    self.take_messages(page.messages, false, now);
                    if more {
                        self.catch_up = Wanted::Yes;
                    } else {
                        self.catch_up = Wanted::No;
                        self.caught_up_at = Some(now);
                        self.first_sync = false;
                        self.flush();
                        self.notify(Event::CaughtUp);
                    }
                }
                Err(_) => {
                    // Asked again after a pause, on a fresh socket.
                    self.catch_up = Wanted::Yes;
                    self.act(Action::Close(service));
                    self.link_lost(service, now);
                }
            },
            Request::History(peer) => {
                self.history_wanted.remove(&peer);
                match reply_of::<MessagePage>(frame) {
                    Ok(page) => self.take_history(peer, page, now),
                    Err(refusal) => {
                        // Not a member, no such user: there is nothing older
                        // to show. A server failure may pass: scrolling asks again.
                        self.notify(Event::History {
                            conversation: peer,
                            messages: Vec::new(),
                            complete: !is_transient(refusal.state),
                        });
                    }
                }
            }
            Request::Directory => {
                if let Ok(directory) = reply_of::<Directory>(frame) {
                    self.directory_wanted = Wanted::No;
                    if self.directory.as_ref() != Some(&directory) {
                        self.unwritten.directory = Some(directory.clone());
                        self.directory = Some(directory);
                        self.flush_soon(now);
                        self.notify(Event::DirectoryChanged);
                    }
                } else {
                    self.directory_wanted = Wanted::No;
                }
            }
            Request::Operation(id) => self.operation_reply(id, frame, now),
            Request::Broadcasts => match reply_of::<BroadcastPage>(frame) {
                Ok(page) => {
                    let more = page.more && !page.broadcasts.is_empty();
                    let read = self.broadcasts_backlog;
                    self.take_broadcasts(page.broadcasts, read, now);
                    self.broadcasts_wanted = if more { Wanted::Yes } else { Wanted::No };
                    if !more {
                        self.broadcasts_backlog = false;
                        if !self.meta.broadcasts_synced {
                            self.meta.broadcasts_synced = true;
                            self.unwritten.meta = Some(self.position());
                            self.flush_soon(now);
                        }
                    }
                }
                // Asked again at the next login.
                Err(_) => self.broadcasts_wanted = Wanted::No,
            },
            Request::Presence(presence) => {
                // A refusal is not retried until something changes: asking
                // again at once would only be refused again.
                self.presence_sent = Some(presence);
            }
            Request::Signatures => {
                if let Ok(found) = reply_of::<Signatures>(frame) {
                    for (user, signing) in found.signatures {
                        self.edit_contact(&user, now, |c| c.signing = signing);
                    }
                }
            }
            Request::Groups(after) => match reply_of::<Groups>(frame) {
                Ok(page) => match self.group_pages.take(after, page) {
                    PageOutcome::Next => self.groups_wanted = Wanted::Yes,
                    // A repeated request's answer: the refresh goes on.
                    PageOutcome::Stale => {}
                    PageOutcome::Done(all) => {
                        self.groups_wanted = Wanted::No;
                        self.replace_groups(all, now);
                    }
                },
                // Asked again at the next login or group notice.
                Err(_) => {
                    self.groups_wanted = Wanted::No;
                    self.group_pages.restart();
                }
            },
        }
    }

    /// Replaces the user's groups with `all` (every page of a refresh).
    fn replace_groups(&mut self, mut all: Vec<Group>, now: i64) {
        // Groups the user is no longer in are kept, without them among the
        // members: their history keeps its name, and the app knows not to
        // offer posting there.
        let me = self.meta.user.clone();
        for mut old in self.groups.clone().unwrap_or_default() {
            if !all.iter().any(|g| g.gid == old.gid) {
                old.member.0.retain(|m| m != &me);
                all.push(old);
            }
        }
        all.sort_by_key(|g| g.gid);
        self.set_groups(all, now);
    }

    fn send_reply(&mut self, cid: &ClientMsgId, frame: &Frame, now: i64) {
        let Some(order) = self
            .outbox
            .values()
            .find(|e| &e.cid == cid)
            .map(|e| e.order)
        else {
            // Already settled by the stream's copy of the message.
            self.attempts.remove(cid);
            return;
        };
        match reply_of::<SendAck>(frame) {
            Ok(ack) => {
                let Some(entry) = self.outbox.remove(&order) else {
                    return;
                };
                self.attempts.remove(cid);
                let message = Message {
                    from: Sender::User(self.meta.user.clone()),
                    to: entry.to.clone(),
                    kind: entry.kind,
                    content: ack.content.unwrap_or(entry.content),
                    time: ack.time,
                    ts: ack.ts,
                    id: ack.id,
                    seq: Some(ack.seq),
                    cid: Some(entry.cid.clone()),
                    duration: entry.file.as_ref().and_then(|f| f.duration),
                };
                self.unwritten.outbox_delete.push(entry.cid);
                self.notify(Event::OutboxChanged(entry.to));
                self.take_messages(vec![message], false, now);
                self.flush();
            }
            Err(refusal) => {
                let transient = is_transient(refusal.state);
                let Some(entry) = self.outbox.get_mut(&order) else {
                    return;
                };
                let attempt = self.attempts.entry(cid.clone()).or_default();
                attempt.on_the_wire = false;
                if transient {
                    attempt.not_before = now
                        + backoff_ms(attempt.tries, RETRY_FIRST_MS, RETRY_MAX_MS, &mut self.rng);
                } else {
                    entry.state = OutboxState::Failed {
                        state: refusal.state.0,
                        reason: refusal.error,
                    };
                    let (entry, to) = (entry.clone(), entry.to.clone());
                    self.unwritten.outbox_put.push(entry);
                    self.flush();
                    self.notify(Event::OutboxChanged(to));
                }
            }
        }
    }

    /// Files messages from the stream, catch-up or a send's ack: new ones
    /// (by seq) go to the cache and the conversation list, duplicates are
    /// dropped.
    fn take_messages(&mut self, messages: Vec<Message>, live: bool, now: i64) {
        let me = self.meta.user.clone();
        let mut arrived: BTreeMap<Peer, Vec<Message>> = BTreeMap::new();
        let mut settled_outbox = false;
        for message in messages {
            let new = match message.seq {
                Some(seq) => self.seqs.record(seq),
                // Only history pages carry messages without a seq.
                None => false,
            };
            if !new {
                continue;
            }
            // Our own message from this session's outbox, pushed before its ack.
            if let Some(cid) = &message.cid
                && message.from == Sender::User(me.clone())
                && let Some(order) = self
                    .outbox
                    .values()
                    .find(|e| &e.cid == cid)
                    .map(|e| e.order)
                && let Some(entry) = self.outbox.remove(&order)
            {
                self.unwritten.outbox_delete.push(entry.cid);
                self.notify(Event::OutboxChanged(entry.to));
                settled_outbox = true;
            }
            if message.kind.is_notice() && self.groups_wanted == Wanted::No {
                // Someone renamed a group, or changed who is in it.
                self.groups_wanted = Wanted::Yes;
            }
            let conversation = message.conversation(&me);
            // On an empty cache, the backlog the stream pushes after login is
            // history too, like what catch-up brings.
            let news = !self.first_sync;
            self.file_message(&conversation, &message, news);
            arrived.entry(conversation).or_default().push(message);
        }
        if arrived.is_empty() {
            return;
        }
        self.unwritten.meta = Some(self.position());
        // Told together with the write: a backlog of thousands of pushes
        // becomes a few updates, not one per message.
        for (conversation, mut messages) in arrived {
            let (waiting, was_live) = self.arrivals.entry(conversation).or_default();
            waiting.append(&mut messages);
            *was_live |= live;
        }
        if settled_outbox {
            // The outbox entry is gone: show its message in the same breath.
            self.flush();
        } else {
            self.flush_soon(now);
        }
    }

    /// Puts one new message in the cache batch and its conversation's row.
    fn file_message(&mut self, conversation: &Peer, message: &Message, news: bool) {
        let me = self.meta.user.clone();
        let reading = self.visible && self.in_view.as_ref() == Some(conversation);
        let row = self.conversation_mut(conversation);
        let newer = match &row.last {
            None => true,
            Some(last) => match last.id {
                Some(id) => message.id > id,
                None => message.ts >= last.ts || message.from.user() == Some(&me),
            },
        };
        if newer {
            row.last = Some(Preview {
                id: Some(message.id),
                from: message.from.user().cloned(),
                kind: message.kind,
                content: message.content.clone(),
                ts: message.ts,
            });
        }
        // A group notice tells; it does not call for a reply.
        if news && message.from.user() != Some(&me) && !reading && !message.kind.is_notice() {
            row.unread += 1;
        }
        row.hidden = false;
        let row = row.clone();
        self.unwritten
            .conversations
            .retain(|c| &c.peer != conversation);
        self.unwritten.conversations.push(row);
        self.unwritten.messages.push(CachedMessage {
            conversation: conversation.clone(),
            message: message.clone(),
        });
    }

    fn operation_reply(&mut self, id: OperationId, frame: &Frame, now: i64) {
        let Some(pending) = self.operations.remove(&id) else {
            return;
        };
        let result = match &pending.operation {
            Operation::SetSignature(signing) => reply_of::<Done>(frame).map(|_| {
                let (me, signing) = (self.meta.user.clone(), signing.clone());
                self.edit_contact(&me, now, |c| c.signing = signing);
                Outcome::Done
            }),
            Operation::ChangePassword { .. } => reply_of::<Done>(frame).map(|_| Outcome::Done),
            Operation::SendBroadcast { .. } => reply_of::<BroadcastAck>(frame).map(|ack| {
                let id = ack.broadcast.id;
                self.take_broadcasts(vec![ack.broadcast], true, now);
                Outcome::Broadcast(id)
            }),
            Operation::CreateGroup { .. } => reply_of::<GroupCreated>(frame).map(|created| {
                self.groups_wanted = Wanted::Yes;
                Outcome::GroupCreated(created.gid)
            }),
            Operation::RenameGroup { .. } | Operation::ChangeMembers { .. } => {
                reply_of::<GroupUpdated>(frame).map(|updated| {
                    self.put_group(updated.group.clone(), now);
                    Outcome::Group(updated.group)
                })
            }
        };
        self.notify(Event::Performed { id, result });
    }

    /// Keeps broadcasts not seen before (`read` or not), and tells the UI.
    fn take_broadcasts(&mut self, broadcasts: Vec<Broadcast>, read: bool, now: i64) {
        let mut changed = false;
        for broadcast in broadcasts {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.broadcasts.entry(broadcast.id)
            {
                slot.insert(CachedBroadcast { broadcast, read });
                changed = true;
            }
        }
        if changed {
            self.unwritten.broadcasts = Some(self.broadcasts.values().cloned().collect());
            self.flush_soon(now);
            self.notify(Event::BroadcastsChanged);
        }
    }

    fn fail_operation(&mut self, id: OperationId, state: State, reason: &str) {
        if self.operations.remove(&id).is_some() {
            self.notify(Event::Performed {
                id,
                result: Err(ErrorReply::new(state, reason)),
            });
        }
    }

    /// Replaces a group in the user's list with the server's view of it
    /// (after leaving, without the user among its members).
    fn put_group(&mut self, group: Group, now: i64) {
        let mut groups = self.groups.clone().unwrap_or_default();
        groups.retain(|g| g.gid != group.gid);
        groups.push(group);
        groups.sort_by_key(|g| g.gid);
        self.set_groups(groups, now);
    }

    fn set_groups(&mut self, groups: Vec<Group>, now: i64) {
        if self.groups.as_ref() != Some(&groups) {
            self.unwritten.groups = Some(groups.clone());
            self.groups = Some(groups);
            self.flush_soon(now);
            self.notify(Event::GroupsChanged);
        }
    }

    /// Changes one contact in the directory (a push, a reply), if it is there.
    fn edit_contact(&mut self, user: &UserId, now: i64, edit: impl FnOnce(&mut Contact)) {
        let Some(directory) = self.directory.as_mut() else {
            return;
        };
        let Some(contact) = directory.contacts.iter_mut().find(|c| &c.user == user) else {
            return;
        };
        let before = contact.clone();
        edit(contact);
        if *contact != before {
            self.unwritten.directory = Some(directory.clone());
            self.flush_soon(now);
            self.notify(Event::DirectoryChanged);
        }
    }

    fn take_history(&mut self, peer: Peer, page: MessagePage, now: i64) {
        let complete = !page.more;
        for message in &page.messages {
            if let Some(seq) = message.seq
                && self.seqs.record(seq)
            {
                // A received message the cache missed: file it like any other.
                self.file_message(&peer, message, false);
                continue;
            }
            self.unwritten.messages.push(CachedMessage {
                conversation: peer.clone(),
                message: message.clone(),
            });
        }
        if complete {
            let row = self.conversation_mut(&peer);
            row.history_complete = true;
            let row = row.clone();
            self.unwritten.conversations.retain(|c| c.peer != peer);
            self.unwritten.conversations.push(row);
        }
        self.unwritten.meta = Some(self.position());
        self.flush_soon(now);
        self.notify(Event::History {
            conversation: peer,
            messages: page.messages,
            complete,
        });
    }
}

/// Whether a refusal may pass if the same request is made later.
fn is_transient(state: State) -> bool {
    state == State::SERVER_ERROR
        || state == State::UNAVAILABLE
        || state == State::BUSY
        || state == State::RATE_LIMITED
        || state == State::SESSION_INVALID
        || state == State::SESSION_EXPIRED
}

/// Encodes a request in the base64 envelope.
fn encode<T: Packet>(packet: &T) -> String {
    // Every request the engine builds is valid by construction; the fallback
    // is an empty frame, which the server answers with a clear error.
    Frame::encode(Encoding::Base64, packet).unwrap_or_default()
}

/// Reads a reply: the expected packet, or the server's refusal.
fn reply_of<T: Packet>(frame: &Frame) -> Result<T, ErrorReply> {
    if let Ok(refusal) = frame.packet::<ErrorReply>()
        && refusal.state != State::SUCCESS
    {
        return Err(refusal);
    }
    frame
        .packet::<T>()
        .map_err(|e| ErrorReply::new(State::BAD_FRAME, e.to_string()))
}
