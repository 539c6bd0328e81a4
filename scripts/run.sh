#!/usr/bin/env bash
# Runs penpen locally: penpen-server-mock (an optimised build) on the standard
# ports with its data in ./data, and the web app served by trunk. Ctrl-C stops both.
#
#   scripts/run.sh [--port-offset N] [--web-port P] [--tls]
#
# Plain HTTP on 127.0.0.1 by default. --tls is for trials on the local network:
# every port listens on all addresses over TLS with a self-signed certificate
# kept in data/tls (made for localhost, this machine's name and addresses),
# and the app is served over https.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$PENPEN_ROOT/scripts/server.sh"
cd "$PENPEN_ROOT"

offset=0
web_port=8080
tls=
while [ $# -gt 0 ]; do
  case $1 in
    --port-offset) offset=$2; shift 2 ;;
    --web-port) web_port=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    *) echo "unknown option $1; expected --port-offset N, --web-port P or --tls" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
# The perf profile: optimised like a deployment, and quicker to build than release.
cargo build -p penpen-server-mock --profile perf --locked
export SERVER_PROFILE=perf
mkdir -p data

server_args=()
trunk_args=(--port "$web_port")
host=127.0.0.1
scheme=http
if [ -n "$tls" ]; then
  # The first address of this machine on the network, for the URL to share.
  host=$(hostname -I 2>/dev/null | awk '{print $1}')
  host=${host:-127.0.0.1}
  server_args=(--host 0.0.0.0 --tls-self-signed "$PENPEN_ROOT/data/tls" --tls-name "$(hostname)")
  for address in $(hostname -I 2>/dev/null); do
    server_args+=(--tls-name "$address")
  done
  trunk_args+=(--address 0.0.0.0 --tls-cert-path "$PENPEN_ROOT/data/tls/cert.pem"
    --tls-key-path "$PENPEN_ROOT/data/tls/key.pem")
  scheme=https
fi

SERVER_PID=
trap stop_server EXIT
trap 'exit 130' INT TERM
if ! start_server "$PENPEN_ROOT/data" "$offset" "$PENPEN_ROOT/data/server.log" "${server_args[@]}"; then
  echo "penpen-server-mock did not start; its log (data/server.log) says:" >&2
  tail -n 20 data/server.log >&2
  echo "if a port is taken, run with --port-offset N (1-999)" >&2
  exit 1
fi

url="$scheme://$host:$web_port/"
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

$(if [ -n "$tls" ]; then cat <<TLS
  TLS: the certificate is self-signed (data/tls/cert.pem). Each device must
  trust it once: import data/tls/cert.pem as a trusted certificate, or open
  $scheme://$host:$((20888 + offset))/ and accept the warning (browsers
  that remember the exception per port need it for each port the app uses).

TLS
fi)
  Demo accounts: 13800000001 … 13800000024, password penpen2026
  (for example 13800000003 张伟; the README lists them all).

  Ctrl-C stops the app and the server.

MSG
trunk serve "${trunk_args[@]}"
