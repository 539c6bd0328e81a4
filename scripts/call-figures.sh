#!/usr/bin/env bash
# Measures 1:1 video calls between two headless Chromium browsers at
# 320 × 240 (not part of the test command): press call → ring, accept →
# first remote frame, and the CPU of both browsers during a call.
# `scripts/call-figures.sh meeting` measures a meeting of three instead: a
# late joiner's press join → first remote frames, and the browsers' CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

trunk build --release
# Optimised like the budgets tool: the server runs inside the tool.
cargo run --locked --profile perf -p penpen-e2e --bin penpen-call-figures -- "$@"
