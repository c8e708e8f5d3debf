#!/usr/bin/env bash
# The web player's end-to-end tests: builds the player, starts `beatstream serve` on fresh data
# with the test library, and drives it with Debian's Chromium (playwright-core). Screenshots of
# the main screens land in docs/screenshots/.
# Usage: scripts/e2e.sh [BEATSTREAM_BINARY] (default: a debug build, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
LIBRARY=${E2E_LIBRARY:-$PWD/.testdata/debian-music/library}

command -v chromium >/dev/null || { echo "e2e: Chromium is missing (apt-get install chromium)" >&2; exit 1; }
if [ -z "$BIN" ]; then
  cargo build --bin beatstream
  BIN=${CARGO_TARGET_DIR:-target}/debug/beatstream
fi
[ -d "$LIBRARY" ] || { echo "e2e: no test library at $LIBRARY (make testdata)" >&2; exit 1; }
bash scripts/build-web.sh

. scripts/lib/fresh-server.sh
start_fresh_server "$BIN" "$LIBRARY"
cd web
BEATSTREAM_URL="$BASE" npm run --silent e2e || { echo "e2e: server log:" >&2; tail -50 "$DATA/serve.log" >&2; exit 1; }
