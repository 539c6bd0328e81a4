//! `GET /files/<name>?ticket=…` on 28888: a stored file of any kind, to a user
//! who may see some message that names it, as an attachment under its
//! original name, never sniffed, and streamed from disk in pieces (a 100 MiB
//! file is never in memory), with single `Range` requests answered 206.

use crate::context::Context;
use crate::services::files::folder;
use crate::store::StoreError;
use crate::store::db::Db;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use penpen_core::UserId;
use penpen_core::sniff::FileKind;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How much of the file is read at a time.
const PIECE: usize = 64 * 1024;

/// Whether `name` could be a file this server stored on 28888.
pub fn is_stored_file_name(name: &str) -> bool {
    let Some((stem, extension)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_hexdigit())
        && FileKind::EXTENSIONS.contains(&extension)
}

/// A stored file as one reader may fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visible {
    /// The recorded kind's MIME type.
    pub mime: String,
    /// The original name, from a message the reader may see.
    pub original: Option<String>,
}

/// The file `name` if `user` may see some message that names it (the file's
/// own message, or a forwarded copy: one rule for every port's files).
pub fn visible(conn: &Db<'_>, user: &UserId, name: &str) -> Result<Option<Visible>, StoreError> {
    crate::services::files::visible_file(conn, user, name)
}

/// `attachment; filename*=UTF-8''<percent-encoded name>` (RFC 6266, 5987),
/// with a plain ASCII `filename` for old clients.
pub fn content_disposition(original: &str) -> String {
    let mut encoded = String::new();
    for byte in original.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let ascii: String = original
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A `Range` header no byte of the file satisfies (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// One byte range, `start..=end`, of a file of `total` bytes; `Err` when the
/// range cannot be satisfied, `Ok(None)` for no (or an unsupported) range.
pub fn parse_range(header: Option<&str>, total: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // several ranges: the whole file is as good an answer
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().map_err(|_| Unsatisfiable)?;
        if suffix == 0 || total == 0 {
            return Err(Unsatisfiable);
        }
        (total.saturating_sub(suffix), total - 1)
    } else {
        let start: u64 = first.parse().map_err(|_| Unsatisfiable)?;
        let end = if last.is_empty() {
            total.saturating_sub(1)
        } else {
            last.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .min(total.saturating_sub(1))
        };
        if start >= total || end < start {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// Answers a GET for the stored file `name` by `user`.
pub async fn serve(context: &Context, user: &UserId, name: &str, request: &HeaderMap) -> Response {
    if !is_stored_file_name(name) {
        return crate::tickets::not_found();
    }
    let (who, wanted) = (user.clone(), name.to_owned());
    let found = match context
        .store
        .read(move |conn| visible(conn, &who, &wanted))
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return crate::tickets::not_found(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let Ok(mut file) = tokio::fs::File::open(folder(&context.data_dir).join(name)).await else {
        return crate::tickets::not_found();
    };
    let Ok(total) = file.metadata().await.map(|m| m.len()) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let range = request
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, start, end) = match parse_range(range, total) {
        Ok(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Ok(None) => (StatusCode::OK, 0, total.saturating_sub(1)),
        Err(Unsatisfiable) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let length = if total == 0 { 0 } else { end - start + 1 };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let pieces = futures_util::stream::unfold((file, length), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buffer = vec![0u8; PIECE.min(left as usize)];
        match file.read(&mut buffer).await {
            Ok(0) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the stored file ended early",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), (file, left - n as u64)))
            }
            Err(err) => Some((Err(err), (file, 0))),
        }
    });
    let mut response = Response::new(Body::from_stream(pieces));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    crate::tickets::file_headers(headers);
    let disposition = content_disposition(found.original.as_deref().unwrap_or(name));
    let pairs = [
        (header::CONTENT_TYPE, found.mime),
        (header::CONTENT_LENGTH, length.to_string()),
        (header::ACCEPT_RANGES, "bytes".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    for (key, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(key, value);
        }
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{total}"))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
    }

    #[test]
    fn the_original_name_is_percent_encoded() {
        assert_eq!(
            content_disposition("内容 报告.pdf"),
            "attachment; filename=\"_____.pdf\"; filename*=UTF-8''%E5%86%85%E5%AE%B9%20%E6%8A%A5%E5%91%8A.pdf"
        );
        assert!(is_stored_file_name("0123456789abcdef0123456789abcdef.pdf"));
        assert!(!is_stored_file_name("../penpen.db"));
        assert!(!is_stored_file_name(
            "0123456789abcdef0123456789abcdef.part"
        ));
    }
}
