//! The cache conformance suite against the in-memory cache (IndexedDB runs the
//! same suite in headless Chromium, in `web/tests/browser.rs`).

use penpen_core::cache::{MemoryCache, conformance};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The in-memory cache never waits, so one poll finishes every future.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the in-memory cache never waits"),
    }
}

#[test]
fn memory_cache_passes_the_conformance_suite() {
    let outcome = ready(conformance::run(|_name| async { MemoryCache::new() }));
    assert_eq!(outcome, Ok(()));
}
