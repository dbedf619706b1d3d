#!/usr/bin/env bash
# Fuzzes the local stack against openapi.yaml with schemathesis (all checks; phases examples,
# coverage, fuzzing and stateful; a fixed seed and a bounded number of examples so that it ends
# in a few minutes on 2 cores). 0 failures required. Runs its own in-memory stack, so that the
# fuzzer's failed logins never count against another stack's login budgets, with budgets high
# enough that its own sign-in is never throttled. Called by scripts/test.sh.
#
# Every operation is fuzzed signed in: the auth hook of fuzz_hooks.py signs the run's user in
# and signs in again whenever a request is answered 401 (schemathesis replays it). The
# operations that end sessions or the account run in a second schemathesis pass of their own,
# so they cannot end the session the first pass's stateful scenarios work under; a third,
# stateful only, strings the sign-in operations together. The stateful phase follows the links
# of openapi.yaml (created ids and ETags, the refresh cookie, session ids). Then fuzz_check.py
# reads every pass's NDJSON report and fails when an operation was never reached signed in
# (only ever 401/403), only ever answered 404, or when fewer than 80% of the document's links
# were followed (its own unit tests run first).
#
# Environment: FUZZ_PORT / FUZZ_DYNAMODB_PORT (free ports), FUZZ_MAX_EXAMPLES (25),
# FUZZ_SEED (12), FUZZ_BASE_URL (fuzz an already running stack instead of starting one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"

echo "fuzz: unit tests of the report check (scripts/fuzz_check_test.py)" >&2
python3 -m unittest discover -s "$root/scripts" -p 'fuzz_check_test.py'

SCHEMATHESIS_VERSION="4.32.5"
venv="$root/.tools/schemathesis-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into .tools/schemathesis-venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

artifacts="$root/artifacts"
rm -rf "$artifacts/fuzz"
mkdir -p "$artifacts/fuzz"
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
    PASSWORD_RESETS_PER_EMAIL=100000 PASSWORD_RESETS_PER_IP=100000 VERIFICATION_EMAILS_PER_USER=100000 \
    MAIL_SMTP_PORT="$("$dev_tool" free-port)" MAIL_WEB_PORT="$("$dev_tool" free-port)" \
    RELOAD=0 setsid "$root/scripts/dev.sh" > "$artifacts/fuzz-stack.log" 2>&1 &
  stack_pid=$!
  for _ in $(seq 1 600); do
    curl -fsS "$base_url/v1/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
curl -fsS "$base_url/v1/health" >/dev/null

# A fresh user of this run, registered here; the auth hook signs it in (fuzz_hooks.py).
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
# The operations every pass must reach, as the stack serves the document.
curl -fsS -o "$artifacts/fuzz/openapi.json" "$base_url/v1/openapi.json"

# The operations that can end the session they are called with (or every other one, or the
# account), and the listing whose link hands them a live session's id: the second pass.
session_ending=(listSessions endSession endOtherSessions logout changePassword deleteAccount)
exclude=() include=()
for id in "${session_ending[@]}"; do
  exclude+=(--exclude-operation-id "$id")
  include+=(--include-operation-id "$id")
done

fuzz_pass() { # name, phases, operation selection...
  local name="$1" phases="$2"
  shift 2
  echo "fuzz: schemathesis $SCHEMATHESIS_VERSION against $base_url ($name pass)" >&2
  FUZZ_HOOK_BASE_URL="$base_url" FUZZ_HOOK_EMAIL="$email" FUZZ_HOOK_PASSWORD="$password" \
    SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$root/scripts" \
    "$venv/bin/schemathesis" --no-color --config-file "$root/scripts/schemathesis.toml" \
    run "$root/openapi.yaml" \
    --url "$base_url" \
    --checks all \
    --phases "$phases" \
    --seed "${FUZZ_SEED:-12}" \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    "$@" \
    --request-timeout 30 --request-retries 2 \
    --max-response-time 30 \
    --report junit,ndjson --report-dir "$artifacts/fuzz" \
    --report-junit-path "$artifacts/fuzz/$name-junit.xml" \
    --report-ndjson-path "$artifacts/fuzz/$name.ndjson" \
    2>&1 | tee "$artifacts/fuzz-$name.log"
}

# Every pass and the check run whatever the outcome of the one before (the whole picture in
# one run); any of them failing fails the script.
# The sign-in chain (register -> login -> refresh -> refresh) also has a stateful pass of its
# own: among all the operations, a scenario of a few steps rarely strings three of them
# together, and the refresh cookie is only ever handed over along those links.
all_phases=examples,coverage,fuzzing,stateful
failed=0
started=$(date +%s)
fuzz_pass main "$all_phases" "${exclude[@]}" || failed=1
fuzz_pass sessions "$all_phases" "${include[@]}" || failed=1
fuzz_pass sign-in stateful --include-operation-id register --include-operation-id login \
  --include-operation-id refresh || failed=1
echo "fuzz: the three passes took $(( $(date +%s) - started ))s" >&2

"$venv/bin/python" "$root/scripts/fuzz_check.py" --openapi "$artifacts/fuzz/openapi.json" \
  --min-link-coverage 0.8 "$artifacts/fuzz/main.ndjson" "$artifacts/fuzz/sessions.ndjson" \
  "$artifacts/fuzz/sign-in.ndjson" |
  tee "$artifacts/fuzz-check.txt" || failed=1
exit "$failed"
