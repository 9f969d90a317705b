"""``costloop kpis``: every FinOps KPI with definition, value, trend and maturity band."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

import typer

from costloop.analytics.kpis import Kpi, kpi_catalogue, latest_month, month_currency
from costloop.analytics.rates import (
    BilledAmortizedLine,
    Coverage,
    Ratio,
    Utilization,
    billed_vs_amortized,
    commitment_coverage,
    commitment_utilization,
)
from costloop.cli.common import WorkspaceOption, console, open_workspace, print_json, table
from costloop.core.errors import InputError
from costloop.core.money import ZERO, format_money
from costloop.core.periods import Month, parse_month
from costloop.warehouse.engine import open_engine

__all__ = ["register"]

_RATIO_UNIT = Decimal("0.000001")


def _ratio_value(r: Ratio | None) -> Decimal | None:
    value = None if r is None else r.value
    return None if value is None else value.quantize(_RATIO_UNIT, rounding=ROUND_HALF_EVEN)


def _percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _show(kpi: Kpi, value: Decimal | None, currency: str, signed: bool = False) -> str:
    if value is None:
        return "n/a" if not signed else ""
    if kpi.unit == "%":
        text = f"{value * 100:+.1f} pp" if signed else f"{value * 100:.1f}%"
    elif kpi.unit == "hours":
        text = f"{value:+.1f} h" if signed else f"{value:.1f} h"
    else:
        text = format_money(value, currency, places=4 if " per " in kpi.unit else 2)
        if signed and not text.startswith("-"):
            text = "+" + text
    if signed and not any(ch in "123456789" for ch in text):
        return text.lstrip("+-")  # a change that rounds to nothing shows no sign
    return text


def _kpi_json(k: Kpi) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "definition": k.definition,
        "unit": k.unit,
        "value": k.value,
        "previous": k.previous,
        "change": k.change,
        "band": k.band,
        "band_source": k.band_source,
        "numerator": k.numerator,
        "denominator": k.denominator,
        "available": k.available,
        "reason": k.reason,
    }


def _commitments_json(use: Utilization) -> list[dict[str, Any]]:
    out = []
    for c in use.commitments:
        q = c.quantity_utilization
        out.append(
            {
                "provider": c.provider,
                "commitment_id": c.commitment_id,
                "name": c.name,
                "type": c.type,
                "category": c.category,
                "unit": c.unit,
                "used_cost": c.used_cost,
                "unused_cost": c.unused_cost,
                "utilization": _ratio_value(c.utilization),
                "used_quantity": c.used_quantity,
                "unused_quantity": c.unused_quantity,
                "quantity_utilization": _ratio_value(q),
            }
        )
    return out


def _coverage_json(cov: Coverage) -> list[dict[str, Any]]:
    return [
        {
            "provider": s.provider,
            "service": s.service,
            "covered_list_cost": s.covered_list_cost,
            "eligible_list_cost": s.eligible_list_cost,
            "coverage": _ratio_value(s.coverage),
        }
        for s in cov.services
    ]


def _lines_json(lines: list[BilledAmortizedLine]) -> list[dict[str, Any]]:
    return [
        {
            "charge_category": x.charge_category,
            "kind": x.kind,
            "rows": x.rows,
            "billed_cost": x.billed_cost,
            "effective_cost": x.effective_cost,
            "difference": x.difference,
        }
        for x in lines
    ]


def _render(
    month: Month,
    currency: str,
    catalogue: list[Kpi],
    use: Utilization,
    cov: Coverage,
    lines: list[BilledAmortizedLine],
) -> None:
    rows = []
    for k in catalogue:
        band = "" if k.band is None else f"{k.band} ({k.band_source})"
        definition = k.definition if k.available else f"{k.definition}\nNot available: {k.reason}"
        rows.append(
            [
                k.name,
                _show(k, k.value, currency),
                _show(k, k.previous, currency),
                _show(k, k.change, currency, signed=True),
                band,
                definition,
            ]
        )
    console.print(
        table(
            f"KPIs for {month} (previous: {month.previous()}; amounts in {currency})",
            ["KPI", "$value", "$previous", "$trend", "band", "definition"],
            rows,
        )
    )
    if use.commitments:
        console.print(
            table(
                "Commitment utilization (spend: Σ EffectiveCost Used ÷ Used + Unused)",
                ["commitment", "type", "$used", "$unused (waste)", "%utilization", "%by quantity"],
                [
                    [
                        c.name or c.commitment_id,
                        c.type or "",
                        format_money(c.used_cost, currency),
                        format_money(c.unused_cost, currency),
                        _percent(_ratio_value(c.utilization)),
                        _percent(_ratio_value(c.quantity_utilization)),
                    ]
                    for c in use.commitments
                ],
            )
        )
    if cov.services:
        console.print(
            table(
                "Commitment coverage of eligible services (Σ ListCost Used ÷ Σ ListCost)",
                ["provider", "service", "$covered list cost", "$eligible list cost", "%coverage"],
                [
                    [
                        s.provider,
                        s.service,
                        format_money(s.covered_list_cost, currency),
                        format_money(s.eligible_list_cost, currency),
                        _percent(_ratio_value(s.coverage)),
                    ]
                    for s in cov.services
                ],
            )
        )
    billed = sum((x.billed_cost for x in lines), ZERO)
    effective = sum((x.effective_cost for x in lines), ZERO)
    console.print(
        table(
            f"Billed (cash) vs amortized (EffectiveCost) cost, {month}",
            ["charge category", "kind", "#rows", "$billed", "$amortized", "$billed − amortized"],
            [
                *(
                    [
                        x.charge_category,
                        x.kind,
                        f"{x.rows:,}",
                        format_money(x.billed_cost, currency),
                        format_money(x.effective_cost, currency),
                        format_money(x.difference, currency),
                    ]
                    for x in lines
                ),
                [
                    "total",
                    "",
                    f"{sum(x.rows for x in lines):,}",
                    format_money(billed, currency),
                    format_money(effective, currency),
                    format_money(billed - effective, currency),
                ],
            ],
        )
    )


def kpis(
    month: Annotated[
        str | None,
        typer.Option(help="Billing period YYYY-MM (default: the latest with charges)."),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="Billing currency, when a month has charges in several."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """FinOps KPIs of a month: value, previous month, trend and Crawl/Walk/Run band."""
    ws = open_workspace(workspace)
    with open_engine(ws.lake) as engine:
        latest = latest_month(engine)
        if latest is None:
            raise InputError(
                f"the workspace {ws.root} has no charges; load billing data with "
                "`costloop ingest FILE` first"
            )
        period = latest if month is None else parse_month(month)
        if month is not None and period > latest:
            raise InputError(f"no charges in billing period {period}; the latest is {latest}")
        chosen = currency or month_currency(engine, period)
        catalogue = kpi_catalogue(engine, period, chosen)
        use = commitment_utilization(engine, period, currency=chosen)
        cov = commitment_coverage(engine, period, currency=chosen)
        lines = billed_vs_amortized(engine, period, currency=chosen)
    if as_json:
        print_json(
            {
                "month": str(period),
                "currency": chosen,
                "kpis": [_kpi_json(k) for k in catalogue],
                "commitments": _commitments_json(use),
                "coverage_by_service": _coverage_json(cov),
                "billed_vs_amortized": _lines_json(lines),
            }
        )
        return
    _render(period, chosen, catalogue, use, cov, lines)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(kpis)
