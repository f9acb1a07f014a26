#!/usr/bin/env bash
# The load benchmark (benches/load/): builds the release site, then runs
# the release server under wrk beside a bare axum handler and prints the
# table the README carries. Takes a few minutes; run it on an idle machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh run
if ! command -v wrk >/dev/null 2>&1; then
  step "bench: installing wrk" "20 s"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
  steps_done
fi
bash scripts/site.sh release
step "bench: build and run benches/load/" "2 min build first run, 4 min run"
cargo bench --features ssr --bench load
steps_done
