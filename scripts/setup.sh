#!/usr/bin/env bash
# Makes a fresh Debian machine (rustup, cargo, node/npm and apt only) ready to
# build, run and test penpen. Every step checks first and skips what is already
# in place, so a second run takes a few seconds and prints one line.
# Only crates.io, npm and Debian are used: nothing downloads a prebuilt binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PENPEN_ROOT"
export DEBIAN_FRONTEND=noninteractive

# trunk 0.22 needs rustc >= 1.96.1; 0.21.14 is the newest that builds with 1.95.
TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must be exactly the wasm-bindgen crate resolved in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
WASM_OPT_VERSION="wasm-opt version 132 (version_132)"
# Drives Firefox for the wasm and e2e tests; crates.io has no prebuilt binary to fetch.
GECKODRIVER_VERSION=0.37.1

started=$(date +%s)
say() { echo "setup: $*"; }
need_root_for_apt() {
  if [ "$(id -u)" -ne 0 ]; then
    say "installing $* needs root; run: sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
}

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
command -v firefox-esr >/dev/null 2>&1 || packages+=(firefox-esr)
# Chinese glyphs, so that screenshots of the zh-CN interface are legible.
[ -d /usr/share/fonts/opentype/noto ] || packages+=(fonts-noto-cjk)
# Emoji in messages (🐧 👍), drawn rather than shown as empty boxes.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || packages+=(fonts-noto-color-emoji)
# coturn's turnserver: the TURN relay the call tests start for themselves.
command -v turnserver >/dev/null 2>&1 || packages+=(coturn)
# The multi-node tests (#17): a message bus, and a throwaway PostgreSQL that
# the tests initdb in a temporary folder (the machine image usually has it).
command -v nats-server >/dev/null 2>&1 || packages+=(nats-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || command -v initdb >/dev/null 2>&1 || packages+=(postgresql)
if [ ${#packages[@]} -gt 0 ]; then
  need_root_for_apt "${packages[@]}"
  say "installing ${packages[*]} from Debian"
  apt_log=$(mktemp)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    say "apt-get could not install ${packages[*]}" >&2
    exit 1
  fi
  rm -f "$apt_log"
  # Debian enables coturn's own service (3478, /etc/turnserver.conf) and starts
  # it under systemd. Nothing here uses it, so a coturn installed by this
  # script is left neither running nor starting at boot.
  if [[ " ${packages[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
      systemctl stop coturn.service >/dev/null 2>&1 || say "could not stop the coturn service; stop it with: systemctl stop coturn" >&2
    fi
    systemctl disable coturn.service >/dev/null 2>&1 || say "could not disable the coturn service; disable it with: systemctl disable coturn" >&2
  fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 11 minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

if [ -z "$WASM_BINDGEN_VERSION" ]; then
  say "Cargo.lock names no wasm-bindgen version; run 'cargo generate-lockfile' and commit it" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION to match Cargo.lock (about 4 minutes)"
  # Not --locked: its lock file pins a webpki-roots release the registry no longer serves.
  if ! CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
      cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force; then
    say "could not build wasm-bindgen-cli $WASM_BINDGEN_VERSION. Cargo.lock and the CLI must agree:" >&2
    say "either fix the build above, or pin web's wasm-bindgen (Cargo.toml, '=x.y.z') to a version that builds" >&2
    exit 1
  fi
fi

# (its first line may carry a source revision after the version)
if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  say "installing geckodriver $GECKODRIVER_VERSION (about 2 minutes)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --force
fi

if [ "$(scripts/node_modules/.bin/wasm-opt --version 2>/dev/null)" != "$WASM_OPT_VERSION" ]; then
  say "installing wasm-opt 132 (npm binaryen) into scripts/node_modules"
  (cd scripts && npm ci --no-audit --no-fund --loglevel=error)
fi

# trunk looks for wasm-opt on the PATH. A bare `trunk serve` or `trunk build`
# (without scripts/env.sh) sees ~/.cargo/bin, where rustup's PATH points and
# trunk itself lives: a link there to the npm wasm-opt 132 makes them work.
# It points into this checkout, so it follows the checkout setup.sh ran from last.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
our_wasm_opt=$(readlink -f scripts/node_modules/.bin/wasm-opt)
if [ "$(readlink -f "$cargo_bin/wasm-opt" 2>/dev/null)" != "$our_wasm_opt" ]; then
  if [ -e "$cargo_bin/wasm-opt" ] && [ ! -L "$cargo_bin/wasm-opt" ] \
      && [ "$("$cargo_bin/wasm-opt" --version 2>/dev/null)" != "$WASM_OPT_VERSION" ]; then
    say "$cargo_bin/wasm-opt is not version 132 and not our link; remove it so trunk finds wasm-opt 132" >&2
    exit 1
  fi
  say "linking wasm-opt 132 into $cargo_bin for a bare trunk"
  ln -sfn "$our_wasm_opt" "$cargo_bin/wasm-opt"
fi

cargo fetch --locked --quiet

say "ready in $(( $(date +%s) - started ))s (trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, wasm-opt 132, $(chromium --version 2>/dev/null | head -1), $(firefox-esr --version 2>/dev/null | head -1))"
