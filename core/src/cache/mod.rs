//! The client's local cache: what it holds, and the interface a storage engine
//! implements (IndexedDB in the browser, memory here and in tests).
//!
//! The sync engine never waits on the cache: it hands out [`CacheBatch`]es to
//! write, and the driver writes each in one transaction before it carries on
//! with the engine's next action. Reads (a conversation's timeline, the
//! snapshot at start) go straight to the cache.

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
mod memory;

pub use memory::MemoryCache;

use crate::ids::{ClientMsgId, MessageId, Peer, Seq, UserId};
use crate::packets::broadcast::Broadcast;
use crate::packets::directory::Directory;
use crate::packets::groups::Group;
use crate::packets::message::{Message, MessageType, Quote, Recalled};
use serde::{Deserialize, Serialize};

/// Why the cache could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// There is no local storage at all (IndexedDB missing or disabled).
    #[error("no local storage is available: {0}")]
    Unavailable(String),
    /// The database could not be opened or upgraded.
    #[error("cannot open the local database {name}: {reason}")]
    Open {
        /// The database's name.
        name: String,
        /// What the storage engine said.
        reason: String,
    },
    /// The storage engine refused more data.
    #[error("the browser refused to store more data: {0}")]
    QuotaExceeded(String),
    /// The database went away under the app (evicted, deleted in another tab).
    #[error("the local database was removed: {0}")]
    Evicted(String),
    /// A read or write failed for another reason.
    #[error("the local database refused a {operation}: {reason}")]
    Request {
        /// What was being done.
        operation: &'static str,
        /// What the storage engine said.
        reason: String,
    },
    /// A stored value is not what this build expects.
    #[error("a stored value under {key:?} is unreadable: {reason}")]
    Corrupt {
        /// Its key.
        key: String,
        /// What was wrong.
        reason: String,
    },
}

impl CacheError {
    /// Whether the cache is gone for good and must be rebuilt from the server
    /// (rather than a single write failing).
    pub fn needs_rebuild(&self) -> bool {
        matches!(
            self,
            CacheError::Evicted(_) | CacheError::QuotaExceeded(_) | CacheError::Corrupt { .. }
        )
    }
}

/// The account's sync position and settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMeta {
    /// Whose cache this is.
    pub user: UserId,
    /// Their display name, from the login reply.
    pub name: String,
    /// Whether they may send broadcasts.
    pub broadcaster: bool,
    /// Every message with a seq up to here is in the cache.
    pub synced_seq: Seq,
    /// Seqs above `synced_seq` that are in the cache too (arrived out of order).
    pub seqs_above: Vec<Seq>,
    /// The next outbox order number.
    pub next_outbox_order: u64,
    /// A broadcast sync has finished on this device: what arrives from now
    /// on is news (before, it is the company's history, counted read).
    #[serde(default)]
    pub broadcasts_synced: bool,
    /// Where the 50888 `{"reads"}` catch-up of read marks goes on from
    /// (§16.3): the `version` of the last page applied.
    #[serde(default)]
    pub reads_version: u64,
}

impl AccountMeta {
    /// A new account's position: nothing synced yet.
    pub fn new(user: UserId, name: String, broadcaster: bool) -> AccountMeta {
        AccountMeta {
            user,
            name,
            broadcaster,
            synced_seq: Seq(0),
            seqs_above: Vec::new(),
            next_outbox_order: 1,
            broadcasts_synced: false,
            reads_version: 0,
        }
    }
}

/// A cached message: the message as the server sent it, filed under its
/// conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedMessage {
    /// The conversation it belongs to (the group, or the other person).
    pub conversation: Peer,
    /// The message.
    pub message: Message,
}

/// Where an outbox message stands. While it is on the wire it is still
/// `Queued`: a reload sends it again, and the server's cid check keeps it single.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent, or sent and not yet acknowledged.
    Queued,
    /// The server refused it; it stays until the user retries or deletes it.
    Failed {
        /// The server's state code.
        state: u16,
        /// The server's reason.
        reason: String,
    },
}

/// A message the user wrote that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The client's id for it, sent as `cid`.
    pub cid: ClientMsgId,
    /// Its place among all outbox entries: sends go out in this order.
    pub order: u64,
    /// The conversation.
    pub to: Peer,
    /// What it is (text for now).
    pub kind: MessageType,
    /// The text.
    pub content: String,
    /// The group members a text @-mentions (§15.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<crate::packets::groups::Members>,
    /// A text @-mentions everyone (@所有人, the holder only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_all: bool,
    /// When the user wrote it, by the local clock (ms since the epoch).
    pub created_ts: i64,
    /// Where it stands.
    pub state: OutboxState,
    /// An image's or voice message's file (`content` is then its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<OutboxFile>,
    /// The message a text replies to, as this device saw it (§15.2): its
    /// id goes on the wire, the snapshot shows until the server's copy comes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// A file of any kind uploaded in chunks (28888, §15.6): its name and
    /// size and how far the server has it. The bytes are never here: the
    /// driver keeps them and hands over one chunk at a time
    /// ([`crate::sync::Action::ReadChunk`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<OutboxUpload>,
}

/// A file of any kind waiting to be uploaded (§15.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxUpload {
    /// The original name (`content` holds it too, for previews).
    pub name: String,
    /// The whole file's size in bytes.
    pub size: u64,
    /// Bytes the server last said it holds (for the progress bar; the
    /// server's own offset decides where a resumed upload goes on).
    pub sent: u64,
}

/// The file of an image or voice message waiting to be sent: kept in the
/// outbox until the server has stored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxFile {
    /// Its bytes.
    #[serde(with = "crate::text::b64_bytes")]
    pub data: Vec<u8>,
    /// Its MIME type, as recognised from the bytes.
    pub mime: String,
    /// A voice message's length in whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
}

/// The last message of a conversation, for the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// The message id, or none for an outbox entry.
    pub id: Option<MessageId>,
    /// Who wrote it (`None`: the server, for notices).
    pub from: Option<UserId>,
    /// Its type.
    pub kind: MessageType,
    /// Its content (text, file name or notice JSON), as in [`Message`].
    pub content: String,
    /// When it was written (ms since the epoch).
    pub ts: i64,
}

/// One row of the conversation list, with the user's local choices for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The other person, or the group.
    pub peer: Peer,
    /// The newest message.
    pub last: Option<Preview>,
    /// Messages from others that arrived after the last one read.
    pub unread: u32,
    /// Marked unread by the user (shown with a badge until opened).
    pub marked_unread: bool,
    /// Pinned to the top, and when (newest pin first).
    pub pinned_at: Option<i64>,
    /// Removed from the list by the user; it comes back with the next message.
    pub hidden: bool,
    /// The composer's unsent text.
    pub draft: String,
    /// The server has no older history than what is cached.
    pub history_complete: bool,
    /// 消息免打扰: the user muted it (on any device; the server keeps it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
    /// An unread message from someone else @-mentions the user or everyone:
    /// "[有人@我]" until the conversation is read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentioned: bool,
    /// The oldest message counted in `unread`, so a recall of a message
    /// not read yet lowers the count (§15.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_unread: Option<MessageId>,
    /// The newest of the messages counted in `unread`, oldest first, at
    /// most [`UNREAD_IDS_KEPT`]: a read mark (§16) or a recall lowers the
    /// count exactly by them. Any counted message not among them is older
    /// than all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread_ids: Vec<MessageId>,
    /// The newest counted message that @-mentions the user: a read mark at
    /// or past it clears `mentioned` (absent in a row from before #16:
    /// `mentioned` then clears with the last unread message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_mention: Option<MessageId>,
    /// The user's own read mark in this conversation (§16.1), set on any of
    /// their devices; it only grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_up_to: Option<MessageId>,
    /// The highest own mark the server is known to hold (from a push or the
    /// catch-up): a `read_up_to` above it is sent again after a login, so a
    /// mark made offline, or lost on the way, is not lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_synced: Option<MessageId>,
    /// 1:1 only: the other person's read mark (已读 for the user's messages
    /// with an id up to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_read: Option<MessageId>,
    /// 1:1 only: the other person does not share read receipts (§16.5):
    /// show nothing (unknown), not 未读.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peer_private: bool,
}

/// How many of a conversation's unread messages are remembered by id
/// ([`Conversation::unread_ids`]).
pub const UNREAD_IDS_KEPT: usize = 500;

impl Conversation {
    /// A conversation with nothing in it yet.
    pub fn new(peer: Peer) -> Conversation {
        Conversation {
            peer,
            last: None,
            unread: 0,
            marked_unread: false,
            pinned_at: None,
            hidden: false,
            draft: String::new(),
            history_complete: false,
            muted: false,
            mentioned: false,
            first_unread: None,
            unread_ids: Vec::new(),
            last_mention: None,
            read_up_to: None,
            read_synced: None,
            peer_read: None,
            peer_private: false,
        }
    }

    /// Its place in the list: pinned first (newest pin first), then by the
    /// newest message.
    pub fn sort_key(&self) -> (bool, i64, i64) {
        (
            self.pinned_at.is_some(),
            self.pinned_at.unwrap_or(0),
            self.last.as_ref().map_or(0, |last| last.ts),
        )
    }
}

/// A company broadcast as this device keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedBroadcast {
    /// The broadcast.
    pub broadcast: Broadcast,
    /// The user has opened it (or it came with a new device's first sync).
    pub read: bool,
}

/// Everything the app needs to draw its first screen, read in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The sync position; none in a new cache.
    pub meta: Option<AccountMeta>,
    /// Every conversation, in no particular order.
    pub conversations: Vec<Conversation>,
    /// Every unacknowledged message, in no particular order.
    pub outbox: Vec<OutboxEntry>,
    /// The company directory, once synced.
    pub directory: Option<Directory>,
    /// The user's groups, once synced.
    pub groups: Option<Vec<Group>>,
    /// The company broadcasts, oldest first.
    pub broadcasts: Vec<CachedBroadcast>,
}

/// Writes that belong together, applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheBatch {
    /// The new sync position.
    pub meta: Option<AccountMeta>,
    /// Messages to add (or replace, by id).
    pub messages: Vec<CachedMessage>,
    /// Outbox entries to add or replace, by cid.
    pub outbox_put: Vec<OutboxEntry>,
    /// Outbox entries to remove.
    pub outbox_delete: Vec<ClientMsgId>,
    /// Conversation rows to add or replace, by peer.
    pub conversations: Vec<Conversation>,
    /// Conversations whose cached messages are removed (the rows stay, see
    /// [`Conversation::hidden`]).
    pub clear_messages: Vec<Peer>,
    /// A new directory.
    pub directory: Option<Directory>,
    /// A new list of the user's groups.
    pub groups: Option<Vec<Group>>,
    /// A new list of the company broadcasts (a company sends few: the
    /// whole list is written as one value).
    pub broadcasts: Option<Vec<CachedBroadcast>>,
    /// Messages taken back (§15.1), applied after `messages`: each cached
    /// original loses its content, and cached quotes of it read recalled
    /// (see [`Message::take_recall`]).
    pub recalls: Vec<RecallMark>,
}

/// A recall to apply to the cached messages of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallMark {
    /// Where the message was.
    pub conversation: Peer,
    /// The message taken back.
    pub id: MessageId,
    /// Who took it back, and when.
    pub recalled: Recalled,
}

impl CacheBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self == &CacheBatch::default()
    }
}

/// A storage engine for the cache. Every method is async because IndexedDB
/// is; the engine itself never calls them.
#[allow(async_fn_in_trait)]
pub trait Cache {
    /// Reads everything but the messages.
    async fn load(&self) -> Result<Snapshot, CacheError>;
    /// Writes a batch, all of it or nothing.
    async fn apply(&self, batch: &CacheBatch) -> Result<(), CacheError>;
    /// Up to `limit` messages of a conversation just before `before` (or the
    /// newest), oldest first, ordered by id.
    async fn timeline(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError>;
    /// How many messages are cached in all.
    async fn message_count(&self) -> Result<u64, CacheError>;
    /// Every cached message, in no particular order (to build the search
    /// index: one read, not a page per conversation).
    async fn all_messages(&self) -> Result<Vec<CachedMessage>, CacheError>;
}
