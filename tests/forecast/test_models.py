"""Forecast quality on synthetic series whose truth is known (fixed seeds, no warehouse)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pytest

from costloop.analytics.forecast.lumps import monthly_amounts
from costloop.analytics.forecast.models import CANDIDATES, predict
from costloop.analytics.forecast.result import sum_variance
from costloop.analytics.forecast.scope import forecast_series
from costloop.analytics.forecast.series import DailySeries

START = date(2025, 1, 1)  # a Wednesday
WEEK = np.array([30.0, 30.0, 30.0, 30.0, 20.0, -70.0, -70.0])  # Monday..Sunday


def _truth(n: int, *, slope: float, base: float = 1000.0) -> npt.NDArray[np.float64]:
    day = np.array([(START + timedelta(days=i)).weekday() for i in range(n)])
    return base + slope * np.arange(n) + WEEK[day]


def _series(values: npt.NDArray[np.float64], n: int) -> DailySeries:
    days = [START + timedelta(days=i) for i in range(n)]
    cost = [Decimal(f"{v:.2f}") for v in values[:n]]
    return DailySeries(days, cost, list(cost), {})


def _history_to_month_end(limit: int) -> int:
    """Days of history from START that end on a month's last day, at most ``limit``."""
    n = limit
    while (START + timedelta(days=n)).day != 1:
        n -= 1
    return n


def test_trend_and_weekly_season_are_forecast_closely() -> None:
    n = _history_to_month_end(300)
    truth = _truth(n + 62, slope=0.8)
    noisy = truth + np.random.default_rng(7).normal(0, 10, n + 62)
    f = forecast_series(
        _series(noisy, n),
        {},
        "USD",
        horizon_days=62,
        min_history_days=56,
        backtest=True,
        models=("seasonal-naive", "auto-theta", "auto-ets"),
    )
    assert f.fallback is None and f.model != "seasonal-naive"  # it has a trend to follow
    first = START + timedelta(days=n)
    last = first + timedelta(days=30)
    s = f.total_between(first, last)
    expected = Decimal(f"{truth[n : n + 31].sum():.2f}")
    assert abs(s.mean - expected) / expected < Decimal("0.01")
    assert s.lo95 < s.lo80 < expected < s.hi80 < s.hi95
    for p, t in zip(f.daily[:14], truth[n : n + 14], strict=True):
        assert p.lo95 <= p.lo80 < p.mean < p.hi80 <= p.hi95
        assert abs(float(p.mean) - t) < 40  # the weekday pattern is kept, within the noise
    saturday = next(p for p in f.daily if p.day.weekday() == 5)
    monday = next(p for p in f.daily if p.day.weekday() == 0)
    assert monday.mean - saturday.mean > 80


def test_month_sum_intervals_cover_at_about_the_nominal_rate() -> None:
    """60 simulated estates (level random walk, trend, weekly season, noise)."""
    hits80 = hits95 = 0
    runs = 60
    n = _history_to_month_end(300)
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        walk = np.cumsum(rng.normal(0, 3, n + 31))
        values = _truth(n + 31, slope=0.8) + walk + rng.normal(0, 25, n + 31)
        f = forecast_series(
            _series(values, n),
            {},
            "USD",
            horizon_days=31,
            min_history_days=56,
            backtest=True,
            models=("seasonal-naive",),
        )
        s = f.total_between(START + timedelta(days=n), START + timedelta(days=n + 30))
        actual = Decimal(f"{values[n:].sum():.2f}")
        hits80 += s.lo80 <= actual <= s.hi80
        hits95 += s.lo95 <= actual <= s.hi95
    assert 0.65 <= hits80 / runs <= 0.97
    assert hits95 / runs >= 0.85 and hits95 >= hits80


def test_the_model_that_backtests_better_wins() -> None:
    # A steep trend: last week's values (seasonal naive) always lag a month later.
    n = _history_to_month_end(250)
    steep = _truth(n, slope=4.0) + np.random.default_rng(3).normal(0, 5, n)
    f = forecast_series(
        _series(steep, n),
        {},
        "USD",
        horizon_days=31,
        min_history_days=56,
        backtest=True,
        models=("seasonal-naive", "auto-ets"),
    )
    assert f.backtest is not None
    naive, ets = f.backtest.score("seasonal-naive"), f.backtest.score("auto-ets")
    assert naive is not None and ets is not None
    assert naive.variance is not None and ets.variance is not None
    assert ets.variance * 3 < naive.variance
    assert f.model == f.backtest.winner == "auto-ets"


def test_a_tie_goes_to_the_simpler_model() -> None:
    n = _history_to_month_end(200)
    periodic = _truth(n, slope=0.0)  # exactly weekly: every model forecasts it perfectly
    f = forecast_series(
        _series(periodic, n),
        {},
        "USD",
        horizon_days=31,
        min_history_days=56,
        backtest=True,
        models=("auto-ets", "seasonal-naive"),
    )
    assert f.model == "seasonal-naive"
    assert f.daily[0].mean == Decimal(f"{_truth(n + 1, slope=0.0)[n]:.2f}")


@pytest.mark.parametrize(("a", "b"), [(1, 1), (1, 31), (5, 9), (20, 60)])
def test_sum_variance_counts_persistent_shocks(a: int, b: int) -> None:
    # Brute force: day j's error is its own noise plus every level shock before it.
    noise, level = 2.0, 0.5
    coefficient = {i: sum(1 for j in range(a, b + 1) if j > i) for i in range(1, b)}
    brute = (b - a + 1) * noise + level * sum(c * c for c in coefficient.values())
    assert sum_variance(noise, level, a, b) == pytest.approx(brute)


def test_monthly_amounts_follow_tax_share_and_repeat_credits() -> None:
    n = _history_to_month_end(120)  # four whole months: 2025-01 .. 2025-04
    series = _series(_truth(n, slope=0.0), n)
    months = sorted({d.replace(day=1) for d in series.days})
    pairs = list(zip(series.days, series.base, strict=True))
    tax = {m: sum((v for d, v in pairs if d.replace(day=1) == m), Decimal(0)) / 10 for m in months}
    series.monthly = {"Tax": tax, "Credit": {months[0]: Decimal(-100), months[1]: Decimal(-100)}}
    may = START + timedelta(days=n)
    flat = [50.0] * 61  # May and June at $50 a day
    amounts = monthly_amounts(series, may, flat)
    # Tax: April's 10 % of the forecast month's cost; the credit stopped in March: none.
    assert {d: round(v, 2) for d, v in amounts.items()} == {
        date(2025, 5, 1): Decimal("155.00"),
        date(2025, 6, 1): Decimal("150.00"),
    }
    series.monthly["Credit"][months[-1]] = Decimal(-80)  # still running in April: repeats
    again = monthly_amounts(series, may, flat)
    assert round(again[date(2025, 6, 1)], 2) == Decimal("70.00")


def test_arima_is_an_opt_in_candidate() -> None:
    n = _history_to_month_end(150)
    values = _truth(n, slope=1.0) + np.random.default_rng(5).normal(0, 5, n)
    f = forecast_series(
        _series(values, n),
        {},
        "USD",
        horizon_days=31,
        min_history_days=56,
        backtest=False,
        models=("auto-arima",),
    )
    assert f.model == "auto-ets"  # without a backtest the default model forecasts
    assert "auto-arima" not in CANDIDATES  # too slow to backtest for every scope by default
    pred = predict("auto-arima", values, 14)
    assert np.all(pred.lo95 <= pred.lo80) and np.all(pred.hi80 <= pred.hi95)
    assert abs(float(pred.mean[0]) - float(_truth(n + 1, slope=1.0)[n])) < 30
