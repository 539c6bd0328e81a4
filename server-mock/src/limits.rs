//! Caps on connections (in total, per client address, per session token) and
//! the timeouts every connection lives under, so that anonymous peers cannot
//! exhaust the server before anyone logs in.
//!
//! Counting is by guards: admitting a connection returns a value that gives
//! its place back when dropped, so no path can forget to release it.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The limits of one server; [`ConnectionLimits::default`] holds the
/// production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open TCP connections on all ports together.
    pub max_connections: usize,
    /// Open connections from one client address on all ports together.
    pub max_per_address: usize,
    /// Open WebSockets holding one session token on all ports together.
    pub max_per_token: usize,
    /// The largest frame on 20888, in bytes. Everything a client sends before
    /// it has logged in arrives there, and its requests (login, resume, ack,
    /// logout) are all small.
    pub login_port_frame_bytes: usize,
    /// How long a 20888 connection may stay open without logging in.
    pub login_deadline: Duration,
    /// How long a write may make no progress before the connection is
    /// dropped: a peer that stopped reading cannot hold a connection's loop.
    pub send_timeout: Duration,
    /// How long the TLS handshake and an HTTP request's head may take.
    pub handshake_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 10_000,
            // An office behind one NAT address: a few hundred people with a
            // few sockets each.
            max_per_address: 512,
            // A tab opens up to one socket per service (21 today); a person may
            // keep a few tabs of one session open.
            max_per_token: 64,
            login_port_frame_bytes: 4 * 1024,
            login_deadline: Duration::from_secs(10),
            send_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Which cap a connection was not admitted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server holds `max_connections` already.
    Server(usize),
    /// The client's address holds `max_per_address` already.
    Address(usize),
    /// The session token holds `max_per_token` sockets already.
    Token(usize),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Server(max) => write!(
                f,
                "the server holds its maximum of {max} connections; retry later"
            ),
            Refusal::Address(max) => write!(
                f,
                "your address holds the maximum of {max} open connections; close some and retry"
            ),
            Refusal::Token(max) => write!(
                f,
                "this session holds the maximum of {max} open connections; close some and retry"
            ),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::Server(_) | Refusal::Address(_) => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Token(_) => StatusCode::TOO_MANY_REQUESTS,
        };
        (status, self.to_string()).into_response()
    }
}

/// The live counts, shared by every listener.
#[derive(Debug)]
pub struct Connections {
    limits: ConnectionLimits,
    trusted_proxies: Vec<IpAddr>,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    per_token: HashMap<Vec<u8>, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Token(Vec<u8>),
}

/// A place among the open connections, given back when dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    connections: Arc<Connections>,
    address: Option<IpAddr>,
}

/// A place counted against one address or one token, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    connections: Arc<Connections>,
    key: Key,
}

/// What an upgraded connection holds for as long as it is open; the places
/// are only ever dropped, never read.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// The forwarded client's place, for a connection through a trusted proxy.
    _address: Option<Slot>,
    /// The session token's place, once the connection carries one.
    _token: Option<Slot>,
}

impl Held {
    /// Counts this connection against `token_hash`.
    pub(crate) fn hold_token(
        &mut self,
        connections: &Arc<Connections>,
        token_hash: &[u8],
    ) -> Result<(), Refusal> {
        self._token = Some(connections.slot(
            Key::Token(token_hash.to_vec()),
            connections.limits.max_per_token,
        )?);
        Ok(())
    }
}

impl Connections {
    /// Counts nothing yet.
    pub fn new(limits: ConnectionLimits, trusted_proxies: Vec<IpAddr>) -> Connections {
        Connections {
            limits,
            trusted_proxies,
            counts: Mutex::default(),
        }
    }

    /// The limits counted against.
    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Every change under the lock is a single counter step, so a panic
        // elsewhere cannot leave the counts half-changed.
        self.counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.contains(&ip)
    }

    /// Admits a new TCP connection from `peer`, counting it in the total and,
    /// unless the peer is a trusted proxy (whose clients are counted by their
    /// forwarded address at the upgrade), against its address.
    pub(crate) fn admit_tcp(self: &Arc<Self>, peer: IpAddr) -> Result<Admission, Refusal> {
        let address = (!self.is_trusted_proxy(peer)).then_some(peer);
        let mut counts = self.lock();
        if counts.total >= self.limits.max_connections {
            return Err(Refusal::Server(self.limits.max_connections));
        }
        if let Some(ip) = address {
            let held = counts.per_address.entry(ip).or_default();
            if *held >= self.limits.max_per_address {
                return Err(Refusal::Address(self.limits.max_per_address));
            }
            *held += 1;
        }
        counts.total += 1;
        drop(counts);
        Ok(Admission {
            connections: self.clone(),
            address,
        })
    }

    /// The client behind a WebSocket upgrade and what its connection holds.
    ///
    /// `X-Forwarded-For` is believed only from a configured trusted proxy:
    /// anyone else could name any address in it. The client is the rightmost
    /// address that is not itself a trusted proxy.
    pub(crate) fn admit_upgrade(
        self: &Arc<Self>,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<(SocketAddr, Held), Refusal> {
        if !self.is_trusted_proxy(peer.ip()) {
            return Ok((peer, Held::default()));
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .rev()
            .find(|ip| !self.is_trusted_proxy(*ip));
        let client = forwarded.unwrap_or(peer.ip());
        let slot = self.slot(Key::Address(client), self.limits.max_per_address)?;
        Ok((
            SocketAddr::new(client, peer.port()),
            Held {
                _address: Some(slot),
                _token: None,
            },
        ))
    }

    fn slot(self: &Arc<Self>, key: Key, max: usize) -> Result<Slot, Refusal> {
        let mut counts = self.lock();
        let held = match &key {
            Key::Address(ip) => counts.per_address.entry(*ip).or_default(),
            Key::Token(hash) => counts.per_token.entry(hash.clone()).or_default(),
        };
        if *held >= max {
            return Err(match key {
                Key::Address(_) => Refusal::Address(max),
                Key::Token(_) => Refusal::Token(max),
            });
        }
        *held += 1;
        drop(counts);
        Ok(Slot {
            connections: self.clone(),
            key,
        })
    }

    fn release(&self, key: &Key) {
        let mut counts = self.lock();
        match key {
            Key::Address(ip) => decrement(&mut counts.per_address, ip),
            Key::Token(hash) => decrement(&mut counts.per_token, hash),
        }
    }
}

/// Lowers a count, forgetting keys that reach zero so the maps stay small.
fn decrement<K: Eq + std::hash::Hash>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = map.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            map.remove(key);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut counts = self.connections.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(ip) = self.address {
            decrement(&mut counts.per_address, &ip);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.release(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_connections: usize, max_per_address: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_per_address,
            max_per_token: 1,
            ..ConnectionLimits::default()
        }
    }

    #[test]
    fn places_come_back_when_dropped() {
        let connections = Arc::new(Connections::new(limits(2, 5), vec![]));
        let a: IpAddr = [10, 0, 0, 1].into();
        let first = connections.admit_tcp(a).expect("room");
        let _second = connections.admit_tcp(a).expect("room");
        assert_eq!(connections.admit_tcp(a).err(), Some(Refusal::Server(2)));
        drop(first);
        assert!(connections.admit_tcp(a).is_ok());
    }

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let connections = Arc::new(Connections::new(limits(100, 1), vec![proxy]));
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.2.3.4, 10.0.0.7, 127.0.0.1".parse().expect("header"),
        );
        let peer = SocketAddr::new(proxy, 5000);
        let (client, held) = connections
            .admit_upgrade(peer, &headers)
            .expect("first from 10.0.0.7");
        assert_eq!(client.ip(), IpAddr::from([10, 0, 0, 7]));
        assert_eq!(
            connections.admit_upgrade(peer, &headers).err(),
            Some(Refusal::Address(1))
        );
        drop(held);
        assert!(connections.admit_upgrade(peer, &headers).is_ok());
        // From anyone else the header is ignored.
        let other = SocketAddr::new([10, 9, 9, 9].into(), 5000);
        let (client, _) = connections
            .admit_upgrade(other, &headers)
            .expect("not counted here");
        assert_eq!(client, other);
    }
}
