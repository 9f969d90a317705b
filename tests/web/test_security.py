"""Security of every route: authentication, roles, CSRF, headers, no inline scripts."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from costloop.web.app import create_app
from costloop.web.security import CONTENT_SECURITY_POLICY
from costloop.workspace import Workspace

from .conftest import WEB_USERS, ClientFor

OPEN_PATHS = {"/healthz", "/login", "/api/docs/init.js"}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) of each route of the app."""
    found = []
    for route in iter_route_contexts(app.routes):
        template = route.path_format
        if not route.methods or template is None or template in OPEN_PATHS:
            continue
        path = re.sub(r"\{[^}:]+(:path)?\}", "1", template)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path))
    return found


def test_every_route_but_the_open_ones_needs_credentials(
    web_app: FastAPI, anon_client: TestClient
) -> None:
    routes = _routes(web_app)
    assert ("GET", "/metrics") in routes and ("POST", "/api/v1/users") in routes
    for method, path in routes:
        response = anon_client.request(method, path, follow_redirects=False)
        if (path.startswith("/api/") and path != "/api/docs") or path == "/metrics":
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        else:
            assert response.status_code in (303, 401, 403), (method, path, response.text)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?next=")


def test_only_admins_manage_users(client_for: ClientFor, fresh_web_ws: Workspace) -> None:
    new = {"username": "dana", "password": "long-enough-pw", "role": "viewer"}
    for name in ("viewer", "owner-checkout", "approver"):
        client = client_for(name, fresh_web_ws)
        assert client.get("/api/v1/users").status_code == 403
        refused = client.post("/api/v1/users", json=new)
        assert refused.status_code == 403
        role = WEB_USERS[name][0]
        assert refused.json()["detail"] == f"this needs the role admin; you are a {role}"
        assert client.delete("/api/v1/users/viewer").status_code == 403
    admin = client_for("admin", fresh_web_ws)
    created = admin.post("/api/v1/users", json=new)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "viewer"
    names = [u["username"] for u in admin.get("/api/v1/users").json()]
    assert names == sorted(
        ["admin", "approver", "viewer", "owner-checkout", "owner-catalog", "dana"]
    )
    changed = admin.patch("/api/v1/users/dana", json={"role": "owner", "team": "search"})
    assert (changed.json()["role"], changed.json()["team"]) == ("owner", "search")
    assert admin.delete("/api/v1/users/dana").status_code == 204
    assert admin.delete("/api/v1/users/dana").status_code == 404


def test_users_api_rejects_bad_teams_and_keeps_the_last_admin(
    client_for: ClientFor, fresh_web_ws: Workspace
) -> None:
    admin = client_for("admin", fresh_web_ws)
    unknown = admin.post(
        "/api/v1/users",
        json={"username": "eve", "password": "long-enough-pw", "role": "owner", "team": "nope"},
    )
    assert unknown.status_code == 422
    assert "unknown team 'nope'" in unknown.json()["detail"]
    assert unknown.json()["column"] == "team"
    duplicate = admin.post(
        "/api/v1/users", json={"username": "viewer", "password": "long-enough-pw", "role": "viewer"}
    )
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.json()["detail"]
    last = admin.delete("/api/v1/users/admin")
    assert last.status_code == 422
    assert "last admin" in last.json()["detail"]


def test_cookie_mutations_need_the_csrf_header(client_for: ClientFor) -> None:
    client = client_for("viewer")
    missing = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": ""})
    assert missing.status_code == 403
    assert missing.json()["detail"] == "missing or wrong X-CSRF-Token header"
    wrong = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    # Reading needs no token.
    assert client.get("/api/v1/tokens", headers={"X-CSRF-Token": ""}).status_code == 200


def test_session_csrf_token_is_given_to_the_session_only(client_for: ClientFor) -> None:
    client = client_for("viewer")
    assert client.get("/api/v1/me").json()["csrf_token"] == client.csrf
    other = client_for("viewer")
    assert other.csrf != client.csrf
    # One session's token is worthless with another session's cookie.
    stolen = other.post("/api/v1/tokens", json={}, headers={"X-CSRF-Token": client.csrf})
    assert stolen.status_code == 403


def _headers_ok(headers: dict[str, str] | object, https: bool = False) -> None:
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY  # type: ignore[index]
    assert headers["x-frame-options"] == "DENY"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin"  # type: ignore[index]
    hsts = headers.get("strict-transport-security")  # type: ignore[attr-defined]
    assert (hsts is not None) == https


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/healthz", 200),
        ("/login", 200),
        ("/metrics", 401),
        ("/api/v1/me", 401),
        ("/no/such/page", 404),
        ("/static/auth.css", 200),
    ],
)
def test_security_headers_on_every_kind_of_response(
    anon_client: TestClient, path: str, status: int
) -> None:
    response = anon_client.get(path, follow_redirects=False)
    assert response.status_code == status
    _headers_ok(response.headers)


def test_hsts_only_over_https(web_app: FastAPI) -> None:
    with TestClient(web_app, base_url="https://testserver") as client:
        _headers_ok(client.get("/healthz").headers, https=True)
        assert "max-age=" in client.get("/healthz").headers["strict-transport-security"]


def test_api_docs_load_swagger_from_local_files_without_inline_script(
    client_for: ClientFor,
) -> None:
    client = client_for("viewer")
    page = client.get("/api/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/' in attrs and body.strip() == "" for attrs, body in scripts)
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert "SwaggerUIBundle" in client.get("/api/docs/init.js").text
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/tokens" in schema["paths"]
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    # Swagger UI 4 reads a 3.0 rendering of the same document.
    assert "/api/docs/openapi-3.0.json" in client.get("/api/docs/init.js").text
    old = client.get("/api/docs/openapi-3.0.json").json()
    assert old["openapi"] == "3.0.3" and old["paths"].keys() == schema["paths"].keys()
    assert '"null"' not in json.dumps(old)
    last_used = old["components"]["schemas"]["TokenOut"]["properties"]["last_used"]
    assert last_used["nullable"] is True and last_used["format"] == "date-time"


def test_openapi_document_needs_credentials(anon_client: TestClient) -> None:
    assert anon_client.get("/api/openapi.json").status_code == 401
    docs = anon_client.get("/api/docs", follow_redirects=False)
    assert docs.status_code == 303
    assert docs.headers["location"] == "/login?next=/api/docs"


def test_login_page_has_no_inline_script_or_style(anon_client: TestClient) -> None:
    html = anon_client.get("/login").text
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert re.search(r'<input type="hidden" name="csrf_token" value="[\w-]{43}">', html)


def test_errors_are_problem_json_under_api_and_html_elsewhere(
    client_for: ClientFor,
) -> None:
    client = client_for("viewer")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    invalid = client.delete("/api/v1/tokens/not-a-number")
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["path", "token_id"]


def test_unexpected_errors_are_generic_500s_with_the_security_headers(web_ws: Workspace) -> None:
    app = create_app(web_ws)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("internal detail /secret/path")

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError("internal detail /secret/path")

    with TestClient(app, raise_server_exceptions=False) as client:
        api = client.get("/api/v1/boom")
        page = client.get("/boom")
    assert api.status_code == page.status_code == 500
    assert api.json()["detail"] == "the server could not complete the request"
    assert api.headers["content-type"] == "application/problem+json"
    assert page.headers["content-type"].startswith("text/html")
    for response in (api, page):
        assert "secret" not in response.text
        _headers_ok(response.headers)
