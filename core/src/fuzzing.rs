//! The checks the fuzz target and the corpus replay test both run on one input.

use crate::packets::Packet;
use crate::packets::broadcast::*;
use crate::packets::directory::*;
use crate::packets::groups::*;
use crate::packets::login::*;
use crate::packets::message::*;
use crate::packets::profile::*;
use crate::packets::sync::*;
use crate::{Encoding, ErrorReply, Frame};
use std::fmt::Debug;

/// Decodes `text` as a frame and as every packet. Panics only if a decoded
/// packet does not survive being encoded and decoded again: a codec bug.
pub fn check_frame(text: &str) {
    let Ok(frame) = Frame::decode(text) else {
        return;
    };
    let _ = frame.field_names();
    let _ = StreamRequest::from_frame(&frame);
    let _ = SyncRequest::from_frame(&frame);
    round_trip::<Login>(&frame);
    round_trip::<Resume>(&frame);
    round_trip::<LoginReply>(&frame);
    round_trip::<StreamAck>(&frame);
    round_trip::<Push>(&frame);
    round_trip::<SendText>(&frame);
    round_trip::<SendFile>(&frame);
    round_trip::<SendAck>(&frame);
    round_trip::<CatchUp>(&frame);
    round_trip::<History>(&frame);
    round_trip::<MessagePage>(&frame);
    round_trip::<Directory>(&frame);
    round_trip::<PasswordUpdate>(&frame);
    round_trip::<SignatureUpdate>(&frame);
    round_trip::<SignatureQuery>(&frame);
    round_trip::<Signatures>(&frame);
    round_trip::<PresenceUpdate>(&frame);
    round_trip::<Groups>(&frame);
    round_trip::<GroupCreate>(&frame);
    round_trip::<GroupRename>(&frame);
    round_trip::<GroupMembersChange>(&frame);
    round_trip::<SendBroadcast>(&frame);
    round_trip::<BroadcastQuery>(&frame);
    round_trip::<BroadcastPage>(&frame);
    round_trip::<ErrorReply>(&frame);
}

fn round_trip<T: Packet + PartialEq + Debug>(frame: &Frame) {
    let Ok(packet) = frame.packet::<T>() else {
        return;
    };
    for encoding in [Encoding::Base64, Encoding::Plain] {
        let text = Frame::encode(encoding, &packet).expect("a decoded packet encodes");
        let again = Frame::decode(&text)
            .and_then(|f| f.packet::<T>())
            .expect("an encoded packet decodes");
        assert_eq!(again, packet, "{} changed in a round trip", T::NAME);
    }
}
