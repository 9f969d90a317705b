"""Budget evaluation on a real warehouse: exact sums per scope, periods, forecasts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from budget_helpers import (
    CHECKOUT_DAILY,
    EUR_DAILY,
    LAST_DAY,
    PLATFORM_DAILY,
    S3_SPIKE,
    build_workspace,
    flat_forecaster,
)

from costloop.analytics.budgets import Forecaster, evaluate
from costloop.core.budgets import Budget, BudgetStatus, parse_budgets
from costloop.core.errors import InputError
from costloop.testing import charge
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

MARCH_END = date(2026, 3, 31)


def _run(
    ws: Workspace,
    budgets: list[Budget],
    as_of: date | None = None,
    forecaster: Forecaster | None = None,
) -> list[BudgetStatus]:
    with open_engine(ws.lake) as engine:
        return evaluate(engine, budgets, as_of=as_of, forecaster=forecaster)


def test_actual_per_scope_and_currency_to_the_cent(budget_ws: Workspace) -> None:
    budgets = [
        Budget("checkout", Decimal(2000), scope={"team": "checkout"}),
        Budget("platform", Decimal(2000), scope={"team": "platform"}),
        Budget("s3", Decimal(2000), scope={"ServiceName": "Amazon Simple Storage Service"}),
        Budget("all-usd", Decimal(2000)),
        Budget("all-eur", Decimal(2000), currency="EUR"),
        Budget("nobody", Decimal(2000), scope={"team": "search"}),
    ]
    got = {s.name: s for s in _run(budget_ws, budgets, as_of=MARCH_END)}
    assert got["checkout"].actual == 31 * CHECKOUT_DAILY == Decimal("1243.827160459")
    assert got["platform"].actual == 31 * PLATFORM_DAILY + S3_SPIKE == Decimal("1290.50")
    assert got["s3"].actual == S3_SPIKE
    assert got["all-usd"].actual == Decimal("2534.327160459")
    assert got["all-eur"].actual == 5 * EUR_DAILY == Decimal("38.85")
    assert got["nobody"].actual == 0
    # The month is over: the forecast is the actual total and there is nothing to run out.
    assert all(s.period.label == "2026-03" and s.as_of == MARCH_END for s in got.values())
    checkout = got["checkout"]
    assert checkout.forecast is not None and checkout.forecast.mean == checkout.actual
    assert checkout.status == "ok" and checkout.runs_out_on is None
    assert got["all-usd"].status == "breached"
    # 65.623456789 a day plus 500.00 on the 20th: 1,943.72 on the 22nd, 2,009.34 on the 23rd.
    assert got["all-usd"].runs_out_on == date(2026, 3, 23)


def test_quarter_and_year_boundaries_and_previous_periods(budget_ws: Workspace) -> None:
    scope = {"team": "checkout"}
    budgets = [
        Budget("q", Decimal(3000), scope=scope, period="quarter"),
        Budget("y", Decimal(3000), scope=scope, period="year"),
        Budget("fy", Decimal(9000), scope=scope, period="year", start=date(2025, 12, 1)),
        Budget("m", Decimal(1000), scope=scope),
    ]
    q, y, fy, m = _run(budget_ws, budgets, forecaster=flat_forecaster(Decimal(1)))
    assert q.as_of == LAST_DAY == date(2026, 4, 10)
    assert (q.period.label, q.actual) == ("2026-Q2", 10 * CHECKOUT_DAILY)
    # Q1 is the only earlier quarter with full data (the data starts 2025-12-01).
    assert [(p.period.label, p.actual, p.breached) for p in q.previous] == [
        ("2026-Q1", 90 * CHECKOUT_DAILY, True)
    ]
    assert (y.period.label, y.actual) == ("2026", 100 * CHECKOUT_DAILY)
    assert y.previous == ()
    assert (fy.period.label, fy.actual) == ("2025-12..2026-11", 131 * CHECKOUT_DAILY)
    assert [(p.period.label, p.actual) for p in m.previous] == [
        ("2026-03", 31 * CHECKOUT_DAILY),
        ("2026-02", 28 * CHECKOUT_DAILY),
        ("2026-01", 31 * CHECKOUT_DAILY),
    ]
    # Forecast: actual plus 1.00 per remaining day of each period.
    assert q.forecast is not None and q.forecast.mean == q.actual + 81
    assert m.forecast is not None and m.forecast.mean == m.actual + 20
    assert m.forecast.lo80 == m.actual + 18 and m.forecast.hi80 == m.actual + 22
    assert y.forecast is not None and y.forecast.mean == y.actual + 265


def test_breach_threshold_days_and_at_risk(budget_ws: Workspace) -> None:
    budgets = parse_budgets(
        """
budgets:
  - name: platform-march
    scope: {team: platform}
    amount: "1000"
    thresholds: [50, 100]
  - name: checkout-april
    scope: {team: checkout}
    amount: "1200"
    thresholds: [25, 80, 100]
""",
        "b.yaml",
    )
    march = _run(budget_ws, [budgets[0]], as_of=MARCH_END)[0]
    # 25.50 a day is 484.50 by the 19th; the 500.00 spike on the 20th passes 500 and 1,000.
    assert [(h.threshold, h.basis, h.crossed_on) for h in march.hits] == [
        (Decimal(50), "actual", date(2026, 3, 20)),
        (Decimal(100), "actual", date(2026, 3, 20)),
    ]
    assert march.status == "breached" and march.runs_out_on == date(2026, 3, 20)
    april = _run(budget_ws, [budgets[1]], forecaster=flat_forecaster(CHECKOUT_DAILY))[0]
    # 10 days spent (401.23), 20 more forecast: 1,203.70 ≥ 1,200 → at risk.
    assert april.actual == Decimal("401.23456789")
    assert april.forecast is not None and april.forecast.mean == 30 * CHECKOUT_DAILY
    assert april.status == "at-risk"
    assert [(h.threshold, h.basis, h.crossed_on) for h in april.hits] == [
        (Decimal(25), "actual", date(2026, 4, 8)),
        (Decimal(80), "forecast", date(2026, 4, 24)),
        (Decimal(100), "forecast", date(2026, 4, 30)),
    ]
    assert april.run_rate == Decimal("40.12")
    assert april.runs_out_on == date(2026, 4, 30)  # 798.77 / 40.12 = 19.9 → 20 days


def test_unknown_scope_column_names_file_and_line(budget_ws: Workspace) -> None:
    budgets = parse_budgets(
        "budgets:\n  - name: a\n    amount: 5\n  - name: b\n    amount: 5\n"
        "    scope:\n      tem: checkout\n",
        "/ws/budgets.yaml",
    )
    with pytest.raises(InputError) as caught:
        _run(budget_ws, list(budgets))
    err = caught.value
    assert (err.file, err.row) == ("/ws/budgets.yaml", 6)
    assert "budget 'b': scope.tem: unknown column 'tem'" in err.detail
    assert "team" in err.detail and "ServiceName" in err.detail


def test_before_the_start_the_first_period_has_nothing_spent(budget_ws: Workspace) -> None:
    later = Budget("later", Decimal(500), scope={"team": "checkout"}, start=date(2026, 6, 1))
    (status,) = _run(budget_ws, [later], forecaster=flat_forecaster(Decimal(2)))
    assert status.period.label == "2026-06" and status.actual == 0
    assert status.previous == ()
    assert status.forecast is not None and status.forecast.mean == 60  # 30 June days × 2
    # At the current 40.12 a day from June 1st: 500 / 40.12 = 12.5 → the 13th day.
    assert status.runs_out_on == date(2026, 6, 13)


def test_forecast_with_the_statistical_models(budget_ws: Workspace) -> None:
    budget = Budget("checkout", Decimal(1300), scope={"team": "checkout"})
    (status,) = _run(budget_ws, [budget])
    fc = status.forecast
    assert fc is not None and fc.model and fc.fallback is None
    # A flat series: the month total is close to 30 days of the daily cost.
    assert abs(fc.mean - 30 * CHECKOUT_DAILY) < 5
    assert fc.lo80 <= fc.mean <= fc.hi80
    assert fc.lo80 >= status.actual
    assert len(fc.daily) == 20 and fc.daily[0][0] == date(2026, 4, 11)


def test_short_history_says_there_is_no_forecast(tmp_path: Path) -> None:
    rows = [charge(datetime(2026, 4, d), "10.00") for d in (1, 2, 3)]
    ws = build_workspace(tmp_path / "ws", rows)
    (status,) = _run(ws, [Budget("all", Decimal(100))])
    assert status.actual == Decimal("30.00") and status.forecast is None
    assert status.forecast_note is not None and status.forecast_note.startswith("no forecast:")
    assert status.status == "ok" and status.runs_out_on == date(2026, 4, 10)


def test_no_allocated_charges(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    with pytest.raises(InputError, match="no allocated charges"):
        _run(ws, [Budget("all", Decimal(100))])
    assert _run(ws, []) == []


def test_as_of_after_the_data_is_refused(budget_ws: Workspace) -> None:
    with pytest.raises(
        InputError, match=r"2026-04-11 is after the last day with data \(2026-04-10\)"
    ):
        _run(budget_ws, [Budget("all", Decimal(100))], as_of=date(2026, 4, 11))
