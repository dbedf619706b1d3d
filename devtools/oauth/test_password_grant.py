"""A standard OAuth2 client library (authlib) doing the password grant against the form login
of the running local stack (TASKLINE_BASE_URL), as the docs page's Authorize dialog and
FastAPI-style clients do: it sends grant_type, username, password and client_id."""

import os
import uuid

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

BASE_URL = os.environ.get("TASKLINE_BASE_URL", "http://127.0.0.1:9000").rstrip("/")
TOKEN_URL = f"{BASE_URL}/v1/auth/login"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def email():
    email = f"oauth-{uuid.uuid4().hex[:12]}@example.com"
    response = requests.post(
        f"{BASE_URL}/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "OAuth client"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return email


def client():
    return OAuth2Session(client_id="taskline-oauth-test", scope="tasks")


def test_password_grant_gets_a_bearer_token_that_works(email):
    session = client()
    token = session.fetch_token(TOKEN_URL, username=email, password=PASSWORD, timeout=120)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 900
    me = session.get(f"{BASE_URL}/v1/me", timeout=120)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email


def test_wrong_password_raises_invalid_grant(email):
    with pytest.raises(OAuthError) as failure:
        client().fetch_token(TOKEN_URL, username=email, password="not the password", timeout=120)
    assert failure.value.error == "invalid_grant"
    assert failure.value.description


def test_a_missing_password_raises_invalid_request(email):
    with pytest.raises(OAuthError) as failure:
        client().fetch_token(TOKEN_URL, username=email, password="", timeout=120)
    assert failure.value.error == "invalid_request"
