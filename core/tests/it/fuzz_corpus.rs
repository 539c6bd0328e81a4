//! Replays the fuzz target's seeds and saved corpus as a regular test, so
//! every input that once mattered keeps being checked without a fuzzer.

use std::path::Path;

#[test]
fn every_saved_fuzz_input_still_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for folder in [
        "seeds/frame_decode",
        "corpus/frame_decode",
        "artifacts/frame_decode",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable folder").path();
            // A running fuzzer replaces corpus files as it shrinks them.
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Ok(text) = std::str::from_utf8(&bytes) {
                penpen_core::fuzzing::check_frame(text);
            }
            replayed += 1;
        }
    }
    assert!(
        replayed >= 100,
        "only {replayed} fuzz inputs found under {}",
        root.display()
    );
}
