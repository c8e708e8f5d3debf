#!/usr/bin/env bash
# Streaming a 9 MB file next to nginx, alternating runs (nginx, Beatstream) for ROUNDS rounds at
# 4 and 64 connections, on a restarted server. Uses what scripts/bench-catalog.sh left in its
# work folder (the 50,000-track library, its data and nginx.conf): run that first.
# Usage: scripts/bench-stream-ab.sh [ROUNDS] [SECONDS]  (default 3, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
DURATION=${2:-8}
WORK=${BENCH_WORK:-/tmp/beatstream-bench}
PORT=3941
BASE="http://127.0.0.1:$PORT"
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
[ -f "$WORK/nginx.conf" ] && [ -d "$WORK/data-50000" ] || { echo "run scripts/bench-catalog.sh first" >&2; exit 1; }
cargo build --release --bin beatstream >&2
nginx -c "$WORK/nginx.conf"
BEATSTREAM_CATALOG__WATCH=false "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data-50000" \
  --library "$WORK/library-50000" > "$WORK/ab.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true' EXIT
. scripts/lib/fresh-server.sh
wait_healthy "$BASE"
TOKEN=$(bench_token "$BASE" login)
AUTH="Authorization: Bearer $TOKEN"
BENCH_ALBUM=$(python3 -c 'import hashlib; print(hashlib.sha256("album\x1fbench artist\x1ebench album".encode()).hexdigest()[:24])')
BIG_ID=$(curl -sf "$BASE/api/v1/albums/$BENCH_ALBUM" -H "$AUTH" | python3 -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin)["tracks"] if t["title"]=="Nine Megabytes"))')
sleep 3
for round in $(seq 1 "$ROUNDS"); do
  for connections in 4 64; do
    n=$(wrk -t2 -c"$connections" -d"${DURATION}s" http://127.0.0.1:3932/big.mp3 | awk '/Requests\/sec/ {print $2}')
    b=$(wrk -t2 -c"$connections" -d"${DURATION}s" -H "$AUTH" "$BASE/api/v1/tracks/$BIG_ID/stream" | awk '/Requests\/sec/ {print $2}')
    echo "round $round, $connections connections: nginx $n req/s, beatstream $b req/s, ratio $(awk "BEGIN {printf \"%.2f\", $b / $n}")"
  done
done
