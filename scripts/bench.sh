#!/usr/bin/env bash
# The Lambda-style benchmark (docs/performance.md): the RELEASE binaries of the five functions, run
# the way Lambda runs them by scripts/bench.py (a Runtime API emulator of our own), against an
# in-memory DynamoDB Local and moto's Secrets Manager (so the deployed cold-start path, keys read
# from Secrets Manager, is the one measured). Prints a table per run and writes JSON.
#
#   scripts/bench.sh                                    # build release, bench it
#   BENCH_BEFORE_BIN_DIR=/path/to/old/release scripts/bench.sh   # also bench older binaries, same run
#   BENCH_SKIP_BUILD=1 BENCH_BIN_DIR=target/release scripts/bench.sh
#
# Environment: BENCH_ROUNDS (1; see the end of this script), BENCH_PORT_BASE (18400; uses base+10 .. base+14), BENCH_OUT (artifacts/bench.json),
# BENCH_LISTS (500), BENCH_CREATES (500), BENCH_OTHER (50), BENCH_COLD_STARTS (5),
# BENCH_BIG (10000: tasks of the big user of the list@N scaling check), BENCH_SCALING (100),
# BENCH_PERF_DIR (a `perf record` of each measured operation there; for a profile, bench the
# build with symbols: `cargo build --profile profiling`, BENCH_BIN_DIR=target/profiling),
# BENCH_CALLGRIND_DIR (the tasks function under valgrind's callgrind: user-space instructions
# per invoke of each operation, the `instr` column; repeatable whatever the machine's load, so
# the way to compare two builds' CPU on a shared machine; such a run's timings mean nothing:
# give it small counts, e.g. BENCH_LISTS=100 BENCH_CREATES=100 BENCH_OTHER=30).
# A measurement, not a test: figures depend on the machine and its load (printed with them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh" moto

base="${BENCH_PORT_BASE:-18400}"
ddb_port=$((base + 10)) ddb_proxy=$((base + 11)) sm_port=$((base + 12)) sm_proxy=$((base + 13)) runtime=$((base + 14))
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin_dir="${BENCH_BIN_DIR:-$target_dir/release}"
out="${BENCH_OUT:-$root/artifacts/bench.json}"

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release -p register -p login -p refresh -p tasks -p account -p recovery
  cargo build --release -p tasks --example sdk_floor
fi
# The floor:* rows of the run of this tree (see bench.py Bench.floor); skipped if not built.
floor_bin="$target_dir/release/examples/sdk_floor"
[ -x "$floor_bin" ] || floor_bin=""
cargo build --quiet -p devtools --bin taskline-dev
dev_tool="$target_dir/debug/taskline-dev"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$dev_tool" dynamodb-local --port "$ddb_port" > /tmp/taskline-bench-ddb.log 2>&1 &
pids+=($!)
"$root/.tools/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$sm_port" > /tmp/taskline-bench-moto.log 2>&1 &
pids+=($!)
# The functions that send mail send it to a real SMTP server, as deployed (maildev keeps it).
smtp_port="$("$dev_tool" free-port)"
"$root/.tools/node_modules/.bin/maildev" --ip 127.0.0.1 --smtp "$smtp_port" \
  --web "$("$dev_tool" free-port)" --silent > /tmp/taskline-bench-maildev.log 2>&1 &
pids+=($!)
export BENCH_SMTP_PORT="$smtp_port"
for port in "$ddb_port" "$sm_port" "$smtp_port"; do
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done
"$dev_tool" create-tables --endpoint "http://127.0.0.1:$ddb_port" --name TasklineTable

run() { # label bin_dir out [floor_bin]
  python3 "$root/scripts/bench.py" --label "$1" --bin-dir "$2" --out "$3" \
    --ddb-port "$ddb_port" --ddb-proxy-port "$ddb_proxy" \
    --secrets-port "$sm_port" --secrets-proxy-port "$sm_proxy" --runtime-port "$runtime" \
    --n-list "${BENCH_LISTS:-500}" --n-create "${BENCH_CREATES:-500}" \
    --n-other "${BENCH_OTHER:-50}" --cold-starts "${BENCH_COLD_STARTS:-5}" \
    --big "${BENCH_BIG:-10000}" --n-scaling "${BENCH_SCALING:-100}" --dev-tool "$dev_tool" \
    ${BENCH_PERF_DIR:+--perf-dir "$BENCH_PERF_DIR"} \
    ${BENCH_CALLGRIND_DIR:+--callgrind-dir "$BENCH_CALLGRIND_DIR"} \
    ${4:+--floor-bin "$4"}
}
# BENCH_ROUNDS runs (before, after, before, after, ...): on a shared machine one run's CPU
# figures drift by a third with the load; the merged result is each figure's median over the
# rounds, and the rounds alternate so that drift hits both builds alike.
rounds="${BENCH_ROUNDS:-1}"
label="$(git rev-parse --short HEAD)"
before_runs=() after_runs=()
for round in $(seq 1 "$rounds"); do
  suffix=""
  [ "$rounds" = 1 ] || suffix="-round$round"
  if [ -n "${BENCH_BEFORE_BIN_DIR:-}" ]; then
    run before "$BENCH_BEFORE_BIN_DIR" "${out%.json}-before$suffix.json"
    before_runs+=("${out%.json}-before$suffix.json")
  fi
  run "$label" "$bin_dir" "${out%.json}$suffix.json" "$floor_bin"
  after_runs+=("${out%.json}$suffix.json")
done
if [ "$rounds" != 1 ]; then
  python3 "$root/scripts/bench.py" --merge "$out" "${after_runs[@]}"
  if [ -n "${BENCH_BEFORE_BIN_DIR:-}" ]; then
    python3 "$root/scripts/bench.py" --merge "${out%.json}-before.json" "${before_runs[@]}"
  fi
fi
