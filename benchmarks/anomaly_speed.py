"""Anomaly scoring speed: 10,000 daily series × 400 days, against a plain rolling median.

Generates ``--series`` synthetic daily cost series of ``--days`` days (a level between
$5 and $5,000 a day, a weekly pattern with weekend dips, a linear trend between −30 %
and +60 % a year, 3–15 % noise) and injects a spike (2–5 days) into a tenth of them
and a level shift (+40–150 %, lasting to the end) into another tenth. Then times, in
this process:

* ``detect``: :func:`costloop.analytics.anomalies.score_matrix` (the scoring ``detect``
  runs over a workspace's series) followed by the event step (merge runs, impact
  gates, kinds), with the default settings ($100, 20 %, z 3.5, 8 weeks);
* ``reference``: a plain numpy trailing 28-day rolling median of the same matrix
  (``sliding_window_view`` + ``np.median`` over the windows, in blocks of 1,000 series),
  the simplest robust baseline one could compute.

Prints series, days, seconds, series/s, peak RSS, the ratio to the reference, how many
injected anomalies worth at least $100 were found (starting within a day before to two
days after the injection), and how many series without an injection had an event (a
sanity check, not the accuracy benchmark: see ``anomaly_quality.py``). The target
(issue 5) is ≤ 10 s on 2 cores. Usage::

    .venv/bin/python benchmarks/anomaly_speed.py
    .venv/bin/python benchmarks/anomaly_speed.py --series 50000 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from rich.console import Console
from rich.table import Table

from costloop.analytics.anomalies.events import find_events
from costloop.analytics.anomalies.scoring import LEVEL_DAYS, score_matrix

TARGET_SECONDS = 10.0


def synthetic(series: int, days: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The cost matrix and where anomalies were injected."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = np.exp(rng.uniform(np.log(5), np.log(5000), series))[:, None]
    trend = 1 + rng.uniform(-0.3, 0.6, series)[:, None] * t[None, :] / 365
    dip = rng.uniform(0.0, 0.4, series)[:, None]
    weekly = np.where((t % 7)[None, :] >= 5, 1 - dip, 1.0)
    noise = 1 + rng.normal(0, 1, (series, days)) * rng.uniform(0.03, 0.15, series)[:, None]
    x = np.maximum(level * trend * weekly * noise, 0.0)
    kinds = rng.choice(["none", "spike", "shift"], series, p=[0.8, 0.1, 0.1])
    starts = rng.integers(60, days - 20, series)
    injected: dict[str, list[tuple[int, int, float]]] = {"spike": [], "shift": []}
    for i in np.flatnonzero(kinds == "spike"):
        window = slice(starts[i], starts[i] + int(rng.integers(2, 6)))
        before = x[i, window].sum()
        x[i, window] *= 1 + rng.uniform(1.0, 4.0)
        injected["spike"].append((int(i), int(starts[i]), float(x[i, window].sum() - before)))
    for i in np.flatnonzero(kinds == "shift"):
        factor = rng.uniform(0.4, 1.5)
        week = x[i, starts[i] : starts[i] + 7].sum() * factor
        x[i, starts[i] :] *= 1 + factor
        injected["shift"].append((int(i), int(starts[i]), float(week)))
    return x, injected


def reference(x: np.ndarray) -> np.ndarray:
    """A trailing rolling median of every series (the plain-numpy yardstick)."""
    out = np.full(x.shape, np.nan)
    for lo in range(0, x.shape[0], 1000):
        windows = sliding_window_view(x[lo : lo + 1000], LEVEL_DAYS, axis=1)
        out[lo : lo + 1000, LEVEL_DAYS:] = np.median(windows[:, :-1], axis=2)
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate, time both, print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="scoring threads (default: CPU count)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    x, injected = synthetic(args.series, args.days, args.seed)
    began = time.perf_counter()
    scores = score_matrix(x, weeks=8, threshold=3.5, workers=args.workers)
    events = find_events(
        x, scores, min_impact=Decimal(100), min_impact_pct=Decimal(20), threshold=3.5
    )
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    reference(x)
    ref_seconds = time.perf_counter() - began

    found = {(e.series, e.first) for e in events}
    # Injections worth at least the $100 gate (a spike's extra, a shift's first week).
    eligible = {
        kind: [(i, s) for i, s, extra in where if extra >= 100] for kind, where in injected.items()
    }
    hit = {
        kind: sum(1 for i, s in where if any((i, d) in found for d in range(s - 1, s + 3)))
        for kind, where in eligible.items()
    }
    flagged = {e.series for e in events}
    clean = args.series - len(injected["spike"]) - len(injected["shift"])
    anomalous = {i for where in injected.values() for i, _, _ in where}
    quiet_flagged = len(flagged - anomalous)
    figures = {
        "series": args.series,
        "days": args.days,
        "seconds": round(seconds, 2),
        "series_per_second": round(args.series / seconds),
        "peak_rss_mib": round(peak),
        "reference_seconds": round(ref_seconds, 2),
        "ratio_to_reference": round(seconds / ref_seconds, 2),
        "events": len(events),
        "spikes_found": f"{hit['spike']}/{len(eligible['spike'])}",
        "shifts_found": f"{hit['shift']}/{len(eligible['shift'])}",
        "clean_series_with_events": f"{quiet_flagged}/{clean}",
        "target_seconds": TARGET_SECONDS,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    table = Table(title="Anomaly scoring speed")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name.replace("_", " "), str(value))
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
