//! Checking a hostile frame costs memory in proportion to what is kept, not
//! to the frame: the largest frame of tiny values must not grow into a tree.
//!
//! A counting allocator measures the peak of live heap bytes while the core
//! reads such a frame. It lives in its own test binary so no other test's
//! allocations are counted.

#![allow(unsafe_code)] // a global allocator is an unsafe trait; it only counts and delegates.

use penpen_core::{Frame, MAX_FRAME_BYTES};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed unchanged to the system allocator; the
// counters are plain atomics and never affect the returned memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same layout, as the caller promised.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests run on parallel threads: each takes this for its whole run, so no
/// other test allocates while it measures.
static ALONE: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Peak heap growth while `work` runs, in bytes above what was live before.
fn peak_growth<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = work();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

/// A payload close to the frame limit made of as many tiny values as fit.
fn payload_of_tiny_values() -> String {
    let mut payload = String::from(r#"{"password":"x","junk":["#);
    while payload.len() < MAX_FRAME_BYTES - 1024 {
        payload.push_str("[],");
    }
    payload.push_str("[]],\"user\":\"1\"}");
    payload
}

#[test]
fn field_names_of_a_huge_frame_take_bounded_memory() {
    let _alone = alone();
    let payload = payload_of_tiny_values();
    let frame = Frame::decode(&format!(
        r#"{{"head":1100,"body":{payload},"tail":"PENPEN 1.0"}}"#
    ))
    .expect("a valid envelope");
    let (names, growth) = peak_growth(|| frame.field_names());
    let mut names = names.expect("an object");
    names.sort();
    assert_eq!(names, ["junk", "password", "user"]);
    // Building a Value tree took about 16 times the frame (about 200 MiB).
    assert!(
        growth < 64 * 1024,
        "reading the field names of a {} byte frame grew the heap by {growth} bytes",
        payload.len()
    );
}

#[test]
fn a_huge_head_is_refused_without_building_it() {
    let _alone = alone();
    let mut head = String::from("[");
    while head.len() < MAX_FRAME_BYTES - 1024 {
        head.push_str("[],");
    }
    head.push_str("[]]");
    let text = format!(r#"{{"head":{head},"body":"e30=","tail":"PENPEN 1.0"}}"#);
    let (decoded, growth) = peak_growth(|| Frame::decode(&text));
    let Err(err) = decoded else {
        panic!("an array is no head")
    };
    let message = err.to_string();
    assert!(
        message.len() < 300,
        "the error should not echo the head: {}…",
        message.chars().take(200).collect::<String>()
    );
    assert!(
        growth < 64 * 1024,
        "refusing a {} byte head grew the heap by {growth} bytes",
        head.len()
    );
}
