"""forecast_scope on a warehouse: actuals exact, fallbacks labelled, bad input named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from costloop.analytics.forecast import forecast_scope
from costloop.core.errors import InputError
from costloop.warehouse.engine import Engine


def test_total_between_mixes_exact_actuals_and_forecast(
    engine: Engine, shop: Callable[[date], Decimal]
) -> None:
    f = forecast_scope(engine, {"team": "shop"}, as_of=date(2026, 9, 12), horizon_days=60)
    assert f.as_of == date(2026, 9, 12) and f.currency == "USD"
    s = f.total_between(date(2026, 9, 1), date(2026, 9, 30))
    usage = sum((shop(date(2026, 9, d)) for d in range(1, 13)), Decimal(0))
    whole_month = sum((shop(date(2026, 9, d)) for d in range(1, 31)), Decimal(0))
    tax = (whole_month * Decimal("0.10")).quantize(Decimal("0.01"))
    assert s.actual == usage + tax  # exact: 12 days of usage and the month's tax
    rest = sum((p.mean for p in f.daily if p.day <= date(2026, 9, 30)), Decimal(0))
    # Summed before rounding: within half a cent a day of the sum of the daily cents.
    assert abs(s.mean - s.actual - rest) <= Decimal("0.005") * 18
    assert s.lo95 < s.lo80 < s.mean < s.hi80 < s.hi95
    assert s.lo95 >= s.actual
    september = next(m for m in f.monthly() if str(m.month) == "2026-09")
    assert september.is_partial and september.actual == s.actual and september.mean == s.mean
    # The forecast of the 18 remaining days is close to the rule that made the data.
    truth = whole_month - usage
    assert abs(rest - truth) / truth < Decimal("0.03")


def test_range_in_the_past_is_all_actual(engine: Engine) -> None:
    f = forecast_scope(engine, {"team": "shop"}, as_of=date(2026, 9, 12), horizon_days=30)
    s = f.total_between(date(2026, 8, 1), date(2026, 8, 31))
    assert s.actual == s.mean == s.lo95 == s.hi95
    assert s.actual == sum((v for d, v in f.history if d.month == 8), Decimal(0))
    with pytest.raises(InputError, match="past the forecast horizon"):
        f.total_between(date(2026, 9, 1), date(2026, 12, 31))


def test_monthly_amounts_and_purchases(engine: Engine, shop: Callable[[date], Decimal]) -> None:
    f = forecast_scope(engine, {"team": "shop"}, horizon_days=61)
    assert f.as_of == date(2026, 9, 30)
    # The September purchase (BilledCost 5,000, EffectiveCost 0) is not in the history.
    assert dict(f.history)[date(2026, 9, 15)] == shop(date(2026, 9, 15))
    assert any("Tax" in n and "monthly amounts" in n for n in f.notes)
    daily = {p.day: p.mean for p in f.daily}
    october = next(m for m in f.monthly() if str(m.month) == "2026-10")
    # October 1st carries the tax: 10 % of the month's forecast usage.
    usage = october.mean - (daily[date(2026, 10, 1)] - daily[date(2026, 10, 8)])
    assert abs(daily[date(2026, 10, 1)] - daily[date(2026, 10, 8)] - usage * Decimal("0.1")) < 40
    assert october.is_forecast and not october.is_partial
    assert october.lo95 < october.lo80 < october.mean < october.hi80 < october.hi95


def test_backtest_scores_every_candidate(engine: Engine) -> None:
    f = forecast_scope(engine, {"team": "shop"})
    assert f.fallback is None and f.backtest is not None
    bt = f.backtest
    assert bt.origins == [date(2026, m, 1) for m in range(4, 10)]
    assert {s.model for s in bt.scores} == {"seasonal-naive", "auto-theta", "auto-ets"}
    assert f.model == bt.winner
    win = bt.score(bt.winner)
    assert win is not None and win.variance is not None and win.mape is not None
    assert win.variance <= min(s.variance for s in bt.scores if s.variance is not None)
    assert win.variance < Decimal("0.05") and win.band == "Run"
    sept = win.origins[-1]
    assert sept.origin == date(2026, 9, 1)
    assert sept.actual == sum((v for d, v in f.history if d.month == 9), Decimal(0))


def test_short_history_falls_back_with_a_label(engine: Engine) -> None:
    f = forecast_scope(engine, {"team": "newbie"}, horizon_days=14)
    assert f.model == "seasonal-naive" and f.backtest is None
    assert f.fallback is not None and f.fallback.startswith("only 20 days of history")
    assert all(p.mean == Decimal("40.00") for p in f.daily)
    tiny = forecast_scope(engine, {"team": "tiny"}, horizon_days=30)
    assert tiny.model == "flat-mean"
    assert tiny.fallback == "only 10 days of history: flat mean of those days, wide intervals"
    assert tiny.daily[0].mean == Decimal("12.50")
    # A flat history still gets an interval that widens with the horizon.
    assert tiny.daily[-1].hi95 - tiny.daily[-1].lo95 > tiny.daily[0].hi95 - tiny.daily[0].lo95 > 0


def test_too_short_history_is_refused(engine: Engine) -> None:
    with pytest.raises(InputError, match=r"only 5 days of history for team=blip .*at least 7"):
        forecast_scope(engine, {"team": "blip"})


def test_unknown_scope_column_lists_the_allowed(engine: Engine) -> None:
    with pytest.raises(InputError) as err:
        forecast_scope(engine, {"teem": "shop"})
    assert err.value.column == "teem"
    assert "unknown scope column 'teem'" in str(err.value)
    assert "team, " in str(err.value) and "ServiceName" in str(err.value)


def test_several_currencies_need_a_choice(engine: Engine) -> None:
    with pytest.raises(InputError, match=r"several currencies \(EUR, USD\)"):
        forecast_scope(engine, {"team": "euro"})
    eur = forecast_scope(engine, {"team": "euro"}, currency="EUR", horizon_days=7)
    assert eur.currency == "EUR" and eur.history[-1][1] == Decimal("8.00")
    with pytest.raises(InputError, match="no GBP charges"):
        forecast_scope(engine, {"team": "euro"}, currency="GBP")


def test_trailing_incomplete_day_is_dropped(engine: Engine) -> None:
    """A last day at a tenth of the usual is data lag, not a cost drop: it is forecast."""
    f = forecast_scope(engine, {"team": "late"}, backtest=False, horizon_days=3)
    assert f.as_of == date(2026, 9, 29)
    assert "dropped 2026-09-30: $5.00 against a typical $50.00 looks incomplete" in f.notes[0]
    assert f.daily[0].day == date(2026, 9, 30) and f.daily[0].mean == Decimal("50.00")
    given = forecast_scope(engine, {"team": "late"}, as_of=date(2026, 9, 30), backtest=False)
    assert given.as_of == date(2026, 9, 30)  # an explicit as_of is kept as given
    assert given.history[-1] == (date(2026, 9, 30), Decimal("5.00"))
    later = forecast_scope(
        engine, {"team": "shop"}, as_of=date(2026, 12, 31), backtest=False, horizon_days=5
    )
    assert later.as_of == date(2026, 9, 30)
    assert any("last day with data" in n for n in later.notes)
    assert later.daily[0].day == date(2026, 9, 30) + timedelta(days=1)
