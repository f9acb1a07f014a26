#!/usr/bin/env bash
# The soak (benches/soak.rs): 50,000 mixed requests over 64 connections
# against the release server, with its resident memory watched. Prints a
# table and "soak: passed", or what failed. Takes a few minutes; run it on
# an idle machine. SOAK_REQUESTS and SOAK_CONNECTIONS change the load.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh run
step "soak: build and run benches/soak.rs" "2 min build after the tests, 2 min run"
cargo bench --features ssr --bench soak
steps_done
