#!/usr/bin/env bash
# Browser end-to-end tests of the reference SPA (web/): Debian's Chromium, driven by
# playwright-core, against the real local stack (scripts/dev.sh: DynamoDB Local + cargo lambda
# watch, and maildev, the local mail server whose inbox the recovery tests read). Also runs the
# SPA's unit tests. Screenshots go to artifacts/browser/ (git-ignored).
#
# Environment:
#   TASKLINE_BASE_URL  use an already running stack instead of starting one; it must allow the
#                      SPA's origin http://localhost:$TASKLINE_WEB_PORT in ALLOWED_ORIGINS
#                      (the dev default allows http://localhost:5173)
#   TASKLINE_MAIL_URL  with TASKLINE_BASE_URL: that stack's mail inbox (default
#                      http://127.0.0.1:1080, the one `make dev` starts)
#   TASKLINE_WEB_PORT  port of the SPA (default: 5173 with TASKLINE_BASE_URL, else a free one)
#   TASKLINE_SITE_PORT port of the one-site proxy (default: a free one); with TASKLINE_BASE_URL
#                      the one-site phase runs only when it is set, and that stack must also
#                      allow http://localhost:$TASKLINE_SITE_PORT
#   COOKIE_SAMESITE    passed to the stack it starts (default Strict; see web/README.md)
#   TASKLINE_PORT_BASE first of a range of ports to use instead of free ones from the OS (up to 10)
#
# Two phases:
# 1. cross-origin: the SPA (vite preview) and the API are both addressed as `localhost` on
#    different ports: different origins, so CORS with credentials is exercised, but the same
#    site, so a SameSite=Strict refresh cookie is sent.
# 2. one site, as deployed with DeploySite (template.yaml): the SPA built with VITE_API_URL=/ and
#    the API behind one origin, scripts/site-proxy.mjs, which routes like the CloudFront
#    distribution; a fresh stack allows exactly that origin (e2e/one-site.test.mjs).
# http://localhost is a secure context for Chromium, so it keeps the Secure __Host- cookie even
# over plain HTTP.
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
# npm ci only when the installed packages do not match the lock file: it deletes node_modules
# first, which may be a link to a tree shared with other checkouts.
if ! (cd web && npm ls --silent >/dev/null 2>&1); then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "${port_counter:-}"
}
trap cleanup EXIT

# A free port from the OS, or with TASKLINE_PORT_BASE the next of base, base+1, ... (a fixed range
# for machines shared by several runs). Called in $(...), so the counter lives in a file.
port_counter="$(mktemp)"
echo 0 > "$port_counter"
free_port() {
  if [ -n "${TASKLINE_PORT_BASE:-}" ]; then
    local n
    n="$(cat "$port_counter")"
    echo $(( n + 1 )) > "$port_counter"
    echo $(( TASKLINE_PORT_BASE + n ))
    return
  fi
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

# Starts the local stack allowing origin $1, whose emailed links point at $1 too (its log:
# artifacts/$2.log); sets api_url, mail_url, mail_web_port, stack_pid.
start_stack() {
  local api_port
  api_port="$(free_port)"
  mail_web_port="$(free_port)"
  echo "== starting the local stack on port $api_port for $1 (log: artifacts/$2.log)" >&2
  ALLOWED_ORIGINS="$1" APP_URL="$1" PORT="$api_port" DYNAMODB_PORT="$(free_port)" \
    MAIL_SMTP_PORT="$(free_port)" MAIL_WEB_PORT="$mail_web_port" \
    RELOAD=0 DYNAMODB_IN_MEMORY=1 "$root/scripts/dev.sh" > "$artifacts/$2.log" 2>&1 &
  stack_pid=$!
  pids+=("$stack_pid")
  api_url="http://localhost:$api_port"
  mail_url="http://127.0.0.1:$mail_web_port"
}

# Waits for the API at $api_url (and for the stack it started, if any, to stay up).
wait_for_api() { # log name
  local health="${api_url/\/\/localhost:/\/\/127.0.0.1:}/v1/health"
  for _ in $(seq 1 1200); do
    curl -fsS "$health" >/dev/null 2>&1 && break
    if [ -n "${stack_pid:-}" ] && ! kill -0 "$stack_pid" 2>/dev/null; then
      echo "test-browser: the stack exited; see artifacts/$1.log" >&2
      tail -20 "$artifacts/$1.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  curl -fsS "$health" >/dev/null || { echo "test-browser: no API at $api_url" >&2; exit 1; }
  # Wake every function once (cargo lambda watch starts each on its first request), so the
  # browser's timeouts measure the app rather than cold starts.
  for path in /v1/auth/register /v1/auth/login /v1/auth/refresh /v1/auth/password-reset /v1/auth/verify-email; do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "${health%/v1/health}$path" || true
  done
  curl -s -o /dev/null "${health%/v1/health}/v1/tasks" || true
}

stop() { # pid: one process this script started (dev.sh stops what it started itself)
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

build_spa() { # VITE_API_URL
  (cd web && VITE_API_URL="$1" npm run --silent build > "$artifacts/browser-build.log" 2>&1) \
    || { cat "$artifacts/browser-build.log" >&2; exit 1; }
}

# --- phase 1: cross-origin (SPA and API on two origins of one site) --------------------------
stack_pid=""
if [ -n "${TASKLINE_BASE_URL:-}" ]; then
  web_port="${TASKLINE_WEB_PORT:-5173}"
  api_url="${TASKLINE_BASE_URL%/}"
  api_url="${api_url/\/\/127.0.0.1:/\/\/localhost:}" # same site as the SPA
  mail_url="${TASKLINE_MAIL_URL:-http://127.0.0.1:1080}"
else
  web_port="${TASKLINE_WEB_PORT:-$(free_port)}"
  start_stack "http://localhost:$web_port" browser-stack
fi
wait_for_api browser-stack
if [ -n "${stack_pid:-}" ]; then wait_for_port "$mail_web_port" 30; fi

echo "== building the SPA for $api_url, serving it on http://localhost:$web_port" >&2
build_spa "$api_url"
(cd web && exec node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "$web_port" --strictPort) \
  > "$artifacts/browser-web.log" 2>&1 &
preview_pid=$!
pids+=("$preview_pid")
wait_for_port "$web_port" 30

chromium_version="$(/usr/bin/chromium --version 2>/dev/null | grep -oE '[0-9.]+' | head -1)"
echo "== browser end-to-end tests, cross-origin (Chromium $chromium_version)" >&2
(cd web && TASKLINE_WEB_URL="http://localhost:$web_port" TASKLINE_API_URL="$api_url" \
  TASKLINE_MAIL_URL="$mail_url" TASKLINE_ARTIFACTS="$artifacts/browser" node --test --test-concurrency=1 e2e/)
stop "$preview_pid"

# --- phase 2: one site (SPA and API behind one origin, as the CloudFront distribution) -------
if [ -n "${TASKLINE_BASE_URL:-}" ] && [ -z "${TASKLINE_SITE_PORT:-}" ]; then
  echo "== one-site phase skipped (TASKLINE_BASE_URL without TASKLINE_SITE_PORT)" >&2
  exit 0
fi
site_port="${TASKLINE_SITE_PORT:-$(free_port)}"
site_url="http://localhost:$site_port"
if [ -z "${TASKLINE_BASE_URL:-}" ]; then
  stop "$stack_pid"
  start_stack "$site_url" browser-site-stack # allows the site's origin only
  wait_for_api browser-site-stack
fi

echo "== building the SPA with a relative API base, serving it with the API on $site_url" >&2
build_spa /
node scripts/site-proxy.mjs --port "$site_port" --api "${api_url/\/\/localhost:/\/\/127.0.0.1:}" \
  > "$artifacts/browser-site-proxy.log" 2>&1 &
pids+=($!)
wait_for_port "$site_port" 30

echo "== browser end-to-end tests, one site (Chromium $chromium_version)" >&2
cd web
TASKLINE_ONE_SITE=1 TASKLINE_WEB_URL="$site_url" TASKLINE_API_URL="$site_url" \
  TASKLINE_ARTIFACTS="$artifacts/browser" node --test --test-concurrency=1 e2e/one-site.test.mjs
