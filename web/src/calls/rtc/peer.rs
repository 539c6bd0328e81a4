//! The peer connection: created with the ICE servers and policy, offers
//! and answers (rolling back our offer when the other party's wins), the
//! candidates both ways, and the tracks the other party sends.

use super::media::{describe, stream_of, tracks};
use super::{Events, RtcEvent, State, report, send};
use crate::calls::MediaProblem;
use penpen_core::call::RtcReport;
use penpen_core::packets::call::{IceCandidate, IceServer};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceServer, RtcIceTransportPolicy,
    RtcOfferOptions, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState,
};

/// A peer connection and the handlers the browser calls on it.
pub(super) struct Peer {
    pub(super) connection: RtcPeerConnection,
    pub(super) epoch: u64,
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_state: Closure<dyn FnMut()>,
    _on_track: Closure<dyn FnMut()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The handlers must not run once their closures are gone.
        self.connection.set_onicecandidate(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_ontrack(None);
        self.connection.close();
    }
}

pub(super) fn create_peer(
    ice_servers: &[IceServer],
    relay_only: bool,
    epoch: u64,
    state: &Rc<RefCell<State>>,
    events: &Events,
) -> Result<Peer, MediaProblem> {
    let connection =
        RtcPeerConnection::new_with_configuration(&configuration(ice_servers, relay_only))
            .map_err(|e| MediaProblem::Failed(describe(&e)))?;

    let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new({
        let events = events.clone();
        move |event: RtcPeerConnectionIceEvent| {
            // `null` ends the gathering: §12 has no message for it.
            if let Some(candidate) = event.candidate()
                && !candidate.candidate().is_empty()
            {
                let candidate = IceCandidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_mline_index: candidate.sdp_m_line_index(),
                };
                report(&events, Some(epoch), RtcReport::LocalCandidate(candidate));
            }
        }
    });
    let on_state = watch_state(&connection, {
        let events = events.clone();
        move |link| {
            let state = match link {
                LinkState::Connected => RtcReport::Connected,
                LinkState::Disconnected => RtcReport::Disconnected,
                LinkState::Failed => RtcReport::Failed,
            };
            report(&events, Some(epoch), state);
        }
    });
    let on_track = Closure::<dyn FnMut()>::new({
        let (events, state) = (events.clone(), state.clone());
        move || remote_tracks_changed(&state, &events)
    });
    connection.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

    if let Some(local) = &state.borrow().local {
        for track in tracks(&local.get_tracks()) {
            connection.add_track(&track, local, &js_sys::Array::new());
        }
    }
    Ok(Peer {
        connection,
        epoch,
        _on_candidate: on_candidate,
        _on_state: on_state,
        _on_track: on_track,
    })
}

/// What a connection state change means for a call or a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// Media flows.
    Connected,
    /// Lost for now; it may recover alone.
    Disconnected,
    /// Lost for good.
    Failed,
}

/// Calls `tell` whenever `connection` becomes connected, disconnected or
/// failed; the handler set on it stays alive as long as the closure.
pub(crate) fn watch_state(
    connection: &RtcPeerConnection,
    tell: impl Fn(LinkState) + 'static,
) -> Closure<dyn FnMut()> {
    let on_state = Closure::<dyn FnMut()>::new({
        let connection = connection.clone();
        move || {
            let state = match connection.connection_state() {
                RtcPeerConnectionState::Connected => LinkState::Connected,
                RtcPeerConnectionState::Disconnected => LinkState::Disconnected,
                RtcPeerConnectionState::Failed => LinkState::Failed,
                _ => return,
            };
            tell(state);
        }
    });
    connection.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    on_state
}

/// The peer connection's configuration: the ICE servers of the
/// `ice_servers` reply, and only the relays when the policy says so (a call's
/// and a meeting's alike).
pub(crate) fn configuration(ice_servers: &[IceServer], relay_only: bool) -> RtcConfiguration {
    let configuration = RtcConfiguration::new();
    let servers = js_sys::Array::new();
    for server in ice_servers {
        let entry = RtcIceServer::new();
        let urls = js_sys::Array::new();
        for url in &server.urls {
            urls.push(&url.into());
        }
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        servers.push(&entry);
    }
    configuration.set_ice_servers(&servers);
    if relay_only {
        configuration.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    configuration
}

pub(crate) async fn create_offer(
    connection: &RtcPeerConnection,
    ice_restart: bool,
) -> Result<String, MediaProblem> {
    let options = RtcOfferOptions::new();
    options.set_ice_restart(ice_restart);
    let offer = JsFuture::from(connection.create_offer_with_rtc_offer_options(&options))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    set_local(connection, offer).await
}

pub(crate) async fn create_answer(
    connection: &RtcPeerConnection,
    offer: &str,
) -> Result<String, MediaProblem> {
    if connection.signaling_state() == RtcSignalingState::HaveLocalOffer {
        // A renegotiation collided with the other party's and theirs wins
        // (the machine decided): take ours back first.
        let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
        JsFuture::from(connection.set_local_description(&rollback))
            .await
            .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    }
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    description.set_sdp(offer);
    JsFuture::from(connection.set_remote_description(&description))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    let answer = JsFuture::from(connection.create_answer())
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    set_local(connection, answer).await
}

/// Sets a created description as the local one; its SDP.
async fn set_local(
    connection: &RtcPeerConnection,
    created: JsValue,
) -> Result<String, MediaProblem> {
    let description: RtcSessionDescriptionInit = created.unchecked_into();
    JsFuture::from(connection.set_local_description(&description))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    Ok(description.get_sdp().unwrap_or_default())
}

/// Sets the other party's answer to our offer.
pub(crate) async fn apply_answer(
    connection: &RtcPeerConnection,
    answer: &str,
) -> Result<(), MediaProblem> {
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    description.set_sdp(answer);
    JsFuture::from(connection.set_remote_description(&description))
        .await
        .map(drop)
        .map_err(|e| MediaProblem::Failed(describe(&e)))
}

/// Adds a candidate of the other party. One the browser cannot use
/// (another network's, a malformed one) costs that path only, not the call.
pub(super) async fn add_candidate(connection: &RtcPeerConnection, candidate: &IceCandidate) {
    let init = candidate_init(candidate);
    let added = connection.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
    let _ = JsFuture::from(added).await;
}

fn candidate_init(candidate: &IceCandidate) -> RtcIceCandidateInit {
    let init = RtcIceCandidateInit::new(&candidate.candidate);
    init.set_sdp_mid(candidate.sdp_mid.as_deref());
    init.set_sdp_m_line_index(candidate.sdp_mline_index);
    init
}

/// Gathers what the other party sends now into the remote stream: a new
/// stream when the set of tracks changed (a camera turned on or off).
pub(super) fn remote_tracks_changed(state: &Rc<RefCell<State>>, events: &Events) {
    let mut state = state.borrow_mut();
    let Some(peer) = &state.peer else { return };
    let receiving: Vec<MediaStreamTrack> = peer
        .connection
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .filter(|t| {
            matches!(
                t.current_direction(),
                Some(RtcRtpTransceiverDirection::Sendrecv | RtcRtpTransceiverDirection::Recvonly)
            )
        })
        .map(|t| t.receiver().track())
        .collect();
    let ids = |tracks: &[MediaStreamTrack]| {
        let mut ids: Vec<String> = tracks.iter().map(|t| t.id()).collect();
        ids.sort();
        ids
    };
    let held = state
        .remote
        .as_ref()
        .map(|s| tracks(&s.get_tracks()))
        .unwrap_or_default();
    if ids(&held) != ids(&receiving) {
        state.remote = stream_of(&receiving);
        send(events, RtcEvent::Changed);
    }
}
