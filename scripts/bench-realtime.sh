#!/usr/bin/env bash
# Live updates: with SOCKETS WebSockets connected (devices of LISTENERS listeners), the delay
# from a change (a like or unlike over HTTP) to its message on each of the listener's sockets,
# p50/p99, and the server's memory per idle connection. Runs a fresh release server on the
# embedded defaults (SQLite, in-process bus) and, with NATS=1, on PostgreSQL + NATS JetStream.
# Prints Markdown reports (figures go in docs/benchmarks.md).
# Usage: scripts/bench-realtime.sh [SOCKETS] [LISTENERS] [CHANGES] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKETS=${1:-1000}
LISTENERS=${2:-100}
CHANGES=${3:-3000}
RATE=${4:-100}
LIBRARY=${LIBRARY:-$PWD/crates/catalog/tests/fixtures/library}
# Each socket is a file descriptor on both ends.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --bin beatstream --bin live-bench >&2
TARGET=${CARGO_TARGET_DIR:-target}/release
. scripts/lib/fresh-server.sh

run() {
  echo "### $1"
  echo
  echo "\`scripts/bench-realtime.sh $SOCKETS $LISTENERS $CHANGES $RATE\` ($(nproc) cores, $(date -u +%Y-%m-%d))"
  echo
  BEATSTREAM_CATALOG__WATCH=false start_fresh_server "$TARGET/beatstream" "$LIBRARY"
  wait_settled "$SERVER" >/dev/null
  "$TARGET/live-bench" "$BASE" "$SERVER" --sockets "$SOCKETS" --users "$LISTENERS" --changes "$CHANGES" --rate "$RATE"
  echo
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; DATA=
}

run "Embedded: SQLite, in-process bus"
if [ "${NATS:-0}" = 1 ]; then
  DB="bs_live_$$"
  psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $DB" >&2
  export BEATSTREAM_DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
  export BEATSTREAM_EVENTS__URL="nats://127.0.0.1:4222" BEATSTREAM_EVENTS__NAMESPACE="livebench$$"
  run "PostgreSQL and NATS JetStream"
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE $DB WITH (FORCE)" >&2 || true
fi
