//! What the browser reports, as `CacheError`s callers can act on.

use super::*;

/// What the browser threw or reported, as a cache error: the cases callers
/// act on get their own variant.
pub(super) fn browser_error(operation: &'static str, error: &JsValue) -> CacheError {
    let name = error.dyn_ref::<DomException>().map(DomException::name);
    let reason = describe(error);
    match name.as_deref() {
        Some("QuotaExceededError") => CacheError::QuotaExceeded(reason),
        // The connection was closed under us (evicted, deleted, or closed for
        // another tab's upgrade).
        Some("InvalidStateError") => CacheError::Evicted(reason),
        _ => CacheError::Request { operation, reason },
    }
}

/// An `idb` error as a cache error, through the browser's exception inside it.
pub(super) fn idb_error(operation: &'static str, error: &idb::Error) -> CacheError {
    match exception(error) {
        Some(exception) => browser_error(operation, exception),
        None => CacheError::Request {
            operation,
            reason: error.to_string(),
        },
    }
}

pub(super) fn idb_reason(error: &idb::Error) -> String {
    exception(error).map_or_else(|| error.to_string(), describe)
}

/// The exception an `idb` error carries, for the errors the cache can meet.
pub(super) fn exception(error: &idb::Error) -> Option<&JsValue> {
    use idb::Error as E;
    match error {
        E::DomException(exception) => Some(exception.as_ref()),
        E::AddFailed(value)
        | E::CountFailed(value)
        | E::CursorContinueFailed(value)
        | E::CursorValueNotFound(value)
        | E::DeleteFailed(value)
        | E::GetAllFailed(value)
        | E::GetAllKeysFailed(value)
        | E::GetFailed(value)
        | E::IndexCreateFailed(value)
        | E::IndexNotFound(value)
        | E::IndexedDbDeleteFailed(value)
        | E::IndexedDbNotFound(value)
        | E::IndexedDbOpenFailed(value)
        | E::KeyRangeCreateFailed(value)
        | E::ObjectStoreCreateFailed(value)
        | E::ObjectStoreNotFound(value)
        | E::OpenCursorFailed(value)
        | E::RequestErrorNotFound(value)
        | E::RequestResultNotFound(value)
        | E::TransactionAbortError(value)
        | E::TransactionOpenFailed(value)
        | E::UpdateFailed(value) => Some(value),
        _ => None,
    }
}

/// A readable line for a JS exception or value.
pub(super) fn describe(error: &JsValue) -> String {
    if let Some(exception) = error.dyn_ref::<DomException>() {
        format!("{}: {}", exception.name(), exception.message())
    } else if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        String::from(error.to_string())
    } else {
        error.as_string().unwrap_or_else(|| format!("{error:?}"))
    }
}
