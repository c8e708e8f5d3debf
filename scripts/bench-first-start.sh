#!/usr/bin/env bash
# The first `serve` after a scan: how long the other services take to take in the scan's
# events (one per track), and the server's memory then. Scans LIBRARY into fresh data, starts
# `serve --roles ROLES`, and waits until the server's CPU time stops growing.
# Usage: scripts/bench-first-start.sh LIBRARY [ROLES] (a release build; default: every role)
set -euo pipefail
cd "$(dirname "$0")/.."
LIBRARY=$1
ROLES=${2:-auth,users,catalog,playlists,search,recommendations,realtime}
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
. scripts/lib/fresh-server.sh
export BEATSTREAM_CATALOG__WATCH=false
# Scan into fresh data, then start the server on it.
DATA=$(mktemp -d)
"$BIN" scan --data-dir "$DATA" --library "$LIBRARY" >/dev/null 2>&1
STARTED=$(date +%s)
start_fresh_server "$BIN" "$LIBRARY" --roles "$ROLES"
wait_settled "$SERVER" >/dev/null
echo "roles $ROLES: settled $(( $(date +%s) - STARTED )) s after serve started; $(awk '/VmRSS/ {printf "RSS %.0f MB", $2/1024}' /proc/$SERVER/status)"
