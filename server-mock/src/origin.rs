//! The `Origin` check: a page from another site must not open a WebSocket to
//! this server (or fetch its files) with the user's browser.
//!
//! Requests without `Origin` pass: native clients do not send it, and
//! browsers always do on WebSocket upgrades and cross-origin fetches.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Which page origins may use this server.
#[derive(Debug, Clone)]
pub(crate) struct OriginPolicy {
    /// Exact origins (`scheme://host[:port]`, lower case); when empty, the
    /// same-host rule below applies instead.
    allowed: Arc<[String]>,
    /// Host names that are this server's own besides the request's `Host`.
    own_hosts: Arc<[String]>,
}

impl OriginPolicy {
    /// `allowed` as configured (`--allowed-origin`); `own_hosts` are names the
    /// server is known by (its TLS names, its listening address).
    pub(crate) fn new(allowed: &[String], own_hosts: &[String]) -> OriginPolicy {
        OriginPolicy {
            allowed: allowed.iter().map(|o| normalise(o)).collect(),
            own_hosts: own_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a page from `origin` may use the server reached as `host`.
    ///
    /// Without a configured list: a page whose host is the one the request
    /// was sent to (any port: the app is served from another port than the
    /// services), localhost, a loopback address, or one of the server's own
    /// names.
    pub(crate) fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = normalise(origin);
        if !self.allowed.is_empty() {
            return self.allowed.contains(&origin);
        }
        let Some((_, rest)) = origin.split_once("://") else {
            // "null" (a sandboxed frame, a file) or something unreadable.
            return false;
        };
        let origin_host = host_part(rest);
        if origin_host.is_empty() {
            return false;
        }
        matches!(origin_host, "localhost" | "127.0.0.1" | "[::1]")
            || host.is_some_and(|h| host_part(&h.to_ascii_lowercase()) == origin_host)
            || self.own_hosts.iter().any(|own| own == origin_host)
    }
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The host of `host[:port]`, keeping an IPv6 address's brackets.
fn host_part(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or_default()
}

/// Middleware: refuses a request whose `Origin` is not allowed, with 403 and
/// the reason.
pub(crate) async fn check(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let allowed = origin.to_str().is_ok_and(|o| policy.allows(o, host));
        if !allowed {
            let shown = String::from_utf8_lossy(origin.as_bytes())
                .chars()
                .take(200)
                .collect::<String>();
            tracing::debug!(origin = %shown, "refused a request from another site");
            return (
                StatusCode::FORBIDDEN,
                format!(
                    "pages from {shown} may not use this server; expected a page of this server's own host (the deployment may allow more with --allowed-origin)"
                ),
            )
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_on_any_port_and_loopback_pass_by_default() {
        let policy = OriginPolicy::new(&[], &["penpen.lan".to_owned()]);
        let host = Some("10.0.0.5:20888");
        assert!(policy.allows("http://10.0.0.5:8080", host));
        assert!(policy.allows("https://PENPEN.lan", host));
        assert!(policy.allows("http://localhost:8080", host));
        assert!(policy.allows("http://[::1]:8080", Some("[::1]:20888")));
        assert!(!policy.allows("https://evil.example", host));
        assert!(!policy.allows("https://10.0.0.5.evil.example", host));
        assert!(!policy.allows("null", host));
        assert!(!policy.allows("https://evil.example", None));
    }

    #[test]
    fn a_configured_list_is_exact() {
        let policy = OriginPolicy::new(&["https://chat.example.com/".to_owned()], &[]);
        assert!(policy.allows("https://chat.example.com", Some("x")));
        assert!(!policy.allows("http://chat.example.com", Some("chat.example.com")));
        assert!(!policy.allows("http://localhost:8080", Some("localhost:20888")));
    }
}
