"""Vectorized scoring: expected value, band and robust z of every day of every series.

All series are scored at once; the only Python loop is over days (each step is a numpy
operation over every series), so 10,000 series × 400 days take a few seconds.

Baseline of series ``x`` on day ``t`` (only the past is used):

- level ``L_t``: median of the previous ``LEVEL_DAYS`` days (robust to spikes, and it
  follows a level shift once half of its window has the new level);
- weekly profile: median, over the previous ``weeks`` same weekdays ``t − 7k``, of the
  ratio ``x_{t−7k} / L_{t−7k}`` to the level of that day (multiplicative, so a weekend
  dip of 30 % stays 30 % after the level halves). Because the ratio is taken against
  the trailing level of its own day, it also carries the lag of that level behind a
  trend, which puts the trend back into the expected value. Where a level is zero (a
  cost on some weekdays only) the profile is additive: the median of
  ``x_{t−7k} − L_{t−7k}``;
- expected ``E_t = L_t · profile_t``, corrected by the median recent residual.

The scale is the MAD of the residuals ``x − E`` over the previous ``SCALE_DAYS`` days
(refreshed weekly; a long window, because a scale estimated from a few weeks is itself
so noisy that it flags several times more normal days),
floored at ``FLOOR_SHARE`` of the expected value (a flat series is not "infinitely
surprised" by a small change). ``z = (x − E) / (1.4826 · MAD)``; a day is anomalous
when ``z > threshold``, which only ever flags increases.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FLOOR_SHARE",
    "LEVEL_DAYS",
    "MIN_HISTORY_DAYS",
    "PARALLEL_FROM",
    "SCALE_DAYS",
    "Scores",
    "score_matrix",
]

LEVEL_DAYS = 28
SCALE_DAYS = 112
# A series needs two weeks of history before its first scored day: one week for the
# level, one week of weekday deviations from it.
MIN_HISTORY_DAYS = 14
# And a week of residuals before the scale (MAD) means anything.
MIN_RESIDUALS = 7
FLOOR_SHARE = 0.05
_ABS_FLOOR = 0.01
PARALLEL_FROM = 1000
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Scores:
    """Per-day scores of a ``series × days`` matrix (NaN where a day is not scored).

    Attributes:
        expected: the baseline (expected cost) per day.
        sigma: robust standard deviation of the residuals per day.
        z: robust z-score ``(actual − expected) / sigma``.
        anomalous: days with ``z > threshold`` (always increases).
    """

    expected: np.ndarray
    sigma: np.ndarray
    z: np.ndarray
    anomalous: np.ndarray

    def band(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of the normal range (``expected ± threshold · sigma``)."""
        width = threshold * self.sigma
        return np.maximum(self.expected - width, 0.0), self.expected + width


def score_matrix(
    values: np.ndarray, *, weeks: int, threshold: float, workers: int | None = None
) -> Scores:
    """Score every day of every series against its own weekly-seasonal robust baseline.

    Args:
        values: ``series × days`` daily costs (float, 0 for no cost).
        weeks: how many previous same weekdays make the weekly profile.
        threshold: robust z above which a day is anomalous.
        workers: threads, each scoring a block of series (numpy releases the GIL in
            its medians); default: the CPU count for ``PARALLEL_FROM`` series or more.

    Returns:
        The expected value, scale, z-score and anomalous flags of every day.
    """
    x = np.asarray(values, dtype=np.float64)
    if workers is None:
        workers = (os.cpu_count() or 1) if x.shape[0] >= PARALLEL_FROM else 1
    workers = max(1, min(workers, x.shape[0]))
    if workers == 1:
        return _score_block(x, weeks, threshold)
    blocks = np.array_split(x, workers, axis=0)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda b: _score_block(b, weeks, threshold), blocks))
    return Scores(
        expected=np.vstack([p.expected for p in parts]),
        sigma=np.vstack([p.sigma for p in parts]),
        z=np.vstack([p.z for p in parts]),
        anomalous=np.vstack([p.anomalous for p in parts]),
    )


def _score_block(x: np.ndarray, weeks: int, threshold: float) -> Scores:
    """``score_matrix`` on one block of series, in the calling thread."""
    n, days = x.shape
    level = np.full((n, days), np.nan)
    for t in range(7, days):
        level[:, t] = np.median(x[:, max(0, t - LEVEL_DAYS) : t], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(level > 0, x / level, np.nan)

    expected = np.full((n, days), np.nan)
    for t in range(MIN_HISTORY_DAYS, days):
        lags = [t - 7 * k for k in range(1, weeks + 1) if t - 7 * k >= 7]
        scaled = level[:, t] * np.median(ratio[:, lags], axis=1)
        # A level of zero (a cost that only occurs on some weekdays) has no ratio.
        shifted = level[:, t] + np.median(x[:, lags] - level[:, lags], axis=1)
        expected[:, t] = np.where(np.isnan(scaled), shifted, scaled)

    residual = x - expected
    sigma = np.full((n, days), np.nan)
    first = MIN_HISTORY_DAYS + MIN_RESIDUALS
    # The residuals' centre and spread move slowly: refreshing them once a week (from the
    # days before) costs a seventh of a daily refresh.
    for t in range(first, days, 7):
        window = residual[:, max(MIN_HISTORY_DAYS, t - SCALE_DAYS) : t]
        centre = np.median(window, axis=1)
        mad = np.median(np.abs(window - centre[:, None]), axis=1)
        span = slice(t, min(t + 7, days))
        expected[:, span] += centre[:, None]
        sigma[:, span] = np.maximum(
            _MAD_TO_SIGMA * mad[:, None],
            np.maximum(FLOOR_SHARE * np.abs(expected[:, span]), _ABS_FLOOR),
        )
    expected[:, :first] = np.nan
    expected = np.where(np.isnan(expected), np.nan, np.maximum(expected, 0.0))

    # Series that start later (a new account or service) get the same cold start.
    started = np.argmax(x != 0, axis=1)
    started[~(x != 0).any(axis=1)] = days
    too_early = np.arange(days)[None, :] < (started + first)[:, None]
    expected[too_early] = np.nan
    sigma[too_early] = np.nan

    with np.errstate(invalid="ignore"):
        z = (x - expected) / sigma
        anomalous = z > threshold
    return Scores(expected=expected, sigma=sigma, z=z, anomalous=anomalous)
