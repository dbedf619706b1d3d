"""schemathesis hooks of scripts/fuzz.sh."""

import json
import os
import urllib.error
import urllib.request

import schemathesis

# `cargo lambda watch` (the local router) answers a body that is not UTF-8 with its own 500
# before any function runs; API Gateway would hand the function those bytes base64-encoded, and
# it answers 400/415 (docs/API.md, "Known outside the project"). The same router answers its own
# 500 to a header value it cannot carry into the JSON event (bytes that are not visible ASCII).
# It also answers its own 500 to a `multipart/*` Content-Type without a boundary, which it tries to
# parse before any function runs (API Gateway passes such a request on; the functions never read
# a multipart body and answer 400/415 or ignore the body of a GET).
# Only those cases are dropped: a 500 of ours has a taskline problem type and is still a failure.
ROUTER_500_TYPE = b"https://httpstatuses.com/500"


def _not_utf8(body):
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if not isinstance(body, (bytes, bytearray)):
        return False
    try:
        bytes(body).decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def _header_not_ascii(headers):
    for value in (headers or {}).values():
        raw = value.encode("latin-1", "replace") if isinstance(value, str) else bytes(value)
        if any(b < 0x20 and b != 0x09 or b > 0x7E for b in raw):
            return True
    return False


def _multipart_without_boundary(headers):
    for name, value in (headers or {}).items():
        if str(name).lower() != "content-type":
            continue
        value = value if isinstance(value, str) else bytes(value).decode("latin-1")
        if value.strip().lower().startswith("multipart/") and "boundary=" not in value.lower():
            return True
    return False


# schemathesis counts a credential as generated (so "likely invalid") unless its own auth
# configuration set it. The refresh cookie of `POST /v1/auth/refresh` in the stateful phase is
# the live one the login link hands over (openapi.yaml, components.links.Refresh), so its 200 is
# right. The failure is dropped only once the operation is seen to refuse a request without the
# cookie and one with a made-up cookie: the probes schemathesis makes for configured credentials.
REFRESH_LABEL = "POST /v1/auth/refresh"
REFRESH_COOKIE = "__Host-taskline_refresh"


def _refresh_status(url, cookie=None):
    headers = {"cookie": f"{REFRESH_COOKIE}={cookie}"} if cookie is not None else {}
    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _refresh_cookie_enforced(url):
    made_up = "x" * 43
    return _refresh_status(url) in (401, 403) and _refresh_status(url, made_up) in (401, 403)


def _live_refresh_cookie_taken_for_generated(failure, case, response):
    return (
        getattr(failure, "code", None) == "ST401"
        and str(getattr(failure, "scenario", "")) == "generated_auth"
        and case.operation.label == REFRESH_LABEL
        and response is not None
        and response.status_code == 200
        and _refresh_cookie_enforced(response.request.url)
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if _live_refresh_cookie_taken_for_generated(failure, case, response):
        return False
    if response is None or response.status_code != 500:
        return True
    sent = getattr(response.request, "body", None)
    sent_headers = getattr(response.request, "headers", None)
    router_case = (
        _not_utf8(sent)
        or _header_not_ascii(sent_headers)
        or _multipart_without_boundary(sent_headers)
    )
    if router_case and ROUTER_500_TYPE in (
        response.content or b""
    ):
        return False
    return True


# Operations whose security is not the Bearer token: they get no Authorization header (and so
# no re-login when they answer 401, which for them says nothing about the token).
WITHOUT_BEARER = [
    "register", "login", "refresh", "logout", "health", "getOpenApi", "getDocs",
    "requestPasswordReset", "confirmPasswordReset", "verifyEmail",
]


def _post_json(url, body):
    """POST `body` as JSON: the status and the parsed JSON answer (None if it is not JSON)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


# The Bearer token of every operation: the run's user (fuzz.sh registers it) signed in. The
# token is kept until a request that carried it is answered 401 (its session ended: by id, by a
# password change, by logout, with the account); the next request then signs in again. This
# hook keeps the token itself rather than leave it to schemathesis' cache and its replay on
# 401: that replay marks an operation "token-independent" for the rest of the run the first
# time a replayed request is refused too (a session ended between the sign-in and the replay),
# and from then on that operation is only ever sent with a dead token. A 401 to a request
# that did not carry the token (schemathesis' own made-up credentials) says nothing about it.
# An account deleted by the fuzzer is registered again under the same email.
_session = {"token": None}


def _sign_in():
    base = os.environ["FUZZ_HOOK_BASE_URL"]
    credentials = {
        "email": os.environ["FUZZ_HOOK_EMAIL"],
        "password": os.environ["FUZZ_HOOK_PASSWORD"],
    }
    status, body = _post_json(f"{base}/v1/auth/login", credentials)
    if status == 401:
        registered, _ = _post_json(f"{base}/v1/auth/register", {**credentials, "name": "Fuzz"})
        if registered != 201:
            raise RuntimeError(f"login answered 401 and registering again {registered}")
        status, body = _post_json(f"{base}/v1/auth/login", credentials)
    if status != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise RuntimeError(f"login answered {status}")
    return body["access_token"]


@schemathesis.auth(refresh_interval=None).skip_for(operation_id=WITHOUT_BEARER)
class SignIn:
    def get(self, case, context):
        if _session["token"] is None:
            _session["token"] = _sign_in()
        return _session["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _sent_authorization(response):
    headers = getattr(response.request, "headers", None) or {}
    for name, value in headers.items():
        if str(name).lower() == "authorization":
            return value if isinstance(value, str) else bytes(value).decode("latin-1")
    return None


@schemathesis.hook
def after_call(context, case, response):
    token = _session["token"]
    if (
        token is not None
        and response is not None
        and response.status_code == 401
        and _sent_authorization(response) == f"Bearer {token}"
    ):
        _session["token"] = None


_registrations = iter(range(1, 1 << 62))


@schemathesis.hook
def map_body(context, body):
    """Gives each generated registration an address of its own: generated emails repeat (the
    same few shortest strings), and a repeated one is 409, so the link from a registration to
    its login (and from that login to the refresh it hands over) would only be followed by
    chance. The request stays as schema-valid as it was: a prefix of the local part, within
    its 64 characters and the address's 254."""
    operation = getattr(context, "operation", None)
    if getattr(operation, "label", None) != "POST /v1/auth/register" or not isinstance(body, dict):
        return body
    email = body.get("email")
    if not isinstance(email, str) or email.count("@") != 1:
        return body
    local, domain = email.split("@")
    prefix = f"f{next(_registrations)}."
    if len(prefix) + len(local) > 64 or len(prefix) + len(email) > 254:
        return body
    return {**body, "email": f"{prefix}{local}@{domain}"}


_idempotency_keys = iter(range(1, 1 << 62))


@schemathesis.hook
def map_headers(context, headers):
    """Gives each generated create an Idempotency-Key of its own. Generated keys repeat (the
    same few shortest strings), and the same key with the same body answers the first
    response again, as documented: the id of a task a stateful scenario may have deleted
    since, which schemathesis' "created resource not found" check (ST302) takes for a lost
    create. Replays are tested by functions/tasks/tests/api/idempotency.rs; here a key stays as
    schema-valid (or not) as it was: a prefix, within its 255 characters."""
    operation = getattr(context, "operation", None)
    if getattr(operation, "label", None) != "POST /v1/tasks" or not isinstance(headers, dict):
        return headers
    key = headers.get("Idempotency-Key")
    if not isinstance(key, str):
        return headers
    prefix = f"k{next(_idempotency_keys)}-"
    if len(prefix) + len(key) > 255:
        return headers
    return {**headers, "Idempotency-Key": prefix + key}
