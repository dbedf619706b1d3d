#!/usr/bin/env bash
# Runs every test: unit and integration tests (one in-memory DynamoDB Local and one maildev
# shared by all test processes, a fresh table per test), then end-to-end tests over HTTP against
# the real local stack (scripts/dev.sh: DynamoDB Local + maildev + cargo lambda watch on one
# port).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)
"$root/scripts/bootstrap.sh"
artifacts="$root/artifacts"
mkdir -p "$artifacts"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# One build for everything below (tests, bins, tools).
cargo build --quiet --workspace --bins --tests

# No panic is reachable from a request: production code of shared/ and functions/ may not
# unwrap, expect, panic or index unchecked (tests may).
echo "== clippy: no panics in production code" >&2
cargo clippy --quiet -p taskline -p taskline-mail -p register -p login -p refresh -p tasks -p account \
  -p recovery --lib --bins -- \
  -D warnings -D clippy::unwrap_used -D clippy::expect_used -D clippy::panic -D clippy::indexing_slicing

echo "== cargo machete: no unused dependencies" >&2
"$root/.tools/bin/cargo-machete" "$root"

echo "== module dependencies of shared/src: no cycles" >&2
"$root/scripts/module-deps.sh" >/dev/null

echo "== sizes that keep the code readable (functions, files, types, README; no issue numbers)" >&2
python3 "$root/scripts/structure_check.py"

dev_tool="${CARGO_TARGET_DIR:-$root/target}/debug/taskline-dev"

wait_for_port() { # port, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "test: nothing listens on port $1" >&2
  return 1
}

echo "== unit and integration tests" >&2
dynamodb_port=$("$dev_tool" free-port)
"$dev_tool" dynamodb-local --port "$dynamodb_port" > "$artifacts/dynamodb-test.log" 2>&1 &
pids+=($!)
wait_for_port "$dynamodb_port" 60
# One maildev for the tests that send mail (unique addresses per test); the tests of a stopped
# mail server start their own.
mail_smtp_port=$("$dev_tool" free-port)
mail_web_port=$("$dev_tool" free-port)
"$root/.tools/node_modules/.bin/maildev" --ip 127.0.0.1 --smtp "$mail_smtp_port" --web "$mail_web_port" \
  --silent > "$artifacts/maildev-test.log" 2>&1 &
pids+=($!)
wait_for_port "$mail_smtp_port" 30
wait_for_port "$mail_web_port" 30
TASKLINE_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$dynamodb_port" \
  TASKLINE_TEST_SMTP_PORT="$mail_smtp_port" TASKLINE_TEST_MAILDEV_URL="http://127.0.0.1:$mail_web_port" \
  cargo nextest run --workspace --no-fail-fast

"$root/scripts/check-infra.sh" # template, pipeline and sam build (SKIP_INFRA_CHECKS=1 skips)

echo "== end-to-end tests against the local stack" >&2
api_port=$("$dev_tool" free-port)
stack_dynamodb_port=$("$dev_tool" free-port)
stack_mail_smtp_port=$("$dev_tool" free-port)
stack_mail_web_port=$("$dev_tool" free-port)
# At the most verbose level, so that the e2e auth tests prove no secret is logged at any level.
RELOAD=0 LOG_LEVEL=trace PORT="$api_port" DYNAMODB_PORT="$stack_dynamodb_port" DYNAMODB_IN_MEMORY=1 \
  MAIL_SMTP_PORT="$stack_mail_smtp_port" MAIL_WEB_PORT="$stack_mail_web_port" \
  "$root/scripts/dev.sh" > "$artifacts/dev-stack.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$api_port/v1/health" >/dev/null 2>&1 && break
  sleep 0.5
done
# The end-to-end test binary is devtools/tests/e2e/ (name starting with e2e); it may read the stack's log and table.
TASKLINE_BASE_URL="http://127.0.0.1:$api_port" TASKLINE_STACK_LOG="$artifacts/dev-stack.log" \
  TASKLINE_STACK_DYNAMODB_ENDPOINT="http://127.0.0.1:$stack_dynamodb_port" TASKLINE_STACK_LOG_LEVEL=trace \
  TASKLINE_STACK_MAILDEV_URL="http://127.0.0.1:$stack_mail_web_port" \
  cargo nextest run --workspace --run-ignored only -E 'binary(/^e2e/)'
echo "== OAuth2 client library (authlib) against the form login" >&2
TASKLINE_BASE_URL="http://127.0.0.1:$api_port" "$root/scripts/test-oauth-client.sh"

"$root/scripts/fuzz.sh" # schemathesis against openapi.yaml, on its own stack (0 failures; every operation reached signed in, 80% of the links followed)

"$root/scripts/test-browser.sh" # the reference SPA in a real Chromium, on its own stack (web/README.md)

echo "test: all passed in $(( $(date +%s) - started ))s" >&2
