#!/usr/bin/env bash
# Measures durable messages per second and delivery latency (not part of the
# test command; #17) for one SQLite node, one PostgreSQL node, and two and
# three PostgreSQL nodes with NATS between them, with penpen-load spreading
# the users over the nodes (user i on node i mod N, so most messages cross
# nodes). PostgreSQL runs durably (fsync, synchronous_commit on), in a
# temporary folder, and is stopped at the end, like the nats-server.
# All of it shares this machine's cores: the script also reports the CPU
# time PostgreSQL and NATS spent, per message.
#
#   scripts/node-figures.sh [--seconds S] [--users U] [--window W]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

seconds=10
users=100
window=4
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    *) echo "unknown option $1; expected --seconds S, --users U or --window W" >&2; exit 2 ;;
  esac
done

cargo build --locked --profile perf -p penpen-server-mock --bins
load="${CARGO_TARGET_DIR:-target}/perf/penpen-load"
ulimit -n 65536 2>/dev/null || true

pg_bin=$(pg_config --bindir 2>/dev/null || true)
[ -x "$pg_bin/initdb" ] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
work=$(mktemp -d)
as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  chown nobody:nogroup "$work"
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"${as[@]}" "$pg_bin/initdb" -D "$work/pg" -U penpen --auth=trust -E UTF8 --locale=C >"$work/initdb.log" 2>&1
pg_port=$(free_port)
"${as[@]}" "$pg_bin/postgres" -D "$work/pg" -p "$pg_port" -k "$work" -c listen_addresses=127.0.0.1 \
  -c max_connections=300 -c shared_buffers=256MB >"$work/postgres.log" 2>&1 &
pids+=($!)
nats_port=$(free_port)
nats-server -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
nats_pid=$!
pids+=($nats_pid)
for _ in $(seq 300); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done

# CPU seconds (user + system) of PostgreSQL's processes and of nats-server so far.
ticks=$(getconf CLK_TCK)
cpu_of() { for pid in "$@"; do [ -r "/proc/$pid/stat" ] && awk '{print $14 + $15}' "/proc/$pid/stat"; done | awk -v t="$ticks" '{s += $1} END {printf "%.2f", s / t}'; }
# The postmaster's own and its reaped children's time, and its live children's
# (the nodes' connections live for a whole run).
pg_pid=${pids[0]}
others_cpu() {
  { [ -r "/proc/$pg_pid/stat" ] && awk '{print $14 + $15 + $16 + $17}' "/proc/$pg_pid/stat"
    for pid in $(pgrep -P "$pg_pid") "$nats_pid"; do
      [ -r "/proc/$pid/stat" ] && awk '{print $14 + $15}' "/proc/$pid/stat"
    done; } | awk -v t="$ticks" '{s += $1} END {printf "%.2f", s / t}'
}

run() {
  local label=$1
  shift
  echo
  echo "=== $label"
  local before after
  before=$(others_cpu)
  # A service port may be taken by some connection's ephemeral port: move.
  local offset ok=
  for offset in 700 800 900; do
    if "$load" --users "$users" --port-offset "$offset" "$@" send --seconds "$seconds" \
        --window "$window" | tee "$work/out"; then
      ok=1
      break
    fi
  done
  [ -n "$ok" ] || { echo "$label: penpen-load failed at every port offset" >&2; return 1; }
  after=$(others_cpu)
  local acked
  acked=$(awk '/durable acknowledged:/ {print $3}' "$work/out")
  awk -v b="$before" -v a="$after" -v n="$acked" 'BEGIN {
    printf "  PostgreSQL and NATS CPU: %.2f s = %.0f µs per acknowledged message\n", a - b, (a - b) * 1e6 / (n > 0 ? n : 1) }'
}

database() {
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U penpen "$1"
  echo "postgres://penpen@127.0.0.1:$pg_port/$1"
}
bus="nats://127.0.0.1:$nats_port"
run "1 node, SQLite"
run "1 node, PostgreSQL" --store "$(database one)"
run "2 nodes, PostgreSQL + NATS" --nodes 2 --store "$(database two)" --bus "$bus"
run "3 nodes, PostgreSQL + NATS" --nodes 3 --store "$(database three)" --bus "$bus"
