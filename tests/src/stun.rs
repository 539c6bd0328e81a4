//! Just enough STUN (RFC 8489) and TURN (RFC 8656) to check a TURN server
//! the way a browser uses it: a Binding request (is it up?) and an Allocate
//! with long-term credentials (do the server's credentials work?), over UDP.
//!
//! Not a general STUN stack: no TCP or TLS, no FINGERPRINT, no SASLprep
//! (the credentials tested are ASCII), IPv4 addresses only.

use anyhow::{Context as _, bail};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Every STUN message since RFC 5389 carries it after the length.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
const HEADER_BYTES: usize = 20;
/// The MESSAGE-INTEGRITY attribute: 4 bytes of type and length, 20 of HMAC-SHA1.
const INTEGRITY_BYTES: usize = 24;

/// Message types (method and class together).
pub mod kind {
    /// Binding request.
    pub const BINDING_REQUEST: u16 = 0x0001;
    /// Binding success response.
    pub const BINDING_SUCCESS: u16 = 0x0101;
    /// Allocate request.
    pub const ALLOCATE_REQUEST: u16 = 0x0003;
    /// Allocate success response.
    pub const ALLOCATE_SUCCESS: u16 = 0x0103;
    /// Allocate error response.
    pub const ALLOCATE_ERROR: u16 = 0x0113;
}

/// Attribute types.
pub mod attribute {
    /// The long-term username.
    pub const USERNAME: u16 = 0x0006;
    /// HMAC-SHA1 of the message under the long-term key.
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    /// An error response's code and reason.
    pub const ERROR_CODE: u16 = 0x0009;
    /// The realm of the long-term credentials.
    pub const REALM: u16 = 0x0014;
    /// The server's nonce.
    pub const NONCE: u16 = 0x0015;
    /// The relayed transport address of an allocation.
    pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
    /// The transport the relay should use (17: UDP).
    pub const REQUESTED_TRANSPORT: u16 = 0x0019;
    /// The client's address as the server saw it.
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
}

/// UDP's IANA protocol number, for REQUESTED-TRANSPORT.
const UDP: u8 = 17;

/// One STUN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message type (see [`kind`]).
    pub kind: u16,
    /// The transaction id a response repeats.
    pub transaction: [u8; 12],
    /// (type, value) in order, values without their padding.
    pub attributes: Vec<(u16, Vec<u8>)>,
}

impl Message {
    /// A request of `kind` with a transaction id of its own.
    pub fn request(kind: u16) -> Message {
        Message {
            kind,
            transaction: new_transaction(),
            attributes: Vec::new(),
        }
    }

    /// The message with one more attribute.
    pub fn with(mut self, kind: u16, value: impl Into<Vec<u8>>) -> Message {
        self.attributes.push((kind, value.into()));
        self
    }

    /// The bytes on the wire; with `integrity_key`, a MESSAGE-INTEGRITY
    /// attribute last, over everything before it (RFC 8489 §14.5: the
    /// length in the header already counts the integrity attribute).
    pub fn encode(&self, integrity_key: Option<&[u8]>) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in &self.attributes {
            body.extend_from_slice(&kind.to_be_bytes());
            let length = u16::try_from(value.len()).unwrap_or(u16::MAX);
            body.extend_from_slice(&length.to_be_bytes());
            body.extend_from_slice(value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        let integrity = if integrity_key.is_some() {
            INTEGRITY_BYTES
        } else {
            0
        };
        let mut bytes = header(self.kind, body.len() + integrity, &self.transaction);
        bytes.extend_from_slice(&body);
        if let Some(key) = integrity_key {
            let mac = hmac_sha1(key, &bytes);
            bytes.extend_from_slice(&attribute::MESSAGE_INTEGRITY.to_be_bytes());
            bytes.extend_from_slice(&20u16.to_be_bytes());
            bytes.extend_from_slice(&mac);
        }
        bytes
    }

    /// Reads a message, checking the header (cookie, length) and the
    /// attributes' lengths.
    pub fn decode(bytes: &[u8]) -> anyhow::Result<Message> {
        if bytes.len() < HEADER_BYTES {
            bail!(
                "a STUN message of {} bytes; expected at least the 20-byte header",
                bytes.len()
            );
        }
        let kind = u16::from_be_bytes([bytes[0], bytes[1]]);
        let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        let cookie = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        if kind & 0xC000 != 0 || cookie != MAGIC_COOKIE {
            bail!("not a STUN message: type {kind:#06x}, cookie {cookie:#010x}");
        }
        if length != bytes.len() - HEADER_BYTES || length % 4 != 0 {
            bail!(
                "the STUN header says {length} bytes of attributes, the datagram has {}",
                bytes.len() - HEADER_BYTES
            );
        }
        let mut transaction = [0; 12];
        transaction.copy_from_slice(&bytes[8..HEADER_BYTES]);
        let mut attributes = Vec::new();
        let mut at = HEADER_BYTES;
        while at < bytes.len() {
            let Some(head) = bytes.get(at..at + 4) else {
                bail!("a STUN attribute header is cut at byte {at}");
            };
            let attr = u16::from_be_bytes([head[0], head[1]]);
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let Some(value) = bytes.get(at + 4..at + 4 + len) else {
                bail!("STUN attribute {attr:#06x} claims {len} bytes past the message's end");
            };
            attributes.push((attr, value.to_vec()));
            at += 4 + len.next_multiple_of(4);
        }
        Ok(Message {
            kind,
            transaction,
            attributes,
        })
    }

    /// The first value of attribute `kind`.
    pub fn attribute(&self, kind: u16) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of attribute `kind` as text.
    pub fn text(&self, kind: u16) -> Option<String> {
        self.attribute(kind)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// An error response's ERROR-CODE: the number (401, 441…) and the reason.
    pub fn error_code(&self) -> Option<(u16, String)> {
        let value = self.attribute(attribute::ERROR_CODE)?;
        let class = u16::from(*value.get(2)? & 0x07);
        let number = u16::from(*value.get(3)?);
        let reason = String::from_utf8_lossy(value.get(4..)?).into_owned();
        Some((class * 100 + number, reason))
    }

    /// An XOR-…-ADDRESS attribute (IPv4), un-XORed.
    pub fn xor_address(&self, kind: u16) -> Option<SocketAddr> {
        let value = self.attribute(kind)?;
        if value.len() != 8 || value[1] != 0x01 {
            return None;
        }
        let cookie = MAGIC_COOKIE.to_be_bytes();
        let port = u16::from_be_bytes([value[2] ^ cookie[0], value[3] ^ cookie[1]]);
        let ip = Ipv4Addr::new(
            value[4] ^ cookie[0],
            value[5] ^ cookie[1],
            value[6] ^ cookie[2],
            value[7] ^ cookie[3],
        );
        Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
    }
}

/// Whether `raw` (a whole message as received) carries a MESSAGE-INTEGRITY
/// that is right under `key`. Attributes after it (FINGERPRINT) are not
/// covered, as RFC 8489 §14.5 says.
pub fn integrity_holds(raw: &[u8], key: &[u8]) -> bool {
    let mut at = HEADER_BYTES;
    while let Some(head) = raw.get(at..at + 4) {
        let attr = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if attr == attribute::MESSAGE_INTEGRITY {
            let Some(mac) = raw.get(at + 4..at + 4 + 20) else {
                return false;
            };
            let mut covered = raw[..at].to_vec();
            let length = u16::try_from(at + INTEGRITY_BYTES - HEADER_BYTES).unwrap_or(u16::MAX);
            covered[2..4].copy_from_slice(&length.to_be_bytes());
            return hmac_sha1(key, &covered) == mac;
        }
        at += 4 + len.next_multiple_of(4);
    }
    false
}

/// The long-term credential key: MD5(username ":" realm ":" password).
pub fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    Md5::digest(format!("{username}:{realm}:{password}").as_bytes()).into()
}

fn hmac_sha1(key: &[u8], bytes: &[u8]) -> [u8; 20] {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key)
        .expect("invariant: HMAC accepts keys of every length");
    mac.update(bytes);
    mac.finalize().into_bytes().into()
}

fn header(kind: u16, length: usize, transaction: &[u8; 12]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + length);
    bytes.extend_from_slice(&kind.to_be_bytes());
    bytes.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
    bytes.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    bytes.extend_from_slice(transaction);
    bytes
}

/// A transaction id unlikely to repeat within a test run (uniqueness is
/// all STUN asks of it; nothing here is a secret).
fn new_transaction() -> [u8; 12] {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut id = [0; 12];
    id[..8].copy_from_slice(&crate::now_nanos().to_be_bytes());
    id[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    id
}

/// Sends `request` (already encoded) from `socket` until a response with
/// its transaction id comes, resending every `resend` (UDP may drop
/// either), for at most `wait`; the response decoded, and its raw bytes.
pub async fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    transaction: [u8; 12],
    request: &[u8],
    resend: Duration,
    wait: Duration,
) -> anyhow::Result<(Message, Vec<u8>)> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = vec![0; 2048];
    while tokio::time::Instant::now() < deadline {
        socket
            .send_to(request, server)
            .await
            .with_context(|| format!("sending a STUN request to {server}"))?;
        let until = (tokio::time::Instant::now() + resend).min(deadline);
        while let Ok(received) = tokio::time::timeout_at(until, socket.recv_from(&mut buffer)).await
        {
            let (n, from) = received.context("receiving a STUN response")?;
            if from != server {
                continue;
            }
            let raw = buffer[..n].to_vec();
            match Message::decode(&raw) {
                Ok(message) if message.transaction == transaction => return Ok((message, raw)),
                _ => continue,
            }
        }
    }
    bail!("no STUN response from {server} within {wait:?}")
}

/// Whether a STUN server answers a Binding request on `server` within
/// `wait` (one request, resent every 200 ms).
pub async fn answers_binding(server: SocketAddr, wait: Duration) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0").await else {
        return false;
    };
    let request = Message::request(kind::BINDING_REQUEST);
    let bytes = request.encode(None);
    matches!(
        exchange(&socket, server, request.transaction, &bytes, Duration::from_millis(200), wait).await,
        Ok((response, _)) if response.kind == kind::BINDING_SUCCESS
    )
}

/// What an Allocate with long-term credentials came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    /// The server relays for us from this address.
    Relayed {
        /// XOR-RELAYED-ADDRESS.
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS: our address as the server saw it.
        mapped: Option<SocketAddr>,
    },
    /// The authenticated Allocate was refused (401: wrong credentials,
    /// 441: wrong credentials for this allocation, …).
    Refused {
        /// The ERROR-CODE number.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
}

/// How long one TURN exchange may take on a busy machine.
const EXCHANGE_WAIT: Duration = Duration::from_secs(15);
const RESEND: Duration = Duration::from_millis(500);

/// Allocates a UDP relay on the TURN server at `server` as a browser does
/// (RFC 8656 §7.2, long-term credentials of RFC 8489 §9.2): an Allocate
/// without credentials must be answered 401 with a REALM and a NONCE; the
/// Allocate that follows carries USERNAME, REALM, NONCE and a
/// MESSAGE-INTEGRITY keyed with MD5(username:realm:password). A success
/// must carry a XOR-RELAYED-ADDRESS and an integrity that holds under the
/// same key. From a new local port each time, so that no earlier
/// allocation is in the way.
pub async fn allocate(
    server: SocketAddr,
    username: &str,
    password: &str,
) -> anyhow::Result<Allocation> {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .context("a local UDP port for the TURN client")?;
    let transport = [UDP, 0, 0, 0];
    let first =
        Message::request(kind::ALLOCATE_REQUEST).with(attribute::REQUESTED_TRANSPORT, transport);
    let (challenge, _) = exchange(
        &socket,
        server,
        first.transaction,
        &first.encode(None),
        RESEND,
        EXCHANGE_WAIT,
    )
    .await?;
    let mut challenge = challenge;
    // A stale nonce (438) gets one more try with the new one.
    for _ in 0..2 {
        let code = challenge.error_code().map(|(code, _)| code);
        if challenge.kind != kind::ALLOCATE_ERROR || !matches!(code, Some(401 | 438)) {
            bail!(
                "an Allocate without credentials got {:#06x} {:?}; expected a 401 challenge",
                challenge.kind,
                challenge.error_code()
            );
        }
        let (Some(realm), Some(nonce)) = (
            challenge.text(attribute::REALM),
            challenge.attribute(attribute::NONCE).map(<[u8]>::to_vec),
        ) else {
            bail!("the 401 challenge lacks a REALM or a NONCE: {challenge:?}");
        };
        let key = long_term_key(username, &realm, password);
        let request = Message::request(kind::ALLOCATE_REQUEST)
            .with(attribute::REQUESTED_TRANSPORT, transport)
            .with(attribute::USERNAME, username.as_bytes())
            .with(attribute::REALM, realm.as_bytes())
            .with(attribute::NONCE, nonce);
        let (response, raw) = exchange(
            &socket,
            server,
            request.transaction,
            &request.encode(Some(&key)),
            RESEND,
            EXCHANGE_WAIT,
        )
        .await?;
        match response.kind {
            kind::ALLOCATE_SUCCESS => {
                if !integrity_holds(&raw, &key) {
                    bail!("the Allocate success's MESSAGE-INTEGRITY does not hold under our key");
                }
                let Some(relayed) = response.xor_address(attribute::XOR_RELAYED_ADDRESS) else {
                    bail!("the Allocate success has no IPv4 XOR-RELAYED-ADDRESS: {response:?}");
                };
                return Ok(Allocation::Relayed {
                    relayed,
                    mapped: response.xor_address(attribute::XOR_MAPPED_ADDRESS),
                });
            }
            kind::ALLOCATE_ERROR => match response.error_code() {
                Some((438, _)) => challenge = response,
                Some((code, reason)) => return Ok(Allocation::Refused { code, reason }),
                None => bail!("an Allocate error without an ERROR-CODE: {response:?}"),
            },
            other => bail!("an Allocate got a message of type {other:#06x}: {response:?}"),
        }
    }
    bail!("the TURN server called the nonce stale twice")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_5769_long_term_request_vector_encodes_and_checks() {
        // RFC 5769 §2.4: a request with long-term authentication. Its
        // username and password are Unicode that SASLprep leaves alone.
        let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
        let password = "TheMatrIX";
        let realm = "example.org";
        let nonce = "f//499k954d6OL34oL9FSTvy64sA";
        let transaction = [
            0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
        ];
        let message = Message {
            kind: kind::BINDING_REQUEST,
            transaction,
            attributes: vec![
                (attribute::USERNAME, username.as_bytes().to_vec()),
                (attribute::NONCE, nonce.as_bytes().to_vec()),
                (attribute::REALM, realm.as_bytes().to_vec()),
            ],
        };
        let key = long_term_key(username, realm, password);
        let bytes = message.encode(Some(&key));
        let expected_mac = [
            0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85,
            0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
        ];
        assert_eq!(&bytes[bytes.len() - 20..], expected_mac);
        assert!(integrity_holds(&bytes, &key));
        assert!(!integrity_holds(
            &bytes,
            &long_term_key(username, realm, "x")
        ));
        let back = Message::decode(&bytes).expect("decodes");
        assert_eq!(back.text(attribute::REALM).as_deref(), Some(realm));
        assert_eq!(back.transaction, transaction);
    }

    #[test]
    fn addresses_and_error_codes_read_as_rfc_5769_writes_them() {
        // RFC 5769 §2.2's XOR-MAPPED-ADDRESS: 192.0.2.1:32853.
        let message = Message {
            kind: kind::BINDING_SUCCESS,
            transaction: [0; 12],
            attributes: vec![
                (
                    attribute::XOR_MAPPED_ADDRESS,
                    vec![0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43],
                ),
                (
                    attribute::ERROR_CODE,
                    [&[0, 0, 4, 41][..], b"Wrong Credentials"].concat(),
                ),
            ],
        };
        let decoded = Message::decode(&message.encode(None)).expect("decodes");
        assert_eq!(
            decoded.xor_address(attribute::XOR_MAPPED_ADDRESS),
            Some("192.0.2.1:32853".parse().expect("an address"))
        );
        assert_eq!(
            decoded.error_code(),
            Some((441, "Wrong Credentials".to_owned()))
        );
    }

    #[test]
    fn broken_messages_are_refused() {
        assert!(Message::decode(&[0; 8]).is_err());
        let mut bytes = Message::request(kind::BINDING_REQUEST)
            .with(attribute::REALM, "r")
            .encode(None);
        bytes[4] ^= 1;
        assert!(Message::decode(&bytes).is_err(), "the cookie is checked");
        let mut bytes = Message::request(kind::BINDING_REQUEST)
            .with(attribute::REALM, "r")
            .encode(None);
        bytes[23] = 40;
        assert!(
            Message::decode(&bytes).is_err(),
            "an attribute past the end"
        );
    }
}
