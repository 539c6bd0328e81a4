#!/usr/bin/env bash
# Measures read receipts (not part of the test command; PROTOCOL §16): a
# group of 500 where everyone reads a burst of 100 messages while the sender
# has the group open, coalesced as the server does it, then the naive way
# (every member watching, every mark pushed at once to each of them, every
# member marking every message). Prints the receipt frames the server sent,
# its CPU time, and the delay from a read to the sender seeing it.
# Extra arguments go to both runs (e.g. --messages 20).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

cargo build --locked --profile perf -p penpen-server-mock --bins
load="${CARGO_TARGET_DIR:-target}/perf/penpen-load"
"$load" receipts --members 500 --messages 100 "$@"
"$load" receipts --members 500 --messages 100 --naive "$@"
