#!/usr/bin/env bash
# Installs what is missing, builds the release app and serves it on
# http://127.0.0.1:3000 (GATEHOUSE_ADDR) with an embedded SQLite database under ./data.
# Settings come from .env, if present (see .env.example).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh run
bash scripts/site.sh release

step "server (release)" "5 min first run, seconds when unchanged"
cargo build --release --features ssr --bin gatehouse
steps_done

if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi
exec ./target/release/gatehouse
