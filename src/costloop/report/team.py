"""The per-team monthly showback report: cost, trend, top drivers, shared cost, owner.

Costs come from ``allocated_charges`` filtered to the team. The headline shows billed,
effective and list cost against the previous month; rankings, the trend chart and the
shared-cost share use EffectiveCost (amortized: what the team consumed). Amounts in
different currencies are kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis

from costloop.analytics.showback import billing_periods, daily_costs, select_periods
from costloop.core.errors import NotFoundError
from costloop.core.money import ZERO
from costloop.core.org import Org
from costloop.core.periods import Month
from costloop.report.render import label
from costloop.warehouse.engine import Engine

__all__ = ["Costs", "PoolShare", "Ranked", "TeamReport", "known_teams", "team_report"]

TREND_MONTHS = 6
TOP = 5
_CHART_SERVICES = 5


@dataclass(frozen=True)
class Costs:
    """Billed, effective and list cost of one month in one currency."""

    billed: Decimal = ZERO
    effective: Decimal = ZERO
    list_cost: Decimal = ZERO


@dataclass(frozen=True)
class Ranked:
    """One of the team's top services, accounts or resources (EffectiveCost)."""

    name: str | None
    detail: str | None
    currency: str
    cost: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class PoolShare:
    """EffectiveCost the team received from one shared-cost pool."""

    pool: str
    method: str
    currency: str
    cost: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class TeamReport:
    """Everything the team report shows, already computed (money as Decimal).

    Attributes:
        previous: the previous month's costs per currency, None when the warehouse
            holds no data for that month.
        trend: per currency, the costs of each month of ``trend_months``.
        trend_by_service: per currency, EffectiveCost per month of the top services
            (and ``other``), for the chart.
    """

    team: str
    month: Month
    company: str
    owner: str
    channel: str
    current: dict[str, Costs]
    previous: dict[str, Costs] | None
    trend_months: tuple[Month, ...]
    trend: dict[str, list[Costs]]
    trend_by_service: dict[str, dict[str, list[Decimal]]]
    services: tuple[Ranked, ...]
    accounts: tuple[Ranked, ...]
    resources: tuple[Ranked, ...]
    shared: tuple[PoolShare, ...]
    shared_total: dict[str, Decimal] = field(default_factory=dict)

    @property
    def currencies(self) -> list[str]:
        """Currencies with cost in the trend window, sorted."""
        return sorted(self.trend)

    def previous_costs(self, currency: str) -> Costs | None:
        """Previous month's costs in a currency (zero costs if none; None if no data)."""
        if self.previous is None:
            return None
        return self.previous.get(currency, Costs())

    def shared_share(self, currency: str) -> Decimal | None:
        """Share (0..1) of the month's EffectiveCost that came from shared-cost pools."""
        total = self.current.get(currency, Costs()).effective
        part = self.shared_total.get(currency, ZERO)
        return None if total == 0 else part / total


def known_teams(engine: Engine, org: Org) -> list[str]:
    """Teams of the org file and every team that has allocated cost, sorted."""
    t = daily_costs(engine)
    seen = {r["team"] for r in engine.rows(t.select("team").distinct()) if r["team"]}
    return sorted(seen | {team.name for team in org.teams})


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole


def team_report(engine: Engine, org: Org, team: str, month: Month | None = None) -> TeamReport:
    """Collect a team's report for ``month`` (default: the latest billing period).

    Raises:
        NotFoundError: the team is neither in the org file nor in the allocated cost,
            or there are no allocated charges for the month.
    """
    teams = known_teams(engine, org)
    if team not in teams:
        raise NotFoundError(f"unknown team {team!r}; teams: {', '.join(teams) or '(none)'}")
    available = billing_periods(engine)
    month = select_periods(available, month, month)[0]
    window = [m for m in available if m <= month][-TREND_MONTHS:]
    # Everything but the top resources comes from the daily rollup.
    daily = daily_costs(engine)
    daily_mine = daily.filter(daily.team == team)
    span = daily_mine.filter(
        (daily_mine.BillingPeriodStart >= window[0].start)
        & (daily_mine.BillingPeriodStart < month.end)
    )
    t = engine.table("allocated_charges")
    mine = t.filter(t.team == team)
    per_month: dict[tuple[str, Month], Costs] = {}
    for r in engine.rows(
        span.group_by(["BillingCurrency", "BillingPeriodStart"]).aggregate(
            billed=span.BilledCost.sum(),
            effective=span.EffectiveCost.sum(),
            list_cost=span.ListCost.sum(),
        )
    ):
        per_month[(r["BillingCurrency"], Month.of(r["BillingPeriodStart"]))] = Costs(
            r["billed"] or ZERO, r["effective"] or ZERO, r["list_cost"] or ZERO
        )
    currencies = sorted({c for c, _ in per_month})
    trend = {c: [per_month.get((c, m), Costs()) for m in window] for c in currencies}
    current = {c: per_month[(c, month)] for c in currencies if (c, month) in per_month}
    prev = month.previous()
    previous = (
        {c: per_month[(c, prev)] for c in currencies if (c, prev) in per_month}
        if prev in available
        else None
    )
    now = mine.filter(mine.BillingPeriodStart == month.start)
    now_daily = span.filter(span.BillingPeriodStart == month.start)
    res = now.filter(now.ResourceId.notnull() & (now.ResourceId != ""))
    totals = {c: v.effective for c, v in current.items()}
    entry = org.team(team)
    return TeamReport(
        team=team,
        month=month,
        company=org.company,
        owner=entry.owner if entry else "",
        channel=entry.channel if entry else "",
        current=current,
        previous=previous,
        trend_months=tuple(window),
        trend=trend,
        trend_by_service=_service_trend(engine, span, window),
        services=_top(engine, now_daily, now_daily.ServiceName, None, totals),
        accounts=_top(
            engine, now_daily, now_daily.SubAccountId, now_daily.SubAccountName.max(), totals
        ),
        resources=_top(
            engine,
            res,
            res.ResourceId,
            res.ResourceName.max().coalesce(res.ServiceName.max()),
            totals,
        ),
        shared=_pools(engine, now_daily, totals),
        shared_total=_shared_totals(engine, now_daily),
    )


def _top(
    engine: Engine, table: Any, name: Any, detail: Any | None, totals: dict[str, Decimal]
) -> tuple[Ranked, ...]:
    """Top ``TOP`` values of ``name`` by EffectiveCost in each currency, largest first."""
    aggs: dict[str, Any] = {"cost": table.EffectiveCost.sum()}
    if detail is not None:
        aggs["detail"] = detail
    agg = table.group_by([table.BillingCurrency, name.name("name")]).aggregate(**aggs)
    order = ibis.window(group_by=agg.BillingCurrency, order_by=[ibis.desc(agg.cost), agg.name])
    ranked = agg.mutate(rank=ibis.row_number().over(order))
    rows = engine.rows(ranked.filter(ranked["rank"] < TOP))
    rows.sort(key=lambda r: (r["BillingCurrency"], r["rank"]))
    return tuple(
        Ranked(
            r["name"],
            r.get("detail"),
            r["BillingCurrency"],
            r["cost"] or ZERO,
            _share(r["cost"] or ZERO, totals.get(r["BillingCurrency"], ZERO)),
        )
        for r in rows
    )


def _pools(engine: Engine, table: Any, totals: dict[str, Decimal]) -> tuple[PoolShare, ...]:
    pooled = table.filter(table.x_AllocationPool.notnull())
    agg = pooled.group_by(["BillingCurrency", "x_AllocationPool", "AllocatedMethodId"]).aggregate(
        cost=pooled.EffectiveCost.sum()
    )
    out = [
        PoolShare(
            r["x_AllocationPool"],
            (r["AllocatedMethodId"] or "unspecified").removeprefix("costloop:"),
            r["BillingCurrency"],
            r["cost"] or ZERO,
            _share(r["cost"] or ZERO, totals.get(r["BillingCurrency"], ZERO)),
        )
        for r in engine.rows(agg)
    ]
    return tuple(sorted(out, key=lambda p: (p.currency, -p.cost, p.pool)))


def _shared_totals(engine: Engine, table: Any) -> dict[str, Decimal]:
    pooled = table.filter(table.x_AllocationPool.notnull())
    agg = pooled.group_by("BillingCurrency").aggregate(cost=pooled.EffectiveCost.sum())
    return {r["BillingCurrency"]: r["cost"] or ZERO for r in engine.rows(agg)}


def _service_trend(
    engine: Engine, span: Any, window: list[Month]
) -> dict[str, dict[str, list[Decimal]]]:
    agg = span.group_by(["BillingCurrency", "BillingPeriodStart", "ServiceName"]).aggregate(
        cost=span.EffectiveCost.sum()
    )
    index = {m: i for i, m in enumerate(window)}
    series: dict[str, dict[str, list[Decimal]]] = {}
    for r in engine.rows(agg):
        per = series.setdefault(r["BillingCurrency"], {})
        values = per.setdefault(label(r["ServiceName"]), [ZERO] * len(window))
        values[index[Month.of(r["BillingPeriodStart"])]] += r["cost"] or ZERO
    out: dict[str, dict[str, list[Decimal]]] = {}
    for currency, per in series.items():
        ranked = sorted(per.items(), key=lambda kv: (-sum(kv[1], ZERO), kv[0]))
        shown = dict(ranked[:_CHART_SERVICES])
        rest = ranked[_CHART_SERVICES:]
        if rest:
            shown["other"] = [sum((v[i] for _, v in rest), ZERO) for i in range(len(window))]
        out[currency] = shown
    return out
