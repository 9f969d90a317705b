"""Every API route refuses callers without credentials; viewers cannot change anything."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from costloop.web import api

ApiFor = Callable[..., TestClient]


def _routes() -> list[tuple[str, str]]:
    out = []
    modules = (
        api.overview,
        api.explorer,
        api.allocation,
        api.teams,
        api.anomalies,
        api.forecasts,
        api.budgets,
        api.commitments,
        api.unit_economics,
        api.opportunities,
    )
    routes = [r for m in modules for r in m.router.routes]
    for route in routes:
        assert isinstance(route, APIRoute)
        path = re.sub(r"\{[a-z_]+_id\}", "1", api.router.prefix + route.path)
        path = path.replace("{team}", "checkout")
        out += [(method, path) for method in sorted(route.methods)]
    return out


ROUTES = _routes()
MUTATIONS = [(m, p) for m, p in ROUTES if m == "POST"]


def test_the_api_has_every_area() -> None:
    paths = {p for _, p in ROUTES}
    for expected in (
        "/api/v1/overview",
        "/api/v1/explorer",
        "/api/v1/explorer.csv",
        "/api/v1/allocation/coverage",
        "/api/v1/allocation/rules",
        "/api/v1/teams",
        "/api/v1/teams/checkout",
        "/api/v1/anomalies",
        "/api/v1/anomalies/1",
        "/api/v1/forecasts",
        "/api/v1/budgets",
        "/api/v1/commitments",
        "/api/v1/unit-economics",
        "/api/v1/opportunities",
        "/api/v1/opportunities/1/approve",
    ):
        assert expected in paths
    assert len(MUTATIONS) == 7


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_credentials_is_401(anon_client: TestClient, method: str, path: str) -> None:
    r = anon_client.request(method, path)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_or_wrong_token_is_401(anon_client: TestClient) -> None:
    r = anon_client.get("/api/v1/teams", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "invalid" in r.json()["detail"]


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
def test_viewer_mutation_is_403(api_client_for: ApiFor, method: str, path: str) -> None:
    body = {"comment": "x"} if "/opportunities/" in path else {"note": "x"}
    r = api_client_for("viewer").request(method, path, json=body)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "viewers cannot change" in r.json()["detail"]


def test_openapi_documents_the_api(web_app: FastAPI, api_client_for: ApiFor) -> None:
    spec = api_client_for("viewer").get("/api/openapi.json").json()
    overview = spec["paths"]["/api/v1/overview"]["get"]
    schema = overview["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/OverviewOut")
    money = spec["components"]["schemas"]["SpendOut"]["properties"]["current"]
    assert money["type"] == "string"
    assert "401" in overview["responses"]
