//! One participant's peer connection: its `Rtc`, the tracks it publishes, the
//! tracks forwarded to it, and its renegotiation (one server offer at a time).

use super::{ParticipantKey, RoomKey};
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid, Rid, Simulcast};
use str0m::net::Transmit;
use str0m::{Event, IceConnectionState, Output, Rtc};

/// A keyframe is asked of a sender at most this often per track, so a burst of
/// viewers (or of packet loss) does not turn into a burst of keyframes.
const KEYFRAME_SPACING: Duration = Duration::from_millis(500);

/// A track the participant publishes.
#[derive(Debug)]
pub(super) struct TrackIn {
    pub(super) mid: Mid,
    pub(super) kind: MediaKind,
    /// The simulcast layers (rids) it sends, in the order its SDP lists them;
    /// empty without simulcast.
    pub(super) layers: Vec<Rid>,
    /// A viewer needs a keyframe that could not be asked for yet (no packets
    /// from the sender so far, or asked too recently).
    keyframe_wanted: bool,
    last_keyframe_request: Option<Instant>,
}

/// Where a forwarded track is in its negotiation with the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutState {
    ToOpen,
    Negotiating(Mid),
    Open(Mid),
    ToStop(Mid),
    NegotiatingStop(Mid),
}

/// Another participant's track, forwarded to this one.
#[derive(Debug)]
pub(super) struct TrackOut {
    pub(super) origin: ParticipantKey,
    pub(super) origin_mid: Mid,
    pub(super) kind: MediaKind,
    /// The simulcast layer this viewer gets (`None`: the sender has one).
    pub(super) layer: Option<Rid>,
    pub(super) state: OutState,
    /// The origin left while this track was being offered: stop it after the answer.
    origin_gone: bool,
}

/// What polling a participant produced that concerns the others.
#[derive(Debug)]
pub(super) enum Happening {
    /// It publishes a new track.
    TrackAdded(Mid),
    /// A media frame to forward.
    Media(Box<MediaData>),
    /// It asks for a keyframe on a track it views.
    KeyframeWanted(Mid, KeyframeRequestKind),
}

#[derive(Debug)]
pub(super) struct Participant {
    pub(super) key: ParticipantKey,
    pub(super) room: RoomKey,
    pub(super) rtc: Rtc,
    pub(super) tracks_in: Vec<TrackIn>,
    pub(super) tracks_out: Vec<TrackOut>,
    pending: Option<SdpPendingOffer>,
    connected: bool,
    /// When a datagram of this participant last arrived (or it joined).
    pub(super) last_heard: Instant,
    pub(super) next_timeout: Instant,
    /// Input or writes happened since it was last polled.
    pub(super) dirty: bool,
}

impl Participant {
    pub(super) fn new(key: ParticipantKey, room: RoomKey, rtc: Rtc, now: Instant) -> Participant {
        Participant {
            key,
            room,
            rtc,
            tracks_in: Vec::new(),
            tracks_out: Vec::new(),
            pending: None,
            connected: false,
            last_heard: now,
            next_timeout: now,
            dirty: true,
        }
    }

    pub(super) fn is_alive(&self) -> bool {
        self.rtc.is_alive()
    }

    /// Forwards another participant's track to this one (after renegotiation).
    pub(super) fn add_track_out(
        &mut self,
        origin: ParticipantKey,
        origin_mid: Mid,
        kind: MediaKind,
        layer: Option<Rid>,
    ) {
        self.tracks_out.push(TrackOut {
            origin,
            origin_mid,
            kind,
            layer,
            state: OutState::ToOpen,
            origin_gone: false,
        });
        self.dirty = true;
    }

    /// Stops forwarding every track of `origin`.
    pub(super) fn remove_origin(&mut self, origin: &ParticipantKey) {
        self.tracks_out.retain_mut(|t| {
            if &t.origin != origin {
                return true;
            }
            match t.state {
                OutState::ToOpen => return false,
                OutState::Negotiating(_) => t.origin_gone = true,
                OutState::Open(mid) => t.state = OutState::ToStop(mid),
                OutState::ToStop(_) | OutState::NegotiatingStop(_) => {}
            }
            true
        });
        self.dirty = true;
    }

    /// The server's next offer, when tracks wait to be added or stopped and
    /// no offer is out. Offers wait for the connection, so the client has
    /// surely applied the join answer before it gets one.
    pub(super) fn next_offer(&mut self) -> Option<String> {
        if !self.connected || self.pending.is_some() {
            return None;
        }
        let mut change = self.rtc.sdp_api();
        for track in &mut self.tracks_out {
            match track.state {
                OutState::ToOpen => {
                    let mid = change.add_media(
                        track.kind,
                        Direction::SendOnly,
                        Some(track.origin.0.clone()),
                        None,
                        None,
                    );
                    track.state = OutState::Negotiating(mid);
                }
                OutState::ToStop(mid) => {
                    change.stop_media(mid);
                    track.state = OutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return None;
        }
        let (offer, pending) = change.apply()?;
        self.pending = Some(pending);
        Some(offer.to_sdp_string())
    }

    /// Applies the client's answer to the pending offer; returns the tracks
    /// that just opened (their senders owe this viewer a keyframe).
    pub(super) fn accept_answer(
        &mut self,
        sdp: &str,
    ) -> Result<Vec<(ParticipantKey, Mid)>, super::SfuError> {
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| super::SfuError::BadSdp(e.to_string()))?;
        let pending = self
            .pending
            .take()
            .ok_or_else(|| super::SfuError::NoOfferPending(self.key.clone()))?;
        if let Err(e) = self.rtc.sdp_api().accept_answer(pending, answer) {
            // The offer is spent either way; what it carried is offered again.
            self.rollback_negotiation();
            return Err(super::SfuError::BadSdp(e.to_string()));
        }
        let mut opened = Vec::new();
        for track in &mut self.tracks_out {
            if let OutState::Negotiating(mid) = track.state {
                if track.origin_gone {
                    track.state = OutState::ToStop(mid);
                } else {
                    track.state = OutState::Open(mid);
                    if track.kind == MediaKind::Video {
                        opened.push((track.origin.clone(), track.origin_mid));
                    }
                }
            }
        }
        self.tracks_out
            .retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
        self.dirty = true;
        Ok(opened)
    }

    /// Accepts a client's offer (the first, or a later change); returns the answer.
    pub(super) fn accept_offer(&mut self, sdp: &str) -> Result<String, super::SfuError> {
        if self.pending.is_some() {
            return Err(super::SfuError::OfferInFlight(self.key.clone()));
        }
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| super::SfuError::BadSdp(e.to_string()))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| super::SfuError::BadSdp(e.to_string()))?;
        self.dirty = true;
        Ok(answer.to_sdp_string())
    }

    fn rollback_negotiation(&mut self) {
        for track in &mut self.tracks_out {
            match track.state {
                OutState::Negotiating(_) if track.origin_gone => {}
                OutState::Negotiating(_) => track.state = OutState::ToOpen,
                OutState::NegotiatingStop(mid) => track.state = OutState::ToStop(mid),
                _ => {}
            }
        }
        self.tracks_out
            .retain(|t| !(t.origin_gone && matches!(t.state, OutState::Negotiating(_))));
    }

    /// Polls the `Rtc` until it only has a timeout left: datagrams go to
    /// `send`, happenings for the others to `out`.
    pub(super) fn poll(&mut self, send: &mut impl FnMut(Transmit), out: &mut Vec<Happening>) {
        self.dirty = false;
        loop {
            if !self.rtc.is_alive() {
                return;
            }
            let output = match self.rtc.poll_output() {
                Ok(output) => output,
                Err(e) => {
                    tracing::info!(participant = %self.key, error = %e, "media connection failed");
                    self.rtc.disconnect();
                    return;
                }
            };
            match output {
                Output::Timeout(t) => {
                    self.next_timeout = t;
                    return;
                }
                Output::Transmit(t) => send(t),
                Output::Event(event) => self.on_event(event, out),
            }
        }
    }

    fn on_event(&mut self, event: Event, out: &mut Vec<Happening>) {
        match event {
            Event::Connected => self.connected = true,
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.rtc.disconnect();
            }
            Event::MediaAdded(added) => {
                let ours = self.tracks_out.iter().any(|t| t.mid() == Some(added.mid));
                if added.direction.is_receiving() && !ours {
                    let layers = added.simulcast.as_ref().map(layers).unwrap_or_default();
                    self.tracks_in.push(TrackIn {
                        mid: added.mid,
                        kind: added.kind,
                        layers,
                        keyframe_wanted: added.kind == MediaKind::Video,
                        last_keyframe_request: None,
                    });
                    out.push(Happening::TrackAdded(added.mid));
                }
            }
            Event::MediaData(data) => {
                if !data.contiguous {
                    self.want_keyframe(data.mid, KeyframeRequestKind::Pli);
                } else if self
                    .tracks_in
                    .iter()
                    .any(|t| t.mid == data.mid && t.keyframe_wanted)
                {
                    self.ask_keyframe(data.mid, KeyframeRequestKind::Pli);
                }
                out.push(Happening::Media(Box::new(data)));
            }
            Event::KeyframeRequest(req) => out.push(Happening::KeyframeWanted(req.mid, req.kind)),
            _ => {}
        }
    }

    /// Notes that a viewer needs a keyframe of `mid`, and asks now if allowed.
    pub(super) fn want_keyframe(&mut self, mid: Mid, kind: KeyframeRequestKind) {
        if let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) {
            track.keyframe_wanted = true;
            self.ask_keyframe(mid, kind);
        }
    }

    fn ask_keyframe(&mut self, mid: Mid, kind: KeyframeRequestKind) {
        let now = Instant::now();
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        if track
            .last_keyframe_request
            .is_some_and(|t| now.duration_since(t) < KEYFRAME_SPACING)
        {
            return;
        }
        let Some(mut writer) = self.rtc.writer(mid) else {
            return;
        };
        let kind = if writer.is_request_keyframe_possible(kind) {
            kind
        } else {
            KeyframeRequestKind::Fir
        };
        // Every layer is asked: viewers of any of them may be waiting.
        let rids: Vec<Option<Rid>> = if track.layers.is_empty() {
            vec![None]
        } else {
            track.layers.iter().copied().map(Some).collect()
        };
        let mut asked = false;
        for rid in rids {
            asked |= writer.request_keyframe(rid, kind).is_ok();
        }
        // Fails while the sender's stream is not known yet (no packet so
        // far); it stays wanted and is asked again on the next packet.
        if asked {
            track.keyframe_wanted = false;
            track.last_keyframe_request = Some(now);
            self.dirty = true;
        }
    }

    /// Writes another participant's frame to this viewer, if it views that track.
    pub(super) fn forward(&mut self, origin: &ParticipantKey, data: &MediaData) -> bool {
        // Only the viewer's layer of a simulcast track: the layers are
        // different encodings and must not be mixed on one stream.
        let Some(mid) = self.tracks_out.iter().find_map(|t| match t.state {
            OutState::Open(mid)
                if &t.origin == origin
                    && t.origin_mid == data.mid
                    && (data.rid.is_none() || data.rid == t.layer) =>
            {
                Some(mid)
            }
            _ => None,
        }) else {
            return false;
        };
        let Some(writer) = self.rtc.writer(mid) else {
            return false;
        };
        let Some(pt) = writer.match_params(data.params) else {
            return false;
        };
        self.dirty = true;
        match writer.write(pt, data.network_time, data.time, data.data.clone()) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(participant = %self.key, error = %e, "cannot forward a frame");
                false
            }
        }
    }

    /// The origin track a viewer's `mid` forwards.
    pub(super) fn viewed_origin(&self, mid: Mid) -> Option<(ParticipantKey, Mid)> {
        self.tracks_out
            .iter()
            .find(|t| t.state == OutState::Open(mid))
            .map(|t| (t.origin.clone(), t.origin_mid))
    }

    /// Switches the layer this viewer gets of `origin`'s simulcast video;
    /// false when it views no such track.
    pub(super) fn select_layer(&mut self, origin: &ParticipantKey, rid: Rid) -> bool {
        let mut found = false;
        for track in &mut self.tracks_out {
            if &track.origin == origin && track.layer.is_some() {
                track.layer = Some(rid);
                found = true;
            }
        }
        found
    }

    pub(super) fn mark_heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.dirty = true;
    }

    pub(super) fn is_silent(&self, now: Instant, lost_after: Duration) -> bool {
        now.duration_since(self.last_heard) > lost_after
    }
}

/// The rids a sender's simulcast offers, in its SDP's order (seen from the
/// server's side they are the receive layers; either list is accepted).
fn layers(simulcast: &Simulcast) -> Vec<Rid> {
    let list = if simulcast.recv.is_empty() {
        &simulcast.send
    } else {
        &simulcast.recv
    };
    list.iter().map(|l| l.rid).collect()
}

impl TrackIn {
    /// The layer a new viewer starts with: the first one listed.
    pub(super) fn default_layer(&self) -> Option<Rid> {
        self.layers.first().copied()
    }
}

impl TrackOut {
    fn mid(&self) -> Option<Mid> {
        match self.state {
            OutState::ToOpen => None,
            OutState::Negotiating(m)
            | OutState::Open(m)
            | OutState::ToStop(m)
            | OutState::NegotiatingStop(m) => Some(m),
        }
    }
}
