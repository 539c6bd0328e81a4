//! Where the server is: the deployment decides, never a link.
//!
//! By default the server is the page's own host on the standard ports, over
//! TLS (`wss://`, `https://`) whenever the page itself is `https:`. A
//! deployment that differs (another host, shifted ports) says so in
//! `penpen.json`, a small file served beside `index.html` (see
//! [`DeploymentFile`]). A server named in the page's query string
//! (`?server=HOST&port_offset=N&tls=1`) is only a [proposal](proposed_server):
//! the login screen shows its host and uses it after the user confirms.

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
/// ```json
/// {"host": "im.example.cn", "port_offset": 0, "tls": true}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct DeploymentFile {
    /// The server's host (default: the page's host).
    pub host: Option<String>,
    /// The port offset (default 0).
    pub port_offset: Option<u16>,
    /// Whether the server speaks TLS (default: whether the page is `https:`).
    pub tls: Option<bool>,
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

    /// The server a deployment file names, filling what it leaves out from
    /// the page.
    pub fn from_deployment_file(
        json: &str,
        page: &PageLocation,
    ) -> Result<ServerAddress, ConfigError> {
        let file: DeploymentFile =
            serde_json::from_str(json).map_err(|e| ConfigError::File(e.to_string()))?;
        let mut server = ServerAddress::same_host(page);
        if let Some(host) = file.host {
            server.host = checked_host(&host)?;
        }
        server.port_offset = file.port_offset.unwrap_or(0);
        if let Some(tls) = file.tls {
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
    fn each_server_has_its_own_storage_key() {
        let a = ServerAddress::same_host(&page("http:", ""));
        let b = ServerAddress {
            port_offset: 1,
            ..a.clone()
        };
        assert_ne!(a.storage_key(), b.storage_key());
    }
}
