#!/usr/bin/env bash
# Drives Beatstream's Subsonic API with two real third-party client libraries: py-opensonic
# (PyPI, test_opensonic.py) and subsonic-api (npm, subsonic-api.test.mjs), against a fresh
# `beatstream serve` with the test library.
# Usage: tests/subsonic-clients/run.sh [BEATSTREAM_BINARY]   (default: target/debug/beatstream;
# never built here). SUBSONIC_LIBRARY overrides the library (default: .testdata/debian-music).
# Needs python3 (with venv, or pip), Node.js 20+ and npm, curl. Exits non-zero on any failure.
#
# The library is copied (hard links) into a temporary folder with a generated 300x300
# cover.png next to one folder's tracks: the Debian test music has no cover art at all, and
# getCoverArt needs one to be tested.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:-$ROOT/target/debug/beatstream}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
SOURCE_LIBRARY=${SUBSONIC_LIBRARY:-$ROOT/.testdata/debian-music/library}
PY_PACKAGES="py-opensonic==10.4.1"
COVER_PX=300

[ -x "$BIN" ] || { echo "subsonic-clients: no server binary at $BIN (build it first: cargo build --bin beatstream)" >&2; exit 1; }
[ -d "$SOURCE_LIBRARY" ] || { echo "subsonic-clients: no test library at $SOURCE_LIBRARY (make testdata)" >&2; exit 1; }

# --- the client libraries, pinned -------------------------------------------------------------
# py-opensonic goes into a venv here; where python3 has no venv module, into a plain folder.
VENV=$HERE/.venv-subsonic
if [ -x "$VENV/bin/python" ]; then PY=("$VENV/bin/python"); else PY=(env PYTHONPATH="$VENV/site" python3); fi
if ! "${PY[@]}" -c 'import libopensonic, sys; sys.exit(libopensonic.__version__ != "10.4.1")' 2>/dev/null; then
  echo "subsonic-clients: installing $PY_PACKAGES into $VENV"
  rm -rf "$VENV"
  if python3 -m venv "$VENV" 2>/dev/null; then
    PY=("$VENV/bin/python")
    "${PY[@]}" -m pip install --quiet --disable-pip-version-check $PY_PACKAGES
  else
    rm -rf "$VENV"
    python3 -m pip install --quiet --disable-pip-version-check --target "$VENV/site" $PY_PACKAGES
    PY=(env PYTHONPATH="$VENV/site" python3)
  fi
fi
if ! (cd "$HERE" && node -e 'const lock = require("./package-lock.json").packages["node_modules/subsonic-api"];
  process.exit(require("./node_modules/subsonic-api/package.json").version === lock.version ? 0 : 1)') 2>/dev/null; then
  echo "subsonic-clients: npm ci in $HERE"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- a fresh server on a copy of the library with one cover -----------------------------------
WORK=$(mktemp -d)
LIBRARY=$WORK/library
cp -al "$SOURCE_LIBRARY" "$LIBRARY" 2>/dev/null || cp -a "$SOURCE_LIBRARY" "$LIBRARY"
COVER_DIR=$(find "$LIBRARY" -type f \( -name '*.ogg' -o -name '*.mp3' -o -name '*.flac' -o -name '*.opus' \) -printf '%h\n' | sort | sed -n 1p)
python3 - "$COVER_DIR/cover.png" "$COVER_PX" <<'EOF'
import struct, sys, zlib
path, n = sys.argv[1], int(sys.argv[2])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
rows = b"".join(b"\0" + b"".join(bytes((x * 255 // n, y * 255 // n, 128)) for x in range(n)) for y in range(n))
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
EOF

DATA=$WORK/data
mkdir -p "$DATA"
. "$ROOT/scripts/lib/fresh-server.sh"
start_fresh_server "$BIN" "$LIBRARY" || { rm -rf "$WORK"; exit 1; }
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
log_tail() { echo "subsonic-clients: server log (last 60 lines):" >&2; tail -60 "$DATA/serve.log" >&2; }

json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
USERNAME=subsonic$RANDOM
SIGNUP=$(curl -sf -X POST "$BASE/api/v1/auth/signup" -H 'content-type: application/json' \
  -d "{\"username\":\"$USERNAME\",\"password\":\"a long enough password\"}") || { echo "signup failed" >&2; log_tail; exit 1; }
ACCESS=$(json access_token <<<"$SIGNUP")
auth=(-H "authorization: Bearer $ACCESS" -H 'content-type: application/json')

# Wait for the scan at start to finish (state idle with finished_at), then for the services
# that take in its events (search, covers) to settle.
for i in $(seq 1 600); do
  SCAN=$(curl -s "${auth[@]}" "$BASE/api/v1/library/scan" || true)
  if python3 -c 'import json, sys; s = json.loads(sys.argv[1]); sys.exit(0 if s.get("state") == "idle" and s.get("finished_at") else 1)' "$SCAN" 2>/dev/null; then
    break
  fi
  [ "$i" = 600 ] && { echo "subsonic-clients: the scan did not finish in 5 minutes: $SCAN" >&2; log_tail; exit 1; }
  sleep 0.5
done
echo "subsonic-clients: scan finished: $SCAN"
echo "subsonic-clients: settled after $(wait_settled "$SERVER") s"

APP_PASSWORD=$(curl -sf "${auth[@]}" -X POST "$BASE/api/v1/me/app-passwords" -d '{"name":"subsonic clients"}' | json password)
API_KEY=$(curl -sf "${auth[@]}" -X POST "$BASE/api/v1/me/tokens" -d '{"name":"subsonic apiKey"}' | json token)

export BEATSTREAM_URL=$BASE SUBSONIC_USER=$USERNAME SUBSONIC_PASSWORD=$APP_PASSWORD SUBSONIC_API_KEY=$API_KEY SUBSONIC_COVER_PX=$COVER_PX

status=0
echo "subsonic-clients: py-opensonic"
"${PY[@]}" "$HERE/test_opensonic.py" || status=1
echo "subsonic-clients: subsonic-api"
(cd "$HERE" && node --test --test-concurrency=1 --test-reporter=spec subsonic-api.test.mjs) || status=1
if [ $status -ne 0 ]; then
  log_tail
  echo "subsonic-clients: FAILED" >&2
else
  echo "subsonic-clients: all passed"
fi
exit $status
