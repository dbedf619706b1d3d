#!/usr/bin/env bash
# Benchmark of task listing (a big user's first page costs about what a small one's does):
# seeds a user with 10 tasks and one with 10,000 in an in-memory DynamoDB Local, times first
# pages through the tasks handler (p50/p95) for each sort (created, due, priority: the last two
# read their own index), and reports how many items a filtered page (q matching 1%) reads.
# Fails if, for any sort, the big user's first page is more than 1.5x slower than the small
# user's.
#
#   scripts/bench-tasks.sh                      # 50 requests per user
#   BENCH_REQUESTS=200 scripts/bench-tasks.sh
#   TASKLINE_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8100 scripts/bench-tasks.sh  # reuse one
#
# Debug build (like the tests): DynamoDB Local dominates the latency; the ratio is what counts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/bootstrap.sh"
cargo run --quiet -p tasks --example list_bench
