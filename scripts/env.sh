# Sourced by the other scripts: the environment every build and test step expects.
# shellcheck shell=bash
PENPEN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PENPEN_ROOT
# cargo-installed tools first, then wasm-opt 132 from npm ahead of any Debian one.
export PATH="$HOME/.cargo/bin:$PENPEN_ROOT/scripts/node_modules/.bin:$PATH"
export RUST_BACKTRACE=0 CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROME_BIN="${CHROME_BIN:-/usr/bin/chromium}"
