//! The NATS bus: one connection per node (`no_echo`, so a node never hears
//! its own publications), a publishing task, and a subscription task that
//! keeps one NATS subscription per held topic.
//!
//! Subscribing and unsubscribing go through one ordered command queue, so a
//! release followed at once by a hold of the same topic can never end
//! unsubscribed. Publications go through a bounded queue and are dropped
//! when it is full (best effort, like the hub's queues: the store has it).

use super::interest::{Change, Interest};
use super::{
    BusError, Envelope, Event, HOLD_TIMEOUT, Holding, Incoming, NodeId, PROBE_TIMEOUT, Topic,
};
use async_nats::{Client, ConnectOptions};
use futures_util::StreamExt as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Publications waiting for the connection at most.
const PUBLISH_QUEUE: usize = 16_384;
/// Arrivals waiting for [`super::run`] at most (the subscriptions wait when it is full).
const INCOMING_QUEUE: usize = 4_096;
/// A delivery larger than this goes as a bare raise of the newest seq (the
/// recipient's node reads the message from the store); NATS refuses
/// payloads over its `max_payload`, 1 MiB by default.
const LARGEST_DELIVERY: usize = 256 * 1024;

/// What the subscription task is asked, in order.
#[derive(Debug)]
enum Command {
    /// One more hold of a topic; `settled` is told once the server has it.
    Hold {
        topic: Topic,
        settled: Option<oneshot::Sender<()>>,
    },
    /// One hold fewer.
    Release { topic: Topic },
}

/// The subscription task's queue (cheap to clone; kept by every [`super::Hold`]).
#[derive(Debug, Clone)]
pub(super) struct Commands(mpsc::UnboundedSender<Command>);

impl Commands {
    /// One more hold of `topic`; with `settle`, returns once the NATS
    /// server has the subscription (or after [`HOLD_TIMEOUT`]).
    pub(super) async fn hold(&self, topic: Topic, settle: bool) {
        let (tx, rx) = oneshot::channel();
        let settled = settle.then_some(tx);
        if self.0.send(Command::Hold { topic, settled }).is_err() {
            return; // the server is stopping
        }
        if settle && tokio::time::timeout(HOLD_TIMEOUT, rx).await.is_err() {
            tracing::warn!(
                "the bus did not confirm a subscription in time; going on (catch-up covers it)"
            );
        }
    }

    /// One hold of `topic` fewer.
    pub(super) fn release(&self, topic: Topic) {
        let _ = self.0.send(Command::Release { topic });
    }
}

/// A node's NATS connection.
#[derive(Debug)]
pub(super) struct Link {
    client: Client,
    commands: Commands,
    publications: mpsc::Sender<Envelope>,
    dropped: Arc<AtomicU64>,
}

impl Link {
    /// Connects to `url` as `node`, subscribes to everyone's subject and
    /// starts the tasks; the receiver carries what arrives.
    pub(super) async fn connect(
        url: &str,
        node: &NodeId,
    ) -> Result<(Link, mpsc::Receiver<Incoming>), BusError> {
        let (incoming_tx, incoming_rx) = mpsc::channel(INCOMING_QUEUE);
        let events = incoming_tx.clone();
        let label = node.to_string();
        let client = ConnectOptions::new()
            .name(format!("penpen {node}"))
            .no_echo()
            // Back quickly: while the link is down, pushes between nodes are lost.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64).saturating_mul(200).min(2_000))
            })
            .event_callback(move |event| {
                let events = events.clone();
                let node = label.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!(%node, "bus connected");
                            let _ = events.try_send(Incoming::Reconnected);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!(%node, "bus disconnected; reconnecting")
                        }
                        other => tracing::info!(%node, event = %other, "bus"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|err| BusError::Connect {
                url: url.to_owned(),
                reason: err.to_string(),
            })?;
        let (command_tx, command_rx) = mpsc::unbounded_channel();
        tokio::spawn(subscriptions(client.clone(), command_rx, incoming_tx));
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publish(client.clone(), publish_rx));
        let commands = Commands(command_tx);
        commands.hold(Topic::Everyone, true).await;
        // Signals of calls living on other nodes, for this node's sockets.
        commands.hold(Topic::Node(node.clone()), true).await;
        tracing::info!(%node, url, "bus: NATS");
        Ok((
            Link {
                client,
                commands,
                publications: publish_tx,
                dropped: Arc::new(AtomicU64::new(0)),
            },
            incoming_rx,
        ))
    }

    pub(super) fn commands(&self) -> Commands {
        self.commands.clone()
    }

    /// Queues a publication; dropped when the queue is full.
    pub(super) fn publish(&self, envelope: Envelope) {
        if self.publications.try_send(envelope).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "bus publications dropped (queue full); catch-up covers them"
                );
            }
        }
    }

    /// Asks the nodes subscribed to the probed user whether they hold a
    /// session: held when one answers in time, not held when NATS says no
    /// node is subscribed, unknown otherwise.
    pub(super) async fn probe(&self, envelope: Envelope) -> Holding {
        let subject = envelope.event.topic().subject();
        let asked = self.client.request(subject, envelope.encode().into());
        match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
            Ok(Ok(_answer)) => Holding::Held,
            Ok(Err(err)) if err.kind() == async_nats::client::RequestErrorKind::NoResponders => {
                Holding::NotHeld
            }
            Ok(Err(err)) => {
                tracing::warn!(%err, "a presence probe went unanswered");
                Holding::Unknown
            }
            Err(_) => Holding::Unknown,
        }
    }

    /// Answers a request.
    pub(super) async fn answer(&self, reply: String, payload: Vec<u8>) {
        if let Err(err) = self.client.publish(reply, payload.into()).await {
            tracing::warn!(%err, "cannot answer a request on the bus");
        }
    }

    /// Sends a request and waits for the answer's payload (`None`: no
    /// responders, or no answer within `timeout`).
    pub(super) async fn request(&self, envelope: Envelope, timeout: Duration) -> Option<Vec<u8>> {
        let subject = envelope.event.topic().subject();
        let asked = self.client.request(subject, envelope.encode().into());
        match tokio::time::timeout(timeout, asked).await {
            Ok(Ok(answer)) => Some(answer.payload.to_vec()),
            Ok(Err(err)) => {
                if err.kind() != async_nats::client::RequestErrorKind::NoResponders {
                    tracing::warn!(%err, "a request on the bus went unanswered");
                }
                None
            }
            Err(_) => None,
        }
    }

    /// Waits for a round trip to the NATS server (bounded by [`HOLD_TIMEOUT`]).
    pub(super) async fn settle(&self) {
        let _ = tokio::time::timeout(HOLD_TIMEOUT, self.client.flush()).await;
    }
}

/// Sends the queued publications, in order.
async fn publish(client: Client, mut queue: mpsc::Receiver<Envelope>) {
    while let Some(envelope) = queue.recv().await {
        let subject = envelope.event.topic().subject();
        let mut payload = envelope.encode();
        if payload.len() > LARGEST_DELIVERY
            && let Event::Deliver { user, seq, .. } = &envelope.event
        {
            payload = Envelope {
                node: envelope.node.clone(),
                event: Event::Raise {
                    user: user.clone(),
                    seq: *seq,
                },
            }
            .encode();
        }
        if let Err(err) = client.publish(subject, payload.into()).await {
            tracing::warn!(%err, "cannot publish on the bus");
        }
    }
}

/// Keeps one subscription per held topic, each forwarding what arrives.
async fn subscriptions(
    client: Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    incoming: mpsc::Sender<Incoming>,
) {
    let mut interest: Interest<Topic> = Interest::default();
    let mut forwarding: HashMap<Topic, JoinHandle<()>> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Hold { topic, settled } => {
                if interest.hold(&topic) == Change::Subscribe {
                    match client.subscribe(topic.subject()).await {
                        Ok(subscriber) => {
                            let task = tokio::spawn(forward(subscriber, incoming.clone()));
                            forwarding.insert(topic, task);
                        }
                        Err(err) => tracing::warn!(%err, "cannot subscribe on the bus"),
                    }
                }
                if let Some(settled) = settled {
                    // The SUB is queued before the PING, so the PONG means
                    // the server has it.
                    let client = client.clone();
                    tokio::spawn(async move {
                        if client.flush().await.is_ok() {
                            let _ = settled.send(());
                        }
                    });
                }
            }
            Command::Release { topic } => {
                if interest.release(&topic) == Change::Unsubscribe
                    && let Some(task) = forwarding.remove(&topic)
                {
                    // Dropping the subscriber unsubscribes.
                    task.abort();
                }
            }
        }
    }
}

/// Hands what one subscription receives to [`super::run`].
async fn forward(mut subscriber: async_nats::Subscriber, incoming: mpsc::Sender<Incoming>) {
    while let Some(message) = subscriber.next().await {
        let reply = message.reply.map(|r| r.to_string());
        match super::incoming(&message.payload, reply) {
            Ok(arrived) => {
                if incoming.send(arrived).await.is_err() {
                    return;
                }
            }
            Err(err) => tracing::warn!(%err, subject = %message.subject, "ignored a bus message"),
        }
    }
}
