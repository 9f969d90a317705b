"""Daily quantities of every meter: growth, weekly seasonality, noise, anomalies, changes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from costloop.demo.anomalies import ANOMALIES, window
from costloop.demo.model import Calendar, Meter, Pattern, Resource, unit_price

__all__ = ["Change", "Line", "build_lines", "current_size"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Change:
    """A change applied to a resource from a day on (``delete`` or ``set`` its size)."""

    day: int
    action: str
    value: str | None = None


@dataclass
class Line:
    """One meter of one resource over the horizon.

    Attributes:
        resource: the resource.
        meter: the meter.
        qty: PricingQuantity per day in units of ``10 ** -meter.qty_places`` (0: no charge).
        sizes: per day, an index into ``size_names`` (the resource size that day).
        size_names: sizes the resource had.
    """

    resource: Resource
    meter: Meter
    qty: I64
    sizes: I64
    size_names: list[str | None]


def current_size(resource: Resource) -> str | None:
    """The resource size at the snapshot, after its recorded resizes."""
    return resource.resizes[-1][1] if resource.resizes else resource.size


def _rng(seed: int, key: str) -> np.random.Generator:
    digest = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def _weekly(cal: Calendar, dip: float) -> F64:
    return np.where(cal.weekday >= 5, 1.0 - dip, 1.0)


def _quantity(meter: Meter, cal: Calendar, rng: np.random.Generator) -> F64:
    growth = (1.0 + meter.growth) ** cal.months_to_end
    noise = np.exp(meter.noise * rng.standard_normal(cal.n) - meter.noise**2 / 2)
    if meter.pattern is Pattern.HOURS:
        return np.full(cal.n, 24.0)
    if meter.pattern is Pattern.BURST:
        share = meter.base * growth * _weekly(cal, meter.weekend) * noise
        return np.clip(24.0 * share, 0.0, 24.0)
    if meter.pattern is Pattern.STORAGE:
        return meter.base * growth / cal.days_in_month
    return meter.base * growth * _weekly(cal, meter.weekend) * noise


def _sizes(
    resource: Resource, cal: Calendar, changes: Sequence[Change]
) -> tuple[I64, list[str | None]]:
    names: list[str | None] = [resource.size]
    codes = np.zeros(cal.n, dtype=np.int64)
    steps: list[tuple[int, str | None]] = [(cal.n_window - ago, sz) for ago, sz in resource.resizes]
    steps += [(c.day, c.value) for c in changes if c.action == "set"]
    for day, size in sorted(steps, key=lambda s: s[0]):
        if size not in names:
            names.append(size)
        codes[max(day, 0) :] = names.index(size)
    return codes, names


def build_lines(
    resources: Sequence[Resource],
    cal: Calendar,
    seed: int,
    changes: Mapping[str, Sequence[Change]] | None = None,
) -> list[Line]:
    """Every billed line of the estate over the calendar's horizon."""
    changes = changes or {}
    extra: dict[tuple[str, str], list[tuple[int, int, Decimal]]] = {}
    for spec in ANOMALIES:
        start, end = window(spec, cal)
        extra.setdefault((spec.resource, spec.meter), []).append(
            (start, end, spec.extra_daily_cost)
        )
    lines: list[Line] = []
    days = np.arange(cal.n)
    for res in resources:
        res_changes = changes.get(res.rid, ()) if res.rid else ()
        alive = days >= cal.n_window - res.created_days_ago
        for c in res_changes:
            if c.action == "delete":
                alive &= days < c.day
        sizes, size_names = _sizes(res, cal, res_changes)
        for meter in res.meters:
            key = f"{res.provider}/{res.account}/{res.rid or res.name}/{meter.key}"
            qty = _quantity(meter, cal, _rng(seed, key))
            for start, end, cost in extra.get((res.name, meter.key), []):
                qty[start:end] += float(cost / unit_price(meter, None))
            scaled = np.rint(np.where(alive, qty, 0.0) * 10.0**meter.qty_places)
            lines.append(Line(res, meter, scaled.astype(np.int64), sizes, size_names))
    return lines
