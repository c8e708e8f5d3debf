#!/usr/bin/env bash
# Playlist benchmarks: adding a track to a 10,000-track playlist and loading that playlist, at
# 64 connections, on the default embedded setup (SQLite, in-process bus). Prints a Markdown
# report (figures go in docs/benchmarks.md). Usage: scripts/bench-playlists.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
TRACKS=10000
PORT=3933
WORK=${BENCH_WORK:-/tmp/beatstream-bench}
BASE="http://127.0.0.1:$PORT"

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
cargo build --release --bin beatstream --bin gen-library >&2
TARGET=${CARGO_TARGET_DIR:-target}/release
BIN=$TARGET/beatstream

mkdir -p "$WORK"
LIB="$WORK/library-$TRACKS"
[ -d "$LIB" ] || "$TARGET/gen-library" "$LIB" "$TRACKS" >&2
DATA="$WORK/data-playlists"
rm -rf "$DATA"
BEATSTREAM_CATALOG__WATCH=false "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --library "$LIB" > "$WORK/serve-playlists.log" 2>&1 &
SERVER=$!
# Waits for the server to stop, so that a run started right after this one finds its data
# folder free (a server still shutting down writes its search index there).
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
. scripts/lib/fresh-server.sh
wait_healthy "$BASE"
TOKEN=$(bench_token "$BASE" signup)
AUTH="Authorization: Bearer $TOKEN"
wait_scan_idle "$BASE" "$TOKEN"
# ...and until the playlists service has taken in every catalog.track.added event.
until curl -sf "$BASE/metrics" | awk -v n="$TRACKS" '/^beatstream_events_handled_total/ && /group="playlists"/ && /topic="catalog.track.added"/ {found = ($2 >= n)} END {exit !found}'; do sleep 0.5; done

# Every track id, then eight playlists of 10,000 tracks each, each added in one request. The
# add runs spread over the eight, so that none reaches the 100,000-track limit during the run.
python3 - "$BASE" "$TOKEN" "$WORK/playlist.json" <<'PY'
import json, sys, urllib.request
base, token, out = sys.argv[1:]
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)
ids, cursor = [], ""
while True:
    page = call("GET", "/api/v1/tracks?limit=500" + (f"&cursor={cursor}" if cursor else ""))
    ids += [t["id"] for t in page["items"]]
    cursor = page["next_cursor"]
    if not cursor:
        break
playlists = []
for n in range(8):
    playlist = call("POST", "/api/v1/playlists", {"name": f"Ten thousand {n}"})
    call("POST", f"/api/v1/playlists/{playlist['id']}/tracks", {"track_ids": ids[:10000]})
    playlists.append(playlist["id"])
json.dump({"id": playlists[0], "all": playlists, "track": ids[0], "count": len(ids)}, open(out, "w"))
PY
PLAYLIST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/playlist.json")
TRACK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["track"])' "$WORK/playlist.json")
ALL=$(python3 -c 'import json,sys; print(",".join(chr(34) + p + chr(34) for p in json.load(open(sys.argv[1]))["all"]))' "$WORK/playlist.json")
SIZE=$(curl -sf "$BASE/api/v1/playlists/$PLAYLIST" -H "$AUTH" | wc -c)
GZIP_SIZE=$(curl -sf "$BASE/api/v1/playlists/$PLAYLIST" -H "$AUTH" -H 'Accept-Encoding: gzip' | wc -c)
COUNT=$(curl -sf "$BASE/api/v1/playlists/$PLAYLIST?limit=1" -H "$AUTH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["track_count"])')

cat > "$WORK/add.lua" <<LUA
-- Each request appends one track to one of the eight playlists, in turn.
local playlists = {$ALL}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/playlists/" .. playlists[n % #playlists + 1] .. "/tracks",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN"},
    '{"track_ids":["$TRACK"]}')
end
LUA

echo "# Playlist benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${DURATION}s per wrk run"
echo
echo "- playlist of $COUNT tracks; the full reply is $SIZE bytes of JSON ($GZIP_SIZE bytes gzipped)"
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
run "load the whole playlist, gzip (as browsers ask), 64 connections" "$BASE/api/v1/playlists/$PLAYLIST" -t2 -c64 -H "$AUTH" -H "Accept-Encoding: gzip"
run "load the whole playlist, uncompressed, 64 connections" "$BASE/api/v1/playlists/$PLAYLIST" -t2 -c64 -H "$AUTH"
run "load the first 100 entries, 64 connections" "$BASE/api/v1/playlists/$PLAYLIST?limit=100" -t2 -c64 -H "$AUTH"
run "add a track at the end of one of 8 playlists, 64 connections" "$BASE/api/v1/playlists/$PLAYLIST/tracks" -t2 -c64 -s "$WORK/add.lua"
run "add a track at the end of one of 8 playlists, 8 connections" "$BASE/api/v1/playlists/$PLAYLIST/tracks" -t2 -c8 -s "$WORK/add.lua"
echo
echo "- track counts after the runs: $(curl -sf "$BASE/api/v1/me/playlists" -H "$AUTH" | python3 -c 'import json,sys; print(", ".join(str(p["track_count"]) for p in json.load(sys.stdin)["items"]))')"
echo "- RSS of beatstream serve after the runs: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status) MB"
