# Sourced by the scripts that need a `beatstream serve` of their own on fresh data.
# start_fresh_server BIN LIBRARY [SERVE ARGS...] sets DATA (a new folder unless DATA is set
# already), PORT, BASE and SERVER, and stops the server and removes DATA on exit; serve's log
# is "$DATA/serve.log".

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_fresh_server() {
  local bin=$1 library=$2
  shift 2
  DATA=${DATA:-$(mktemp -d)}
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  "$bin" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --library "$library" "$@" > "$DATA/serve.log" 2>&1 &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
  for _ in $(seq 1 300); do curl -sf "$BASE/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "the server did not start:" >&2
  cat "$DATA/serve.log" >&2
  return 1
}

# Waits until process PID's CPU time stops growing (under 5% of one core over 2 s): the scan at
# start and the other services' intake of its events are done. Prints the seconds waited.
wait_settled() {
  local pid=$1 started before after
  started=$(date +%s)
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  while true; do
    before=$(cpu); sleep 2; after=$(cpu)
    [ $((after - before)) -lt 10 ] && break
    [ $(( $(date +%s) - started )) -gt 900 ] && { echo "the server did not settle in 15 minutes" >&2; break; }
  done
  echo $(( $(date +%s) - started ))
}

# For the benchmarks that start a server of their own on a fixed port.
# wait_healthy BASE: waits up to 10 s until the server at BASE answers.
wait_healthy() {
  for _ in $(seq 1 100); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.1; done
  return 1
}

# bench_token BASE signup|login: signs the user `bench` up (or in); prints its access token.
bench_token() {
  curl -sf -X POST "$1/api/v1/auth/$2" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"benchmark password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}

# wait_scan_idle BASE TOKEN: waits until the library scan is done.
wait_scan_idle() {
  until curl -sf "$1/api/v1/library/scan" -H "Authorization: Bearer $2" | grep -q '"state":"idle"'; do sleep 0.2; done
}
