"""Scoring and events on synthetic series: what is an anomaly, what is not, and its dates."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from costloop.analytics.anomalies import score_matrix
from costloop.analytics.anomalies.events import Candidate, find_events

Z = 3.5


def events(*rows: np.ndarray, min_impact: str = "100", min_pct: str = "20") -> list[Candidate]:
    """Score the rows as one matrix and return the gated events."""
    matrix = np.vstack(rows)
    scores = score_matrix(matrix, weeks=8, threshold=Z)
    return find_events(
        matrix,
        scores,
        min_impact=Decimal(min_impact),
        min_impact_pct=Decimal(min_pct),
        threshold=Z,
    )


def test_spike_is_found_with_its_days(series) -> None:
    x = series(level=100, weekend=0.7)
    x[90:93] += 150
    (event,) = events(x)
    assert (event.first, event.last, event.kind) == (90, 92, "spike")
    assert event.impact == pytest.approx(450, rel=0.05)


def test_level_shift_is_one_incident_of_kind_level_shift(series) -> None:
    x = series(200, level=100, weekend=0.7)
    x[80:] += 60
    found = events(x)
    assert len(found) == 1
    (event,) = found
    assert event.first == 80
    assert event.kind == "level-shift"
    # It ends when the baseline has absorbed the new level, well before the data does.
    assert event.last < 110


def test_late_echo_of_a_level_shift_is_not_a_new_incident() -> None:
    # A noisy series whose baseline, while absorbing a +$36/day step, flags four more
    # days a few days after the first stretch ended (days 93-96): still the same shift.
    rng = np.random.default_rng(35)
    t = np.arange(200)
    x = 100 * np.where(t % 7 >= 5, 0.7, 1) * (1 + 0.05 * rng.standard_normal(200))
    x[80:] += rng.uniform(30, 120)
    assert [(e.first, e.last, e.kind) for e in events(x)] == [(80, 96, "level-shift")]


def test_weekend_dips_and_a_smooth_trend_are_normal(series) -> None:
    rows = [
        series(364, level=500, weekend=0.5, seed=1),
        series(364, level=800, trend_per_year=0.8, seed=2),
        series(364, level=300, weekend=0.6, trend_per_year=-0.4, seed=3),
    ]
    assert events(*rows) == []


def test_drops_are_not_anomalies(series) -> None:
    x = series(level=400, weekend=0.7)
    x[70] = 0  # one day without cost
    x[90:] *= 0.3  # an optimization that cut the cost for good
    assert events(x) == []


@pytest.mark.parametrize(("extra", "reported"), [("99", False), ("101", True)])
def test_the_amount_gate(extra: str, reported: bool) -> None:
    # Flat $100/day without noise: the scale is its 5 % floor, so any day above $117.50
    # is unusual; the event's impact must still reach $100.
    x = np.full(100, 100.0)
    x[80] += float(extra)
    assert (len(events(x)) == 1) is reported


@pytest.mark.parametrize(("extra", "reported"), [("190", False), ("210", True)])
def test_the_percentage_gate(extra: str, reported: bool) -> None:
    # $1,000/day: +$190 is unusual (z 3.8) and above $100, but only 19 % above expected.
    x = np.full(100, 1000.0)
    x[80] += float(extra)
    found = events(x)
    assert (len(found) == 1) is reported
    if reported:
        assert found[0].impact == pytest.approx(210)
        assert found[0].expected == pytest.approx(1000)


def test_consecutive_days_merge_and_distant_ones_do_not(series) -> None:
    close = series(level=100, seed=4)
    close[[80, 81, 83]] += 200  # one normal day in between: one incident
    apart = series(level=100, seed=5)
    apart[[80, 85]] += 200  # four normal days in between: two incidents
    found = events(close, apart)
    assert [(e.series, e.first, e.last) for e in found] == [(0, 80, 83), (1, 80, 80), (1, 85, 85)]


def test_no_detection_without_enough_history(series) -> None:
    x = series(level=100)
    x[:50] = 0  # the series only starts on day 50
    x[60:62] += 500  # ten days later
    x[100:102] += 500  # fifty days later
    assert [(e.first, e.last) for e in events(x)] == [(100, 101)]


def test_scores_have_a_band_around_the_expected_value(series) -> None:
    x = series(level=100, weekend=0.5, noise=0.01)
    scores = score_matrix(x[None, :], weeks=8, threshold=Z)
    lower, upper = scores.band(Z)
    # Scored days: the expected value follows the weekly pattern and brackets the actual.
    days = np.arange(60, 140)
    weekend = days[days % 7 >= 5]
    weekday = days[days % 7 < 5]
    assert np.nanmean(scores.expected[0, weekend]) == pytest.approx(50, rel=0.03)
    assert np.nanmean(scores.expected[0, weekday]) == pytest.approx(100, rel=0.03)
    inside = (lower[0, days] <= x[days]) & (x[days] <= upper[0, days])
    assert inside.mean() > 0.95
    # Not scored: the first three weeks (two of baseline, one of residuals).
    assert np.isnan(scores.expected[0, :21]).all()
    assert not np.isnan(scores.expected[0, 21:]).any()


def test_many_series_in_parallel_score_like_one_thread(series) -> None:
    matrix = np.vstack([series(level=50 + i, seed=i) for i in range(40)])
    one = score_matrix(matrix, weeks=8, threshold=Z, workers=1)
    two = score_matrix(matrix, weeks=8, threshold=Z, workers=2)
    np.testing.assert_array_equal(one.z, two.z)
