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
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --library "$LIBRARY" > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
# The scan at start: wait until the catalog stops growing.
sleep 3
cd web
BEATSTREAM_URL="http://127.0.0.1:$PORT" node e2e/bench-play.mjs "$PLAYS"
