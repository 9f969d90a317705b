"""Planted anomalies are labelled, and each one is visible in its scope's daily cost."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from demo_helpers import charge_day

from costloop.demo import EstateManifest


def test_labels_match_visible_extra_cost(
    estate: EstateManifest, billing: list[dict[str, str]]
) -> None:
    labels = json.loads(estate.labels_file.read_text())
    assert len(labels) >= 5
    assert {label["kind"] for label in labels} == {"spike", "level-shift"}
    assert len({label["team"] for label in labels}) >= 4
    assert len({label["scope"]["ServiceName"] for label in labels}) >= 5
    for label in labels:
        scope = label["scope"]
        daily: dict[date, Decimal] = defaultdict(Decimal)
        for row in billing:
            if all(row[k] == v for k, v in scope.items()) and not row["ChargeClass"]:
                daily[charge_day(row)] += Decimal(row["EffectiveCost"])
        start, end = date.fromisoformat(label["start"]), date.fromisoformat(label["end"])
        assert start < end
        before = [daily[start - timedelta(days=i)] for i in range(1, 15)]
        during = [daily[start + timedelta(days=i)] for i in range((end - start).days)]
        baseline = statistics.median(before)
        lift = sum(during) / len(during) - baseline
        extra = Decimal(label["extra_daily_cost"])
        assert lift > extra * Decimal("0.8"), (label["id"], lift, extra)
