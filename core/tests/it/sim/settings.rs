//! 32888 on the simulated server: conversation settings.

use super::Net;
use penpen_core::packets::Done;
use penpen_core::packets::login::Push;
use penpen_core::packets::settings::{Conversations, MutedList, SettingsRequest};
use penpen_core::{Encoding, Frame, Service, State, UserId};

impl Net {
    /// 32888: a mute (pushed to every live session of the user) or the list.
    pub(super) fn settings_request(&mut self, index: usize, me: &UserId, frame: &Frame) {
        let service = Service::ConversationSettings;
        match SettingsRequest::from_frame(frame) {
            Ok(SettingsRequest::Mute(mute)) => {
                let set = self.server.muted.entry(me.clone()).or_default();
                if mute.muted {
                    set.insert(mute.target.clone());
                } else {
                    set.remove(&mute.target);
                }
                self.reply_packet(index, service, &Done::new());
                let push =
                    Frame::encode(Encoding::Base64, &Push::Conversation { conversation: mute })
                        .expect("encode");
                self.push_live(me, &push);
            }
            Ok(SettingsRequest::Receipts(setting)) => {
                self.set_receipts(index, me, setting.receipts)
            }
            Ok(SettingsRequest::List(_)) => {
                let muted = self.server.muted.get(me).cloned().unwrap_or_default();
                self.reply_packet(
                    index,
                    service,
                    &MutedList {
                        state: State::SUCCESS,
                        muted: Conversations(muted.into_iter().collect()),
                        receipts: Some(self.shares_receipts(me)),
                    },
                );
            }
            Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
        }
    }
}
