//! The client sync engine, sans-IO.
//!
//! The driver (the browser app, a test, a native tool) feeds it what happened —
//! a socket opened or closed, a frame arrived, the user did something, time
//! passed — and carries out what it asks for, in order: open or close a
//! socket, send a frame, write a batch to the cache, tell the UI. The engine
//! owns every rule of staying in sync:
//!
//! - login with a password or resume with a token on the 20888 stream, and
//!   reconnecting with backoff and jitter whenever it drops, or goes silent
//!   (a heartbeat after a silence; no answer means the stream is lost);
//! - the stream's cumulative ack, sent only after what it covers is written;
//! - catch-up through 50888 after every (re)connect, history pages on demand;
//! - the **outbox**: written to the cache before it goes on the wire, sent in
//!   order per conversation, retried until acknowledged, failed with the
//!   server's reason when refused;
//! - de-duplication by seq and message id, and the conversation list.
//!
//! Nothing here reads a clock or blocks: time comes in as `now` (milliseconds
//! since the epoch) and [`Engine::poll_timeout`] says when to call back.
//!
//! This file is the engine's public face; each part of its state lives in a
//! module of its own with the rules that change it (`stream`, `links`,
//! `outbox`, `catch_up`, `arrivals`, `conversations`, `roster`,
//! `operations`, `server_search`, `receipts`, `unread`), and every deadline
//! is read from one table (`timers`).

mod arrivals;
mod catch_up;
mod conversations;
mod group_pages;
mod links;
mod operations;
mod outbox;
mod receipts;
mod roster;
mod seqs;
mod server_search;
mod settings;
mod stream;
mod timers;
mod timing;
mod unread;
mod uploads;

pub use operations::{Operation, OperationError, OperationId, Outcome};
pub use seqs::SeqTracker;
pub use server_search::{SEARCH_PAGE, SearchId};
pub use settings::{alerts, mentions_me};
pub use timing::{Rng, backoff_ms};
pub use uploads::UPLOAD_CHUNK_BYTES;

use crate::cache::{
    AccountMeta, CacheBatch, CachedBroadcast, Conversation, OutboxEntry, OutboxState, Snapshot,
};
use crate::envelope::{Encoding, Frame};
use crate::ids::{BroadcastId, ClientMsgId, MessageId, Peer, Seq, UserId};
use crate::packets::Packet;
use crate::packets::broadcast::Broadcast;
use crate::packets::call::{CallEnded, CallInvitation};
use crate::packets::directory::Directory;
use crate::packets::groups::Group;
use crate::packets::meeting::{Meeting, MeetingEnded};
use crate::packets::message::Message;
use crate::packets::profile::Presence;
use crate::reply::{ErrorReply, State};
use crate::service::Service;
use arrivals::Writes;
use catch_up::CatchUp;
use conversations::Conversations;
use links::{Links, Request};
use operations::Operations;
use outbox::Outbox;
use roster::Roster;
use settings::Settings;
use std::collections::VecDeque;
use stream::Stream;
use timers::{Timer, TimerTable};

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
    /// Read `len` bytes at `offset` of the file of the upload `cid` (kept by
    /// the driver: the engine never holds a whole file) and hand them to
    /// [`Engine::chunk_read`], or say [`Engine::chunk_unreadable`].
    ReadChunk {
        /// The upload (the outbox entry's cid).
        cid: ClientMsgId,
        /// Where to read.
        offset: u64,
        /// How many bytes (fewer only at the end of the file).
        len: u64,
    },
    /// The file of the upload `cid` is no longer needed (sent, or cancelled):
    /// the driver may forget its bytes.
    ReleaseFile(ClientMsgId),
    /// The server node the stream used could not be reached (a connection
    /// attempt failed: it did not open, or the login or resume went
    /// unanswered or was turned away for now). Every later `Open`, the
    /// stream's and the service sockets', goes to another node of the
    /// deployment, if it has several (the next one in turn: a dead node is
    /// tried again once the others failed too); a driver with one server
    /// has nothing to do. The engine has already closed the service sockets
    /// of the old node (each `Close` follows this action), so they all
    /// reopen beside the stream. A live stream that drops is tried once
    /// more on the same node first: a blip is not a dead node.
    SwitchNode,
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
        /// Pushed just now.
        live: bool,
        /// The newest message worth a sound and a notification: pushed
        /// live, someone else's, while the conversation is not being read,
        /// and the conversation not muted unless it @-mentions the user
        /// (see [`alerts`]).
        alert: Option<Box<Message>>,
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
    /// The outbox of a conversation changed (queued, sent or failed, or an
    /// upload moved on: its entry's `upload.sent`).
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
    /// Someone calls the user: the stream pushed the invitation (to every
    /// session). The call machine (`crate::call`) takes it from here.
    CallInvited(Box<CallInvitation>),
    /// A call that rang here was answered on another device or ended.
    CallEnded(CallEnded),
    /// A meeting of one of the user's groups started, or someone joined or
    /// left it: the stream pushed it as it is now. After every login the
    /// stream pushes each meeting running then; one known before and not
    /// pushed again is over.
    MeetingChanged(Box<Meeting>),
    /// A meeting of one of the user's groups is over (or, for a member
    /// removed from the group, over for them).
    MeetingEnded(MeetingEnded),
    /// Read marks moved (§16): a 1:1 peer's (`Peer::User`, see the row's
    /// `peer_read`) or the watched group's (`Peer::Group`, see
    /// [`Engine::group_receipts`]). The user's own marks from other devices
    /// show up as [`Event::ConversationsChanged`].
    ReadsChanged(Peer),
    /// A new urgent reminder (加急) arrived, live or replayed at login: show
    /// it prominently, with sound, even when the conversation is muted.
    Dinged(Box<crate::packets::receipts::DingNotice>),
    /// A search of the server ([`Engine::search_server`]) was answered: the
    /// page of hits (newest first, not filed into the cache), or why there
    /// is none (the server's refusal, a timeout, a lost connection).
    Searched {
        /// Which.
        id: SearchId,
        /// The hits, or why not.
        result: Result<crate::packets::sync::SearchPage, ErrorReply>,
    },
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
    /// A file without a name.
    #[error("the file has no name")]
    NoName,
    /// A file larger than any server takes by default (§15.6).
    #[error("the file has {bytes} bytes; at most {max} can be sent")]
    FileTooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        max: u64,
    },
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
    /// Mentions where there can be none (a 1:1 conversation), or more
    /// than a group holds.
    #[error("{0}")]
    Mentions(String),
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
/// The live stream silent this long gets a heartbeat: any frame back proves
/// the connection alive (a dropped network often closes nothing).
pub const HEARTBEAT_IDLE_MS: i64 = 10_000;
/// A heartbeat unanswered this long (with nothing else arriving) means the
/// connection is gone: it is closed and tried again. A silent drop is
/// noticed within `HEARTBEAT_IDLE_MS + HEARTBEAT_TIMEOUT_MS`.
pub const HEARTBEAT_TIMEOUT_MS: i64 = 10_000;
/// Messages per catch-up page: the most the server gives, so a device that
/// was away pays few round trips (each page is one cache write).
pub const CATCH_UP_PAGE: u32 = crate::limits::MAX_CATCH_UP_PAGE;
/// Messages per history page.
pub const HISTORY_PAGE: u32 = crate::limits::DEFAULT_PAGE;
/// Messages per history page while seeking an old message
/// ([`Engine::seek_older`]): the most the server gives.
pub const SEEK_PAGE: u32 = crate::limits::MAX_PAGE;

/// A request made once per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    No,
    Yes,
    Asked,
}

/// The sync engine of one account. See the module documentation. Each part
/// of its state lives in its own module, beside the rules that change it.
#[derive(Debug)]
pub struct Engine {
    /// The account and its sync position.
    meta: AccountMeta,
    seqs: SeqTracker,
    /// The 20888 stream: login, reconnects, the ack, the heartbeat.
    stream: Stream,
    /// The service sockets and their requests.
    links: Links,
    outbox: Outbox,
    /// Where each upload under way stands (§15.6).
    uploads: uploads::Uploads,
    catch_up: CatchUp,
    /// What the cache and the UI are still owed.
    writes: Writes,
    conversations: Conversations,
    /// Directory, groups, broadcasts, presence.
    roster: Roster,
    /// The muted list, asked after every login.
    settings: Settings,
    /// Read receipts: marks to send, the watched group, reminders.
    receipts: receipts::Receipts,
    operations: Operations,
    /// Searches of the server waiting for their answer.
    searches: server_search::Searches,
    actions: VecDeque<Action>,
    rng: Rng,
    /// The latest `now` seen: deadlines already past are not reported again.
    clock: i64,
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
        let outbox = Outbox::new(snapshot.outbox);
        // A rebuilt cache's export carries no account position: new entries
        // still come after every carried one.
        meta.next_outbox_order = meta.next_outbox_order.max(outbox.next_order());
        Engine {
            stream: Stream::new(credentials, seqs.contiguous()),
            meta,
            seqs,
            links: Links::default(),
            outbox,
            uploads: uploads::Uploads::default(),
            catch_up: CatchUp::new(first_sync),
            writes: Writes::default(),
            conversations: Conversations::new(snapshot.conversations),
            roster: Roster::new(snapshot.directory, snapshot.groups, snapshot.broadcasts),
            settings: Settings::new(),
            receipts: receipts::Receipts::new(),
            operations: Operations::default(),
            searches: server_search::Searches::default(),
            actions: VecDeque::new(),
            rng: Rng::new(seed),
            clock: 0,
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
            self.conversations.rows().filter(|c| !c.hidden).collect();
        crate::sorting::sort_by_key(&mut list, |c| std::cmp::Reverse(c.sort_key()));
        list
    }

    /// One conversation's row, if it exists.
    pub fn conversation(&self, peer: &Peer) -> Option<&Conversation> {
        self.conversations.get(peer)
    }

    /// The unread total (for the tab title); muted conversations do not count.
    pub fn unread_total(&self) -> u32 {
        self.conversations
            .rows()
            .filter(|c| !c.hidden && !c.muted)
            .map(|c| c.unread + u32::from(c.marked_unread && c.unread == 0))
            .sum()
    }

    /// A conversation's unacknowledged messages, in sending order.
    pub fn outbox_of(&self, peer: &Peer) -> Vec<&OutboxEntry> {
        self.outbox.entries().filter(|e| &e.to == peer).collect()
    }

    /// How many messages wait to be sent.
    pub fn queued(&self) -> usize {
        self.outbox.queued()
    }

    /// The connection indicator.
    pub fn connection(&self) -> Connection {
        self.stream.connection()
    }

    /// Whether the engine has stopped for good (signed out or logged out).
    pub fn is_stopped(&self) -> bool {
        self.stream.is_stopped()
    }

    /// What a rebuilt cache should start from: the user's conversations
    /// (pins, drafts) and unsent messages, but no sync position, so the new
    /// cache catches up everything from the server.
    pub fn export(&self) -> Snapshot {
        Snapshot {
            meta: None,
            conversations: self
                .conversations
                .rows()
                .map(|c| Conversation {
                    history_complete: false,
                    ..c.clone()
                })
                .collect(),
            outbox: self.outbox.entries().cloned().collect(),
            directory: self.roster.directory.clone(),
            groups: self.roster.groups.clone(),
            broadcasts: self.roster.broadcasts.values().cloned().collect(),
        }
    }

    /// The company broadcasts, newest first.
    pub fn broadcasts(&self) -> Vec<&CachedBroadcast> {
        self.roster.broadcasts.values().rev().collect()
    }

    /// How many broadcasts are unread.
    pub fn unread_broadcasts(&self) -> usize {
        self.roster.broadcasts.values().filter(|b| !b.read).count()
    }

    /// Marks a broadcast read (it was opened).
    pub fn mark_broadcast_read(&mut self, id: BroadcastId) {
        if let Some(cached) = self.roster.broadcasts.get_mut(&id)
            && !cached.read
        {
            cached.read = true;
            self.writes.batch.broadcasts = Some(self.roster.broadcasts.values().cloned().collect());
            self.flush();
            self.notify(Event::BroadcastsChanged);
        }
    }

    /// The company directory, if synced.
    pub fn directory(&self) -> Option<&Directory> {
        self.roster.directory.as_ref()
    }

    /// The user's groups, if synced, and the groups they have left or were
    /// removed from (without them among the members).
    pub fn groups(&self) -> Option<&[Group]> {
        self.roster.groups.as_deref()
    }

    // ------------------------------------------------------------ driving

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`Engine::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.timers().next_timeout()
    }

    /// Time passed: retries, timeouts, deferred writes.
    pub fn handle_timeout(&mut self, now: i64) {
        self.advance(now);
        for timer in Timer::ALL {
            // Read again before each: acting on one may settle another.
            if timer.acted_on() && self.timers().is_due(timer, now) {
                self.on_timeout(timer, now);
            }
        }
        self.drive(now);
    }

    /// The socket of `service` opened.
    pub fn opened(&mut self, service: Service, now: i64) {
        self.advance(now);
        if service == Service::Login {
            if let Some(frame) = self.stream.opened(now) {
                self.act(Action::Send(Service::Login, frame));
            }
            return;
        }
        self.links.opened(service, now);
        self.drive(now);
    }

    /// The socket of `service` closed, or could not be opened.
    pub fn closed(&mut self, service: Service, now: i64) {
        self.advance(now);
        if service == Service::Login {
            if self.stream.is_up() {
                self.stream_lost(now);
            }
        } else {
            self.link_lost(service, now);
        }
        self.drive(now);
    }

    /// A text frame arrived on the socket of `service`.
    pub fn received(&mut self, service: Service, text: &str, now: i64) {
        self.advance(now);
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

    /// The browser went online or offline. Offline shows at once, and a
    /// live stream is given up (its socket may still look open, but nothing
    /// gets through); online tries to connect at once.
    pub fn set_online(&mut self, online: bool, now: i64) {
        self.advance(now);
        self.stream.set_online(online);
        if online {
            self.reconnect_now(now);
        } else {
            if self.stream.is_live() {
                self.act(Action::Close(Service::Login));
                self.stream_lost(now);
            }
            self.update_connection();
        }
    }

    /// Try to connect now instead of waiting (the tab became visible, the
    /// user pressed retry).
    pub fn reconnect_now(&mut self, now: i64) {
        self.advance(now);
        self.stream.reconnect_now(now);
        self.links.reconnect_now(now);
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
        self.send_composed(to, text, None, Vec::new(), false, now)
    }

    /// Queues a text that replies to `quote` (§15.2), a snapshot of a message
    /// of the same conversation ([`crate::packets::message::Quote::of`]); the
    /// outbox keeps it, so a reload still sends the reply as a reply.
    pub fn send_quoting(
        &mut self,
        to: Peer,
        text: String,
        quote: Option<crate::packets::message::Quote>,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        self.send_composed(to, text, quote, Vec::new(), false, now)
    }

    /// Queues a text that @-mentions group members (by id; the text shows
    /// their names as typed) or everyone (the holder only, which the server
    /// checks). Mentions are for groups; a member named twice counts once.
    pub fn send_group_text(
        &mut self,
        to: Peer,
        text: String,
        mentions: Vec<UserId>,
        mention_all: bool,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        self.send_composed(to, text, None, mentions, mention_all, now)
    }

    /// Queues a text with everything the composer may add to it: the
    /// message it replies to (§15.2) and its @mentions (§15.4).
    pub fn send_composed(
        &mut self,
        to: Peer,
        text: String,
        quote: Option<crate::packets::message::Quote>,
        mentions: Vec<UserId>,
        mention_all: bool,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(SendError::NotLoggedIn);
        }
        let kind = outbox::text_kind(&to, &text)?;
        let mentions = outbox::mentions(&to, mentions, mention_all)?;
        let mut entry = self.new_entry(to, kind, text, None, now);
        entry.quote = quote;
        entry.mentions = mentions;
        entry.mention_all = mention_all;
        let cid = entry.cid.clone();
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
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(SendError::NotLoggedIn);
        }
        let (kind, file) = outbox::file_parts(&to, kind, data)?;
        let entry = self.new_entry(to, kind, String::new(), Some(file), now);
        let cid = entry.cid.clone();
        self.queue(entry, now);
        Ok(cid)
    }

    /// Sends a failed message again.
    pub fn retry(&mut self, cid: &ClientMsgId, now: i64) {
        self.advance(now);
        let Some(entry) = self.outbox.requeue(cid) else {
            return;
        };
        let to = entry.to.clone();
        self.writes.batch.outbox_put.push(entry);
        self.flush();
        self.notify(Event::OutboxChanged(to));
        self.drive(now);
    }

    /// Gives up on an unsent message.
    pub fn discard(&mut self, cid: &ClientMsgId) {
        if let Some(entry) = self.outbox.discard(cid) {
            self.writes.batch.outbox_delete.push(cid.clone());
            self.flush();
            if entry.upload.is_some() {
                self.act(Action::ReleaseFile(cid.clone()));
            }
            self.notify(Event::OutboxChanged(entry.to));
        }
    }

    /// Asks the server for the page of `peer` before `before` (the oldest
    /// message the cache holds, or none). The answer comes as [`Event::History`].
    pub fn load_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        self.load_history(peer, before, HISTORY_PAGE, now);
    }

    /// As [`Engine::load_older`], in the largest pages the server gives
    /// ([`SEEK_PAGE`]): for opening a conversation at a message far behind
    /// what the cache holds (a search hit, a quote), where every page
    /// between is loaded (the cached history stays one stretch) and round
    /// trips are what the user waits for.
    pub fn seek_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        self.load_history(peer, before, SEEK_PAGE, now);
    }

    fn load_history(&mut self, peer: Peer, before: Option<MessageId>, limit: u32, now: i64) {
        self.advance(now);
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
        self.catch_up.want_history(peer, before, limit);
        self.drive(now);
    }

    /// The conversation now on screen (none: the list). Opening one reads it.
    pub fn set_in_view(&mut self, peer: Option<Peer>) {
        self.conversations.in_view = peer.clone();
        if let Some(peer) = peer
            && self.conversations.visible
        {
            self.clear_unread(&peer);
        }
    }

    /// Whether the tab is visible: messages to a conversation in view count
    /// as read only while it is.
    pub fn set_visible(&mut self, visible: bool, now: i64) {
        self.advance(now);
        self.conversations.visible = visible;
        if visible {
            if let Some(peer) = self.conversations.in_view.clone() {
                self.clear_unread(&peer);
            }
            self.reconnect_now(now);
        } else {
            self.drive(now);
        }
    }

    /// Shows the user as busy (until turned off), whatever the app's visibility.
    pub fn set_busy(&mut self, busy: bool, now: i64) {
        self.advance(now);
        self.roster.busy = busy;
        self.drive(now);
    }

    /// The presence this session shows: busy if the user chose it, else
    /// online while the app is visible and away while it is hidden.
    pub fn presence(&self) -> Presence {
        self.roster.presence(self.conversations.visible)
    }

    /// Asks the server for these contacts' current signatures (52888), to
    /// refresh what the directory says (a contact page being opened).
    pub fn refresh_signatures(&mut self, users: Vec<UserId>, now: i64) {
        self.advance(now);
        self.roster.signatures_wanted.extend(users);
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
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(OperationError::NotLoggedIn);
        }
        if !self.stream.is_live() {
            return Err(OperationError::Offline);
        }
        let frame = operation
            .frame(&self.meta.user)
            .map_err(|e| OperationError::Invalid(e.to_string()))?;
        let id = self.operations.add(operation, frame, now);
        self.drive(now);
        Ok(id)
    }

    /// Marks a conversation read (and so no longer "[有人@我]"), on every
    /// device of the user: the read mark moves to its newest message.
    pub fn mark_read(&mut self, peer: &Peer) {
        self.clear_unread(peer);
        let newest = self
            .conversations
            .get(peer)
            .and_then(|c| c.last.as_ref())
            .and_then(|last| last.id);
        if let Some(newest) = newest {
            self.mark_seen(peer, newest, self.clock);
        }
    }

    /// Clears a conversation's badge on this device (it is on screen).
    fn clear_unread(&mut self, peer: &Peer) {
        self.edit_conversation(peer, |c| {
            unread::clear(c);
            c.marked_unread = false;
        });
    }

    /// Marks a conversation unread (a badge until it is opened).
    pub fn mark_unread(&mut self, peer: &Peer) {
        self.edit_conversation(peer, |c| c.marked_unread = true);
    }

    /// Pins a conversation to the top, or unpins it.
    pub fn set_pinned(&mut self, peer: &Peer, pinned: bool, now: i64) {
        self.advance(now);
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
        self.writes.batch.clear_messages.push(peer.clone());
        self.edit_conversation(peer, |c| {
            c.hidden = true;
            unread::clear(c);
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
        self.writes.batch.clear_messages.push(peer.clone());
        if self.conversations.get(peer).is_some() {
            self.edit_conversation(peer, |c| {
                unread::clear(c);
                c.marked_unread = false;
                c.history_complete = false;
            });
        }
        self.flush();
    }

    /// Logs out: the server revokes the token; the engine stops.
    pub fn log_out(&mut self) {
        if self.stream.is_live() {
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

    /// The one place time enters: the clock only moves forward.
    fn advance(&mut self, now: i64) {
        self.clock = self.clock.max(now);
    }

    /// Every deadline, as of the clock (see [`timers`]).
    fn timers(&self) -> TimerTable {
        let mut table = TimerTable::new(self.clock);
        self.writes.add_deadlines(&mut table);
        self.stream.add_deadlines(&mut table);
        self.links.add_deadlines(&mut table);
        self.operations.add_deadlines(&mut table);
        self.searches.add_deadlines(&mut table);
        if self.stream.is_live() {
            self.catch_up.add_deadlines(&mut table);
            self.outbox.add_deadlines(&mut table);
            self.receipts.add_deadlines(&mut table);
        }
        table
    }

    /// Acts on a deadline that is due.
    fn on_timeout(&mut self, timer: Timer, now: i64) {
        match timer {
            Timer::Persist => self.flush(),
            Timer::LoginTimeout => {
                if self.stream.login_timed_out(now) {
                    self.act(Action::Close(Service::Login));
                    self.stream_lost(now);
                }
            }
            Timer::Heartbeat => self.heartbeat(now),
            Timer::RequestTimeout | Timer::LinkIdle => self.links_timeout(timer, now),
            Timer::OperationTimeout => {
                for id in self.operations.stale(now) {
                    self.fail_operation(
                        id,
                        State::UNAVAILABLE,
                        "the service could not be reached; nothing was changed",
                    );
                }
            }
            Timer::SearchTimeout => {
                for id in self.searches.stale(now) {
                    self.fail_search(
                        id,
                        State::UNAVAILABLE,
                        "the server could not be reached in time; nothing was searched there",
                    );
                }
            }
            Timer::Resync => {
                if self.stream.is_live() {
                    self.catch_up.resync(now, self.seqs.contiguous());
                    // A mark's push lost on the way is found the same way.
                    self.receipts.resync();
                }
            }
            Timer::ReadMark => self.send_marks(now),
            // Acted on by `drive`, when what they wait for allows.
            Timer::Reconnect | Timer::LinkRetry | Timer::SendRetry => {}
        }
    }

    /// Issues whatever can be issued now.
    fn drive(&mut self, now: i64) {
        if self.stream.open_due(now) {
            self.act(Action::Open(Service::Login));
        }
        self.update_connection();
        if !self.stream.is_live() {
            return;
        }
        self.ask_catch_up(now);
        self.ask_roster(now);
        self.ask_settings(now);
        self.ask_receipts(now);
        self.ask_operations(now);
        self.ask_searches(now);
        self.send_outbox(now);
        self.push_uploads(now);
    }

    /// A reply on a service socket, to the oldest request waiting there.
    fn reply(&mut self, service: Service, frame: &Frame, now: i64) {
        let Some(request) = self.links.answered(service, now) else {
            return;
        };
        match request {
            Request::Send(cid) => self.send_reply(&cid, frame, now),
            Request::Upload(cid) => self.upload_reply(&cid, frame, now),
            Request::UploadCancel => {}
            Request::CatchUp => self.catch_up_reply(frame, now),
            Request::History(peer) => self.history_reply(peer, frame, now),
            Request::Directory => self.directory_reply(frame, now),
            Request::Operation(id) => self.operation_reply(id, frame, now),
            Request::Broadcasts => self.broadcasts_reply(frame, now),
            Request::Presence(presence) => self.presence_reply(presence),
            Request::Signatures => self.signatures_reply(frame, now),
            Request::Groups(after) => self.groups_reply(after, frame, now),
            Request::Muted => self.muted_reply(frame),
            Request::Reads => self.reads_reply(frame, now),
            Request::Search(id) => self.search_reply(id, frame),
        }
    }

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

    /// A new outbox entry, next in order.
    fn new_entry(
        &mut self,
        to: Peer,
        kind: crate::packets::message::MessageType,
        content: String,
        file: Option<crate::cache::OutboxFile>,
        now: i64,
    ) -> OutboxEntry {
        let order = self.meta.next_outbox_order;
        self.meta.next_outbox_order += 1;
        OutboxEntry {
            cid: ClientMsgId::generated(self.rng.next_u64(), order),
            order,
            to,
            kind,
            content,
            mentions: None,
            mention_all: false,
            created_ts: now,
            state: OutboxState::Queued,
            file,
            quote: None,
            upload: None,
        }
    }

    fn stop(&mut self) {
        self.flush();
        self.uploads.clear();
        for id in self.operations.ids() {
            self.fail_operation(
                id,
                State::SESSION_INVALID,
                "signed out before the server answered",
            );
        }
        for id in self.searches.ids() {
            self.fail_search(
                id,
                State::SESSION_INVALID,
                "signed out before the server answered",
            );
        }
        self.stream.stop();
        for service in self.links.close_all() {
            self.act(Action::Close(service));
        }
        self.act(Action::Close(Service::Login));
        self.update_connection();
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
