#!/usr/bin/env bash
# Benchmarks of a release `beatstream serve` on SQLite + the in-process bus, driven by wrk over
# loopback. Prints a Markdown report; docs/benchmarks.md holds the figures and how they were
# taken. Usage: scripts/bench.sh [seconds-per-run]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
PORT=${BENCH_PORT:-3917}
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin beatstream >&2
BIN=${CARGO_TARGET_DIR:-target}/release/beatstream

WORK=$(mktemp -d)
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

start_server() { # extra env assignments...
  env "$@" BEATSTREAM_AUTH__LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE=0 BEATSTREAM_AUTH__LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE=0 \
    "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }

summarise() { # wrk output file -> "req/s | p50 | p99"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s | %s | %s", rps, p50, p99}' "$1"
}

echo "# Beatstream benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${DURATION}s per run"
echo
start_server
sleep 3
echo "- idle RSS after start: $(rss_mb) MB"
curl -sf -X POST "$BASE/api/v1/auth/signup" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' > "$WORK/session.json"
TOKEN=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' "$WORK/session.json")
sleep 1
echo "- idle RSS with one account: $(rss_mb) MB"
echo
echo "| run | req/s | p50 | p99 |"
echo "| --- | --- | --- | --- |"
wrk -t2 -c64 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me" > "$WORK/me.txt"
echo "| GET /api/v1/me, 64 connections, log level info (default: no access log) | $(summarise "$WORK/me.txt") |"
RSS_AFTER=$(rss_mb)

cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"benchmark password"}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c8 -d"${DURATION}s" --latency -s "$WORK/login.lua" "$BASE/api/v1/auth/login" > "$WORK/login.txt"
echo "| POST /api/v1/auth/login, 8 connections (Argon2id) | $(summarise "$WORK/login.txt") |"
stop_server

start_server BEATSTREAM_LOG__LEVEL=info,access=debug
TOKEN=$(curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"benchmark password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
wrk -t2 -c64 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me" > "$WORK/me-logged.txt"
echo "| GET /api/v1/me, 64 connections, access log on (info,access=debug) | $(summarise "$WORK/me-logged.txt") |"
stop_server
echo
echo "- RSS after the GET /api/v1/me run: $RSS_AFTER MB"
grep -E "Non-2xx|Socket errors" "$WORK"/*.txt | sed 's/^/- /' || true
