//! Browser WebSockets.

use futures::channel::oneshot;
use futures::future::{Either, select};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// How long a request waits for its reply before giving up.
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// Why a request over a WebSocket failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketError {
    /// The URL was refused by the browser.
    #[error("cannot open a WebSocket to {url}: {reason}")]
    Open {
        /// The URL.
        url: String,
        /// What the browser said.
        reason: String,
    },
    /// The connection failed or closed before the reply came.
    #[error("the connection to {0} closed before a reply arrived")]
    Closed(String),
    /// No reply came in time.
    #[error("no reply from {0} within {REQUEST_TIMEOUT_MS} ms")]
    TimedOut(String),
    /// The server sent a binary message; PENPEN frames are text.
    #[error("the server sent a binary message; expected a text frame")]
    NotText,
}

/// Opens a WebSocket to `url`, sends `frame` once it is open, and returns the
/// first text message that comes back. The socket is closed afterwards.
pub async fn request(url: &str, frame: &str) -> Result<String, SocketError> {
    let mut replies = exchange(url, vec![frame.to_owned()], |_| true).await?;
    replies
        .pop()
        .ok_or_else(|| SocketError::Closed(url.to_owned()))
}

/// Opens a WebSocket to `url` and sends `frames` one after another, each once
/// the reply to the one before has come; returns the replies. Messages for
/// which `is_reply` is false (pushes on the login port) are skipped.
pub async fn exchange(
    url: &str,
    frames: Vec<String>,
    is_reply: fn(&str) -> bool,
) -> Result<Vec<String>, SocketError> {
    let socket = WebSocket::new(url).map_err(|e| SocketError::Open {
        url: url.to_owned(),
        reason: format!("{e:?}"),
    })?;
    let (sender, receiver) = oneshot::channel::<Result<Vec<String>, SocketError>>();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let finish = move |result: Result<Vec<String>, SocketError>| {
        if let Some(sender) = sender.borrow_mut().take() {
            // The receiver only goes away when the exchange was abandoned.
            let _ = sender.send(result);
        }
    };
    let frames = Rc::new(frames);
    let replies = Rc::new(RefCell::new(Vec::<String>::new()));

    let on_open = Closure::<dyn FnMut()>::new({
        let (socket, frames, finish, url) = (
            socket.clone(),
            frames.clone(),
            finish.clone(),
            url.to_owned(),
        );
        move || match frames.first() {
            Some(first) if socket.send_with_str(first).is_err() => {
                finish(Err(SocketError::Closed(url.clone())))
            }
            Some(_) => {}
            None => finish(Ok(Vec::new())),
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let (socket, frames, replies, finish, url) = (
            socket.clone(),
            frames.clone(),
            replies.clone(),
            finish.clone(),
            url.to_owned(),
        );
        move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                finish(Err(SocketError::NotText));
                return;
            };
            if !is_reply(&text) {
                return;
            }
            let mut replies = replies.borrow_mut();
            replies.push(text);
            match frames.get(replies.len()) {
                Some(next) if socket.send_with_str(next).is_err() => {
                    finish(Err(SocketError::Closed(url.clone())))
                }
                Some(_) => {}
                None => finish(Ok(std::mem::take(&mut *replies))),
            }
        }
    });
    let on_close = Closure::<dyn FnMut()>::new({
        let url = url.to_owned();
        move || finish(Err(SocketError::Closed(url.clone())))
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onerror(Some(on_close.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    let timeout = gloo::timers::future::TimeoutFuture::new(REQUEST_TIMEOUT_MS);
    let result = match select(receiver, timeout).await {
        Either::Left((Ok(result), _)) => result,
        Either::Left((Err(_), _)) => Err(SocketError::Closed(url.to_owned())),
        Either::Right(_) => Err(SocketError::TimedOut(url.to_owned())),
    };

    // Detach the handlers before the closures are dropped at the end of scope.
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onerror(None);
    socket.set_onclose(None);
    let _ = socket.close();
    result
}
