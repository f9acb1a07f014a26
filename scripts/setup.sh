#!/usr/bin/env bash
# Installs what Gatehouse needs and skips what is already there, so a
# second run takes a second.
#
#   scripts/setup.sh run    what building and serving the app needs
#   scripts/setup.sh test   that, plus Chromium and PostgreSQL for the tests
#
# Called by run.sh and test.sh; safe to run on its own. No cargo-leptos:
# scripts/site.sh builds the browser bundle with the same tools it uses
# (people who have cargo-leptos can go on using it, see the README).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mode="${1:-test}"
case "$mode" in
  run | test) ;;
  *) echo "usage: scripts/setup.sh [run|test]" >&2; exit 2 ;;
esac

# The wasm-bindgen CLI must match the crate in Cargo.lock exactly, or the
# bundle fails to build with a schema mismatch.
WASM_BINDGEN_VERSION=0.2.130

have() { command -v "$1" >/dev/null 2>&1; }

apt_packages=()
if [ "$mode" = test ]; then
  have chromium || apt_packages+=(chromium)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  step "setup: Debian packages ${apt_packages[*]}" "1-2 min"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  step "setup: the wasm32-unknown-unknown target" "20 s"
  rustup target add wasm32-unknown-unknown
fi

if ! have wasm-bindgen || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "setup: compiling the wasm-bindgen CLI $WASM_BINDGEN_VERSION" "2 min"
  # Without --locked: the locked set names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet
fi

# Node packages, never a browser download: binaryen's wasm-opt (Debian's
# is too old: the release bundle would not hydrate), esbuild and
# lightningcss to minify the bundle, Playwright and axe-core for the tests.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  step "setup: node packages (Playwright, wasm-opt, esbuild, lightningcss)" "15 s"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# cargo-fuzz (crates.io) builds and runs the fuzz targets (scripts/fuzz.sh).
CARGO_FUZZ_VERSION=0.13.2
if [ "$mode" = test ] && { ! have cargo-fuzz || [ "$(cargo fuzz --version | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; }; then
  step "setup: compiling cargo-fuzz $CARGO_FUZZ_VERSION" "1 min"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force --quiet
fi

# Schemathesis (PyPI) checks the running API against its OpenAPI document
# (scripts/api-check.sh), in a virtual environment of its own.
SCHEMATHESIS_VERSION=4.32.5
if [ "$mode" = test ] && { [ ! -x target/schemathesis/bin/schemathesis ] \
   || [ "$(target/schemathesis/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; }; then
  step "setup: schemathesis $SCHEMATHESIS_VERSION (PyPI)" "30 s"
  python3 -m venv target/schemathesis
  target/schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

steps_done
