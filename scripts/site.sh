#!/usr/bin/env bash
# Builds the site the server serves, in target/site: the browser bundle
# (wasm + JS), the stylesheet and the files of public/. The same steps and
# file names as `cargo leptos build`, with cargo and the pinned tools
# called directly, so nobody has to compile cargo-leptos first.
#
#   scripts/site.sh release   optimised with wasm-opt, minified, precompressed
#   scripts/site.sh dev       a debug bundle, quick to build
#
# The server itself is built by cargo (`cargo build --release --features
# ssr`); it finds the site under target/site.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

profile="${1:-release}"
case "$profile" in
  release) cargo_profile=wasm-release out_dir=wasm-release css=(--minify) ;;
  dev) cargo_profile=dev out_dir=debug css=() ;;
  *) echo "usage: scripts/site.sh [release|dev]" >&2; exit 2 ;;
esac

site=target/site
next="$site.next"

step "site: browser bundle ($cargo_profile, wasm32)" "3 min first run, seconds when unchanged"
# target/front is where cargo-leptos builds it too: either reuses the other's work.
cargo build --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
  --profile "$cargo_profile" --target-dir target/front
wasm="target/front/wasm32-unknown-unknown/$out_dir/$LEPTOS_OUTPUT_NAME.wasm"

# Nothing to do when the site is newer than everything it is made of.
stamp="$site.$profile.stamp"
if [ -f "$stamp" ] && [ -d "$site" ] \
   && [ -z "$(find "$wasm" style public "$0" -newer "$stamp" -print -quit)" ]; then
  steps_done
  exit 0
fi

step "site: JS bindings, wasm-opt, stylesheet, public files" "25 s release, 2 s dev"
rm -rf "$next" "$site".*.stamp
mkdir -p "$next/pkg"
cp -R public/. "$next/"
wasm-bindgen --target web --no-typescript --out-name "$LEPTOS_OUTPUT_NAME" --out-dir "$next/pkg" "$wasm"
# leptos's hydration script asks for NAME.wasm, not wasm-bindgen's NAME_bg.wasm.
mv "$next/pkg/${LEPTOS_OUTPUT_NAME}_bg.wasm" "$next/pkg/$LEPTOS_OUTPUT_NAME.wasm"
lightningcss "${css[@]}" --targets defaults style/main.css -o "$next/pkg/$LEPTOS_OUTPUT_NAME.css"
if [ "$profile" = release ]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$next/pkg/$LEPTOS_OUTPUT_NAME.wasm" -o "$next/pkg/$LEPTOS_OUTPUT_NAME.wasm"
  esbuild "$next/pkg/$LEPTOS_OUTPUT_NAME.js" --minify --format=esm --log-level=warning \
    --allow-overwrite --outfile="$next/pkg/$LEPTOS_OUTPUT_NAME.js"
  # The server sends these instead when the browser accepts them
  # (ServeDir's precompressed_br/precompressed_gzip).
  node -e '
    const { readFileSync, writeFileSync } = require("node:fs");
    const zlib = require("node:zlib");
    for (const file of process.argv.slice(1)) {
      const data = readFileSync(file);
      const params = { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length };
      writeFileSync(`${file}.br`, zlib.brotliCompressSync(data, { params }));
      writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
    }' "$next"/pkg/*.wasm "$next"/pkg/*.js "$next"/pkg/*.css
fi
# The new site replaces the old one whole, never file by file.
rm -rf "$site.old"
[ -d "$site" ] && mv "$site" "$site.old"
mv "$next" "$site"
rm -rf "$site.old"
touch "$stamp"

steps_done
