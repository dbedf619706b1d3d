#!/usr/bin/env bash
# Login benchmark: latency (p50/p99) of POST /v1/auth/login with the production argon2id
# parameters, and peak RSS (VmHWM) of the `login` function process.
#
# Starts its own in-memory DynamoDB Local and `cargo lambda watch` on free ports, runs the
# release build of `login` (as deployed; BENCH_PROFILE=dev for the debug build), times
# sequential logins over HTTP with target/debug/bench-login, then reads /proc/<pid>/status
# of the login process. Rerunnable; stops everything it started.
#
# Environment: BENCH_LOGINS (100 per scenario), BENCH_PROFILE (release | dev), BENCH_ENV (extra
# variables for the function), BENCH_VERBOSE=1 (memory map summary), BENCH_KEEP_LOGS=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"

logins="${BENCH_LOGINS:-100}"
profile="${BENCH_PROFILE:-release}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [ "$profile" = release ]; then
  profile_flag=(--release)
  login_bin="$target_dir/release/login"
else
  profile_flag=()
  login_bin="$target_dir/debug/login"
fi

# `login` itself is built by `cargo lambda watch` at its first invocation (a separate
# `cargo build` would not share its fingerprint and be rebuilt anyway).
echo "bench: building the tools" >&2
cargo build --quiet -p devtools --bin taskline-dev --bin bench-login
dev_tool="$target_dir/debug/taskline-dev"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then echo "bench: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

wait_for_port() { # port, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listens on port $1" >&2
  return 1
}

dynamodb_port=$("$dev_tool" free-port)
"$dev_tool" dynamodb-local --port "$dynamodb_port" > "$work/dynamodb.log" 2>&1 &
pids+=($!)
wait_for_port "$dynamodb_port" 60
endpoint="http://127.0.0.1:$dynamodb_port"
"$dev_tool" create-tables --endpoint "$endpoint" --name BenchTable

{
  echo "JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  echo "CURSOR_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  echo "TABLE_NAME=BenchTable"
  echo "ALLOWED_ORIGINS=http://localhost:5173"
  echo "LOG_LEVEL=warn"
  echo "AWS_ENDPOINT_URL=$endpoint"
  echo "AWS_REGION=us-east-1"
  echo "AWS_ACCESS_KEY_ID=local"
  echo "AWS_SECRET_ACCESS_KEY=local"
  echo "AWS_EC2_METADATA_DISABLED=true"
  # Extra variables for the function, space separated (e.g. BENCH_ENV="MALLOC_ARENA_MAX=1").
  for pair in ${BENCH_ENV:-}; do echo "$pair"; done
} > "$work/bench.env"

api_port=$("$dev_tool" free-port)
export PATH="$root/.tools/venv/bin:$PATH"
cargo lambda watch "${profile_flag[@]}" --invoke-address 127.0.0.1 --invoke-port "$api_port" \
  --disable-cors --ignore-changes --env-file "$work/bench.env" > "$work/watch.log" 2>&1 &
pids+=($!)
wait_for_port "$api_port" 120

echo "bench: $logins logins per scenario against $login_bin" >&2
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$target_dir/debug/bench-login" --base-url "http://127.0.0.1:$api_port" \
  --dynamodb-endpoint "$endpoint" --table BenchTable --logins "$logins"

# The login function process that served the run (cargo lambda watch starts it on demand).
login_pid=""
for exe in /proc/[0-9]*/exe; do
  if [ "$(readlink "$exe" 2>/dev/null)" = "$login_bin" ]; then
    login_pid="${exe#/proc/}"
    login_pid="${login_pid%/exe}"
  fi
done
if [ -n "$login_pid" ]; then
  status="/proc/$login_pid/status"
  echo "login process $login_pid: peak RSS (VmHWM) $(awk '/VmHWM/ {print $2, $3}' "$status"), RSS now $(awk '/VmRSS/ {print $2, $3}' "$status"), threads $(awk '/Threads/ {print $2}' "$status")"
  if [ "${BENCH_VERBOSE:-0}" = 1 ]; then
    cat "/proc/$login_pid/smaps_rollup"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name=$6} /^Rss:/ {rss[name]+=$2} END {for (n in rss) print rss[n], "kB", (n == "" ? "[anonymous]" : n)}' \
      "/proc/$login_pid/smaps" | sort -rn | head -8
  fi
else
  echo "bench: the login process was not found" >&2
  exit 1
fi
