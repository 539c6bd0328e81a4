//! The cache conformance suite against the in-memory cache, one test per
//! case (IndexedDB runs the same cases in headless Chromium, in
//! `web/tests/browser.rs`).

use crate::sim::ready;
use penpen_core::cache::MemoryCache;

penpen_core::cache_conformance_tests!(#[test] block_on: ready, fresh: |_case| async { MemoryCache::new() });
