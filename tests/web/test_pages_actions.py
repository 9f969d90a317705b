"""The pages' forms: acknowledge / resolve / comment anomalies, review opportunities."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from costloop.analytics import anomaly_store
from costloop.core.anomalies import Anomaly, DayPoint, RootCause
from costloop.core.money import format_money
from costloop.opportunities.store import get, list_opportunities
from costloop.opportunities.workflow import Status
from costloop.workspace import Workspace


def _anomaly(team: str, service: str) -> Anomaly:
    start = date(2026, 11, 20)
    days = [start + timedelta(days=i) for i in range(-3, 3)]
    series = tuple(
        DayPoint(
            d,
            Decimal("90") if d >= start else Decimal("30"),
            Decimal("30"),
            Decimal("25"),
            Decimal("35"),
        )
        for d in days
    )
    return Anomaly(
        scope={"team": team, "ServiceName": service},
        start=start,
        end=start + timedelta(days=2),
        kind="spike",
        currency="USD",
        expected_cost=Decimal("90"),
        actual_cost=Decimal("270"),
        impact=Decimal("180"),
        impact_pct=Decimal("200"),
        max_daily_impact=Decimal("60"),
        score=7.5,
        root_cause=(RootCause("ServiceName", service, Decimal("180"), Decimal("1")),),
        team=team,
        series=series,
    )


def _status(html: str, ident: str) -> str:
    found = re.search(rf'id="{ident}">([^<]+)<', html)
    assert found, f"no element {ident}"
    return found.group(1)


def test_anomaly_actions_follow_role_and_team(
    fresh_web_ws: Workspace, client_for: Any, cli_main: Any
) -> None:
    ws = fresh_web_ws
    views = anomaly_store.record(
        ws.state, ws.org, [_anomaly("checkout", "AWS Lambda"), _anomaly("catalog", "Amazon S3")]
    ).anomalies
    mine, theirs = views[0].id, views[1].id
    owner = client_for("owner-checkout", ws)
    viewer = client_for("viewer", ws)
    other = client_for("owner-catalog", ws)

    page = owner.get(f"/anomalies/{mine}")
    assert page.status_code == 200
    assert f'action="/anomalies/{mine}/ack"' in page.text
    assert "actual vs expected daily cost" in page.text
    assert "band-chart" in page.text and "<td>AWS Lambda</td>" in page.text
    # A viewer and another team's owner see no buttons, and their POSTs are refused.
    for client in (viewer, other):
        seen = client.get(f"/anomalies/{mine}")
        assert seen.status_code == 200 and "/ack" not in seen.text
        refused = client.post(f"/anomalies/{mine}/ack", data={"csrf_token": client.csrf})
        assert refused.status_code == 403
    # The form needs the session's CSRF token.
    assert owner.post(f"/anomalies/{mine}/ack", data={"note": "x"}).status_code == 403
    assert anomaly_store.get(ws.state, mine).status == "new"

    done = owner.post(
        f"/anomalies/{mine}/ack",
        data={"csrf_token": owner.csrf, "note": "looking"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/anomalies/{mine}"
    after = anomaly_store.get(ws.state, mine)
    assert after.status == "acknowledged"
    assert after.history[-1].actor == "owner-checkout" and after.history[-1].note == "looking"
    assert _status(owner.get(f"/anomalies/{mine}").text, "anomaly-status") == "acknowledged"

    # Resolving needs a note: the page says so, nothing changes.
    empty = owner.post(f"/anomalies/{mine}/resolve", data={"csrf_token": owner.csrf, "note": " "})
    assert empty.status_code == 409 and "needs a note" in empty.text
    owner.post(f"/anomalies/{mine}/comment", data={"csrf_token": owner.csrf, "note": "batch job"})
    owner.post(
        f"/anomalies/{mine}/resolve",
        data={"csrf_token": owner.csrf, "note": "expected load test", "false_positive": "true"},
    )
    final = anomaly_store.get(ws.state, mine)
    assert final.status == "false-positive"
    assert [e.note for e in final.comments][-2:] == ["batch job", "expected load test"]

    # The admin acts on any team; the list filters by team and status.
    admin = client_for("admin", ws)
    assert (
        admin.post(f"/anomalies/{theirs}/ack", data={"csrf_token": admin.csrf}).status_code == 200
    )
    listed = viewer.get("/anomalies?status=all&team=catalog").text
    assert f'href="/anomalies/{theirs}"' in listed and f'href="/anomalies/{mine}"' not in listed
    assert viewer.get("/anomalies?since=yesterday").status_code == 400
    assert viewer.get("/anomalies/99999").status_code == 404

    # The list shows what `costloop anomalies --no-detect --json` prints.
    done = cli_main("anomalies", "--no-detect", "--json", "--workspace", ws.root)
    assert done.returncode == 0, done.stderr
    everything = viewer.get("/anomalies?status=all").text
    for item in json.loads(done.stdout)["anomalies"]:
        row = everything.split(f'href="/anomalies/{item["id"]}"')[1].split("</tr>")[0]
        assert format_money(Decimal(item["impact"]), item["currency"]) in row
        assert f"status-{item['status']}" in row


def test_opportunity_review_by_role(fresh_web_ws: Workspace, client_for: Any) -> None:
    ws = fresh_web_ws
    opps = list_opportunities(ws.state, status=Status.OPEN)
    checkout = next(o for o in opps if o.owner_team == "checkout")
    other = next(o for o in opps if o.owner_team != "checkout")
    approver = client_for("approver", ws)
    owner = client_for("owner-checkout", ws)
    viewer = client_for("viewer", ws)

    page = approver.get(f"/opportunities/{other.id}")
    assert f'formaction="/opportunities/{other.id}/approve"' in page.text
    done = approver.post(
        f"/opportunities/{other.id}/approve",
        data={"csrf_token": approver.csrf, "note": "go ahead"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert get(ws.state, other.id).status is Status.APPROVED
    shown = approver.get(f"/opportunities/{other.id}").text
    assert _status(shown, "opportunity-status") == "approved" and "go ahead" in shown

    # Owners snooze their own team's opportunities but approve nothing.
    own = owner.get(f"/opportunities/{checkout.id}").text
    assert "/snooze" in own and "/approve" not in own
    snoozed = owner.post(
        f"/opportunities/{checkout.id}/snooze", data={"csrf_token": owner.csrf, "note": "Q1"}
    )
    assert snoozed.status_code == 200
    assert get(ws.state, checkout.id).status is Status.SNOOZED
    assert (
        owner.post(
            f"/opportunities/{checkout.id}/approve", data={"csrf_token": owner.csrf}
        ).status_code
        == 403
    )
    assert (
        owner.post(f"/opportunities/{other.id}/snooze", data={"csrf_token": owner.csrf}).status_code
        == 403
    )
    assert (
        viewer.post(
            f"/opportunities/{other.id}/reject", data={"csrf_token": viewer.csrf}
        ).status_code
        == 403
    )
    assert approver.post(f"/opportunities/{checkout.id}/reject", data={}).status_code == 403

    # A transition the workflow forbids is explained, not applied.
    again = approver.post(f"/opportunities/{other.id}/snooze", data={"csrf_token": approver.csrf})
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert get(ws.state, other.id).status is Status.APPROVED
    assert (
        approver.post(
            f"/opportunities/{other.id}/delete", data={"csrf_token": approver.csrf}
        ).status_code
        == 404
    )
