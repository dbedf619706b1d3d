"""Tests of fuzz_check.py on small reports in the shape of schemathesis 4.32's NDJSON.

Run: python3 -m unittest discover -s scripts -p 'fuzz_check_test.py' (scripts/fuzz.sh does).
"""

import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzz_check  # noqa: E402

GET_TASK = "GET /v1/tasks/{id}"
CREATE_TASK = "POST /v1/tasks"
LINK = "POST /v1/tasks -> [201] GetTask -> GET /v1/tasks/{id}"
OTHER_LINK = "POST /v1/tasks -> [201] DeleteTask -> DELETE /v1/tasks/{id}"


def case(label, transition=None, applied=True):
    method, path = label.split(" ", 1)
    node = {"value": {"method": method, "path": path, "id": "x"}, "is_transition_applied": applied}
    if transition:
        node["transition"] = {"id": transition, "parent_id": "p", "is_inferred": False}
    return node


def scenario(phase, label, exchanges, *, is_final=False, status="success"):
    """A ScenarioFinished event: `exchanges` is a list of (label, status, transition)."""
    cases, interactions = {}, {}
    for index, (case_label, code, transition) in enumerate(exchanges):
        case_id = f"{phase}-{label}-{index}"
        cases[case_id] = case(case_label, transition)
        interactions[case_id] = {
            "request": {"method": case_label.split()[0], "uri": "http://x"},
            "response": {"status_code": code, "headers": {}, "elapsed": 0.01},
        }
    event = {
        "phase": phase,
        "status": status,
        "is_final": is_final,
        "recorder": {"label": label or "", "cases": cases, "interactions": interactions},
    }
    if label:
        event["label"] = label
    return {"ScenarioFinished": event}


def stateful_started(selected):
    return {
        "PhaseStarted": {
            "phase": {"name": "stateful", "is_supported": True},
            "payload": {"inferred_transitions": 0, "transitions_total": selected, "transitions_selected": selected},
        }
    }


def report(*events):
    lines = [json.dumps({"Initialize": {"seed": 12}})]
    lines += [json.dumps(event) for event in events]
    return "\n".join(lines) + "\n"


def run(*reports, expected=None, min_link_coverage=0.8):
    reached = fuzz_check.Reached()
    for text in reports:
        reached.read(io.StringIO(text))
    out = io.StringIO()
    ok = fuzz_check.check(reached, expected, min_link_coverage, out=out)
    return ok, out.getvalue()


REACHED_BOTH = [
    scenario("fuzzing", CREATE_TASK, [(CREATE_TASK, 201, None), (CREATE_TASK, 422, None)]),
    scenario("fuzzing", GET_TASK, [(GET_TASK, 404, None), (GET_TASK, 401, None)]),
    stateful_started(2),
    scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 200, LINK)]),
    scenario("stateful", None, [(CREATE_TASK, 201, None), ("DELETE /v1/tasks/{id}", 204, OTHER_LINK)]),
]


class FuzzCheckTest(unittest.TestCase):
    def test_every_operation_reached_and_every_link_followed_passes(self):
        expected = dict.fromkeys([CREATE_TASK, GET_TASK, "DELETE /v1/tasks/{id}"], True)
        ok, out = run(report(*REACHED_BOTH), expected=expected)
        self.assertTrue(ok, out)
        self.assertIn("3 of 3 operations reached", out)
        self.assertIn("links covered 2 of 2 selected (100%", out)

    def test_an_operation_only_ever_answered_401_fails(self):
        events = [
            scenario("fuzzing", CREATE_TASK, [(CREATE_TASK, 201, None)]),
            scenario("fuzzing", GET_TASK, [(GET_TASK, 401, None), (GET_TASK, 401, None)]),
            scenario("examples", GET_TASK, [(GET_TASK, 403, None)]),
            stateful_started(1),
            scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 401, LINK)]),
        ]
        ok, out = run(report(*events))
        self.assertFalse(ok, out)
        self.assertIn(f"FAIL {GET_TASK}", out)
        self.assertIn("only ever answered 401/403", out)

    def test_an_operation_only_answered_401_in_one_phase_fails(self):
        # Signed in during the examples, then the session ended: every fuzzed request a 401.
        events = [
            scenario("examples", GET_TASK, [(GET_TASK, 404, None), (GET_TASK, 200, None)]),
            scenario("fuzzing", GET_TASK, [(GET_TASK, 401, None), (GET_TASK, 401, None)]),
            stateful_started(0),
        ]
        ok, out = run(report(*events), min_link_coverage=0)
        self.assertFalse(ok, out)
        self.assertIn("only answered 401 in the fuzzing phase", out)

    def test_403s_of_a_bearer_operation_in_one_phase_pass(self):
        # A wrong current password is a 403 to a signed-in user.
        password = "POST /v1/me/password"
        events = [
            scenario("examples", password, [(password, 403, None)]),
            scenario("fuzzing", password, [(password, 403, None), (password, 422, None)]),
            stateful_started(0),
        ]
        ok, out = run(report(*events), expected={password: True}, min_link_coverage=0)
        self.assertTrue(ok, out)

    def test_401s_of_an_operation_without_the_token_in_one_phase_pass(self):
        # A login with wrong credentials is a 401 whatever the run's session.
        login = "POST /v1/auth/login"
        events = [
            scenario("examples", login, [(login, 401, None)]),
            scenario("fuzzing", login, [(login, 200, None), (login, 422, None)]),
            stateful_started(0),
        ]
        ok, out = run(report(*events), expected={login: False}, min_link_coverage=0)
        self.assertTrue(ok, out)
        ok, out = run(report(*events), expected={login: True}, min_link_coverage=0)
        self.assertFalse(ok, out)

    def test_an_operation_only_ever_answered_404_fails(self):
        events = [
            scenario("fuzzing", CREATE_TASK, [(CREATE_TASK, 201, None)]),
            scenario("fuzzing", GET_TASK, [(GET_TASK, 404, None)]),
            stateful_started(1),
            scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 404, LINK)]),
        ]
        ok, out = run(report(*events))
        self.assertFalse(ok, out)
        self.assertIn("only ever answered 404", out)

    def test_401_and_404_without_anything_else_fails(self):
        events = [
            scenario("fuzzing", GET_TASK, [(GET_TASK, 404, None), (GET_TASK, 401, None)]),
            stateful_started(0),
        ]
        ok, out = run(report(*events), min_link_coverage=0)
        self.assertFalse(ok, out)
        self.assertIn("only ever answered 401/403/404", out)

    def test_an_operation_of_the_document_never_answered_fails(self):
        events = [
            scenario("examples", "GET /v1/me", []),
            *REACHED_BOTH,
        ]
        expected = dict.fromkeys([CREATE_TASK, GET_TASK, "DELETE /v1/tasks/{id}", "GET /v1/me"], True)
        ok, out = run(report(*events), expected=expected)
        self.assertFalse(ok, out)
        self.assertIn("FAIL GET /v1/me", out)
        self.assertIn("never answered", out)

    def test_link_coverage_under_the_bar_fails(self):
        events = [*REACHED_BOTH[:-1], stateful_started(3)]
        ok, out = run(report(*events))
        self.assertFalse(ok, out)
        self.assertIn("links covered 1 of 3 selected (33%", out)
        self.assertIn("link coverage under the bar", out)

    def test_transitions_of_final_skipped_or_unapplied_scenarios_are_not_covered(self):
        final = scenario("stateful", None, [(GET_TASK, 200, LINK)], is_final=True)
        skipped = scenario("stateful", None, [(GET_TASK, 200, LINK)], status="skip")
        unapplied = scenario("stateful", None, [])
        unapplied["ScenarioFinished"]["recorder"]["cases"]["u"] = case(GET_TASK, LINK, applied=False)
        reached = fuzz_check.Reached()
        reached.read(io.StringIO(report(stateful_started(1), final, skipped, unapplied)))
        self.assertEqual(reached.links_covered, set())

    def test_reports_of_several_runs_are_read_as_one(self):
        first = report(
            scenario("fuzzing", CREATE_TASK, [(CREATE_TASK, 201, None)]),
            stateful_started(1),
            scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 200, LINK)]),
        )
        second = report(
            scenario("fuzzing", "DELETE /v1/sessions/{id}", [("DELETE /v1/sessions/{id}", 404, None)]),
            stateful_started(1),
            scenario(
                "stateful",
                None,
                [
                    ("GET /v1/sessions", 200, None),
                    ("DELETE /v1/sessions/{id}", 204, "GET /v1/sessions -> [200] EndSession -> DELETE /v1/sessions/{id}"),
                ],
            ),
        )
        ok, out = run(first, second)
        self.assertTrue(ok, out)
        self.assertIn("links covered 2 of 2 selected", out)

    def test_a_stateful_phase_repeated_within_a_run_counts_its_selection_once(self):
        events = [*REACHED_BOTH, stateful_started(2)]
        ok, out = run(report(*events))
        self.assertTrue(ok, out)
        self.assertIn("of 2 selected", out)

    def test_only_the_tested_operations_count_without_the_document(self):
        # The other methods schemathesis probes on a path (405) are no operations of the API.
        events = [
            scenario("coverage", GET_TASK, [(GET_TASK, 200, None), ("TRACE /v1/tasks/{id}", 405, None)]),
            stateful_started(0),
        ]
        ok, out = run(report(*events), min_link_coverage=0)
        self.assertTrue(ok, out)
        self.assertNotIn("TRACE", out)

    def test_the_auth_bootstrap_is_not_a_test(self):
        bootstrap = scenario("auth_bootstrap", "POST /v1/auth/login", [("POST /v1/auth/login", 200, None)])
        reached = fuzz_check.Reached()
        reached.read(io.StringIO(report(bootstrap)))
        self.assertEqual(dict(reached.statuses), {})

    def test_operations_come_from_the_document(self):
        document = {
            "security": [{"bearer": []}],
            "paths": {
                "/v1/tasks": {"get": {}, "post": {"security": [{"bearer": []}, {"oauth2": []}]}, "parameters": []},
                "/v1/tasks/{id}": {"get": {}, "delete": {"security": [{"refreshCookie": []}, {}]}},
            },
        }
        self.assertEqual(
            fuzz_check.operations_of(document),
            {"GET /v1/tasks": True, "POST /v1/tasks": True, GET_TASK: True, "DELETE /v1/tasks/{id}": False},
        )

    def test_links_come_from_the_document_refs_followed(self):
        document = {
            "paths": {
                "/v1/tasks": {
                    "post": {
                        "operationId": "createTask",
                        "responses": {"201": {"links": {"GetTask": {"$ref": "#/components/links/GetTask"}}}},
                    }
                },
                "/v1/tasks/{id}": {"get": {"operationId": "getTask", "responses": {"200": {}}}},
            },
            "components": {"links": {"GetTask": {"operationId": "getTask"}}},
        }
        self.assertEqual(fuzz_check.links_of(document), {LINK})

    def test_with_the_documents_links_coverage_is_over_them_across_runs(self):
        # Two runs selecting overlapping links: each link of the document counts once.
        first = report(stateful_started(2), scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 200, LINK)]))
        second = report(stateful_started(2), scenario("stateful", None, [(CREATE_TASK, 201, None), (GET_TASK, 200, LINK)]))
        expected = dict.fromkeys([CREATE_TASK, GET_TASK], True)
        reached = fuzz_check.Reached()
        for text in (first, second):
            reached.read(io.StringIO(text))
        out = io.StringIO()
        ok = fuzz_check.check(reached, expected, 0.8, out=out, links={LINK, OTHER_LINK})
        self.assertFalse(ok, out.getvalue())
        self.assertIn("links covered 1 of 2 in the document (50%", out.getvalue())
        self.assertIn(f"{OTHER_LINK}  (not followed)", out.getvalue())

    def test_main_reads_files_and_exits_non_zero_on_failure(self):
        with tempfile.TemporaryDirectory() as directory:
            good = os.path.join(directory, "good.ndjson")
            with open(good, "w", encoding="utf-8") as f:
                f.write(report(*REACHED_BOTH))
            bad = os.path.join(directory, "bad.ndjson")
            with open(bad, "w", encoding="utf-8") as f:
                f.write(report(scenario("fuzzing", GET_TASK, [(GET_TASK, 401, None)]), stateful_started(1)))
            garbage = os.path.join(directory, "garbage.ndjson")
            with open(garbage, "w", encoding="utf-8") as f:
                f.write("not json\n")
            stdout = sys.stdout
            sys.stdout = io.StringIO()
            stderr = sys.stderr
            sys.stderr = io.StringIO()
            try:
                self.assertEqual(fuzz_check.main([good]), 0)
                self.assertEqual(fuzz_check.main([bad]), 1)
                self.assertEqual(fuzz_check.main([garbage]), 2)
                self.assertEqual(fuzz_check.main([os.path.join(directory, "missing.ndjson")]), 2)
            finally:
                sys.stdout = stdout
                sys.stderr = stderr


if __name__ == "__main__":
    unittest.main()
