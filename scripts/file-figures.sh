#!/usr/bin/env bash
# Measures files of any kind (not part of the test command): the server's
# upload and download throughput of a 100 MiB file over loopback with its
# memory (penpen-load files), then a Chromium tab's memory while it uploads
# 100 MiB and how soon a cut-off upload goes on once the network is back.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

cargo build --locked --profile perf -p penpen-server-mock --bins
"${CARGO_TARGET_DIR:-target}/perf/penpen-load" --users 2 files --mib 100
trunk build --release
# Optimised like the other figure tools: the server runs inside the tool.
cargo run --locked --profile perf -p penpen-e2e --bin penpen-file-figures
