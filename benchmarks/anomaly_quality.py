"""Anomaly detection accuracy on the demo estate's planted, labelled anomalies.

Builds the demo workspace (``costloop demo --workspace DIR --seed N``; about 20 s) or
takes an existing one, runs :func:`costloop.analytics.anomalies.detect` and matches its
events to ``estate/labels/anomalies.json``:

* a detection matches a label when its window overlaps the label's window and its scope
  is consistent with the label: every column of the detected scope has the label's
  value (``team`` is compared with the label's team; a column the label does not name,
  such as ``RegionId`` or ``env``, must hold the value the labelled resource has);
* precision = matched detections / detections, recall = detected labels / labels;
* delay (days) = the day the detection passed both impact gates, counting its days one
  by one as a daily run would see them, minus the label's start; 0 means it was
  reported on the first day of the anomaly's data;
* with ``--replay``, detection is also re-run as a daily job would: for each of the
  first ``REPLAY_DAYS`` days of every label, on the series cut after that day. It gives
  the online delay (first day with a consistent event) and how many different scopes
  the incident was reported at along the way (1: the event kept its scope, so the
  stored event is updated rather than duplicated).

Usage::

    .venv/bin/python benchmarks/anomaly_quality.py                  # seed 7
    .venv/bin/python benchmarks/anomaly_quality.py --seed 11
    .venv/bin/python benchmarks/anomaly_quality.py --workspace demo-workspace --json
    .venv/bin/python benchmarks/anomaly_quality.py --workspace demo-workspace --replay
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from costloop.analytics.anomalies import Detection, detect, score_matrix, summary
from costloop.analytics.anomalies.events import deduplicate, find_events
from costloop.analytics.anomalies.series import build_series
from costloop.analytics.showback import allocation_dimensions
from costloop.core.anomalies import Anomaly, scope_key
from costloop.core.money import format_money
from costloop.warehouse.engine import Engine, open_engine
from costloop.workspace import Workspace

TARGET_RECALL = 0.9
TARGET_PRECISION = 0.8
REPLAY_DAYS = 14


@dataclass(frozen=True)
class Label:
    """One planted anomaly of the demo estate."""

    id: str
    kind: str
    start: date
    end: date
    scope: dict[str, str]
    team: str
    implied: dict[str, set[str]]


def build_workspace(root: Path, seed: int, months: int) -> Path:
    """Run ``costloop demo`` into ``root`` and return the workspace folder."""
    command = [
        sys.executable,
        "-c",
        "import sys; from costloop.cli.main import main; sys.exit(main())",
        "demo",
        "--workspace",
        str(root),
        "--seed",
        str(seed),
        "--months",
        str(months),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return root


def load_labels(ws: Workspace, engine: Engine) -> list[Label]:
    """The labels file, with the column values of each labelled resource."""
    raw = json.loads((ws.root / "estate" / "labels" / "anomalies.json").read_text())
    t = engine.table("allocated_charges")
    columns = [c for c in t.columns if f"{c}_source" in t.columns]
    columns += ["ProviderName", "BillingAccountId", "SubAccountId", "ServiceName", "RegionId"]
    labels = []
    for item in raw:
        resource = item["scope"].get("ResourceId")
        rows = engine.rows(t.filter(t.ResourceId == resource).select(*columns).distinct())
        implied = {c: {str(r[c]) for r in rows} for c in columns}
        labels.append(
            Label(
                id=item["id"],
                kind=item["kind"],
                start=date.fromisoformat(item["start"]),
                end=date.fromisoformat(item["end"]),
                scope=dict(item["scope"]),
                team=item["team"],
                implied=implied,
            )
        )
    return labels


def consistent(anomaly: Anomaly, label: Label) -> bool:
    """Whether a detected scope can be the label's scope (see the module docstring)."""
    return scope_fits(anomaly.scope, label)


def scope_fits(scope: dict[str, str], label: Label) -> bool:
    """``consistent`` on a bare scope."""
    for column, value in scope.items():
        if column in label.scope:
            if label.scope[column] != value:
                return False
        elif column == "team":
            if value != label.team:
                return False
        elif value not in label.implied.get(column, set()):
            return False
    return True


def overlaps(anomaly: Anomaly, label: Label) -> bool:
    """Whether the detected window and the label's window share a day."""
    return anomaly.start <= label.end and label.start <= anomaly.end


def reported_on(anomaly: Anomaly, min_impact: Decimal, min_pct: Decimal) -> date:
    """The first day on which the event's days so far pass both impact gates."""
    impact = expected = Decimal(0)
    for point in anomaly.series:
        if point.day < anomaly.start or point.day > anomaly.end:
            continue
        impact += point.actual - point.expected
        expected += point.expected
        pct_ok = expected <= 0 or impact / expected * 100 >= min_pct
        if impact >= min_impact and pct_ok:
            return point.day
    return anomaly.end


def evaluate(detection: Detection, labels: list[Label]) -> dict[str, Any]:
    """Match detections to labels and compute precision, recall and delay."""
    th = detection.thresholds
    per_label = []
    matched: set[int] = set()
    for label in labels:
        hits = [
            (i, a)
            for i, a in enumerate(detection.anomalies)
            if overlaps(a, label) and consistent(a, label)
        ]
        matched.update(i for i, _ in hits)
        first = min(hits, key=lambda h: h[1].start)[1] if hits else None
        delay = None
        if first is not None:
            delay = (reported_on(first, th.min_impact, th.min_impact_pct) - label.start).days
        per_label.append(
            {
                "id": label.id,
                "kind": label.kind,
                "start": label.start.isoformat(),
                "detected": first is not None,
                "detections": len(hits),
                "delay_days": delay,
                "found_kind": first.kind if first else None,
                "found_scope": first.key if first else None,
                "found_window": f"{first.start}..{first.end}" if first else None,
                "impact": str(first.impact) if first else None,
                "summary": summary(first) if first else None,
            }
        )
    false_positives = [
        {
            "scope": a.key,
            "window": f"{a.start}..{a.end}",
            "kind": a.kind,
            "impact": str(a.impact),
            "impact_pct": None if a.impact_pct is None else str(a.impact_pct),
            "score": a.score,
        }
        for i, a in enumerate(detection.anomalies)
        if i not in matched
    ]
    count = len(detection.anomalies)
    found = [p for p in per_label if p["detected"]]
    delays = [p["delay_days"] for p in found if p["delay_days"] is not None]
    return {
        "labels": per_label,
        "false_positives": false_positives,
        "detections": count,
        "precision": (len(matched) / count) if count else 1.0,
        "recall": len(found) / len(labels) if labels else 1.0,
        "mean_delay_days": sum(delays) / len(delays) if delays else None,
        "kinds_right": sum(1 for p in found if p["found_kind"] == p["kind"]),
    }


def replay(detection: Detection, engine: Engine, labels: list[Label]) -> dict[str, Any]:
    """Online delay and scope changes of each label, re-running detection day by day."""
    th = detection.thresholds
    series = build_series(engine, allocation_dimensions(engine))
    assert series is not None
    out: dict[str, Any] = {}
    for label in labels:
        start = (label.start - series.first_day).days
        seen: list[str] = []
        delay = None
        for day in range(start, min(start + REPLAY_DAYS, series.days)):
            values = series.values[:, : day + 1]
            scores = score_matrix(values, weeks=th.baseline_weeks, threshold=th.z_threshold)
            events = find_events(
                values,
                scores,
                min_impact=th.min_impact,
                min_impact_pct=th.min_impact_pct,
                threshold=th.z_threshold,
            )
            for event in deduplicate(events, series):
                scope = series.scopes[event.series]
                window_ok = event.first <= (label.end - series.first_day).days
                if window_ok and event.last >= start and scope_fits(scope, label):
                    delay = day - start if delay is None else delay
                    if scope_key(scope) not in seen:
                        seen.append(scope_key(scope))
        out[label.id] = {"online_delay_days": delay, "scopes_seen": seen}
    return out


def main(argv: list[str] | None = None) -> int:
    """Build or open the demo workspace, detect, score against the labels, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="demo estate seed (default 7)")
    parser.add_argument("--months", type=int, default=12, help="billing months (default 12)")
    parser.add_argument("--workspace", type=Path, help="an existing demo workspace to use")
    parser.add_argument("--workdir", type=Path, help="where to build the workspace")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--replay", action="store_true", help="also re-run detection day by day (slower)"
    )
    args = parser.parse_args(argv)

    console = Console(stderr=args.json, width=max(Console().width, 220))
    build_seconds = None
    if args.workspace is not None:
        root = args.workspace
    else:
        base = args.workdir or Path(tempfile.mkdtemp(prefix="costloop-anomaly-quality-"))
        root = base / f"demo-seed{args.seed}"
        console.print(f"Building the demo workspace (seed {args.seed}) in {root} …")
        began = time.perf_counter()
        build_workspace(root, args.seed, args.months)
        build_seconds = time.perf_counter() - began
    ws = Workspace.open(root)
    with open_engine(ws.lake) as engine:
        began = time.perf_counter()
        detection = detect(ws, engine)
        seconds = time.perf_counter() - began
        labels = load_labels(ws, engine)
        replayed = replay(detection, engine, labels) if args.replay else None
    result = evaluate(detection, labels)
    if replayed is not None:
        for entry in result["labels"]:
            entry |= replayed[entry["id"]]
        online = [r["online_delay_days"] for r in replayed.values()]
        found = [d for d in online if d is not None]
        result["online_mean_delay_days"] = sum(found) / len(found) if found else None
    result |= {
        "workspace": str(root),
        "seed": None if args.workspace else args.seed,
        "series": detection.series_count,
        "days": detection.days,
        "detect_seconds": round(seconds, 2),
        "build_seconds": None if build_seconds is None else round(build_seconds, 1),
        "thresholds": {
            "min_impact": str(detection.thresholds.min_impact),
            "min_impact_pct": str(detection.thresholds.min_impact_pct),
            "z_threshold": detection.thresholds.z_threshold,
            "baseline_weeks": detection.thresholds.baseline_weeks,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print(console, result, detection)
    return 0


def _print(console: Console, result: dict[str, Any], detection: Detection) -> None:
    """The tables: per label, false positives, and the summary figures."""
    replayed = "online_mean_delay_days" in result
    table = Table(title="Labelled anomalies")
    names = ["label", "kind", "start", "detected", "delay", "found kind", "scope found"]
    if replayed:
        names += ["online delay", "scopes seen"]
    for name in names:
        table.add_column(name)
    for p in result["labels"]:
        cells = [
            p["id"],
            p["kind"],
            p["start"],
            "yes" if p["detected"] else "NO",
            "" if p["delay_days"] is None else f"{p['delay_days']} d",
            p["found_kind"] or "",
            p["found_scope"] or "",
        ]
        if replayed:
            online = p["online_delay_days"]
            cells += ["" if online is None else f"{online} d", str(len(p["scopes_seen"]))]
        table.add_row(*cells)
    console.print(table)
    fps = Table(title=f"Unmatched detections ({len(result['false_positives'])})")
    for name in ("scope", "window", "kind", "impact", "impact %"):
        fps.add_column(name)
    for f in result["false_positives"]:
        fps.add_row(
            f["scope"],
            f["window"],
            f["kind"],
            format_money(Decimal(f["impact"]), detection.currency or "USD"),
            f["impact_pct"] or "new",
        )
    console.print(fps)
    delay = result["mean_delay_days"]
    console.print(
        f"series {result['series']} × {result['days']} days, detect {result['detect_seconds']} s"
        f" · detections {result['detections']} · precision {result['precision']:.2f}"
        f" (target ≥ {TARGET_PRECISION}) · recall {result['recall']:.2f}"
        f" (target ≥ {TARGET_RECALL}) · mean delay "
        + ("n/a" if delay is None else f"{delay:.1f} d")
        + f" · kind right {result['kinds_right']}/{sum(p['detected'] for p in result['labels'])}"
    )
    if replayed:
        online = result["online_mean_delay_days"]
        console.print(
            "daily replay: mean online delay " + ("n/a" if online is None else f"{online:.1f} d")
        )


if __name__ == "__main__":
    sys.exit(main())
