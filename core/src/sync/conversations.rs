//! The conversation list and the user's edits to it (read, unread, pin,
//! draft, delete), and what is on screen: a message to the conversation in
//! view counts as read only while the app is visible.

use super::{Engine, Event};
use crate::cache::Conversation;
use crate::ids::Peer;
use crate::sorted_map::SortedMap;

/// The conversation rows, and what the user is looking at.
#[derive(Debug)]
pub(super) struct Conversations {
    rows: SortedMap<Peer, Conversation>,
    pub(super) in_view: Option<Peer>,
    pub(super) visible: bool,
}

impl Conversations {
    pub(super) fn new(rows: Vec<Conversation>) -> Conversations {
        Conversations {
            rows: rows.into_iter().map(|c| (c.peer.clone(), c)).collect(),
            in_view: None,
            visible: true,
        }
    }

    pub(super) fn rows(&self) -> impl Iterator<Item = &Conversation> {
        self.rows.values()
    }

    pub(super) fn get(&self, peer: &Peer) -> Option<&Conversation> {
        self.rows.get(peer)
    }

    /// The row of `peer`, made if there is none.
    pub(super) fn row_mut(&mut self, peer: &Peer) -> &mut Conversation {
        self.rows
            .get_or_insert_with(peer.clone(), || Conversation::new(peer.clone()))
    }

    /// Whether the user is reading `peer` right now.
    pub(super) fn reading(&self, peer: &Peer) -> bool {
        self.visible && self.in_view.as_ref() == Some(peer)
    }
}

impl Engine {
    /// Changes a conversation's row; if it changed, it is written and the
    /// list told.
    pub(super) fn edit_conversation(&mut self, peer: &Peer, edit: impl FnOnce(&mut Conversation)) {
        let conversation = self.conversations.row_mut(peer);
        let before = conversation.clone();
        edit(conversation);
        if *conversation != before {
            let row = conversation.clone();
            self.writes.put_conversation(row);
            self.flush();
            self.notify(Event::ConversationsChanged);
        }
    }
}
