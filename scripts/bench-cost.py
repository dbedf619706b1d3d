#!/usr/bin/env python3
"""Cost per million requests of each operation, from a scripts/bench.sh result (bench.json).

Model (stated in docs/performance.md, "Cost model"): Lambda bills wall time. In the cloud a
function of M MB gets M/1769 of a vCPU, so its CPU time stretches by 1769/M, and each
sequential DynamoDB round trip adds ROUND_TRIP_MS. DynamoDB units are the consumed capacity
DynamoDB Local reported for the operation (ReturnConsumedCapacity, added by the bench's proxy).

    scripts/bench-cost.py artifacts/bench.json [--before artifacts/bench-before.json]

With --before it first prints the per-request cost targets, before and after, and whether each is met.
"""

import json
import sys

# us-east-1 prices, looked up 2026-12-02 (sources in docs/performance.md).
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
DDB_RRU = 0.125 / 1e6
DDB_WRU = 0.625 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
ROUND_TRIP_MS = 4.0
FULL_VCPU_MB = 1769
# template.yaml MemorySize per function.
MEMORY_MB = {"register": 1769, "login": 1769, "refresh": 256, "tasks": 256, "account": 256}


def costs(results):
    rows = {}
    for op, e in results["operations"].items():
        if "dynamodb_round_trips" not in e or e["function"] not in MEMORY_MB:
            continue  # the list@N scaling figures (wall time only) and the floor:* yardsticks
        mb = MEMORY_MB[e["function"]]
        cpu = e["cpu_ms_per_invoke_schedstat"]
        duration_ms = cpu * FULL_VCPU_MB / mb + e["dynamodb_round_trips"] * ROUND_TRIP_MS
        gb_s = mb / 1024 * duration_ms / 1000
        lam = gb_s * LAMBDA_ARM_GB_SECOND + LAMBDA_REQUEST
        ddb = e["rru_per_invoke"] * DDB_RRU + e["wru_per_invoke"] * DDB_WRU
        rows[op] = {
            "cpu_ms": cpu, "memory_mb": mb, "duration_ms": duration_ms, "gb_s": gb_s,
            "rru": e["rru_per_invoke"], "wru": e["wru_per_invoke"],
            "lambda_per_m": lam * 1e6, "ddb_per_m": ddb * 1e6,
            "total_per_m": (lam + ddb + HTTP_API_REQUEST) * 1e6,
        }
    return rows


# A month of one typical SPA user: 20 active days, each a login, 30 lists, 5 creates, 5 patches
# (mostly "complete"), 1 put, 2 deletes, 3 gets, 8 token refreshes (15 min access tokens), 1 me.
MONTH = {"login": 20, "list": 600, "create": 100, "patch": 100, "put": 20, "delete": 40,
         "get": 60, "refresh": 160, "me": 20}


def cost_table(results, title):
    rows = costs(results)
    out = [f"**{title}**", "",
           "| operation | memory | CPU ms | est. billed ms | GB-s | RRU | WRU | Lambda $/M | DynamoDB $/M | total $/M (incl. HTTP API) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for op, r in rows.items():
        out.append(f"| {op} | {r['memory_mb']} MB | {r['cpu_ms']:.2f} | {r['duration_ms']:.1f} | {r['gb_s']:.5f} | {r['rru']:g} | {r['wru']:g} | {r['lambda_per_m']:.2f} | {r['ddb_per_m']:.2f} | {r['total_per_m']:.2f} |")
    month = sum(rows[op]["total_per_m"] / 1e6 * n for op, n in MONTH.items() if op in rows)
    requests = sum(MONTH.values())
    out += ["", f"A month of one typical user ({requests} requests): ${month:.5f}; "
            f"1,000 such users: ${month * 1000:.2f}", ""]
    return out


def targets(before, after):
    """The per-request cost targets, each with before, after, the limit and whether it is met."""
    b, a = before["operations"], after["operations"]
    out = ["| target | before | after | limit | met |", "|---|---|---|---|---|"]

    def row(name, old, new, limit, met):
        out.append(f"| {name} | {old} | {new} | {limit} | {'yes' if met else '**no**'} |")

    for op in ("list", "get", "create"):
        old, new = b[op]["cpu_ms_per_invoke_schedstat"], a[op]["cpu_ms_per_invoke_schedstat"]
        row(f"CPU per {op} (ms)", old, new, f"<= {old / 3:.3f} (1/3)", new <= old / 3)
    for op in ("patch", "put", "delete", "me", "refresh", "login", "register"):
        if op in b and op in a:
            old, new = b[op]["cpu_ms_per_invoke_schedstat"], a[op]["cpu_ms_per_invoke_schedstat"]
            out.append(f"| CPU per {op} (ms) | {old} | {new} | (no target) | {new / old:.2f}x |")
    for op, limit in (("list", 1), ("get", 1), ("create", 1), ("patch", 2), ("put", 2), ("delete", 2)):
        # Per invoke, over the wire: two concurrent calls overlap unless the process is
        # descheduled between issuing them (a loaded machine); the median is the typical one.
        trips = lambda e: f"{e.get('dynamodb_round_trips_p50')} (mean {e['dynamodb_round_trips_mean']}, max {e['dynamodb_round_trips']})"
        row(f"sequential DynamoDB round trips per {op}, median", trips(b[op]), trips(a[op]),
            f"<= {limit}", a[op].get("dynamodb_round_trips_p50", 99) <= limit)
    for op in ("list", "create"):
        # The first invoke against the next three of the same process (moments apart, same load).
        for what, first, nxt, unit in (("wall", "first_invoke_p50_ms", "next_invokes_p50_ms", "ms"),
                                       ("CPU", "first_invoke_cpu_p50_ms", "next_invokes_cpu_p50_ms", "ms CPU")):
            if nxt not in b[op] or nxt not in a[op]:
                continue
            ratio = lambda e: e[first] / e[nxt]
            row(f"first invoke after a cold start / the next ones, {op}, {what} (p50)",
                f"{ratio(b[op]):.2f}x ({b[op][first]} / {b[op][nxt]} {unit})",
                f"{ratio(a[op]):.2f}x ({a[op][first]} / {a[op][nxt]} {unit})", "<= 1.5x", ratio(a[op]) <= 1.5)
    sm = max(e.get("secrets_manager_calls_per_cold_start", 0) for e in a.values())
    smb = max(e.get("secrets_manager_calls_per_cold_start", 0) for e in b.values())
    row("Secrets Manager calls per cold start (max over functions)", smb, sm, "<= 1", sm <= 1)
    ddb = min(e.get("dynamodb_calls_during_init", 0) for e in a.values() if "cold_starts" in e)
    ddbb = min(e.get("dynamodb_calls_during_init", 0) for e in b.values() if "cold_starts" in e)
    row("DynamoDB calls during init (min over functions: the connection made at init)", ddbb, ddb, ">= 1", ddb >= 1)
    old, new = before.get("list_scaling", {}), after.get("list_scaling", {})
    if new:
        row(f"list of a {new.get('big')}-task user / of a 10-task user, p50", f"{old.get('p50_ratio')}x",
            f"{new['p50_ratio']}x", "<= 1.5x", new["p50_ratio"] <= 1.5)
    return out


def main():
    args = sys.argv[1:]
    before = None
    if "--before" in args:
        i = args.index("--before")
        before = json.load(open(args[i + 1]))
        del args[i:i + 2]
    after = json.load(open(args[0]))
    lines = []
    if before:
        lines += targets(before, after) + [""]
        lines += cost_table(before, f"before ({before['run']['label']})")
    lines += cost_table(after, f"after ({after['run']['label']})")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
