#!/usr/bin/env bash
# Fuzzes the local stack against openapi.yaml with schemathesis (all checks; phases examples,
# coverage, fuzzing and stateful; a fixed seed and a bounded number of examples so that it ends
# in a few minutes on 2 cores). 0 failures required. Runs its own in-memory stack, so that the
# fuzzer's failed logins never count against another stack's login budgets, with budgets high
# enough that its own sign-in is never throttled. Called by scripts/test.sh.
#
# Environment: FUZZ_PORT / FUZZ_DYNAMODB_PORT (free ports), FUZZ_MAX_EXAMPLES (25),
# FUZZ_SEED (12), FUZZ_BASE_URL (fuzz an already running stack instead of starting one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"

SCHEMATHESIS_VERSION="4.32.5"
venv="$root/.tools/schemathesis-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into .tools/schemathesis-venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

artifacts="$root/artifacts"
mkdir -p "$artifacts"
dev_tool="${CARGO_TARGET_DIR:-$root/target}/debug/taskline-dev"
[ -x "$dev_tool" ] || cargo build --quiet -p devtools --bins

stack_pid=""
cleanup() {
  if [ -n "$stack_pid" ]; then kill -- "-$stack_pid" 2>/dev/null || kill "$stack_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap cleanup EXIT

base_url="${FUZZ_BASE_URL:-}"
if [ -z "$base_url" ]; then
  port="${FUZZ_PORT:-$("$dev_tool" free-port)}"
  base_url="http://127.0.0.1:$port"
  # setsid: the stack is its own process group, so cleanup ends all of it and nothing else.
  PORT="$port" DYNAMODB_PORT="${FUZZ_DYNAMODB_PORT:-$("$dev_tool" free-port)}" DYNAMODB_IN_MEMORY=1 \
    LOGIN_FAILURES_PER_EMAIL_IP=100000 LOGIN_FAILURES_PER_IP=100000 LOGIN_FAILURES_PER_EMAIL=100000 \
    LOGIN_FAILURES_PER_DEVICE=100000 REGISTRATIONS_PER_IP=100000 \
    RELOAD=0 setsid "$root/scripts/dev.sh" > "$artifacts/fuzz-stack.log" 2>&1 &
  stack_pid=$!
  for _ in $(seq 1 600); do
    curl -fsS "$base_url/v1/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
curl -fsS "$base_url/v1/health" >/dev/null

# A fresh user of this run; its Bearer token authenticates every operation.
email="fuzz-$(date +%s%N)@example.com"
password="fuzz-password-$RANDOM-$RANDOM"
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Fuzz\"}" "$base_url/v1/auth/register"
token=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$base_url/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# Every function answers once before the fuzzing starts: `cargo lambda watch` starts a function
# on its first request, and a request arriving while it starts gets the router's own 500.
for path in /v1/tasks /v1/auth/refresh; do
  for _ in $(seq 1 120); do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $token" "$base_url$path")
    [ "$status" != 500 ] && [ "$status" != 000 ] && break
    sleep 0.5
  done
done

# deleteAccount is excluded: it would end this run's own session (it is covered by the
# integration and end-to-end tests).
echo "fuzz: schemathesis $SCHEMATHESIS_VERSION against $base_url" >&2
SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$root/scripts" \
  "$venv/bin/schemathesis" --no-color --config-file "$root/scripts/schemathesis.toml" \
  run "$root/openapi.yaml" \
  --url "$base_url" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --seed "${FUZZ_SEED:-12}" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
  --exclude-operation-id deleteAccount \
  --request-timeout 30 --request-retries 2 \
  --max-response-time 30 \
  --header "Authorization: Bearer $token" \
  --report junit --report-dir "$artifacts/fuzz" \
  2>&1 | tee "$artifacts/fuzz.log"
