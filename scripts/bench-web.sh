#!/usr/bin/env bash
# Web player benchmarks: the gzipped JavaScript of a first visit, and the time from a click on
# "Play" to the audio element's `playing` event in Debian's Chromium, over PLAYS plays of the
# test library served by a release build. Figures go in docs/benchmarks.md.
# Usage: scripts/bench-web.sh [PLAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYS=${1:-20}
LIBRARY=${BENCH_LIBRARY:-$PWD/.testdata/debian-music/library}
command -v chromium >/dev/null || { echo "bench-web: apt-get install chromium" >&2; exit 1; }
echo "## Web player ($(git rev-parse --short HEAD), $(nproc) cores)"
bash scripts/build-web.sh | grep "first visit"
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
. scripts/lib/fresh-server.sh
start_fresh_server "$BIN" "$LIBRARY"
wait_settled "$SERVER" >/dev/null
cd web
BEATSTREAM_URL="$BASE" node e2e/bench-play.mjs "$PLAYS"
