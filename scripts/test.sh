#!/usr/bin/env bash
# Every check, in the order a failure is cheapest to find: format, lints
# for the server and the browser build, unit and integration tests on
# SQLite and on a throwaway PostgreSQL, then the Playwright suite against
# the release build in Chromium, schemathesis against the JSON API, and
# each fuzz target for a bounded time.
# Ends with one summary line.
#
# The tests are built with the release profile: the server the Playwright
# suite drives is the very binary cargo builds for the integration tests,
# so the dependency tree is compiled once for both, not once in debug and
# again in release.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh test

results="$(mktemp)"
at_exit rm -f "$results"

step "format" "2 s"
cargo fmt --all --check

step "clippy: server (ssr)" "3 min first run, 10 s warm"
cargo clippy --features ssr --all-targets -- -D warnings

step "clippy: browser (hydrate, wasm32)" "1 min first run, 5 s warm"
cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "build: release server and tests" "8 min first run, 2 min after a change"
cargo test --release --features ssr --lib --test integration --no-run

step "unit tests" "5 s"
cargo test --release --features ssr --lib 2>&1 | tee -a "$results"

step "integration tests on SQLite" "10 s"
cargo test --release --features ssr --test integration 2>&1 | tee -a "$results"

step "integration tests on PostgreSQL" "30 s"
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
at_exit pg_stop
pg_start
# --include-ignored: the tests only PostgreSQL can run (a lost database);
# --skip: those only SQLite can (a database file out of room).
GATEHOUSE_TEST_DB=postgres cargo test --release --features ssr --test integration -- --include-ignored --skip sqlite_only:: 2>&1 \
  | tee -a "$results"
pg_stop
steps_done

bash scripts/site.sh release

step "end-to-end tests (Playwright, Chromium, release build)" "3 min"
# The servers' data and logs live here, so the log check below can read them.
e2e="$(mktemp -d)"
at_exit rm -rf "$e2e"
export GATEHOUSE_E2E_LOG_DIR="$e2e/logs" GATEHOUSE_E2E_DATA_3100="$e2e/data-3100" GATEHOUSE_E2E_DATA_3101="$e2e/data-3101" \
  GATEHOUSE_E2E_DATA_3102="$e2e/data-3102"
mkdir -p "$GATEHOUSE_E2E_LOG_DIR"
(cd end2end && npx playwright test) 2>&1 | tee -a "$results"

step "no secret in the servers' logs of that run" "1 s"
(cd end2end && node check-logs.mjs "$GATEHOUSE_E2E_LOG_DIR" "$GATEHOUSE_E2E_DATA_3100" "$GATEHOUSE_E2E_DATA_3101" \
  "$GATEHOUSE_E2E_DATA_3102") 2>&1 \
  | tee -a "$results" || true

step "the JSON API against its OpenAPI document (schemathesis, every check)" "30 s"
bash scripts/api-check.sh 2>&1 | tee -a "$results" || true

steps_done
# Each fuzz target for a bounded time from its kept corpus (its own steps).
# A run that ends early without saying why still counts as a failure.
bash scripts/fuzz.sh 2>&1 | tee -a "$results" || grep -q '^fuzz: .*failed' "$results" || echo "fuzz: failed" | tee -a "$results"
steps_done

# One line for the whole run: cargo's "test result" lines plus Playwright's
# closing "N passed" / "N failed" lines, the log check and the API check.
awk '
  /test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  /^ +[0-9]+ passed/ { p += $1 }
  /^ +[0-9]+ failed/ { f += $1 }
  /^logs: [0-9]+ lines/ { p += 1 }
  /^logs: [0-9]+ problem/ { f += 1 }
  /^api check: passed/ { p += 1 }
  /^api check: failed/ { f += 1 }
  /^fuzz: [0-9]+ targets passed/ { p += $2 }
  /^fuzz: .*failed/ { f += 1 }
  END { printf "\ngatehouse: %d passed, %d failed\n", p, f; exit (f > 0) }
' "$results"
