#!/usr/bin/env bash
# Search benchmarks on a generated catalog of TRACKS tracks (default 1,000,000): the index build
# time, as-you-type query latency over HTTP at 1 and 16 connections, the server's memory while
# serving, and the time from a catalog event to it being searchable. Prints a Markdown report
# (figures go in docs/benchmarks.md).
# Usage: scripts/bench-search.sh [SECONDS] [TRACKS]; REBUILD=1 builds the index again.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30}
TRACKS=${2:-1000000}
PORT=3934
WORK=${BENCH_WORK:-/tmp/beatstream-bench}
BASE="http://127.0.0.1:$PORT"

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
cargo build --release --bin beatstream --bin search-bench >&2
TARGET=${CARGO_TARGET_DIR:-target}/release
DATA="$WORK/data-search-$TRACKS"

echo "## Search, $TRACKS generated tracks ($(git rev-parse --short HEAD), $(nproc) cores)"
echo
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$DATA/search/CURRENT" ]; then
  rm -rf "$DATA"
  echo '```'
  /usr/bin/time -f "build command: %e s wall, %M KiB peak RSS" "$TARGET/search-bench" build "$DATA" "$TRACKS" 2>&1
  echo '```'
else
  echo "(index already built in $DATA; REBUILD=1 to time the build again)"
fi
echo

"$TARGET/beatstream" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" > "$WORK/serve-search.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk -v f="$1" '$1 == f":" {printf "%.0f MiB", $2/1024}' "/proc/$SERVER/status"; }
echo "- server RSS after start: $(rss VmRSS)"
curl -sf -X POST "$BASE/api/v1/auth/signup" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' > "$WORK/search-session.json" \
  || curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' > "$WORK/search-session.json"
TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$WORK/search-session.json")
curl -sf "$BASE/api/v1/admin/search" -H "Authorization: Bearer $TOKEN" | sed 's/^/- index: /'
echo
echo "- queries: $(wc -l < "$DATA/queries.txt") keystroke-by-keystroke prefixes of generated names, a fifth with a typo, limit=10 per kind, all four kinds"

cat > "$WORK/search.lua" <<'LUA'
local queries = {}
for line in io.lines(os.getenv("QUERIES")) do queries[#queries + 1] = line end
local counter = 0
local thread_offset = 0
function setup(thread)
  thread:set("thread_offset", math.random(1, #queries))
end
local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
  counter = counter + 1
  local q = queries[((thread_offset + counter) % #queries) + 1]
  return wrk.format("GET", "/api/v1/search?limit=10&q=" .. encode(q), {["Authorization"] = "Bearer " .. os.getenv("TOKEN")})
end
LUA
run() {
  local conns=$1 threads=$2
  QUERIES="$DATA/queries.txt" TOKEN="$TOKEN" wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency -s "$WORK/search.lua" "$BASE" > "$WORK/wrk-search-$conns.txt"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-search-$conns.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk-search-$conns.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-search-$conns.txt")
  errors=$(grep -E "Non-2xx|Socket errors" "$WORK/wrk-search-$conns.txt" || true)
  echo "| $conns | $rps | $p50 | $p99 | ${errors:-none} |"
}
echo
echo "| connections | requests/s | p50 | p99 | errors |"
echo "| --- | --- | --- | --- | --- |"
run 1 1
run 16 2
echo
echo "- server RSS after the runs: $(rss VmRSS) (peak $(rss VmHWM))"
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT
echo
echo '```'
"$TARGET/search-bench" freshness "$DATA" 40
echo '```'
