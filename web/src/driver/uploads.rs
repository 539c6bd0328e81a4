//! An upload's progress, read from the socket's send buffer.

use super::Driver;
use crate::state::Update;
use penpen_core::Service;

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
