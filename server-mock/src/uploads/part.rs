//! An upload's partial file, `<hex>.part` in the files folder: created
//! durably, written at the stored offset and flushed before the offset is
//! recorded, then renamed to the stored file's name.
//!
//! The database's offset is only ever moved after the bytes up to it are
//! flushed, so after a crash the file may hold more than the offset says but
//! never less; the next chunk cuts the file back to the recorded offset
//! before writing.

use crate::services::file_disk;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The ending of partial files (the same as `file_disk`'s temporary files:
/// no download can name one).
pub const PART: &str = ".part";

/// A new random stem for an upload: its partial file is `<stem>.part`, its
/// stored file `<stem>.<ext>`.
pub fn new_stem() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| std::io::Error::other(format!("no randomness for a file name: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The stem of a partial file's name.
pub fn stem(part: &str) -> &str {
    part.strip_suffix(PART).unwrap_or(part)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| std::io::Error::other(format!("the file writer failed: {e}")))?
}

/// Creates the empty partial file durably (the file and its name in the folder).
pub async fn create(folder: PathBuf, part: String) -> std::io::Result<()> {
    blocking(move || {
        file_disk::ensure_folder(&folder)?;
        std::fs::File::create_new(folder.join(&part))?.sync_all()?;
        std::fs::File::open(&folder)?.sync_all()
    })
    .await
}

/// How many bytes the partial file holds (0 when it is missing).
pub async fn length(path: PathBuf) -> u64 {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Writes `data` at `offset` and flushes it; bytes past `offset` from a write
/// whose offset was never recorded are cut first.
pub async fn write_at(path: PathBuf, offset: u64, data: Vec<u8>) -> std::io::Result<()> {
    blocking(move || {
        let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
        let length = file.metadata()?.len();
        if length < offset {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the partial file holds {length} bytes, less than the recorded {offset}"),
            ));
        }
        if length > offset {
            file.set_len(offset)?;
        }
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&data)?;
        file.sync_data()
    })
    .await
}

/// The first `n` bytes of the file, to recognise its kind.
pub async fn head(path: PathBuf, n: usize) -> std::io::Result<Vec<u8>> {
    blocking(move || {
        let mut head = Vec::with_capacity(n);
        std::fs::File::open(&path)?
            .take(n as u64)
            .read_to_end(&mut head)?;
        Ok(head)
    })
    .await
}

/// Renames the (complete, flushed) partial file to its stored name and
/// flushes the folder, so the name survives a power loss.
pub async fn promote(folder: PathBuf, part: String, name: String) -> std::io::Result<PathBuf> {
    blocking(move || {
        let (from, to) = (folder.join(part), folder.join(name));
        std::fs::File::open(&from)?.sync_all()?;
        std::fs::rename(&from, &to)?;
        std::fs::File::open(&folder)?.sync_all()?;
        Ok(to)
    })
    .await
}

/// Puts a promoted file back under its partial name (its message could not
/// be committed), so the upload can be sent again.
pub async fn demote(folder: PathBuf, name: String, part: String) {
    let result = blocking(move || std::fs::rename(folder.join(name), folder.join(part))).await;
    if let Err(err) = result {
        tracing::warn!(%err, "cannot return a stored file to its upload");
    }
}

/// Puts a file promoted by a `send` whose message was never committed (the
/// server stopped in between) back under its partial name, so the `send`
/// can be made again.
pub async fn recover(folder: PathBuf, part: String) {
    let recovered = blocking(move || {
        let path = folder.join(&part);
        if path.exists() {
            return Ok(());
        }
        for extension in penpen_core::sniff::FileKind::EXTENSIONS {
            let promoted = folder.join(format!("{}.{extension}", stem(&part)));
            if promoted.exists() {
                std::fs::rename(&promoted, &path)?;
                return std::fs::File::open(&folder)?.sync_all();
            }
        }
        Ok(())
    })
    .await;
    if let Err(err) = recovered {
        tracing::warn!(%err, "cannot recover an upload's file");
    }
}

/// Removes a partial file.
pub async fn remove(path: &Path) {
    file_disk::remove(path).await;
}
