//! A call's quality from the peer connection's statistics (`getStats()`):
//! what arrives from the other party, the round trip and the route of the
//! connection in use.

use super::{Quality, QualityLevel, Route};
use wasm_bindgen::JsValue;

/// The cumulative counts of the previous reading: loss is judged over the
/// interval between two readings, not over the whole call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets received, audio and video.
    pub received: u64,
    /// Packets lost, audio and video.
    pub lost: u64,
}

/// Loss above this share of the interval's packets, in percent, makes a call
/// fair; above [`POOR_LOSS_PERCENT`] poor.
const FAIR_LOSS_PERCENT: f32 = 2.0;
const POOR_LOSS_PERCENT: f32 = 10.0;
/// Round trips above these make a call fair or poor.
const FAIR_RTT_MS: u32 = 300;
const POOR_RTT_MS: u32 = 800;

/// Reads an `RTCStatsReport` (a map of id to stats object).
pub fn read(report: &JsValue, previous: Counters) -> (Quality, Counters) {
    let entries = values(report);
    let mut quality = Quality {
        level: QualityLevel::Good,
        rtt_ms: None,
        loss_percent: 0.0,
        video_frames_decoded: 0,
        audio_packets_received: 0,
        video_size: None,
        route: Route::Unknown,
    };
    let mut counters = Counters::default();
    let inbound = entries
        .iter()
        .filter(|s| text(s, "type").as_deref() == Some("inbound-rtp"));
    for stats in inbound {
        let received = number(stats, "packetsReceived").unwrap_or(0.0) as u64;
        // Negative when duplicates arrived: no loss then.
        let lost = number(stats, "packetsLost").unwrap_or(0.0).max(0.0) as u64;
        counters.received += received;
        counters.lost += lost;
        match text(stats, "kind").as_deref() {
            Some("video") => {
                quality.video_frames_decoded +=
                    number(stats, "framesDecoded").unwrap_or(0.0) as u64;
                if let (Some(w), Some(h)) =
                    (number(stats, "frameWidth"), number(stats, "frameHeight"))
                {
                    quality.video_size = Some((w as u32, h as u32));
                }
            }
            Some("audio") => quality.audio_packets_received += received,
            _ => {}
        }
    }
    let by_id = |id: &str| {
        entries
            .iter()
            .find(|s| text(s, "id").as_deref() == Some(id))
    };
    // The pair in use: the transport names it; a browser that does not
    // marks it nominated.
    let pair = entries
        .iter()
        .find_map(|s| {
            (text(s, "type").as_deref() == Some("transport"))
                .then(|| text(s, "selectedCandidatePairId"))
                .flatten()
        })
        .and_then(|id| by_id(&id))
        .or_else(|| {
            entries.iter().find(|s| {
                text(s, "type").as_deref() == Some("candidate-pair")
                    && text(s, "state").as_deref() == Some("succeeded")
                    && flag(s, "nominated")
            })
        });
    if let Some(pair) = pair {
        if let Some(rtt) = number(pair, "currentRoundTripTime") {
            quality.rtt_ms = Some((rtt * 1000.0) as u32);
        }
        let candidate = text(pair, "localCandidateId").and_then(|id| by_id(&id));
        quality.route = match candidate.and_then(|c| text(c, "candidateType")).as_deref() {
            Some("host") => Route::Host,
            Some("srflx" | "prflx") => Route::Reflexive,
            Some("relay") => Route::Relay,
            _ => Route::Unknown,
        };
    }
    let received = counters.received.saturating_sub(previous.received);
    let lost = counters.lost.saturating_sub(previous.lost);
    if received + lost > 0 {
        quality.loss_percent = lost as f32 * 100.0 / (received + lost) as f32;
    }
    quality.level = level(quality.loss_percent, quality.rtt_ms);
    (quality, counters)
}

/// The summary of a loss share and a round trip.
pub fn level(loss_percent: f32, rtt_ms: Option<u32>) -> QualityLevel {
    let rtt = rtt_ms.unwrap_or(0);
    if loss_percent > POOR_LOSS_PERCENT || rtt > POOR_RTT_MS {
        QualityLevel::Poor
    } else if loss_percent > FAIR_LOSS_PERCENT || rtt > FAIR_RTT_MS {
        QualityLevel::Fair
    } else {
        QualityLevel::Good
    }
}

/// The stats objects of a report (a JS `Map`-like with `values()`).
pub(crate) fn values(report: &JsValue) -> Vec<JsValue> {
    let Ok(values) = js_sys::Reflect::get(report, &"values".into()) else {
        return Vec::new();
    };
    let Some(values) = wasm_bindgen::JsCast::dyn_ref::<js_sys::Function>(&values) else {
        return Vec::new();
    };
    let Ok(iterator) = values.call0(report) else {
        return Vec::new();
    };
    match js_sys::try_iter(&iterator) {
        Ok(Some(iter)) => iter.filter_map(Result::ok).collect(),
        _ => Vec::new(),
    }
}

fn field(stats: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(stats, &name.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub(crate) fn text(stats: &JsValue, name: &str) -> Option<String> {
    field(stats, name)?.as_string()
}

pub(crate) fn number(stats: &JsValue, name: &str) -> Option<f64> {
    field(stats, name)?.as_f64()
}

fn flag(stats: &JsValue, name: &str) -> bool {
    field(stats, name)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_round_trip_make_the_level() {
        assert_eq!(level(0.0, Some(40)), QualityLevel::Good);
        assert_eq!(level(0.0, None), QualityLevel::Good);
        assert_eq!(level(3.0, Some(40)), QualityLevel::Fair);
        assert_eq!(level(0.5, Some(400)), QualityLevel::Fair);
        assert_eq!(level(12.0, Some(40)), QualityLevel::Poor);
        assert_eq!(level(0.0, Some(900)), QualityLevel::Poor);
    }
}
