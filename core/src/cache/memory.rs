//! The cache in memory: for tests, native tools, and the reference the
//! conformance suite holds every other engine to.

use super::{
    AccountMeta, Cache, CacheBatch, CacheError, CachedBroadcast, CachedMessage, Conversation,
    OutboxEntry, Snapshot,
};
use crate::ids::{ClientMsgId, MessageId, Peer};
use crate::packets::directory::Directory;
use crate::packets::groups::Group;
use crate::packets::message::Message;
use crate::sorted_map::SortedMap;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A cache that lives as long as the value.
#[derive(Debug, Default)]
pub struct MemoryCache {
    state: RefCell<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    meta: Option<AccountMeta>,
    /// By conversation, then by id: the timeline order.
    messages: SortedMap<Peer, BTreeMap<MessageId, Message>>,
    outbox: SortedMap<ClientMsgId, OutboxEntry>,
    conversations: SortedMap<Peer, Conversation>,
    directory: Option<Directory>,
    groups: Option<Vec<Group>>,
    broadcasts: Vec<CachedBroadcast>,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> MemoryCache {
        MemoryCache::default()
    }
}

impl Cache for MemoryCache {
    async fn load(&self) -> Result<Snapshot, CacheError> {
        let state = self.state.borrow();
        Ok(Snapshot {
            meta: state.meta.clone(),
            conversations: state.conversations.values().cloned().collect(),
            outbox: state.outbox.values().cloned().collect(),
            directory: state.directory.clone(),
            groups: state.groups.clone(),
            broadcasts: state.broadcasts.clone(),
        })
    }

    async fn apply(&self, batch: &CacheBatch) -> Result<(), CacheError> {
        let mut state = self.state.borrow_mut();
        if let Some(meta) = &batch.meta {
            state.meta = Some(meta.clone());
        }
        // Clearing comes first so a batch can clear a conversation and file a
        // new message in it.
        for peer in &batch.clear_messages {
            state.messages.remove(peer);
        }
        for cached in &batch.messages {
            state
                .messages
                .get_or_insert_with(cached.conversation.clone(), BTreeMap::new)
                .insert(cached.message.id, cached.message.clone());
        }
        for mark in &batch.recalls {
            // Only the original and later replies can be touched.
            if let Some(messages) = state.messages.get_mut(&mark.conversation) {
                for message in messages.range_mut(mark.id..).map(|(_, m)| m) {
                    message.take_recall(mark.id, &mark.recalled);
                }
            }
        }
        for cid in &batch.outbox_delete {
            state.outbox.remove(cid);
        }
        for entry in &batch.outbox_put {
            state.outbox.insert(entry.cid.clone(), entry.clone());
        }
        for conversation in &batch.conversations {
            state
                .conversations
                .insert(conversation.peer.clone(), conversation.clone());
        }
        if let Some(directory) = &batch.directory {
            state.directory = Some(directory.clone());
        }
        if let Some(broadcasts) = &batch.broadcasts {
            state.broadcasts = broadcasts.clone();
        }
        if let Some(groups) = &batch.groups {
            state.groups = Some(groups.clone());
        }
        Ok(())
    }

    async fn timeline(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        let state = self.state.borrow();
        let Some(messages) = state.messages.get(conversation) else {
            return Ok(Vec::new());
        };
        let older = match before {
            Some(before) => messages.range(..before),
            None => messages.range(..),
        };
        let mut page: Vec<Message> = older.rev().take(limit).map(|(_, m)| m.clone()).collect();
        page.reverse();
        Ok(page)
    }

    async fn message_count(&self) -> Result<u64, CacheError> {
        let state = self.state.borrow();
        Ok(state.messages.values().map(|m| m.len() as u64).sum())
    }

    async fn all_messages(&self) -> Result<Vec<CachedMessage>, CacheError> {
        let state = self.state.borrow();
        Ok(state
            .messages
            .iter()
            .flat_map(|(conversation, messages)| {
                messages.values().map(|message| CachedMessage {
                    conversation: conversation.clone(),
                    message: message.clone(),
                })
            })
            .collect())
    }
}
