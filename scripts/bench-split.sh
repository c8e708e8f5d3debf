#!/usr/bin/env bash
# Split deployment benchmarks, all in one run on PostgreSQL + NATS JetStream: the latency the
# gateway adds (GET /api/v1/tracks?limit=20 through a `--roles gateway` process, against the
# catalog process directly), and throughput of the split topology (gateway, the catalog, and a
# process with every other service) against one process running everything. wrk on the same 2
# cores as the servers. Prints Markdown.
# Usage: scripts/bench-split.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-16}
LIBRARY=${LIBRARY:-$PWD/crates/catalog/tests/fixtures/library}
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream
. scripts/lib/fresh-server.sh
WORK=$(mktemp -d)
DB="bs_split_$$"
NS="split$$"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $DB" >&2
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >&2 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export BEATSTREAM_DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
export BEATSTREAM_EVENTS__URL="nats://127.0.0.1:4222" BEATSTREAM_EVENTS__NAMESPACE="$NS"
export BEATSTREAM_CATALOG__WATCH=false

start() { # name port roles [library]
  local name=$1 port=$2 roles=$3 library=${4:-}
  local args=(serve --listen "127.0.0.1:$port" --data-dir "$WORK/$name" --roles "$roles")
  [ -n "$library" ] && args+=(--library "$library")
  "$BIN" "${args[@]}" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "$name did not start" >&2; cat "$WORK/$name.log" >&2; return 1
}

measure() { # label url token
  local out
  out=$(wrk -t"$(( CONNECTIONS < 2 ? 1 : 2 ))" -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $3" "$2")
  local p50 p99 rps
  p50=$(echo "$out" | awk '/^ +50%/ {print $2}')
  p99=$(echo "$out" | awk '/^ +99%/ {print $2}')
  rps=$(echo "$out" | awk '/^Requests\/sec/ {printf "%d", $2}')
  echo "| $1 | $p50 | $p99 | $rps |"
}

echo "## Split deployment ($(git rev-parse --short HEAD), $(nproc) cores, wrk -c$CONNECTIONS, ${SECONDS_EACH} s each)"
echo
# The split topology: a gateway, the catalog, and a process with every other service.
export BEATSTREAM_DISCOVERY__URL="nats://127.0.0.1:4222"
SERVICES=$(free_port); CATALOG=$(free_port); FRONT=$(free_port)
start services "$SERVICES" auth,users,playlists,search,recommendations,realtime
start catalog "$CATALOG" catalog "$LIBRARY"
start gateway "$FRONT" gateway
# Through the gateway, once discovery has told it where auth runs.
TOKEN=""
for _ in $(seq 1 100); do
  TOKEN=$(curl -sf -X POST "http://127.0.0.1:$FRONT/api/v1/auth/signup" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"benchmark password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/') && break
  sleep 0.2
done
[ -n "$TOKEN" ] || { echo "could not sign up through the gateway" >&2; exit 1; }
until curl -sf "http://127.0.0.1:$CATALOG/api/v1/tracks?limit=1" -H "Authorization: Bearer $TOKEN" | grep -q '"id"'; do sleep 0.2; done
sleep 2
PATH_Q="/api/v1/tracks?limit=20"
echo "| GET $PATH_Q | p50 | p99 | requests/s |"
echo "| --- | --- | --- | --- |"
measure "catalog process, directly" "http://127.0.0.1:$CATALOG$PATH_Q" "$TOKEN"
measure "through the gateway (forwarded)" "http://127.0.0.1:$FRONT$PATH_Q" "$TOKEN"
for pid in "${PIDS[@]}"; do kill "$pid"; done; wait 2>/dev/null || true; PIDS=()

# One process running everything, on the same database and bus.
unset BEATSTREAM_DISCOVERY__URL
ALL=$(free_port)
start all "$ALL" all "$LIBRARY"
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$ALL/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
sleep 2
measure "one process running everything" "http://127.0.0.1:$ALL$PATH_Q" "$TOKEN"
