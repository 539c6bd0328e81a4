//! Runs the sync engine in the browser: feeds it socket events, the user's
//! commands, the browser's online and visibility changes and the clock, and
//! carries out its actions — sockets, cache writes (awaited, in order, before
//! anything after them), and updates to the app state.

mod browser;
mod calls;
mod commands;
mod events;
mod meetings;
mod persistence;
mod receipts;
mod uploads;

use crate::calls::CallScreen;
use crate::calls::rtc::Rtc;
use crate::meetings::MeetingScreen;
use crate::meetings::rtc::MeetingRtc;
use crate::net::{Channel, SocketEvent, Sockets, Tagged};
use crate::session::Session;
use crate::state::{Command, FileAccess, OperationResult, ServerSearchResult, Update};
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{FutureExt, StreamExt, select};
use penpen_core::Service;
use penpen_core::call::CallMachine;
use penpen_core::meeting::MeetingMachine;
use penpen_core::packets::message::Message;
use penpen_core::search::SearchIndex;
use penpen_core::sync::{Action, Credentials, Engine, Event, OperationId, SearchId};
use penpen_core::{ClientMsgId, MessageId, Peer};
use persistence::LocalCache;
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
    let servers = session.servers();
    let (inputs, inbox) = unbounded::<Input>();
    let handle = DriverHandle {
        inputs: inputs.clone(),
    };
    let (socket_events, socket_inbox) = unbounded::<Tagged>();
    wasm_bindgen_futures::spawn_local(async move {
        // The browser's signals reach the driver for as long as it runs.
        let _listeners = browser::watch_browser(inputs);
        let sockets = Sockets::new(servers, seed(), socket_events);
        run(
            session,
            sockets,
            Inboxes {
                inputs: inbox,
                sockets: socket_inbox,
            },
            update,
        )
        .await;
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

/// A fine clock for measuring, in milliseconds.
fn performance_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

struct Driver {
    engine: Engine,
    cache: LocalCache,
    sockets: Sockets,
    update: Callback<Update>,
    /// The session, with the deployment's nodes (its first names the
    /// cache's database, whichever node the sockets use).
    session: Session,
    /// The open conversation and the oldest message id handed to the view.
    open: Option<(Peer, Option<MessageId>)>,
    /// An older page of the open conversation is on its way from the server.
    fetching_older: bool,
    /// The open conversation was opened at this message (a quote clicked)
    /// and it is not loaded yet: older pages are fetched until it is.
    seeking: Option<MessageId>,
    visible: bool,
    /// Who waits for the answer of each operation.
    /// (A few at a time, in id order: a list costs the bundle less than a map.)
    operations: Vec<(OperationId, Callback<OperationResult>)>,
    /// Who waits for the answer of each search of the server, in id order.
    server_searches: Vec<(SearchId, Callback<ServerSearchResult>)>,
    /// The search index, once a search asked for it.
    search: Option<SearchIndex>,
    /// The newest message worth a notification since the engine's actions
    /// were last carried out: told once they are (see [`Driver::notify_newest`]).
    notice: Option<(Peer, Message)>,
    /// The cache write IndexedDB is committing: the driver goes on reading
    /// frames meanwhile, and waits for it before anything is sent, the next
    /// write, or saying it caught up.
    writing: Option<crate::cache::Writing>,
    /// The call machine (one call at a time on this session).
    calls: CallMachine,
    /// The files of uploads under way, by cid, as the browser holds them
    /// (`File`s on disk, not bytes in memory); after a reload they come
    /// from IndexedDB.
    upload_files: Vec<(ClientMsgId, web_sys::Blob)>,
    /// Its WebRTC side.
    rtc: Rtc,
    /// The tone playing, if any.
    tone: Option<crate::calls::tone::Playing>,
    /// The call screen last shown.
    call_screen: CallScreen,
    /// When the call's quality was last measured.
    measured_at: i64,
    /// The meeting machine (one meeting at a time, on its own socket).
    meetings: MeetingMachine,
    /// Its WebRTC side.
    meeting_rtc: MeetingRtc,
    /// The meeting screen last shown.
    meeting_screen: MeetingScreen,
    /// When the meeting's figures were last read.
    meeting_measured_at: i64,
    /// What the screens were last told about read receipts.
    receipts: receipts::Receipts,
}

/// What the driver reads besides the clock.
struct Inboxes {
    /// The app's inputs.
    inputs: UnboundedReceiver<Input>,
    /// The sockets' events.
    sockets: UnboundedReceiver<Tagged>,
}

async fn run(session: Session, mut sockets: Sockets, inboxes: Inboxes, update: Callback<Update>) {
    let Inboxes {
        inputs: mut inbox,
        sockets: mut socket_inbox,
    } = inboxes;
    let (rtc, mut rtc_inbox) = Rtc::start();
    let (meeting_rtc, mut meeting_rtc_inbox) = MeetingRtc::start();
    sockets.set_token(session.token.clone());
    let (cache, snapshot) = match persistence::open_cache(&session).await {
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
    // The uploads the outbox still holds keep their files; any other kept
    // file (an upload settled or deleted while the page closed) goes.
    let uploading: Vec<ClientMsgId> = snapshot
        .outbox
        .iter()
        .filter(|entry| entry.upload.is_some())
        .map(|entry| entry.cid.clone())
        .collect();
    let mut driver = Driver {
        engine: Engine::new(credentials, snapshot, seed()),
        cache,
        sockets,
        update,
        session,
        open: None,
        fetching_older: false,
        seeking: None,
        visible: browser::tab_visible(),
        operations: Vec::new(),
        server_searches: Vec::new(),
        search: None,
        notice: None,
        writing: None,
        calls: CallMachine::new(seed()),
        upload_files: Vec::new(),
        rtc,
        tone: None,
        call_screen: CallScreen::default(),
        measured_at: 0,
        meetings: MeetingMachine::new(seed()),
        meeting_rtc,
        meeting_screen: MeetingScreen::default(),
        meeting_measured_at: 0,
        receipts: receipts::Receipts::default(),
    };
    driver.engine.set_visible(driver.visible, now());
    let busy = crate::prefs::busy();
    driver.engine.set_busy(busy, now());
    driver.update.emit(Update::Busy(busy));
    driver.update.emit(Update::Files(FileAccess {
        server: driver.sockets.server().clone(),
        token: driver.session.token.clone(),
    }));
    driver.publish_everything();
    driver.forget_stray_upload_files(&uploading).await;
    driver.engine.handle_timeout(now());
    let mut taking_since = None;
    loop {
        driver.carry_out().await;
        if driver.engine.is_stopped() {
            // Logging out writes the last of the cache first.
            driver.written().await;
            driver.end_calls();
            driver.end_meetings();
            driver.sockets.close_all();
            return;
        }
        if let Some(event) = ready_socket_event(&mut socket_inbox, &mut taking_since) {
            driver.socket_event(event);
            continue;
        }
        let due = [
            driver.engine.poll_timeout(),
            driver.call_timeout(),
            driver.meeting_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let wait = due.map(|at| (at - now()).clamp(0, i64::from(u32::MAX)) as u32);
        let timer = async move {
            match wait {
                Some(ms) => gloo::timers::future::TimeoutFuture::new(ms).await,
                None => futures::future::pending::<()>().await,
            }
        };
        let writing = driver.writing.clone();
        let committed = async move {
            match writing {
                Some(writing) => writing.committed().await,
                None => futures::future::pending().await,
            }
        };
        select! {
            outcome = committed.fuse() => {
                driver.write_finished(outcome).await;
            },
            input = inbox.next() => match input {
                Some(input) => driver.handle(input).await,
                // The app dropped the session.
                None => {
                    driver.end_calls();
                    driver.end_meetings();
                    driver.sockets.close_all();
                    return;
                }
            },
            event = rtc_inbox.next() => {
                if let Some(event) = event {
                    driver.rtc_event(event);
                }
            },
            event = meeting_rtc_inbox.next() => {
                if let Some(event) = event {
                    driver.meeting_rtc_event(event);
                }
            },
            event = socket_inbox.next() => {
                if let Some(event) = event {
                    driver.socket_event(event);
                }
            },
            () = timer.fuse() => {
                let now = now();
                if driver.engine.poll_timeout().is_some_and(|at| at <= now) {
                    driver.engine.handle_timeout(now);
                }
                driver.call_time(now);
                driver.meeting_time(now);
            },
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

impl Driver {
    fn socket_event(&mut self, tagged: Tagged) {
        // Events of a replaced socket are old news.
        if self.sockets.generation(tagged.channel) != Some(tagged.generation) {
            return;
        }
        let now = now();
        let service = match tagged.channel {
            Channel::Service(Service::CallSignalling) => {
                self.call_socket_event(tagged.event, now);
                return;
            }
            Channel::Meeting => {
                self.meeting_socket_event(tagged.event, now);
                return;
            }
            Channel::Service(service) => service,
        };
        match tagged.event {
            SocketEvent::Opened => self.engine.opened(service, now),
            SocketEvent::Frame(text) => self.engine.received(service, &text, now),
            SocketEvent::Closed => {
                self.sockets.close(service);
                self.engine.closed(service, now);
            }
        }
    }

    /// The engine could not reach its node: the sockets go to the next, and
    /// file URLs with them.
    fn switch_node(&mut self) {
        if self.sockets.switch_node() {
            self.update.emit(Update::Files(FileAccess {
                server: self.sockets.server().clone(),
                token: self.session.token.clone(),
            }));
        }
    }

    async fn handle(&mut self, input: Input) {
        let now = now();
        match input {
            Input::Online(online) => self.engine.set_online(online, now),
            Input::Visible(visible) => {
                self.visible = visible;
                self.engine.set_visible(visible, now);
                self.watch_open_group(now);
            }
            Input::Command(command) => self.command(command, now).await,
            Input::Shutdown => self.engine.stop_here(),
        }
    }

    /// Does what the engine asked, in order. A cache write is committed
    /// before anything after it is sent (nothing is sent or acknowledged
    /// before it is stored), before the next write, and before the app hears
    /// it caught up; the rest (frames read meanwhile, the screen) goes on
    /// while IndexedDB commits.
    async fn carry_out(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Open(service) => self.sockets.open(service),
                Action::Close(service) => self.sockets.close(service),
                Action::Send(service, frame) => {
                    if !self.written().await {
                        return;
                    }
                    self.sockets.send(service, &frame);
                    if matches!(service, Service::Image | Service::Voice) {
                        self.watch_upload(service, frame.len());
                    }
                }
                Action::Persist(batch) => {
                    if !self.persist(&batch).await {
                        return;
                    }
                }
                Action::Notify(event) => {
                    if matches!(event, Event::CaughtUp) && !self.written().await {
                        return;
                    }
                    self.event(event)
                }
                Action::ReadChunk { cid, offset, len } => self.read_chunk(cid, offset, len).await,
                Action::ReleaseFile(cid) => self.release_file(&cid).await,
                Action::SwitchNode => self.switch_node(),
            }
        }
        self.carry_out_calls();
        self.carry_out_meetings();
        self.notify_newest();
    }
}
