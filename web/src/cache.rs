//! The IndexedDB cache: one database per account, its schema migrated in steps.
//!
//! Values are stored as JSON text under out-of-line keys, so the cache needs
//! no JS object mapping and reads back exactly what `serde` wrote.

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use penpen_core::UserId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// The schema version this build creates and expects.
pub const SCHEMA_VERSION: u32 = 1;

/// Small settings and sync positions of the account, by name.
pub const META_STORE: &str = "meta";

/// Why the cache could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The browser offers no IndexedDB (private mode in some browsers, or disabled).
    #[error("this browser offers no IndexedDB: {0}")]
    Unavailable(String),
    /// The database could not be opened or upgraded.
    #[error("cannot open the local database {name}: {reason}")]
    Open {
        /// The database's name.
        name: String,
        /// What the browser said.
        reason: String,
    },
    /// A read or write failed (for example, the browser refused the quota).
    #[error("the local database refused a {operation}: {reason}")]
    Request {
        /// What was being done.
        operation: &'static str,
        /// What the browser said.
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

/// The local database of one account.
#[derive(Debug)]
pub struct Cache {
    db: Database,
}

impl Cache {
    /// The database name for an account.
    pub fn database_name(account: &UserId) -> String {
        format!("penpen-{account}")
    }

    /// Opens (creating or migrating as needed) the database of `account`.
    pub async fn open(account: &UserId) -> Result<Cache, CacheError> {
        Cache::open_named(&Cache::database_name(account)).await
    }

    /// Opens (creating or migrating as needed) the database called `name`.
    pub async fn open_named(name: &str) -> Result<Cache, CacheError> {
        let open_error = |e: idb::Error| CacheError::Open {
            name: name.to_owned(),
            reason: e.to_string(),
        };
        let factory = Factory::new().map_err(|e| CacheError::Unavailable(e.to_string()))?;
        let mut request = factory
            .open(name, Some(SCHEMA_VERSION))
            .map_err(open_error)?;
        request.on_upgrade_needed(|event| {
            let old = event.old_version().unwrap_or(0);
            if let Ok(db) = event.database() {
                migrate(&db, old);
            }
        });
        let db = request.await.map_err(open_error)?;
        Ok(Cache { db })
    }

    /// Stores `value` under `key` in the meta store.
    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        let write_error = |e: idb::Error| CacheError::Request {
            operation: "write",
            reason: e.to_string(),
        };
        let json = serde_json::to_string(value).map_err(|e| CacheError::Corrupt {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        let tx = self
            .db
            .transaction(&[META_STORE], TransactionMode::ReadWrite)
            .map_err(write_error)?;
        let store = tx.object_store(META_STORE).map_err(write_error)?;
        store
            .put(&JsValue::from_str(&json), Some(&JsValue::from_str(key)))
            .map_err(write_error)?
            .await
            .map_err(write_error)?;
        tx.commit()
            .map_err(write_error)?
            .await
            .map_err(write_error)?;
        Ok(())
    }

    /// Reads the value under `key` in the meta store, if there is one.
    pub async fn get_meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let read_error = |e: idb::Error| CacheError::Request {
            operation: "read",
            reason: e.to_string(),
        };
        let tx = self
            .db
            .transaction(&[META_STORE], TransactionMode::ReadOnly)
            .map_err(read_error)?;
        let store = tx.object_store(META_STORE).map_err(read_error)?;
        let value = store
            .get(JsValue::from_str(key))
            .map_err(read_error)?
            .await
            .map_err(read_error)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let corrupt = |reason: String| CacheError::Corrupt {
            key: key.to_owned(),
            reason,
        };
        let json = value
            .as_string()
            .ok_or_else(|| corrupt("not JSON text".to_owned()))?;
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| corrupt(e.to_string()))
    }

    /// Closes the database.
    pub fn close(self) {
        self.db.close();
    }
}

/// Brings a database from `old_version` to [`SCHEMA_VERSION`], one step at a time,
/// inside the browser's upgrade transaction.
fn migrate(db: &Database, old_version: u32) {
    if old_version < 1 && !db.store_names().iter().any(|s| s == META_STORE) {
        // Upgrade callbacks cannot return errors. If this fails the store is
        // missing, and the first read or write reports the browser's reason.
        let _ = db.create_object_store(META_STORE, ObjectStoreParams::new());
    }
}
