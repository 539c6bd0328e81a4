//! 50888 on the simulated server: catch-up and history.

use super::Net;
use penpen_core::packets::message::{Message, Sender};
use penpen_core::packets::sync::{MessagePage, SyncRequest};
use penpen_core::{Frame, Peer, Seq, Service, State, UserId};
use std::collections::BTreeMap;

impl Net {
    /// 50888: the catch-up of messages and history pages.
    pub(super) fn sync_request(&mut self, index: usize, me: UserId, frame: &Frame) {
        let service = Service::SyncMessages;
        match SyncRequest::from_frame(frame) {
            Ok(SyncRequest::CatchUp(catch_up)) => {
                let limit = catch_up.limit.unwrap_or(50) as usize;
                let all: Vec<Message> = self
                    .received_by(&me)
                    .into_iter()
                    .filter(|m| m.seq > Some(catch_up.since))
                    .collect();
                let more = all.len() > limit;
                let page = MessagePage {
                    state: State::SUCCESS,
                    messages: all.into_iter().take(limit).collect(),
                    more,
                };
                self.reply_packet(index, service, &page);
            }
            Ok(SyncRequest::Reads(query)) => self.reads_page(index, &me, query),
            Ok(SyncRequest::Search(_)) => {
                self.refuse(index, service, State::UNAVAILABLE, "not simulated yet")
            }
            Ok(SyncRequest::History(history)) => {
                let limit = history.limit.unwrap_or(50) as usize;
                let seqs: BTreeMap<u64, u64> = self.server.accounts[&me]
                    .inbox
                    .iter()
                    .map(|(seq, id)| (*id, *seq))
                    .collect();
                let mut older: Vec<Message> = self
                    .server
                    .messages
                    .values()
                    .filter(|m| m.conversation(&me) == history.target)
                    .filter(|m| {
                        history.target.group().is_some()
                            || m.to == Peer::User(me.clone())
                            || m.from == Sender::User(me.clone())
                    })
                    .filter(|m| history.before.is_none_or(|b| m.id < b))
                    .map(|m| Message {
                        seq: seqs.get(&m.id.0).map(|s| Seq(*s)),
                        ..m.clone()
                    })
                    .collect();
                let more = older.len() > limit;
                let start = older.len().saturating_sub(limit);
                let page = MessagePage {
                    state: State::SUCCESS,
                    messages: older.split_off(start),
                    more,
                };
                self.reply_packet(index, service, &page);
            }
            Err(e) => self.refuse(index, service, State::BAD_PACKET, &e.to_string()),
        }
    }
}
