"""``GET /api/v1/overview``: the overview page's figures."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request

from costloop.web.api.common import (
    ERRORS,
    Reader,
    budget_item,
    opportunity_item,
    ratio_text,
    spend_out,
)
from costloop.web.api.schemas import (
    CoverageFigure,
    EsrOut,
    MonthForecastOut,
    OverviewOut,
    money,
    money_or_none,
)
from costloop.web.deps import engine_for, get_workspace
from costloop.web.queries import overview_cached

__all__ = ["router"]

router = APIRouter(tags=["overview"], responses=ERRORS)


@router.get("/overview", response_model=OverviewOut)
def get_overview(request: Request, _: Reader) -> OverviewOut:
    """Spend this month vs last, the month-end forecast with its 80 % interval, team
    allocation coverage, ESR, open anomalies, the top 5 opportunities and budget statuses.

    "This month" is the latest billing period with allocated charges.
    """
    ws = get_workspace(request)
    data = overview_cached(ws, partial(engine_for, request))
    org = ws.org
    return OverviewOut(
        month=None if data.month is None else str(data.month),
        previous_month=None if data.previous_month is None else str(data.previous_month),
        spend=[spend_out(s) for s in data.spend],
        forecasts=[
            MonthForecastOut(
                currency=f.currency,
                month=str(f.month),
                as_of=f.as_of,
                actual=money(f.actual),
                mean=money_or_none(f.mean),
                lo80=money_or_none(f.lo80),
                hi80=money_or_none(f.hi80),
                model=f.model,
                note=f.note,
            )
            for f in data.forecasts
        ],
        coverage=CoverageFigure(value=ratio_text(data.coverage), band=data.coverage_band),
        esr=[EsrOut(currency=c, value=money_or_none(v)) for c, v in data.esr.items()],
        open_anomalies=data.open_anomalies,
        top_opportunities=[opportunity_item(o) for o in data.opportunities],
        budgets=[budget_item(b, org) for b in data.budgets],
    )
