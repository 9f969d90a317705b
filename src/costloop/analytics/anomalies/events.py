"""From anomalous days to incidents: merge runs, gate on impact, classify, de-duplicate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from costloop.analytics.anomalies.scoring import Scores
from costloop.analytics.anomalies.series import SeriesSet

__all__ = [
    "CONTAINED_SHARE",
    "EXPLAINED_SHARE",
    "MERGE_GAP_DAYS",
    "Candidate",
    "deduplicate",
    "find_events",
]

# Anomalous days at most this many normal days apart are one incident.
MERGE_GAP_DAYS = 1
# A scope is inside another when this share of its cost is also the other's cost.
CONTAINED_SHARE = 0.9
# A parent event is dropped when its more specific children explain this share of it.
EXPLAINED_SHARE = 0.8
# Days after the start at which a raised level is checked (level shift or spike).
_SHIFT_CHECK = (7, 14)


@dataclass(frozen=True)
class Candidate:
    """One incident of one series, in day indexes of the series matrix.

    Attributes:
        series: row of the series matrix.
        first: first anomalous day.
        last: last anomalous day (inclusive).
        impact: Σ (actual − expected) over the window (float, for gating and ranking).
        expected: Σ expected over the window.
        score: largest z-score in the window.
        kind: ``spike`` or ``level-shift``.
    """

    series: int
    first: int
    last: int
    impact: float
    expected: float
    score: float
    kind: str


def find_events(
    values: np.ndarray,
    scores: Scores,
    *,
    min_impact: Decimal,
    min_impact_pct: Decimal,
    threshold: float,
) -> list[Candidate]:
    """Merge each series' anomalous days into events and keep those passing both gates.

    Args:
        values: ``series × days`` daily costs.
        scores: their scores (``score_matrix``).
        min_impact: an event's Σ (actual − expected) must reach this.
        min_impact_pct: …and this percentage of its Σ expected (an event with nothing
            expected passes this gate: the cost is new).
        threshold: the z threshold (the band that a level shift must stay above).

    Returns:
        Events in series order, then by start.
    """
    rows, cols = np.nonzero(scores.anomalous)
    out: list[Candidate] = []
    if rows.size == 0:
        return out
    # Split the flagged cells into runs: a new run at a new series or after a gap.
    new_run = np.ones(rows.size, dtype=bool)
    new_run[1:] = (rows[1:] != rows[:-1]) | (cols[1:] - cols[:-1] > MERGE_GAP_DAYS + 1)
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], rows.size) - 1
    residual = values - scores.expected
    for s, e in zip(starts, ends, strict=True):
        series, first, last = int(rows[s]), int(cols[s]), int(cols[e])
        window = slice(first, last + 1)
        impact = float(np.nansum(residual[series, window]))
        expected = float(np.nansum(scores.expected[series, window]))
        if impact < float(min_impact):
            continue
        if expected > 0 and impact / expected * 100 < float(min_impact_pct):
            continue
        kind = _kind(values[series], scores, series, first, threshold)
        score = float(np.nanmax(scores.z[series, window]))
        out.append(Candidate(series, first, last, impact, expected, score, kind))
    return _one_per_shift(out)


def _kind(row: np.ndarray, scores: Scores, series: int, first: int, threshold: float) -> str:
    """``level-shift`` when the cost a week after the start stays well above the week before.

    "Well above" is at least half the event's mean daily excess over the first week, and
    more than the band's half-width: a week of each side is compared, so the weekly
    pattern cancels out.
    """
    lo, hi = first + _SHIFT_CHECK[0], first + _SHIFT_CHECK[1]
    if lo >= row.size or first < 7:
        return "spike"
    before = float(np.median(row[first - 7 : first]))
    after = float(np.median(row[lo:hi]))
    excess = float(np.nanmean((row - scores.expected[series])[first:lo]))
    needed = max(0.5 * excess, threshold * float(scores.sigma[series, first]))
    return "level-shift" if after - before > needed else "spike"


def _one_per_shift(events: list[Candidate]) -> list[Candidate]:
    """Merge the echoes of a level shift into it: later runs of the same series.

    While the baseline absorbs a shift, the series can flag a few more days (the weekly
    profile catches up a week at a time). Those belong to the shift; a run is an echo
    when it starts within ``4 × 7`` days after the end of a level-shift event, and the
    event then extends to the echo's end.
    """
    kept: list[Candidate] = []
    for event in events:
        prior = kept[-1] if kept else None
        if (
            prior is not None
            and prior.series == event.series
            and prior.kind == "level-shift"
            and event.first - prior.last <= 28
        ):
            kept[-1] = Candidate(
                prior.series,
                prior.first,
                event.last,
                prior.impact + event.impact,
                prior.expected + event.expected,
                max(prior.score, event.score),
                prior.kind,
            )
            continue
        kept.append(event)
    return kept


def deduplicate(events: list[Candidate], series: SeriesSet) -> list[Candidate]:
    """One event per incident, at the most specific scope that explains it.

    A scope is more specific than another when it is smaller (less total cost; on a tie
    the later scope kind). Event ``C`` explains part of event ``P`` when their windows
    overlap, ``C`` is more specific, and at least ``CONTAINED_SHARE`` of ``C``'s cost is
    also ``P``'s (nested scopes, e.g. an account inside its provider, or a team's
    service that lives in one account). ``P`` is dropped when its explaining children
    that do not overlap each other add up to ``EXPLAINED_SHARE`` of its impact; unrelated
    incidents in different children therefore stay separate events.
    """
    if len(events) < 2:
        return list(events)
    rank = {
        e.series: (float(series.totals[e.series]), -int(series.spec_index[e.series]))
        for e in events
    }
    own = {e.series: float(series.totals[e.series]) for e in events}
    shared: dict[tuple[int, int], float] = {}

    def common(a: int, b: int) -> float:
        key = (min(a, b), max(a, b))
        if key not in shared:
            shared[key] = series.shared_cost(*key)
        return shared[key]

    def inside(child: int, parent: int) -> bool:
        if series.currencies[child] != series.currencies[parent]:
            return False
        total = own[child]
        return total > 0 and common(child, parent) >= CONTAINED_SHARE * total

    kept: list[Candidate] = []
    for parent in events:
        children = [
            c
            for c in events
            if c is not parent
            and c.first <= parent.last
            and parent.first <= c.last
            and rank[c.series] < rank[parent.series]
            and inside(c.series, parent.series)
        ]
        children.sort(key=lambda c: -c.impact)
        chosen: list[Candidate] = []
        for child in children:
            if all(_apart(child.series, other.series, own, common) for other in chosen):
                chosen.append(child)
        if parent.impact > 0 and sum(c.impact for c in chosen) >= EXPLAINED_SHARE * parent.impact:
            continue
        kept.append(parent)
    return kept


def _apart(a: int, b: int, own: dict[int, float], common: Callable[[int, int], float]) -> bool:
    """Whether two scopes share less than half of the smaller one's cost."""
    smaller = min(own[a], own[b])
    return smaller <= 0 or common(a, b) < 0.5 * smaller
