"""Team allocation: normalized tag → account mapping from the org file → ``unallocated``.

For each charge the first rule that yields a known team wins:

1. **tag**: the first of the configured tag keys (``allocation.team_tag_keys``;
   keys were lower-cased at ingest, so ``Team``/``TEAM`` match) whose value names a
   team of the org file. Values are compared case- and separator-insensitively and
   through each team's ``tag_values`` aliases, so ``Check-Out`` finds ``checkout``.
2. **account**: the team the org file gives the charge's SubAccountId.
3. **unallocated** otherwise.

Allocation never changes money: each charge row is copied once with its team, so
Σ allocated = Σ source for every period and measure, and this is checked before
the result is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis

from costloop.core.errors import CostloopError
from costloop.core.focus import MONEY_COLUMNS
from costloop.core.org import Org
from costloop.warehouse.engine import Engine

__all__ = ["UNALLOCATED", "AllocationResult", "allocate", "team_expression"]

UNALLOCATED = "unallocated"


def _norm(value: Any) -> Any:
    return value.lower().re_replace("[^a-z0-9]", "")


def _lookup(value: Any, mapping: dict[str, str]) -> Any:
    if not mapping:
        return ibis.null("string")
    return value.cases(*mapping.items(), else_=ibis.null("string"))


def team_expression(charges: Any, org: Org, tag_keys: list[str]) -> tuple[Any, Any]:
    """Ibis expressions (team, team_source) for a charges table expression."""
    by_value: dict[str, str] = {}
    for team in org.teams:
        for value in (team.name, *team.tag_values):
            key = "".join(ch for ch in value.lower() if ch.isalnum())
            by_value.setdefault(key, team.name)
    by_account = {a.id: a.team for a in org.accounts if a.team}
    tag_team = ibis.null("string")
    for key in reversed(tag_keys):
        candidate = _lookup(_norm(charges.x_TagsNormalized.get(key.lower())), by_value)
        tag_team = candidate.coalesce(tag_team)
    account_team = _lookup(charges.SubAccountId, by_account)
    team = tag_team.coalesce(account_team, ibis.literal(UNALLOCATED))
    source = ibis.cases(
        (tag_team.notnull(), "tag"),
        (account_team.notnull(), "account"),
        else_="unallocated",
    )
    return team, source


@dataclass(frozen=True)
class AllocationResult:
    """Allocation of one billing period."""

    period: datetime
    rows: int
    totals: dict[str, Decimal]
    allocated_effective: Decimal

    @property
    def coverage(self) -> Decimal:
        """Share of EffectiveCost attributed to a team (0..1)."""
        total = self.totals["EffectiveCost"]
        return Decimal(1) if total == 0 else self.allocated_effective / total


def allocate(
    engine: Engine, org: Org, tag_keys: list[str], periods: list[datetime] | None = None
) -> list[AllocationResult]:
    """(Re)allocate the given billing periods (all when None), idempotently.

    Raises:
        CostloopError: the allocated totals differ from the source (never expected).
    """
    charges = engine.table("charges")
    if periods is None:
        periods = sorted(
            r["BillingPeriodStart"]
            for r in engine.rows(charges.select("BillingPeriodStart").distinct())
        )
    results = []
    for period in periods:
        src = charges.filter(charges.BillingPeriodStart == period)
        team, source = team_expression(src, org, tag_keys)
        out = src.select(
            "x_SourceId",
            "x_SourceRow",
            "BillingPeriodStart",
            "ChargePeriodStart",
            "BillingAccountId",
            "BillingCurrency",
            "ProviderName",
            "SubAccountId",
            "SubAccountName",
            "ServiceName",
            "ServiceCategory",
            "RegionId",
            "ResourceId",
            "ResourceName",
            "ResourceType",
            "ChargeCategory",
            *MONEY_COLUMNS,
            team=team,
            team_source=source,
        )
        rows = engine.replace_slices("allocated_charges", out, "BillingPeriodStart", [period])
        results.append(_check(engine, period, rows))
    return results


def _sums(table: Any, period: datetime) -> dict[str, Decimal]:
    t = table.filter(table.BillingPeriodStart == period)
    return t.aggregate(**{c: t[c].sum() for c in MONEY_COLUMNS})  # type: ignore[no-any-return]


def _check(engine: Engine, period: datetime, rows: int) -> AllocationResult:
    src = engine.rows(_sums(engine.table("charges"), period))[0]
    dst = engine.rows(_sums(engine.table("allocated_charges"), period))[0]
    for col in MONEY_COLUMNS:
        if (src[col] or Decimal(0)) != (dst[col] or Decimal(0)):
            raise CostloopError(
                f"allocation of {period:%Y-%m} lost money in {col}: {src[col]} vs {dst[col]}"
            )
    alloc = engine.table("allocated_charges")
    a = alloc.filter((alloc.BillingPeriodStart == period) & (alloc.team != UNALLOCATED))
    allocated = engine.rows(a.aggregate(v=a.EffectiveCost.sum()))[0]["v"] or Decimal(0)
    return AllocationResult(
        period, rows, {c: src[c] or Decimal(0) for c in MONEY_COLUMNS}, allocated
    )
