#!/usr/bin/env bash
# Builds the web player into web/dist (installing its npm packages first when they changed).
set -euo pipefail
cd "$(dirname "$0")/../web"
command -v npm >/dev/null || { echo "building the web player needs Node.js 20+ and npm" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
