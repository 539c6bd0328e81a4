//! Where the server is: the deployment decides, never a link.
//!
//! By default the server is the page's own host on the standard ports, over
//! TLS (`wss://`, `https://`) whenever the page itself is `https:`. A
//! deployment that differs (another host, shifted ports, several server
//! nodes) says so in `penpen.json`, a small file served beside `index.html`
//! (see [`DeploymentFile`]). A server named in the page's query string
//! (`?server=HOST&port_offset=N&tls=1`) is only a [proposal](proposed_server):
//! the login screen shows its host and uses it after the user confirms.
//!
//! A deployment of several nodes ([`Servers`]: nodes sharing one store, any
//! of them serving any user, a session token valid on all) is used one node
//! at a time: a session starts at a random node ([`NodeChoice`]), so users
//! spread over them, and moves to the next in turn when its node cannot be
//! reached. Its first node names the browser's storage, whichever node is in
//! use ([`Servers::home`]).

use penpen_core::Service;
use serde::{Deserialize, Serialize};

/// The deployment file's name, beside `index.html`.
pub const DEPLOYMENT_FILE: &str = "penpen.json";

/// The server the app talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAddress {
    /// Host name or address, without a port.
    pub host: String,
    /// How far every service port is shifted from the standard one.
    pub port_offset: u16,
    /// Whether to use `wss://` and `https://`.
    #[serde(default)]
    pub tls: bool,
}

/// What the app needs to know about the page it was loaded from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageLocation {
    /// `http:` or `https:` (as `location.protocol` spells it).
    pub protocol: String,
    /// The page's host name, without a port.
    pub hostname: String,
    /// The query string, with its `?`.
    pub search: String,
}

/// `penpen.json`: every field is optional and defaults to the page's own.
///
/// One server:
///
/// ```json
/// {"host": "im.example.cn", "port_offset": 0, "tls": true}
/// ```
///
/// Several server nodes of one deployment, each with its own host or port
/// offset; an entry's missing `port_offset` and `tls` are the file's (then
/// the defaults), a missing `host` the page's:
///
/// ```json
/// {"servers": [{"host": "im1.example.cn"}, {"host": "im2.example.cn"}], "tls": true}
/// ```
///
/// The first node names the browser's storage (the cache's database, the
/// remembered session), so it should stay first: a deployment that grows
/// from one server to several lists its old server first and keeps every
/// device's cache. `host` and `servers` do not go together.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct DeploymentFile {
    /// The server's host (default: the page's host).
    pub host: Option<String>,
    /// The port offset (default 0).
    pub port_offset: Option<u16>,
    /// Whether the server speaks TLS (default: whether the page is `https:`).
    pub tls: Option<bool>,
    /// The server nodes, when there are several (at most [`MAX_NODES`]).
    pub servers: Option<Vec<NodeEntry>>,
}

/// One node in `penpen.json`'s `servers`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct NodeEntry {
    /// The node's host (default: the page's host).
    pub host: Option<String>,
    /// Its port offset (default: the file's, else 0).
    pub port_offset: Option<u16>,
    /// Whether it speaks TLS (default: the file's, else whether the page is
    /// `https:`).
    pub tls: Option<bool>,
}

/// The most nodes a deployment file may list.
pub const MAX_NODES: usize = 32;

/// The server nodes of one deployment, in the deployment's order: one, or
/// several sharing one store. Never empty, never the same node twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    nodes: Vec<ServerAddress>,
}

/// Which node of a deployment a session uses now, and the next in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeChoice {
    count: usize,
    current: usize,
}

/// Why a server address was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The deployment file is not the JSON described in [`DeploymentFile`].
    #[error(
        "{DEPLOYMENT_FILE} is not valid: {0}; expected e.g. {{\"host\": \"im.example.cn\", \"port_offset\": 0, \"tls\": true}}"
    )]
    File(String),
    /// A host that is not a plain host name or address.
    #[error("{0:?} is not a host name or address (letters, digits, '.', '-', ':' only)")]
    Host(String),
    /// A port offset that is not a number.
    #[error("port_offset {0:?} is not a number from 0 to 65535")]
    PortOffset(String),
    /// `servers` is an empty list.
    #[error(
        "{DEPLOYMENT_FILE} lists no servers; expected at least one, e.g. \"servers\": [{{\"host\": \"im1.example.cn\"}}, {{\"host\": \"im2.example.cn\"}}]"
    )]
    NoServers,
    /// More nodes than [`MAX_NODES`].
    #[error("{DEPLOYMENT_FILE} lists {0} servers; expected at most {MAX_NODES}")]
    TooManyServers(usize),
    /// The same node (host and port) twice.
    #[error("{DEPLOYMENT_FILE} lists the server {0} twice; expected each node once")]
    DuplicateServer(String),
    /// Both `host` and `servers`: which is meant is unclear.
    #[error(
        "{DEPLOYMENT_FILE} names both \"host\" and \"servers\"; expected one of them (list every node, the first one too, in \"servers\")"
    )]
    HostAndServers,
}

impl PageLocation {
    /// The page the app runs in.
    pub fn current() -> PageLocation {
        let location = gloo::utils::window().location();
        PageLocation {
            protocol: location.protocol().unwrap_or_default(),
            hostname: location.hostname().unwrap_or_default(),
            search: location.search().unwrap_or_default(),
        }
    }

    fn is_https(&self) -> bool {
        self.protocol.eq_ignore_ascii_case("https:")
    }
}

impl ServerAddress {
    /// The page's own host on the standard ports, over TLS when the page is.
    pub fn same_host(page: &PageLocation) -> ServerAddress {
        let host = if page.hostname.is_empty() {
            "127.0.0.1".to_owned()
        } else {
            page.hostname.clone()
        };
        ServerAddress {
            host,
            port_offset: 0,
            tls: page.is_https(),
        }
    }

    /// The server a deployment file of one server names, filling what it
    /// leaves out from the page; for a file of several nodes, its first
    /// (see [`Servers::from_deployment_file`]).
    pub fn from_deployment_file(
        json: &str,
        page: &PageLocation,
    ) -> Result<ServerAddress, ConfigError> {
        Servers::from_deployment_file(json, page).map(|servers| servers.home().clone())
    }

    /// A node of the file: its own fields, else the file's, else the page's.
    fn from_entry(
        host: Option<&str>,
        port_offset: Option<u16>,
        tls: Option<bool>,
        page: &PageLocation,
    ) -> Result<ServerAddress, ConfigError> {
        let mut server = ServerAddress::same_host(page);
        if let Some(host) = host {
            server.host = checked_host(host)?;
        }
        server.port_offset = port_offset.unwrap_or(0);
        if let Some(tls) = tls {
            server.tls = tls;
        }
        Ok(server)
    }

    /// The WebSocket URL of a service.
    pub fn websocket_url(&self, service: Service) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}/", self.authority(service))
    }

    /// `host:port` of a service, with an IPv6 address in brackets.
    fn authority(&self, service: Service) -> String {
        let port = service
            .port_with_offset(self.port_offset)
            .unwrap_or_else(|| service.port());
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host) // an IPv6 address
        } else {
            self.host.clone()
        };
        format!("{host}:{port}")
    }

    /// The server as the user sees it: its host and login port.
    pub fn label(&self) -> String {
        self.authority(Service::Login)
    }

    /// Names this server in the browser's storage (the IndexedDB database,
    /// the remembered session), so two servers' data never mix.
    pub fn storage_key(&self) -> String {
        self.authority(Service::Login)
    }

    /// Where a stored file of `service` (22888 images, 23888 voice) is
    /// fetched over HTTP, with a file ticket signed with the session's token
    /// (`crate::files`; the token itself is not in the URL).
    pub fn file_url(&self, service: Service, name: &str, token: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let base = self.authority(service);
        crate::files::ticket_url(
            &format!("{scheme}://{base}/"),
            name,
            token,
            crate::files::now_ms(),
        )
    }
}

impl Servers {
    /// A deployment of one server.
    pub fn one(server: ServerAddress) -> Servers {
        Servers {
            nodes: vec![server],
        }
    }

    /// A deployment of these nodes, in this order.
    pub fn new(nodes: Vec<ServerAddress>) -> Result<Servers, ConfigError> {
        if nodes.is_empty() {
            return Err(ConfigError::NoServers);
        }
        if nodes.len() > MAX_NODES {
            return Err(ConfigError::TooManyServers(nodes.len()));
        }
        for (at, node) in nodes.iter().enumerate() {
            // Host and port name a node; TLS or not, it is the same one.
            if nodes[..at]
                .iter()
                .any(|earlier| earlier.storage_key() == node.storage_key())
            {
                return Err(ConfigError::DuplicateServer(node.label()));
            }
        }
        Ok(Servers { nodes })
    }

    /// The nodes a deployment file names (one, or its `servers`), filling
    /// what it leaves out from the file's own fields and the page.
    pub fn from_deployment_file(json: &str, page: &PageLocation) -> Result<Servers, ConfigError> {
        let file: DeploymentFile =
            serde_json::from_str(json).map_err(|e| ConfigError::File(e.to_string()))?;
        let Some(entries) = file.servers else {
            return ServerAddress::from_entry(
                file.host.as_deref(),
                file.port_offset,
                file.tls,
                page,
            )
            .map(Servers::one);
        };
        if file.host.is_some() {
            return Err(ConfigError::HostAndServers);
        }
        let nodes = entries
            .iter()
            .map(|entry| {
                ServerAddress::from_entry(
                    entry.host.as_deref(),
                    entry.port_offset.or(file.port_offset),
                    entry.tls.or(file.tls),
                    page,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Servers::new(nodes)
    }

    /// Every node, in the deployment's order.
    pub fn nodes(&self) -> &[ServerAddress] {
        &self.nodes
    }

    /// Node number `index` of [`NodeChoice`] (the first if out of range).
    pub fn node(&self, index: usize) -> &ServerAddress {
        self.nodes.get(index).unwrap_or_else(|| self.home())
    }

    /// The first node. It names the deployment in the browser's storage
    /// (its [`ServerAddress::storage_key`]: the cache's database, the
    /// remembered session), whichever node is in use, so a move between
    /// nodes keeps the cache, and a deployment of one server keeps the names
    /// it always had.
    pub fn home(&self) -> &ServerAddress {
        // `new` and `one` never make an empty list.
        &self.nodes[0]
    }

    /// Where a session starts: the node `random` picks, so that users
    /// spread over the nodes.
    pub fn start_at(&self, random: u64) -> NodeChoice {
        let count = self.nodes.len();
        NodeChoice {
            count,
            current: (random % count as u64) as usize,
        }
    }
}

impl NodeChoice {
    /// The node in use, an index into [`Servers::nodes`].
    pub fn current(&self) -> usize {
        self.current
    }

    /// The node in use cannot be reached: the next in turn, after the last
    /// the first again, so a node that was down is tried again once the
    /// others have failed too (it may be back). Says whether the node
    /// changed (not with one node).
    pub fn advance(&mut self) -> bool {
        let before = self.current;
        self.current = (self.current + 1) % self.count.max(1);
        self.current != before
    }
}

/// The server a link asks for (`?server=`, `?port_offset=`, `?tls=`), when
/// it differs from the deployment's. It is only a proposal: nothing is sent
/// there until the user confirms it on the login screen.
pub fn proposed_server(
    page: &PageLocation,
    deployment: &ServerAddress,
) -> Result<Option<ServerAddress>, ConfigError> {
    let host = query_value(&page.search, "server");
    let offset = query_value(&page.search, "port_offset");
    let tls = query_value(&page.search, "tls");
    if host.is_none() && offset.is_none() && tls.is_none() {
        return Ok(None);
    }
    let proposed = ServerAddress {
        host: match host {
            Some(host) => checked_host(&host)?,
            None => deployment.host.clone(),
        },
        port_offset: match offset {
            Some(offset) => offset
                .parse()
                .map_err(|_| ConfigError::PortOffset(offset))?,
            None => 0,
        },
        tls: tls.map_or(deployment.tls, |v| v == "1" || v == "true"),
    };
    Ok((proposed != *deployment).then_some(proposed))
}

/// A host name, IPv4 or IPv6 address, and nothing that could smuggle a
/// path, user or port into the URLs built from it.
fn checked_host(host: &str) -> Result<String, ConfigError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let plain = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if plain {
        Ok(bare.to_owned())
    } else {
        Err(ConfigError::Host(host.to_owned()))
    }
}

/// The value of `key` in a query string such as `?a=1&b=2`.
fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(protocol: &str, search: &str) -> PageLocation {
        PageLocation {
            protocol: protocol.into(),
            hostname: "im.example.cn".into(),
            search: search.into(),
        }
    }

    #[test]
    fn query_values_are_found_by_key() {
        assert_eq!(
            query_value("?server=10.0.0.2&port_offset=7", "port_offset").as_deref(),
            Some("7")
        );
        assert_eq!(query_value("?server=", "server"), None);
        assert_eq!(query_value("", "server"), None);
    }

    #[test]
    fn urls_shift_ports_and_bracket_ipv6() {
        let address = ServerAddress {
            host: "::1".into(),
            port_offset: 500,
            tls: false,
        };
        assert_eq!(address.websocket_url(Service::Login), "ws://[::1]:21388/");
        let address = ServerAddress {
            host: "im.example.cn".into(),
            port_offset: 0,
            tls: false,
        };
        assert_eq!(
            address.websocket_url(Service::SyncMessages),
            "ws://im.example.cn:50888/"
        );
    }

    #[test]
    fn an_https_page_uses_wss() {
        let server = ServerAddress::same_host(&page("https:", ""));
        assert!(server.tls);
        assert_eq!(
            server.websocket_url(Service::Login),
            "wss://im.example.cn:20888/"
        );
        let server = ServerAddress::same_host(&page("http:", ""));
        assert_eq!(
            server.websocket_url(Service::Login),
            "ws://im.example.cn:20888/"
        );
    }

    #[test]
    fn the_deployment_file_fills_in_what_it_names() {
        let https = page("https:", "");
        let server = ServerAddress::from_deployment_file(r#"{"port_offset": 5}"#, &https).unwrap();
        assert_eq!(
            server,
            ServerAddress {
                host: "im.example.cn".into(),
                port_offset: 5,
                tls: true
            }
        );
        let server =
            ServerAddress::from_deployment_file(r#"{"host": "10.0.0.9", "tls": false}"#, &https)
                .unwrap();
        assert_eq!(server.websocket_url(Service::Login), "ws://10.0.0.9:20888/");
        assert!(matches!(
            ServerAddress::from_deployment_file(r#"{"host": "evil.cn/x"}"#, &https),
            Err(ConfigError::Host(_))
        ));
        assert!(matches!(
            ServerAddress::from_deployment_file("port_offset=5", &https),
            Err(ConfigError::File(_))
        ));
    }

    #[test]
    fn a_server_in_the_link_is_only_a_proposal_when_it_differs() {
        let home = ServerAddress::same_host(&page("http:", ""));
        assert_eq!(proposed_server(&page("http:", ""), &home), Ok(None));
        assert_eq!(
            proposed_server(&page("http:", "?server=im.example.cn"), &home),
            Ok(None)
        );
        let proposed = proposed_server(&page("http:", "?server=evil.cn&port_offset=3"), &home)
            .unwrap()
            .unwrap();
        assert_eq!(proposed.label(), "evil.cn:20891");
        assert!(matches!(
            proposed_server(&page("http:", "?server=a@evil.cn"), &home),
            Err(ConfigError::Host(_))
        ));
        assert!(matches!(
            proposed_server(&page("http:", "?port_offset=x"), &home),
            Err(ConfigError::PortOffset(_))
        ));
    }

    #[test]
    fn a_deployment_file_may_list_several_nodes() {
        let https = page("https:", "");
        let servers = Servers::from_deployment_file(
            r#"{"servers": [{"host": "im1.example.cn"}, {"host": "10.0.0.2", "port_offset": 3, "tls": false}, {}], "port_offset": 1}"#,
            &https,
        )
        .unwrap();
        let labels: Vec<String> = servers.nodes().iter().map(ServerAddress::label).collect();
        assert_eq!(
            labels,
            [
                "im1.example.cn:20889",
                "10.0.0.2:20891",
                "im.example.cn:20889"
            ]
        );
        assert!(servers.nodes()[0].tls && !servers.nodes()[1].tls && servers.nodes()[2].tls);
        assert_eq!(servers.home().label(), "im1.example.cn:20889");
        // The one-server form reads as before: one node.
        let one = Servers::from_deployment_file(r#"{"host": "10.0.0.9"}"#, &https).unwrap();
        assert_eq!(one.nodes().len(), 1);
        assert_eq!(one.home().label(), "10.0.0.9:20888");
    }

    #[test]
    fn a_bad_list_of_nodes_says_what_is_expected() {
        let http = page("http:", "");
        let error = |json: &str| Servers::from_deployment_file(json, &http).unwrap_err();
        assert_eq!(error(r#"{"servers": []}"#), ConfigError::NoServers);
        assert_eq!(
            error(r#"{"host": "a.cn", "servers": [{"host": "b.cn"}]}"#),
            ConfigError::HostAndServers
        );
        assert_eq!(
            error(r#"{"servers": [{"host": "a.cn"}, {"host": "a.cn", "tls": true}]}"#),
            ConfigError::DuplicateServer("a.cn:20888".into())
        );
        assert_eq!(
            error(r#"{"servers": [{"host": "a.cn"}, {"host": "evil.cn/x"}]}"#),
            ConfigError::Host("evil.cn/x".into())
        );
        assert!(matches!(
            error(r#"{"servers": {"host": "a.cn"}}"#),
            ConfigError::File(_)
        ));
        let many: Vec<String> = (0..=MAX_NODES)
            .map(|n| format!(r#"{{"port_offset": {n}}}"#))
            .collect();
        assert_eq!(
            error(&format!(r#"{{"servers": [{}]}}"#, many.join(","))),
            ConfigError::TooManyServers(MAX_NODES + 1)
        );
        assert!(error(r#"{"servers": []}"#).to_string().contains("expected"));
    }

    #[test]
    fn sessions_start_spread_over_the_nodes_and_move_in_turn() {
        let nodes: Vec<ServerAddress> = (0..3)
            .map(|n| ServerAddress {
                host: format!("im{n}.example.cn"),
                port_offset: 0,
                tls: true,
            })
            .collect();
        let servers = Servers::new(nodes).unwrap();
        let starts: std::collections::BTreeSet<usize> =
            (0..30u64).map(|r| servers.start_at(r).current()).collect();
        assert_eq!(starts.len(), 3, "every node gets sessions");
        let mut choice = servers.start_at(1);
        let mut visited = vec![choice.current()];
        for _ in 0..3 {
            assert!(choice.advance());
            visited.push(choice.current());
        }
        assert_eq!(visited, [1, 2, 0, 1], "in turn, and back to a failed node");
        let mut alone = Servers::one(servers.home().clone()).start_at(7);
        assert!(!alone.advance());
        assert_eq!(alone.current(), 0);
    }

    #[test]
    fn each_server_has_its_own_storage_key() {
        let a = ServerAddress::same_host(&page("http:", ""));
        let b = ServerAddress {
            port_offset: 1,
            ..a.clone()
        };
        assert_ne!(a.storage_key(), b.storage_key());
    }
}
