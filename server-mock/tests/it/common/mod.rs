//! A small PENPEN client for the integration tests: real sockets, real frames.

#![allow(dead_code)]

pub mod cluster;

use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::Packet;
use penpen_core::packets::login::{Login, LoginReply, Push};
use penpen_core::{Encoding, ErrorReply, Frame, Service, UserId, digest};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The demo company's password.
pub const PASSWORD: &str = penpen_server_mock::demo::DEMO_PASSWORD;
/// Demo accounts.
pub const WANG: &str = "13800000001";
pub const LI: &str = "13800000002";
pub const ZHANG: &str = "13800000003";
pub const LIU: &str = "13800000004";
pub const ZHOU: &str = "13800000009";

pub mod postgres;

/// Points `config` at the store the tests run on: SQLite in the data folder
/// (the default), or a fresh PostgreSQL database with
/// `PENPEN_TEST_STORE=postgres`.
/// Where the tests keep the data of the server in `data`: SQLite in the
/// folder (the default), or, with `PENPEN_TEST_STORE=postgres`, a
/// PostgreSQL database of its own, the same one each time (a restart finds
/// its data).
pub fn test_store_location(data: &Path) -> penpen_server_mock::store::StoreLocation {
    use penpen_server_mock::store::StoreLocation;
    if !postgres::tests_use_postgres() {
        return StoreLocation::Sqlite(ServerConfig::new(data).database_path());
    }
    static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let mut databases = DATABASES.lock().unwrap_or_else(|p| p.into_inner());
    let url = match databases.iter().find(|(dir, _)| dir == data) {
        Some((_, url)) => url.clone(),
        None => {
            let url = postgres::shared().fresh_database();
            databases.push((data.to_path_buf(), url.clone()));
            url
        }
    };
    StoreLocation::Postgres(url)
}

/// The server binary's arguments for the store of its data folder `data`
/// ([`test_store_location`]): none for SQLite in the folder.
pub fn test_store_args(data: &Path) -> Vec<String> {
    match test_store_location(data) {
        penpen_server_mock::store::StoreLocation::Postgres(url) => vec!["--store".to_owned(), url],
        penpen_server_mock::store::StoreLocation::Sqlite(_) => Vec::new(),
    }
}

/// Points `config` at the store the tests run on ([`test_store_location`]).
pub fn use_test_store(config: &mut ServerConfig) {
    config.store_at = Some(test_store_location(&config.data_dir));
}

/// Opens the store of the server in `data` ([`test_store_location`]).
pub async fn open_test_store(data: &Path) -> penpen_server_mock::store::Store {
    let location = test_store_location(data);
    tokio::task::spawn_blocking(move || {
        penpen_server_mock::store::Store::open_at(&location, Default::default())
    })
    .await
    .expect("opening the store finishes")
    .expect("the store opens")
}

/// A demo server on free ports with its data in `data`, always on SQLite
/// (for tests of the SQLite writer itself).
pub async fn start_in_sqlite(data: &Path) -> RunningServer {
    let mut config = ServerConfig::new(data);
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    RunningServer::start(config).await.expect("server starts")
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

/// A server on free ports with the demo company, its data in `data`.
pub async fn start_in(data: &Path) -> RunningServer {
    let mut config = ServerConfig::new(data);
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    use_test_store(&mut config);
    RunningServer::start(config).await.expect("server starts")
}

/// A demo server on free ports in a fresh temporary folder, its
/// configuration changed by `adjust` first.
pub async fn start_configured(
    adjust: impl FnOnce(&mut ServerConfig),
) -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    use_test_store(&mut config);
    adjust(&mut config);
    let server = RunningServer::start(config).await.expect("server starts");
    (server, data)
}

/// A server in a fresh temporary folder.
pub async fn start() -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_in(data.path()).await;
    (server, data)
}

/// What a socket brought within a wait.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// A frame, as sent.
    Frame(String),
    /// Nothing within the wait.
    Quiet,
    /// The socket closed.
    Closed,
}

/// One WebSocket to one service port.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(server: &RunningServer, service: Service, token: Option<&str>) -> Client {
        Client::try_connect(server.addr(service).expect("served"), token)
            .await
            .expect("the upgrade is accepted")
    }

    pub async fn try_connect(addr: SocketAddr, token: Option<&str>) -> Result<Client, String> {
        let url = match token {
            Some(token) => format!("ws://{addr}/?token={token}"),
            None => format!("ws://{addr}/"),
        };
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Client { socket })
    }

    /// Closes the socket (a WebSocket close, then the TCP connection).
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.expect("send");
    }

    pub async fn send<T: Serialize>(&mut self, packet: &T) {
        let frame = Frame::encode(Encoding::Base64, packet).expect("encodes");
        self.send_text(&frame).await;
    }

    /// The next frame's payload (JSON text), or `None` if the socket closed.
    pub async fn next_payload(&mut self, wait: Duration) -> Option<String> {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .ok()??;
            match message.ok()? {
                Message::Text(text) => {
                    return Some(
                        Frame::decode(text.as_str())
                            .expect("the server sends valid frames")
                            .payload,
                    );
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next frame as the server sent it (the whole envelope), `Quiet`
    /// if none came within `wait`, or `Closed`.
    pub async fn next_frame(&mut self, wait: Duration) -> Incoming {
        loop {
            let Ok(message) = tokio::time::timeout(wait, self.socket.next()).await else {
                return Incoming::Quiet;
            };
            match message {
                Some(Ok(Message::Text(text))) => return Incoming::Frame(text.as_str().to_owned()),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Incoming::Closed,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn payload(&mut self) -> String {
        self.next_payload(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    /// Sends `packet` and reads the reply as `R`, or the refusal.
    pub async fn request<T: Serialize, R: Packet>(&mut self, packet: &T) -> Result<R, ErrorReply> {
        self.send(packet).await;
        let payload = self.payload().await;
        decode_reply(&payload)
    }

    /// Waits for the next pushed message (skipping other pushes).
    pub async fn next_message(
        &mut self,
        wait: Duration,
    ) -> Option<penpen_core::packets::message::Message> {
        loop {
            let payload = self.next_payload(wait).await?;
            if let Ok(Push::Message(message)) = serde_json::from_str::<Push>(&payload) {
                return Some(*message);
            }
        }
    }
}

pub fn decode_reply<R: Packet>(payload: &str) -> Result<R, ErrorReply> {
    let value: serde_json::Value = serde_json::from_str(payload).expect("json");
    if value["state"] == 11 {
        Ok(serde_json::from_str(payload)
            .unwrap_or_else(|e| panic!("{payload} is not a {}: {e}", R::NAME)))
    } else {
        Err(serde_json::from_str(payload)
            .unwrap_or_else(|e| panic!("{payload} is not an error reply: {e}")))
    }
}

/// Logs `account` in on a new 20888 connection; returns the live stream and the reply.
pub async fn log_in(server: &RunningServer, account: &str) -> (Client, LoginReply) {
    log_in_at(server.addr(Service::Login).expect("served"), account).await
}

/// Logs `account` in on a new connection to `addr` (a 20888 address, of a
/// server in this process or another); returns the live stream and the reply.
pub async fn log_in_at(addr: SocketAddr, account: &str) -> (Client, LoginReply) {
    let mut stream = Client::try_connect(addr, None)
        .await
        .expect("the login port accepts");
    let reply = stream
        .request::<_, LoginReply>(&Login {
            user: user(account),
            password: digest::password_digest(PASSWORD),
        })
        .await
        .expect("demo login succeeds");
    (stream, reply)
}

/// A file ticket for `name`, signed with `token`'s ticket key, as a client makes it.
pub fn ticket_for(name: &str, token: &str) -> String {
    use penpen_core::tickets::{SessionTag, Ticket, TicketKey, expiry_for};
    let now = penpen_server_mock::context::now_ms();
    Ticket::mint(
        &TicketKey::from_token(token),
        SessionTag::from_token(token),
        name,
        expiry_for(now),
    )
    .to_string()
}

/// The path of a stored file with a fresh ticket of `token`'s session.
pub fn file_path(name: &str, token: &str) -> String {
    format!("/files/{name}?ticket={}", ticket_for(name, token))
}

/// The status of a plain HTTP GET.
pub async fn http_status(addr: SocketAddr, path: &str) -> u16 {
    http_get(addr, path, "").await.0
}

/// A plain HTTP/1.1 GET with `extra` header lines (each ending in CRLF): the
/// status, the headers (names lowercase) and the body, unchunked.
pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    extra: &str,
) -> (u16, std::collections::BTreeMap<String, String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: std::collections::BTreeMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let mut body = response[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        body = unchunk(&body);
    }
    (status, headers, body)
}

fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = usize::from_str_radix(
            std::str::from_utf8(&raw[..line_end]).expect("ascii").trim(),
            16,
        )
        .expect("hex size");
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

/// The gid of the demo's group called `name`, as `token`'s user lists it.
pub async fn group_named(server: &RunningServer, token: &str, name: &str) -> penpen_core::GroupId {
    use penpen_core::packets::groups::{Groups, GroupsQuery};
    let mut port = Client::connect(server, Service::SyncGroups, Some(token)).await;
    let groups: Groups = port.request(&GroupsQuery::default()).await.expect("groups");
    groups
        .groups
        .iter()
        .find(|g| g.name == name)
        .map(|g| g.gid)
        .unwrap_or_else(|| panic!("the demo's {name}"))
}

/// `account`'s presence as the directory at `contacts` (a 51888 address)
/// tells it from the store, asked with `token`.
pub async fn stored_presence(
    contacts: SocketAddr,
    token: &str,
    account: &str,
) -> penpen_core::packets::profile::Presence {
    use penpen_core::packets::directory::{Directory, DirectoryQuery};
    let mut port = Client::try_connect(contacts, Some(token))
        .await
        .expect("contacts port");
    let directory: Directory = port
        .request(&DirectoryQuery::default())
        .await
        .expect("the directory");
    directory
        .contacts
        .iter()
        .find(|c| c.user == user(account))
        .map(|c| c.presence)
        .unwrap_or_else(|| panic!("{account} is listed"))
}
