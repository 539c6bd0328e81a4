//! Stored files on disk: written whole or not at all, durable before any
//! message names them, and no file left that no message names.
//!
//! A new file is written under a temporary name (`<name>.part`, which no
//! download can ask for), flushed, renamed to its name, and the folder is
//! flushed so the rename survives a power loss. A failed write removes the
//! temporary file. At start, files no row of `files` names (older than a grace
//! period) and stray temporary files are removed; an upload's partial file
//! (`crate::uploads`) is kept while its upload is under way.

use crate::store::db::params;
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How old a file no row names must be before the sweep removes it: younger
/// ones may belong to a send whose row is about to be committed.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60 * 60);

/// The ending of a file still being written.
const PART: &str = ".part";

/// Flushes a folder, so names created or renamed in it are on disk.
fn sync_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::File::open(folder)?.sync_all()
}

/// Creates `folder` if it is missing and flushes its parent, so the folder
/// itself survives a power loss.
pub fn ensure_folder(folder: &Path) -> std::io::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder)?;
    sync_folder(folder)?;
    match folder.parent() {
        Some(parent) => sync_folder(parent),
        None => Ok(()),
    }
}

/// Writes `bytes` as `folder/name`, durably; on any failure nothing is left.
pub async fn write_new(folder: PathBuf, name: String, bytes: Vec<u8>) -> std::io::Result<PathBuf> {
    tokio::task::spawn_blocking(move || {
        ensure_folder(&folder)?;
        let path = folder.join(&name);
        let part = folder.join(format!("{name}{PART}"));
        let written = (|| {
            let mut file = std::fs::File::create_new(&part)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&part, &path)?;
            sync_folder(&folder)
        })();
        if let Err(err) = written {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&path);
            return Err(err);
        }
        Ok(path)
    })
    .await
    .map_err(|e| std::io::Error::other(format!("the file writer failed: {e}")))?
}

/// Removes a file no message will name (a failed or repeated send).
pub async fn remove(path: &Path) {
    if let Err(err) = tokio::fs::remove_file(path).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%err, path = %path.display(), "cannot remove an unused file");
    }
}

/// At start: the files folder exists (durably) and holds no orphans.
pub async fn prepare(store: &Store, folder: &Path) -> std::io::Result<()> {
    ensure_folder(folder)?;
    match sweep(store, folder, ORPHAN_GRACE).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed files no message names"),
        // The files stay; the next start tries again.
        Err(err) => tracing::warn!(%err, "cannot sweep orphaned files"),
    }
    Ok(())
}

/// Removes the files in `folder` that no row of `files` names and that are
/// older than `grace`, and every temporary file. Returns how many went.
pub async fn sweep(store: &Store, folder: &Path, grace: Duration) -> Result<usize, StoreError> {
    let named: HashSet<String> = store
        .read(|conn| {
            let mut names: HashSet<String> = conn
                .query_all("SELECT name FROM files", params![], |row| {
                    row.get::<String>(0)
                })?
                .into_iter()
                .collect();
            // Uploads under way keep their partial files (§15.6).
            names.extend(crate::uploads::table::parts(conn)?);
            Ok(names)
        })
        .await?;
    let folder = folder.to_path_buf();
    tokio::task::spawn_blocking(move || sweep_folder(&folder, &named, grace))
        .await
        .map_err(|e| StoreError::Database(format!("the file sweep failed: {e}")))
}

fn sweep_folder(folder: &Path, named: &HashSet<String>, grace: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0; // no folder yet: nothing to sweep
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() || named.contains(&name) {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= grace);
        if name.ends_with(PART) || old {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(err) => tracing::warn!(%err, name, "cannot remove an orphaned file"),
            }
        }
    }
    if removed > 0 {
        let _ = sync_folder(folder);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_file_is_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("folder");
        let folder = dir.path().join("files");
        let path = write_new(folder.clone(), "a.png".into(), b"bytes".to_vec())
            .await
            .expect("written");
        assert_eq!(std::fs::read(&path).expect("readable"), b"bytes");
        let names: Vec<_> = std::fs::read_dir(&folder)
            .expect("listed")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.png")]);
    }

    #[tokio::test]
    async fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().expect("folder");
        let folder = dir.path().join("files");
        // The final name is taken by a folder: the rename fails after the
        // temporary file was written in full.
        std::fs::create_dir_all(folder.join("b.png").join("inside")).expect("blocker");
        let err = write_new(folder.clone(), "b.png".into(), vec![7; 4096])
            .await
            .expect_err("cannot rename over a folder");
        assert!(!err.to_string().is_empty());
        assert!(
            !folder.join("b.png.part").exists(),
            "the partial file is gone"
        );
    }
}
