#!/usr/bin/env bash
# Recommendation benchmarks (figures go in docs/benchmarks.md):
#  1. MovieLens-100K, split by time, Beatstream's models against a popularity baseline and the
#     Python `implicit` library's ALS (the outside reference) in the same run;
#  2. listening logs SIMULATED over the real Debian music library (hidden taste groups);
#  3. serving: 10,000 listeners, 1,000,000 interactions, p50/p99 of a request.
# Usage: scripts/bench-recommend.sh [movielens|simulate|serve ...] (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DATA=.testdata
parts=${*:-movielens simulate serve}

cargo build --release -p beatstream-bench --bin rec-eval >&2
TARGET=${CARGO_TARGET_DIR:-target}/release
echo "# Recommendations ($(git rev-parse --short HEAD), $(nproc) cores)"
echo
for part in $parts; do
  case $part in
    movielens)
      bash ../shared/testdata/fetch-movielens.sh "$DATA" >&2
      "$PYTHON" -c 'import implicit' 2>/dev/null || "$PYTHON" -m pip install --quiet implicit==0.7.3 >&2
      "$TARGET/rec-eval" movielens "$DATA" --python "$PYTHON"
      ;;
    simulate)
      bash ../shared/testdata/fetch-debian-music.sh "$DATA/debian-music-full" full >&2
      "$TARGET/rec-eval" simulate "$DATA/debian-music-full/library" --python "$PYTHON"
      ;;
    serve)
      /usr/bin/time -f "serve bench: %e s wall, %M KiB peak RSS" "$TARGET/rec-eval" serve 2>&1
      ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
