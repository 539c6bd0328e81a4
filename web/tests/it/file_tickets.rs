//! File URLs carry a ticket signed from the session token, never the token,
//! and a URL from an earlier bucket is renewed once when it fails to load.

use penpen_core::tickets::{BUCKET_MS, Ticket, TicketKey};
use penpen_web::files::{fresh, now_ms, renewed, ticket_url};
use wasm_bindgen_test::*;

fn ticket_of(url: &str) -> Ticket {
    let (_, text) = url.split_once("?ticket=").expect("a ticket");
    Ticket::parse(text).expect("a well-formed ticket")
}

#[wasm_bindgen_test]
fn a_file_url_carries_a_ticket_for_that_file_only() {
    let token = "ab".repeat(32);
    let url = ticket_url("http://127.0.0.1:22888/", "1002.png", &token, now_ms());
    assert!(
        url.starts_with("http://127.0.0.1:22888/files/1002.png?ticket="),
        "{url}"
    );
    assert!(!url.contains(&token), "never the token: {url}");
    let ticket = ticket_of(&url);
    let key = TicketKey::from_token(&token);
    assert!(ticket.signed_for(&key, "1002.png"));
    assert!(!ticket.signed_for(&key, "1003.png"));
    // Within a bucket the URL stays the same (the HTTP cache works).
    assert_eq!(
        url,
        ticket_url("http://127.0.0.1:22888/", "1002.png", &token, now_ms())
    );
    assert_eq!(renewed(&url), None, "a current ticket is not renewed");
}

#[wasm_bindgen_test]
fn an_old_url_is_renewed_once_with_the_same_session() {
    let token = "cd".repeat(32);
    let old = ticket_url(
        "http://127.0.0.1:23888/",
        "7.ogg",
        &token,
        now_ms() - 3 * BUCKET_MS,
    );
    let renewed_url = renewed(&old).expect("an earlier bucket's URL is renewed");
    assert!(renewed_url.starts_with("http://127.0.0.1:23888/files/7.ogg?ticket="));
    let ticket = ticket_of(&renewed_url);
    assert!(ticket.expiry_ms > now_ms());
    assert!(ticket.signed_for(&TicketKey::from_token(&token), "7.ogg"));
    assert_eq!(renewed(&renewed_url), None, "at most once per bucket");
    assert_eq!(fresh(&renewed_url), renewed_url);
    // A URL this page never signed is left alone.
    assert_eq!(renewed("http://127.0.0.1:23888/files/7.ogg?token=x"), None);
}
