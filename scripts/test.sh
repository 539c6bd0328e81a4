#!/usr/bin/env bash
# Runs every test penpen has, layer by layer, and stops at the first failure.
#
#   scripts/test.sh                 all layers
#   scripts/test.sh native e2e      only the named layers, in the order below
#
# Layers: fmt, clippy, native (cargo test), postgres (the server's integration
# tests again on PostgreSQL), wasm (wasm-bindgen-test in headless
# Chromium, against a running server), wasm-firefox (the same in headless
# Firefox), build (trunk build --release), e2e (Chromium, and Firefox for some).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$PENPEN_ROOT/scripts/server.sh"
cd "$PENPEN_ROOT"

all_layers=(fmt clippy native postgres wasm wasm-firefox build e2e)
layers=("${@:-${all_layers[@]}}")
for layer in "${layers[@]}"; do
  case " ${all_layers[*]} " in
    *" $layer "*) ;;
    *) echo "unknown layer '$layer'; expected some of: ${all_layers[*]}" >&2; exit 2 ;;
  esac
done
wants() { case " ${layers[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

bash scripts/setup.sh

work=$(mktemp -d)
SERVER_PID=
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT

summary=()
passed=0
failed=0
# layer NAME COMMAND...: runs one layer, shows its output, keeps cargo's counts.
layer() {
  local name=$1; shift
  local started=$SECONDS status=0
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$work/$name.log" || status=$?
  local p f
  # (grep finds nothing in layers that run no tests; that is not a failure)
  p=$( (grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$work/$name.log" || true) | awk '{s+=$4} END {print s+0}')
  f=$( (grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$work/$name.log" || true) | awk '{s+=$6} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("$(printf '%-12s %-4s %4ss  %s passed, %s failed' "$name" "$([ $status -eq 0 ] && echo ok || echo FAIL)" $((SECONDS - started)) "$p" "$f")")
  if [ $status -ne 0 ]; then
    report
    echo "=== $name FAILED (exit $status)" >&2
    exit $status
  fi
}
report() {
  echo "=== summary"
  printf '%s\n' "${summary[@]}"
  echo "tests: $passed passed, $failed failed"
}

wants fmt && layer fmt cargo fmt --all --check
if wants clippy; then
  layer clippy cargo clippy --workspace --all-targets --locked -- -D warnings
  layer clippy-wasm cargo clippy -p penpen-core -p penpen-web --target wasm32-unknown-unknown \
    --all-targets --locked -- -D warnings
fi
wants native && layer native cargo test --workspace --exclude penpen-e2e --locked
# The server's integration tests again, every server on PostgreSQL (a
# throwaway cluster the tests start in a temporary folder and stop).
wants postgres && layer postgres env PENPEN_TEST_STORE=postgres \
  cargo test -p penpen-server-mock --test it --locked

if wants wasm || wants wasm-firefox; then
  cargo build -p penpen-server-mock --locked --quiet
  # A free port offset for this run's server: each try binds all ports or exits.
  started_server=
  for offset in $(shuf -i 1-998 -n 20); do
    if start_server "$work/server-data" "$offset" "$work/server.log"; then
      started_server=$offset; break
    fi
  done
  if [ -z "$started_server" ]; then
    echo "could not start penpen-server-mock on any port offset:" >&2; cat "$work/server.log" >&2; exit 1
  fi
  # The runner's deadline covers the whole browser run of the one test binary
  # (about a minute quiet, several on a busy 2-core machine); it only catches hangs.
  export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}"
  # Read at compile time by web/tests/it/browser.rs and driver.rs.
  export PENPEN_TEST_LOGIN_URL="ws://127.0.0.1:$((20888 + started_server))/"
  # wasm-bindgen-test-runner takes the first of GECKODRIVER, …, CHROMEDRIVER that
  # is set, so each layer unsets the other browser's driver.
  # A browser the runner kills leaves its temporary folders behind; they go
  # into $work, which is removed at exit, instead of piling up in /tmp.
  mkdir -p "$work/browser-tmp"
  wants wasm && layer wasm env -u GECKODRIVER TMPDIR="$work/browser-tmp" \
    cargo test -p penpen-web --target wasm32-unknown-unknown --tests --locked
  # The real binary: Debian's /usr/bin/firefox, which geckodriver would find, is
  # a wrapper script.
  wants wasm-firefox && layer wasm-firefox env -u CHROMEDRIVER TMPDIR="$work/browser-tmp" \
    GECKODRIVER="${GECKODRIVER:-$(command -v geckodriver)}" \
    GECKODRIVER_ARGS="--binary ${FIREFOX_BIN:-/usr/bin/firefox-esr} --log error" \
    cargo test -p penpen-web --target wasm32-unknown-unknown --tests --locked
  stop_server
fi

wants build && layer build trunk build --release
wants e2e && layer e2e cargo test -p penpen-e2e --locked
report
