"""A scope's daily EffectiveCost from ``allocated_charges``, split for forecasting.

The series a model sees is the day-to-day cost: Usage and any other charge spread over
the days. Purchases are left out (their cost reaches EffectiveCost through amortization,
and BilledCost is not forecast here). Non-usage charges that the provider posts only on
the first day of a month (tax, monthly credits) are kept apart as monthly amounts, so a
model does not mistake them for a spike every 30 days.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from costloop.core.errors import InputError
from costloop.core.money import format_money
from costloop.warehouse.engine import Engine

__all__ = ["DailySeries", "load_series", "scope_columns"]

TABLE = "allocated_charges"
# Trailing days below this share of the previous week's median look incomplete (data lag).
_INCOMPLETE_SHARE = Decimal("0.5")
_MAX_TRAILING_DROP = 2


@dataclass
class DailySeries:
    """A scope's days from the first with data to ``as_of``.

    Attributes:
        days: every day, consecutive.
        total: exact EffectiveCost per day (everything except Purchase rows).
        base: the part of ``total`` a model forecasts (``total`` minus monthly amounts).
        monthly: per charge category posted only on month starts, the amount per month
            start (``total`` − ``base`` on those days).
        notes: what the loader decided (incomplete days dropped, monthly categories).
    """

    days: list[date]
    total: list[Decimal]
    base: list[Decimal]
    monthly: dict[str, dict[date, Decimal]]
    notes: list[str] = field(default_factory=list)

    def upto(self, last: date) -> DailySeries:
        """The same series cut after ``last``."""
        n = sum(1 for d in self.days if d <= last)
        monthly = {c: {d: v for d, v in m.items() if d <= last} for c, m in self.monthly.items()}
        return DailySeries(self.days[:n], self.total[:n], self.base[:n], monthly, [])


_NOT_SCOPES = frozenset({"AllocatedMethodDetails", "AllocatedTags"})


def scope_columns(engine: Engine) -> list[str]:
    """Text columns of ``allocated_charges`` a scope may filter on.

    Allocation dimensions come first; lineage and JSON text columns are left out.
    """
    schema = engine.table(TABLE).schema()
    text = [
        name
        for name, dtype in schema.items()
        if dtype.is_string() and name not in _NOT_SCOPES and not name.startswith("x_Source")
    ]
    dims = [c for c in text if f"{c}_source" in schema]
    return dims + [c for c in text if c not in dims]


def _filtered(engine: Engine, scope: Mapping[str, str]) -> Any:
    t = engine.table(TABLE)
    allowed = scope_columns(engine)
    for column, value in scope.items():
        if column not in allowed:
            raise InputError(
                f"unknown scope column {column!r}; use one of: {', '.join(allowed)}",
                column=column,
            )
        t = t.filter(t[column] == value)
    return t.filter(t.ChargeCategory != "Purchase")


def _currency(engine: Engine, t: Any, currency: str | None, scope: Mapping[str, str]) -> str:
    found = sorted(
        r["BillingCurrency"] for r in engine.rows(t.select("BillingCurrency").distinct())
    )
    label = _scope_label(scope)
    if currency is not None:
        if currency not in found:
            raise InputError(
                f"no {currency} charges for {label}; currencies: {', '.join(found) or 'none'}"
            )
        return currency
    if not found:
        raise InputError(f"no charges for {label}")
    if len(found) > 1:
        raise InputError(
            f"{label} is billed in several currencies ({', '.join(found)}); "
            "forecast one at a time by passing a currency"
        )
    return str(found[0])


def _scope_label(scope: Mapping[str, str]) -> str:
    if not scope:
        return "the whole estate"
    return "scope " + ", ".join(f"{k}={v}" for k, v in scope.items())


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def load_series(
    engine: Engine,
    scope: Mapping[str, str],
    *,
    currency: str | None,
    as_of: date | None,
) -> tuple[str, DailySeries]:
    """Read the scope's daily cost in one currency, up to ``as_of``.

    Without ``as_of`` the series ends on the last day with data in the warehouse for
    that currency, minus up to two trailing days that look incomplete. A given
    ``as_of`` past the warehouse's last day is moved back to it (a note says so).

    Returns:
        The currency and the series.

    Raises:
        InputError: unknown scope column, no data, or several currencies without
            ``currency``.
    """
    t = _filtered(engine, scope)
    cur = _currency(engine, t, currency, scope)
    notes: list[str] = []
    everything = engine.table(TABLE)
    last_rows = engine.rows(
        everything.filter(everything.BillingCurrency == cur).aggregate(
            last=everything.ChargePeriodStart.max()
        )
    )
    warehouse_last = _day(last_rows[0]["last"])
    t = t.filter(t.BillingCurrency == cur)
    day = t.ChargePeriodStart.date().name("day")
    agg = t.group_by([day, t.ChargeCategory]).aggregate(cost=t.EffectiveCost.sum())
    rows = engine.rows(agg)
    if not rows:
        raise InputError(f"no charges for {_scope_label(scope)} in {cur}")
    by_cat: dict[str, dict[date, Decimal]] = {}
    for r in rows:
        cat = by_cat.setdefault(str(r["ChargeCategory"]), {})
        d = _day(r["day"])
        cat[d] = cat.get(d, Decimal(0)) + (r["cost"] or Decimal(0))
    end = warehouse_last
    if as_of is not None:
        if as_of > warehouse_last:
            notes.append(f"history ends {warehouse_last}, the last day with data (asked {as_of})")
        end = min(as_of, warehouse_last)
    first = min(min(c) for c in by_cat.values())
    if end < first:
        raise InputError(f"no charges for {_scope_label(scope)} on or before {end}")
    days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    monthly_cats = sorted(
        c for c, m in by_cat.items() if c != "Usage" and all(d.day == 1 for d in m)
    )
    total = [sum((m.get(d, Decimal(0)) for m in by_cat.values()), Decimal(0)) for d in days]
    monthly = {c: {d: v for d, v in by_cat[c].items() if d <= end} for c in monthly_cats}
    base = [
        tot - sum((monthly[c].get(d, Decimal(0)) for c in monthly_cats), Decimal(0))
        for d, tot in zip(days, total, strict=True)
    ]
    if monthly_cats:
        notes.append(
            f"{', '.join(monthly_cats)} charges are posted on month starts: forecast as "
            "monthly amounts, not by the daily model"
        )
    series = DailySeries(days, total, base, monthly, notes)
    if as_of is None:
        _drop_incomplete(series, cur)
    return cur, series


def _drop_incomplete(series: DailySeries, currency: str) -> None:
    """Drop up to two trailing days far below the week before them (late data)."""
    for _ in range(_MAX_TRAILING_DROP):
        if len(series.days) < 15:
            return
        week = series.base[-8:-1]
        typical = statistics.median(week)
        if typical <= 0 or series.base[-1] >= typical * _INCOMPLETE_SHARE:
            return
        day, value = series.days[-1], series.base[-1]
        series.notes.append(
            f"dropped {day}: {format_money(value, currency)} against a typical "
            f"{format_money(typical, currency)} looks incomplete (data lag); it is forecast"
        )
        for seq in (series.days, series.total, series.base):
            seq.pop()
        for m in series.monthly.values():
            m.pop(day, None)
