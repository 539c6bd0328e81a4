//! Conversation settings (32888, PROTOCOL §15.5) and @mentions (§15.4):
//! the muted conversations — listed after every login, changed by the
//! user's own operation or by a push from another session — the
//! "[有人@我]" mark, and which arrivals are worth a sound and a
//! notification.
//!
//! Mute lives in the conversation rows (`Conversation::muted`), so it is
//! cached and drawn with them; a muted conversation without messages yet
//! gets a hidden row, which its first message shows.

use super::links::Request;
use super::{Engine, Event, Wanted, encode, reply_of};
use crate::ids::{Peer, UserId};
use crate::packets::message::Message;
use crate::packets::settings::{MutedList, MutedQuery};
use crate::service::Service;
use crate::sorted_map::SortedSet;

/// Whether the muted list is to be asked for (once per login).
#[derive(Debug)]
pub(super) struct Settings {
    wanted: Wanted,
}

impl Settings {
    pub(super) fn new() -> Settings {
        Settings { wanted: Wanted::No }
    }

    /// A login: the list is asked again (another device may have changed it).
    pub(super) fn logged_in(&mut self) {
        self.wanted = Wanted::Yes;
    }

    /// The socket carrying the list dropped: ask again.
    pub(super) fn ask_again(&mut self) {
        self.wanted = Wanted::Yes;
    }
}

/// Whether `message` @-mentions `me`, by name or as everyone.
pub fn mentions_me(message: &Message, me: &UserId) -> bool {
    message.mention_all || message.mentions.as_ref().is_some_and(|m| m.contains(me))
}

/// Whether a message that arrived in a conversation (`muted` or not) calls
/// for a sound and a notification: someone else's, and the conversation
/// not muted unless the message mentions the user. A recall (§15.1) only
/// takes something back: it never calls for attention.
pub fn alerts(message: &Message, muted: bool, me: &UserId) -> bool {
    message.from.user() != Some(me)
        && !message.kind.is_recall()
        && (!muted || mentions_me(message, me))
}

impl Engine {
    /// Asks for the muted list when it is wanted.
    pub(super) fn ask_settings(&mut self, now: i64) {
        if self.settings.wanted == Wanted::Yes
            && self.request(
                Service::ConversationSettings,
                Request::Muted,
                encode(&MutedQuery {}),
                now,
            )
        {
            self.settings.wanted = Wanted::Asked;
        }
    }

    /// The muted list: every row follows it. A refusal (a server without
    /// 32888) leaves the rows as they were.
    pub(super) fn muted_reply(&mut self, frame: &crate::envelope::Frame) {
        self.settings.wanted = Wanted::No;
        let Ok(list) = reply_of::<MutedList>(frame) else {
            return;
        };
        if list.receipts.is_some() {
            self.receipts.shared = list.receipts;
        }
        let muted: SortedSet<Peer> = list.muted.0.into_iter().collect();
        let mut changed = false;
        let peers: Vec<Peer> = self
            .conversations
            .rows()
            .map(|c| c.peer.clone())
            .chain(muted.iter().cloned())
            .collect();
        for peer in peers {
            changed |= self.put_muted(&peer, muted.contains(&peer));
        }
        if changed {
            self.flush();
            self.notify(Event::ConversationsChanged);
        }
    }

    /// Mutes or unmutes a conversation's row (from the user's operation or
    /// another session's push); written and told when it changed.
    pub(super) fn apply_muted(&mut self, peer: &Peer, muted: bool) {
        if self.put_muted(peer, muted) {
            self.flush();
            self.notify(Event::ConversationsChanged);
        }
    }

    /// Sets a row's mute in the write batch; whether it changed. A muted
    /// conversation with no row gets a hidden one.
    fn put_muted(&mut self, peer: &Peer, muted: bool) -> bool {
        match self.conversations.get(peer) {
            Some(row) if row.muted == muted => return false,
            Some(_) => {}
            None if !muted => return false,
            // Kept out of the list until its first message shows it.
            None => self.conversations.row_mut(peer).hidden = true,
        }
        let row = self.conversations.row_mut(peer);
        row.muted = muted;
        let row = row.clone();
        self.writes.put_conversation(row);
        true
    }

    /// Every muted conversation's row, the hidden ones too (a muted
    /// conversation without messages yet has no place in the list, but its
    /// switch on the group or contact page is on).
    pub fn muted_conversations(&self) -> Vec<&crate::cache::Conversation> {
        self.conversations.rows().filter(|c| c.muted).collect()
    }

    /// Whether a conversation is muted.
    pub fn is_muted(&self, peer: &Peer) -> bool {
        self.conversations.get(peer).is_some_and(|c| c.muted)
    }
}
