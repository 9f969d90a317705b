"""Accuracy on the demo estate: its six planted anomalies, and nothing else."""

from __future__ import annotations

import json
from datetime import date

import pytest

from costloop.analytics.anomalies import detect
from costloop.warehouse.engine import open_engine


@pytest.mark.slow
def test_the_planted_anomalies_are_found_once_each(demo_ws) -> None:
    labels = json.loads((demo_ws.root / "estate" / "labels" / "anomalies.json").read_text())
    with open_engine(demo_ws.lake) as engine:
        detection = detect(demo_ws, engine)
    found = []
    for label in labels:
        start, end = date.fromisoformat(label["start"]), date.fromisoformat(label["end"])
        hits = [
            a
            for a in detection.anomalies
            if a.start <= end
            and start <= a.end
            and a.scope.get("ServiceName") == label["scope"]["ServiceName"]
        ]
        assert len(hits) == 1, label["id"]
        (hit,) = hits
        # Reported on the first day, or (a level shift of ~$35/day) once it passes $100.
        assert (hit.start - start).days <= 2, label["id"]
        assert hit.kind == label["kind"], label["id"]
        resources = [c.value for c in hit.root_cause if c.dimension == "ResourceId"]
        assert resources[0] == label["scope"]["ResourceId"], label["id"]
        assert hit.team == label["team"], label["id"]
        found.append(hit)
    # Recall 1 and precision 1: every detection is one of the labelled incidents.
    assert sorted(found, key=lambda a: a.start) == sorted(
        detection.anomalies, key=lambda a: a.start
    )
