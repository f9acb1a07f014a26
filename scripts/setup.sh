#!/usr/bin/env bash
# Installs everything Gatehouse needs to build, run and test, and skips what
# is already there, so a second run takes seconds. Called by run.sh and
# test.sh; safe to run on its own.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Pinned versions: the wasm-bindgen CLI must match the crate in Cargo.lock
# exactly, or cargo-leptos fails with a schema mismatch.
WASM_BINDGEN_VERSION=0.2.130
CARGO_LEPTOS_VERSION=0.3.11

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

have() { command -v "$1" >/dev/null 2>&1; }

apt_packages=()
have chromium || apt_packages+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
if [ ${#apt_packages[@]} -gt 0 ]; then
  log "installing Debian packages: ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! have wasm-bindgen || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # Without --locked: the locked set names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! have cargo-leptos || [ "$(cargo-leptos --version | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores)"
  # Its lockfile needs a newer rustc than stable; the nightly only builds the
  # tool, the project itself builds on stable.
  if rustup toolchain list | grep -q '^nightly'; then
    cargo +nightly install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  else
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
fi

# Node packages: Playwright (driving Debian's Chromium, never its own
# download), axe-core, and binaryen's wasm-opt (Debian's is too old: the
# release build would not hydrate).
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing end2end node packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

log "tools ready"
