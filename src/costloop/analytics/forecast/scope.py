"""``forecast_scope``: one scope's daily forecast, chosen by backtest, with intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from costloop.analytics.forecast.backtest import run_backtest
from costloop.analytics.forecast.lumps import monthly_amounts
from costloop.analytics.forecast.models import (
    CANDIDATES,
    DEFAULT_MODEL,
    FIT_ERRORS,
    MODEL_NAMES,
    Prediction,
    flat_mean,
    predict,
)
from costloop.analytics.forecast.result import (
    Backtest,
    ForecastPoint,
    ScopeForecast,
    cents,
    precise,
    sum_variance,
)
from costloop.analytics.forecast.series import DailySeries, load_series
from costloop.core.errors import InputError
from costloop.warehouse.engine import Engine

__all__ = ["MIN_DAYS", "SEASONAL_DAYS", "forecast_scope", "forecast_series"]

MIN_DAYS = 7
"""Fewer days of history than this: no forecast at all."""
SEASONAL_DAYS = 14
"""From this many days (and below ``min_history_days``) the fallback is seasonal naive."""
REFERENCE_DAYS = 30
"""Days of the sum whose spread the backtest's month errors calibrate."""
# Two-sided Student t multipliers (80 %, 95 %) by degrees of freedom: the interval scale
# comes from a handful of backtest months, so its own uncertainty widens the interval.
_STUDENT_T = {
    3: (1.6377, 3.1824),
    4: (1.5332, 2.7764),
    5: (1.4759, 2.5706),
    6: (1.4398, 2.4469),
}


def _label(scope: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in scope.items()) or "the whole estate"


def forecast_scope(
    engine: Engine,
    scope: Mapping[str, str] | None = None,
    *,
    horizon_days: int = 92,
    as_of: date | None = None,
    currency: str | None = None,
    min_history_days: int = 56,
    backtest: bool = True,
    models: Sequence[str] | None = None,
) -> ScopeForecast:
    """Forecast a scope's daily EffectiveCost for ``horizon_days`` after ``as_of``.

    With at least ``min_history_days`` of history, every candidate model is backtested
    from the month starts of the last six months and the one with the lowest monthly
    forecast variance forecasts. Shorter histories get a labelled fallback: seasonal
    naive from 14 days, the flat mean from 7 days; below 7 days there is no forecast.

    Args:
        engine: the warehouse engine.
        scope: filters on ``allocated_charges`` text columns, e.g. ``{"team": "checkout"}``;
            None or empty for everything.
        horizon_days: days to forecast after ``as_of``.
        as_of: last day of history (default: the last day with data, less trailing days
            that look incomplete).
        currency: the billing currency; needed when the scope has several.
        min_history_days: days of history the statistical models need.
        backtest: run the backtest to choose the model (else ``auto-ets`` forecasts).
        models: candidate models (default: seasonal naive, Theta, ETS; add
            ``auto-arima`` for a slower, sometimes better fit).

    Returns:
        The forecast, with its history, model, fallback reason and backtest.

    Raises:
        InputError: unknown scope column, bad horizon or model, several currencies
            without ``currency``, or fewer than 7 days of history.
    """
    scope = dict(scope or {})
    if horizon_days < 1:
        raise InputError(f"the horizon must be at least one day, got {horizon_days}")
    candidates = tuple(models) if models else CANDIDATES
    unknown = [m for m in candidates if m not in MODEL_NAMES]
    if unknown:
        raise InputError(f"unknown model {unknown[0]!r}; use one of: {', '.join(MODEL_NAMES)}")
    cur, series = load_series(engine, scope, currency=currency, as_of=as_of)
    return forecast_series(
        series,
        scope,
        cur,
        horizon_days=horizon_days,
        min_history_days=min_history_days,
        backtest=backtest,
        models=candidates,
    )


def forecast_series(
    series: DailySeries,
    scope: Mapping[str, str],
    currency: str,
    *,
    horizon_days: int,
    min_history_days: int,
    backtest: bool,
    models: Sequence[str],
) -> ScopeForecast:
    """``forecast_scope`` after the warehouse read: choose, fit and assemble.

    Raises:
        InputError: fewer than 7 days of history.
    """
    n = len(series.days)
    if n < MIN_DAYS:
        raise InputError(
            f"only {n} day{'s' if n != 1 else ''} of history for {_label(scope)} "
            f"({series.days[0]} to {series.days[-1]}); a forecast needs at least {MIN_DAYS}"
        )
    y = np.array([float(v) for v in series.base], dtype=np.float64)
    fallback: str | None = None
    bt: Backtest | None = None
    notes = list(series.notes)
    if n < SEASONAL_DAYS:
        model, pred = "flat-mean", flat_mean(y, horizon_days)
        fallback = f"only {n} days of history: flat mean of those days, wide intervals"
    elif n < min_history_days:
        model, pred = "seasonal-naive", predict("seasonal-naive", y, horizon_days)
        fallback = (
            f"only {n} days of history (a model needs {min_history_days}): seasonal naive, "
            "each day as the same weekday of the last week, no trend"
        )
    else:
        if backtest:
            bt = run_backtest(series, models, min_history_days)
            if bt is None:
                notes.append(
                    f"no backtest: no month start has {min_history_days} days of history "
                    "before it and a complete month after it"
                )
        model = bt.winner if bt is not None else DEFAULT_MODEL
        try:
            pred = predict(model, y, horizon_days)
        except FIT_ERRORS as exc:
            notes.append(f"{model} could not fit this series ({exc}); seasonal naive instead")
            model, pred = "seasonal-naive", predict("seasonal-naive", y, horizon_days)
    result = _assemble(dict(scope), currency, series, pred, model, fallback, bt, notes)
    return _calibrated(result, pred, bt)


def _calibrated(result: ScopeForecast, pred: Prediction, bt: Backtest | None) -> ScopeForecast:
    """Scale the intervals of sums so a month ahead they match the backtest's errors.

    The model keeps the shape (how uncertainty grows with the horizon and the number of
    days summed); the backtest sets the size: the standard deviation of the sum of the
    next 30 days becomes the winner's error scale times that sum's forecast.
    """
    score = bt.score(result.model) if bt is not None else None
    if score is None or score.error_scale is None:
        return result
    days = min(REFERENCE_DAYS, len(pred.mean))
    month_mean = float(np.sum(pred.mean[:days])) * REFERENCE_DAYS / days
    model_var = sum_variance(result.noise_var, result.level_var, 1, REFERENCE_DAYS)
    if model_var <= 0 or month_mean <= 0:
        return result
    k2 = (score.error_scale * month_mean) ** 2 / model_var
    df = min(sum(1 for o in score.origins if o.variance is not None), max(_STUDENT_T))
    z80, z95 = _STUDENT_T.get(df, _STUDENT_T[min(_STUDENT_T)])
    return replace(
        result,
        noise_var=result.noise_var * k2,
        level_var=result.level_var * k2,
        z80=z80,
        z95=z95,
    )


def _assemble(
    scope: dict[str, str],
    currency: str,
    series: DailySeries,
    pred: Prediction,
    model: str,
    fallback: str | None,
    bt: Backtest | None,
    notes: list[str],
) -> ScopeForecast:
    as_of = series.days[-1]
    first = as_of + timedelta(days=1)
    lumps = monthly_amounts(series, first, list(pred.mean))
    floor_zero = min(series.base) >= 0
    points = []
    means = []
    for i in range(len(pred.mean)):
        day = first + timedelta(days=i)
        extra = lumps.get(day, Decimal(0))
        exact = precise(float(pred.mean[i])) + extra
        means.append(max(exact, extra) if floor_zero else exact)
        values = [
            cents(float(a[i])) + extra
            for a in (pred.mean, pred.lo80, pred.hi80, pred.lo95, pred.hi95)
        ]
        if floor_zero:
            values = [max(v, extra.quantize(Decimal("0.01"))) for v in values]
        mean, lo80, hi80, lo95, hi95 = (v.quantize(Decimal("0.01")) for v in values)
        # Keep the bounds nested even where a model's quantiles cross after rounding.
        lo80, hi80 = min(lo80, mean), max(hi80, mean)
        points.append(ForecastPoint(day, mean, lo80, hi80, min(lo95, lo80), max(hi95, hi80)))
    history = list(zip(series.days, series.total, strict=True))
    return ScopeForecast(
        scope=scope,
        currency=currency,
        as_of=as_of,
        history=history,
        daily=points,
        model=model,
        fallback=fallback,
        backtest=bt,
        notes=notes,
        noise_var=pred.noise_var,
        level_var=pred.level_var,
        precise_means=means,
        floor_zero=floor_zero,
    )
