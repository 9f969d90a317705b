"""Root cause drill-down and the one-line summary; de-duplication of nested scopes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa

from costloop.analytics.anomalies import summary
from costloop.analytics.anomalies.events import Candidate, deduplicate
from costloop.analytics.anomalies.rootcause import drill_down
from costloop.analytics.anomalies.series import SeriesSet
from costloop.core.anomalies import Anomaly, RootCause
from costloop.warehouse.engine import open_engine

S3 = "Amazon Simple Storage Service"


def test_drill_down_ranks_the_bucket_and_its_requests(small_estate) -> None:
    with open_engine(small_estate.ws.lake) as engine:
        result = drill_down(
            engine,
            scope={"ProviderName": "AWS", "SubAccountId": "222222222222"},
            currency="USD",
            start=date(2026, 2, 21),
            end=date(2026, 2, 23),
            weeks=8,
            impact=Decimal("600"),
        )
    top = {c.dimension: c for c in reversed(result.causes)}
    # The account also runs an EC2 instance; the bucket explains the incident.
    assert top["ServiceName"].value == S3
    assert top["ResourceId"].value == "images"
    assert top["SkuId"].value == "S3-Requests"
    # Its requests added 3 × $200.0101 over a baseline of $0 for that SKU.
    assert top["SkuId"].impact == Decimal("600.0303")
    assert top["SkuId"].share == Decimal("1.000")
    assert Decimal("0.9") < top["ResourceId"].share < Decimal("1.1")
    assert all(c.share >= Decimal("0.05") for c in result.causes)
    assert "i-search" not in {c.value for c in result.causes}
    assert result.team == "catalog"


def anomaly(causes: tuple[RootCause, ...]) -> Anomaly:
    return Anomaly(
        scope={"ProviderName": "AWS", "ServiceName": "AWS Lambda"},
        start=date(2026, 7, 21),
        end=date(2026, 7, 22),
        kind="spike",
        currency="USD",
        expected_cost=Decimal("40.00"),
        actual_cost=Decimal("864.60"),
        impact=Decimal("824.60"),
        impact_pct=Decimal("2061.50"),
        max_daily_impact=Decimal("420.10"),
        score=80.2,
        root_cause=causes,
    )


def test_summary_names_service_account_and_resource() -> None:
    causes = (
        RootCause("ServiceName", "AWS Lambda", Decimal("824.60"), Decimal("1.000")),
        RootCause("SubAccountId", "210987654321", Decimal("824.60"), Decimal("1.000")),
        RootCause("ResourceId", "fn-thumbnailer", Decimal("758.63"), Decimal("0.920")),
    )
    assert summary(anomaly(causes)) == (
        "+$412.30/day (2062% above expected), 100% from AWS Lambda in 210987654321,"
        " resource fn-thumbnailer (92%)"
    )
    assert summary(anomaly(())) == "+$412.30/day (2062% above expected)"


def nested_series() -> SeriesSet:
    """Overall = service A + service B (equal cost), as ``build_series`` would lay out."""
    grain = pa.table({"day": pa.array([0, 0], pa.int32()), "cost": pa.array([1.0, 1.0])})
    return SeriesSet(
        first_day=date(2026, 1, 1),
        values=np.zeros((3, 1)),
        scopes=[{}, {"ServiceName": "A"}, {"ServiceName": "B"}],
        currencies=["USD"] * 3,
        spec_index=np.array([0, 1, 1], dtype=np.int32),
        specs=[(), ("ServiceName",)],
        totals=np.array([200.0, 100.0, 100.0]),
        grain=grain,
        codes=[np.array([0, 0]), np.array([1, 2])],
        grain_cost=np.array([100.0, 100.0]),
    )


def event(series: int, impact: float, first: int = 10, last: int = 12) -> Candidate:
    return Candidate(series, first, last, impact, 100.0, 9.0, "spike")


def test_dedup_keeps_the_child_that_explains_the_parent() -> None:
    parent, child = event(0, 100), event(1, 85)
    assert deduplicate([parent, child], nested_series()) == [child]


def test_dedup_keeps_a_parent_its_child_explains_only_in_part() -> None:
    parent, child = event(0, 100), event(1, 50)
    assert deduplicate([parent, child], nested_series()) == [parent, child]


def test_dedup_two_unrelated_children_together_explain_the_parent() -> None:
    parent, a, b = event(0, 100), event(1, 50), event(2, 40)
    assert deduplicate([parent, a, b], nested_series()) == [a, b]


def test_dedup_needs_overlapping_windows() -> None:
    parent, child = event(0, 100, 10, 12), event(1, 95, 20, 22)
    assert deduplicate([parent, child], nested_series()) == [parent, child]
