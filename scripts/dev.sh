#!/usr/bin/env bash
# Starts the whole API locally on one port: DynamoDB Local (data kept in .taskline/dynamodb),
# tables from template.yaml, and `cargo lambda watch` routing every path to its function.
# Ctrl-C stops everything it started.
#
# Environment: PORT (9000), DYNAMODB_PORT (8000), DYNAMODB_IN_MEMORY=1 (no data on disk),
# ALLOWED_ORIGINS (http://localhost:5173), COOKIE_SAMESITE (Strict), LOG_LEVEL (info; at any
# level dependencies log at most info, see shared/src/telemetry.rs).
# Failed-login budgets (docs/API.md, Throttling): LOGIN_FAILURES_PER_EMAIL_IP (5),
# LOGIN_FAILURES_PER_EMAIL (50), LOGIN_FAILURES_PER_DEVICE (5), LOGIN_WINDOW_SECS (900) as in
# production, but LOGIN_FAILURES_PER_IP 10000 and REGISTRATIONS_PER_IP 10000 (window
# REGISTRATION_WINDOW_SECS, 3600) by default here: `cargo lambda watch` reports every request's
# sourceIp as 127.0.0.1, so all local clients (the SPA, every test suite) share one address and
# the production budgets (100 failed logins, 20 registrations an hour) would lock them all out
# after a few test runs. Per-address behaviour is tested with API Gateway events
# (functions/login/tests, functions/register/tests). No origin secret locally: the client's
# address is always the connection's.
# Mail: maildev (npm, installed by bootstrap.sh) catches every mail the API sends; its SMTP
# server on MAIL_SMTP_PORT (1025) and its web inbox on MAIL_WEB_PORT (1080), printed below.
# The links of the mails point at APP_URL (default: the first of ALLOWED_ORIGINS, so
# http://localhost:5173, the reference SPA). Password
# resets per email and per client address (PASSWORD_RESETS_PER_EMAIL 5, PASSWORD_RESETS_PER_IP
# 10000 here for the same reason as the login budget per address, PASSWORD_RESET_WINDOW_SECS
# 3600) and verification mails per user (VERIFICATION_EMAILS_PER_USER 5,
# VERIFICATION_EMAIL_WINDOW_SECS 3600).
# RELOAD=0: functions are not rebuilt and restarted when a file changes (the test stacks: a
# file a test run writes, such as a screenshot or schemathesis' example database, must not
# restart a function under a request, which the router answers with a bare 500).
# An external identity
# provider (off unless set): EXTERNAL_JWT_ISSUER, EXTERNAL_JWT_AUDIENCE and EXTERNAL_JWKS_URL,
# or EXTERNAL_JWT_SECRET for a provider signing HS256 with a shared secret. Better Auth on
# http://localhost:3000: EXTERNAL_JWKS_URL=http://localhost:3000/api/auth/jwks and issuer and
# audience http://localhost:3000 (its BETTER_AUTH_SECRET signs no JWT: never set it here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"

port="${PORT:-9000}"
dynamodb_port="${DYNAMODB_PORT:-8000}"
mail_smtp_port="${MAIL_SMTP_PORT:-1025}"
mail_web_port="${MAIL_WEB_PORT:-1080}"
state="$root/.taskline"
mkdir -p "$state"

# Secrets for local use only, generated once into a git-ignored file.
secrets="$state/secrets.env"
if [ ! -f "$secrets" ]; then
  umask 077
  {
    echo "JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    echo "CURSOR_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  } > "$secrets"
fi

env_file="$state/dev.env"
{
  cat "$secrets"
  echo "TABLE_NAME=TasklineTable"
  echo "ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-http://localhost:5173}"
  echo "COOKIE_SAMESITE=${COOKIE_SAMESITE:-Strict}"
  echo "LOG_LEVEL=${LOG_LEVEL:-info}"
  echo "LOGIN_FAILURES_PER_EMAIL_IP=${LOGIN_FAILURES_PER_EMAIL_IP:-5}"
  echo "LOGIN_FAILURES_PER_IP=${LOGIN_FAILURES_PER_IP:-10000}"
  echo "LOGIN_FAILURES_PER_EMAIL=${LOGIN_FAILURES_PER_EMAIL:-50}"
  echo "LOGIN_FAILURES_PER_DEVICE=${LOGIN_FAILURES_PER_DEVICE:-5}"
  echo "LOGIN_WINDOW_SECS=${LOGIN_WINDOW_SECS:-900}"
  echo "REGISTRATIONS_PER_IP=${REGISTRATIONS_PER_IP:-10000}"
  echo "REGISTRATION_WINDOW_SECS=${REGISTRATION_WINDOW_SECS:-3600}"
  # The links open the SPA: by default the first allowed origin (the reference SPA's).
  allowed="${ALLOWED_ORIGINS:-http://localhost:5173}"
  echo "APP_URL=${APP_URL:-${allowed%%,*}}"
  # Quoted: the env file's parser (cargo lambda watch) refuses spaces and <> unquoted.
  echo "MAIL_FROM=\"${MAIL_FROM:-taskline <no-reply@taskline.local>}\""
  echo "SMTP_HOST=127.0.0.1"
  echo "SMTP_PORT=$mail_smtp_port"
  echo "SMTP_TLS=none"
  echo "PASSWORD_RESETS_PER_EMAIL=${PASSWORD_RESETS_PER_EMAIL:-5}"
  echo "PASSWORD_RESETS_PER_IP=${PASSWORD_RESETS_PER_IP:-10000}"
  echo "PASSWORD_RESET_WINDOW_SECS=${PASSWORD_RESET_WINDOW_SECS:-3600}"
  echo "VERIFICATION_EMAILS_PER_USER=${VERIFICATION_EMAILS_PER_USER:-5}"
  echo "VERIFICATION_EMAIL_WINDOW_SECS=${VERIFICATION_EMAIL_WINDOW_SECS:-3600}"
  for var in EXTERNAL_JWT_ISSUER EXTERNAL_JWT_AUDIENCE EXTERNAL_JWKS_URL EXTERNAL_JWT_SECRET; do
    if [ -n "${!var:-}" ]; then echo "$var=${!var}"; fi
  done
  echo "AWS_ENDPOINT_URL=http://127.0.0.1:$dynamodb_port"
  echo "AWS_REGION=us-east-1"
  echo "AWS_ACCESS_KEY_ID=local"
  echo "AWS_SECRET_ACCESS_KEY=local"
  echo "AWS_EC2_METADATA_DISABLED=true"
} > "$env_file"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "dev: building functions and tools (first run takes a few minutes)" >&2
cargo build --quiet --workspace --bins

dev_tool="${CARGO_TARGET_DIR:-$root/target}/debug/taskline-dev"
if [ "${DYNAMODB_IN_MEMORY:-0}" = 1 ]; then
  "$dev_tool" dynamodb-local --port "$dynamodb_port" > "$state/dynamodb.log" 2>&1 &
else
  "$dev_tool" dynamodb-local --port "$dynamodb_port" --db-path "$state/dynamodb" > "$state/dynamodb.log" 2>&1 &
fi
pids+=($!)
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$dynamodb_port") 2>/dev/null && break
  sleep 0.1
done
"$dev_tool" create-tables --endpoint "http://127.0.0.1:$dynamodb_port" --name TasklineTable

# maildev keeps the mails in memory: a restart empties the inbox.
"$root/.tools/node_modules/.bin/maildev" --ip 127.0.0.1 --smtp "$mail_smtp_port" \
  --web "$mail_web_port" --silent > "$state/maildev.log" 2>&1 &
pids+=($!)
mail_up=0
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$mail_smtp_port") 2>/dev/null &&
    (exec 3<>"/dev/tcp/127.0.0.1/$mail_web_port") 2>/dev/null; then
    mail_up=1
    break
  fi
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
if [ "$mail_up" != 1 ]; then
  echo "dev: maildev did not start on $mail_smtp_port/$mail_web_port (see $state/maildev.log)" >&2
  exit 1
fi
echo "dev: mail on smtp 127.0.0.1:$mail_smtp_port, inbox http://127.0.0.1:$mail_web_port" >&2

echo "dev: API on http://127.0.0.1:$port (DynamoDB Local on $dynamodb_port)" >&2
export PATH="$root/.tools/venv/bin:$PATH"
reload=()
[ "${RELOAD:-1}" = 0 ] && reload=(--ignore-changes)
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --disable-cors \
  --env-file "$env_file" "${reload[@]}" &
pids+=($!)
wait "${pids[-1]}"
