#!/usr/bin/env bash
# Every check, in the order a failure is cheapest to find: format, lints
# for the server and the browser build, unit and integration tests on
# SQLite and on a throwaway PostgreSQL, then the Playwright suite against
# the release build in Chromium. Ends with one summary line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# A clean CI checkout never reuses incremental state: skip writing it
# (faster, and many gigabytes less disk).
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "format"
cargo fmt --all --check

step "clippy: server (ssr)"
cargo clippy --features ssr --all-targets -- -D warnings

step "clippy: browser (hydrate, wasm32)"
cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit tests"
cargo test --features ssr --lib 2>&1 | tee -a "$results"

step "integration tests on SQLite"
# One at a time: see tests/integration/main.rs.
cargo test --features ssr --test integration -- --test-threads=1 2>&1 | tee -a "$results"

step "integration tests on PostgreSQL"
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
pg_start
trap 'pg_stop; rm -f "$results"' EXIT
GATEHOUSE_TEST_DB=postgres cargo test --features ssr --test integration -- --test-threads=1 2>&1 | tee -a "$results"
pg_stop

step "release build"
cargo leptos build --release

step "end-to-end tests (Playwright, Chromium)"
# The servers' data and logs live here, so the log check below can read them.
e2e="$(mktemp -d)"
trap 'rm -rf "$e2e"; rm -f "$results"' EXIT
export GATEHOUSE_E2E_LOG_DIR="$e2e/logs" GATEHOUSE_E2E_DATA_3100="$e2e/data-3100" GATEHOUSE_E2E_DATA_3101="$e2e/data-3101"
mkdir -p "$GATEHOUSE_E2E_LOG_DIR"
(cd end2end && npx playwright test) 2>&1 | tee -a "$results"

step "no secret in the servers' logs of that run"
(cd end2end && node check-logs.mjs "$GATEHOUSE_E2E_LOG_DIR" "$GATEHOUSE_E2E_DATA_3100" "$GATEHOUSE_E2E_DATA_3101") 2>&1 \
  | tee -a "$results" || true

# One line for the whole run: cargo's "test result" lines plus Playwright's
# closing "N passed" / "N failed" lines, and the log check.
awk '
  /test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  /^ +[0-9]+ passed/ { p += $1 }
  /^ +[0-9]+ failed/ { f += $1 }
  /^logs: [0-9]+ lines/ { p += 1 }
  /^logs: [0-9]+ problem/ { f += 1 }
  END { printf "\ngatehouse: %d passed, %d failed\n", p, f; exit (f > 0) }
' "$results"
