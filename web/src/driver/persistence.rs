//! Where the engine's writes go: IndexedDB, or memory without it; removing
//! this device's copy at logout, and rebuilding a cache that failed.

use super::{Driver, now, seed};
use crate::cache::{IndexedDbCache, Writing};
use crate::session::Session;
use crate::state::{OperationFailure, Update};
use penpen_core::cache::{Cache, CacheBatch, CacheError, CachedMessage, MemoryCache, Snapshot};
use penpen_core::packets::message::Message;
use penpen_core::sync::{Credentials, Engine};
use penpen_core::{MessageId, Peer};

pub(super) async fn open_cache(session: &Session) -> Result<(LocalCache, Snapshot), CacheError> {
    let cache = IndexedDbCache::open(&session.server, &session.user).await?;
    let snapshot = cache.load().await?;
    Ok((LocalCache::Browser(cache), snapshot))
}

/// IndexedDB, or memory when the browser offers no IndexedDB.
pub(super) enum LocalCache {
    Browser(IndexedDbCache),
    Memory(Box<MemoryCache>),
}

impl Cache for LocalCache {
    async fn load(&self) -> Result<Snapshot, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.load().await,
            LocalCache::Memory(cache) => cache.load().await,
        }
    }

    async fn apply(&self, batch: &CacheBatch) -> Result<(), CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.apply(batch).await,
            LocalCache::Memory(cache) => cache.apply(batch).await,
        }
    }

    async fn timeline(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.timeline(conversation, before, limit).await,
            LocalCache::Memory(cache) => cache.timeline(conversation, before, limit).await,
        }
    }

    async fn message_count(&self) -> Result<u64, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.message_count().await,
            LocalCache::Memory(cache) => cache.message_count().await,
        }
    }

    async fn all_messages(&self) -> Result<Vec<CachedMessage>, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.all_messages().await,
            LocalCache::Memory(cache) => cache.all_messages().await,
        }
    }
}

impl LocalCache {
    /// Starts writing `batch`: IndexedDB commits it on its own, and what is
    /// returned waits for that; memory is written at once.
    async fn begin(&self, batch: &CacheBatch) -> Result<Option<Writing>, CacheError> {
        match self {
            LocalCache::Browser(cache) => cache.begin_write(batch).await.map(Some),
            LocalCache::Memory(cache) => cache.apply(batch).await.map(|()| None),
        }
    }
}

impl Driver {
    /// Starts writing `batch` after the write in progress has committed (so
    /// writes commit in order and a failed one stops the ones after it).
    /// False when a write failed: the cache was rebuilt and the engine
    /// restarted, so the old engine's remaining actions are moot.
    pub(super) async fn persist(&mut self, batch: &CacheBatch) -> bool {
        if !self.written().await {
            return false;
        }
        match self.cache.begin(batch).await {
            Ok(writing) => {
                self.writing = writing;
                true
            }
            Err(err) => {
                self.cache_failed(err).await;
                false
            }
        }
    }

    /// Waits until the write in progress, if any, has committed. False when
    /// it failed (see [`Driver::persist`]).
    pub(super) async fn written(&mut self) -> bool {
        let Some(writing) = self.writing.clone() else {
            return true;
        };
        let outcome = writing.committed().await;
        self.write_finished(outcome).await
    }

    /// The write in progress ended with `outcome`.
    pub(super) async fn write_finished(&mut self, outcome: Result<(), CacheError>) -> bool {
        self.writing = None;
        match outcome {
            Ok(()) => true,
            Err(err) => {
                self.cache_failed(err).await;
                false
            }
        }
    }

    /// Removes this account's messages from the device (a shared computer):
    /// the driver lets go of the database, so nothing writes to it or opens
    /// it again, and the database is deleted, with the one an older version
    /// of the app kept under a name without the server.
    pub(super) fn remove_local_data(&mut self) {
        self.cache = LocalCache::Memory(Box::default());
        let names = [
            IndexedDbCache::database_name(&self.session.server, &self.session.user),
            IndexedDbCache::unbound_database_name(&self.session.user),
        ];
        wasm_bindgen_futures::spawn_local(async move {
            for name in names {
                if let Err(err) = crate::cache::delete_database(&name).await {
                    web_sys::console::error_1(&format!("removing {name}: {err}").into());
                }
            }
        });
    }

    /// The cache refused a write. What the engine holds in memory is kept;
    /// the database is rebuilt and the engine restarted on it, so it catches
    /// up everything again from the server, where every message is kept.
    pub(super) async fn cache_failed(&mut self, err: CacheError) {
        self.update.emit(Update::CacheProblem(err.to_string()));
        // Whatever else was being written goes with the database.
        self.writing = None;
        let carried = self.engine.export();
        self.sockets.close_all();
        let name = IndexedDbCache::database_name(&self.session.server, &self.session.user);
        let _ = crate::cache::delete_database(&name).await;
        let cache = match IndexedDbCache::open(&self.session.server, &self.session.user).await {
            Ok(cache) => LocalCache::Browser(cache),
            Err(_) => LocalCache::Memory(Box::default()),
        };
        let batch = CacheBatch {
            conversations: carried.conversations.clone(),
            outbox_put: carried.outbox.clone(),
            directory: carried.directory.clone(),
            groups: carried.groups.clone(),
            ..Default::default()
        };
        // If even this fails the engine still runs from memory.
        let _ = cache.apply(&batch).await;
        self.cache = cache;
        let credentials = Credentials::Token {
            user: self.session.user.clone(),
            token: self.session.token.clone(),
        };
        // The new engine knows nothing of the old one's operations: their
        // forms hear now that the answer is lost.
        for (_, reply) in std::mem::take(&mut self.operations) {
            reply.emit(Err(OperationFailure::Refused(penpen_core::ErrorReply::new(
                penpen_core::State::UNAVAILABLE,
                "the local cache was rebuilt before the server answered; check whether it took effect",
            ))));
        }
        self.engine = Engine::new(credentials, carried, seed());
        self.engine.set_visible(self.visible, now());
        self.engine.set_busy(crate::prefs::busy(), now());
        if let Some((peer, _)) = &self.open {
            self.engine.set_in_view(Some(peer.clone()));
        }
        self.engine.handle_timeout(now());
    }
}
