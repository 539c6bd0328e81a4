# Sourced by test.sh and run.sh: start penpen-server-mock in the background.
# shellcheck shell=bash

# start_server DATA_DIR OFFSET LOG [SERVER_ARGS...]: starts the built server and
# waits until its login port accepts connections. Sets SERVER_PID. Fails if the
# server exits (for example because a port is taken) or does not listen within
# 30 s. SERVER_PROFILE picks the build (debug by default; run.sh uses perf).
start_server() {
  local data=$1 offset=$2 log=$3
  shift 3
  local port=$((20888 + offset))
  "${CARGO_TARGET_DIR:-$PENPEN_ROOT/target}/${SERVER_PROFILE:-debug}/penpen-server-mock" --data "$data" --port-offset "$offset" --demo "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" 2>/dev/null || true
      SERVER_PID=
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  kill "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  return 1
}

# stop_server: asks the server to finish (SIGTERM: in-flight commits complete) and waits.
stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
