"""API mutations: role and team-scope checks, audit actor, 400 / 403 / 404 / 409 shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from costloop.analytics.anomaly_store import get as get_anomaly
from costloop.analytics.anomaly_store import list_anomalies, record
from costloop.opportunities.store import events, get, list_opportunities
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

ApiFor = Callable[..., TestClient]
PROBLEM = "application/problem+json"


def ensure_anomalies(ws: Workspace) -> None:
    """Record the demo estate's anomalies when the workspace has none yet."""
    from costloop.analytics.anomalies import detect

    if list_anomalies(ws.state):
        return
    with open_engine(ws.lake) as engine:
        found = detect(ws, engine)
    record(ws.state, ws.org, found.anomalies, actor="test")


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_anomaly_actions_respect_team_scope(
    api_client_for: ApiFor, client_for: Callable[..., Any], fresh_web_ws: Workspace
) -> None:
    ws = fresh_web_ws
    ensure_anomalies(ws)
    mine = next(a for a in list_anomalies(ws.state, status="new") if a.owner_team == "checkout")
    url = f"/api/v1/anomalies/{mine.id}"

    viewer = api_client_for("viewer", ws)
    body = _problem(viewer.post(f"{url}/ack", json={"note": "seen"}), 403)
    assert body["detail"] == "viewers cannot change anomalies"
    body = _problem(api_client_for("owner-catalog", ws).post(f"{url}/ack", json={}), 403)
    assert "belongs to team 'checkout'" in body["detail"]
    _problem(api_client_for("approver", ws).post(f"{url}/comment", json={"note": "x"}), 403)

    owner = api_client_for("owner-checkout", ws)
    acked = owner.post(f"{url}/ack", json={"note": "looking into it"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["history"][-1]["actor"] == "owner-checkout"
    assert get_anomaly(ws.state, mine.id).status == "acknowledged"

    body = _problem(owner.post(f"{url}/ack", json={}), 409)
    assert "acknowledged" in body["detail"]
    _problem(owner.post(f"{url}/resolve", json={"note": "  "}), 400)
    _problem(owner.post(f"{url}/resolve", json={"note": 5}), 422)

    commented = owner.post(f"{url}/comment", json={"note": "the batch job doubled"})
    assert commented.json()["comments"][-1]["note"] == "the batch job doubled"
    resolved = owner.post(f"{url}/resolve", json={"note": "expected", "false_positive": True})
    assert resolved.json()["status"] == "false-positive"
    assert resolved.json()["history"][-1]["actor"] == "owner-checkout"

    _problem(owner.post("/api/v1/anomalies/999999/ack", json={}), 404)

    # A browser session needs the CSRF header on a mutation.
    browser = client_for("admin", ws)
    other = next(a for a in list_anomalies(ws.state, status="new"))
    _problem(browser.post(f"/api/v1/anomalies/{other.id}/ack", headers={"X-CSRF-Token": ""}), 403)
    assert browser.post(f"/api/v1/anomalies/{other.id}/ack").status_code == 200
    assert get_anomaly(ws.state, other.id).status == "acknowledged"


def test_opportunity_actions_need_approver_or_team_owner(
    api_client_for: ApiFor, fresh_web_ws: Workspace
) -> None:
    ws = fresh_web_ws
    opps = list_opportunities(ws.state, "open")
    target = next(o for o in opps if o.owner_team == "checkout")
    url = f"/api/v1/opportunities/{target.id}"

    _problem(api_client_for("viewer", ws).post(f"{url}/approve", json={}), 403)
    body = _problem(api_client_for("owner-checkout", ws).post(f"{url}/approve", json={}), 403)
    assert "approvers" in body["detail"]
    _problem(api_client_for("owner-catalog", ws).post(f"{url}/snooze", json={}), 403)
    assert get(ws.state, target.id).status.value == "open"

    owner = api_client_for("owner-checkout", ws)
    snoozed = owner.post(f"{url}/snooze", json={"comment": "after the sale"})
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"

    approver = api_client_for("approver", ws)
    approved = approver.post(f"{url}/approve", json={"comment": "go ahead"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    last = events(ws.state, target.id)[-1]
    assert (last.actor, last.note, last.to_status) == ("approver", "go ahead", "approved")

    body = _problem(approver.post(f"{url}/done", json={}), 409)
    assert "approved" in body["detail"]
    _problem(approver.post("/api/v1/opportunities/999999/reject", json={}), 404)

    other = next(o for o in opps if o.owner_team != "checkout")
    admin = api_client_for("admin", ws)
    rejected = admin.post(f"/api/v1/opportunities/{other.id}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
