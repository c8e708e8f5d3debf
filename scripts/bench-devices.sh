#!/usr/bin/env bash
# Playback across devices in Debian's Chromium, against a release build serving the test
# library: how fast and how exactly a transfer picks up on the other device, and how close a
# group session's guest stays to its host. Figures go in docs/benchmarks.md.
# Usage: scripts/bench-devices.sh [TRANSFERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
LIBRARY=${BENCH_LIBRARY:-$PWD/.testdata/debian-music/library}
command -v chromium >/dev/null || { echo "bench-devices: apt-get install chromium" >&2; exit 1; }
echo "## Devices and group sessions ($(git rev-parse --short HEAD), $(nproc) cores)"
bash scripts/build-web.sh >/dev/null
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
. scripts/lib/fresh-server.sh
start_fresh_server "$BIN" "$LIBRARY"
wait_settled "$SERVER" >/dev/null
cd web
BEATSTREAM_URL="$BASE" node e2e/bench-devices.mjs "${1:-10}" "${2:-30}"
