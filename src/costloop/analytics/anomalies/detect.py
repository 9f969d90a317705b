"""Anomaly detection over the allocated charges of a workspace: ``detect``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from costloop.analytics.anomalies.events import Candidate, deduplicate, find_events
from costloop.analytics.anomalies.rootcause import NO_TEAM, Sources, drill_down
from costloop.analytics.anomalies.scoring import Scores, score_matrix
from costloop.analytics.anomalies.series import SeriesSet, build_series
from costloop.analytics.showback import allocation_dimensions
from costloop.config import Config
from costloop.core.anomalies import Anomaly, DayPoint
from costloop.warehouse.engine import Engine
from costloop.workspace import Workspace

__all__ = [
    "CONTEXT_AFTER",
    "CONTEXT_BEFORE",
    "PROGRESS_STEPS",
    "Detection",
    "Thresholds",
    "detect",
]

# Days of the scope's series shown around an event's window.
CONTEXT_BEFORE = 14
CONTEXT_AFTER = 7
_CENT = Decimal("0.01")
PROGRESS_STEPS = 300


@dataclass(frozen=True)
class Thresholds:
    """The detection settings used (``anomalies.*``).

    Attributes:
        min_impact: smallest total impact (actual − expected over the window), currency.
        min_impact_pct: smallest impact as a percentage of the expected cost.
        z_threshold: robust z-score above which a day is anomalous.
        baseline_weeks: same weekdays the weekly profile looks back on.
    """

    min_impact: Decimal
    min_impact_pct: Decimal
    z_threshold: float
    baseline_weeks: int

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        """The thresholds of a workspace configuration."""
        return cls(
            min_impact=config.decimal("anomalies.min_impact"),
            min_impact_pct=config.decimal("anomalies.min_impact_pct"),
            z_threshold=config.float_("anomalies.z_threshold"),
            baseline_weeks=config.int_("anomalies.baseline_weeks"),
        )


@dataclass(frozen=True)
class Detection:
    """The result of one detection run.

    Attributes:
        anomalies: one per incident, largest impact first. Each carries its currency:
            every scope is monitored per billing currency, and the thresholds apply to
            each currency's amounts as they are.
        series_count: number of daily series scored.
        days: number of days in the series.
        first_day: first day with charges (None without data).
        last_day: last day with charges (None without data).
        currency: the billing currency with the most cost (None without data).
        thresholds: the settings used.
    """

    anomalies: list[Anomaly]
    series_count: int
    days: int
    first_day: date | None
    last_day: date | None
    currency: str | None
    thresholds: Thresholds


def detect(
    ws: Workspace,
    engine: Engine,
    *,
    since: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Detection:
    """Find cost anomalies in the workspace's allocated charges.

    Every monitored scope's daily EffectiveCost is scored against its weekly-seasonal
    robust baseline; anomalous days merge into events that must pass both impact gates;
    nested scopes are de-duplicated so that each incident is reported once, at the most
    specific scope that explains it, with its root cause.

    Args:
        ws: the workspace (thresholds come from its ``anomalies.*`` settings).
        engine: an engine on the workspace's lake.
        since: only events ending on or after this day are returned (the history
            before it is still the baseline).
        progress: called as ``progress(done, total)`` while the work advances (out of
            ``PROGRESS_STEPS``: a third for reading the series, a third for scoring, the
            rest for the events' exact figures and root causes; never going back).

    Returns:
        The anomalies and what was scored.
    """
    thresholds = Thresholds.from_config(ws.config)
    report = progress or (lambda done, total: None)
    report(0, PROGRESS_STEPS)
    series = build_series(engine, allocation_dimensions(engine))
    if series is None:
        report(PROGRESS_STEPS, PROGRESS_STEPS)
        return Detection([], 0, 0, None, None, None, thresholds)
    report(PROGRESS_STEPS // 3, PROGRESS_STEPS)
    scores = score_matrix(
        series.values, weeks=thresholds.baseline_weeks, threshold=thresholds.z_threshold
    )
    report(2 * PROGRESS_STEPS // 3, PROGRESS_STEPS)
    events = find_events(
        series.values,
        scores,
        min_impact=thresholds.min_impact,
        min_impact_pct=thresholds.min_impact_pct,
        threshold=thresholds.z_threshold,
    )
    events = deduplicate(events, series)
    if since is not None:
        cutoff = (since - series.first_day).days
        events = [e for e in events if e.last >= cutoff]
    anomalies = []
    sources = Sources.of(engine) if events else None
    for i, event in enumerate(events):
        assert sources is not None
        anomaly = _anomaly(engine, series, scores, event, thresholds, sources)
        if anomaly is not None:
            anomalies.append(anomaly)
        done = 2 * PROGRESS_STEPS // 3 + (i + 1) * (PROGRESS_STEPS // 3) // len(events)
        report(done, PROGRESS_STEPS)
    report(PROGRESS_STEPS, PROGRESS_STEPS)
    anomalies.sort(key=lambda a: (-a.impact, a.start, a.key))
    by_currency: dict[str, float] = {}
    for cur, amount in zip(series.currencies, series.totals, strict=True):
        by_currency[cur] = by_currency.get(cur, 0.0) + float(amount)
    return Detection(
        anomalies=anomalies,
        series_count=int(series.values.shape[0]),
        days=series.days,
        first_day=series.first_day,
        last_day=series.last_day,
        currency=max(by_currency, key=lambda c: by_currency[c]),
        thresholds=thresholds,
    )


def _anomaly(
    engine: Engine,
    series: SeriesSet,
    scores: Scores,
    event: Candidate,
    thresholds: Thresholds,
    sources: Sources,
) -> Anomaly | None:
    """The full anomaly of an event, with exact money; None if it fails a gate exactly."""
    s, first, last = event.series, event.first, event.last
    daily_actual = series.exact_daily(s, first, last)
    daily_expected = [_money(scores.expected[s, d]) for d in range(first, last + 1)]
    actual = sum(daily_actual, Decimal(0))
    expected = sum(daily_expected, Decimal(0))
    impact = actual - expected
    pct = (impact / expected * 100).quantize(_CENT) if expected > 0 else None
    if impact < thresholds.min_impact or (pct is not None and pct < thresholds.min_impact_pct):
        return None
    scope = dict(series.scopes[s])
    currency = series.currencies[s]
    start, end = series.day(first), series.day(last)
    drill = drill_down(
        engine,
        scope=scope,
        currency=currency,
        start=start,
        end=end,
        weeks=thresholds.baseline_weeks,
        impact=impact,
        sources=sources,
    )
    return Anomaly(
        scope=scope,
        start=start,
        end=end,
        kind=event.kind,
        currency=currency,
        expected_cost=expected,
        actual_cost=actual,
        impact=impact,
        impact_pct=pct,
        max_daily_impact=max(a - e for a, e in zip(daily_actual, daily_expected, strict=True)),
        score=round(event.score, 2),
        root_cause=drill.causes,
        team=_team(scope, drill.team),
        series=_context(series, scores, s, first, last, thresholds.z_threshold),
    )


def _team(scope: dict[str, str], carrier: str | None) -> str | None:
    """The scope's own team when it names one, else the team carrying most of the impact."""
    own = scope.get("team")
    if own is None:
        return carrier
    return None if own in NO_TEAM else own


def _context(
    series: SeriesSet, scores: Scores, s: int, first: int, last: int, threshold: float
) -> tuple[DayPoint, ...]:
    """The scope's days around an event: actual (exact), expected and band."""
    lo = max(0, first - CONTEXT_BEFORE)
    hi = min(series.days - 1, last + CONTEXT_AFTER)
    actual = series.exact_daily(s, lo, hi)
    lower, upper = scores.band(threshold)
    points = []
    for d in range(lo, hi + 1):
        if np.isnan(scores.expected[s, d]):
            continue
        points.append(
            DayPoint(
                day=series.day(d),
                actual=actual[d - lo],
                expected=_money(scores.expected[s, d]),
                lower=_money(lower[s, d]),
                upper=_money(upper[s, d]),
            )
        )
    return tuple(points)


def _money(value: float) -> Decimal:
    """A float amount as Decimal cents."""
    return Decimal(repr(float(value))).quantize(_CENT)
