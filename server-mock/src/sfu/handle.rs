//! The cheap, cloneable handle the signalling talks to the SFU task through.

use super::engine::{Command, Engine};
use super::{
    Counters, ParticipantKey, RoomKey, SfuConfig, SfuError, SfuEvent, SfuStats, advertised_addr,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// A running SFU. Clones share the same task; it stops on [`Sfu::shutdown`]
/// or when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Sfu {
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<Counters>,
    events: Arc<Mutex<Option<mpsc::UnboundedReceiver<SfuEvent>>>>,
    local: SocketAddr,
    advertised: SocketAddr,
}

impl Sfu {
    /// Binds the media socket and starts the task on the current tokio runtime.
    pub async fn start(config: SfuConfig) -> Result<Sfu, SfuError> {
        let socket = UdpSocket::bind(config.bind)
            .await
            .map_err(|source| SfuError::Bind {
                addr: config.bind,
                source,
            })?;
        let local = socket.local_addr().map_err(|source| SfuError::Bind {
            addr: config.bind,
            source,
        })?;
        let advertised = advertised_addr(&config, local)?;
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let engine = Engine::new(
            socket,
            local,
            advertised,
            &config,
            events_tx,
            counters.clone(),
        );
        tokio::spawn(engine.run(commands_rx));
        tracing::info!(%local, %advertised, "media server listening");
        Ok(Sfu {
            commands,
            counters,
            events: Arc::new(Mutex::new(Some(events_rx))),
            local,
            advertised,
        })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The address clients are told to send media to.
    pub fn advertised_addr(&self) -> SocketAddr {
        self.advertised
    }

    /// The events (offers to relay, lost participants); only the first call gets them.
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<SfuEvent>> {
        self.events.lock().ok().and_then(|mut events| events.take())
    }

    /// Adds a participant to a room with its client's offer; returns the answer.
    ///
    /// The room's existing tracks reach the newcomer by a server offer
    /// ([`SfuEvent::Offer`]) once its connection is up, and the newcomer's
    /// tracks reach everyone else the same way.
    pub async fn join(
        &self,
        room: RoomKey,
        participant: ParticipantKey,
        offer_sdp: String,
    ) -> Result<String, SfuError> {
        self.call(|reply| Command::Join {
            room,
            participant,
            offer: offer_sdp,
            reply,
        })
        .await
    }

    /// Applies a client's answer to the server's last offer.
    pub async fn answer(&self, participant: ParticipantKey, sdp: String) -> Result<(), SfuError> {
        self.call(|reply| Command::Answer {
            participant,
            sdp,
            reply,
        })
        .await
    }

    /// A client-initiated change (the client starts publishing video, say);
    /// returns the answer. Refused while the server's own offer is unanswered.
    pub async fn reoffer(
        &self,
        participant: ParticipantKey,
        offer_sdp: String,
    ) -> Result<String, SfuError> {
        self.call(|reply| Command::Reoffer {
            participant,
            offer: offer_sdp,
            reply,
        })
        .await
    }

    /// Removes a participant; the rest of its room get offers without its tracks.
    pub async fn leave(&self, participant: ParticipantKey) -> Result<(), SfuError> {
        self.call(|reply| Command::Leave { participant, reply })
            .await
    }

    /// Removes a participant without waiting for it: the command is queued
    /// at once, so it is ordered before any command sent after this call
    /// returns (a later join of the same key finds it gone). Nothing
    /// happens for a key that is not in.
    pub fn remove(&self, participant: ParticipantKey) {
        let (reply, _) = oneshot::channel();
        let _ = self.commands.send(Command::Leave { participant, reply });
    }

    /// Whether a participant of this key is in (after every command sent
    /// before): tells a `Lost` event of an earlier connection of the same key
    /// from one of the current connection.
    pub async fn contains(&self, participant: ParticipantKey) -> Result<bool, SfuError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Contains { participant, reply })
            .map_err(|_| SfuError::Stopped)?;
        answer.await.map_err(|_| SfuError::Stopped)
    }

    /// Chooses which simulcast layer (rid) of `sender`'s video `viewer` gets;
    /// a viewer starts with the first layer the sender's SDP lists.
    pub async fn select_layer(
        &self,
        viewer: ParticipantKey,
        sender: ParticipantKey,
        rid: String,
    ) -> Result<(), SfuError> {
        self.call(|reply| Command::SelectLayer {
            viewer,
            sender,
            rid,
            reply,
        })
        .await
    }

    /// The counters now.
    pub fn stats(&self) -> SfuStats {
        self.counters.snapshot()
    }

    /// Stops the task and closes every peer connection; waits until it has.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).is_ok() {
            let _ = done.await;
        }
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, SfuError>>) -> Command,
    ) -> Result<T, SfuError> {
        let (reply, result) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| SfuError::Stopped)?;
        result.await.map_err(|_| SfuError::Stopped)?
    }
}
