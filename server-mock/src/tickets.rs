//! Serving stored files to holders of a file ticket (`penpen_core::tickets`).
//!
//! `GET /files/<name>?ticket=<expiry>.<session tag>.<mac>` opens one file while
//! the ticket has not expired, its expiry is no further away than the
//! configured maximum, the session that signed it is live, and that session's
//! user may see the file. Every refusal is the same 401 or 404 as for a file
//! that does not exist, so a ticket says nothing about other files.

use crate::context::{Context, now_ms};
use crate::revocation::Standing;
use crate::services::files::{self, Download};
use crate::store::sessions;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use penpen_core::tickets::{Ticket, TicketKey};

/// Headers of every answer with a stored file's bytes: the browser must not
/// guess another type than the stored one, nor run or frame it as a page of
/// our origin; no other origin may read it with a script.
const FILE_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    ),
    (header::CACHE_CONTROL, "private, max-age=600"),
];

fn refused(status: StatusCode, reason: &'static str) -> Response {
    (
        status,
        [(header::X_CONTENT_TYPE_OPTIONS, "nosniff")],
        reason,
    )
        .into_response()
}

/// Answers one file request.
pub async fn download(context: &Context, name: &str, ticket: Option<&str>) -> Response {
    let user = match ticket_user(context, name, ticket).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    match files::download(context, &user, name).await {
        Ok(Download::File(bytes, mime)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            if let Ok(mime) = HeaderValue::from_str(&mime) {
                headers.insert(header::CONTENT_TYPE, mime);
            }
            file_headers(headers);
            response
        }
        Ok(Download::NotFound) => not_found(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The answer for a file that does not exist or that the user may not see.
pub fn not_found() -> Response {
    refused(StatusCode::NOT_FOUND, "no such file")
}

/// Puts the headers of every answer with a stored file's bytes.
pub fn file_headers(headers: &mut axum::http::HeaderMap) {
    for (name, value) in FILE_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The user of the live session whose ticket opens the file `name`, or the
/// refusal to answer.
pub async fn ticket_user(
    context: &Context,
    name: &str,
    ticket: Option<&str>,
) -> Result<penpen_core::UserId, Response> {
    let Some(ticket) = ticket.filter(|t| !t.is_empty()) else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "missing ?ticket=: file URLs carry a file ticket (see PROTOCOL.md, file tickets)",
        ));
    };
    let Ok(ticket) = Ticket::parse(ticket) else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "malformed ?ticket=; expected <expiry ms>.<16 hex digits>.<64 hex digits>",
        ));
    };
    let now = now_ms();
    let longest = i64::try_from(context.policy.ticket_max_lifetime.as_millis()).unwrap_or(i64::MAX);
    if ticket.expiry_ms <= now {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "this file ticket has expired",
        ));
    }
    if ticket.expiry_ms.saturating_sub(now) > longest {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "this file ticket lives too long (is the device's clock right?)",
        ));
    }
    let tag = ticket.session.0;
    let candidates = match context
        .store
        .read(move |conn| sessions::sessions_tagged(conn, &tag))
        .await
    {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(%err, "cannot look up a file ticket's session");
            return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    let signer = candidates.into_iter().find(|session| {
        session
            .ticket_key
            .is_some_and(|key| ticket.signed_for(&TicketKey::from_bytes(key), name))
    });
    let Some(session) = signer else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "this file ticket is not valid",
        ));
    };
    if Standing::of(&session, now, &context.policy) != Standing::Live {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "the session of this file ticket has ended; log in again",
        ));
    }
    Ok(session.user)
}
