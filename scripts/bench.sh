#!/usr/bin/env bash
# Measures penpen-server-mock with penpen-load (not part of the test command):
# throughput at saturation, latency at a fixed rate, memory per idle session,
# peak memory under anonymous connections sending the largest pre-login frame,
# throughput as a fraction of a bare echo server and a bare insert loop run
# in the same invocation, and the reconnect storm after a restart.
#
#   scripts/bench.sh                 all of them
#   scripts/bench.sh throughput|latency|idle|preauth|baseline|storm|meeting
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
if [ "$what" = all ] || [ "$what" = baseline ]; then
  echo "=== throughput as a ratio: 100 users, window 16, against a bare echo server and a bare insert loop"
  "$load" --users 100 baseline --seconds 10 --window 16
fi
if [ "$what" = all ] || [ "$what" = storm ]; then
  echo "=== reconnect storm: 10,000 live sessions resume after a restart, with the web client's jitter"
  "$load" --users 100 storm --sessions 10000
fi
if [ "$what" = all ] || [ "$what" = meeting ]; then
  echo "=== meetings: the SFU with scripted clients at 320x240-like rates, rooms of 2 to 16"
  "$load" meeting --sizes 2,3,4,6,8,12,16 --seconds 8
fi
