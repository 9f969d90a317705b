"""Inventory snapshot and 90 days of daily utilization, consistent with the bill."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costloop.core.datasets import INVENTORY_COLUMNS, UTILIZATION_COLUMNS
from costloop.demo.company import PROVIDERS
from costloop.demo.csvtext import write_rows
from costloop.demo.model import Calendar, Resource
from costloop.demo.usage import current_size

__all__ = ["PROFILES", "UTILIZATION_DAYS", "write_inventory", "write_utilization"]

UTILIZATION_DAYS = 90
_STATS = ("avg", "p95", "p99", "max")

# Per profile and metric: typical daily (avg, p95, p99, max). Percent for cpu/memory.
PROFILES: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "busy": {"cpu": (42, 68, 78, 90), "memory": (58, 70, 75, 82)},
    "normal": {"cpu": (22, 45, 55, 70), "memory": (45, 55, 60, 66)},
    "oversized": {"cpu": (8, 15, 20, 26), "memory": (22, 27, 30, 33)},
    "oversized-cpu": {"cpu": (6, 13, 18, 24), "memory": (18, 24, 28, 31)},
    "idle": {"cpu": (0.6, 1.4, 2.0, 3.5), "memory": (9, 10, 11, 12)},
    "low": {"cpu": (2, 5, 8, 15), "memory": (20, 22, 24, 30)},
    "staging": {"cpu": (5, 22, 31, 48), "memory": (35, 40, 44, 50)},
    "batch": {"cpu": (14, 62, 80, 95), "memory": (40, 55, 62, 70)},
    "ci": {"cpu": (18, 75, 88, 97), "memory": (30, 50, 58, 66)},
    "busy-db": {"cpu": (38, 62, 71, 85), "memory": (70, 76, 79, 83)},
    "normal-db": {"cpu": (15, 30, 38, 50), "memory": (55, 60, 63, 68)},
    "volume": {"disk_iops": (350, 1100, 1600, 2400)},
    "volume-idle": {"disk_iops": (4, 11, 18, 35)},
    "unattached": {"disk_iops": (0, 0, 0, 0)},
    "lb": {"requests": (180, 420, 520, 700)},
    "lb-idle": {"requests": (0, 0, 0, 0)},
}
_QUIET = {"idle", "oversized", "oversized-cpu", "low", "staging"}


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _jitter(rid: str) -> timedelta:
    """A stable time of day, so creation times look like real launches."""
    h = int.from_bytes(hashlib.sha256(rid.encode()).digest()[:4], "little")
    return timedelta(minutes=h % (24 * 60), seconds=h % 60)


def _inventoried(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in resources if r.rid and r.kind]


def write_inventory(resources: Sequence[Resource], cal: Calendar, path: Path) -> int:
    """One row per resource at the snapshot (the end of the window); returns rows."""
    snap = cal.snapshot
    rows: list[list[str | None]] = []
    for r in _inventoried(resources):
        created = snap - timedelta(days=r.created_days_ago) + _jitter(r.rid)
        last = r.last_used_days_ago
        rows.append(
            [
                _stamp(snap),
                PROVIDERS[r.provider].name,
                r.account,
                r.region,
                r.rid,
                r.name,
                r.kind,
                current_size(r),
                None if r.size_gib is None else f"{r.size_gib:f}",
                r.state,
                r.attached_to,
                _stamp(created),
                None if last is None else _stamp(snap - timedelta(days=last, hours=1)),
                json.dumps(dict(r.tags), separators=(",", ":")),
                r.iac_address,
                r.iac_file,
            ]
        )
    columns = [pa.array(list(col), pa.string()) for col in zip(*rows, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        return write_rows(fh, columns, [name for name, _ in INVENTORY_COLUMNS])


def _profile(r: Resource, by_id: dict[str, Resource]) -> str:
    attached = by_id.get(r.attached_to or "")
    if r.kind == "volume" and attached is not None and attached.profile == "idle":
        return "volume-idle"
    return r.profile


def write_utilization(resources: Sequence[Resource], cal: Calendar, seed: int, path: Path) -> int:
    """Daily avg/p95/p99/max of cpu and memory (instances, databases), disk IOPS
    (volumes) and requests (load balancers) over the last 90 days; returns rows."""
    by_id = {r.rid: r for r in resources if r.rid}
    first = cal.snapshot - timedelta(days=UTILIZATION_DAYS)
    days = [first + timedelta(days=i) for i in range(UTILIZATION_DAYS)]
    stamps = np.array([_stamp(d) for d in days], dtype=object)
    weekend = np.array([d.weekday() >= 5 for d in days])
    out: dict[str, list[object]] = {"resource_id": [], "ts": [], "metric": [], "statistic": []}
    values: list[np.ndarray] = []
    for r in _inventoried(resources):
        profile = PROFILES.get(_profile(r, by_id))
        if profile is None:
            continue
        start = max(0, UTILIZATION_DAYS - r.created_days_ago)
        n = UTILIZATION_DAYS - start
        if n <= 0:
            continue
        digest = hashlib.sha256(f"util/{r.rid}".encode()).digest()
        rng = np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
        for metric, typical in profile.items():
            level = np.exp(0.08 * rng.standard_normal((n, 1)))
            if r.profile not in _QUIET:
                level = level * np.where(weekend[start:, None], 0.85, 1.0)
            spread = np.exp(0.05 * rng.standard_normal((n, 4)))
            stats = np.sort(np.array(typical) * level * spread, axis=1)
            if metric in ("cpu", "memory"):
                stats = np.minimum(stats, 100.0)
            for s, stat in enumerate(_STATS):
                out["resource_id"] += [r.rid] * n
                out["ts"] += list(stamps[start:])
                out["metric"] += [metric] * n
                out["statistic"] += [stat] * n
                values.append(np.round(stats[:, s], 2))
    columns = [pa.array(out[k], pa.string()) for k in ("resource_id", "ts", "metric", "statistic")]
    columns.append(pc.cast(pa.array(np.concatenate(values)), pa.string()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        return write_rows(fh, columns, [name for name, _ in UTILIZATION_COLUMNS])
