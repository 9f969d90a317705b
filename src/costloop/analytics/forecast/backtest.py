"""Rolling-origin backtest: forecast each recent month from the day before it."""

from __future__ import annotations

import calendar
import math
import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from costloop.analytics.forecast.lumps import monthly_amounts
from costloop.analytics.forecast.models import FIT_ERRORS, MODEL_NAMES, predict
from costloop.analytics.forecast.result import (
    Backtest,
    ModelScore,
    OriginScore,
    precise,
)
from costloop.analytics.forecast.series import DailySeries

__all__ = ["MAX_ORIGINS", "MIN_CALIBRATION", "TIE", "backtest_origins", "run_backtest"]

MAX_ORIGINS = 6
TIE = Decimal("0.001")
"""Variances closer than this (0.1 percentage point) are a tie: the simpler model wins."""
_RATIO = Decimal("0.000001")
MIN_CALIBRATION = 3
"""Origins needed before the backtest errors set the intervals of sums."""
MIN_ERROR_SCALE = 0.001


def backtest_origins(series: DailySeries, min_history_days: int) -> list[date]:
    """Month starts with ``min_history_days`` of history before them and a complete
    month of actuals after them; the latest ``MAX_ORIGINS``, oldest first."""
    if not series.days:
        return []
    first, last = series.days[0], series.days[-1]
    out: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        if (month - first).days >= min_history_days and end <= last:
            out.append(month)
        month = end + timedelta(days=1)
    return out[-MAX_ORIGINS:]


def _score_origin(series: DailySeries, model: str, origin: date) -> tuple[OriginScore, float]:
    """The origin's score and its signed relative month error (nan without a forecast)."""
    hist = series.upto(origin - timedelta(days=1))
    h = calendar.monthrange(origin.year, origin.month)[1]
    y = np.array([float(v) for v in hist.base], dtype=np.float64)
    pred = predict(model, y, h)
    lumps = monthly_amounts(hist, origin, list(pred.mean))
    daily = sum((precise(v) for v in pred.mean), Decimal(0))
    forecast = (daily + sum(lumps.values(), Decimal(0))).quantize(Decimal("0.01"))
    start = len(hist.days)
    actual = sum(series.total[start : start + h], Decimal(0))
    variance = None
    error = math.nan
    if forecast > 0:
        variance = (abs(actual - forecast) / forecast).quantize(_RATIO)
        error = float((actual - forecast) / forecast)
    errors = [
        abs(float(a) - f) / abs(float(a))
        for a, f in zip(series.base[start : start + h], pred.mean, strict=True)
        if a != 0
    ]
    mape = Decimal(repr(float(sum(errors)) / len(errors))).quantize(_RATIO) if errors else None
    return OriginScore(origin, actual, forecast, variance, mape), error


def _error_scale(errors: Sequence[float]) -> float | None:
    """Robust standard deviation of the relative month errors: median |error| / 0.6745.

    The median keeps one anomalous month (a spike the forecast could not know) from
    widening every interval. None with fewer than ``MIN_CALIBRATION`` origins.
    """
    finite = [abs(e) for e in errors if math.isfinite(e)]
    if len(finite) < MIN_CALIBRATION:
        return None
    return max(statistics.median(finite) / 0.6745, MIN_ERROR_SCALE)


def _mean(values: Sequence[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return (sum(present, Decimal(0)) / len(present)).quantize(_RATIO)


def run_backtest(
    series: DailySeries, models: Sequence[str], min_history_days: int
) -> Backtest | None:
    """Score every model at every origin; None when no origin has enough history.

    The winner has the lowest mean monthly variance; within ``TIE`` of it the simplest
    model (seasonal naive, then Theta, ETS, ARIMA) wins.
    """
    origins = backtest_origins(series, min_history_days)
    if not origins:
        return None
    scores = []
    for model in models:
        try:
            scored = [_score_origin(series, model, o) for o in origins]
        except FIT_ERRORS:
            continue  # the model cannot fit this series: it is not a candidate
        per_origin = [s for s, _ in scored]
        scores.append(
            ModelScore(
                model,
                _mean([s.variance for s in per_origin]),
                _mean([s.mape for s in per_origin]),
                per_origin,
                _error_scale([e for _, e in scored]),
            )
        )
    rated = [s for s in scores if s.variance is not None]
    if not rated:
        return Backtest(origins, scores, scores[0].model if scores else "seasonal-naive")
    best = min(s.variance for s in rated if s.variance is not None)
    close = [s.model for s in rated if s.variance is not None and s.variance - best <= TIE]
    winner = min(close, key=MODEL_NAMES.index)
    return Backtest(origins, scores, winner)
