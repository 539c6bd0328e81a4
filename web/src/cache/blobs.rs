//! Files kept beside the cache (since schema v3), stored as the browser's
//! own `Blob`s so they are never copied into memory whole:
//!
//! | store          | key                  | value                                       |
//! |----------------|----------------------|---------------------------------------------|
//! | `upload_files` | the upload's cid     | the `File` picked, read one chunk at a time |
//! | `downloads`    | the stored file name | the file as downloaded, to open offline     |

use super::*;
use web_sys::Blob;

/// The files of uploads under way, by cid (since v3).
pub const UPLOAD_FILES_STORE: &str = "upload_files";
/// Files downloaded once, by their stored name (since v3).
pub const DOWNLOADS_STORE: &str = "downloads";

/// Which of the two file stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStore {
    /// [`UPLOAD_FILES_STORE`].
    Uploads,
    /// [`DOWNLOADS_STORE`].
    Downloads,
}

impl FileStore {
    fn name(self) -> &'static str {
        match self {
            FileStore::Uploads => UPLOAD_FILES_STORE,
            FileStore::Downloads => DOWNLOADS_STORE,
        }
    }
}

impl IndexedDbCache {
    /// Keeps `blob` under `key`.
    pub async fn put_file(
        &self,
        kind: FileStore,
        key: &str,
        blob: &Blob,
    ) -> Result<(), CacheError> {
        let tx = self.transaction(&[kind.name()], IdbTransactionMode::Readwrite, "write")?;
        let written = (|| {
            store(&tx, kind.name(), "write")?
                .put(blob, Some(&JsValue::from_str(key)))
                .map_err(|e| idb_error("write", &e))
        })();
        match written {
            Ok(_) => committed(&tx, "write").await,
            Err(error) => Err(abort(&tx, error)),
        }
        .map_err(|e| self.blame(e))
    }

    /// The blob under `key`, if there is one.
    pub async fn get_file(&self, kind: FileStore, key: &str) -> Result<Option<Blob>, CacheError> {
        let read = async {
            let tx = self.transaction(&[kind.name()], IdbTransactionMode::Readonly, "read")?;
            let value = store(&tx, kind.name(), "read")?
                .get(JsValue::from_str(key))
                .map_err(|e| idb_error("read", &e))?
                .await
                .map_err(|e| idb_error("read", &e))?;
            Ok(value.and_then(|v| v.dyn_into::<Blob>().ok()))
        };
        read.await.map_err(|e| self.blame(e))
    }

    /// Forgets the blob under `key` (nothing if there is none).
    pub async fn delete_file(&self, kind: FileStore, key: &str) -> Result<(), CacheError> {
        let tx = self.transaction(&[kind.name()], IdbTransactionMode::Readwrite, "write")?;
        let deleted = (|| {
            store(&tx, kind.name(), "write")?
                .delete(JsValue::from_str(key))
                .map_err(|e| idb_error("write", &e))
        })();
        match deleted {
            Ok(_) => committed(&tx, "write").await,
            Err(error) => Err(abort(&tx, error)),
        }
        .map_err(|e| self.blame(e))
    }

    /// The keys of a file store (to drop upload files no entry names).
    pub async fn file_keys(&self, kind: FileStore) -> Result<Vec<String>, CacheError> {
        let read = async {
            let tx = self.transaction(&[kind.name()], IdbTransactionMode::Readonly, "read")?;
            let keys = store(&tx, kind.name(), "read")?
                .get_all_keys(None, None)
                .map_err(|e| idb_error("read", &e))?
                .await
                .map_err(|e| idb_error("read", &e))?;
            Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
        };
        read.await.map_err(|e| self.blame(e))
    }
}
