#!/usr/bin/env bash
# Runs penpen locally: penpen-server-mock on the standard ports with its data in
# ./data, and the web app served by trunk. Ctrl-C stops both.
#
#   scripts/run.sh [--port-offset N] [--web-port P]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$PENPEN_ROOT/scripts/server.sh"
cd "$PENPEN_ROOT"

offset=0
web_port=8080
while [ $# -gt 0 ]; do
  case $1 in
    --port-offset) offset=$2; shift 2 ;;
    --web-port) web_port=$2; shift 2 ;;
    *) echo "unknown option $1; expected --port-offset N or --web-port P" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
cargo build -p penpen-server-mock --locked
mkdir -p data

SERVER_PID=
trap stop_server EXIT
trap 'exit 130' INT TERM
if ! start_server "$PENPEN_ROOT/data" "$offset" "$PENPEN_ROOT/data/server.log"; then
  echo "penpen-server-mock did not start; its log (data/server.log) says:" >&2
  tail -n 20 data/server.log >&2
  echo "if a port is taken, run with --port-offset N (1-999)" >&2
  exit 1
fi

url="http://127.0.0.1:$web_port/"
# The app learns shifted ports the way a deployment tells it: a penpen.json
# served beside index.html (Trunk.toml's hook copies the file named here).
# Its host and TLS default to the page's own.
if [ "$offset" -ne 0 ]; then
  export PENPEN_DEPLOYMENT_FILE="$PENPEN_ROOT/data/penpen.json"
  printf '{"port_offset": %d}\n' "$offset" >"$PENPEN_DEPLOYMENT_FILE"
fi
cat <<MSG

  penpen-server-mock is running (data in ./data, log in data/server.log).
  Building the web app; once trunk reports it is serving, open:

      $url

  Demo accounts: 13800000001 … 13800000024, password penpen2026
  (for example 13800000003 张伟; the README lists them all).

  Ctrl-C stops the app and the server.

MSG
trunk serve --port "$web_port"
