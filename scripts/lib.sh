# Sourced by the other scripts: the repository root, the tools' PATH, the
# build's environment, and `step`, which says what runs, how long it
# usually takes, and how long it took.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The name cargo-leptos gives the browser bundle. leptos reads it at
# compile time (the hydration scripts name `gatehouse.js` and
# `gatehouse.wasm`), so every cargo command here sets it alike: the
# tests, the release server and `cargo leptos build` then share one
# compilation instead of each making its own.
export LEPTOS_OUTPUT_NAME=gatehouse

# Incremental state only pays off while editing: scripts that build from
# scratch skip writing it (faster, and many gigabytes less disk).
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

# One clock for a whole run, shared with the scripts it calls.
export GATEHOUSE_RUN_START="${GATEHOUSE_RUN_START:-$EPOCHSECONDS}"
_step_name=""
_step_start=0

_elapsed() {
  local s=$(( EPOCHSECONDS - $1 ))
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $(( s / 60 )) $(( s % 60 )); else printf '%ds' "$s"; fi
}

# Closes the step that runs with the time it took; call it at the end of
# a script (`step` calls it for the one before).
steps_done() {
  if [ -n "$_step_name" ]; then
    printf '\033[1;34m<== %s: done in %s\033[0m (%s since start)\n' "$_step_name" "$(_elapsed "$_step_start")" "$(_elapsed "$GATEHOUSE_RUN_START")"
  fi
  _step_name=""
}

# at_exit COMMAND [ARG...]: runs COMMAND when the script ends, however it
# ends. Each word is quoted as given, so a path with spaces stays one.
_cleanups=()
at_exit() { _cleanups+=("$(printf '%q ' "$@")"); }

_on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$_step_name" ]; then
    printf '\033[1;31m<== %s: failed after %s\033[0m\n' "$_step_name" "$(_elapsed "$_step_start")" >&2
  fi
  local c
  for c in "${_cleanups[@]}"; do eval "$c" || true; done
  exit "$rc"
}
trap _on_exit EXIT

# step NAME USUALLY: announces NAME with its usual duration on a 2-core
# machine ("4 min first run, 5 s warm"), and closes the step before it with
# the time that one took.
step() {
  steps_done
  _step_name="$1"
  _step_start=$EPOCHSECONDS
  printf '\n\033[1;34m==> %s\033[0m (usually %s)\n' "$1" "$2"
}
