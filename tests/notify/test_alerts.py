"""Alerts from anomalies and budgets: keys, tiers, what / how much / since / why / who."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tests.notify.conftest import add_anomaly

from costloop.core.budgets import (
    Budget,
    BudgetForecast,
    BudgetPeriod,
    BudgetStatus,
    ThresholdHit,
)
from costloop.core.org import Org, Team
from costloop.notify.alert import (
    alerts_from_anomalies,
    alerts_from_budgets,
    anomaly_tier,
    root_cause_text,
)
from costloop.notify.render import email_message, slack_payload, subject_line
from costloop.notify.sources import anomaly_alerts
from costloop.workspace import Workspace


def test_tiers_rise_each_time_the_impact_doubles() -> None:
    base = Decimal(100)
    got = [anomaly_tier(Decimal(v), base) for v in ("0", "150", "199.99", "200", "399", "400")]
    assert got == [0, 0, 0, 1, 1, 2]
    assert anomaly_tier(Decimal("5"), Decimal(0)) == 2  # base 0 counts from 1


def test_only_new_and_acknowledged_anomalies_alert_largest_first(ws: Workspace) -> None:
    small = add_anomaly(ws, impact="150", status="acknowledged")
    big = add_anomaly(ws, impact="3200", scope={})
    add_anomaly(ws, status="resolved")
    add_anomaly(ws, status="false-positive")
    alerts = anomaly_alerts(ws)
    assert [a.subject_id for a in alerts] == [str(big), str(small)]
    first = alerts[0]
    assert first.key == f"anomaly:{big}:5"  # 3200 = 100 × 2⁵
    assert first.severity == "critical" and alerts[1].severity == "warning"
    assert first.title == "Cost spike in all costs (+1067%)"
    assert first.amount == Decimal("3200.0000") and first.amount_text == "$3,200.00"
    assert first.since == date(2026, 11, 17)
    assert first.link == ""  # no server.url
    assert first.fields["Window"] == "2026-11-17 to 2026-11-19 (3 days)"


def test_anomaly_rows_become_alerts_with_link_and_root_cause(ws: Workspace) -> None:
    anomaly = add_anomaly(ws, impact="420")
    from sqlalchemy import select

    from costloop.state.models import AnomalyRow

    with ws.state.session() as s:
        rows = list(s.scalars(select(AnomalyRow)))
    (alert,) = alerts_from_anomalies(rows, server_url="https://cost.example/", base=Decimal(50))
    assert alert.key == f"anomaly:{anomaly}:3"
    assert alert.link == f"https://cost.example/anomalies/{anomaly}"
    assert alert.root_cause == "ResourceId fn-resize +$386.40 (92%)"
    assert (alert.team, alert.owner) == ("checkout", "checkout@shop.example")


def test_root_cause_names_one_contributor_per_dimension_the_scope_does_not_name() -> None:
    causes = [
        {"dimension": "ServiceName", "value": "AWS Lambda", "impact": "642.07", "share": "1.001"},
        {"dimension": "RegionId", "value": "us-east-1", "impact": "642.07", "share": "1.001"},
        {"dimension": "RegionId", "value": "eu-west-1", "impact": "1.00", "share": "0.002"},
        {"dimension": "SkuId", "value": "UJ7D", "impact": "-12.5", "share": "-0.02"},
        {"dimension": "ResourceId", "value": "fn:thumbs", "impact": "641.88", "share": "1"},
    ]
    text = root_cause_text(causes, "EUR", {"ServiceName": "AWS Lambda"})
    assert text == "RegionId us-east-1 +642.07 EUR (100%); SkuId UJ7D -12.50 EUR (-2%); " + (
        "ResourceId fn:thumbs +641.88 EUR (100%)"
    )
    assert root_cause_text(causes, "USD", top=1) == "ServiceName AWS Lambda +$642.07 (100%)"


def _status(hits: tuple[ThresholdHit, ...], forecast: str | None = "9900") -> BudgetStatus:
    budget = Budget(
        name="checkout-monthly",
        amount=Decimal("9000"),
        scope={"team": "checkout"},
        thresholds=(Decimal(50), Decimal(80), Decimal(100)),
    )
    return BudgetStatus(
        budget=budget,
        period=BudgetPeriod(date(2026, 11, 1), date(2026, 12, 1), "month"),
        as_of=date(2026, 11, 24),
        actual=Decimal("7380.25"),
        forecast=None
        if forecast is None
        else BudgetForecast(Decimal(forecast), Decimal(9500), Decimal(10300), "AutoETS"),
        forecast_note=None,
        hits=hits,
        status="at-risk",
        run_rate=Decimal("307.51"),
        runs_out_on=date(2026, 11, 29),
    )


def _hit(pct: int, basis: str, day: date | None = None) -> ThresholdHit:
    return ThresholdHit(Decimal(pct), basis, day, Decimal(90 * pct))


def test_budgets_alert_on_the_highest_threshold_reached_and_the_forecast_one() -> None:
    status = _status(
        (
            _hit(50, "actual", date(2026, 11, 14)),
            _hit(80, "actual", date(2026, 11, 23)),
            _hit(100, "forecast", date(2026, 11, 29)),
        )
    )
    org = Org(teams=(Team("checkout", owner="ana@shop.example"),))
    actual, forecast = alerts_from_budgets([status], org=org, server_url="https://c.example")
    assert actual.key == "budget:checkout-monthly:2026-11:actual:80"
    assert actual.title == "Budget checkout-monthly reached 80%"
    assert (actual.amount, actual.since, actual.severity) == (
        Decimal("7380.25"),
        date(2026, 11, 1),
        "warning",
    )
    assert (actual.team, actual.owner) == ("checkout", "ana@shop.example")
    assert actual.root_cause == "spending $307.51/day as of 2026-11-24; runs out on 2026-11-29"
    assert actual.fields["Spent"] == "$7,380.25 (82.0%)"
    assert actual.fields["Reached on"] == "2026-11-23"
    assert actual.link == "https://c.example/budgets/checkout-monthly"
    assert forecast.key == "budget:checkout-monthly:2026-11:forecast:100"
    assert forecast.title == "Budget checkout-monthly is forecast to reach 100%"
    assert forecast.amount == Decimal("9900") and forecast.severity == "critical"
    assert forecast.fields["Expected on"] == "2026-11-29"


def test_a_budget_below_every_threshold_does_not_alert() -> None:
    assert alerts_from_budgets([_status((), forecast=None)]) == []


def test_a_digest_names_the_count_and_the_total_and_slack_caps_the_blocks() -> None:
    statuses = [_status((_hit(50, "actual"),))] * 45
    alerts = alerts_from_budgets(statuses)
    assert subject_line(alerts[:2]) == "[costloop] 2 cost alerts: 2 budget thresholds"
    payload = slack_payload(alerts)
    assert payload["blocks"][0]["type"] == "header"
    assert len(payload["blocks"]) == 1 + 24 + 23 + 1 <= 50  # header, alerts, dividers, more
    assert payload["blocks"][-1]["elements"][0]["text"] == "…and 21 more alerts"
    msg = email_message(alerts[:1], "a@b.example", ["c@d.example"], datetime.now(UTC))
    assert msg["Subject"] == "[costloop] Budget checkout-monthly reached 50%: $7,380.25"
