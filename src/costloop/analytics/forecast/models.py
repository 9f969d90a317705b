"""Candidate models (statsforecast) and the short-history fallbacks, on float arrays.

statsforecast is imported on first use: it takes about two seconds and most commands
never forecast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CANDIDATES",
    "DEFAULT_MODEL",
    "FIT_ERRORS",
    "MODEL_NAMES",
    "Prediction",
    "flat_mean",
    "predict",
]

Array = npt.NDArray[np.float64]
SEASON = 7
LEVELS = (80, 95)

# Simplest first: on a tie in the backtest the earlier model wins.
MODEL_NAMES = ("seasonal-naive", "auto-theta", "auto-ets", "auto-arima")
CANDIDATES = ("seasonal-naive", "auto-theta", "auto-ets")
"""Models every scope's backtest tries. ARIMA is opt-in: ~1.5 s a fit is too slow to run
for every origin of every scope."""
FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)
"""What a statsforecast fit raises on a series it cannot model."""
DEFAULT_MODEL = "auto-ets"
"""The model used without a backtest (skipped, or no origin with enough history)."""


@dataclass(frozen=True)
class Prediction:
    """A model's forecast for ``h`` days.

    Attributes:
        mean: expected value per day.
        lo80: lower 80 % bound per day.
        hi80: upper 80 % bound per day.
        lo95: lower 95 % bound per day.
        hi95: upper 95 % bound per day.
        noise_var: transient variance of one day's error.
        level_var: variance added per day by persistent level changes.
    """

    mean: Array
    lo80: Array
    hi80: Array
    lo95: Array
    hi95: Array
    noise_var: float
    level_var: float


def _model(name: str) -> Any:
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    makers: dict[str, Callable[[], Any]] = {
        "seasonal-naive": lambda: SeasonalNaive(season_length=SEASON),
        "auto-theta": lambda: AutoTheta(season_length=SEASON),
        "auto-ets": lambda: AutoETS(season_length=SEASON),
        "auto-arima": lambda: AutoARIMA(season_length=SEASON),
    }
    return makers[name]()


def _split_variance(lo95: Array, hi95: Array) -> tuple[float, float]:
    """Fit ``var_h = noise + (h − 1) · level`` to the model's per-day 95 % widths."""
    var = ((hi95 - lo95) / (2 * 1.959963984540054)) ** 2
    noise = float(var[0])
    if len(var) < 2:
        return noise, 0.0
    steps = np.arange(len(var), dtype=np.float64)
    slope = float(np.dot(steps, var - noise) / np.dot(steps, steps))
    return noise, max(slope, 0.0)


def predict(name: str, y: Array, h: int) -> Prediction:
    """Fit model ``name`` to ``y`` (daily values) and forecast ``h`` days."""
    with warnings.catch_warnings():
        # AutoARIMA warns when its stepwise search hits the model limit; the fit stands.
        warnings.simplefilter("ignore", UserWarning)
        # Theta's seasonality test divides by zero on a constant series; the fit stands.
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = _model(name).forecast(y=y, h=h, level=list(LEVELS))

    def col(key: str) -> Array:
        return np.asarray(raw[key], dtype=np.float64)

    mean = col("mean")
    lo80, hi80, lo95, hi95 = col("lo-80"), col("hi-80"), col("lo-95"), col("hi-95")
    if not np.all(np.isfinite(lo95)) or not np.all(np.isfinite(hi95)):
        # No intervals (a constant series): the spread of the history stands in.
        sd = float(np.std(y)) or 0.0
        lo80, hi80 = mean - 1.2816 * sd, mean + 1.2816 * sd
        lo95, hi95 = mean - 1.96 * sd, mean + 1.96 * sd
    noise, level = _split_variance(lo95, hi95)
    return Prediction(mean, lo80, hi80, lo95, hi95, noise, level)


def flat_mean(y: Array, h: int) -> Prediction:
    """The mean of a short history carried forward, with deliberately wide intervals.

    The day-to-day spread of the history is the transient error; on top, the level
    may drift by that spread (at least 5 % of the mean) every week, so a month ahead
    the level alone is uncertain by about twice the spread.
    """
    m = float(np.mean(y))
    sd = float(np.std(y, ddof=1)) if len(y) > 1 else 0.0
    drift = max(sd, 0.05 * abs(m))
    level = drift * drift / SEASON
    noise = sd * sd + level  # the first forecast day already carries one day of drift
    steps = np.arange(h, dtype=np.float64)
    sds = np.sqrt(noise + steps * level)
    mean = np.full(h, m)
    z80, z95 = 1.2815515655446004, 1.959963984540054
    return Prediction(
        mean, mean - z80 * sds, mean + z80 * sds, mean - z95 * sds, mean + z95 * sds, noise, level
    )


def is_finite(p: Prediction) -> bool:
    """Whether every mean and bound is a finite number."""
    return all(bool(np.all(np.isfinite(a))) for a in (p.mean, p.lo95, p.hi95)) and math.isfinite(
        p.noise_var + p.level_var
    )
