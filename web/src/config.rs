//! Where the server is: by default the page's own host on the standard ports.
//!
//! A deployment (or a test) that shifts the ports opens the app once with
//! `?server=HOST&port_offset=N`; the choice is remembered in localStorage.

use penpen_core::Service;

const HOST_KEY: &str = "penpen.server";
const OFFSET_KEY: &str = "penpen.port_offset";

/// The server the app talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host name or address, without a port.
    pub host: String,
    /// How far every service port is shifted from the standard one.
    pub port_offset: u16,
}

impl ServerAddress {
    /// The address from the page's query string, else the remembered one,
    /// else the page's host with the standard ports.
    pub fn from_page() -> ServerAddress {
        let window = gloo::utils::window();
        let location = window.location();
        let query = location.search().unwrap_or_default();
        let storage = window.local_storage().ok().flatten();
        let stored = |key: &str| {
            storage
                .as_ref()
                .and_then(|s| s.get_item(key).ok().flatten())
        };
        let remember = |key: &str, value: &str| {
            if let Some(storage) = &storage {
                // Not remembering only costs the query string on the next visit.
                let _ = storage.set_item(key, value);
            }
        };

        let host = match query_value(&query, "server") {
            Some(host) => {
                remember(HOST_KEY, &host);
                host
            }
            None => stored(HOST_KEY)
                .or_else(|| location.hostname().ok())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "127.0.0.1".to_owned()),
        };
        let port_offset =
            match query_value(&query, "port_offset").and_then(|v| v.parse::<u16>().ok()) {
                Some(offset) => {
                    remember(OFFSET_KEY, &offset.to_string());
                    offset
                }
                None => stored(OFFSET_KEY).and_then(|v| v.parse().ok()).unwrap_or(0),
            };
        ServerAddress { host, port_offset }
    }

    /// The WebSocket URL of a service.
    pub fn websocket_url(&self, service: Service) -> String {
        let port = service
            .port_with_offset(self.port_offset)
            .unwrap_or_else(|| service.port());
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host) // an IPv6 address
        } else {
            self.host.clone()
        };
        format!("ws://{host}:{port}/")
    }

    /// Where a stored file of `service` (22888 images, 23888 voice) is
    /// fetched over HTTP, with a file ticket signed with the session's token
    /// (`crate::files`; the token itself is not in the URL).
    pub fn file_url(&self, service: Service, name: &str, token: &str) -> String {
        let base = self.websocket_url(service);
        let base = base.strip_prefix("ws://").unwrap_or(&base);
        crate::files::ticket_url(
            &format!("http://{base}"),
            name,
            token,
            crate::files::now_ms(),
        )
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
        };
        assert_eq!(address.websocket_url(Service::Login), "ws://[::1]:21388/");
        let address = ServerAddress {
            host: "im.example.cn".into(),
            port_offset: 0,
        };
        assert_eq!(
            address.websocket_url(Service::SyncMessages),
            "ws://im.example.cn:50888/"
        );
    }
}
