"""Daily EffectiveCost series per scope, from one aggregation of ``allocated_charges``.

The warehouse groups the allocated charges once, by day and every scope column (the
*grain*). Each scope (overall, provider, account, service, allocation dimension, and a
few combinations) is then a grouping of grain rows, summed into a dense
``series × days`` matrix with numpy. The grain keeps exact Decimal sums, so an event's
actual cost is the exact sum of its charges, not a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from costloop.warehouse.engine import Engine

__all__ = [
    "EXCLUDED_CATEGORIES",
    "MISSING",
    "SeriesSet",
    "build_series",
    "consumption",
    "scope_specs",
]

# Not consumption: prepayments (amortized into usage already), taxes and credits, which
# land as lumps on the first day of a month and would read as monthly spikes or dips.
EXCLUDED_CATEGORIES = ("Purchase", "Tax", "Credit")

_FOCUS_COLUMNS = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "RegionId",
)
MISSING = "(none)"


def scope_specs(dimensions: list[str]) -> list[tuple[str, ...]]:
    """The scopes monitored, from the broadest to the most specific.

    Args:
        dimensions: allocation dimensions of ``allocated_charges`` (``team`` first).

    Returns:
        One tuple of column names per scope kind; ``()`` is the overall series.
    """
    specs: list[tuple[str, ...]] = [
        (),
        ("ProviderName",),
        ("ProviderName", "BillingAccountId"),
        ("ProviderName", "SubAccountId"),
        ("ProviderName", "ServiceName"),
        ("ProviderName", "RegionId"),
    ]
    specs += [(d,) for d in dimensions]
    if "team" in dimensions:
        specs.append(("team", "ProviderName", "ServiceName"))
    # Last: when two scopes hold the same charges, the later one is preferred.
    specs.append(("ProviderName", "SubAccountId", "ServiceName"))
    return specs


@dataclass
class SeriesSet:
    """Daily cost series of every monitored scope, and the grain they were summed from.

    Attributes:
        first_day: day of column 0.
        values: ``series × days`` float matrix of daily EffectiveCost (0 for no charge).
        scopes: scope of each series (column → value; empty for the overall series).
        currencies: billing currency of each series (every scope is per currency).
        spec_index: index into ``specs`` of each series.
        specs: the scope kinds (see ``scope_specs``).
        totals: total cost of each series over all days (float, for ranking).
        grain: the aggregated charges: ``day`` (int32 day index), the scope columns and
            ``cost`` (exact decimal).
        codes: per spec, the series index of every grain row.
        grain_cost: the grain's cost as floats (for shares between scopes).
    """

    first_day: date
    values: np.ndarray
    scopes: list[dict[str, str]]
    currencies: list[str]
    spec_index: np.ndarray
    specs: list[tuple[str, ...]]
    totals: np.ndarray
    grain: pa.Table
    codes: list[np.ndarray] = field(default_factory=list)
    grain_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def days(self) -> int:
        """Number of days (columns)."""
        return int(self.values.shape[1])

    @property
    def last_day(self) -> date:
        """Day of the last column."""
        return self.first_day + timedelta(days=self.days - 1)

    def day(self, index: int) -> date:
        """The date of a column index."""
        return self.first_day + timedelta(days=index)

    def rows_of(self, series: int) -> np.ndarray:
        """Boolean mask of the grain rows summed into one series."""
        return np.asarray(self.codes[int(self.spec_index[series])] == series)

    def exact_sum(self, series: int, first: int, last: int) -> Decimal:
        """Exact cost of one series over day indexes ``first..last`` (inclusive)."""
        day = self.grain.column("day").to_numpy()
        mask = self.rows_of(series) & (day >= first) & (day <= last)
        total = pc.sum(pc.filter(self.grain.column("cost"), pa.array(mask))).as_py()
        return Decimal(0) if total is None else Decimal(total)

    def exact_daily(self, series: int, first: int, last: int) -> list[Decimal]:
        """Exact cost per day of one series over ``first..last`` (inclusive)."""
        day = self.grain.column("day").to_numpy()
        mask = self.rows_of(series) & (day >= first) & (day <= last)
        picked = self.grain.filter(pa.array(mask))
        out = [Decimal(0)] * (last - first + 1)
        for d, cost in zip(
            picked.column("day").to_pylist(), picked.column("cost").to_pylist(), strict=True
        ):
            out[d - first] += cost
        return out

    def shared_cost(self, a: int, b: int) -> float:
        """Total cost of the charges two series have in common (all days)."""
        return float(self.grain_cost[self.rows_of(a) & self.rows_of(b)].sum())


def consumption(engine: Engine) -> Any:
    """``allocated_charges`` without what is not daily consumption.

    Left out: the ``EXCLUDED_CATEGORIES``, and recurring charges whose charge period is
    longer than a day (a monthly fee billed on the 1st, such as a support plan), which
    would otherwise read as a spike every month.
    """
    t = engine.table("allocated_charges")
    t = t.filter(~t.ChargeCategory.isin(list(EXCLUDED_CATEGORIES)))
    c = engine.table("charges")
    lumps = c.filter(
        c.ChargeFrequency == "Recurring",
        c.ChargePeriodEnd > c.ChargePeriodStart + ibis.interval(days=1),
    ).select(
        c.x_SourceId.name("lump_id"),
        c.x_SourceFile.name("lump_file"),
        c.x_SourceRow.name("lump_row"),
    )
    # Few charges are monthly lumps: read their keys once, so that the many queries built
    # on this expression (one per event's root cause) do not scan `charges` for them.
    found = engine.to_arrow(lumps)
    if found.num_rows == 0:
        return t
    lumps = ibis.memtable(found)
    return t.anti_join(
        lumps,
        [
            t.x_SourceId == lumps.lump_id,
            t.x_SourceFile == lumps.lump_file,
            t.x_SourceRow == lumps.lump_row,
        ],
    )


def build_series(engine: Engine, dimensions: list[str]) -> SeriesSet | None:
    """Aggregate ``allocated_charges`` into the daily series of every scope.

    Args:
        engine: warehouse engine.
        dimensions: allocation dimensions to monitor (columns ``x`` with ``x_source``).

    Returns:
        The series, or None when there are no allocated charges to monitor.
    """
    t = consumption(engine)
    keys = ["BillingCurrency", *_FOCUS_COLUMNS, *dimensions]
    day = t.ChargePeriodStart.truncate("D").name("day_ts")
    grouped = t.group_by([day, *[t[k].fill_null(MISSING).name(k) for k in keys]]).aggregate(
        cost=t.EffectiveCost.sum()
    )
    table = engine.to_arrow(grouped)
    if table.num_rows == 0:
        return None
    stamps = table.column("day_ts").to_pylist()
    first: datetime = min(stamps)
    last: datetime = max(stamps)
    first_day = first.date()
    day_index = (
        pc.cast(table.column("day_ts"), pa.timestamp("s")).to_numpy().astype("datetime64[D]")
        - np.datetime64(first_day, "D")
    ).astype(np.int32)
    ndays = (last.date() - first_day).days + 1
    grain = pa.table(
        {"day": pa.array(day_index), **{k: table.column(k) for k in keys}}
        | {"cost": table.column("cost")}
    )
    cost = pc.cast(grain.column("cost"), pa.float64()).to_numpy(zero_copy_only=False)
    cost = np.nan_to_num(cost)

    specs = scope_specs(dimensions)
    scopes: list[dict[str, str]] = []
    currencies: list[str] = []
    spec_of: list[int] = []
    codes: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    for si, spec in enumerate(specs):
        local, uniques = _encode(grain, ("BillingCurrency", *spec))
        offset = len(scopes)
        codes.append(local + offset)
        flat = np.bincount(local * ndays + day_index, weights=cost, minlength=len(uniques) * ndays)
        blocks.append(flat.reshape(len(uniques), ndays))
        for labels in uniques:
            currencies.append(labels[0])
            scopes.append(dict(zip(spec, labels[1:], strict=True)))
            spec_of.append(si)
    values = np.vstack(blocks)
    return SeriesSet(
        first_day=first_day,
        values=values,
        scopes=scopes,
        currencies=currencies,
        spec_index=np.asarray(spec_of, dtype=np.int32),
        specs=specs,
        totals=values.sum(axis=1),
        grain=grain,
        codes=codes,
        grain_cost=cost,
    )


def _encode(grain: pa.Table, columns: tuple[str, ...]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Group ids of grain rows by ``columns`` and the value tuple of each group (sorted)."""
    if not columns:
        return np.zeros(grain.num_rows, dtype=np.int64), [()]
    parts = []
    for name in columns:
        encoded = pc.dictionary_encode(grain.column(name)).combine_chunks()
        parts.append(
            (encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist())
        )
    # One integer key per row, compressed column by column (np.unique on rows is slow).
    key = np.zeros(grain.num_rows, dtype=np.int64)
    for codes, dictionary in parts:
        _, key = np.unique(key * len(dictionary) + codes, return_inverse=True)
        key = key.reshape(-1).astype(np.int64)
    _, first_row = np.unique(key, return_index=True)
    stacked = np.stack([p[0] for p in parts], axis=1)[first_row]
    inverse = key
    labels = [tuple(str(parts[j][1][int(row[j])]) for j in range(len(columns))) for row in stacked]
    # Groups in value order, so that the series order does not depend on row order.
    order = sorted(range(len(labels)), key=lambda i: labels[i])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], [labels[i] for i in order]
