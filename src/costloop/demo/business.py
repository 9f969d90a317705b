"""Business metrics: daily orders and active users per channel, moving with traffic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from costloop.core.datasets import BUSINESS_METRICS_COLUMNS
from costloop.demo.anomalies import ANOMALIES, window
from costloop.demo.csvtext import write_rows
from costloop.demo.model import Calendar

__all__ = ["write_business"]

# Orders per day at the end of the window, and active users per order.
_CHANNELS = {"web": 2400.0, "app": 1500.0}
_USERS_PER_ORDER = {"web": 14.0, "app": 9.0}
_GROWTH = 0.03  # per month, the same traffic growth that drives usage-based cost
_WEEKEND = 0.2


def write_business(cal: Calendar, seed: int, path: Path) -> int:
    """``orders`` and ``active_users`` per day and channel over the window; returns rows."""
    n = cal.n_window
    growth = (1.0 + _GROWTH) ** cal.months_to_end[:n]
    weekly = np.where(cal.weekday[:n] >= 5, 1.0 - _WEEKEND, 1.0)
    campaign = np.ones(n)
    for spec in ANOMALIES:
        if spec.team == "marketing-web":
            start, end = window(spec, cal)
            campaign[start : min(end, n)] = 1.3  # the campaign did sell sneakers
    dates = [d.isoformat() for d in cal.days[:n]]
    cols: dict[str, list[str]] = {"date": [], "metric": [], "value": [], "dimension": []}
    rng = np.random.default_rng([seed, 4242])
    for channel, base in _CHANNELS.items():
        noise = np.exp(0.04 * rng.standard_normal(n))
        lift = campaign if channel == "web" else np.ones(n)
        orders = np.rint(base * growth * weekly * noise * lift).astype(np.int64)
        users = np.rint(orders * _USERS_PER_ORDER[channel] * np.exp(0.03 * rng.standard_normal(n)))
        for metric, values in (("orders", orders), ("active_users", users.astype(np.int64))):
            cols["date"] += dates
            cols["metric"] += [metric] * n
            cols["value"] += [str(int(v)) for v in values]
            cols["dimension"] += [channel] * n
    columns = [pa.array(cols[name], pa.string()) for name, _ in BUSINESS_METRICS_COLUMNS]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        return write_rows(fh, columns, [name for name, _ in BUSINESS_METRICS_COLUMNS])
