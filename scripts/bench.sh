#!/usr/bin/env bash
# The load benchmark (benches/load.rs): builds the release site, then runs
# the release server under wrk beside a bare axum handler and prints the
# table the README carries. Takes a few minutes; run it on an idle machine.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if ! command -v wrk >/dev/null 2>&1; then
  printf '\033[1;34m[bench]\033[0m installing wrk\n'
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
cargo leptos build --release
cargo bench --features ssr --bench load
