//! File tickets: short-lived, file-scoped credentials for `GET /files/<name>`.
//!
//! The session token never appears in a file URL. Instead a client derives a
//! per-session ticket key from its token and signs, for each file, the file's
//! name and an expiry with HMAC-SHA256. The server keeps the same key beside
//! the session (it saw the token at login), so it can check a ticket without
//! ever storing the token; a copied URL opens one file, only until its expiry,
//! and only while the session is live.
//!
//! Expiries are rounded up to a [`BUCKET_MS`] boundary so a file's URL stays the
//! same for a few minutes and the browser's HTTP cache keeps working.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Expiries are multiples of this (4 minutes).
pub const BUCKET_MS: i64 = 4 * 60_000;
/// The longest a server accepts a ticket before its expiry (10 minutes). A
/// client's ticket lives 4 to 8 minutes; the rest tolerates a client clock
/// that runs up to 2 minutes fast.
pub const MAX_LIFETIME_MS: i64 = 10 * 60_000;

type HmacSha256 = Hmac<Sha256>;

/// The key that signs one session's tickets.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey([u8; 32]);

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

impl TicketKey {
    /// The ticket key of the session whose token is `token`. It is derived
    /// with its own label, so neither the token nor its stored hash can be
    /// recovered from it, nor it from the hash.
    pub fn from_token(token: &str) -> TicketKey {
        let mut hasher = Sha256::new();
        hasher.update(b"penpen file ticket key\0");
        hasher.update(token.as_bytes());
        TicketKey(hasher.finalize().into())
    }

    /// A key kept by the server.
    pub fn from_bytes(bytes: [u8; 32]) -> TicketKey {
        TicketKey(bytes)
    }

    /// The key's bytes, for the server to keep.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, name: &str, expiry_ms: i64, session: &SessionTag) -> HmacSha256 {
        // A key of any length is accepted by HMAC; 32 bytes cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(name.as_bytes());
        mac.update(b"\0");
        mac.update(expiry_ms.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(&session.0);
        mac
    }
}

/// Names a session in a ticket: the first 8 bytes of its token's SHA-256
/// (the hash the server stores), so the server finds the session's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTag(pub [u8; 8]);

impl SessionTag {
    /// The tag of the session whose token is `token`.
    pub fn from_token(token: &str) -> SessionTag {
        SessionTag::from_token_hash(&Sha256::digest(token.as_bytes()))
    }

    /// The tag of a stored token hash (which is 32 bytes; a shorter one is padded).
    pub fn from_token_hash(hash: &[u8]) -> SessionTag {
        let mut tag = [0u8; 8];
        for (slot, byte) in tag.iter_mut().zip(hash) {
            *slot = *byte;
        }
        SessionTag(tag)
    }
}

/// A ticket as it appears in `?ticket=`: `<expiry ms>.<session tag hex>.<mac hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Unix milliseconds after which the ticket opens nothing.
    pub expiry_ms: i64,
    /// The session that signed it.
    pub session: SessionTag,
    mac: [u8; 32],
}

/// Why a ticket is not even well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed file ticket; expected <expiry ms>.<16 hex digits>.<64 hex digits>")]
pub struct TicketError;

impl Ticket {
    /// Signs a ticket for `name` that expires at `expiry_ms`.
    pub fn mint(key: &TicketKey, session: SessionTag, name: &str, expiry_ms: i64) -> Ticket {
        let mac = key
            .mac(name, expiry_ms, &session)
            .finalize()
            .into_bytes()
            .into();
        Ticket {
            expiry_ms,
            session,
            mac,
        }
    }

    /// Reads the text of `?ticket=`.
    pub fn parse(text: &str) -> Result<Ticket, TicketError> {
        let mut parts = text.split('.');
        let (Some(expiry), Some(session), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TicketError);
        };
        if !expiry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TicketError);
        }
        Ok(Ticket {
            expiry_ms: expiry.parse().map_err(|_| TicketError)?,
            session: SessionTag(hex_array(session)?),
            mac: hex_array(mac)?,
        })
    }

    /// Whether this ticket was signed with `key` for `name` (in constant time).
    pub fn signed_for(&self, key: &TicketKey, name: &str) -> bool {
        key.mac(name, self.expiry_ms, &self.session)
            .verify_slice(&self.mac)
            .is_ok()
    }
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.", self.expiry_ms)?;
        let mut hex = String::with_capacity(2 * (8 + 32) + 1);
        for byte in self.session.0 {
            let _ = write!(hex, "{byte:02x}");
        }
        hex.push('.');
        for byte in self.mac {
            let _ = write!(hex, "{byte:02x}");
        }
        f.write_str(&hex)
    }
}

/// The expiry a client puts in a ticket made at `now_ms`: the end of the
/// next bucket, so every ticket made within one bucket is the same.
pub fn expiry_for(now_ms: i64) -> i64 {
    (now_ms.div_euclid(BUCKET_MS) + 2) * BUCKET_MS
}

fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], TicketError> {
    if text.len() != 2 * N {
        return Err(TicketError);
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let digits = std::str::from_utf8(pair).map_err(|_| TicketError)?;
        *slot = u8::from_str_radix(digits, 16).map_err(|_| TicketError)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_ticket_round_trips_and_opens_only_its_file() {
        let key = TicketKey::from_token(TOKEN);
        let tag = SessionTag::from_token(TOKEN);
        let ticket = Ticket::mint(&key, tag, "1002.png", 1_700_000_160_000);
        let text = ticket.to_string();
        let parsed = Ticket::parse(&text).expect("parses");
        assert_eq!(parsed, ticket);
        assert!(parsed.signed_for(&key, "1002.png"));
        assert!(!parsed.signed_for(&key, "1003.png"));
        assert!(!parsed.signed_for(&TicketKey::from_token("other"), "1002.png"));
        // Another expiry with the same MAC is refused.
        let moved = text.replacen("1700000160000", "1700000400000", 1);
        assert!(
            !Ticket::parse(&moved)
                .expect("parses")
                .signed_for(&key, "1002.png")
        );
    }

    #[test]
    fn the_tag_is_the_start_of_the_token_hash() {
        let hash = Sha256::digest(TOKEN.as_bytes());
        assert_eq!(SessionTag::from_token(TOKEN).0, hash[..8]);
        assert_ne!(TicketKey::from_token(TOKEN).as_bytes()[..], hash[..]);
    }

    #[test]
    fn expiries_are_stable_within_a_bucket_and_short() {
        let start = 10 * BUCKET_MS;
        assert_eq!(expiry_for(start), expiry_for(start + BUCKET_MS - 1));
        for now in [start, start + BUCKET_MS - 1] {
            let life = expiry_for(now) - now;
            assert!(life > BUCKET_MS && life <= 2 * BUCKET_MS);
            assert!(life <= MAX_LIFETIME_MS);
        }
    }

    #[test]
    fn malformed_tickets_are_refused() {
        for text in [
            "",
            "1.2",
            "x.0011223344556677.00",
            "1.0011.00",
            "-1.0011223344556677.00",
        ] {
            assert_eq!(Ticket::parse(text), Err(TicketError), "{text}");
        }
    }
}
