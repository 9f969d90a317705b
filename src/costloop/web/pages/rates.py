"""Commitments (utilization, coverage, ESR) and unit economics (cost per unit chart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from costloop.analytics.kpis import latest_month, month_currency
from costloop.analytics.rates import (
    Coverage,
    Savings,
    Utilization,
    commitment_coverage,
    commitment_utilization,
    savings,
)
from costloop.analytics.showback import allocation_dimensions
from costloop.analytics.unit_cost import UnitCostReport, unit_cost
from costloop.core.errors import InputError
from costloop.core.periods import Month, parse_month
from costloop.report.charts import line_chart
from costloop.warehouse.engine import Engine
from costloop.web.deps import Principal, engine_for, page_user
from costloop.web.pages.common import page, svg

__all__ = ["CommitmentsData", "commitments_data", "metric_names", "router", "unit_cost_chart"]

router = APIRouter()

GRAINS = ("day", "week", "month")
CHART_GROUPS = 8


@dataclass(frozen=True)
class CommitmentsData:
    """A month's commitment utilization and coverage and its savings (ESR)."""

    month: Month
    currency: str
    utilization: Utilization
    coverage: Coverage
    savings: Savings


def commitments_data(
    engine: Engine, month: Month | None = None, currency: str | None = None
) -> CommitmentsData | None:
    """The figures of ``costloop kpis`` for commitments; None for an empty warehouse.

    Raises:
        InputError: the month has no charges, or several currencies and none chosen.
    """
    latest = latest_month(engine)
    if latest is None:
        return None
    period = month or latest
    chosen = currency or month_currency(engine, period)
    return CommitmentsData(
        period,
        chosen,
        commitment_utilization(engine, period, currency=chosen),
        commitment_coverage(engine, period, currency=chosen),
        savings(engine, period, currency=chosen),
    )


@router.get("/commitments", response_class=HTMLResponse, include_in_schema=False)
def commitments_page(
    request: Request,
    user: Annotated[Principal, Depends(page_user)],
    month: str = "",
    currency: str = "",
) -> HTMLResponse:
    """Commitment utilization and coverage and the effective savings rate of a month."""
    error = None
    data = None
    with engine_for(request) as engine:
        try:
            data = commitments_data(engine, parse_month(month) if month else None, currency or None)
        except InputError as exc:
            error = str(exc)
    return page(
        request,
        "commitments.html.j2",
        user,
        active="commitments",
        title="Commitments",
        status_code=400 if error else 200,
        error=error,
        d=data,
        month=month,
        currency=currency,
    )


def metric_names(engine: Engine) -> list[str]:
    """Business metrics loaded into the warehouse, sorted."""
    t = engine.table("business_metrics")
    return sorted(
        str(r["metric"]) for r in engine.rows(t.select("metric").distinct()) if r["metric"]
    )


def unit_cost_chart(report: UnitCostReport) -> str:
    """Cost per unit per period: the total, or the largest groups with ``by``."""
    periods = sorted({r.period for r in report.rows})
    index = {p: i for i, p in enumerate(periods)}
    series: dict[str, list[Decimal | None]] = {}
    wanted = [r for r in report.rows if (r.group is not None) == (report.by is not None)]
    costs: dict[str, Decimal] = {}
    for r in wanted:
        name = r.group if r.group is not None else "total"
        costs[name] = costs.get(name, Decimal(0)) + r.cost
    keep = sorted(costs, key=lambda n: -costs[n])[:CHART_GROUPS]
    for r in wanted:
        name = r.group if r.group is not None else "total"
        if name in keep:
            series.setdefault(name, [None] * len(periods))[index[r.period]] = r.unit_cost
    unit = report.currency or "USD"
    return line_chart(
        [_label(p, report.grain) for p in periods],
        {n: series[n] for n in keep if n in series},
        title=f"Cost per {report.metric} ({unit})",
        unit=unit,
    )


def _label(day: date, grain: str) -> str:
    return f"{day:%Y-%m}" if grain == "month" else day.isoformat()


@router.get("/unit-economics", response_class=HTMLResponse, include_in_schema=False)
def unit_economics_page(
    request: Request,
    user: Annotated[Principal, Depends(page_user)],
    metric: str = "",
    by: str = "",
    grain: str = "month",
) -> HTMLResponse:
    """Cost per unit of a business metric, with the change decomposed."""
    error = None
    report = None
    with engine_for(request) as engine:
        names = metric_names(engine)
        dims = allocation_dimensions(engine)
        chosen = metric or (names[0] if names else "")
        if chosen:
            try:
                report = unit_cost(engine, chosen, by=by or None, grain=grain)
            except InputError as exc:
                error = str(exc)
    return page(
        request,
        "unit_economics.html.j2",
        user,
        active="unit-economics",
        title="Unit economics",
        status_code=400 if error else 200,
        error=error,
        report=report,
        chart=svg(unit_cost_chart(report)) if report is not None and report.rows else "",
        names=names,
        dims=dims,
        grains=GRAINS,
        params={"metric": chosen, "by": by, "grain": grain},
        label=_label,
    )
