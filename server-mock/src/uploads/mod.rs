//! Files of any kind (PROTOCOL §15.6): the uploads under way, their limits,
//! and the expiry of the abandoned ones. The 28888 requests are answered by
//! `services::uploads`; stored files are served by [`download`].

pub mod download;
pub mod part;
pub mod table;

use crate::context::{Context, now_ms};
use crate::store::db::params;
use penpen_core::{ClientMsgId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The limits on files.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// The largest file, in bytes (22 beyond it).
    pub max_file_bytes: u64,
    /// The most one user may hold: stored files and uploads under way (41 beyond it).
    pub user_quota_bytes: u64,
    /// An upload untouched this long is deleted.
    pub upload_expiry: Duration,
    /// How often abandoned uploads are looked for.
    pub sweep_every: Duration,
}

impl Default for FileSettings {
    fn default() -> FileSettings {
        FileSettings {
            max_file_bytes: penpen_core::limits::MAX_FILE_BYTES,
            user_quota_bytes: penpen_core::limits::USER_QUOTA_BYTES,
            upload_expiry: Duration::from_millis(penpen_core::limits::UPLOAD_EXPIRY_MS as u64),
            sweep_every: Duration::from_secs(15 * 60),
        }
    }
}

type Key = (UserId, ClientMsgId);

/// The server's uploads: their limits, and one lock per upload so that two
/// connections of the same user never write one partial file at once.
#[derive(Debug)]
pub struct Uploads {
    /// The limits.
    pub settings: FileSettings,
    locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while one request works on an upload.
#[derive(Debug)]
pub struct UploadGuard<'a> {
    uploads: &'a Uploads,
    key: Key,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for UploadGuard<'_> {
    fn drop(&mut self) {
        self.lock.take();
        // The map keeps a lock only while someone holds or waits for it.
        if let Ok(mut locks) = self.uploads.locks.lock()
            && locks
                .get(&self.key)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

impl Uploads {
    /// No uploads yet.
    pub fn new(settings: FileSettings) -> Uploads {
        Uploads {
            settings,
            locks: Mutex::default(),
        }
    }

    /// Waits until no other request works on the upload `cid` of `user`.
    pub async fn lock(&self, user: &UserId, cid: &ClientMsgId) -> UploadGuard<'_> {
        let key = (user.clone(), cid.clone());
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(key.clone()).or_default().clone()
        };
        UploadGuard {
            uploads: self,
            key,
            lock: Some(lock.lock_owned().await),
        }
    }
}

/// Deletes the uploads untouched for longer than the expiry, with their
/// partial files; returns how many went.
pub async fn expire(context: &Context) -> usize {
    let expiry =
        i64::try_from(context.uploads.settings.upload_expiry.as_millis()).unwrap_or(i64::MAX);
    let before = now_ms().saturating_sub(expiry);
    let stale = match context
        .store
        .read(move |conn| table::stale(conn, before))
        .await
    {
        Ok(stale) => stale,
        Err(err) => {
            tracing::warn!(%err, "cannot look for abandoned uploads");
            return 0;
        }
    };
    let folder = crate::services::files::folder(&context.data_dir);
    let mut removed = 0;
    for (user, cid, part) in stale {
        let _guard = context.uploads.lock(&user, &cid).await;
        let (who, which) = (user.clone(), cid.clone());
        // Looked at again under the lock: a chunk may have just arrived.
        let gone = context
            .store
            .write(move |conn| {
                let fresh = conn.exists(
                    "SELECT 1 FROM uploads WHERE user_id = ?1 AND cid = ?2 AND updated_ts < ?3",
                    params![who.as_str(), which.as_str(), before],
                )?;
                if fresh {
                    table::remove(conn, &who, &which)?;
                }
                Ok(fresh)
            })
            .await;
        if let Ok(true) = gone {
            part::remove(&folder.join(&part)).await;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "deleted uploads not sent within the expiry");
    }
    removed
}

/// Sweeps abandoned uploads now and then every `sweep_every`, until the
/// server stops.
pub async fn run_expiry(context: Arc<Context>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        expire(&context).await;
        tokio::select! {
            () = tokio::time::sleep(context.uploads.settings.sweep_every) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}
