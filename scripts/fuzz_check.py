#!/usr/bin/env python3
"""Checks what schemathesis reached, from its NDJSON reports (`--report ndjson`), which record
every request and response of a run and every stateful transition taken.

Fails (exit 1) when an operation of the OpenAPI document
  - was never answered at all,
  - was only answered 401 in one of the phases that tested it, if it takes the Bearer token
    (not reached signed in there: the run's session ended partway, say; a Bearer operation
    refuses a token with 401, while its 403 means something else, a wrong current password),
  - was only ever answered 404 (never reached with an id that exists), or only 401/403/404,
or when the stateful phases followed fewer than `--min-link-coverage` of the links of the
document (with `--openapi`; without it, of the links the runs selected), covered as
schemathesis counts them: a transition applied in a stateful scenario that ran.

Usage: fuzz_check.py [--openapi openapi.json] [--min-link-coverage 0.8] REPORT.ndjson...
Several reports (one per schemathesis run) are read as one run. `--openapi` (JSON) names
the operations that must be reached; without it, those the reports name.
Python standard library only (runs with the machine's python3).
"""

import argparse
import json
import sys
from collections import Counter, defaultdict

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
NOT_REACHED = {401, 403, 404}


class Reached:
    """What the reports say was reached."""

    def __init__(self):
        # Operation label ("GET /v1/tasks/{id}") -> phase -> Counter of response statuses.
        self.statuses = defaultdict(lambda: defaultdict(Counter))
        # Operation labels of every scenario (also those that sent nothing).
        self.labels = set()
        # Transition ids followed in stateful scenarios.
        self.links_covered = set()
        # Links selected by each report's stateful phase (the largest figure of a report).
        self.links_selected = 0

    def read(self, lines):
        """Reads one report (one schemathesis run)."""
        selected = 0
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ValueError(f"line {number}: not JSON ({error})") from None
            if not isinstance(record, dict) or len(record) != 1:
                raise ValueError(f"line {number}: not an event")
            (name, event), = record.items()
            if name == "PhaseStarted":
                phase = (event.get("phase") or {}).get("name")
                payload = event.get("payload") or {}
                if phase == "stateful":
                    selected = max(selected, int(payload.get("transitions_selected") or 0))
            elif name == "ScenarioFinished":
                self._scenario(event)
        self.links_selected += selected

    def _scenario(self, event):
        phase = event.get("phase")
        # Sign-up and login calls of schemathesis' own auth bootstrap test nothing.
        if phase == "auth_bootstrap":
            return
        if event.get("label"):
            self.labels.add(event["label"])
        recorder = event.get("recorder") or {}
        cases = recorder.get("cases") or {}
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            response = (interaction or {}).get("response")
            case = (cases.get(case_id) or {}).get("value") or {}
            if not response or "method" not in case or "path" not in case:
                continue
            label = f"{case['method'].upper()} {case['path']}"
            self.statuses[label][phase][int(response["status_code"])] += 1
        # As schemathesis itself counts a link covered (its CLI output).
        if phase == "stateful" and not event.get("is_final") and event.get("status") not in (
            None,
            "interrupted",
            "skip",
        ):
            for case in cases.values():
                transition = case.get("transition")
                if transition and case.get("is_transition_applied"):
                    self.links_covered.add(transition["id"])


def operations_of(document):
    """The labels of every operation of an OpenAPI document (parsed JSON), each with whether
    it takes the Bearer token (a `bearer` requirement among its security requirements)."""
    default_security = document.get("security") or []
    operations = {}
    for path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            operation = (item or {}).get(method)
            if operation is None:
                continue
            security = operation.get("security", default_security) or []
            bearer = any("bearer" in (requirement or {}) for requirement in security)
            operations[f"{method.upper()} {path}"] = bearer
    return operations


def links_of(document):
    """The ids of every link of an OpenAPI document (parsed JSON), as schemathesis names the
    transitions it follows: `SOURCE -> [STATUS] NAME -> TARGET`. A link (or a response) given
    as a `$ref` into `components` is followed; its target is found by `operationId`."""

    def resolved(node):
        ref = (node or {}).get("$ref") if isinstance(node, dict) else None
        if not ref or not ref.startswith("#/"):
            return node or {}
        target = document
        for part in ref[2:].split("/"):
            target = (target or {}).get(part)
        return target or {}

    labels = {}
    for path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            operation = (item or {}).get(method)
            if operation is not None and operation.get("operationId"):
                labels[operation["operationId"]] = f"{method.upper()} {path}"
    links = set()
    for path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            operation = (item or {}).get(method)
            if operation is None:
                continue
            for status, response in (operation.get("responses") or {}).items():
                for name, link in (resolved(response).get("links") or {}).items():
                    target = labels.get(resolved(link).get("operationId"))
                    if target:
                        links.add(f"{method.upper()} {path} -> [{status}] {name} -> {target}")
    return links


def verdicts(reached, expected=None):
    """(label, statuses, problem or None) for every operation, sorted by label. `expected`:
    label -> whether it takes the Bearer token (a 401 of another operation, such as a login
    with a wrong password, says nothing about the run's session)."""
    # Without the document: the operations schemathesis tested (not the other methods it
    # probes on their paths), all taken to need the token.
    if expected is None:
        expected = dict.fromkeys(reached.labels, True)
    result = []
    for label, bearer in sorted(expected.items()):
        phases = reached.statuses.get(label, {})
        statuses = sum(phases.values(), Counter())
        seen = set(statuses)
        unauthenticated = sorted(
            phase for phase, counts in phases.items() if bearer and counts and set(counts) <= {401}
        )
        if not seen:
            problem = "never answered"
        elif seen <= {401, 403}:
            problem = "only ever answered 401/403: never reached signed in"
        elif unauthenticated:
            problem = f"only answered 401 in the {'/'.join(unauthenticated)} phase: not reached signed in there"
        elif seen == {404}:
            problem = "only ever answered 404: never reached with an existing id"
        elif seen <= NOT_REACHED:
            problem = "only ever answered 401/403/404: never reached signed in with an existing id"
        else:
            problem = None
        result.append((label, statuses, problem))
    return result


def check(reached, expected=None, min_link_coverage=0.8, out=None, links=None):
    """Prints the verdicts; True if every operation was reached and enough links followed.
    `links`: every link of the document (see `links_of`), over which coverage is then
    measured, whichever run selected them (several runs select overlapping sets); without it,
    over the links the runs selected."""
    out = out or sys.stdout
    ok = True
    operations = verdicts(reached, expected)
    print("fuzz-check: operations (response statuses: count)", file=out)
    for label, statuses, problem in operations:
        summary = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        mark = "FAIL" if problem else "ok"
        print(f"  {mark:4} {label:36} {summary or '-'}{f'  <- {problem}' if problem else ''}", file=out)
        ok = ok and problem is None
    reached_count = sum(1 for _, _, problem in operations if problem is None)
    print(f"fuzz-check: {reached_count} of {len(operations)} operations reached", file=out)

    if links is None:
        covered, selected, of = len(reached.links_covered), reached.links_selected, "selected"
    else:
        covered, selected, of = len(reached.links_covered & links), len(links), "in the document"
    coverage = covered / selected if selected else 0.0
    print(
        f"fuzz-check: links covered {covered} of {selected} {of} ({coverage:.0%}; "
        f"at least {min_link_coverage:.0%} required)",
        file=out,
    )
    for link in sorted(reached.links_covered | (links or set())):
        mark = "" if link in reached.links_covered else "  (not followed)"
        print(f"  {link}{mark}", file=out)
    if coverage < min_link_coverage:
        print("fuzz-check: FAIL: link coverage under the bar", file=out)
        ok = False
    print(f"fuzz-check: {'passed' if ok else 'FAILED'}", file=out)
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", help="NDJSON reports of schemathesis runs")
    parser.add_argument("--openapi", help="the OpenAPI document (JSON): every operation must be reached")
    parser.add_argument("--min-link-coverage", type=float, default=0.8)
    args = parser.parse_args(argv)
    reached = Reached()
    for path in args.reports:
        try:
            with open(path, encoding="utf-8") as report:
                reached.read(report)
        except (OSError, ValueError) as error:
            print(f"fuzz-check: {path}: {error}", file=sys.stderr)
            return 2
    expected = links = None
    if args.openapi:
        with open(args.openapi, encoding="utf-8") as file:
            document = json.load(file)
        expected, links = operations_of(document), links_of(document)
    return 0 if check(reached, expected, args.min_link_coverage, links=links) else 1


if __name__ == "__main__":
    sys.exit(main())
