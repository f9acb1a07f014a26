#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets, cargo fuzz with libFuzzer)
# for a bounded time each, starting from the corpus kept in the repo
# (fuzz/corpus/<target>). What the fuzzer finds on the way is kept in a
# scratch directory, not in the repo. Any panic, crash, hang (a run over
# 10 s) or runaway memory fails the target: its input is printed in
# base64 and kept in fuzz/artifacts/<target> until that target runs
# again, and `cargo fuzz run <target> <file>` replays it. Ends with one
# line, "fuzz: N targets passed" or "fuzz: <target> failed".
#
#   scripts/fuzz.sh            every target, GATEHOUSE_FUZZ_SECS (20) each
#   scripts/fuzz.sh token 300  one target, five minutes
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v cargo-fuzz >/dev/null || bash scripts/setup.sh test

secs="${2:-${GATEHOUSE_FUZZ_SECS:-20}}"
# libFuzzer's instrumentation needs the nightly compiler's -Z flags; where
# only the stable one is installed, it is allowed them.
if rustup toolchain list | grep '^nightly' >/dev/null; then
  cargo_fuzz=(cargo +nightly fuzz)
else
  cargo_fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
# Safe Rust gains little from AddressSanitizer and builds twice as fast
# without it; debug assertions make an overflow a finding, not a wrap.
# Sixteen codegen units instead of one: the build takes half the time, the
# runs lose little.
flags=(--sanitizer none --debug-assertions --codegen-units 16)

targets=("${1:-}")
[ -n "${targets[0]}" ] || mapfile -t targets < <("${cargo_fuzz[@]}" list --fuzz-dir fuzz)
[ -n "${targets[0]:-}" ] || { echo "fuzz: no targets found, failed"; exit 1; }

work="$(mktemp -d)"
at_exit rm -rf "$work"

step "fuzz: build ${#targets[@]} targets" "10 min first run, 3 min after a change"
"${cargo_fuzz[@]}" build --fuzz-dir fuzz "${flags[@]}" || { echo "fuzz: the build failed"; exit 1; }

passed=0
for target in "${targets[@]}"; do
  step "fuzz: $target for ${secs}s" "${secs} s"
  artifacts="fuzz/artifacts/$target"
  rm -rf "$artifacts"
  mkdir -p "$work/$target" "$artifacts"
  if ! "${cargo_fuzz[@]}" run --fuzz-dir fuzz "${flags[@]}" "$target" "$work/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" 2>"$work/$target.log"; then
    # The finding's own words, then libFuzzer's report.
    grep -a -A2 'panicked at' "$work/$target.log" | head -n 6 || true
    grep -a -v '^ *[0-9]*: \|^ *at ' "$work/$target.log" | tail -n 25 || true
    for found in "$artifacts"/*; do
      [ -f "$found" ] && printf 'input %s (base64):\n%s\n' "$(basename "$found")" "$(base64 -w0 "$found")"
    done
    echo "fuzz: $target failed"
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$work/$target.log" | tr '\n' ' ' || true
  echo
  passed=$((passed + 1))
done
steps_done
echo "fuzz: $passed targets passed"
