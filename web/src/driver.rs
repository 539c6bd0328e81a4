//! Runs the sync engine in the browser: feeds it socket events, the user's
//! commands, the browser's online and visibility changes and the clock, and
//! carries out its actions — sockets, cache writes (awaited, in order, before
//! anything after them), and updates to the app state.

use crate::cache::IndexedDbCache;
use crate::config::ServerAddress;
use crate::net::{SocketEvent, Sockets, Tagged};
use crate::notify;
use crate::session::Session;
use crate::state::{Command, Update, display_name};
use crate::state::{FileAccess, OperationFailure, OperationResult, SearchResult};
use crate::ui::format::{self, Body, People};
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{FutureExt, StreamExt, select};
use penpen_core::Service;
use penpen_core::UserId;
use penpen_core::cache::{Cache, CacheBatch, CacheError, CachedMessage, MemoryCache, Snapshot};
use penpen_core::packets::directory::Directory;
use penpen_core::packets::groups::Group;
use penpen_core::packets::message::Message;
use penpen_core::search::SearchIndex;
use penpen_core::sync::{
    Action, Connection, Credentials, Engine, Event, HISTORY_PAGE, OperationId,
};
use penpen_core::{MessageId, Peer};
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::Callback;

/// Something for the driver to handle.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The user did something.
    Command(Command),
    /// The browser went online (true) or offline.
    Online(bool),
    /// The tab became visible (true) or hidden.
    Visible(bool),
    /// The app no longer shows this session: close everything and stop.
    Shutdown,
}

/// The handle the app keeps: sends inputs to the running driver.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    inputs: UnboundedSender<Input>,
}

impl PartialEq for DriverHandle {
    fn eq(&self, other: &DriverHandle) -> bool {
        self.inputs.same_receiver(&other.inputs)
    }
}

impl DriverHandle {
    /// Hands an input to the driver (dropped if the session has ended).
    pub fn send(&self, input: Input) {
        let _ = self.inputs.unbounded_send(input);
    }
}

/// Starts the sync of a signed-in session with the server that issued it.
/// Updates go to `update`; the session ending (signed out, logged out) is
/// reported there too.
pub fn start(session: Session, update: Callback<Update>) -> DriverHandle {
    let server = session.server.clone();
    let (inputs, inbox) = unbounded::<Input>();
    let handle = DriverHandle {
        inputs: inputs.clone(),
    };
    let (socket_events, socket_inbox) = unbounded::<Tagged>();
    wasm_bindgen_futures::spawn_local(async move {
        // The browser's signals reach the driver for as long as it runs.
        let _listeners = notify::watch_browser(inputs);
        let sockets = Sockets::new(server, socket_events);
        run(session, sockets, inbox, socket_inbox, update).await;
    });
    handle
}

/// A seed for the engine's retry jitter and cids.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(crypto) = crypto
        && crypto.get_random_values_with_u8_array(&mut bytes).is_ok()
    {
        return u64::from_le_bytes(bytes);
    }
    // No crypto API: the time still keeps two tabs apart.
    (js_sys::Date::now() * 1000.0) as u64 ^ (js_sys::Math::random() * 1e15) as u64
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// Messages read per step when opening a conversation at an older message.
const FOCUS_STEP: usize = 1_000;

/// A fine clock for measuring, in milliseconds.
fn performance_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

struct Driver {
    engine: Engine,
    cache: LocalCache,
    sockets: Sockets,
    update: Callback<Update>,
    session: Session,
    server: ServerAddress,
    /// The open conversation and the oldest message id handed to the view.
    open: Option<(Peer, Option<MessageId>)>,
    /// An older page of the open conversation is on its way from the server.
    fetching_older: bool,
    visible: bool,
    /// Who waits for the answer of each operation.
    operations: BTreeMap<OperationId, Callback<OperationResult>>,
    /// The search index, once a search asked for it.
    search: Option<SearchIndex>,
    /// The newest message worth a notification since the engine's actions
    /// were last carried out: told once they are (see [`Driver::notify_newest`]).
    notice: Option<(Peer, Message)>,
}

async fn run(
    session: Session,
    mut sockets: Sockets,
    mut inbox: UnboundedReceiver<Input>,
    mut socket_inbox: UnboundedReceiver<Tagged>,
    update: Callback<Update>,
) {
    sockets.set_token(session.token.clone());
    let server = sockets.server().clone();
    let (cache, snapshot) = match open_cache(&session).await {
        Ok(opened) => opened,
        Err(err) => {
            // Without IndexedDB the app still works, from the server only.
            update.emit(Update::CacheProblem(err.to_string()));
            (LocalCache::Memory(Box::default()), Default::default())
        }
    };
    let credentials = Credentials::Token {
        user: session.user.clone(),
        token: session.token.clone(),
    };
    let mut driver = Driver {
        engine: Engine::new(credentials, snapshot, seed()),
        cache,
        sockets,
        update,
        session,
        server,
        open: None,
        fetching_older: false,
        visible: notify::tab_visible(),
        operations: BTreeMap::new(),
        search: None,
        notice: None,
    };
    driver.engine.set_visible(driver.visible, now());
    let busy = crate::prefs::busy();
    driver.engine.set_busy(busy, now());
    driver.update.emit(Update::Busy(busy));
    driver.update.emit(Update::Files(FileAccess {
        server: driver.server.clone(),
        token: driver.session.token.clone(),
    }));
    driver.publish_everything();
    driver.engine.handle_timeout(now());
    let mut taking_since = None;
    loop {
        driver.carry_out().await;
        if driver.engine.is_stopped() {
            driver.sockets.close_all();
            return;
        }
        if let Some(event) = ready_socket_event(&mut socket_inbox, &mut taking_since) {
            driver.socket_event(event);
            continue;
        }
        let wait = driver
            .engine
            .poll_timeout()
            .map(|at| (at - now()).clamp(0, i64::from(u32::MAX)) as u32);
        let timer = async move {
            match wait {
                Some(ms) => gloo::timers::future::TimeoutFuture::new(ms).await,
                None => futures::future::pending::<()>().await,
            }
        };
        select! {
            input = inbox.next() => match input {
                Some(input) => driver.handle(input).await,
                // The app dropped the session.
                None => {
                    driver.sockets.close_all();
                    return;
                }
            },
            event = socket_inbox.next() => {
                if let Some(event) = event {
                    driver.socket_event(event);
                }
            },
            () = timer.fuse() => driver.engine.handle_timeout(now()),
        }
    }
}

/// How long socket events that are already waiting are taken one after
/// another before inputs and timers get their turn.
const TAKE_READY_MS: f64 = 50.0;

/// The next socket event if one is already waiting, unless they have been
/// taken for [`TAKE_READY_MS`] (`since` says from when). A backlog is
/// thousands of frames: each then costs its engine work, not also a timer and
/// a `select!`.
fn ready_socket_event(
    socket_inbox: &mut UnboundedReceiver<Tagged>,
    since: &mut Option<f64>,
) -> Option<Tagged> {
    let started = *since.get_or_insert_with(performance_now);
    let event = if performance_now() - started < TAKE_READY_MS {
        // Empty or closed: the select below sees which.
        socket_inbox.try_recv().ok()
    } else {
        None
    };
    if event.is_none() {
        *since = None;
    }
    event
}

async fn open_cache(session: &Session) -> Result<(LocalCache, Snapshot), CacheError> {
    let cache = IndexedDbCache::open(&session.server, &session.user).await?;
    let snapshot = cache.load().await?;
    Ok((LocalCache::Browser(cache), snapshot))
}

/// IndexedDB, or memory when the browser offers no IndexedDB.
enum LocalCache {
    Browser(IndexedDbCache),
    Memory(Box<MemoryCache>),
}

impl Cache for LocalCache {
    async fn load(&self) -> Result<Snapshot, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.load().await,
            LocalCache::Memory(cache) => cache.load().await,
        }
    }

    async fn apply(&self, batch: &CacheBatch) -> Result<(), CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.apply(batch).await,
            LocalCache::Memory(cache) => cache.apply(batch).await,
        }
    }

    async fn timeline(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.timeline(conversation, before, limit).await,
            LocalCache::Memory(cache) => cache.timeline(conversation, before, limit).await,
        }
    }

    async fn message_count(&self) -> Result<u64, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.message_count().await,
            LocalCache::Memory(cache) => cache.message_count().await,
        }
    }

    async fn all_messages(&self) -> Result<Vec<CachedMessage>, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.all_messages().await,
            LocalCache::Memory(cache) => cache.all_messages().await,
        }
    }
}

impl Driver {
    fn socket_event(&mut self, tagged: Tagged) {
        // Events of a replaced socket are old news.
        if self.sockets.generation(tagged.service) != Some(tagged.generation) {
            return;
        }
        let now = now();
        match tagged.event {
            SocketEvent::Opened => self.engine.opened(tagged.service, now),
            SocketEvent::Frame(text) => self.engine.received(tagged.service, &text, now),
            SocketEvent::Closed => {
                self.sockets.close(tagged.service);
                self.engine.closed(tagged.service, now);
            }
        }
    }

    async fn handle(&mut self, input: Input) {
        let now = now();
        match input {
            Input::Online(online) => self.engine.set_online(online, now),
            Input::Visible(visible) => {
                self.visible = visible;
                self.engine.set_visible(visible, now);
            }
            Input::Command(command) => self.command(command, now).await,
            Input::Shutdown => self.engine.stop_here(),
        }
    }

    /// Opens a conversation at its newest page, or at the page holding
    /// `focus` (and everything newer, so the timeline stays contiguous).
    async fn open_conversation(&mut self, peer: Peer, focus: Option<MessageId>, now: i64) {
        self.engine.set_in_view(Some(peer.clone()));
        let page_size = HISTORY_PAGE as usize;
        let mut page = self
            .cache
            .timeline(&peer, None, page_size)
            .await
            .unwrap_or_default();
        if let Some(focus) = focus {
            // Back until the hit is loaded, and a page before it for context.
            let mut reached = page.first().is_some_and(|m| m.id <= focus);
            while let Some(oldest) = page.first().map(|m| m.id) {
                // Big steps: a hit may lie thousands of messages back.
                let older = self
                    .cache
                    .timeline(&peer, Some(oldest), FOCUS_STEP)
                    .await
                    .unwrap_or_default();
                if older.is_empty() {
                    break;
                }
                let done = reached;
                reached |= older.first().is_some_and(|m| m.id <= focus);
                page.splice(0..0, older);
                if done {
                    break;
                }
            }
        }
        let complete_here = page.len() < page_size;
        let complete = complete_here
            && self
                .engine
                .conversation(&peer)
                .is_some_and(|c| c.history_complete);
        let oldest = page.first().map(|m| m.id);
        self.open = Some((peer.clone(), oldest));
        let outbox = self.outbox_of(&peer);
        self.update.emit(Update::Opened {
            peer: peer.clone(),
            messages: page,
            outbox,
            complete,
            focus,
        });
        self.fetching_older = false;
        if complete_here && !complete {
            // The cache has no more: ask the server for what is older.
            self.fetch_older(peer, oldest, now);
        }
    }

    /// The search index, built from the cache the first time it is needed
    /// and kept up to date from then on.
    async fn search_index(&mut self) -> &SearchIndex {
        if self.search.is_none() {
            let mut index = SearchIndex::new();
            for cached in self.cache.all_messages().await.unwrap_or_default() {
                index.add(&cached.conversation, [&cached.message]);
            }
            self.search = Some(index);
        }
        self.search.get_or_insert_with(SearchIndex::new)
    }

    async fn command(&mut self, command: Command, now: i64) {
        match command {
            Command::Open(peer) => self.open_conversation(peer, None, now).await,
            Command::OpenAt(peer, id) => self.open_conversation(peer, Some(id), now).await,
            Command::SendFile {
                peer,
                kind,
                data,
                reply,
            } => reply.emit(self.engine.send_file(peer, kind, data, now).map(|_| ())),
            Command::PrepareSearch => {
                self.search_index().await;
            }
            Command::Search {
                query,
                within,
                reply,
            } => {
                let index = self.search_index().await;
                let started = performance_now();
                let found = index.search(&query, within.as_ref());
                let took_ms = performance_now() - started;
                reply.emit(SearchResult {
                    query,
                    found,
                    took_ms,
                });
            }
            Command::Close => {
                self.engine.set_in_view(None);
                self.open = None;
                self.fetching_older = false;
                self.update.emit(Update::Closed);
            }
            Command::LoadOlder => {
                let Some((peer, oldest)) = self.open.clone() else {
                    return;
                };
                if self.fetching_older {
                    return;
                }
                let page = match oldest {
                    // Nothing loaded yet: the server decides.
                    None => Vec::new(),
                    Some(before) => self
                        .cache
                        .timeline(&peer, Some(before), HISTORY_PAGE as usize)
                        .await
                        .unwrap_or_default(),
                };
                let new_oldest = page.first().map(|m| m.id).or(oldest);
                self.open = Some((peer.clone(), new_oldest));
                let full = page.len() >= HISTORY_PAGE as usize;
                if !page.is_empty() {
                    self.update.emit(Update::Older {
                        peer: peer.clone(),
                        messages: page,
                        complete: false,
                    });
                }
                if !full {
                    self.fetch_older(peer, new_oldest, now);
                }
            }
            Command::SendText(peer, text) => {
                // Refusals (empty, too long) are caught by the composer first.
                let _ = self.engine.send_text(peer, text, now);
            }
            Command::Retry(cid) => self.engine.retry(&cid, now),
            Command::Discard(cid) => self.engine.discard(&cid),
            Command::MarkRead(peer) => self.engine.mark_read(&peer),
            Command::MarkUnread(peer) => self.engine.mark_unread(&peer),
            Command::Pin(peer, pinned) => self.engine.set_pinned(&peer, pinned, now),
            Command::Delete(peer) => {
                if self.open.as_ref().is_some_and(|(p, _)| p == &peer) {
                    self.engine.set_in_view(None);
                    self.open = None;
                    self.update.emit(Update::Closed);
                }
                self.engine.delete_conversation(&peer);
                if let Some(index) = self.search.as_mut() {
                    index.remove_conversation(&peer);
                }
            }
            Command::Draft(peer, text) => self.engine.set_draft(&peer, text),
            Command::Reconnect => self.engine.reconnect_now(now),
            Command::LogOut { keep_messages } => {
                let connected = self.engine.connection() == Connection::Connected;
                self.engine.log_out();
                if !connected {
                    // The stream could not carry the logout: a socket of its
                    // own tries, so the token does not outlive the session.
                    let session = self.session.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = crate::session::log_out(&session).await;
                    });
                }
                Session::forget();
                if !keep_messages {
                    self.remove_local_data();
                }
                self.update.emit(Update::SignedOut(String::new()));
            }
            Command::Perform(operation, reply) => match self.engine.perform(operation, now) {
                Ok(id) => {
                    self.operations.insert(id, reply);
                }
                Err(err) => reply.emit(Err(OperationFailure::NotSent(err))),
            },
            Command::SetBusy(busy) => {
                crate::prefs::set_busy(busy);
                self.engine.set_busy(busy, now);
                self.update.emit(Update::Busy(busy));
            }
            Command::RefreshSignatures(users) => self.engine.refresh_signatures(users, now),
            Command::ReadBroadcast(id) => self.engine.mark_broadcast_read(id),
            Command::ClearHistory(peer) => {
                self.engine.clear_history(&peer);
                if let Some(index) = self.search.as_mut() {
                    index.remove_conversation(&peer);
                }
                if self.open.as_ref().is_some_and(|(p, _)| p == &peer) {
                    self.open = Some((peer.clone(), None));
                    let outbox = self.outbox_of(&peer);
                    self.update.emit(Update::Opened {
                        peer: peer.clone(),
                        messages: Vec::new(),
                        outbox,
                        complete: false,
                        focus: None,
                    });
                }
            }
        }
    }

    /// Does what the engine asked, in order. A cache write is awaited before
    /// the next action: nothing is sent or acknowledged before it is stored.
    async fn carry_out(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Open(service) => self.sockets.open(service),
                Action::Close(service) => self.sockets.close(service),
                Action::Send(service, frame) => {
                    self.sockets.send(service, &frame);
                    if matches!(service, Service::Image | Service::Voice) {
                        self.watch_upload(service, frame.len());
                    }
                }
                Action::Persist(batch) => {
                    if let Err(err) = self.cache.apply(&batch).await {
                        self.cache_failed(err).await;
                        return;
                    }
                }
                Action::Notify(event) => self.event(event),
            }
        }
        self.notify_newest();
    }

    /// Tells the user, once, of the newest message that arrived out of view
    /// while the engine's actions were carried out. A backlog fills several
    /// conversations in one write: one sound and one notification for it
    /// (notifications replace each other, so the last one is what stayed on
    /// screen before), not one each; each sound costs a new `AudioContext`.
    fn notify_newest(&mut self) {
        if let Some((conversation, last)) = self.notice.take() {
            let title = self.name_of(&conversation);
            notify::new_message(&title, &self.preview(&last));
        }
    }

    /// Removes this account's messages from the device (a shared computer):
    /// the driver lets go of the database, so nothing writes to it or opens
    /// it again, and the database is deleted, with the one an older version
    /// of the app kept under a name without the server.
    fn remove_local_data(&mut self) {
        self.cache = LocalCache::Memory(Box::default());
        let names = [
            IndexedDbCache::database_name(&self.server, &self.session.user),
            IndexedDbCache::unbound_database_name(&self.session.user),
        ];
        wasm_bindgen_futures::spawn_local(async move {
            for name in names {
                if let Err(err) = crate::cache::delete_database(&name).await {
                    web_sys::console::error_1(&format!("removing {name}: {err}").into());
                }
            }
        });
    }

    /// The cache refused a write. What the engine holds in memory is kept;
    /// the database is rebuilt and the engine restarted on it, so it catches
    /// up everything again from the server, where every message is kept.
    async fn cache_failed(&mut self, err: CacheError) {
        self.update.emit(Update::CacheProblem(err.to_string()));
        let carried = self.engine.export();
        self.sockets.close_all();
        let name = IndexedDbCache::database_name(&self.server, &self.session.user);
        let _ = crate::cache::delete_database(&name).await;
        let cache = match IndexedDbCache::open(&self.server, &self.session.user).await {
            Ok(cache) => LocalCache::Browser(cache),
            Err(_) => LocalCache::Memory(Box::default()),
        };
        let batch = CacheBatch {
            conversations: carried.conversations.clone(),
            outbox_put: carried.outbox.clone(),
            directory: carried.directory.clone(),
            groups: carried.groups.clone(),
            ..Default::default()
        };
        // If even this fails the engine still runs from memory.
        let _ = cache.apply(&batch).await;
        self.cache = cache;
        let credentials = Credentials::Token {
            user: self.session.user.clone(),
            token: self.session.token.clone(),
        };
        // The new engine knows nothing of the old one's operations: their
        // forms hear now that the answer is lost.
        for (_, reply) in std::mem::take(&mut self.operations) {
            reply.emit(Err(OperationFailure::Refused(penpen_core::ErrorReply::new(
                penpen_core::State::UNAVAILABLE,
                "the local cache was rebuilt before the server answered; check whether it took effect",
            ))));
        }
        self.engine = Engine::new(credentials, carried, seed());
        self.engine.set_visible(self.visible, now());
        self.engine.set_busy(crate::prefs::busy(), now());
        if let Some((peer, _)) = &self.open {
            self.engine.set_in_view(Some(peer.clone()));
        }
        self.engine.handle_timeout(now());
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::LoggedIn {
                user,
                token,
                name,
                broadcaster,
            } => {
                self.sockets.set_token(token.clone());
                self.update.emit(Update::Files(FileAccess {
                    server: self.server.clone(),
                    token: token.clone(),
                }));
                self.session = Session {
                    user,
                    token,
                    name,
                    broadcaster,
                    server: self.server.clone(),
                };
                self.session.save();
                self.update.emit(Update::Account(self.engine.account()));
            }
            Event::LoginFailed(refusal) => {
                Session::forget();
                self.update.emit(Update::SignedOut(refusal.error));
            }
            Event::Unreachable => {}
            Event::SignedOut(reason) => {
                Session::forget();
                self.update.emit(Update::SignedOut(reason));
            }
            Event::ConnectionChanged(connection) => {
                self.update
                    .emit(Update::Connection(connection, self.engine.queued()));
            }
            Event::Arrived {
                conversation,
                messages,
                live,
            } => {
                let in_view = self.visible
                    && self
                        .open
                        .as_ref()
                        .is_some_and(|(peer, _)| peer == &conversation);
                let me = self.session.user.clone();
                if live
                    && !in_view
                    && let Some(last) = messages.iter().rev().find(|m| m.from.user() != Some(&me))
                {
                    self.notice = Some((conversation.clone(), last.clone()));
                }
                if let Some(index) = self.search.as_mut() {
                    index.add(&conversation, &messages);
                }
                // Only the open conversation shows messages as they come; the
                // list hears of the others through `ConversationsChanged`, so
                // a backlog over many conversations is not one state update
                // (and render) each.
                let open = self
                    .open
                    .as_ref()
                    .is_some_and(|(peer, _)| peer == &conversation);
                if open {
                    self.update.emit(Update::Arrived {
                        peer: conversation,
                        messages,
                        live,
                    });
                }
            }
            Event::History {
                conversation,
                messages,
                complete,
            } => {
                if let Some((peer, oldest)) = self.open.as_mut()
                    && *peer == conversation
                {
                    self.fetching_older = false;
                    let first = messages.first().map(|m| m.id);
                    *oldest = match (*oldest, first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                if let Some(index) = self.search.as_mut() {
                    index.add(&conversation, &messages);
                }
                self.update.emit(Update::Older {
                    peer: conversation,
                    messages,
                    complete,
                });
            }
            Event::OutboxChanged(peer) => {
                let outbox = self.outbox_of(&peer);
                self.update.emit(Update::Outbox(peer, outbox));
                self.update.emit(Update::Connection(
                    self.engine.connection(),
                    self.engine.queued(),
                ));
            }
            Event::ConversationsChanged => self.publish_conversations(),
            Event::DirectoryChanged => {
                if let Some(directory) = self.engine.directory() {
                    self.update
                        .emit(Update::Directory(Rc::new(directory.clone())));
                    self.publish_conversations();
                }
            }
            Event::GroupsChanged => {
                if let Some(groups) = self.engine.groups() {
                    self.update.emit(Update::Groups(Rc::new(groups.to_vec())));
                }
            }
            Event::CaughtUp => self.update.emit(Update::CaughtUp),
            Event::Performed { id, result } => {
                if let Some(reply) = self.operations.remove(&id) {
                    reply.emit(result.map_err(OperationFailure::Refused));
                }
            }
            Event::BroadcastsChanged => self.publish_broadcasts(),
            Event::BroadcastArrived(broadcast) => {
                let sender = self.name_of(&Peer::User(broadcast.from.clone()));
                notify::new_message(
                    &format!("{} · {sender}", broadcast.title),
                    &broadcast.content,
                );
            }
            // Presence and signatures reach the screens through the
            // directory, broadcasts through their own events.
            Event::Pushed(_) => {}
        }
    }

    /// Asks the server for the page of the open conversation before `before`.
    fn fetch_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        self.fetching_older = true;
        self.update.emit(Update::LoadingOlder(peer.clone()));
        self.engine.load_older(peer, before, now);
    }

    /// Who people are, by the directory and the groups the engine holds.
    fn names(&self) -> Names<'_> {
        Names {
            me: &self.session.user,
            directory: self.engine.directory(),
            groups: self.engine.groups().unwrap_or_default(),
        }
    }

    fn name_of(&self, peer: &Peer) -> String {
        let names = self.names();
        display_name(names.directory, names.groups, peer)
    }

    /// A notification's text: the message as its bubble would show it.
    fn preview(&self, message: &Message) -> String {
        let lang = crate::i18n::Lang::load();
        match format::body(
            lang,
            message.kind,
            &message.content,
            message.duration,
            &self.names(),
        ) {
            Body::Text(text) | Body::Placeholder(text) | Body::Notice(text) => text,
        }
    }

    fn outbox_of(&self, peer: &Peer) -> Vec<penpen_core::cache::OutboxEntry> {
        self.engine.outbox_of(peer).into_iter().cloned().collect()
    }

    fn publish_conversations(&self) {
        let list = self.engine.conversations().into_iter().cloned().collect();
        self.update
            .emit(Update::Conversations(list, self.engine.unread_total()));
    }

    /// Everything the cache gave, at once, before the network says anything.
    fn publish_everything(&self) {
        self.update.emit(Update::Account(self.engine.account()));
        if let Some(directory) = self.engine.directory() {
            self.update
                .emit(Update::Directory(Rc::new(directory.clone())));
        }
        if let Some(groups) = self.engine.groups() {
            self.update.emit(Update::Groups(Rc::new(groups.to_vec())));
        }
        self.publish_conversations();
        self.publish_broadcasts();
        self.update.emit(Update::Connection(
            self.engine.connection(),
            self.engine.queued(),
        ));
    }

    /// Reports how much of a file's frame has left the browser, until all
    /// of it has (the socket's buffer drains as the bytes go out).
    fn watch_upload(&self, service: Service, frame_len: usize) {
        let Some(socket) = self.sockets.socket(service) else {
            return;
        };
        let update = self.update.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let left = socket.buffered_amount() as f64;
                if left <= 0.0 || socket.ready_state() != web_sys::WebSocket::OPEN {
                    break;
                }
                update.emit(Update::Upload(Some(1.0 - left / frame_len.max(1) as f64)));
                gloo::timers::future::TimeoutFuture::new(100).await;
            }
            update.emit(Update::Upload(None));
        });
    }

    fn publish_broadcasts(&self) {
        let list = self.engine.broadcasts().into_iter().cloned().collect();
        self.update.emit(Update::Broadcasts(
            Rc::new(list),
            self.engine.unread_broadcasts(),
        ));
    }
}

/// [`People`] from what the engine holds, for words outside the screens.
struct Names<'a> {
    me: &'a UserId,
    directory: Option<&'a Directory>,
    groups: &'a [Group],
}

impl People for Names<'_> {
    fn me(&self) -> Option<&UserId> {
        Some(self.me)
    }

    fn name(&self, user: &UserId) -> String {
        display_name(self.directory, self.groups, &Peer::User(user.clone()))
    }
}
