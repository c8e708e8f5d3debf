#!/usr/bin/env bash
# The first `serve` after a scan: how long the other services take to take in the scan's
# events (one per track), and the server's memory then. Scans LIBRARY into fresh data, starts
# `serve --roles ROLES`, and waits until the server's CPU time stops growing.
# Usage: scripts/bench-first-start.sh LIBRARY [ROLES] (a release build; default: every role)
set -euo pipefail
cd "$(dirname "$0")/.."
LIBRARY=$1
ROLES=${2:-auth,users,catalog,playlists,search}
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BEATSTREAM_CATALOG__WATCH=false "$BIN" scan --data-dir "$DATA" --library "$LIBRARY" >/dev/null 2>&1
STARTED=$(date +%s)
BEATSTREAM_CATALOG__WATCH=false "$BIN" serve --roles "$ROLES" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --library "$LIBRARY" > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
sleep 3
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
while true; do
  before=$(cpu); sleep 2; after=$(cpu)
  [ $((after - before)) -lt 10 ] && break # under 5% of one core over 2 s
done
echo "roles $ROLES: settled $(( $(date +%s) - STARTED )) s after serve started; $(awk '/VmRSS/ {printf "RSS %.0f MB", $2/1024}' /proc/$SERVER/status)"
