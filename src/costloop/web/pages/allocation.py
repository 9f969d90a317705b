"""The allocation page: coverage trend per dimension, unallocated cost and fixes, the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from costloop.allocation.coverage import CoverageReport, band, coverage_report
from costloop.report.charts import line_chart
from costloop.web.deps import Principal, engine_for, get_workspace, page_user
from costloop.web.pages.common import page, svg

__all__ = ["coverage_chart", "router"]

router = APIRouter()

UNALLOCATED_ITEMS = 20


def coverage_chart(report: CoverageReport) -> str:
    """Allocated share of EffectiveCost per month, one line per dimension (percent)."""
    months = sorted({p.period for p in report.periods})
    index = {m: i for i, m in enumerate(months)}
    series: dict[str, list[Decimal | None]] = {}
    for p in report.periods:
        values = series.setdefault(p.dimension, [None] * len(months))
        values[index[p.period]] = None if p.coverage is None else p.coverage * 100
    return line_chart(
        [str(m) for m in months], series, title="Allocation coverage per month", unit="%"
    )


@router.get("/allocation", response_class=HTMLResponse, include_in_schema=False)
def allocation_page(
    request: Request, user: Annotated[Principal, Depends(page_user)]
) -> HTMLResponse:
    """Coverage, gaps with suggested fixes, and the allocation rules in force."""
    ws = get_workspace(request)
    config = ws.allocation
    with engine_for(request) as engine:
        report = coverage_report(engine, config, limit=UNALLOCATED_ITEMS)
    latest = [p for p in report.periods if p.period == report.latest]
    return page(
        request,
        "allocation.html.j2",
        user,
        active="allocation",
        title="Allocation",
        report=report,
        latest=latest,
        band=band,
        chart=svg(coverage_chart(report)) if report.periods else "",
        config=config,
    )
