"""Root cause of an anomaly: which services, accounts, regions, SKUs and resources drove it.

For one event, the charges of its scope are read for the window and the ``weeks`` weeks
before it, grouped by day and contributor. A contributor's expected cost on a window day
is the median of its cost on the same weekday over the ``weeks`` weeks just before the
window (so the event's own days never raise its baseline); its contribution is
Σ actual − Σ expected over the window, and its share is that over the anomaly's impact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from costloop.analytics.anomalies.series import MISSING, consumption
from costloop.core.anomalies import Anomaly, RootCause
from costloop.core.money import format_money, quantize
from costloop.warehouse.engine import Engine

__all__ = ["NO_TEAM", "ROOT_CAUSE_DIMENSIONS", "Drilldown", "Sources", "drill_down", "summary"]

ROOT_CAUSE_DIMENSIONS = ("ServiceName", "SubAccountId", "RegionId", "SkuId", "ResourceId")
_PER_DIMENSION = 3
# Team values that name nobody.
NO_TEAM = frozenset({"unallocated", MISSING})
# Contributors explaining less than this share of the impact are noise, not causes.
_MIN_SHARE = Decimal("0.05")
_CENT = Decimal("0.01")
_SHARE = Decimal("0.001")


@dataclass(frozen=True)
class Sources:
    """The table expressions a drill-down reads (built once for many events).

    Attributes:
        consumption: ``allocated_charges`` without non-consumption (``consumption``).
        charges: the ``charges`` table (for ``SkuId``).
    """

    consumption: Any
    charges: Any

    @classmethod
    def of(cls, engine: Engine) -> Sources:
        """The expressions over an engine's warehouse."""
        return cls(consumption(engine), engine.table("charges"))


@dataclass(frozen=True)
class Drilldown:
    """Contributors of one event and the team carrying most of its impact.

    ``team`` is None when the largest contribution is unallocated cost (or none is
    positive).
    """

    causes: tuple[RootCause, ...]
    team: str | None


def drill_down(
    engine: Engine,
    *,
    scope: dict[str, str],
    currency: str,
    start: date,
    end: date,
    weeks: int,
    impact: Decimal,
    sources: Sources | None = None,
) -> Drilldown:
    """Rank the contributors of an event's impact along each root-cause dimension.

    Args:
        engine: warehouse engine.
        scope: the event's scope (column → value; ``(none)`` stands for null).
        currency: billing currency of the event.
        start: first day of the window.
        end: last day of the window (inclusive).
        weeks: weeks of history before the window that form each contributor's baseline.
        impact: the event's total impact (the denominator of each share).
        sources: the table expressions to read (``Sources.of(engine)`` by default;
            pass one to reuse it across events).

    Returns:
        Up to three contributors per dimension explaining at least 5 % of the impact,
        ranked by contribution (largest first), and the team with the largest
        contribution.
    """
    history = start - timedelta(days=7 * weeks)
    lo = datetime.combine(history, time())
    hi = datetime.combine(end + timedelta(days=1), time())
    tables = sources or Sources.of(engine)
    a = tables.consumption
    filters = [
        a.BillingCurrency == currency,
        a.ChargePeriodStart >= lo,
        a.ChargePeriodStart < hi,
    ]
    for column, value in scope.items():
        filters.append(a[column].isnull() if value == MISSING else a[column] == value)
    a = a.filter(*filters)
    c = tables.charges
    c = c.filter(c.ChargePeriodStart >= lo, c.ChargePeriodStart < hi).select(
        c.x_SourceId.name("c_id"),
        c.x_SourceFile.name("c_file"),
        c.x_SourceRow.name("c_row"),
        c.SkuId.name("SkuId"),
    )
    joined = a.left_join(
        c,
        [a.x_SourceId == c.c_id, a.x_SourceFile == c.c_file, a.x_SourceRow == c.c_row],
    )
    has_team = "team" in a.columns
    keys = [k for k in ROOT_CAUSE_DIMENSIONS if k != "SkuId"]
    groups = [joined.ChargePeriodStart.truncate("D").name("day")]
    groups += [joined[k].fill_null(MISSING).name(k) for k in keys]
    groups.append(joined.SkuId.fill_null(MISSING).name("SkuId"))
    if has_team:
        groups.append(joined.team.fill_null(MISSING).name("team"))
    rows = engine.rows(joined.group_by(groups).aggregate(cost=joined.EffectiveCost.sum()))

    causes: list[RootCause] = []
    for dimension in ROOT_CAUSE_DIMENSIONS:
        ranked = _contributions(rows, dimension, history, start, end, weeks)
        for value, contribution in ranked[:_PER_DIMENSION]:
            share = (contribution / impact).quantize(_SHARE) if impact > 0 else Decimal(0)
            if contribution <= 0 or share < _MIN_SHARE:
                break
            causes.append(RootCause(dimension, value, contribution, share))
    team = None
    if has_team:
        teams = _contributions(rows, "team", history, start, end, weeks)
        if teams and teams[0][1] > 0 and teams[0][0] not in NO_TEAM:
            team = teams[0][0]
    order = {d: i for i, d in enumerate(ROOT_CAUSE_DIMENSIONS)}
    causes.sort(key=lambda r: (-r.impact, order[r.dimension]))
    return Drilldown(tuple(causes), team)


def _contributions(
    rows: Sequence[dict[str, object]],
    dimension: str,
    history: date,
    start: date,
    end: date,
    weeks: int,
) -> list[tuple[str, Decimal]]:
    """(value, actual − expected over the window) per value of one column, largest first."""
    values: dict[str, int] = {}
    ndays = (end - history).days + 1
    for r in rows:
        values.setdefault(str(r[dimension]), len(values))
    if not values:
        return []
    daily = np.zeros((len(values), ndays))
    actual = [Decimal(0)] * len(values)
    offset = (start - history).days
    for r in rows:
        day = r["day"]
        assert isinstance(day, datetime)
        index = (day.date() - history).days
        cost = r["cost"]
        assert isinstance(cost, Decimal)
        v = values[str(r[dimension])]
        daily[v, index] += float(cost)
        if index >= offset:
            actual[v] += cost
    expected = np.zeros(len(values))
    for d in range(offset, ndays):
        # The same weekday in each of the `weeks` weeks before the window.
        back = (d - offset) // 7 + 1
        lags = [d - 7 * k for k in range(back, back + weeks) if d - 7 * k >= 0]
        if lags:
            expected += np.median(daily[:, lags], axis=1)
    out = [
        (value, actual[i] - Decimal(repr(float(expected[i]))).quantize(_CENT))
        for value, i in values.items()
    ]
    return sorted(out, key=lambda item: (-item[1], item[0]))


def summary(anomaly: Anomaly) -> str:
    """A one-line description, e.g. ``+$412.30/day, 92% from AWS Lambda in 2109…, …``.

    The daily figure is the impact over the window's days; the rest names the top
    service, account and resource with the share of the impact each explains.
    """
    per_day = quantize(anomaly.impact / anomaly.days)
    text = f"+{format_money(per_day, anomaly.currency)}/day"
    if anomaly.impact_pct is not None:
        text += f" ({anomaly.impact_pct:.0f}% above expected)"
    top: dict[str, RootCause] = {}
    for cause in anomaly.root_cause:
        top.setdefault(cause.dimension, cause)
    service = top.get("ServiceName")
    if service is None:
        return text
    text += f", {service.share * 100:.0f}% from {service.value}"
    account = top.get("SubAccountId")
    if account is not None and account.share >= Decimal("0.5"):
        text += f" in {account.value}"
    resource = top.get("ResourceId")
    if resource is not None and resource.share >= Decimal("0.5") and resource.value != MISSING:
        text += f", resource {resource.value} ({resource.share * 100:.0f}%)"
    return text
