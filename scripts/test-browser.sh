#!/usr/bin/env bash
# Browser end-to-end tests of the reference SPA (web/): Debian's Chromium, driven by
# playwright-core, against the real local stack (scripts/dev.sh: DynamoDB Local + cargo lambda
# watch). Also runs the SPA's unit tests. Screenshots go to artifacts/browser/ (git-ignored).
#
# Environment:
#   TASKLINE_BASE_URL  use an already running stack instead of starting one; it must allow the
#                      SPA's origin http://localhost:$TASKLINE_WEB_PORT in ALLOWED_ORIGINS
#                      (the dev default allows http://localhost:5173)
#   TASKLINE_WEB_PORT  port of the SPA (default: 5173 with TASKLINE_BASE_URL, else a free one)
#   COOKIE_SAMESITE    passed to the stack it starts (default Strict; see web/README.md)
#
# The SPA and the API are both addressed as `localhost` (on different ports): different origins,
# so CORS with credentials is exercised, but the same site, so a SameSite=Strict refresh cookie
# is sent. http://localhost is a secure context for Chromium, so it keeps the Secure __Host-
# cookie even over plain HTTP.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
artifacts="$root/artifacts"
mkdir -p "$artifacts/browser"
rm -f "$artifacts/browser/"*.png

if [ ! -x /usr/bin/chromium ]; then
  echo "test-browser: installing Debian's chromium" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
command -v npm >/dev/null || { echo "error: npm is required (apt-get install -y nodejs npm)" >&2; exit 1; }
(cd web && npm ci --no-audit --no-fund --loglevel=error)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
wait_for_port() { # port, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "test-browser: nothing listens on port $1" >&2
  return 1
}

echo "== web unit tests" >&2
# The SPA's API types are generated from openapi.yaml (npm run gen:api): a stale file fails here.
(cd web && npm run --silent check:api) ||
  { echo "test-browser: web/src/api-types.ts is stale: run (cd web && npm run gen:api)" >&2; exit 1; }
(cd web && npx --no-install vitest run)

if [ -n "${TASKLINE_BASE_URL:-}" ]; then
  web_port="${TASKLINE_WEB_PORT:-5173}"
  api_url="${TASKLINE_BASE_URL%/}"
  api_url="${api_url/\/\/127.0.0.1:/\/\/localhost:}" # same site as the SPA
else
  web_port="${TASKLINE_WEB_PORT:-$(free_port)}"
  api_port="$(free_port)"
  echo "== starting the local stack on port $api_port (log: artifacts/browser-stack.log)" >&2
  ALLOWED_ORIGINS="http://localhost:$web_port" PORT="$api_port" DYNAMODB_PORT="$(free_port)" \
    DYNAMODB_IN_MEMORY=1 "$root/scripts/dev.sh" > "$artifacts/browser-stack.log" 2>&1 &
  pids+=($!)
  api_url="http://localhost:$api_port"
fi

health="${api_url/\/\/localhost:/\/\/127.0.0.1:}/v1/health"
for _ in $(seq 1 1200); do
  curl -fsS "$health" >/dev/null 2>&1 && break
  if [ -z "${TASKLINE_BASE_URL:-}" ] && ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "test-browser: the stack exited; see artifacts/browser-stack.log" >&2
    tail -20 "$artifacts/browser-stack.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$health" >/dev/null || { echo "test-browser: no API at $api_url" >&2; exit 1; }
# Wake every function once (cargo lambda watch starts each on its first request), so the
# browser's timeouts measure the app rather than cold starts.
for path in /v1/auth/register /v1/auth/login /v1/auth/refresh; do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "${health%/v1/health}$path" || true
done
curl -s -o /dev/null "${health%/v1/health}/v1/tasks" || true

echo "== building the SPA for $api_url, serving it on http://localhost:$web_port" >&2
(cd web && VITE_API_URL="$api_url" npm run --silent build > "$artifacts/browser-build.log" 2>&1) \
  || { cat "$artifacts/browser-build.log" >&2; exit 1; }
(cd web && exec node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "$web_port" --strictPort) \
  > "$artifacts/browser-web.log" 2>&1 &
pids+=($!)
wait_for_port "$web_port" 30

echo "== browser end-to-end tests (Chromium $(/usr/bin/chromium --version 2>/dev/null | grep -oE '[0-9.]+' | head -1))" >&2
cd web
TASKLINE_WEB_URL="http://localhost:$web_port" TASKLINE_API_URL="$api_url" \
  TASKLINE_ARTIFACTS="$artifacts/browser" node --test --test-concurrency=1 e2e/
