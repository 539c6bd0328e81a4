//! Uploads: an image's progress, read from the socket's send buffer; and
//! files of any kind (§15.6), whose bytes the engine asks for one chunk at a
//! time and which are read from the `File` itself, never whole.

use super::Driver;
use super::persistence::LocalCache;
use crate::cache::FileStore;
use crate::state::Update;
use penpen_core::sync::SendError;
use penpen_core::{ClientMsgId, Peer, Service};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

impl Driver {
    /// Reports how much of a file's frame has left the browser, until all
    /// of it has (the socket's buffer drains as the bytes go out).
    pub(super) fn watch_upload(&self, service: Service, frame_len: usize) {
        let Some(socket) = self.sockets.socket(service) else {
            return;
        };
        let update = self.update.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let left = socket.buffered_amount() as f64;
                if left <= 0.0 || socket.ready_state() != web_sys::WebSocket::OPEN {
                    break;
                }
                update.emit(Update::Upload(Some(1.0 - left / frame_len.max(1) as f64)));
                gloo::timers::future::TimeoutFuture::new(100).await;
            }
            update.emit(Update::Upload(None));
        });
    }
}

impl Driver {
    /// Queues `file` for `peer`: the entry goes to the engine, the `File`
    /// to IndexedDB (so a reload goes on with it) and to memory.
    pub(super) async fn queue_upload(
        &mut self,
        peer: Peer,
        file: web_sys::File,
        now: i64,
    ) -> Result<(), SendError> {
        let cid = self
            .engine
            .send_upload(peer, file.name(), file.size() as u64, now)?;
        let blob: Blob = file.into();
        if let LocalCache::Browser(cache) = &self.cache
            && let Err(err) = cache
                .put_file(FileStore::Uploads, cid.as_str(), &blob)
                .await
        {
            // The upload still goes on in this page; only a reload loses it.
            web_sys::console::warn_1(&format!("cannot keep the file for a reload: {err}").into());
        }
        self.upload_files.push((cid, blob));
        Ok(())
    }

    /// The file of `cid`, from memory or (after a reload) from IndexedDB.
    async fn upload_file(&mut self, cid: &ClientMsgId) -> Option<Blob> {
        if let Some((_, blob)) = self.upload_files.iter().find(|(c, _)| c == cid) {
            return Some(blob.clone());
        }
        let LocalCache::Browser(cache) = &self.cache else {
            return None;
        };
        let blob = cache
            .get_file(FileStore::Uploads, cid.as_str())
            .await
            .ok()
            .flatten()?;
        self.upload_files.push((cid.clone(), blob.clone()));
        Some(blob)
    }

    /// Reads one chunk of an upload's file for the engine.
    pub(super) async fn read_chunk(&mut self, cid: ClientMsgId, offset: u64, len: u64) {
        let Some(blob) = self.upload_file(&cid).await else {
            self.engine.chunk_unreadable(
                &cid,
                "the file is no longer on this device; pick it again".into(),
                super::now(),
            );
            return;
        };
        let read = async {
            let slice = blob
                .slice_with_f64_and_f64(offset as f64, (offset + len) as f64)
                .map_err(|e| format!("{e:?}"))?;
            let buffer = JsFuture::from(slice.array_buffer())
                .await
                .map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>(js_sys::Uint8Array::new(&buffer).to_vec())
        };
        match read.await {
            Ok(data) => self.engine.chunk_read(&cid, offset, data, super::now()),
            Err(reason) => self.engine.chunk_unreadable(
                &cid,
                format!("the file cannot be read: {reason}"),
                super::now(),
            ),
        }
    }

    /// The engine no longer needs the file of `cid`.
    pub(super) async fn release_file(&mut self, cid: &ClientMsgId) {
        self.upload_files.retain(|(c, _)| c != cid);
        if let LocalCache::Browser(cache) = &self.cache {
            let _ = cache.delete_file(FileStore::Uploads, cid.as_str()).await;
        }
    }
}

impl Driver {
    /// The stored file `name`: kept in IndexedDB once downloaded, so it
    /// opens offline afterwards.
    pub(super) async fn open_file(&mut self, name: &str) -> Result<Blob, String> {
        if let LocalCache::Browser(cache) = &self.cache
            && let Ok(Some(blob)) = cache.get_file(FileStore::Downloads, name).await
        {
            return Ok(blob);
        }
        let url = self
            .sockets
            .server()
            .file_url(Service::Files, name, &self.session.token);
        let window = web_sys::window().ok_or("no window")?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
            .await
            .map_err(|e| format!("{e:?}"))?
            .dyn_into()
            .map_err(|_| "not a response".to_owned())?;
        if !response.ok() {
            return Err(format!("HTTP {}", response.status()));
        }
        let blob: Blob = JsFuture::from(response.blob().map_err(|e| format!("{e:?}"))?)
            .await
            .map_err(|e| format!("{e:?}"))?
            .dyn_into()
            .map_err(|_| "not a file".to_owned())?;
        if let LocalCache::Browser(cache) = &self.cache
            && let Err(err) = cache.put_file(FileStore::Downloads, name, &blob).await
        {
            web_sys::console::warn_1(&format!("cannot keep the download offline: {err}").into());
        }
        Ok(blob)
    }
}

impl Driver {
    /// Deletes the kept upload files no outbox entry names any more.
    pub(super) async fn forget_stray_upload_files(&self, uploading: &[ClientMsgId]) {
        let LocalCache::Browser(cache) = &self.cache else {
            return;
        };
        for key in cache
            .file_keys(FileStore::Uploads)
            .await
            .unwrap_or_default()
        {
            if !uploading.iter().any(|cid| cid.as_str() == key) {
                let _ = cache.delete_file(FileStore::Uploads, &key).await;
            }
        }
    }
}
