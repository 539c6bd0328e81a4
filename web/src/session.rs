//! The signed-in session: logging in (20888), remembering the session so a
//! reload needs no password (the sync driver resumes it), and logging out on
//! a socket of its own when the stream cannot carry it (which revokes the
//! token on the server).
//!
//! A session is bound to the deployment that issued it: its token is only
//! ever sent to that deployment's nodes, whatever server the page or a link
//! names later. Any node of it serves the session (they share one store).

use crate::config::{ServerAddress, Servers};
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
    /// The server that issued the token, the only one it is sent to; of a
    /// deployment of several nodes, its first ([`Servers::home`]).
    /// (A session remembered before sessions were bound has none and is
    /// not loaded: its owner logs in once more.)
    pub server: ServerAddress,
    /// The deployment's other nodes, which the token is also sent to
    /// (none for one server, and in sessions remembered before nodes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_nodes: Vec<ServerAddress>,
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
    fn issued(reply: LoginReply, servers: &Servers) -> Session {
        Session {
            user: reply.user,
            token: reply.token,
            name: reply.name,
            broadcaster: reply.broadcaster,
            server: servers.home().clone(),
            other_nodes: servers.nodes()[1..].to_vec(),
        }
    }

    /// The nodes this session may use: its server first.
    pub fn servers(&self) -> Servers {
        let mut nodes = vec![self.server.clone()];
        nodes.extend(self.other_nodes.iter().cloned());
        // A stored list that no longer holds together (edited by hand, say)
        // falls back to the server that issued the token.
        Servers::new(nodes).unwrap_or_else(|_| Servers::one(self.server.clone()))
    }

    /// The session with the nodes `deployment` lists now, when it is the
    /// deployment that issued the token (the same first node): a deployment
    /// that adds or removes nodes is followed without a new login. Another
    /// deployment's list is never taken.
    pub fn with_nodes_of(mut self, deployment: &Servers) -> Session {
        if *deployment.home() == self.server {
            self.other_nodes = deployment.nodes()[1..].to_vec();
        }
        self
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

/// Logs in with the account and password (only its md5 digest is sent), at
/// a random node of the deployment, and at the next in turn while a node
/// cannot be reached; an answer (even a refusal) is final.
pub async fn log_in(
    servers: &Servers,
    user: UserId,
    password: &str,
) -> Result<Session, SessionError> {
    let login = encode(&Login {
        user,
        password: password_digest(password),
    })?;
    let replies = on_some_node(servers, vec![login]).await?;
    let reply = replies
        .first()
        .ok_or(SessionError::Unreachable("no reply".into()))?;
    decode::<LoginReply>(reply).map(|reply| Session::issued(reply, servers))
}

/// Sends `frames` to one node after another, starting at a random one,
/// until a node answers; the last node's failure when none does.
async fn on_some_node(servers: &Servers, frames: Vec<String>) -> Result<Vec<String>, SessionError> {
    let mut choice = servers.start_at((js_sys::Math::random() * 4_294_967_296.0) as u64);
    let mut result = exchange(servers.node(choice.current()), frames.clone()).await;
    for _ in 1..servers.nodes().len() {
        if !matches!(result, Err(SessionError::Unreachable(_))) {
            break;
        }
        choice.advance();
        result = exchange(servers.node(choice.current()), frames.clone()).await;
    }
    result
}

/// Revokes the session's token on the deployment that issued it (any node
/// of it: they share the sessions).
pub async fn log_out(session: &Session) -> Result<(), SessionError> {
    let servers = session.servers();
    let resume = encode(&Resume {
        user: session.user.clone(),
        token: session.token.clone(),
        // Only to log out: nothing is to be pushed.
        catch_up: true,
    })?;
    let logout = encode(&Logout { logout: true })?;
    let replies = on_some_node(&servers, vec![resume, logout]).await?;
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
