#!/usr/bin/env bash
# Subsonic API benchmark: what the facade costs. The same questions asked of the REST API and of
# /rest (an album with its songs; the newest albums), one release process on SQLite with the
# fixture library, the listener having liked every track (so replies mark stars), wrk on the
# same 2 cores as the server. Prints Markdown.
# Usage: scripts/bench-subsonic.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
LIBRARY=${LIBRARY:-$PWD/crates/catalog/tests/fixtures/library}
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
. scripts/lib/fresh-server.sh
export BEATSTREAM_CATALOG__WATCH=false BEATSTREAM_LOG__LEVEL=warn
start_fresh_server "$BIN" "$LIBRARY"
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -sf -X POST "$BASE/api/v1/auth/signup" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' | json '["access_token"]')
APP=$(curl -sf -X POST "$BASE/api/v1/me/app-passwords" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"name":"wrk"}' | json '["password"]')
until curl -sf "$BASE/api/v1/library/scan" -H "authorization: Bearer $TOKEN" | grep -q '"finished_at":"'; do sleep 0.2; done
for id in $(curl -sf "$BASE/api/v1/tracks?limit=500" -H "authorization: Bearer $TOKEN" \
  | python3 -c 'import sys,json; print("\n".join(t["id"] for t in json.load(sys.stdin)["items"]))'); do
  curl -sf -X PUT "$BASE/api/v1/me/likes/tracks/$id" -H "authorization: Bearer $TOKEN"
done
ALBUM=$(curl -sf "$BASE/api/v1/albums?sort=name&limit=1" -H "authorization: Bearer $TOKEN" | json '["items"][0]["id"]')
SALT=benchsalt
AUTH="u=bench&t=$(printf '%s' "$APP$SALT" | md5sum | cut -d' ' -f1)&s=$SALT&v=1.16.1&c=wrk"
sleep 2

measure() { # label connections url [bearer]
  local out header=()
  [ -n "${4:-}" ] && header=(-H "Authorization: Bearer $4")
  out=$(wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d"${SECONDS_EACH}s" --latency "${header[@]}" "$3")
  echo "| $1 | $2 | $(echo "$out" | awk '/^ +50%/ {print $2}') | $(echo "$out" | awk '/^ +99%/ {print $2}') | $(echo "$out" | awk '/^Requests\/sec/ {printf "%d", $2}') |"
}

echo "## Subsonic facade ($(git rev-parse --short HEAD), $(nproc) cores, ${SECONDS_EACH} s each)"
echo
echo "| request | connections | p50 | p99 | requests/s |"
echo "| --- | --- | --- | --- | --- |"
for c in 1 16; do
  measure "REST \`GET /api/v1/albums/{id}\`" $c "$BASE/api/v1/albums/$ALBUM" "$TOKEN"
  measure "Subsonic \`getAlbum\` (JSON)" $c "$BASE/rest/getAlbum.view?$AUTH&f=json&id=$ALBUM"
  measure "Subsonic \`getAlbum\` (XML)" $c "$BASE/rest/getAlbum.view?$AUTH&id=$ALBUM"
  measure "REST \`GET /api/v1/albums?sort=newest&limit=20\`" $c "$BASE/api/v1/albums?sort=newest&limit=20" "$TOKEN"
  measure "Subsonic \`getAlbumList2?type=newest&size=20\`" $c "$BASE/rest/getAlbumList2.view?$AUTH&f=json&type=newest&size=20"
  measure "Subsonic \`ping\`" $c "$BASE/rest/ping.view?$AUTH&f=json"
done
