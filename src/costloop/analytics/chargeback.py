"""Chargeback: one statement per team per month that adds up to the invoice exactly.

A statement line is the cost of one team for one (billing account, currency,
sub-account, service, charge category, allocation method). The summary has one row
per team × billing account × currency, and per (billing account, currency) the team
rows must equal the invoice, i.e. the sum of the ``charges`` table; this is checked
before anything is returned. Unallocated cost is the team ``unallocated``.

Amounts are exact decimals; each line also carries an amount rounded to the currency's
minor unit, distributed by largest remainder so the rounded lines of a statement add
up to the team's rounded total, and the teams' rounded totals add up to the rounded
invoice total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from costloop.core.errors import CostloopError, InputError, NotFoundError
from costloop.core.money import quantize
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine

__all__ = [
    "CHARGEBACK_METRICS",
    "Chargeback",
    "InvoiceTotal",
    "StatementLine",
    "SummaryRow",
    "allocation_method",
    "chargeback",
    "exact_sum",
    "minor_unit",
    "round_to_total",
]

CHARGEBACK_METRICS = {"billed": "BilledCost", "effective": "EffectiveCost"}
"""Chargeback metrics: billed (what the invoice says, the default) or effective."""

# ISO 4217 currencies whose minor unit is not the cent; every other code has 2 places.
_MINOR_UNITS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

# Sums of DECIMAL(38, 18) values need more digits than Decimal's default 28.
_PRECISION = 80


def minor_unit(currency: str) -> int:
    """Decimal places of a currency's minor unit (ISO 4217; 2 when not listed)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum decimals without the rounding Decimal's default 28-digit context would apply."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return sum(values, Decimal(0))


def round_to_total(values: Sequence[Decimal], total: Decimal, places: int) -> list[Decimal]:
    """Round ``values`` to ``places`` decimals so they add up to ``total`` exactly.

    Each value is rounded down, then the units still missing go one each to the
    values with the largest remainders (ties to the earlier value). ``total`` must be
    within the reach of that: between the sum of the rounded-down values and that sum
    plus one unit per value, which holds when it is the rounded sum of ``values``, or
    a largest-remainder share of a larger rounded total.

    Raises:
        ValueError: ``total`` has more places, or cannot be reached.
    """
    unit = Decimal(1).scaleb(-places)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if total.quantize(unit) != total:
            raise ValueError(f"total {total} has more than {places} decimal places")
        floors = [v.quantize(unit, rounding=ROUND_FLOOR) for v in values]
        missing = (total - sum(floors, Decimal(0))) / unit
        if missing != missing.to_integral_value() or not 0 <= missing <= len(values):
            raise ValueError(f"cannot round {len(values)} values to the total {total}")
        order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
        for i in order[: int(missing)]:
            floors[i] += unit
    return floors


def allocation_method(
    pool: str | None, method_id: str | None, ratio: Decimal | None, source: str | None
) -> str:
    """How a line reached its team, e.g. ``direct (tag)`` or ``shared: k8s (even, ratio 0.25)``.

    Args:
        pool: x_AllocationPool (set on rows split by a shared-cost pool).
        method_id: AllocatedMethodId; a ``costloop:`` prefix is dropped.
        ratio: x_AllocationRatio, the share of the origin charge.
        source: team_source (tag, account, resource, inherited, shared, unallocated).
    """
    if pool:
        method = (method_id or "unspecified").removeprefix("costloop:")
        if ratio is None:
            return f"shared: {pool} ({method})"
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            text = format(ratio.normalize(), "f")
        return f"shared: {pool} ({method}, ratio {text})"
    if source is None or source == "unallocated":
        return "unallocated"
    return f"direct ({source})"


@dataclass(frozen=True)
class StatementLine:
    """One line of a team's statement (amounts in ``currency``)."""

    team: str
    billing_account_id: str | None
    currency: str
    sub_account_id: str | None
    sub_account_name: str | None
    service_name: str | None
    charge_category: str | None
    method: str
    amount: Decimal
    amount_rounded: Decimal


@dataclass(frozen=True)
class SummaryRow:
    """A team's total on one billing account in one currency."""

    team: str
    billing_account_id: str | None
    currency: str
    amount: Decimal
    amount_rounded: Decimal
    lines: int


@dataclass(frozen=True)
class InvoiceTotal:
    """Total of one billing account in one currency, straight from ``charges``."""

    billing_account_id: str | None
    currency: str
    amount: Decimal
    amount_rounded: Decimal
    lines: int


@dataclass(frozen=True)
class Chargeback:
    """Statements, summary and invoice totals of one billing period."""

    month: Month
    metric: str
    column: str
    lines: tuple[StatementLine, ...]
    summary: tuple[SummaryRow, ...]
    invoices: tuple[InvoiceTotal, ...]

    @property
    def teams(self) -> list[str]:
        """Teams with a statement, sorted."""
        return sorted({r.team for r in self.summary})

    def statement(self, team: str) -> list[StatementLine]:
        """The lines of one team's statement."""
        return [line for line in self.lines if line.team == team]


_LINE_KEYS = (
    "team",
    "BillingAccountId",
    "BillingCurrency",
    "SubAccountId",
    "ServiceName",
    "ChargeCategory",
    "x_AllocationPool",
    "AllocatedMethodId",
    "x_AllocationRatio",
    "team_source",
)

_Key = tuple[Any, ...]


def chargeback(engine: Engine, month: Month, metric: str = "billed") -> Chargeback:
    """Build the chargeback of ``month`` and reconcile it with the invoice.

    Args:
        engine: the warehouse engine.
        month: the billing period.
        metric: ``billed`` (BilledCost, the invoice) or ``effective`` (EffectiveCost).

    Raises:
        InputError: unknown metric.
        NotFoundError: no charges for the month.
        CostloopError: the allocated cost of a billing account and currency differs from
            the ``charges`` table (re-run ``costloop allocate``); nothing is returned.
    """
    if metric not in CHARGEBACK_METRICS:
        raise InputError(
            f"--metric: unknown metric {metric!r}; use one of: {', '.join(CHARGEBACK_METRICS)}"
        )
    column = CHARGEBACK_METRICS[metric]
    invoice = _invoice_totals(engine, month, column)
    if not invoice:
        raise NotFoundError(f"no charges for the billing period {month}")
    raw = _raw_lines(engine, month, column)
    merged: dict[_Key, tuple[str | None, Decimal]] = {}
    for r in raw:
        key = (
            r["team"],
            r["BillingAccountId"],
            r["BillingCurrency"],
            r["SubAccountId"],
            r["ServiceName"],
            r["ChargeCategory"],
            allocation_method(
                r["x_AllocationPool"],
                r["AllocatedMethodId"],
                r["x_AllocationRatio"],
                r["team_source"],
            ),
        )
        name, amount = merged.get(key, (None, Decimal(0)))
        merged[key] = (name or r["sub_account_name"], exact_sum([amount, r["amount"]]))
    per_team: dict[_Key, list[Decimal]] = {}
    for key, (_, amount) in merged.items():
        per_team.setdefault((key[0], key[1], key[2]), []).append(amount)
    _reconcile(month, column, invoice, per_team)
    invoices, team_rounded = _round_summary(invoice, per_team)
    lines = _round_lines(merged, team_rounded)
    summary = [
        SummaryRow(
            team,
            account,
            currency,
            exact_sum(amounts),
            team_rounded[(team, account, currency)],
            len(amounts),
        )
        for (team, account, currency), amounts in per_team.items()
    ]
    summary.sort(key=lambda s: (s.team, s.billing_account_id or "", s.currency))
    return Chargeback(month, metric, column, tuple(lines), tuple(summary), tuple(invoices))


def _invoice_totals(engine: Engine, month: Month, column: str) -> dict[_Key, Decimal]:
    t = engine.table("charges")
    t = t.filter(t.BillingPeriodStart == month.start)
    agg = t.group_by(["BillingAccountId", "BillingCurrency"]).aggregate(amount=t[column].sum())
    return {
        (r["BillingAccountId"], r["BillingCurrency"]): r["amount"] or Decimal(0)
        for r in engine.rows(agg)
    }


def _raw_lines(engine: Engine, month: Month, column: str) -> list[dict[str, Any]]:
    t = engine.table("allocated_charges")
    t = t.filter(t.BillingPeriodStart == month.start)
    agg = t.group_by(list(_LINE_KEYS)).aggregate(
        amount=t[column].sum(), sub_account_name=t.SubAccountName.max()
    )
    rows = engine.rows(agg)
    for r in rows:
        r["amount"] = r["amount"] or Decimal(0)
    return rows


def _reconcile(
    month: Month,
    column: str,
    invoice: dict[_Key, Decimal],
    per_team: dict[_Key, list[Decimal]],
) -> None:
    allocated: dict[_Key, list[Decimal]] = {}
    for (_, account, currency), amounts in per_team.items():
        allocated.setdefault((account, currency), []).extend(amounts)
    for key in sorted(set(invoice) | set(allocated), key=lambda k: (k[0] or "", k[1] or "")):
        billed = invoice.get(key, Decimal(0))
        teams = exact_sum(allocated.get(key, []))
        if billed != teams:
            account, currency = key
            raise CostloopError(
                f"chargeback of {month} does not reconcile for billing account {account} "
                f"({currency}): the teams' {column} is {teams}, the charges table has "
                f"{billed}; run `costloop allocate --period {month}` and try again"
            )


def _round_summary(
    invoice: dict[_Key, Decimal], per_team: dict[_Key, list[Decimal]]
) -> tuple[list[InvoiceTotal], dict[_Key, Decimal]]:
    invoices: list[InvoiceTotal] = []
    team_rounded: dict[_Key, Decimal] = {}
    for (account, currency), amount in sorted(
        invoice.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")
    ):
        places = minor_unit(currency)
        total = quantize(amount, places)
        teams = sorted(k for k in per_team if k[1] == account and k[2] == currency)
        exact = [exact_sum(per_team[k]) for k in teams]
        rounded = round_to_total(exact, total, places) if teams else []
        team_rounded.update(zip(teams, rounded, strict=True))
        lines = sum(len(per_team[k]) for k in teams)
        invoices.append(InvoiceTotal(account, currency, amount, total, lines))
    return invoices, team_rounded


def _round_lines(
    merged: dict[_Key, tuple[str | None, Decimal]], team_rounded: dict[_Key, Decimal]
) -> list[StatementLine]:
    groups: dict[_Key, list[_Key]] = {}
    for key in merged:
        groups.setdefault(key[:3], []).append(key)
    out: list[StatementLine] = []
    for group, keys in groups.items():
        keys.sort(key=lambda k: tuple("" if v is None else str(v) for v in k))
        amounts = [merged[k][1] for k in keys]
        rounded = round_to_total(amounts, team_rounded[group], minor_unit(group[2]))
        for key, amount, r in zip(keys, amounts, rounded, strict=True):
            team, account, currency, sub_account, service, category, method = key
            out.append(
                StatementLine(
                    team,
                    account,
                    currency,
                    sub_account,
                    merged[key][0],
                    service,
                    category,
                    method,
                    amount,
                    r,
                )
            )
    out.sort(
        key=lambda s: (
            s.team,
            s.billing_account_id or "",
            s.currency,
            s.sub_account_id or "",
            s.service_name or "",
            s.charge_category or "",
            s.method,
        )
    )
    return out
