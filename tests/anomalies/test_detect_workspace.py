"""``detect`` on a small hand-built workspace: exact money, one event per incident."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from costloop.analytics.anomalies import Detection, detect, summary
from costloop.core.anomalies import Anomaly
from costloop.testing import charge
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

LAMBDA_SCOPE = {"ProviderName": "AWS", "ServiceName": "AWS Lambda", "team": "checkout"}
S3_SCOPE = {
    "ProviderName": "AWS",
    "SubAccountId": "222222222222",
    "ServiceName": "Amazon Simple Storage Service",
}


def run(ws: Workspace, **kwargs: object) -> Detection:
    with open_engine(ws.lake) as engine:
        return detect(ws, engine, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def detection(small_estate) -> Detection:
    return run(small_estate.ws)


def by_scope(detection: Detection, scope: dict[str, str]) -> Anomaly:
    (found,) = [a for a in detection.anomalies if a.scope == scope]
    return found


def test_two_overlapping_incidents_are_two_events_at_their_own_scopes(detection) -> None:
    # Not repeated at the parents (AWS, account, team, overall): each incident once, at
    # the smallest scope holding it. Both overlap in time but are different incidents.
    assert [a.scope for a in detection.anomalies] == [LAMBDA_SCOPE, S3_SCOPE]
    assert detection.days == 69
    assert (detection.first_day, detection.last_day) == (date(2026, 1, 1), date(2026, 3, 10))
    assert detection.currency == "USD"
    assert detection.series_count > 10


def test_the_lambda_spike_has_exact_money_and_its_dates(detection, small_estate) -> None:
    a = by_scope(detection, LAMBDA_SCOPE)
    assert (a.start, a.end, a.kind, a.currency) == (
        date(2026, 2, 20),
        date(2026, 2, 22),
        "spike",
        "USD",
    )
    exact = small_estate.cost(a.start, a.end, ServiceName="AWS Lambda", Tags='{"team": "checkout"}')
    assert a.actual_cost == exact  # the exact sum of the charges, not a float
    assert a.actual_cost.quantize(Decimal("0.01")) == Decimal("952.51")
    assert a.expected_cost == a.expected_cost.quantize(Decimal("0.01"))
    assert Decimal("50") < a.expected_cost < Decimal("70")  # ~$20/day, a weekend in it
    assert a.impact == a.actual_cost - a.expected_cost
    assert a.impact_pct == (a.impact / a.expected_cost * 100).quantize(Decimal("0.01"))
    assert Decimal("295") < a.max_daily_impact < Decimal("306")
    assert a.score > 3.5
    assert a.team == "checkout"


def test_root_cause_names_the_resource_and_the_usage_type(detection) -> None:
    a = by_scope(detection, LAMBDA_SCOPE)
    top = {c.dimension: c for c in reversed(a.root_cause)}
    resource = top["ResourceId"]
    assert resource.value == "arn:aws:lambda:us-east-1:111111111111:function:checkout-api"
    assert Decimal("0.98") <= resource.share <= Decimal("1.02")
    assert top["SkuId"].value == "Lambda-Requests"
    assert top["SubAccountId"].value == "111111111111"
    assert [c.impact for c in a.root_cause] == sorted(
        (c.impact for c in a.root_cause), reverse=True
    )
    text = summary(a)
    assert text.startswith("+$300.")
    assert "from AWS Lambda in 111111111111" in text
    assert "checkout-api" in text


def test_the_s3_incident_is_owned_by_the_bucket_team(detection, small_estate) -> None:
    a = by_scope(detection, S3_SCOPE)
    assert (a.start, a.end) == (date(2026, 2, 21), date(2026, 2, 23))
    assert a.actual_cost == small_estate.cost(
        a.start, a.end, SubAccountId="222222222222", ServiceName="Amazon Simple Storage Service"
    )
    assert a.team == "catalog"


def test_series_shows_the_days_around_the_window(detection) -> None:
    a = by_scope(detection, LAMBDA_SCOPE)
    days = [p.day for p in a.series]
    assert days[0] == a.start - timedelta(days=14)
    assert days[-1] == a.end + timedelta(days=7)
    assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
    window = [p for p in a.series if a.start <= p.day <= a.end]
    assert sum(p.actual for p in window) == a.actual_cost
    assert sum(p.expected for p in window) == a.expected_cost
    assert all(p.actual > p.upper for p in window)
    assert all(p.lower <= p.actual <= p.upper for p in a.series if p.day < a.start)


def test_month_start_tax_credit_and_purchase_raise_nothing(detection) -> None:
    # Each month opens with $900 tax, a $250 credit, a $5,000 purchase and a $700 support
    # fee for the month: no event then.
    assert all(a.start.day != 1 for a in detection.anomalies)


def test_since_keeps_events_ending_on_or_after_the_day(small_estate) -> None:
    assert [a.scope for a in run(small_estate.ws, since=date(2026, 2, 23)).anomalies] == [S3_SCOPE]
    assert run(small_estate.ws, since=date(2026, 2, 24)).anomalies == []


def test_thresholds_come_from_the_workspace_settings(small_estate, monkeypatch) -> None:
    # With a $1,000 gate neither incident (about $900 and $600) is reported alone; together
    # they pass it at a scope holding both, whose root cause names both services.
    monkeypatch.setenv("COSTLOOP_ANOMALIES_MIN_IMPACT", "1000")
    result = run(Workspace.open(small_estate.ws.root))
    assert result.thresholds.min_impact == Decimal("1000")
    (both,) = result.anomalies
    assert both.impact >= Decimal("1000")
    services = [c.value for c in both.root_cause if c.dimension == "ServiceName"]
    assert services == ["AWS Lambda", "Amazon Simple Storage Service"]
    monkeypatch.setenv("COSTLOOP_ANOMALIES_MIN_IMPACT", "2000")
    assert run(Workspace.open(small_estate.ws.root)).anomalies == []


def test_progress_reaches_its_total(small_estate) -> None:
    calls: list[tuple[int, int]] = []
    run(small_estate.ws, progress=lambda done, total: calls.append((done, total)))
    fractions = [done / total for done, total in calls]
    assert fractions[0] == 0
    assert fractions[-1] == 1
    assert fractions == sorted(fractions)  # a bar never goes back
    assert len(calls) >= 5  # reading, scoring, and each of the two events


def test_an_empty_workspace_has_nothing_to_detect(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    result = run(ws)
    assert (result.anomalies, result.series_count, result.first_day) == ([], 0, None)


def test_unallocated_cost_has_no_team(make_estate) -> None:
    rows = []
    for offset in range(40):
        day = datetime(2026, 1, 1) + timedelta(days=offset)
        extra = Decimal("400") if offset in (30, 31) else Decimal(0)
        rows.append(charge(day, Decimal("50.25") + extra, resource_id="i-untagged"))
        rows.append(charge(day, "80.10", resource_id="i-tagged", tags={"team": "checkout"}))
    estate = make_estate(rows)
    (found,) = run(estate.ws).anomalies
    assert (found.start, found.end) == (date(2026, 1, 31), date(2026, 2, 1))
    assert found.scope == {
        "team": "unallocated",
        "ProviderName": "AWS",
        "ServiceName": "Amazon Elastic Compute Cloud",
    }
    assert found.team is None
    assert found.actual_cost == Decimal("900.50")
