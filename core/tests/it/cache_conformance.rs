//! The cache conformance suite against the in-memory cache (IndexedDB runs the
//! same suite in headless Chromium, in `web/tests/browser.rs`).

use crate::sim::ready;
use penpen_core::cache::{MemoryCache, conformance};

#[test]
fn memory_cache_passes_the_conformance_suite() {
    let outcome = ready(conformance::run(|_name| async { MemoryCache::new() }));
    assert_eq!(outcome, Ok(()));
}
