#!/usr/bin/env bash
# Measures the server's search of all history (not part of the test command;
# PROTOCOL §17): fills a SQLite store with 1,000,000 messages (once; kept in
# target/search-figures) and times the first page of two- and four-character
# queries. Extra arguments go to penpen-load (e.g. --messages 100000, or
# --store postgres://… to measure PostgreSQL).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"

cargo build --locked --profile perf -p penpen-server-mock --bins
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/search-figures"
store="sqlite:$target/search-figures"
for arg in "$@"; do
  case "$arg" in --store=*|postgres*) store="" ;; esac
done
"$target/perf/penpen-load" search ${store:+--store "$store"} "$@"
