//! 50888 on the simulated server: catch-up, history and search (by brute
//! force: every message the caller may see, checked with `is_hit`).

use super::Net;
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::packets::sync::{MessagePage, Search, SearchPage, SyncRequest};
use penpen_core::search_terms::is_hit;
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
            Ok(SyncRequest::Search(search)) => self.search(index, &me, &search),
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

impl Net {
    /// Whether `me` may see `message` (§17: their 1:1 conversations, their
    /// groups, a group they left up to the last message they could read).
    fn visible_to(&self, me: &UserId, message: &Message) -> bool {
        match &message.to {
            Peer::Group(gid) => {
                self.server.groups.get(gid).is_some_and(|m| m.contains(me))
                    || self
                        .server
                        .left
                        .get(&(*gid, me.clone()))
                        .is_some_and(|last| message.id.0 <= *last)
            }
            Peer::User(to) => to == me || message.from == Sender::User(me.clone()),
        }
    }

    /// The words a search finds a message by: a text's, a file's name.
    fn searchable(message: &Message) -> Option<&str> {
        if message.recalled.is_some() {
            return None;
        }
        match message.kind {
            MessageType::Text | MessageType::GroupText => Some(&message.content),
            kind if kind.is_file() => message.name.as_deref(),
            _ => None,
        }
    }

    /// 50888 `{"search"}`: the caller's hits, newest first, paged.
    fn search(&mut self, index: usize, me: &UserId, search: &Search) {
        let service = Service::SyncMessages;
        match &search.target {
            Some(Peer::User(other)) if !self.server.accounts.contains_key(other) => {
                return self.refuse(index, service, State::UNKNOWN_USER, "no such user");
            }
            Some(Peer::Group(gid)) => {
                let known = self.server.groups.contains_key(gid)
                    || self.server.left.keys().any(|(g, _)| g == gid);
                if !known {
                    return self.refuse(index, service, State::UNKNOWN_GROUP, "no such group");
                }
                let was_in = self.server.groups.get(gid).is_some_and(|m| m.contains(me))
                    || self.server.left.contains_key(&(*gid, me.clone()));
                if !was_in {
                    return self.refuse(
                        index,
                        service,
                        State::NOT_A_MEMBER,
                        "the caller never was in this group",
                    );
                }
            }
            _ => {}
        }
        let limit = search.limit.unwrap_or(20) as usize;
        let mut hits: Vec<Message> = self
            .server
            .messages
            .values()
            .rev()
            .filter(|m| search.before.is_none_or(|b| m.id < b))
            .filter(|m| self.visible_to(me, m))
            .filter(|m| {
                search
                    .target
                    .as_ref()
                    .is_none_or(|t| m.conversation(me) == *t)
            })
            .filter(|m| Self::searchable(m).is_some_and(|text| is_hit(text, &search.search)))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = hits.len() > limit;
        hits.truncate(limit);
        let page = SearchPage {
            state: State::SUCCESS,
            messages: hits,
            more,
        };
        self.reply_packet(index, service, &page);
    }
}
