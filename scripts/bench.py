#!/usr/bin/env python3
"""The Lambda-style benchmark (docs/performance.md; run it through scripts/bench.sh).

Runs the release binaries of the five functions the way Lambda runs them: this script is the
Runtime API (`AWS_LAMBDA_RUNTIME_API` points at it), spawns each binary, feeds it API Gateway
HTTP API (v2) events one at a time and measures, per function and operation:

- init: spawn -> the function's first `GET /runtime/invocation/next` (cold starts repeated);
- the first invoke after a cold start, and warm p50/p99 (event handed out -> response posted);
- CPU per invoke: utime+stime of the process (/proc/<pid>/stat) around N invokes, and the
  same from the threads' schedstat (nanoseconds, so also meaningful for small N);
- peak RSS (VmHWM);
- DynamoDB calls and *sequential round trips* per invoke: DynamoDB Local sits behind a small
  recording proxy; calls whose [start, end] overlap count as one round trip. The proxy also adds
  `ReturnConsumedCapacity: TOTAL` to each request so the read/write units of every operation
  are measured without the functions asking for them (DynamoDB Local does not check signatures);
- Secrets Manager calls per cold start (moto's server behind the same kind of proxy);
- zip sizes (each x86_64 release binary as `bootstrap` in a deflated zip; an arm64 cross build
  takes too long on a small machine, so these stand in for the deployed zips).

Only the standard library: no dependency beyond what the project already installs.
"""

import argparse
import base64
import http.client
import http.server
import json
import os
import queue
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
import io
import contextlib
import signal

CLK_TCK = os.sysconf("SC_CLK_TCK")
ORIGIN = "http://localhost:5173"
PASSWORD = "correct horse battery staple"


def now():
    return time.perf_counter()


# ---------------------------------------------------------------------------------------------
# A recording HTTP proxy (DynamoDB Local, Secrets Manager stand-in)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A killed function process resets its connection: expected, not worth a traceback.
        pass


class Recorder:
    """Every proxied call: (target, start, end, consumed capacity)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []

    def add(self, call):
        with self.lock:
            self.calls.append(call)

    def mark(self):
        with self.lock:
            return len(self.calls)

    def since(self, mark):
        with self.lock:
            return list(self.calls[mark:])


CAPACITY_OPS = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
}


def make_proxy(port, upstream_port, recorder, add_capacity):
    local = threading.local()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY: headers and body go out as two writes, and Nagle's algorithm would hold
        # the body until the peer's delayed ACK (~40 ms on Linux) on every reused connection.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_POST(self):
            start = now()
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            target = (self.headers.get("x-amz-target") or "?").split(".")[-1]
            if add_capacity and target in CAPACITY_OPS:
                try:
                    doc = json.loads(body)
                    doc["ReturnConsumedCapacity"] = "TOTAL"
                    body = json.dumps(doc).encode()
                except ValueError:
                    pass
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "host")}
            headers["Content-Length"] = str(len(body))
            headers["Host"] = f"127.0.0.1:{upstream_port}"
            conn = getattr(local, "conn", None)
            for attempt in range(2):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                        local.conn = conn
                    conn.request("POST", self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn = None
                    local.conn = None
                    if attempt:
                        raise
            end = now()
            capacity = None
            if add_capacity:
                try:
                    consumed = json.loads(data).get("ConsumedCapacity")
                    if isinstance(consumed, dict):
                        consumed = [consumed]
                    if consumed:
                        capacity = {
                            "read": sum(c.get("ReadCapacityUnits", 0) or 0 for c in consumed),
                            "write": sum(c.get("WriteCapacityUnits", 0) or 0 for c in consumed),
                            "total": sum(c.get("CapacityUnits", 0) or 0 for c in consumed),
                        }
                except (ValueError, AttributeError):
                    pass
            recorder.add((target, start, end, capacity))
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def round_trips(calls):
    """Sequential depth: overlapping calls count as one round trip."""
    depth, busy_until = 0, None
    for _, start, end, _ in sorted(calls, key=lambda c: c[1]):
        if busy_until is None or start > busy_until:
            depth += 1
            busy_until = end
        else:
            busy_until = max(busy_until, end)
    return depth


# ---------------------------------------------------------------------------------------------
# The Runtime API emulator


class Runtime:
    """One function process's Runtime API: hands out one event at a time."""

    def __init__(self, port):
        self.port = port
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.first_next = threading.Event()
        self.first_next_at = None
        self.handed_out_at = None
        self.init_error = None
        runtime = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # see make_proxy

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404)
                if not runtime.first_next.is_set():
                    runtime.first_next_at = now()
                    runtime.first_next.set()
                event = runtime.events.get()
                if event is None:
                    # Keep the process parked, as Lambda does between invokes.
                    time.sleep(3600)
                    return
                request_id = str(uuid.uuid4())
                body = json.dumps(event).encode()
                runtime.handed_out_at = now()
                self.reply(200, body, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                })

            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                done = now()
                if "/runtime/init/error" in self.path:
                    runtime.init_error = body.decode(errors="replace")
                    runtime.first_next.set()
                    self.reply(202)
                    return
                self.reply(202, b"{}", {"Content-Type": "application/json"})
                status = "error" if self.path.endswith("/error") else "ok"
                runtime.responses.put((status, body, done))

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event):
        self.events.put(event)
        status, body, done = self.responses.get(timeout=60)
        if status != "ok":
            raise RuntimeError(f"invocation error: {body[:300]!r}")
        return json.loads(body), (done - self.handed_out_at) * 1000

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Function:
    """A spawned function binary and its runtime."""

    def __init__(self, name, binary, port, env, wrap=()):
        self.name = name
        self.runtime = Runtime(port)
        full_env = dict(env)
        full_env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "_HANDLER": "bootstrap",
        })
        self.log = open(f"/tmp/bench-{name}-{port}.log", "ab")
        self.spawned_at = now()
        self.proc = subprocess.Popen([*wrap, binary], env=full_env, stdout=self.log, stderr=self.log)
        if not self.runtime.first_next.wait(120 if wrap else 30) or self.runtime.init_error:
            self.stop()
            raise RuntimeError(f"{name}: init failed: {self.runtime.init_error}")
        self.init_ms = (self.runtime.first_next_at - self.spawned_at) * 1000

    def invoke(self, event):
        return self.runtime.invoke(event)

    def cpu_ticks(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)

    def minor_faults(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[7])  # minflt (field 10)

    def cpu_ns(self):
        total = 0
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.runtime.events.put(None)
        self.runtime.close()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# API Gateway HTTP API (payload 2.0) events


def event(method, path, query="", body=None, token=None, cookies=None, headers=None):
    h = {
        "accept": "application/json",
        "host": "bench.execute-api.us-east-1.amazonaws.com",
        "origin": ORIGIN,
        "user-agent": "taskline-bench",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-proto": "https",
    }
    if token:
        h["authorization"] = f"Bearer {token}"
    if body is not None:
        body = json.dumps(body)
        h["content-type"] = "application/json"
        h["content-length"] = str(len(body))
    h.update(headers or {})
    ev = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "taskline-bench"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "02/Dec/2026:00:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        ev["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if cookies:
        ev["cookies"] = cookies
    if body is not None:
        ev["body"] = body
    return ev


def expect(response, status, what):
    if response.get("statusCode") != status:
        raise RuntimeError(f"{what}: expected {status}, got {response.get('statusCode')}: {str(response.get('body'))[:300]}")
    return response


def body_of(response):
    return json.loads(response.get("body") or "null")


def refresh_cookie(response):
    for c in response.get("cookies") or []:
        if c.startswith("__Host-taskline_refresh="):
            return c.split(";", 1)[0]
    raise RuntimeError("no refresh cookie in the response")


def header(response, name):
    for k, v in (response.get("headers") or {}).items():
        if k.lower() == name:
            return v
    return None


# ---------------------------------------------------------------------------------------------
# Local AWS: moto's Secrets Manager


def jwt_sub(token):
    """The user id (`sub`) of an access token, read without verifying it."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def moto_call(port, target, payload):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(payload)
    conn.request("POST", "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"secretsmanager.{target}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20261202/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
    })
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    if resp.status != 200:
        raise RuntimeError(f"secrets manager {target}: {resp.status} {data}")
    return data


def wait_port(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socketserver.socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


# ---------------------------------------------------------------------------------------------
# The run


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Bench:
    def __init__(self, args):
        self.args = args
        self.ddb = Recorder()
        self.secrets = Recorder()
        self.results = {"operations": {}, "functions": {}}
        self.live = []

    def env(self):
        return {
            "PATH": os.environ.get("PATH", ""),
            "TABLE_NAME": self.args.table,
            "ALLOWED_ORIGINS": ORIGIN,
            "LOG_LEVEL": "warn",
            "MAX_TASKS_PER_USER": "100000",
            "LOGIN_FAILURES_PER_IP": "100000",
            # Every bench user registers from one address.
            "REGISTRATIONS_PER_IP": "100000",
            # register, account and recovery send mail, to the SMTP server bench.sh starts
            # (without one, port 9: nothing listens, a mail fails fast and is logged).
            "APP_URL": ORIGIN,
            "MAIL_FROM": "taskline <bench@taskline.local>",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": os.environ.get("BENCH_SMTP_PORT", "9"),
            "SMTP_TLS": "none",
            "PASSWORD_RESETS_PER_EMAIL": "100000",
            "PASSWORD_RESETS_PER_IP": "100000",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.args.ddb_proxy_port}",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{self.args.secrets_proxy_port}",
            "JWT_SECRET_ARN": self.jwt_arn,
            "CURSOR_SECRET_ARN": self.cursor_arn,
            **self.extra_env,
        }

    def spawn(self, name):
        # Up to three function processes live at once (the tasks one, and a register and a
        # login making the second user), each with its own Runtime API port.
        busy = {f.runtime.port for f in self.live}
        port = next(p for p in range(self.args.runtime_port, self.args.runtime_port + 4) if p not in busy)
        binary = os.path.join(self.args.bin_dir, name)
        wrap = ()
        if self.args.callgrind_dir and name == "tasks":
            wrap = ("valgrind", "--tool=callgrind", "--callgrind-out-file="
                    + os.path.join(self.args.callgrind_dir, f"{self.args.label}.%p"))
        fn = Function(name, binary, port, self.env(), wrap)
        self.live.append(fn)
        return fn

    def setup_secrets(self):
        jwt = moto_call(self.args.secrets_port, "CreateSecret", {
            "Name": f"bench-jwt-{uuid.uuid4().hex[:8]}", "SecretString": uuid.uuid4().hex + uuid.uuid4().hex})
        cursor = moto_call(self.args.secrets_port, "CreateSecret", {
            "Name": f"bench-cursor-{uuid.uuid4().hex[:8]}", "SecretString": uuid.uuid4().hex + uuid.uuid4().hex})
        self.jwt_arn, self.cursor_arn = jwt["ARN"], cursor["ARN"]
        self.extra_env = {}

    @contextlib.contextmanager
    def profiled(self, op, fn):
        """With --perf-dir: `perf record` (cpu-clock samples, user and kernel) of `fn`'s process
        while `op` runs, into <perf-dir>/<op>.data. For a build with symbols (the `profiling`
        profile); the figures of a profiled run are not the benchmark's."""
        if self.args.callgrind_dir and fn.name == "tasks":
            # Counted from zero for this operation, dumped under its name (see callgrind_counts).
            subprocess.run(["callgrind_control", "-z", str(fn.proc.pid)], capture_output=True)
            try:
                yield
            finally:
                subprocess.run(["callgrind_control", "-d", op, str(fn.proc.pid)], capture_output=True)
            return
        if not self.args.perf_dir:
            yield
            return
        os.makedirs(self.args.perf_dir, exist_ok=True)
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-e", "cpu-clock", "-F", "10000", "-p", str(fn.proc.pid),
             "-o", os.path.join(self.args.perf_dir, f"{op}.data")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf attaches before the first invoke
        try:
            yield
        finally:
            perf.send_signal(signal.SIGINT)
            perf.wait()

    def measure(self, op, fn, events, check):
        """Runs `events` through `fn` (already warm), recording per-invoke figures (profiled
        with --perf-dir)."""
        with self.profiled(op, fn):
            self._measure(op, fn, events, check)

    def _measure(self, op, fn, events, check):
        wall, calls, trips, rru, wru = [], [], [], [], []
        ticks0, ns0, faults0 = fn.cpu_ticks(), fn.cpu_ns(), fn.minor_faults()
        for ev in events:
            ev = ev() if callable(ev) else ev
            mark = self.ddb.mark()
            response, ms = fn.invoke(ev)
            check(response)
            made = self.ddb.since(mark)
            wall.append(ms)
            calls.append(len(made))
            trips.append(round_trips(made))
            rru.append(sum((c[3] or {}).get("read", 0) or ((c[3] or {}).get("total", 0) if c[0] in ("GetItem", "Query", "BatchGetItem", "TransactGetItems") else 0) for c in made))
            wru.append(sum((c[3] or {}).get("write", 0) or ((c[3] or {}).get("total", 0) if c[0] not in ("GetItem", "Query", "BatchGetItem", "TransactGetItems") else 0) for c in made))
        ticks, ns = fn.cpu_ticks() - ticks0, fn.cpu_ns() - ns0
        faults = fn.minor_faults() - faults0
        n = len(events)
        targets = {}
        for c in made:
            targets[c[0]] = targets.get(c[0], 0) + 1
        entry = self.results["operations"].setdefault(op, {})
        entry.update({
            "function": fn.name,
            "n": n,
            "warm_p50_ms": round(pct(wall, 50), 2),
            "warm_p99_ms": round(pct(wall, 99), 2),
            "cpu_ms_per_invoke": round(ticks * 1000 / CLK_TCK / n, 3),
            "cpu_ms_per_invoke_schedstat": round(ns / 1e6 / n, 3),
            "minor_faults_per_invoke": round(faults / n, 2),
            "dynamodb_calls": round(statistics.mean(calls), 2),
            "dynamodb_round_trips": max(trips),
            "dynamodb_round_trips_mean": round(statistics.mean(trips), 2),
            "dynamodb_round_trips_p50": statistics.median_low(trips),
            "dynamodb_calls_of_last": targets,
            "rru_per_invoke": round(statistics.mean(rru), 3),
            "wru_per_invoke": round(statistics.mean(wru), 3),
        })

    def cold(self, op, name, make_event, check):
        """Cold starts of `name`: init, the first invoke and the next three of the same process
        (so "first vs warm" compares invokes made moments apart, under the same load), in
        wall time and CPU, and the Secrets Manager and DynamoDB calls made during init."""
        inits, firsts, seconds, sm_calls, ddb_during_init = [], [], [], [], []
        first_cpu, warm_cpu = [], []
        for _ in range(self.args.cold_starts):
            sm_mark, ddb_mark = self.secrets.mark(), self.ddb.mark()
            fn = self.spawn(name)
            try:
                sm_calls.append(len(self.secrets.since(sm_mark)))
                ddb_during_init.append(len(self.ddb.since(ddb_mark)))
                inits.append(fn.init_ms)
                ns0 = fn.cpu_ns()
                response, ms = fn.invoke(make_event())
                first_cpu.append((fn.cpu_ns() - ns0) / 1e6)
                check(response)
                firsts.append(ms)
                for _ in range(3):
                    ns0 = fn.cpu_ns()
                    response, ms = fn.invoke(make_event())
                    warm_cpu.append((fn.cpu_ns() - ns0) / 1e6)
                    check(response)
                    seconds.append(ms)
            finally:
                self.stop(fn)
        entry = self.results["operations"].setdefault(op, {})
        entry.update({
            "cold_starts": len(inits),
            "init_p50_ms": round(pct(inits, 50), 2),
            "first_invoke_p50_ms": round(pct(firsts, 50), 2),
            "next_invokes_p50_ms": round(pct(seconds, 50), 2),
            "first_invoke_cpu_p50_ms": round(pct(first_cpu, 50), 3),
            "next_invokes_cpu_p50_ms": round(pct(warm_cpu, 50), 3),
            "secrets_manager_calls_per_cold_start": max(sm_calls),
            "dynamodb_calls_during_init": max(ddb_during_init),
        })

    def run(self):
        a = self.args
        self.setup_secrets()
        suffix = uuid.uuid4().hex[:8]

        # --- register (also creates the users of the workload)
        reg = self.spawn("register")
        emails = iter(f"bench-{suffix}-{i}@example.com" for i in range(100000))
        new_user = lambda: event("POST", "/v1/auth/register", body={"email": next(emails), "password": PASSWORD, "name": "Bench"})
        main_email = f"bench-{suffix}-main@example.com"
        expect(reg.invoke(event("POST", "/v1/auth/register", body={"email": main_email, "password": PASSWORD, "name": "Bench"}))[0], 201, "register")
        self.measure("register", reg, [new_user for _ in range(a.n_other)], lambda r: expect(r, 201, "register"))
        self.results["functions"]["register"] = {"peak_rss_mib": round(reg.peak_rss_kib() / 1024, 1)}
        self.stop(reg)
        self.cold("register", "register", new_user, lambda r: expect(r, 201, "register"))

        # --- login
        login = self.spawn("login")
        login_event = lambda: event("POST", "/v1/auth/login", body={"email": main_email, "password": PASSWORD})
        first = expect(login.invoke(login_event())[0], 200, "login")
        self.measure("login", login, [login_event for _ in range(a.n_other)], lambda r: expect(r, 200, "login"))
        last_login, _ = login.invoke(login_event())
        token = body_of(last_login)["access_token"]
        cookie = refresh_cookie(last_login)
        self.results["functions"]["login"] = {"peak_rss_mib": round(login.peak_rss_kib() / 1024, 1)}
        self.stop(login)
        self.cold("login", "login", login_event, lambda r: expect(r, 200, "login"))

        # --- refresh (each rotation hands out the next cookie)
        state = {"cookie": cookie}

        def refresh_event():
            return event("POST", "/v1/auth/refresh", cookies=[state["cookie"]])

        def refreshed(r):
            expect(r, 200, "refresh")
            state["cookie"] = refresh_cookie(r)
            state["token"] = body_of(r)["access_token"]

        ref = self.spawn("refresh")
        refreshed(ref.invoke(refresh_event())[0])
        self.measure("refresh", ref, [refresh_event for _ in range(a.n_other)], refreshed)
        self.results["functions"]["refresh"] = {"peak_rss_mib": round(ref.peak_rss_kib() / 1024, 1)}
        self.stop(ref)
        self.cold("refresh", "refresh", refresh_event, refreshed)
        token = state["token"]

        # --- me
        acc = self.spawn("account")
        me = lambda: event("GET", "/v1/me", token=token)
        expect(acc.invoke(me())[0], 200, "me")
        self.measure("me", acc, [me for _ in range(a.n_other)], lambda r: expect(r, 200, "me"))
        self.results["functions"]["account"] = {"peak_rss_mib": round(acc.peak_rss_kib() / 1024, 1)}
        self.stop(acc)
        self.cold("me", "account", me, lambda r: expect(r, 200, "me"))

        # --- tasks: the listing user holds exactly `list_size` tasks; creates go to another user
        tasks = self.spawn("tasks")
        create = lambda tok, i: event("POST", "/v1/tasks", token=tok, body={"title": f"Task {i} of the bench", "description": "a few words of description", "priority": "medium"})
        for i in range(a.list_size):
            expect(tasks.invoke(create(token, i))[0], 201, "seed")
        list_event = lambda: event("GET", "/v1/tasks", query=f"limit={a.list_size}", token=token)
        listed = expect(tasks.invoke(list_event())[0], 200, "list")
        assert len(body_of(listed)["items"]) == a.list_size
        self.measure("list", tasks, [list_event for _ in range(a.n_list)], lambda r: expect(r, 200, "list"))

        # The creating user: registered and logged in through the functions above would cost a
        # second login process; its token comes from a refresh of its own session instead.
        other = self.other_user(suffix)
        created = []

        def create_check(r):
            expect(r, 201, "create")
            created.append((body_of(r)["id"], header(r, "etag")))

        counter = iter(range(10**9))
        self.measure("create", tasks, [lambda: create(other, next(counter)) for _ in range(a.n_create)], create_check)
        ids = list(created)
        get_ids = iter(ids)
        self.measure("get", tasks, [lambda: event("GET", f"/v1/tasks/{next(get_ids)[0]}", token=other) for _ in range(a.n_other)], lambda r: expect(r, 200, "get"))
        patch_ids = iter(ids[: a.n_other])
        self.measure("patch", tasks, [lambda: event("PATCH", f"/v1/tasks/{next(patch_ids)[0]}", token=other, body={"completed": True}) for _ in range(a.n_other)], lambda r: expect(r, 200, "patch"))
        put_ids = iter(ids[a.n_other: 2 * a.n_other])
        self.measure("put", tasks, [lambda: event("PUT", f"/v1/tasks/{next(put_ids)[0]}", token=other, body={"title": "Replaced", "description": None, "completed": False, "priority": "high", "due_date": None}) for _ in range(a.n_other)], lambda r: expect(r, 200, "put"))
        del_ids = iter(ids[2 * a.n_other: 3 * a.n_other])
        self.measure("delete", tasks, [lambda: event("DELETE", f"/v1/tasks/{next(del_ids)[0]}", token=other) for _ in range(a.n_other)], lambda r: expect(r, 204, "delete"))
        self.list_scaling(tasks, suffix)
        self.results["functions"]["tasks"] = {"peak_rss_mib": round(tasks.peak_rss_kib() / 1024, 1)}
        self.stop(tasks)
        self.cold("list", "tasks", list_event, lambda r: expect(r, 200, "list"))
        self.cold("create", "tasks", lambda: create(other, next(counter)), lambda r: expect(r, 201, "create"))

        # --- recovery (a function of its own since mail; older builds have none): a reset
        # request for an address without an account makes the SMTP round trip all the same.
        if os.path.exists(os.path.join(a.bin_dir, "recovery")):
            reset = lambda: event("POST", "/v1/auth/password-reset", body={"email": f"nobody-{uuid.uuid4().hex}@example.com"})
            self.cold("password-reset", "recovery", reset, lambda r: expect(r, 202, "password-reset"))

        # --- zip sizes
        for name in ("register", "login", "refresh", "tasks", "account", "recovery"):
            path = os.path.join(a.bin_dir, name)
            if not os.path.exists(path):
                continue
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                z.write(path, "bootstrap")
            f = self.results["functions"].setdefault(name, {})
            f["binary_bytes"] = os.path.getsize(path)
            f["zip_bytes_x86_64"] = len(buf.getvalue())
        return self.results

    def list_scaling(self, tasks, suffix):
        """The first page (20) of a user with 10 tasks and of one with `big` (10,000), the two
        interleaved so that drift in the machine's load hits both alike."""
        a = self.args
        sizes = {"list@10": 10, f"list@{a.big}": a.big}
        users = {}
        for op, size in sizes.items():
            token = self.other_user(f"{suffix}-{size}")
            seed = subprocess.run(
                [a.dev_tool, "seed-tasks", "--endpoint", f"http://127.0.0.1:{a.ddb_port}",
                 "--name", a.table, "--user", jwt_sub(token), "--count", str(size)],
                capture_output=True, text=True)
            if seed.returncode != 0:
                raise RuntimeError(f"seed-tasks: {seed.stderr}")
            users[op] = lambda token=token: event("GET", "/v1/tasks", query="limit=20", token=token)
            expect(tasks.invoke(users[op]())[0], 200, op)
        wall = {op: [] for op in sizes}
        cpu = {op: 0 for op in sizes}
        for _ in range(a.n_scaling):
            for op, make in users.items():
                ns0 = tasks.cpu_ns()
                response, ms = tasks.invoke(make())
                cpu[op] += tasks.cpu_ns() - ns0
                listed = body_of(expect(response, 200, op))
                assert listed["counts"]["total"] == sizes[op], listed["counts"]
                wall[op].append(ms)
        for op in sizes:
            self.results["operations"][op] = {
                "function": "tasks",
                "n": a.n_scaling,
                "warm_p50_ms": round(pct(wall[op], 50), 2),
                "warm_p99_ms": round(pct(wall[op], 99), 2),
                "cpu_ms_per_invoke_schedstat": round(cpu[op] / 1e6 / a.n_scaling, 3),
            }
        small, big = (self.results["operations"][op] for op in sizes)
        self.results["list_scaling"] = {
            "big": a.big,
            "p50_ratio": round(big["warm_p50_ms"] / small["warm_p50_ms"], 2),
            "p99_ratio": round(big["warm_p99_ms"] / small["warm_p99_ms"], 2),
        }

    def stop(self, fn):
        fn.stop()
        self.live.remove(fn)

    def floor(self):
        """With --floor-bin: the CPU floor under every figure above, measured the same way.
        functions/tasks/examples/sdk_floor answers each invoke with nothing (floor:echo), one
        GetItem (floor:get) or one BatchGetItem of three items (floor:batch, as a get of ours
        makes), with our client; floor:batch-lean is the same call without the SDK's
        stalled-stream protection, timeouts and retries, floor:batch-own-http that again over
        a bare HTTP/1.1 connection of the example's own instead of the SDK's hyper client."""
        a = self.args
        any_event = event("GET", "/v1/tasks")
        for op, extra in [("floor:echo", {"FLOOR_MODE": "echo"}), ("floor:get", {"FLOOR_MODE": "get"}),
                          ("floor:batch", {"FLOOR_MODE": "batch"}),
                          ("floor:batch-lean", {"FLOOR_MODE": "batch", "FLOOR_SDK": "lean"}),
                          ("floor:batch-own-http", {"FLOOR_MODE": "batch", "FLOOR_SDK": "own-http"})]:
            fn = Function("sdk_floor", a.floor_bin, a.runtime_port, {**self.env(), **extra})
            self.live.append(fn)
            for _ in range(20):
                fn.invoke(any_event)
            self.measure(op, fn, [any_event] * a.n_list, lambda r: expect(r, 200, op))
            self.stop(fn)

    def other_user(self, suffix):
        reg = self.spawn("register")
        email = f"bench-{suffix}-creator@example.com"
        expect(reg.invoke(event("POST", "/v1/auth/register", body={"email": email, "password": PASSWORD, "name": "Creator"}))[0], 201, "register")
        self.stop(reg)
        login = self.spawn("login")
        r, _ = login.invoke(event("POST", "/v1/auth/login", body={"email": email, "password": PASSWORD}))
        self.stop(login)
        return body_of(expect(r, 200, "login"))["access_token"]


def callgrind_counts(folder, label, results):
    """Instructions per invoke of each operation of the tasks function, from the dumps its
    callgrind run made (one per measured operation, named by `callgrind_control -d <op>`)."""
    for name in os.listdir(folder):
        if not name.startswith(f"{label}."):
            continue
        op, total = None, None
        with open(os.path.join(folder, name)) as f:
            for line in f:
                if line.startswith("desc: Trigger: dump "):
                    op = line.split("dump ", 1)[1].strip()
                elif line.startswith("summary:"):
                    total = int(line.split()[1])
        entry = results["operations"].get(op)
        if entry and total is not None and entry.get("n"):
            entry["instructions_per_invoke"] = round(total / entry["n"])


def table(results):
    ops = results["operations"]
    cols = ["op", "init", "first", "next3", "p50", "p99", "cpu", "cpu(ns)", "1st cpu", "next cpu", "calls", "trips", "RRU", "WRU", "SM", "init DDB", "faults", "instr"]
    rows = [cols]
    for op, e in ops.items():
        rows.append([op, e.get("init_p50_ms"), e.get("first_invoke_p50_ms"), e.get("next_invokes_p50_ms"),
                     e.get("warm_p50_ms"), e.get("warm_p99_ms"), e.get("cpu_ms_per_invoke"),
                     e.get("cpu_ms_per_invoke_schedstat"), e.get("first_invoke_cpu_p50_ms"),
                     e.get("next_invokes_cpu_p50_ms"), e.get("dynamodb_calls"), e.get("dynamodb_round_trips_p50"),
                     e.get("rru_per_invoke"), e.get("wru_per_invoke"),
                     e.get("secrets_manager_calls_per_cold_start"), e.get("dynamodb_calls_during_init"),
                     e.get("minor_faults_per_invoke"), e.get("instructions_per_invoke")])
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(cols))]
    lines = ["  ".join(str(v).rjust(w) for v, w in zip(r, widths)) for r in rows]
    if "list_scaling" in results:
        r = results["list_scaling"]
        lines.append(f"list of a {r.get('big')}-task user / of a 10-task user: p50 {r['p50_ratio']}x, p99 {r['p99_ratio']}x")
    lines.append("")
    lines.append("function  peak RSS MiB  binary bytes  zip bytes (x86_64)")
    for name, f in results["functions"].items():
        lines.append(f"{name:9} {f.get('peak_rss_mib')!s:>12}  {f.get('binary_bytes')!s:>12}  {f.get('zip_bytes_x86_64')!s:>18}")
    return "\n".join(lines)


def merge(out, paths):
    """One result from several runs of the same binaries: each number its median over the
    runs (what the rounds of scripts/bench.sh BENCH_ROUNDS=N write), printed like a run."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))

    def median_of(values):
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) != len(values):
            return values[0]
        return round(statistics.median(numbers), 3)

    def merged(docs):
        first = docs[0]
        if isinstance(first, dict):
            return {k: merged([(d or {}).get(k) for d in docs]) for k in first}
        return median_of(docs)

    result = {"operations": merged([r["operations"] for r in runs]),
              "functions": merged([r["functions"] for r in runs])}
    if all("list_scaling" in r for r in runs):
        result["list_scaling"] = merged([r["list_scaling"] for r in runs])
    result["run"] = {"label": runs[0]["run"]["label"], "merged_from": paths,
                     "rounds": [r["run"] for r in runs]}
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"== {result['run']['label']}: median of {len(runs)} runs")
    print(table(result))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--merge":
        return merge(sys.argv[2], sys.argv[3:])
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--label", default="run")
    p.add_argument("--out", required=True)
    p.add_argument("--table", default="TasklineTable")
    p.add_argument("--ddb-port", type=int, required=True)
    p.add_argument("--ddb-proxy-port", type=int, required=True)
    p.add_argument("--secrets-port", type=int, required=True)
    p.add_argument("--secrets-proxy-port", type=int, required=True)
    p.add_argument("--runtime-port", type=int, required=True)
    p.add_argument("--n-list", type=int, default=500)
    p.add_argument("--n-create", type=int, default=500)
    p.add_argument("--n-other", type=int, default=50)
    p.add_argument("--list-size", type=int, default=20)
    p.add_argument("--cold-starts", type=int, default=5)
    p.add_argument("--big", type=int, default=10000, help="tasks of the big user of list@N")
    p.add_argument("--n-scaling", type=int, default=100, help="first pages of each list@ user")
    p.add_argument("--dev-tool", required=True, help="target/debug/taskline-dev (seed-tasks)")
    p.add_argument("--perf-dir", help="perf record each measured operation into this folder")
    p.add_argument("--callgrind-dir", help="run the tasks function under callgrind, counting "
                   "user-space instructions per invoke of each operation (timings then mean nothing)")
    p.add_argument("--floor-bin", help="functions/tasks/examples/sdk_floor: also measure the CPU "
                   "floor of the runtime and of one SDK call (the floor:* rows)")
    a = p.parse_args()
    bench = Bench(a)
    make_proxy(a.ddb_proxy_port, a.ddb_port, bench.ddb, add_capacity=True)
    make_proxy(a.secrets_proxy_port, a.secrets_port, bench.secrets, add_capacity=False)
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    started = time.time()
    if a.callgrind_dir:
        os.makedirs(a.callgrind_dir, exist_ok=True)
        for old in os.listdir(a.callgrind_dir):
            if old.startswith(f"{a.label}."):
                os.remove(os.path.join(a.callgrind_dir, old))
    results = bench.run()
    if a.floor_bin:
        bench.floor()
    if a.callgrind_dir:
        callgrind_counts(a.callgrind_dir, a.label, results)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    results["run"] = {
        "label": a.label,
        "bin_dir": a.bin_dir,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "cpus": os.cpu_count(),
        "workload": {"lists": a.n_list, "list_size": a.list_size, "creates": a.n_create, "other": a.n_other, "cold_starts": a.cold_starts},
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"== {a.label} ({a.bin_dir}), load {' '.join(load_before)} -> {' '.join(load_after)}")
    print(table(results))


if __name__ == "__main__":
    main()
