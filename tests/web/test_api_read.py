"""The REST API's read endpoints show the same numbers as the CLI's ``--json`` output."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from costloop.analytics.anomaly_store import list_anomalies, record
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

ApiFor = Callable[..., TestClient]
PROBLEM = "application/problem+json"


@pytest.fixture
def api(api_client_for: ApiFor) -> TestClient:
    """A viewer's API client: reading needs no more than that."""
    return api_client_for("viewer")


def _cli_json(cli_main: Any, ws: Workspace, *args: str) -> Any:
    done = cli_main(*args, "--json", "-w", ws.root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_overview_spend_matches_showback_totals(
    api: TestClient, cli_main: Any, web_ws: Workspace
) -> None:
    body = api.get("/api/v1/overview").json()
    showback = _cli_json(cli_main, web_ws, "report", "showback", "--by", "team")
    (group,) = showback["groups"]
    assert body["month"] == group["period"]
    (spend,) = body["spend"]
    assert spend["current"] == group["total"]  # exact decimal text, no storage padding
    assert spend["previous"] == group["previous_total"]
    assert spend["change"] == group["change"]
    assert spend["change_pct"] == group["change_pct"]
    rows = sum((Decimal(r["cost"]) for r in group["rows"]), Decimal(0))
    assert rows == Decimal(spend["current"])
    assert body["coverage"]["band"] in {"run", "walk", "crawl", "below crawl"}
    assert len(body["top_opportunities"]) <= 5
    budgets = _cli_json(cli_main, web_ws, "budgets")
    assert [(b["name"], b["status"], b["actual"]) for b in body["budgets"]] == [
        (b["name"], b["status"], b["actual"]) for b in budgets["budgets"]
    ]
    kpis = _cli_json(cli_main, web_ws, "kpis")
    esr = next(k for k in kpis["kpis"] if k["id"] == "esr")
    assert Decimal(body["esr"][0]["value"]) == Decimal(esr["value"])
    forecast = body["forecasts"][0]
    assert Decimal(forecast["lo80"]) <= Decimal(forecast["mean"]) <= Decimal(forecast["hi80"])


def ensure_anomalies(ws: Workspace) -> None:
    """Record the demo estate's anomalies when the workspace has none yet."""
    from costloop.analytics.anomalies import detect

    if list_anomalies(ws.state):
        return
    with open_engine(ws.lake) as engine:
        found = detect(ws, engine)
    record(ws.state, ws.org, found.anomalies, actor="test")


def test_anomaly_list_matches_cli(
    api_client_for: ApiFor, cli_main: Any, fresh_web_ws: Workspace
) -> None:
    ensure_anomalies(fresh_web_ws)
    api = api_client_for("viewer", fresh_web_ws)
    cli = _cli_json(cli_main, fresh_web_ws, "anomalies", "--no-detect")
    page = api.get("/api/v1/anomalies", params={"limit": 500}).json()
    assert page["total"] == len(cli["anomalies"]) > 0
    assert page["items"] == cli["anomalies"]
    opened = api.get("/api/v1/anomalies", params={"status": "open"}).json()
    assert opened["total"] == cli["summary"]["open"]
    overview = api.get("/api/v1/overview").json()
    assert overview["open_anomalies"] == cli["summary"]["open"]


def test_budgets_match_cli(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    cli = _cli_json(cli_main, web_ws, "budgets")
    assert api.get("/api/v1/budgets").json() == cli


def test_commitments_match_kpis(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    cli = _cli_json(cli_main, web_ws, "kpis")
    body = api.get("/api/v1/commitments").json()
    assert body == cli


def test_coverage_matches_cli(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    cli = _cli_json(cli_main, web_ws, "report", "coverage")
    assert api.get("/api/v1/allocation/coverage").json() == cli


def test_explorer_month_totals_match_showback(
    api: TestClient, cli_main: Any, web_ws: Workspace
) -> None:
    showback = _cli_json(cli_main, web_ws, "report", "showback", "--by", "ServiceName")
    (group,) = showback["groups"]
    month = group["period"]
    body = api.get(
        "/api/v1/explorer",
        params={"group_by": "ServiceName", "from": f"{month}-01", "to": f"{month}-01"},
    ).json()
    got = {s["value"]: Decimal(s["total"]) for s in body["series"]}
    want = {r["values"]["ServiceName"]: Decimal(r["cost"]) for r in group["rows"]}
    assert got == want
    assert body["totals"] == [{"currency": "USD", "total": group["total"]}]
    assert body["periods"] == [f"{month}-01"]


def test_explorer_day_grain_filters_and_csv(api: TestClient) -> None:
    params: dict[str, Any] = {
        "group_by": "team",
        "grain": "day",
        "metric": "billed",
        "from": "2026-11-01",
        "to": "2026-11-07",
        "filter": ["ProviderName:AWS"],
    }
    body = api.get("/api/v1/explorer", params=params).json()
    assert body["periods"][0] == "2026-11-01" and body["periods"][-1] == "2026-11-07"
    assert len(body["periods"]) == 7
    assert body["filters"] == [{"column": "ProviderName", "value": "AWS"}]
    csv = api.get("/api/v1/explorer.csv", params=params)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "period,team,currency,billed_cost"
    total = sum(Decimal(line.rsplit(",", 1)[1]) for line in lines[1:])
    assert total == Decimal(body["totals"][0]["total"])


def test_explorer_unknown_dimension_is_400_listing_allowed(api: TestClient) -> None:
    r = api.get("/api/v1/explorer", params={"group_by": "ResourceId"})
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert "'ResourceId'" in problem["detail"]
    for allowed in ("team", "ServiceName", "RegionId", "ChargeCategory"):
        assert allowed in problem["detail"]
    bad_filter = api.get("/api/v1/explorer", params={"filter": "nocolon"})
    assert bad_filter.status_code == 400 and "COLUMN:VALUE" in bad_filter.json()["detail"]
    bad_date = api.get("/api/v1/explorer", params={"from": "2026-13-01"})
    assert bad_date.status_code == 422 and bad_date.headers["content-type"] == PROBLEM


def test_teams_and_team_page(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    showback = _cli_json(cli_main, web_ws, "report", "showback", "--by", "team")
    (group,) = showback["groups"]
    cost = {r["values"]["team"]: Decimal(r["cost"]) for r in group["rows"]}
    teams = api.get("/api/v1/teams").json()
    listed = {t["team"]: Decimal(t["spend"][0]["current"]) for t in teams if t["spend"]}
    assert listed == cost
    team = api.get("/api/v1/teams/checkout").json()
    assert Decimal(team["current"][0]["effective"]) == cost["checkout"]
    assert team["owner"] and team["top_services"]
    assert all(a["owner"] == "checkout" for a in team["anomalies"])
    assert [b["name"] for b in team["budgets"]] == ["checkout-monthly"]
    missing = api.get("/api/v1/teams/nobody")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert "unknown team 'nobody'" in missing.json()["detail"]


def test_pagination(api: TestClient) -> None:
    full = api.get("/api/v1/opportunities", params={"limit": 500}).json()
    assert full["total"] >= 3 and full["next"] is None
    first = api.get("/api/v1/opportunities", params={"limit": 2}).json()
    assert first["items"] == full["items"][:2]
    assert first["limit"] == 2 and first["offset"] == 0 and first["total"] == full["total"]
    assert first["next"] is not None and "offset=2" in first["next"]
    second = api.get(first["next"]).json()
    assert second["items"] == full["items"][2:4]
    too_many = api.get("/api/v1/opportunities", params={"limit": 501})
    assert too_many.status_code == 422 and too_many.headers["content-type"] == PROBLEM


def test_opportunity_detail_and_404(api: TestClient) -> None:
    first = api.get("/api/v1/opportunities", params={"limit": 1}).json()["items"][0]
    detail = api.get(f"/api/v1/opportunities/{first['id']}").json()
    assert detail["monthly_savings"] == first["monthly_savings"]
    assert detail["evidence"] and detail["history"]
    assert {"risk", "effort", "value", "plan", "owner_team"} <= set(detail)
    missing = api.get("/api/v1/opportunities/999999")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "no opportunity with id 999999"
    assert api.get("/api/v1/anomalies/999999").status_code == 404


def test_forecast_scope_and_bad_horizon(api: TestClient) -> None:
    body = api.get("/api/v1/forecasts", params={"scope": "team:checkout", "horizon": "2m"}).json()
    assert body["scope"] == {"team": "checkout"}
    kinds = [m["kind"] for m in body["months"]]
    assert kinds.count("forecast") + kinds.count("partial") >= 2
    too_far = api.get("/api/v1/forecasts", params={"horizon": "99m"})
    assert too_far.status_code == 400
    assert too_far.json()["detail"] == "horizon: '99m' is out of range (1..24m)"
    unknown_column = api.get("/api/v1/forecasts", params={"scope": "colour:red"})
    assert unknown_column.status_code == 400 and "colour" in unknown_column.json()["detail"]
    assert api.get("/api/v1/forecasts", params={"horizon": "3y"}).status_code == 422


def test_forecast_matches_cli(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    cli = _cli_json(cli_main, web_ws, "forecast", "--scope", "team=checkout", "--horizon", "2m")
    body = api.get("/api/v1/forecasts", params={"scope": "team:checkout", "horizon": "2m"})
    data = body.json()
    assert (data["model"], data["as_of"], data["horizon_end"]) == (
        cli["model"],
        cli["as_of"],
        cli["horizon_end"],
    )
    assert data["months"] == cli["months"]
    assert data["daily"] == cli["daily"]


def test_unit_economics_matches_cli(api: TestClient, cli_main: Any, web_ws: Workspace) -> None:
    done = cli_main(
        "report",
        "unit-cost",
        "--metric",
        "orders",
        "--by",
        "product",
        "--format",
        "json",
        "-w",
        web_ws.root,
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    body = api.get("/api/v1/unit-economics", params={"metric": "orders", "by": "product"}).json()
    assert body["summary"] == (cli["summary"] or {}).get("sentence")
    assert len(body["rows"]) == len(cli["rows"]) > 0
    for mine, theirs in zip(body["rows"], cli["rows"], strict=True):
        assert mine["group"] == theirs["product"]
        assert (mine["cost"], mine["volume"], mine["unit_cost"]) == (
            theirs["cost"],
            theirs["volume"],
            theirs["unit_cost"],
        )
    unknown = api.get("/api/v1/unit-economics", params={"metric": "orders", "by": "colour"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
