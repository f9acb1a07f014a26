#!/usr/bin/env bash
# Installs what is missing, builds the release app and serves it on
# http://127.0.0.1:3000 with an embedded SQLite database under ./data.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Settings from .env, if present (see .env.example).
if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi
exec cargo leptos serve --release
