"""Signing in and out: passwords, sessions, cookies, rate limiting, redirects, tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from costloop.state import WebSessionRow
from costloop.web.app import create_app
from costloop.web.auth import SESSION_COOKIE, AuthSettings, LoginLimiter
from costloop.workspace import Workspace

from .conftest import PASSWORD, ClientFor

LoginFn = Callable[..., Response]


def _form_token(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def login(client: TestClient, username: str, password: str, next_url: str = "/") -> Response:
    """Open the sign-in form and submit it like a browser (no redirect following)."""
    token = _form_token(client.get("/login"))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


@pytest.fixture
def app(fresh_web_ws: Workspace) -> FastAPI:
    return create_app(fresh_web_ws, auth=AuthSettings())


def _session_count(ws: Workspace) -> int:
    with ws.state.session() as s:
        return s.query(WebSessionRow).count()


def test_login_opens_a_session_and_reaches_the_api(app: FastAPI, fresh_web_ws: Workspace) -> None:
    with TestClient(app) as client:
        response = login(client, "owner-checkout", PASSWORD, "/api/v1/me")
        assert response.status_code == 303
        assert response.headers["location"] == "/api/v1/me"
        me = client.get("/api/v1/me").json()
    assert (me["username"], me["role"], me["team"], me["via"]) == (
        "owner-checkout",
        "owner",
        "checkout",
        "session",
    )
    assert _session_count(fresh_web_ws) == 1


def _session_cookie(response: Response) -> str:
    """The Set-Cookie header of the session cookie."""
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    assert len(found) == 1, response.headers
    return found[0]


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_over_http(app: FastAPI) -> None:
    with TestClient(app) as client:
        cookie = _session_cookie(login(client, "viewer", PASSWORD))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags
    # 256 random bits, URL-safe base64: 43 characters.
    assert len(cookie.split(";")[0].split("=", 1)[1]) == 43


def test_cookie_is_secure_over_https_and_when_forced(fresh_web_ws: Workspace) -> None:
    with TestClient(create_app(fresh_web_ws), base_url="https://testserver") as client:
        over_tls = _session_cookie(login(client, "viewer", PASSWORD))
    # Forced (TLS ends at a proxy whose headers are not trusted): even the login form's
    # cookie is Secure, so a plain-http client cannot send it back.
    with TestClient(create_app(fresh_web_ws, secure_cookies=True)) as client:
        forced = client.get("/login").headers["set-cookie"]
        assert login(client, "viewer", PASSWORD).status_code == 403
    assert "secure" in over_tls.lower().split("; ")
    assert "secure" in forced.lower().split("; ")


@pytest.mark.parametrize(
    ("username", "password"),
    [("viewer", "not-the-password"), ("nobody-here", PASSWORD), ("viewer", "")],
)
def test_bad_credentials_get_one_generic_message(
    app: FastAPI, username: str, password: str
) -> None:
    with TestClient(app) as client:
        response = login(client, username, password)
        assert response.status_code == 401
        assert "Invalid username or password." in response.text
        assert SESSION_COOKIE not in response.cookies
        assert client.get("/api/v1/me").status_code == 401


def test_disabled_user_cannot_sign_in(app: FastAPI, fresh_web_ws: Workspace) -> None:
    from costloop.state import UserRow

    with fresh_web_ws.state.session() as s:
        s.query(UserRow).filter(UserRow.username == "viewer").update({"disabled": True})
    with TestClient(app) as client:
        assert login(client, "viewer", PASSWORD).status_code == 401


def test_sixth_attempt_in_the_window_is_refused_with_retry_after(app: FastAPI) -> None:
    with TestClient(app) as client:
        for _ in range(5):
            assert login(client, "approver", "wrong-password").status_code == 401
        refused = login(client, "approver", PASSWORD)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
        assert "Too many failed attempts" in refused.text
        # The limit is per user name: another account from the same client still works.
        assert login(client, "viewer", PASSWORD).status_code == 303


def test_the_limit_resets_after_the_window(fresh_web_ws: Workspace) -> None:
    app = create_app(fresh_web_ws, auth=AuthSettings(window=timedelta(seconds=0)))
    with TestClient(app) as client:
        for _ in range(6):
            assert login(client, "approver", "wrong-password").status_code == 401
        assert login(client, "approver", PASSWORD).status_code == 303


def test_login_form_without_its_csrf_token_is_refused(app: FastAPI) -> None:
    with TestClient(app) as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": "forged"},
            follow_redirects=False,
        )
    assert response.status_code == 403
    assert "expired" in response.text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/teams/checkout?month=2026-10", "/teams/checkout?month=2026-10"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_login_only_redirects_to_local_paths(app: FastAPI, given: str, expected: str) -> None:
    with TestClient(app) as client:
        response = login(client, "viewer", PASSWORD, given)
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_logout_deletes_the_session(client_for: ClientFor, fresh_web_ws: Workspace) -> None:
    client = client_for("viewer", fresh_web_ws)
    assert client.get("/api/v1/me").status_code == 200
    before = _session_count(fresh_web_ws)
    response = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert _session_count(fresh_web_ws) == before - 1
    assert client.get("/api/v1/me").status_code == 401


def test_logout_without_the_form_token_is_refused(
    client_for: ClientFor, fresh_web_ws: Workspace
) -> None:
    client = client_for("viewer", fresh_web_ws)
    response = client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_idle_and_absolute_timeouts_end_sessions(fresh_web_ws: Workspace) -> None:
    idle = create_app(fresh_web_ws, auth=AuthSettings(idle=timedelta(0)))
    with TestClient(idle) as client:
        assert login(client, "viewer", PASSWORD).status_code == 303
        assert client.get("/api/v1/me").status_code == 401
    assert _session_count(fresh_web_ws) == 0
    with TestClient(create_app(fresh_web_ws)) as client:
        assert login(client, "viewer", PASSWORD).status_code == 303
        assert client.get("/api/v1/me").status_code == 200
        # Past its absolute lifetime, however recently used.
        with fresh_web_ws.state.session() as s:
            row = s.query(WebSessionRow).one()
            row.expires_at = row.last_seen - timedelta(seconds=1)
        assert client.get("/api/v1/me").status_code == 401
    assert _session_count(fresh_web_ws) == 0


def test_pages_send_strangers_to_the_login_form_and_back(app: FastAPI) -> None:
    with TestClient(app) as client:
        response = client.get("/api/docs?x=1", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/api/docs%3Fx%3D1"
        page = client.get(response.headers["location"])
        assert 'name="next" value="/api/docs?x=1"' in page.text
        signed_in = login(client, "viewer", PASSWORD, "/api/docs?x=1")
        assert signed_in.headers["location"] == "/api/docs?x=1"
        assert client.get("/api/docs").status_code == 200
        assert client.get("/login", follow_redirects=False).status_code == 303


def test_tokens_work_as_bearer_until_revoked(
    client_for: ClientFor, fresh_web_ws: Workspace
) -> None:
    owner = client_for("owner-catalog", fresh_web_ws)
    created = owner.post("/api/v1/tokens", json={"name": "grafana"})
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("cl_") and len(secret) == 46
    assert body["prefix"] == secret[:10]
    listed = owner.get("/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["grafana"]
    assert "token" not in listed[0]
    with TestClient(owner.app, headers={"Authorization": f"Bearer {secret}"}) as api:
        me = api.get("/api/v1/me").json()
        assert (me["username"], me["via"]) == ("owner-catalog", "token")
        # Tokens carry no session, so mutations need no CSRF header.
        assert api.post("/api/v1/tokens", json={"name": "second"}).status_code == 201
        assert owner.delete(f"/api/v1/tokens/{body['id']}").json()["revoked_at"]
        revoked = api.get("/api/v1/me")
    assert revoked.status_code == 401
    assert revoked.headers["content-type"] == "application/problem+json"
    assert revoked.headers["www-authenticate"].startswith("Bearer")


def test_users_cannot_revoke_someone_elses_token(
    client_for: ClientFor, fresh_web_ws: Workspace
) -> None:
    mine = client_for("owner-catalog", fresh_web_ws).post("/api/v1/tokens", json={}).json()
    other = client_for("owner-checkout", fresh_web_ws)
    assert other.delete(f"/api/v1/tokens/{mine['id']}").status_code == 404
    assert other.get("/api/v1/tokens?all=true").status_code == 403
    admin = client_for("admin", fresh_web_ws)
    assert [t["username"] for t in admin.get("/api/v1/tokens?all=true").json()] == ["owner-catalog"]
    assert admin.delete(f"/api/v1/tokens/{mine['id']}").status_code == 200


@pytest.mark.parametrize("header", ["Bearer cl_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_bad_authorization_headers_are_401(anon_client: TestClient, header: str) -> None:
    response = anon_client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_limiter_counts_per_name_and_address_ignoring_case() -> None:
    limiter = LoginLimiter(AuthSettings(max_failures=3))
    for _ in range(3):
        assert limiter.retry_after("Ana", "10.0.0.1") is None
        limiter.failed("Ana", "10.0.0.1")
    wait = limiter.retry_after("ana", "10.0.0.1")
    assert wait is not None and 15 * 60 - 5 <= wait <= 15 * 60
    assert limiter.retry_after("ana", "10.0.0.2") is None
    assert limiter.retry_after("bo", "10.0.0.1") is None
    limiter.succeeded("ANA", "10.0.0.1")
    assert limiter.retry_after("ana", "10.0.0.1") is None
