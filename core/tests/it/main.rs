//! penpen-core's integration tests, in one binary (one link instead of one
//! per file). `bounded_parsing` stays a binary of its own: its counting
//! global allocator must see no other test's allocations.

mod bad_input;
mod cache_conformance;
mod call_sim;
mod calls;
mod engine;
mod failover;
mod fault_sequence;
mod forward;
mod fuzz_corpus;
mod heartbeat;
mod meeting_sim;
mod meetings;
mod mute_mentions;
mod operations;
mod outbox_orders;
mod protocol_doc;
mod recall;
mod receipts;
// proptest's randomness source does not build for wasm32.
#[cfg(not(target_arch = "wasm32"))]
mod receipt_counts;
// proptest's randomness source does not build for wasm32.
#[cfg(not(target_arch = "wasm32"))]
mod round_trip;
// proptest's randomness source does not build for wasm32.
#[cfg(not(target_arch = "wasm32"))]
mod search_terms;
mod server_search;
mod sim;
mod uploads;
mod vectors;
