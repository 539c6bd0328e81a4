#!/usr/bin/env bash
# Runs penpen as several nodes on this machine, as a company that outgrew one
# server would (README, "Several nodes"): a PostgreSQL of its own in
# data/cluster/postgres (made on first use, kept), a nats-server, N nodes of
# penpen-server-mock over both (port offsets 0, 100, 200, …, the demo
# company), and the web app told about every node. Ctrl-C stops everything.
#
#   scripts/nodes.sh [N] [--web-port P]      (N: 2 by default, at most 9)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

nodes=2
web_port=8080
while [ $# -gt 0 ]; do
  case $1 in
    --web-port) web_port=$2; shift 2 ;;
    [2-9]) nodes=$1; shift ;;
    *) echo "unknown option $1; expected a number of nodes (2-9) or --web-port P" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
cargo build -p penpen-server-mock --profile perf --locked
server="${CARGO_TARGET_DIR:-$PENPEN_ROOT/target}/perf/penpen-server-mock"
cluster="$PENPEN_ROOT/data/cluster"
mkdir -p "$cluster"

pg_bin=$(pg_config --bindir 2>/dev/null || true)
[ -x "$pg_bin/initdb" ] || pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ ! -x "$pg_bin/initdb" ]; then
  echo "PostgreSQL's initdb is not installed; run scripts/setup.sh" >&2
  exit 1
fi
# PostgreSQL refuses to run as root: as root it runs as nobody.
as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  chown -R nobody:nogroup "$cluster"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

if [ ! -d "$cluster/postgres" ]; then
  "${as[@]}" "$pg_bin/initdb" -D "$cluster/postgres" -U penpen --auth=trust -E UTF8 --locale=C \
    >"$cluster/initdb.log" 2>&1
fi
pg_port=$(free_port)
"${as[@]}" "$pg_bin/postgres" -D "$cluster/postgres" -p "$pg_port" -k "$cluster" \
  -c listen_addresses=127.0.0.1 >"$cluster/postgres.log" 2>&1 &
pids+=($!)
nats_port=$(free_port)
nats-server -a 127.0.0.1 -p "$nats_port" >"$cluster/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 0.1
done
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U penpen -d postgres -tc \
  "SELECT 1 FROM pg_database WHERE datname = 'penpen'" | grep -q 1 ||
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U penpen penpen
store="postgres://penpen@127.0.0.1:$pg_port/penpen"
bus="nats://127.0.0.1:$nats_port"

servers=()
for n in $(seq 0 $((nodes - 1))); do
  # Services are 1000 apart (20888, 21888, …): offsets below 1000 keep
  # every node's ports distinct.
  offset=$((n * 100))
  mkdir -p "$cluster/node$n"
  "$server" --data "$cluster/node$n" --port-offset "$offset" --demo \
    --store "$store" --bus "$bus" --node-id "node$n" >"$cluster/node$n.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    grep -q "ready" "$cluster/node$n.log" 2>/dev/null && break
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "node $n did not start; its log ($cluster/node$n.log) says:" >&2
      tail -n 20 "$cluster/node$n.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  grep -q "ready" "$cluster/node$n.log" || { echo "node $n did not start within 30 s" >&2; exit 1; }
  servers+=("{\"port_offset\": $offset}")
done

export PENPEN_DEPLOYMENT_FILE="$cluster/penpen.json"
(IFS=,; printf '{"servers": [%s]}\n' "${servers[*]}") >"$PENPEN_DEPLOYMENT_FILE"
cat <<MSG

  $nodes nodes of penpen-server-mock are running over PostgreSQL ($store)
  and NATS ($bus); logs in data/cluster/. Building the web app; then open
  http://127.0.0.1:$web_port/ in two browsers: each starts at a random node.
  Stop a node (kill its process) and its users move to another.

  Demo accounts: 13800000001 … 13800000024, password penpen2026.
  Ctrl-C stops everything.

MSG
trunk serve --port "$web_port"
