"""OpenCost namespace costs of the shared EKS cluster ``stride-prod``, one window per day.

The cluster's nodes are the EC2 instances tagged ``aws:eks:cluster-name = stride-prod``;
their on-demand cost each day (hours x list price, the bill's ListCost) is what
OpenCost prices and divides: every namespace's CPU and RAM cost, plus ``__idle__`` for
the capacity no pod requested, add up to that day's node cost exactly. Volumes claimed
by pods (PV cost) and network egress come on top, so a day's ``totalCost`` is a little
above the node cost, as in a real OpenCost export. The file is the allocation API
response of ``/allocation/compute?aggregate=namespace&step=1d&accumulate=false``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from costloop.demo.model import Calendar, unit_price
from costloop.demo.usage import Line

__all__ = ["CLUSTER", "NAMESPACES", "node_costs", "opencost_json", "write_kubernetes"]

CLUSTER = "stride-prod"
_TAG = "aws:eks:cluster-name"
_PLACES = Decimal("0.000001")
# OpenCost's default AWS prices per vCPU-hour and per GiB-hour of RAM (on-demand split).
_CPU_HOUR = Decimal("0.031611")
_RAM_GIB_HOUR = Decimal("0.004237")
_GIB = 1 << 30
_PV_GIB_MONTH = Decimal("0.08")  # gp3


@dataclass(frozen=True)
class _Namespace:
    """How a namespace uses the cluster.

    Attributes:
        name: the namespace.
        share: its part of the node cost at the end of the window.
        cpu: the CPU part of its node cost (the rest is RAM).
        growth: monthly growth of its share.
        weekend: share lost on Saturdays and Sundays (0.2 = 20 % less; negative for
            weekend batch work).
        noise: sigma of the day-to-day multiplicative noise.
        pv_gib: GiB of persistent volumes its pods claim.
        egress: network cost per day.
    """

    name: str
    share: float
    cpu: float
    growth: float
    weekend: float
    noise: float
    pv_gib: int
    egress: Decimal


NAMESPACES: tuple[_Namespace, ...] = (
    _Namespace("checkout", 0.27, 0.66, 0.02, 0.10, 0.05, 40, Decimal("0.42")),
    _Namespace("catalog", 0.21, 0.61, 0.01, 0.12, 0.05, 20, Decimal("0.35")),
    _Namespace("search", 0.17, 0.52, 0.04, 0.05, 0.06, 500, Decimal("0.18")),
    _Namespace("data-pipelines", 0.14, 0.58, 0.03, -0.30, 0.12, 200, Decimal("0.09")),
    _Namespace("kube-system", 0.05, 0.55, 0.0, 0.0, 0.02, 0, Decimal("0.02")),
)
"""The namespaces of stride-prod; ``__idle__`` takes the node cost they leave."""

_MAX_USED = 0.93  # requests never fill the nodes: at least 7 % stays idle


def node_costs(lines: Sequence[Line], cal: Calendar) -> list[Decimal]:
    """On-demand cost of the cluster's nodes on each day of the estate's window."""
    costs = [Decimal(0)] * cal.n_window
    for line in lines:
        res = line.resource
        if res.kind != "instance" or res.tags.get(_TAG) != CLUSTER or line.meter.key != "hours":
            continue
        scale = Decimal(1).scaleb(-line.meter.qty_places)
        for day in np.nonzero(line.qty[: cal.n_window])[0]:
            size = line.size_names[int(line.sizes[day])]
            price = unit_price(line.meter, size)
            costs[int(day)] += int(line.qty[day]) * scale * price
    return costs


def _shares(cal: Calendar, seed: int) -> list[list[float]]:
    """Per day, each namespace's share of the node cost (seeded, deterministic)."""
    key = int.from_bytes(hashlib.sha256(b"kubernetes/" + CLUSTER.encode()).digest()[:8], "little")
    rng = np.random.default_rng([seed, key])
    weekend = cal.weekday[: cal.n_window] >= 5
    months = cal.months_to_end[: cal.n_window]
    columns = []
    for ns in NAMESPACES:
        trend = ns.share * (1.0 + ns.growth) ** months
        dip = np.where(weekend, 1.0 - ns.weekend, 1.0)
        noise = np.exp(ns.noise * rng.standard_normal(cal.n_window) - ns.noise**2 / 2)
        columns.append(trend * dip * noise)
    matrix = np.array(columns).T
    used = matrix.sum(axis=1, keepdims=True)
    matrix = np.where(used > _MAX_USED, matrix * (_MAX_USED / used), matrix)
    return [[float(v) for v in row] for row in matrix]


def _text(value: Decimal) -> str:
    """A JSON number for an exact decimal (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _allocation(
    name: str, start: str, end: str, cpu: Decimal, ram: Decimal, pv_gib: int, egress: Decimal
) -> str:
    pv = (Decimal(pv_gib) * _PV_GIB_MONTH / 30).quantize(_PLACES)
    total = cpu + ram + pv + egress
    props = (
        {"cluster": CLUSTER} if name.startswith("__") else {"cluster": CLUSTER, "namespace": name}
    )
    cores = (cpu / (_CPU_HOUR * 24)).quantize(Decimal("0.0001"))
    ram_bytes = int(ram / (_RAM_GIB_HOUR * 24) * _GIB)
    fields = {
        "name": json.dumps(name),
        "properties": json.dumps(props),
        "window": json.dumps({"start": start, "end": end}),
        "start": json.dumps(start),
        "end": json.dumps(end),
        "minutes": "1440",
        "cpuCores": _text(cores),
        "cpuCoreHours": _text(cores * 24),
        "cpuCost": _text(cpu),
        "gpuCount": "0",
        "gpuCost": "0",
        "networkCost": _text(egress),
        "loadBalancerCost": "0",
        "pvBytes": str(pv_gib * _GIB),
        "pvCost": _text(pv),
        "ramBytes": str(ram_bytes),
        "ramByteHours": str(ram_bytes * 24),
        "ramCost": _text(ram),
        "sharedCost": "0",
        "externalCost": "0",
        "totalCost": _text(total),
    }
    body = ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items())
    return f"{json.dumps(name)}: {{{body}}}"


def opencost_json(lines: Sequence[Line], cal: Calendar, seed: int) -> str:
    """The allocation API response for stride-prod over the estate's window, as text.

    One window per day; namespaces :data:`NAMESPACES` and ``__idle__``. Numbers are
    written exactly (decimal text, never through a float).
    """
    costs = node_costs(lines, cal)
    shares = _shares(cal, seed)
    windows = []
    for day, (cost, row) in enumerate(zip(costs, shares, strict=True)):
        start, end = cal.stamps[day], cal.stamps[day + 1]
        allocations = []
        used = Decimal(0)
        for ns, share in zip(NAMESPACES, row, strict=True):
            amount = (cost * Decimal(f"{share:.6f}")).quantize(_PLACES)
            cpu = (amount * Decimal(f"{ns.cpu:.2f}")).quantize(_PLACES)
            used += amount
            allocations.append(
                _allocation(ns.name, start, end, cpu, amount - cpu, ns.pv_gib, ns.egress)
            )
        idle = cost - used
        idle_cpu = (idle * Decimal("0.6")).quantize(_PLACES)
        allocations.append(
            _allocation("__idle__", start, end, idle_cpu, idle - idle_cpu, 0, Decimal(0))
        )
        windows.append("    {" + ", ".join(allocations) + "}")
    return '{\n  "code": 200,\n  "data": [\n' + ",\n".join(windows) + "\n  ]\n}\n"


def write_kubernetes(lines: Sequence[Line], cal: Calendar, seed: int, path: Path) -> None:
    """Write :func:`opencost_json` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(opencost_json(lines, cal, seed), encoding="utf-8", newline="\n")
