#!/usr/bin/env bash
# Schemathesis, with every check, against the release server the tests
# built: a fresh data directory, a signed-in administrator (see
# scripts/schemathesis_hooks.py), a fixed seed
# (GATEHOUSE_API_CHECK_SEED to try another) and a bounded number of
# examples per operation. Ends with schemathesis's own summary and one
# line, "api check: passed" or "api check: failed"; any failure fails.
#
#   scripts/api-check.sh        (after the release build: scripts/test.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

schemathesis=target/schemathesis/bin/schemathesis
[ -x "$schemathesis" ] || { echo "schemathesis is missing: run scripts/setup.sh test" >&2; exit 1; }
binary=target/release/gatehouse
[ -x "$binary" ] || { echo "$binary is missing: build the release server first" >&2; exit 1; }

work="$(mktemp -d)"
at_exit rm -rf "$work"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export GATEHOUSE_DATA_DIR="$work/data" GATEHOUSE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD GATEHOUSE_LOG=warn \
  GATEHOUSE_REGISTRATIONS_PER_ADDRESS=100000 GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS=100000 \
  GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS=100000 GATEHOUSE_PASSKEY_SIGN_INS_PER_ADDRESS=100000 \
  GATEHOUSE_LOGIN_FREE_ATTEMPTS=100 GATEHOUSE_LOGIN_MAX_LOCK_SECS=1
"$binary" >"$work/server.log" 2>&1 &
server=$!
at_exit kill "$server"
for _ in $(seq 100); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

password="api check $(head -c 12 /dev/urandom | base64)"
printf '%s\n' "$password" | "$binary" user create api-admin --admin >/dev/null
printf '%s\n' "$password" | "$binary" user create api-user >/dev/null
export GATEHOUSE_API_CHECK_BASE="$base" GATEHOUSE_API_CHECK_PASSWORD="$password"
export SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$PWD/scripts"

status=0
# From the scratch directory, so schemathesis keeps its cache there.
root="$PWD"
(cd "$work" && "$root/$schemathesis" --config-file "$root/scripts/schemathesis.toml" run "$base/api/openapi.json" --url "$base" \
  --checks all --max-examples "${GATEHOUSE_API_CHECK_EXAMPLES:-50}" --seed "${GATEHOUSE_API_CHECK_SEED:-1}" \
  --workers 2 --report-dir "$work/report") || status=$?
if grep -q '"level":"ERROR"\|panicked' "$work/server.log"; then
  echo "the server logged an error or a panic during the run:" >&2
  grep '"level":"ERROR"\|panicked\|ERROR' "$work/server.log" | head -20 >&2
  status=1
fi
if [ "$status" = 0 ]; then echo "api check: passed"; else echo "api check: failed"; fi
exit "$status"
