//! Frame parsing on arbitrary input: it must never panic, and whatever decodes
//! must re-encode to a frame that decodes to the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    penpen_core::fuzzing::check_frame(text);
});

