#!/usr/bin/env bash
# Catalog benchmarks: scan speed and memory on a generated library, and streaming next to nginx
# serving the same files in the same run. Prints a Markdown report (figures go in
# docs/benchmarks.md). Usage: scripts/bench-catalog.sh [TRACKS] [SECONDS]  (default 50000, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
TRACKS=${1:-50000}
DURATION=${2:-10}
PORT=3931
NGINX_PORT=3932
WORK=${BENCH_WORK:-/tmp/beatstream-bench}
BASE="http://127.0.0.1:$PORT"
NGINX="http://127.0.0.1:$NGINX_PORT"

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk; need nginx nginx; need ffmpeg ffmpeg; need /usr/bin/time time
cargo build --release --bin beatstream --bin gen-library >&2
TARGET=${CARGO_TARGET_DIR:-target}/release
BIN=$TARGET/beatstream

mkdir -p "$WORK"
LIB="$WORK/library-$TRACKS"
if [ ! -d "$LIB" ]; then
  "$TARGET/gen-library" "$LIB" "$TRACKS" >&2
  mkdir -p "$LIB/Bench Artist/Bench Album"
  # A 9 MB and a 133 KiB file, in the library and in nginx's root.
  ffmpeg -loglevel error -f lavfi -i "sine=frequency=440:duration=590" -c:a libmp3lame -b:a 128k \
    -metadata title="Nine Megabytes" -metadata artist="Bench Artist" -metadata album="Bench Album" \
    "$LIB/Bench Artist/Bench Album/01 Nine Megabytes.mp3"
  ffmpeg -loglevel error -f lavfi -i "sine=frequency=440:duration=8.5" -c:a libmp3lame -b:a 128k \
    -metadata title="Small" -metadata artist="Bench Artist" -metadata album="Bench Album" \
    "$LIB/Bench Artist/Bench Album/02 Small.mp3"
fi
BIG="$LIB/Bench Artist/Bench Album/01 Nine Megabytes.mp3"
SMALL="$LIB/Bench Artist/Bench Album/02 Small.mp3"
rm -rf "$WORK/www" && mkdir -p "$WORK/www" && cp "$BIG" "$WORK/www/big.mp3" && cp "$SMALL" "$WORK/www/small.mp3"

echo "# Catalog benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $TRACKS generated tracks (+2), ${DURATION}s per wrk run"
echo
# Warm the page cache, then scan into a fresh database: the first scan.
cat $(find "$LIB" -type f | head -n 200000) > /dev/null 2>&1 || true
DATA="$WORK/data-$TRACKS"
rm -rf "$DATA"
/usr/bin/time -f "%e %M" -o "$WORK/scan1.time" "$BIN" scan --data-dir "$DATA" --library "$LIB" > "$WORK/scan1.out"
read -r S1 M1 < "$WORK/scan1.time"
/usr/bin/time -f "%e %M" -o "$WORK/scan2.time" "$BIN" scan --data-dir "$DATA" --library "$LIB" > "$WORK/scan2.out"
read -r S2 M2 < "$WORK/scan2.time"
FILES=$((TRACKS + 2))
echo "| scan | wall time | files/s | peak RSS |"
echo "| --- | --- | --- | --- |"
echo "| first scan, warm page cache, into an empty SQLite catalog | ${S1} s | $(awk "BEGIN {printf \"%d\", $FILES / $S1}") | $((M1 / 1024)) MB |"
echo "| unchanged rescan | ${S2} s | $(awk "BEGIN {printf \"%d\", $FILES / $S2}") | $((M2 / 1024)) MB |"
echo
grep -h "Scanned" "$WORK/scan1.out" "$WORK/scan2.out" | sed 's/^/    /'
echo

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  types { audio/mpeg mp3; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
NGINX
nginx -c "$WORK/nginx.conf"
BEATSTREAM_CATALOG__WATCH=false "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --library "$LIB" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true' EXIT
. scripts/lib/fresh-server.sh
wait_healthy "$BASE"
TOKEN=$(bench_token "$BASE" signup)
AUTH="Authorization: Bearer $TOKEN"
wait_scan_idle "$BASE" "$TOKEN"
# The catalog's events of the first scan (one per track) are still being relayed to the other
# services (playlists, search) when serve starts; measure once they are through: the server's
# CPU time stops growing.
echo "- time for the other services to take in the first scan's events after serve started: $(wait_settled "$SERVER") s"
# Album ids derive from identity (crates/catalog/src/model.rs): compute the bench album's.
BENCH_ALBUM=$(python3 -c 'import hashlib; print(hashlib.sha256("album\x1fbench artist\x1ebench album".encode()).hexdigest()[:24])')
ALBUM_JSON=$(curl -sf "$BASE/api/v1/albums/$BENCH_ALBUM" -H "$AUTH")
BIG_ID=$(echo "$ALBUM_JSON" | python3 -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin)["tracks"] if t["title"]=="Nine Megabytes"))')
SMALL_ID=$(echo "$ALBUM_JSON" | python3 -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin)["tracks"] if t["title"]=="Small"))')
COVER_ALBUM=$(curl -sf "$BASE/api/v1/albums?limit=500" -H "$AUTH" | python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin)["items"] if a["cover_url"]))')
curl -sf -o /dev/null "$BASE/api/v1/albums/$COVER_ALBUM/cover?size=128" -H "$AUTH"
echo "- RSS of beatstream serve with the catalog loaded: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status) MB"
echo

run() { # label url extra-wrk-args...
  local label=$1 url=$2; shift 2
  wrk -d"${DURATION}s" --latency "$@" "$url" > "$WORK/wrk.txt"
  awk -v label="$label" '/Requests\/sec/ {rps=$2} /Transfer\/sec/ {tps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    END {printf "| %s | %s | %s | %s | %s |\n", label, rps, tps, p50, p99}' "$WORK/wrk.txt"
  grep -E "Non-2xx" "$WORK/wrk.txt" | sed "s/^/| (errors: $label) /;s/$/ | | | |/" || true
}
echo "| run | req/s | transfer/s | p50 | p99 |"
echo "| --- | --- | --- | --- | --- |"
run "nginx, 9 MB file, 4 connections" "$NGINX/big.mp3" -t2 -c4
run "beatstream, 9 MB file, 4 connections" "$BASE/api/v1/tracks/$BIG_ID/stream" -t2 -c4 -H "$AUTH"
run "nginx, 9 MB file, 64 connections" "$NGINX/big.mp3" -t2 -c64
run "beatstream, 9 MB file, 64 connections" "$BASE/api/v1/tracks/$BIG_ID/stream" -t2 -c64 -H "$AUTH"
run "nginx, 64 KiB ranges, 32 connections" "$NGINX/big.mp3" -t2 -c32 -H "Range: bytes=1048576-1114111"
run "beatstream, 64 KiB ranges, 32 connections" "$BASE/api/v1/tracks/$BIG_ID/stream" -t2 -c32 -H "$AUTH" -H "Range: bytes=1048576-1114111"
run "nginx, 133 KiB file, 32 connections" "$NGINX/small.mp3" -t2 -c32
run "beatstream, 133 KiB file, 32 connections" "$BASE/api/v1/tracks/$SMALL_ID/stream" -t2 -c32 -H "$AUTH"
run "beatstream, cover thumbnail (size=128, cached), 32 connections" "$BASE/api/v1/albums/$COVER_ALBUM/cover?size=128" -t2 -c32 -H "$AUTH"
run "beatstream, page of 50 albums (sort=name), 32 connections" "$BASE/api/v1/albums?limit=50&sort=name" -t2 -c32 -H "$AUTH"
echo
# Time to the first byte of audio (not of the headers, which go out before ffmpeg has
# produced anything): a fresh bitrate each time, so no transcode comes from the cache.
FIRST_BYTES=()
for bitrate in 96 97 98 99 100; do
  FIRST_BYTES+=("$(python3 - "$BASE/api/v1/tracks/$SMALL_ID/stream?format=opus&bitrate=$bitrate" "$TOKEN" <<'PY'
import sys, time, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
start = time.perf_counter()
with urllib.request.urlopen(request) as response:
    response.read(1)
print(f"{(time.perf_counter() - start) * 1000:.1f}")
PY
)")
done
echo "- first audio byte of a live opus transcode (5 fresh transcodes of a 133 KiB MP3): ${FIRST_BYTES[*]} ms"
echo "- RSS of beatstream serve after the runs: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status) MB"
