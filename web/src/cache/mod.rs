//! The IndexedDB cache: one database per account and server, its schema migrated in steps,
//! implementing `penpen-core`'s [`Cache`] interface.
//!
//! Every record is a small JS object holding the fields IndexedDB keys and
//! indexes on, plus a `json` field with the record as `serde` wrote it, so the
//! cache needs no JS object mapping and reads back exactly what was written:
//!
//! | store           | key                   | record                          |
//! |-----------------|-----------------------|---------------------------------|
//! | `meta`          | a name (out of line)  | JSON text                       |
//! | `messages`      | `id` (a number)       | `{id, conv, json}`: a message   |
//! | `outbox`        | `cid`                 | `{cid, json}`: an outbox entry  |
//! | `conversations` | `peer`                | `{peer, json}`: a list row      |
//!
//! | `upload_files`  | cid (out of line)     | the `Blob` of an upload         |
//! | `downloads`     | file name (out of line) | a downloaded file's `Blob`    |
//!
//! `messages` has the index `timeline` on `[conv, id]`, so a page of a
//! conversation is one short cursor walk however long the conversation is.
//! The account's sync position, the directory and the groups live in `meta`
//! under [`ACCOUNT_KEY`], [`DIRECTORY_KEY`] and [`GROUPS_KEY`].

mod blobs;
mod errors;
mod records;
mod schema;

pub use blobs::{DOWNLOADS_STORE, FileStore, UPLOAD_FILES_STORE};

use crate::config::ServerAddress;
use errors::*;
use idb::event::VersionChangeEvent;
use idb::{
    CursorDirection, Database, Event as _, Factory, KeyPath, KeyRange, ObjectStoreParams,
    Request as _, Transaction,
};
use js_sys::{Array, Object, Promise, Reflect};
use penpen_core::UserId;
use penpen_core::cache::{Cache, CacheBatch, CachedMessage, RecallMark, Snapshot};
use penpen_core::ids::{MessageId, Peer};
use penpen_core::packets::message::Message;
use records::*;
use schema::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, Event, IdbDatabase, IdbTransaction, IdbTransactionMode};

pub use penpen_core::cache::CacheError;

/// The schema version this build creates and expects.
pub const SCHEMA_VERSION: u32 = 3;

/// Small settings and sync positions of the account, by name (since v1).
pub const META_STORE: &str = "meta";
/// Every cached message, by id (since v2).
const MESSAGES_STORE: &str = "messages";
/// Messages not yet acknowledged by the server, by cid (since v2).
const OUTBOX_STORE: &str = "outbox";
/// The conversation list, by peer (since v2).
const CONVERSATIONS_STORE: &str = "conversations";
/// The index of `messages` on `[conv, id]`: a conversation's timeline in order.
const TIMELINE_INDEX: &str = "timeline";

/// The `meta` key of the account's sync position ([`penpen_core::cache::AccountMeta`]).
pub const ACCOUNT_KEY: &str = "account";
/// The `meta` key of the company directory.
pub const DIRECTORY_KEY: &str = "directory";
/// The `meta` key of the user's groups.
pub const GROUPS_KEY: &str = "groups";
/// The `meta` key of the company broadcasts.
pub const BROADCASTS_KEY: &str = "broadcasts";

/// The largest message id a JS number holds exactly. Ids are stored as
/// numbers so they sort numerically; a larger one would silently collide
/// with its neighbours, so it is refused instead.
const MAX_EXACT_ID: u64 = (1 << 53) - 1;

/// The local database of one account.
#[derive(Debug)]
pub struct IndexedDbCache {
    db: IdbDatabase,
    /// Why the connection is gone, once the browser closed it or another tab
    /// needed it closed; every later call reports it as [`CacheError::Evicted`].
    gone: Rc<Cell<Option<&'static str>>>,
    // The connection's handlers, only held so they live as long as it does
    // (`Drop` unsets them first).
    _on_close: Closure<dyn FnMut(Event)>,
    _on_version_change: Closure<dyn FnMut(Event)>,
}

impl IndexedDbCache {
    /// The database name for an account on a server: two servers' data
    /// never share a database, even for the same account number.
    pub fn database_name(server: &ServerAddress, account: &UserId) -> String {
        format!("penpen-{}-{account}", server.storage_key())
    }

    /// The name older versions used, before databases were bound to a server
    /// (only ever deleted now).
    pub fn unbound_database_name(account: &UserId) -> String {
        format!("penpen-{account}")
    }

    /// Opens (creating or migrating as needed) the database of `account` on
    /// `server`.
    pub async fn open(
        server: &ServerAddress,
        account: &UserId,
    ) -> Result<IndexedDbCache, CacheError> {
        IndexedDbCache::open_named(&IndexedDbCache::database_name(server, account)).await
    }

    /// Opens (creating or migrating as needed) the database called `name`.
    ///
    /// While another tab holds an older version open and does not let go,
    /// this waits for it (the browser blocks the upgrade until then).
    pub async fn open_named(name: &str) -> Result<IndexedDbCache, CacheError> {
        let open_error = |reason: String| CacheError::Open {
            name: name.to_owned(),
            reason,
        };
        let factory = Factory::new().map_err(|e| CacheError::Unavailable(e.to_string()))?;
        let mut request = factory
            .open(name, Some(SCHEMA_VERSION))
            .map_err(|e| open_error(idb_reason(&e)))?;
        // The upgrade callback cannot return an error: it leaves it here, and
        // aborts the upgrade so the database stays at its old version.
        let failed_migration = Rc::new(Cell::new(None));
        request.on_upgrade_needed({
            let failed_migration = failed_migration.clone();
            move |event| {
                if let Err(reason) = upgrade(&event) {
                    failed_migration.set(Some(reason));
                }
            }
        });
        let opened = request.await;
        if let Some(reason) = failed_migration.take() {
            return Err(open_error(reason));
        }
        let db = opened.map_err(|e| open_error(idb_reason(&e)))?;
        Ok(IndexedDbCache::watching(db.into()))
    }

    /// Wraps an open connection, and lets go of it when the browser or
    /// another tab needs it gone.
    fn watching(db: IdbDatabase) -> IndexedDbCache {
        let gone = Rc::new(Cell::new(None));
        let on_close = Closure::<dyn FnMut(Event)>::new({
            let gone = gone.clone();
            move |_: Event| {
                gone.set(Some(
                    "the browser closed the local database (storage cleared or failing)",
                ));
            }
        });
        // Another tab is upgrading or deleting the database: holding on would
        // block it, so this connection closes and this tab rebuilds or reloads.
        let on_version_change = Closure::<dyn FnMut(Event)>::new({
            let gone = gone.clone();
            let db = db.clone();
            move |_: Event| {
                db.close();
                gone.set(Some("another tab upgraded or deleted the local database"));
            }
        });
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        IndexedDbCache {
            db,
            gone,
            _on_close: on_close,
            _on_version_change: on_version_change,
        }
    }

    /// Stores `value` under `key` in the meta store. The keys [`ACCOUNT_KEY`],
    /// [`DIRECTORY_KEY`] and [`GROUPS_KEY`] belong to the cache itself.
    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        let json = to_json(value)?;
        let tx = self.transaction(&[META_STORE], IdbTransactionMode::Readwrite, "write")?;
        let written = (|| {
            let meta = store(&tx, META_STORE, "write")?;
            meta.put(&JsValue::from_str(&json), Some(&JsValue::from_str(key)))
                .map_err(|e| idb_error("write", &e))
        })();
        match written {
            Ok(_) => committed(&tx, "write").await,
            Err(error) => Err(abort(&tx, error)),
        }
        .map_err(|e| self.blame(e))
    }

    /// Reads the value under `key` in the meta store, if there is one.
    pub async fn get_meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let read = async {
            let tx = self.transaction(&[META_STORE], IdbTransactionMode::Readonly, "read")?;
            let value = store(&tx, META_STORE, "read")?
                .get(JsValue::from_str(key))
                .map_err(|e| idb_error("read", &e))?
                .await
                .map_err(|e| idb_error("read", &e))?;
            meta_value(key, value)
        };
        read.await.map_err(|e| self.blame(e))
    }

    /// Closes the database (dropping the cache does the same).
    pub fn close(self) {}

    /// A transaction over `stores`, unless the connection is gone.
    fn transaction(
        &self,
        stores: &[&str],
        mode: IdbTransactionMode,
        operation: &'static str,
    ) -> Result<IdbTransaction, CacheError> {
        if let Some(reason) = self.gone.get() {
            return Err(CacheError::Evicted(reason.to_owned()));
        }
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        self.db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(|e| browser_error(operation, &e))
    }

    /// Once the connection is gone, any failure is because of that.
    fn blame(&self, error: CacheError) -> CacheError {
        blamed(&self.gone, error)
    }

    async fn write(&self, batch: &CacheBatch) -> Result<(), CacheError> {
        match self.start_write(batch).await? {
            Some(outcome) => outcome.wait().await,
            None => Ok(()),
        }
    }

    /// Hands the batch's records to IndexedDB and returns the transaction's
    /// outcome to wait for, or nothing when the batch writes nothing.
    async fn start_write(&self, batch: &CacheBatch) -> Result<Option<Outcome>, CacheError> {
        // Everything is turned into records first, so a value that cannot be
        // stored is refused before anything is written.
        let records = Records::of(batch)?;
        let stores = records.stores();
        if stores.is_empty() {
            return Ok(None);
        }
        let tx = self.transaction(&stores, IdbTransactionMode::Readwrite, "write")?;
        match records.put(&tx).await {
            Ok(()) => Ok(Some(Outcome::watch(&tx, "write"))),
            Err(error) => Err(abort(&tx, error)),
        }
    }

    /// Starts writing `batch` and returns at once, once IndexedDB holds every
    /// record of it: the caller decides when to wait for the commit (see
    /// [`Writing`]). Transactions commit in the order they were started.
    pub async fn begin_write(&self, batch: &CacheBatch) -> Result<Writing, CacheError> {
        let outcome = self.start_write(batch).await.map_err(|e| self.blame(e))?;
        Ok(Writing {
            outcome,
            gone: self.gone.clone(),
        })
    }

    async fn snapshot(&self) -> Result<Snapshot, CacheError> {
        let read_error = |e: idb::Error| idb_error("read", &e);
        let tx = self.transaction(
            &[META_STORE, CONVERSATIONS_STORE, OUTBOX_STORE],
            IdbTransactionMode::Readonly,
            "read",
        )?;
        let meta = store(&tx, META_STORE, "read")?;
        // Each request's handlers are attached as it is made (`into_future`),
        // so none can complete unobserved while an earlier one is awaited.
        let get = |key: &str| {
            meta.get(JsValue::from_str(key))
                .map(IntoFuture::into_future)
                .map_err(read_error)
        };
        let account = get(ACCOUNT_KEY)?;
        let directory = get(DIRECTORY_KEY)?;
        let groups = get(GROUPS_KEY)?;
        let broadcasts = get(BROADCASTS_KEY)?;
        let get_all = |name: &str| {
            store(&tx, name, "read")?
                .get_all(None, None)
                .map(IntoFuture::into_future)
                .map_err(read_error)
        };
        let conversations = get_all(CONVERSATIONS_STORE)?;
        let outbox = get_all(OUTBOX_STORE)?;
        Ok(Snapshot {
            meta: meta_value(ACCOUNT_KEY, account.await.map_err(read_error)?)?,
            directory: meta_value(DIRECTORY_KEY, directory.await.map_err(read_error)?)?,
            groups: meta_value(GROUPS_KEY, groups.await.map_err(read_error)?)?,
            broadcasts: meta_value(BROADCASTS_KEY, broadcasts.await.map_err(read_error)?)?
                .unwrap_or_default(),
            conversations: conversations
                .await
                .map_err(read_error)?
                .iter()
                .map(|record| from_record(record, CONVERSATIONS_STORE, "peer"))
                .collect::<Result<_, _>>()?,
            outbox: outbox
                .await
                .map_err(read_error)?
                .iter()
                .map(|record| from_record(record, OUTBOX_STORE, "cid"))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn page(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        let read_error = |e: idb::Error| idb_error("read", &e);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tx = self.transaction(&[MESSAGES_STORE], IdbTransactionMode::Readonly, "read")?;
        let timeline = store(&tx, MESSAGES_STORE, "read")?
            .index(TIMELINE_INDEX)
            .map_err(read_error)?;
        // An id beyond 2^53 is above every stored one (larger ids are refused
        // on write), and rounds to a number that is too: the page is the newest.
        let upper = before.map_or(f64::INFINITY, |id| id.0 as f64);
        let range = KeyRange::bound(
            &timeline_key(conversation, 0.0),
            &timeline_key(conversation, upper),
            Some(false),
            Some(before.is_some()),
        )
        .map_err(read_error)?;
        // Newest first, stopping after `limit`: the cost is the page, not the
        // conversation.
        let Some(cursor) = timeline
            .open_cursor(Some(range.into()), Some(CursorDirection::Prev))
            .map_err(read_error)?
            .await
            .map_err(read_error)?
        else {
            return Ok(Vec::new());
        };
        let mut cursor = cursor.into_managed();
        let mut page = Vec::with_capacity(limit.min(1000));
        while let Some(record) = cursor.value().map_err(read_error)? {
            page.push(from_record::<Message>(&record, MESSAGES_STORE, "id")?);
            if page.len() == limit {
                break;
            }
            cursor.next(None).await.map_err(read_error)?;
        }
        page.reverse();
        Ok(page)
    }

    async fn everything(&self) -> Result<Vec<CachedMessage>, CacheError> {
        let read_error = |e: idb::Error| idb_error("read", &e);
        let tx = self.transaction(&[MESSAGES_STORE], IdbTransactionMode::Readonly, "read")?;
        let records = store(&tx, MESSAGES_STORE, "read")?
            .get_all(None, None)
            .map_err(read_error)?
            .await
            .map_err(read_error)?;
        records
            .iter()
            .map(|record| {
                let conversation = Reflect::get(record, &JsValue::from_str("conv"))
                    .ok()
                    .and_then(|conv| conv.as_string())
                    .and_then(|conv| Peer::parse(&conv).ok())
                    .ok_or_else(|| CacheError::Corrupt {
                        key: MESSAGES_STORE.to_owned(),
                        reason: "a message record names no conversation".into(),
                    })?;
                Ok(CachedMessage {
                    conversation,
                    message: from_record(record, MESSAGES_STORE, "id")?,
                })
            })
            .collect()
    }

    async fn count(&self) -> Result<u64, CacheError> {
        let tx = self.transaction(&[MESSAGES_STORE], IdbTransactionMode::Readonly, "count")?;
        let count = store(&tx, MESSAGES_STORE, "count")?
            .count(None)
            .map_err(|e| idb_error("count", &e))?
            .await
            .map_err(|e| idb_error("count", &e))?;
        Ok(u64::from(count))
    }
}

impl Cache for IndexedDbCache {
    async fn load(&self) -> Result<Snapshot, CacheError> {
        self.snapshot().await.map_err(|e| self.blame(e))
    }

    async fn apply(&self, batch: &CacheBatch) -> Result<(), CacheError> {
        self.write(batch).await.map_err(|e| self.blame(e))
    }

    async fn timeline(
        &self,
        conversation: &Peer,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        self.page(conversation, before, limit)
            .await
            .map_err(|e| self.blame(e))
    }

    async fn message_count(&self) -> Result<u64, CacheError> {
        self.count().await.map_err(|e| self.blame(e))
    }

    async fn all_messages(&self) -> Result<Vec<CachedMessage>, CacheError> {
        self.everything().await.map_err(|e| self.blame(e))
    }
}

impl Drop for IndexedDbCache {
    fn drop(&mut self) {
        // The handlers go before their closures do, and the connection closes
        // so it never blocks another tab's upgrade or a delete.
        self.db.set_onclose(None);
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// Deletes the database called `name`, for when its cache is gone or corrupt
/// and is rebuilt from the server. Open connections in this tab close
/// themselves (and report [`CacheError::Evicted`] from then on).
pub async fn delete_database(name: &str) -> Result<(), CacheError> {
    let factory = Factory::new().map_err(|e| CacheError::Unavailable(e.to_string()))?;
    factory
        .delete(name)
        .map_err(|e| idb_error("delete", &e))?
        .await
        .map_err(|e| idb_error("delete", &e))
}

/// Waits until `tx` commits. An abort comes back as the error that caused it.
async fn committed(tx: &IdbTransaction, operation: &'static str) -> Result<(), CacheError> {
    Outcome::watch(tx, operation).wait().await
}

/// A transaction's commit or abort, watched from when it is made so neither
/// can pass unseen however late it is waited for.
#[derive(Debug, Clone)]
struct Outcome {
    tx: IdbTransaction,
    /// Settles when the transaction commits (or rejects when it aborts).
    /// A promise rather than Rust closures: a wait dropped early leaves
    /// plain JS functions behind, harmless when they fire.
    done: Promise,
    operation: &'static str,
}

impl Outcome {
    fn watch(tx: &IdbTransaction, operation: &'static str) -> Outcome {
        let done = Promise::new(&mut |resolve, reject| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onabort(Some(&reject));
        });
        Outcome {
            tx: tx.clone(),
            done,
            operation,
        }
    }

    /// Waits for the commit; may be called again, and answers the same.
    async fn wait(&self) -> Result<(), CacheError> {
        let outcome = JsFuture::from(self.done.clone()).await;
        outcome.map(|_| ()).map_err(|_| match self.tx.error() {
            Some(cause) => browser_error(self.operation, &cause),
            None => CacheError::Request {
                operation: self.operation,
                reason: "the transaction was aborted".into(),
            },
        })
    }
}

/// A write that IndexedDB holds and commits on its own (see
/// [`IndexedDbCache::begin_write`]); cheap to clone, each clone waits for the
/// same commit.
#[derive(Debug, Clone)]
pub struct Writing {
    outcome: Option<Outcome>,
    gone: Rc<Cell<Option<&'static str>>>,
}

impl Writing {
    /// Waits until the write is committed: the error says why it was not.
    pub async fn committed(&self) -> Result<(), CacheError> {
        let Some(outcome) = &self.outcome else {
            return Ok(());
        };
        outcome
            .wait()
            .await
            .map_err(|error| blamed(&self.gone, error))
    }
}

/// Once the connection is gone (`gone` says why), any failure is because of that.
fn blamed(gone: &Cell<Option<&'static str>>, error: CacheError) -> CacheError {
    match gone.get() {
        Some(reason) if !error.needs_rebuild() => CacheError::Evicted(reason.to_owned()),
        _ => error,
    }
}

/// Aborts `tx` after `error`, and says what went wrong: the request that
/// aborted it first, if one did.
fn abort(tx: &IdbTransaction, error: CacheError) -> CacheError {
    let cause = tx.error().map(|cause| browser_error("write", &cause));
    // Fails only when the transaction has already finished (a failed request
    // aborted it); either way nothing of it is written.
    let _ = tx.abort();
    cause.unwrap_or(error)
}

/// The object store `name` of `tx`, through `idb`'s request futures.
fn store(
    tx: &IdbTransaction,
    name: &str,
    operation: &'static str,
) -> Result<idb::ObjectStore, CacheError> {
    Transaction::from(tx.clone())
        .object_store(name)
        .map_err(|e| idb_error(operation, &e))
}
