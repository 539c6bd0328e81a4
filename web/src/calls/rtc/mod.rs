//! The call machine's WebRTC side: the microphone and camera
//! (`getUserMedia`), the peer connection, and what the screen needs from
//! them (the streams, the devices, the quality).
//!
//! Browser calls are promises, and the machine wants its commands carried
//! out in order, each after the one before finished; so one task takes the
//! jobs from a queue, one at a time, and reports back on a channel. The
//! driver tags each job with the peer connection it was given for (an
//! epoch): a report of a connection the machine has since closed must not
//! reach it (a glare swaps connections, and a late candidate of the old one
//! would land in the new call).

//!
//! `media` holds the microphone and camera (capture, devices, the camera
//! turned on and off), `peer` the connection (offers, answers, candidates,
//! the tracks that arrive).

use super::stats::{self, Counters};
use super::{DeviceKind, Devices, Quality};
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use media::{list_devices, set_camera, start_media, stop_tracks, tracks, use_device};
use peer::{
    Peer, add_candidate, apply_answer, create_answer, create_offer, create_peer,
    remote_tracks_changed,
};
use penpen_core::call::{RtcCommand, RtcReport};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, RtcPeerConnection};

pub(crate) mod media;
pub(crate) mod peer;

/// What the WebRTC side tells the driver.
#[derive(Debug)]
pub enum RtcEvent {
    /// For the call machine. `epoch` is the peer connection it came from
    /// (none for the media, which outlives connections).
    Report {
        /// The connection's epoch, when the report is about one.
        epoch: Option<u64>,
        /// What happened.
        report: RtcReport,
    },
    /// The streams, devices, mute or quality changed: the screen reads them
    /// again with [`Rtc::media`].
    Changed,
}

/// One thing for the WebRTC task to do.
#[derive(Debug)]
enum Job {
    /// The call machine's command, given while `epoch` was current.
    Machine(RtcCommand, u64),
    /// Mute or unmute the microphone.
    Mute(bool),
    /// Switch to this device.
    UseDevice(DeviceKind, String),
    /// Read the connection's statistics.
    Stats,
}

/// What the screen shows of the media.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaShown {
    /// Our microphone and camera.
    pub local: Option<MediaStream>,
    /// The other party's tracks.
    pub remote: Option<MediaStream>,
    /// The microphone is muted.
    pub muted: bool,
    /// The devices.
    pub devices: Devices,
    /// The last measured quality.
    pub quality: Option<Quality>,
}

/// The driver's handle on the WebRTC task.
pub struct Rtc {
    jobs: UnboundedSender<Job>,
    state: Rc<RefCell<State>>,
    /// Bumped when a connection is created or closed: reports tagged with
    /// an older one are dropped by [`Rtc::current`].
    epoch: u64,
}

impl std::fmt::Debug for Rtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rtc").field("epoch", &self.epoch).finish()
    }
}

impl Rtc {
    /// Starts the WebRTC task; its events come on the returned receiver.
    pub fn start() -> (Rtc, UnboundedReceiver<RtcEvent>) {
        let (jobs, queue) = unbounded();
        let (events, inbox) = unbounded();
        let state = Rc::new(RefCell::new(State::default()));
        wasm_bindgen_futures::spawn_local(work(queue, state.clone(), events));
        (
            Rtc {
                jobs,
                state,
                epoch: 0,
            },
            inbox,
        )
    }

    /// Queues the call machine's command.
    pub fn give(&mut self, command: RtcCommand) {
        if matches!(
            command,
            RtcCommand::CreatePeerConnection { .. } | RtcCommand::ClosePeerConnection
        ) {
            self.epoch += 1;
        }
        self.queue(Job::Machine(command, self.epoch));
    }

    /// Whether a report tagged `epoch` is still for the machine.
    pub fn current(&self, epoch: Option<u64>) -> bool {
        epoch.is_none_or(|e| e == self.epoch)
    }

    /// Mutes or unmutes the microphone.
    pub fn mute(&self, muted: bool) {
        self.queue(Job::Mute(muted));
    }

    /// Switches the microphone, camera or speaker.
    pub fn use_device(&self, kind: DeviceKind, id: String) {
        self.queue(Job::UseDevice(kind, id));
    }

    /// Measures the connection's quality (reported as [`RtcEvent::Changed`]).
    pub fn measure(&self) {
        self.queue(Job::Stats);
    }

    /// What the screen shows of the media now.
    pub fn media(&self) -> MediaShown {
        let state = self.state.borrow();
        MediaShown {
            local: state.local.clone(),
            remote: state.remote.clone(),
            muted: state.muted,
            devices: state.devices.clone(),
            quality: state.quality,
        }
    }

    fn queue(&self, job: Job) {
        // The task lives as long as the sender; it never stops first.
        let _ = self.jobs.unbounded_send(job);
    }
}

impl Drop for Rtc {
    fn drop(&mut self) {
        // The session ended: nothing may keep the microphone or camera.
        let mut state = self.state.borrow_mut();
        state.peer = None;
        if let Some(local) = state.local.take() {
            stop_tracks(&local);
        }
    }
}

#[derive(Default)]
struct State {
    local: Option<MediaStream>,
    remote: Option<MediaStream>,
    peer: Option<Peer>,
    muted: bool,
    devices: Devices,
    quality: Option<Quality>,
    counters: Counters,
}

type Events = UnboundedSender<RtcEvent>;

fn send(events: &Events, event: RtcEvent) {
    // The driver drops the receiver only when the session ends.
    let _ = events.unbounded_send(event);
}

fn report(events: &Events, epoch: Option<u64>, report: RtcReport) {
    send(events, RtcEvent::Report { epoch, report });
}

async fn work(mut queue: UnboundedReceiver<Job>, state: Rc<RefCell<State>>, events: Events) {
    while let Some(job) = queue.next().await {
        match job {
            Job::Machine(command, epoch) => machine(command, epoch, &state, &events).await,
            Job::Mute(muted) => {
                let mut state = state.borrow_mut();
                state.muted = muted;
                if let Some(local) = &state.local {
                    for track in tracks(&local.get_audio_tracks()) {
                        track.set_enabled(!muted);
                    }
                }
                send(&events, RtcEvent::Changed);
            }
            Job::UseDevice(kind, id) => {
                if let Err(problem) = use_device(kind, id, &state).await {
                    web_sys::console::warn_1(&format!("switching device: {problem:?}").into());
                }
                list_devices(&state).await;
                send(&events, RtcEvent::Changed);
            }
            Job::Stats => {
                let connection = state.borrow().peer.as_ref().map(|p| p.connection.clone());
                if let Some(connection) = connection
                    && let Ok(report) = JsFuture::from(connection.get_stats()).await
                {
                    let mut state = state.borrow_mut();
                    let previous = state.counters;
                    let (quality, counters) = stats::read(&report, previous);
                    state.quality = Some(quality);
                    state.counters = counters;
                    send(&events, RtcEvent::Changed);
                }
            }
        }
    }
}

async fn machine(command: RtcCommand, epoch: u64, state: &Rc<RefCell<State>>, events: &Events) {
    match command {
        RtcCommand::StartMedia { camera } => {
            match start_media(camera, state).await {
                Ok(()) => list_devices(state).await,
                Err(problem) => report(events, None, RtcReport::Error(problem.code())),
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::SetCamera(on) => {
            if let Err(problem) = set_camera(on, state).await {
                report(events, None, RtcReport::Error(problem.code()));
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::CreatePeerConnection {
            ice_servers,
            relay_only,
        } => {
            let created = create_peer(&ice_servers, relay_only, epoch, state, events);
            match created {
                Ok(peer) => {
                    let mut state = state.borrow_mut();
                    state.peer = Some(peer);
                    state.remote = None;
                    state.quality = None;
                    state.counters = Counters::default();
                }
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::CreateOffer { ice_restart } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            match create_offer(&connection, ice_restart).await {
                Ok(sdp) => report(events, Some(epoch), RtcReport::OfferCreated { sdp }),
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
        }
        RtcCommand::CreateAnswer { offer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            match create_answer(&connection, &offer).await {
                Ok(sdp) => report(events, Some(epoch), RtcReport::AnswerCreated { sdp }),
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
            remote_tracks_changed(state, events);
        }
        RtcCommand::ApplyAnswer { answer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            if let Err(problem) = apply_answer(&connection, &answer).await {
                report(events, Some(epoch), RtcReport::Error(problem.code()));
            }
            remote_tracks_changed(state, events);
        }
        RtcCommand::AddCandidate(candidate) => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            add_candidate(&connection, &candidate).await;
        }
        RtcCommand::ClosePeerConnection => {
            let mut state = state.borrow_mut();
            state.peer = None;
            state.remote = None;
            state.quality = None;
            send(events, RtcEvent::Changed);
        }
        RtcCommand::StopMedia => {
            let mut state = state.borrow_mut();
            if let Some(local) = state.local.take() {
                stop_tracks(&local);
            }
            state.muted = false;
            send(events, RtcEvent::Changed);
        }
    }
}

/// The current connection, if it is the one `epoch` names.
fn connection_of(state: &Rc<RefCell<State>>, epoch: u64) -> Option<RtcPeerConnection> {
    let state = state.borrow();
    let peer = state.peer.as_ref()?;
    (peer.epoch == epoch).then(|| peer.connection.clone())
}
