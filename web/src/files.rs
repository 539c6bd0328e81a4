//! URLs of stored files, with file tickets instead of the session token.
//!
//! A file URL is `http://HOST:PORT/files/NAME?ticket=EXPIRY.TAG.MAC`
//! (`penpen_core::tickets`): it opens that one file for 4 to 8 minutes, and
//! stays the same within a 4-minute bucket so the browser's HTTP cache works.
//! The ticket is signed here, from the session token, without asking the
//! server; the token itself never appears in a URL. A page that stays open
//! longer renews a URL when it fails to load ([`renewed`]): the ticket keys
//! of this page's sessions are kept in memory for that.

use penpen_core::sorted_map::SortedMap;
use penpen_core::tickets::{SessionTag, Ticket, TicketKey, expiry_for};
use std::cell::RefCell;

thread_local! {
    /// The ticket keys this page signed with, by session tag.
    static KEYS: RefCell<SortedMap<[u8; 8], TicketKey>> = RefCell::new(SortedMap::new());
}

/// Now, in Unix milliseconds (the browser's clock).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The URL of file `name` under `base` (`http://HOST:PORT/`), with a ticket
/// of the session whose token is `token`, valid from `now_ms`.
pub fn ticket_url(base: &str, name: &str, token: &str, now_ms: i64) -> String {
    let key = TicketKey::from_token(token);
    let tag = SessionTag::from_token(token);
    KEYS.with(|keys| keys.borrow_mut().insert(tag.0, key.clone()));
    signed_url(base, name, &key, tag, now_ms)
}

fn signed_url(base: &str, name: &str, key: &TicketKey, tag: SessionTag, now_ms: i64) -> String {
    let ticket = Ticket::mint(key, tag, name, expiry_for(now_ms));
    // Server-chosen names are `<digits>.<ext>`; anything else is escaped.
    let escaped: String = js_sys::encode_uri_component(name).into();
    format!("{base}files/{escaped}?ticket={ticket}")
}

/// A fresh URL for a file URL whose ticket is from an earlier bucket (it may
/// have expired), or `None` when it is current or not ours. Called when an
/// image or a recording fails to load; at most one renewal per bucket, so a
/// file that is really gone does not loop.
pub fn renewed(url: &str) -> Option<String> {
    let (path, ticket) = url.split_once("?ticket=")?;
    let (base, escaped) = path.rsplit_once("files/")?;
    let ticket = Ticket::parse(ticket).ok()?;
    let now = now_ms();
    if ticket.expiry_ms >= expiry_for(now) {
        return None;
    }
    let key = KEYS.with(|keys| keys.borrow().get(&ticket.session.0).cloned())?;
    let name: String = js_sys::decode_uri_component(escaped).ok()?.into();
    Some(signed_url(base, &name, &key, ticket.session, now))
}

/// `url`, renewed if its ticket is from an earlier bucket.
pub fn fresh(url: &str) -> String {
    renewed(url).unwrap_or_else(|| url.to_owned())
}
