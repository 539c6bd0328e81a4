//! The signed-in session: logging in (20888), remembering the session so a
//! reload needs no password (the sync driver resumes it), and logging out on
//! a socket of its own when the stream cannot carry it (which revokes the
//! token on the server).
//!
//! A session is bound to the server that issued it: its token is only ever
//! sent there, whatever server the page or a link names later.

use crate::config::ServerAddress;
use crate::socket;
use penpen_core::digest::password_digest;
use penpen_core::packets::Done;
use penpen_core::packets::login::{Login, LoginReply, Logout, Resume};
use penpen_core::{Encoding, ErrorReply, Frame, Packet, Service, State, UserId};
use serde::{Deserialize, Serialize};

const SESSION_KEY: &str = "penpen.session";

/// A logged-in account, as remembered between visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The account.
    pub user: UserId,
    /// The session token.
    pub token: String,
    /// The display name.
    pub name: String,
    /// Whether the account may send broadcasts.
    pub broadcaster: bool,
    /// The server that issued the token, the only one it is sent to.
    /// (A session remembered before sessions were bound has none and is
    /// not loaded: its owner logs in once more.)
    pub server: ServerAddress,
}

/// Why logging in, resuming or logging out did not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Wrong account or password.
    #[error("wrong account or password")]
    WrongPassword,
    /// Too many failed attempts.
    #[error("too many attempts")]
    RateLimited,
    /// The remembered session is no longer valid.
    #[error("the session has expired")]
    Expired,
    /// The server could not be reached.
    #[error("the server is unreachable: {0}")]
    Unreachable(String),
    /// The server refused for another reason.
    #[error("{0}")]
    Refused(String),
}

impl Session {
    fn issued(reply: LoginReply, server: &ServerAddress) -> Session {
        Session {
            user: reply.user,
            token: reply.token,
            name: reply.name,
            broadcaster: reply.broadcaster,
            server: server.clone(),
        }
    }

    /// The remembered session, if any.
    pub fn load() -> Option<Session> {
        let storage = gloo::utils::window().local_storage().ok().flatten()?;
        let json = storage.get_item(SESSION_KEY).ok().flatten()?;
        serde_json::from_str(&json).ok()
    }

    /// Remembers this session for the next visit.
    pub fn save(&self) {
        if let (Ok(Some(storage)), Ok(json)) = (
            gloo::utils::window().local_storage(),
            serde_json::to_string(self),
        ) {
            // If storage is refused, the next visit simply asks for the password.
            let _ = storage.set_item(SESSION_KEY, &json);
        }
    }

    /// Forgets the remembered session.
    pub fn forget() {
        if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
            let _ = storage.remove_item(SESSION_KEY);
        }
    }
}

/// Replies carry `state`; pushes on the login port never do.
fn is_reply(frame: &str) -> bool {
    Frame::decode(frame)
        .map(|f| {
            f.field_names()
                .unwrap_or_default()
                .iter()
                .any(|k| k == "state")
        })
        .unwrap_or(true)
}

fn encode<T: Packet>(packet: &T) -> Result<String, SessionError> {
    Frame::encode(Encoding::Base64, packet).map_err(|e| SessionError::Refused(e.to_string()))
}

fn decode<T: Packet>(reply: &str) -> Result<T, SessionError> {
    let frame = Frame::decode(reply).map_err(|e| SessionError::Refused(e.to_string()))?;
    if let Ok(error) = frame.packet::<ErrorReply>() {
        return Err(match error.state {
            State::LOGIN_FAILED => SessionError::WrongPassword,
            State::RATE_LIMITED => SessionError::RateLimited,
            State::SESSION_INVALID | State::SESSION_EXPIRED => SessionError::Expired,
            _ => SessionError::Refused(error.error),
        });
    }
    frame
        .packet::<T>()
        .map_err(|e| SessionError::Refused(e.to_string()))
}

async fn exchange(
    server: &ServerAddress,
    frames: Vec<String>,
) -> Result<Vec<String>, SessionError> {
    socket::exchange(&server.websocket_url(Service::Login), frames, is_reply)
        .await
        .map_err(|e| SessionError::Unreachable(e.to_string()))
}

/// Logs in with the account and password (only its md5 digest is sent).
pub async fn log_in(
    server: &ServerAddress,
    user: UserId,
    password: &str,
) -> Result<Session, SessionError> {
    let login = encode(&Login {
        user,
        password: password_digest(password),
    })?;
    let replies = exchange(server, vec![login]).await?;
    let reply = replies
        .first()
        .ok_or(SessionError::Unreachable("no reply".into()))?;
    decode::<LoginReply>(reply).map(|reply| Session::issued(reply, server))
}

/// Revokes the session's token on the server that issued it.
pub async fn log_out(session: &Session) -> Result<(), SessionError> {
    let server = &session.server;
    let resume = encode(&Resume {
        user: session.user.clone(),
        token: session.token.clone(),
        // Only to log out: nothing is to be pushed.
        catch_up: true,
    })?;
    let logout = encode(&Logout { logout: true })?;
    let replies = exchange(server, vec![resume, logout]).await?;
    match replies.as_slice() {
        [resumed, done] => {
            decode::<LoginReply>(resumed)?;
            decode::<Done>(done).map(|_| ())
        }
        _ => Err(SessionError::Unreachable(
            "the server closed the connection".into(),
        )),
    }
}
