"""Allocation as Ibis expressions: the same code runs on DuckDB and on PySpark.

Per dimension the first stage that yields an allowed value wins:

1. **tag** — the dimension's tag keys (any spelling, see ``key_variants``) in order;
   the value goes through the taxonomy's aliases (case, separators, listed typos);
2. **account** — account rules of the allocation file, then the org file's mapping;
3. **resource** — resource-name / resource-id regular expressions, in file order;
4. **inherited** — the value of the parent resource (inventory ``attached_to``), as
   its own charges in the same billing period resolve it (the value carrying most
   cost);
5. ``unallocated``.

Shared-cost pools then take the charges they match and split each one across
targets with exact largest-remainder rounding (see :func:`split_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis

from costloop.core.allocation_rules import (
    UNALLOCATED,
    AllocationConfig,
    Dimension,
    Pool,
    norm_value,
)
from costloop.core.focus import MONEY_COLUMNS

__all__ = [
    "BASE_COLUMNS",
    "MINOR_UNITS",
    "ORIGIN_KEY",
    "canonical_value",
    "dimension_columns",
    "direct_rows",
    "normalized",
    "pool_column",
    "raw_tag",
    "split_rows",
]

ORIGIN_KEY = ("x_SourceId", "x_SourceFile", "x_SourceRow")
BASE_COLUMNS = (
    "x_SourceId",
    "x_SourceFile",
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
)
SPLIT_COLUMNS = (
    "AllocatedMethodId",
    "AllocatedMethodDetails",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "x_AllocationPool",
)
# ISO 4217 minor units that are not 2 (the default): splits round to this unit when
# the amount is a whole number of it, else to the stored precision (18 places).
MINOR_UNITS: Mapping[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0,
    "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0,
    "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
}  # fmt: skip
STORED_PLACES = 18
_RATIO = "decimal(10, 9)"
_MONEY = "decimal(38, 18)"


def dimension_columns(config: AllocationConfig) -> tuple[tuple[str, str], ...]:
    """The ``allocated_charges`` columns of the taxonomy's dimensions."""
    out: list[tuple[str, str]] = []
    for dim in config.dimensions:
        out += [(dim.name, "VARCHAR"), (f"{dim.name}_source", "VARCHAR")]
    return tuple(out)


def _null() -> Any:
    return ibis.null("string")


def normalized(value: Any) -> Any:
    return value.lower().re_replace("[^a-z0-9]", "")


def canonical_value(raw: Any, normalized: Any, dim: Dimension) -> Any:
    """The allowed value a raw tag value stands for (null when it names none);
    ``normalized`` is ``normalized(raw)``, computed once beforehand."""
    known = normalized.cases(*dim.aliases.items(), else_=_null()) if dim.aliases else _null()
    if dim.values:
        return known
    plain = raw.strip().lower()
    return known.coalesce(ibis.ifelse(plain == "", _null(), plain))


def raw_tag(t: Any, dim: Dimension) -> Any:
    """The value of the first of the dimension's tag keys present with a non-blank value."""
    keys = dim.tag_keys()
    if not keys:
        return _null()
    values = (t.x_TagsNormalized.get(k).strip().nullif("") for k in keys)
    return ibis.coalesce(*values, _null())


def _account_stage(t: Any, config: AllocationConfig, dim: Dimension) -> Any:
    rules = config.rules_for(dim.name, "account")
    if not rules:
        return _null()
    return ibis.cases(
        *((t.SubAccountId.isin(list(r.accounts)), r.value) for r in rules), else_=_null()
    )


def _resource_stage(t: Any, config: AllocationConfig, dim: Dimension) -> Any:
    arms = []
    for r in config.rules_for(dim.name, "resource"):
        if r.resource_name is not None:
            arms.append((t.ResourceName.re_search(r.resource_name), r.value))
        if r.resource_id is not None:
            arms.append((t.ResourceId.re_search(r.resource_id), r.value))
    return ibis.cases(*arms, else_=_null()) if arms else _null()


def _parents(inventory: Any) -> Any:
    """resource_id → attached_to from each resource's latest inventory snapshot."""
    inv = inventory.filter(inventory.attached_to.notnull() & (inventory.attached_to != ""))
    ranked = inv.mutate(
        __n=ibis.row_number().over(
            group_by=inv.resource_id, order_by=[inv.snapshot_time.desc(), inv.attached_to]
        )
    )
    return ranked.filter(ranked.__n == 0).select(
        __child=ranked.resource_id, __parent=ranked.attached_to
    )


def _inherited(t: Any, pre: str, parents: Any) -> Any:
    """Join each row to its parent resource's value of the pre-stage column ``pre``
    (the value carrying most EffectiveCost on the parent's charges, same period)."""
    owned = t.filter(t[pre].notnull() & t.ResourceId.notnull())
    keys = [owned.BillingPeriodStart, owned.ResourceId]
    by_value = owned.group_by([*keys, owned[pre]]).aggregate(__cost=owned.EffectiveCost.sum())
    top = by_value.mutate(
        __n=ibis.row_number().over(
            group_by=[by_value.BillingPeriodStart, by_value.ResourceId],
            order_by=[by_value.__cost.desc(), by_value[pre]],
        )
    )
    top = top.filter(top.__n == 0).select(
        __pperiod=top.BillingPeriodStart, __pid=top.ResourceId, __pval=top[pre]
    )
    links = parents.join(top, parents.__parent == top.__pid).select(
        "__child", "__pperiod", __inh="__pval"
    )
    joined = t.left_join(
        links, [t.ResourceId == links.__child, t.BillingPeriodStart == links.__pperiod]
    )
    return joined.drop("__child", "__pperiod").rename({f"{pre}_inherited": "__inh"})


def direct_rows(charges: Any, inventory: Any | None, config: AllocationConfig) -> Any:
    """Every charge with each dimension's value and the stage that set it."""
    t = charges.select(*BASE_COLUMNS, "x_TagsNormalized")
    # Each stage is computed once per row, in its own projection (engines would
    # otherwise repeat a shared sub-expression in every CASE arm).
    t = t.mutate(**{f"__{d.name}_raw": raw_tag(t, d) for d in config.dimensions})
    t = t.mutate(
        **{f"__{d.name}_norm": normalized(t[f"__{d.name}_raw"]) for d in config.dimensions}
    )
    stages: dict[str, list[str]] = {}
    for dim in config.dimensions:
        names = [f"__{dim.name}_{s}" for s in ("tag", "account", "resource")]
        t = t.mutate(
            **{
                names[0]: canonical_value(t[f"__{dim.name}_raw"], t[f"__{dim.name}_norm"], dim),
                names[1]: _account_stage(t, config, dim),
                names[2]: _resource_stage(t, config, dim),
            }
        )
        stages[dim.name] = names
    parents = None
    for dim in config.dimensions:
        names = stages[dim.name]
        if config.rules_for(dim.name, "inherit") and inventory is not None:
            pre = f"__{dim.name}_pre"
            t = t.mutate(**{pre: t[names[0]].coalesce(t[names[1]], t[names[2]])})
            parents = _parents(inventory) if parents is None else parents
            t = _inherited(t, pre, parents).drop(pre)
            names.append(f"{pre}_inherited")
    labels = ("tag", "account", "resource", "inherited")
    out = {}
    for dim in config.dimensions:
        names = stages[dim.name]
        out[dim.name] = ibis.coalesce(*(t[n] for n in names), ibis.literal(UNALLOCATED))
        out[f"{dim.name}_source"] = ibis.cases(
            *((t[n].notnull(), labels[i]) for i, n in enumerate(names)),
            else_=UNALLOCATED,
        )
    keep = [c for c in t.columns if not c.startswith("__")]
    return t.select(*keep, **out)


def _pool_condition(t: Any, pool: Pool) -> Any:
    m = pool.match
    cond = ibis.literal(True)
    if m.accounts:
        cond &= t.SubAccountId.isin(list(m.accounts))
    if m.services:
        cond &= t.ServiceName.isin(list(m.services))
    if m.charge_categories:
        cond &= t.ChargeCategory.isin(list(m.charge_categories))
    if m.providers:
        cond &= t.ProviderName.isin(list(m.providers))
    if m.resource_id is not None:
        cond &= t.ResourceId.re_search(m.resource_id).fill_null(False)
    for key, value in m.tags.items():
        cond &= (normalized(t.x_TagsNormalized.get(key)) == norm_value(value)).fill_null(False)
    if m.unallocated_only:
        cond &= t[pool.dimension] == UNALLOCATED
    return cond


def pool_column(t: Any, config: AllocationConfig) -> Any:
    """``x_AllocationPool``: the first pool whose match holds (null for direct rows)."""
    if not config.pools:
        return t.mutate(x_AllocationPool=_null())
    return t.mutate(
        x_AllocationPool=ibis.cases(
            *((_pool_condition(t, p), p.name) for p in config.pools), else_=_null()
        )
    )


def _minor_places(currency: Any) -> Any:
    by_places: dict[int, list[str]] = {}
    for code, places in MINOR_UNITS.items():
        by_places.setdefault(places, []).append(code)
    return ibis.cases(
        *((currency.isin(codes), places) for places, codes in sorted(by_places.items())),
        else_=2,
    )


# Intermediate types are chosen so that every +, −, × stays exact on Spark too (its
# result types lose scale past 38 digits): amounts ≤ 1e9 per charge row.
_CALC = "decimal(37, 18)"
_PROD = "decimal(37, 27)"  # |amount| × ratio (9 places), exact
_PLACES = (0, 2, 3, 4, STORED_PLACES)


def _dec(text: str, dtype: str) -> Any:
    return ibis.literal(text).cast(dtype)


def _places(amount: Any, minor: Any) -> Any:
    """Decimal places a split of ``amount`` rounds to: the currency's minor unit when
    the amount is a whole number of minor units, else the stored precision."""
    arms = []
    for places in sorted({2, *MINOR_UNITS.values()}):
        whole = amount.round(places).cast(_MONEY) == amount
        arms.append(((minor == places) & whole, places))
    return ibis.cases(*arms, else_=STORED_PLACES)


def _quantum(places: Any) -> Any:
    """10^-places as a money value."""
    return ibis.cases(
        *((places == p, _dec(f"1e-{p}" if p else "1", _CALC)) for p in _PLACES),
        else_=ibis.null(_CALC),
    )


def _floor_to(prod: Any, places: Any) -> Any:
    """prod (≥ 0) rounded down to ``places`` decimals, exactly, on every engine.

    Rounding half-up of prod − ½·10^-places is the floor for any prod ≥ 10^-places
    (ties cannot occur below the exact multiples, which stay put).
    """
    arms = []
    for p in _PLACES:
        half = _dec(f"5e-{p + 1}", _PROD)
        quantum = _dec(f"1e-{p}" if p else "1", _PROD)
        down = (prod - half).cast(_PROD).round(p).cast(_CALC)
        arms.append((places == p, ibis.ifelse(prod < quantum, _dec("0", _CALC), down)))
    return ibis.cases(*arms, else_=ibis.null(_CALC))


def split_rows(pool_rows: Any, ratios: Any, dimension: str) -> Any:
    """Split each pool row across its pool's targets, exactly.

    ``ratios`` has one row per (pool, BillingPeriodStart, BillingCurrency, target):
    ``__pool, __period, __currency, __target_id, __target_name, __value, __ratio``
    (ratios of one pool/period/currency sum to exactly 1), and the FOCUS texts
    ``__method_id, __details, __tags``.

    For every money column each share is ``|amount| × ratio`` rounded down to the
    quantum (minor unit or 1e-18); the quanta left over go one each to the shares
    with the largest remainders (ties by target id), so the shares of one charge add
    up to it exactly. Signs are restored afterwards (credits split the same way).

    The arithmetic and the ranking windows run on narrow rows (lineage key, slice and
    amounts); the descriptive columns are joined back to the shares at the end.
    """
    narrow = pool_rows.select(
        *ORIGIN_KEY, "x_AllocationPool", "BillingPeriodStart", "BillingCurrency", *MONEY_COLUMNS
    )
    j = narrow.join(
        ratios,
        [
            narrow.x_AllocationPool == ratios.__pool,
            narrow.BillingPeriodStart == ratios.__period,
            narrow.BillingCurrency == ratios.__currency,
        ],
    )
    # Each step is its own projection so every engine computes a piece once.
    j = j.mutate(__minor=_minor_places(j.BillingCurrency))
    j = j.mutate(
        **{f"__{m}_abs": j[m].abs().cast(_CALC) for m in MONEY_COLUMNS},
    )
    j = j.mutate(
        **{f"__{m}_places": _places(j[f"__{m}_abs"], j.__minor) for m in MONEY_COLUMNS},
        **{
            f"__{m}_prod": (j[f"__{m}_abs"].cast("decimal(27, 18)") * j.__ratio.cast(_RATIO)).cast(
                _PROD
            )
            for m in MONEY_COLUMNS
        },
    )
    j = j.mutate(
        **{f"__{m}_q": _quantum(j[f"__{m}_places"]) for m in MONEY_COLUMNS},
        **{f"__{m}_share": _floor_to(j[f"__{m}_prod"], j[f"__{m}_places"]) for m in MONEY_COLUMNS},
    )
    j = j.mutate(
        **{
            f"__{m}_frac": (j[f"__{m}_prod"] - j[f"__{m}_share"].cast(_PROD)).cast(_PROD)
            for m in MONEY_COLUMNS
        }
    )
    origin = list(ORIGIN_KEY)
    ranks: dict[str, Any] = {}
    for money in MONEY_COLUMNS:
        spread = j[f"__{money}_share"].sum().over(group_by=origin).cast(_CALC)
        ranks[f"__{money}_left"] = (j[f"__{money}_abs"] - spread).cast(_CALC)
        # Σ of one quantum per share, in remainder order: a share gets a quantum while
        # that running total does not exceed what is left (no multiplication needed).
        ranks[f"__{money}_run"] = (
            j[f"__{money}_q"]
            .sum()
            .over(
                group_by=origin,
                order_by=[ibis.desc(f"__{money}_frac"), ibis.asc("__target_id")],
                rows=(None, 0),
            )
        )
    j = j.mutate(**ranks)
    final: dict[str, Any] = {}
    for money in MONEY_COLUMNS:
        q = j[f"__{money}_q"]
        bonus = ibis.ifelse(j[f"__{money}_run"] <= j[f"__{money}_left"], q, _dec("0", _CALC))
        part = (j[f"__{money}_share"] + bonus).cast(_CALC)
        final[f"__new_{money}"] = ibis.ifelse(j[money] < 0, -part, part).cast(_MONEY)
    shares = j.select(
        *(j[c].name(f"__o_{c}") for c in ORIGIN_KEY),
        "__target_id",
        "__target_name",
        "__value",
        "__ratio",
        "__method_id",
        "__details",
        "__tags",
        **final,
    )
    w = pool_rows.join(shares, [pool_rows[c] == shares[f"__o_{c}"] for c in ORIGIN_KEY])
    # A pool that cannot split in a period passes its charges through whole (ratio 1,
    # no target): they keep the value and source their own rules gave them.
    passed = w.__value.isnull()
    out = w.mutate(
        **{m: w[f"__new_{m}"] for m in MONEY_COLUMNS},
        **{
            dimension: w.__value.coalesce(w[dimension]),
            f"{dimension}_source": ibis.ifelse(passed, w[f"{dimension}_source"], "shared"),
        },
        x_AllocationPool=ibis.ifelse(passed, _null(), w.x_AllocationPool),
        AllocatedMethodId=w.__method_id,
        AllocatedMethodDetails=w.__details,
        AllocatedResourceId=w.__target_id,
        AllocatedResourceName=w.__target_name,
        AllocatedTags=w.__tags,
        x_AllocationRatio=w.__ratio.cast(_RATIO),
    )
    return out.select(*[c for c in out.columns if not c.startswith("__")])
