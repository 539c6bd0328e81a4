#!/usr/bin/env bash
# Measures penpen-server-mock with penpen-load (not part of the test command):
# throughput at saturation, latency at a fixed rate, memory per idle session,
# peak memory under anonymous connections sending the largest pre-login frame.
#
#   scripts/bench.sh                 all three
#   scripts/bench.sh throughput|latency|idle|preauth
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

cargo build --profile perf --locked -p penpen-server-mock --bins
load="${CARGO_TARGET_DIR:-$PENPEN_ROOT/target}/perf/penpen-load"
# Every connection is a file descriptor, on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

what=${1:-all}
if [ "$what" = all ] || [ "$what" = throughput ]; then
  echo "=== durable throughput at saturation: 100 users, as fast as acks allow"
  "$load" --users 100 send --seconds 15 --window 1
  "$load" --users 100 send --seconds 15 --window 16
fi
if [ "$what" = all ] || [ "$what" = latency ]; then
  echo "=== delivery latency: 1,000 connected users, 2,000 messages/s"
  "$load" --users 1000 send --seconds 15 --rate 2000 --window 64
fi
if [ "$what" = all ] || [ "$what" = idle ]; then
  echo "=== memory: 10,000 idle live sessions"
  "$load" --users 100 idle --sessions 10000
fi
if [ "$what" = all ] || [ "$what" = preauth ]; then
  echo "=== memory: 1,000 anonymous connections, each sending the largest pre-login frame"
  "$load" --users 1 preauth --connections 1000
fi
