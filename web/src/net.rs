//! The browser's WebSockets for the sync engine: one per service, opened and
//! closed when the engine says, each event reported to the driver's inbox.
//!
//! A socket is keyed by its [`Channel`]: a service's, or the meeting's own
//! 24888 socket beside the one a call uses.
//!
//! The sockets go to one node of the deployment at a time: a random one
//! first, the next in turn when the engine says its node cannot be reached
//! ([`Sockets::switch_node`]).
//!
//! Every socket gets a generation number. Events of a socket that has since
//! been replaced (a late `close` of the old stream after a reconnect) carry
//! the old number and are ignored by the driver.

use crate::config::{NodeChoice, ServerAddress, Servers};
use futures::channel::mpsc::UnboundedSender;
use penpen_core::Service;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// What happened on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// It opened.
    Opened,
    /// A text frame arrived.
    Frame(String),
    /// It closed, failed, or could not be opened.
    Closed,
}

/// Which socket: one per service, and the meeting's own 24888 socket (a
/// session may take part in a meeting while its call socket stays the
/// call's; PROTOCOL §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The service's socket.
    Service(Service),
    /// The meeting's 24888 socket.
    Meeting,
}

impl Channel {
    /// The service whose port the socket connects to.
    pub fn service(self) -> Service {
        match self {
            Channel::Service(service) => service,
            Channel::Meeting => Service::CallSignalling,
        }
    }
}

impl From<Service> for Channel {
    fn from(service: Service) -> Channel {
        Channel::Service(service)
    }
}

/// A socket event, tagged with the socket it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// The socket.
    pub channel: Channel,
    /// The socket's generation.
    pub generation: u64,
    /// What happened.
    pub event: SocketEvent,
}

struct Open {
    socket: WebSocket,
    generation: u64,
    // Kept alive as long as the socket: the browser calls them.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        // The handlers must not run once their closures are gone.
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onerror(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

/// The open sockets of one session.
pub struct Sockets {
    servers: Servers,
    /// The node sockets open to now.
    node: NodeChoice,
    token: Option<String>,
    /// By channel (a handful at most: a list costs the bundle less than a
    /// map).
    open: Vec<(Channel, Open)>,
    next_generation: u64,
    events: UnboundedSender<Tagged>,
}

impl std::fmt::Debug for Sockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sockets")
            .field("server", self.server())
            .field(
                "open",
                &self.open.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Sockets {
    /// No sockets yet; events go to `events`. Of several nodes, the one
    /// `random` picks is used first.
    pub fn new(servers: Servers, random: u64, events: UnboundedSender<Tagged>) -> Sockets {
        Sockets {
            node: servers.start_at(random),
            servers,
            token: None,
            open: Vec::new(),
            next_generation: 1,
            events,
        }
    }

    /// The node these sockets go to now.
    pub fn server(&self) -> &ServerAddress {
        self.servers.node(self.node.current())
    }

    /// The node in use cannot be reached: sockets opened from now on go to
    /// the next node in turn. Says whether the node changed (not with one).
    /// Open sockets stay where they are: the engine closes its own, and the
    /// call's and the meeting's reopen here if their node drops them.
    pub fn switch_node(&mut self) -> bool {
        self.node.advance()
    }

    /// The token service sockets present at their upgrade.
    pub fn set_token(&mut self, token: String) {
        self.token = Some(token);
    }

    /// The generation of the current socket of `channel`, if it has one.
    pub fn generation(&self, channel: impl Into<Channel>) -> Option<u64> {
        self.get(channel.into()).map(|o| o.generation)
    }

    fn get(&self, channel: Channel) -> Option<&Open> {
        self.open
            .iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, o)| o)
    }

    /// Takes the socket of `channel` out of the list (closed when dropped).
    fn remove(&mut self, channel: Channel) -> Option<Open> {
        let at = self.open.iter().position(|(c, _)| *c == channel)?;
        Some(self.open.remove(at).1)
    }

    /// Opens (or reopens) the socket of `channel`. A failure to even create
    /// it is reported as a close, like any other failed connection.
    pub fn open(&mut self, channel: impl Into<Channel>) {
        let channel = channel.into();
        let service = channel.service();
        self.remove(channel);
        let generation = self.next_generation;
        self.next_generation += 1;
        let mut url = self.server().websocket_url(service);
        if service != Service::Login
            && let Some(token) = &self.token
        {
            url.push_str("?token=");
            url.push_str(token);
        }
        let report = {
            let events = self.events.clone();
            move |event: SocketEvent| {
                // The driver only goes away with the whole session.
                let _ = events.unbounded_send(Tagged {
                    channel,
                    generation,
                    event,
                });
            }
        };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(_) => {
                report(SocketEvent::Closed);
                return;
            }
        };
        let on_open = Closure::<dyn FnMut()>::new({
            let report = report.clone();
            move || report(SocketEvent::Opened)
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let report = report.clone();
            move |event: MessageEvent| {
                // PENPEN frames are text; anything else is not for us.
                if let Some(text) = event.data().as_string() {
                    report(SocketEvent::Frame(text));
                }
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(move || report(SocketEvent::Closed));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_close.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.open.push((
            channel,
            Open {
                socket,
                generation,
                _on_open: on_open,
                _on_message: on_message,
                _on_close: on_close,
            },
        ));
    }

    /// Sends a frame; a socket that cannot take it is reported closed.
    pub fn send(&mut self, channel: impl Into<Channel>, frame: &str) {
        let channel = channel.into();
        let sent = self
            .get(channel)
            .is_some_and(|o| o.socket.send_with_str(frame).is_ok());
        if !sent && let Some(open) = self.remove(channel) {
            let _ = self.events.unbounded_send(Tagged {
                channel,
                generation: open.generation,
                event: SocketEvent::Closed,
            });
        }
    }

    /// The socket of `service`, while it is open (to watch an upload drain).
    pub fn socket(&self, service: Service) -> Option<WebSocket> {
        self.get(service.into()).map(|o| o.socket.clone())
    }

    /// Closes the socket of `channel` (no event follows).
    pub fn close(&mut self, channel: impl Into<Channel>) {
        self.remove(channel.into());
    }

    /// Closes everything.
    pub fn close_all(&mut self) {
        self.open.clear();
    }
}
