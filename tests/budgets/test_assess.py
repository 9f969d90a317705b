"""Budget arithmetic on hand-built daily series: thresholds, run-out date, status."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from costloop.analytics.budgets import assess
from costloop.core.budgets import Budget, BudgetForecast, ThresholdHit

APRIL = date(2026, 4, 1)
BUDGET = Budget("b", Decimal("200.00"), thresholds=(Decimal(50), Decimal(80), Decimal(100)))
PERIOD = BUDGET.period_of(APRIL)


def _series(first: date, costs: list[str]) -> dict[date, Decimal]:
    return {first + timedelta(days=i): Decimal(c) for i, c in enumerate(costs)}


def _april(day: int) -> date:
    return date(2026, 4, day)


def test_threshold_days_and_breach_day() -> None:
    daily = _series(APRIL, ["10.00"] * 25)  # 10/day: 100 on the 10th, 160 on the 16th
    status = assess(BUDGET, PERIOD, _april(25), daily, first_data=APRIL)
    assert status.actual == Decimal("250.00")
    assert status.used_pct == Decimal(125)
    assert status.hits == (
        ThresholdHit(Decimal(50), "actual", _april(10), Decimal("100.00")),
        ThresholdHit(Decimal(80), "actual", _april(16), Decimal("160.00")),
        ThresholdHit(Decimal(100), "actual", _april(20), Decimal("200.00")),
    )
    assert status.status == "breached"
    assert status.runs_out_on == _april(20)  # the day it actually ran out
    assert status.run_rate == Decimal("10.00")


def test_a_credit_moves_the_crossing_day() -> None:
    # 100 reached on the 10th, a 30.00 credit on the 11th takes it back under.
    costs = ["10.00"] * 10 + ["-30.00"] + ["10.00"] * 4
    status = assess(BUDGET, PERIOD, _april(15), _series(APRIL, costs), first_data=APRIL)
    assert status.actual == Decimal("110.00")
    assert [(h.threshold, h.crossed_on) for h in status.hits] == [(Decimal(50), _april(14))]


def test_run_out_at_the_rate_of_the_last_seven_days() -> None:
    # March spends 1/day; April spends 7/day for 10 days: actual 70, rate 7 (last 7 days).
    daily = _series(date(2026, 3, 1), ["1.00"] * 31) | _series(APRIL, ["7.00"] * 10)
    status = assess(BUDGET, PERIOD, _april(10), daily, first_data=date(2026, 3, 1))
    assert status.run_rate == Decimal("7.00")
    # 130 left at 7/day: 18.57 days → the 19th day after the 10th.
    assert status.runs_out_on == _april(29)
    assert status.status == "ok"


def test_rate_window_mixes_periods_and_ignores_days_before_the_data() -> None:
    # Data starts on March 30: the window is Mar 30 .. Apr 2 (4 days), not 7.
    daily = _series(date(2026, 3, 30), ["40.00", "40.00", "1.00", "3.00"])
    status = assess(BUDGET, PERIOD, _april(2), daily, first_data=date(2026, 3, 30))
    assert status.actual == Decimal("4.00")
    assert status.run_rate == Decimal("21.00")  # 84 / 4
    assert status.runs_out_on == _april(12)  # 196 / 21 = 9.33 → 10 days later


def test_no_run_out_within_the_period_or_without_spend() -> None:
    slow = assess(BUDGET, PERIOD, _april(10), _series(APRIL, ["1.00"] * 10), first_data=APRIL)
    assert slow.runs_out_on is None and slow.run_rate == Decimal("1.00")
    # Reaching the amount on the period's last day still counts: 29 more days at 1/day.
    exact = Budget("b", Decimal("30.00"))
    on_last = assess(exact, PERIOD, _april(1), {APRIL: Decimal("1.00")}, first_data=APRIL)
    assert on_last.runs_out_on == _april(30)
    idle = assess(BUDGET, PERIOD, _april(10), {}, first_data=APRIL)
    assert (idle.actual, idle.run_rate, idle.runs_out_on) == (Decimal(0), Decimal(0), None)


def _forecast(total: str, days: dict[date, Decimal] | None = None) -> BudgetForecast:
    t = Decimal(total)
    return BudgetForecast(t, t - 10, t + 10, "flat", daily=tuple(sorted((days or {}).items())))


def test_status_ok_at_risk_breached() -> None:
    daily = _series(APRIL, ["10.00"] * 15)  # 150 spent
    ok = assess(BUDGET, PERIOD, _april(15), daily, first_data=APRIL, forecast=_forecast("199.99"))
    assert ok.status == "ok"
    at_risk = assess(
        BUDGET, PERIOD, _april(15), daily, first_data=APRIL, forecast=_forecast("200.00")
    )
    assert at_risk.status == "at-risk" and at_risk.forecast_pct == Decimal(100)
    no_forecast = assess(BUDGET, PERIOD, _april(15), daily, first_data=APRIL)
    assert no_forecast.status == "ok" and no_forecast.forecast_pct is None
    exactly = assess(BUDGET, PERIOD, _april(20), _series(APRIL, ["10.00"] * 20), first_data=APRIL)
    assert exactly.status == "breached"  # actual == amount


def test_forecast_hits_carry_the_projected_day() -> None:
    daily = _series(APRIL, ["10.00"] * 12)  # 120 spent by the 12th: 50 % reached on the 10th
    rest = {_april(d): Decimal("5.00") for d in range(13, 31)}  # 18 days × 5 = 90 more
    status = assess(
        BUDGET,
        PERIOD,
        _april(12),
        daily,
        first_data=APRIL,
        forecast=_forecast("210.00", rest),
    )
    assert status.status == "at-risk"
    assert status.hits == (
        ThresholdHit(Decimal(50), "actual", _april(10), Decimal("100.00")),
        ThresholdHit(Decimal(80), "forecast", _april(20), Decimal("160.00")),
        ThresholdHit(Decimal(100), "forecast", _april(28), Decimal("200.00")),
    )


def test_period_not_started_yet() -> None:
    budget = Budget("b", Decimal("200.00"), start=date(2026, 5, 1))
    may = budget.period_of(date(2026, 5, 1))
    status = assess(budget, may, _april(20), _series(APRIL, ["10.00"] * 20), first_data=APRIL)
    assert status.actual == Decimal(0) and status.hits == ()
    # At 10/day from May 1st, 200 is reached on May 20th.
    assert status.runs_out_on == date(2026, 5, 20)
