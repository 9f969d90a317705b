"""Forecast and budget pages: a scope's forecast with intervals and backtest, budget status."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from costloop.analytics.budgets import data_range, evaluate
from costloop.analytics.forecast import MonthForecast, ScopeForecast, forecast_scope
from costloop.analytics.forecast.horizon import Horizon, shown_months
from costloop.core.budgets import BudgetStatus
from costloop.core.errors import InputError
from costloop.report.charts import interval_chart
from costloop.report.team import known_teams
from costloop.web.deps import Principal, engine_for, get_workspace, page_user
from costloop.web.pages.common import page, svg

__all__ = ["HORIZON_MONTHS", "forecast_months", "router"]

router = APIRouter()

HORIZON_MONTHS = 3
"""Whole months forecast after the current one (as ``costloop forecast``'s default 3m)."""
CHART_DAYS = 120


def forecast_months(f: ScopeForecast) -> list[MonthForecast]:
    """The last complete months of history, the current month and the forecast months."""
    return shown_months(f, Horizon(HORIZON_MONTHS, "m").end(f.as_of))


def _chart(f: ScopeForecast) -> str:
    start = f.as_of - timedelta(days=CHART_DAYS)
    end = Horizon(HORIZON_MONTHS, "m").end(f.as_of)
    history: list[tuple[date, Decimal]] = [(d, v) for d, v in f.history if d > start]
    return interval_chart(
        history,
        [(p.day, p.mean, p.lo80, p.hi80, p.lo95, p.hi95) for p in f.daily if p.day <= end],
        title=f"Daily effective cost and forecast ({f.model}, {f.currency})",
        currency=f.currency,
    )


@router.get("/forecasts", response_class=HTMLResponse, include_in_schema=False)
def forecasts_page(
    request: Request, user: Annotated[Principal, Depends(page_user)], team: str = ""
) -> HTMLResponse:
    """The forecast of everything or of one team, with its backtested error."""
    ws = get_workspace(request)
    error = None
    f = None
    with engine_for(request) as engine:
        teams = known_teams(engine, ws.org)
        if team and team not in teams:
            error = f"unknown team {team!r}"
        elif data_range(engine) is not None:
            try:
                f = forecast_scope(
                    engine,
                    {"team": team} if team else None,
                    horizon_days=31 * (HORIZON_MONTHS + 1),
                    min_history_days=ws.config.int_("forecast.min_history_days"),
                )
            except InputError as exc:
                error = str(exc)
    return page(
        request,
        "forecasts.html.j2",
        user,
        active="forecasts",
        title="Forecasts",
        status_code=404 if error and team and team not in teams else 200,
        error=error,
        f=f,
        months=forecast_months(f) if f is not None else [],
        chart=svg(_chart(f)) if f is not None else "",
        teams=teams,
        team=team,
    )


@router.get("/budgets", response_class=HTMLResponse, include_in_schema=False)
def budgets_page(request: Request, user: Annotated[Principal, Depends(page_user)]) -> HTMLResponse:
    """Every budget's current period: spend, forecast, thresholds and status."""
    ws = get_workspace(request)
    defined = ws.budgets if ws.budgets_file.exists() else ()
    statuses: list[BudgetStatus] = []
    error = None
    if defined:
        with engine_for(request) as engine:
            try:
                statuses = evaluate(
                    engine, defined, min_history_days=ws.config.int_("forecast.min_history_days")
                )
            except InputError as exc:
                error = str(exc)
    return page(
        request,
        "budgets.html.j2",
        user,
        active="budgets",
        title="Budgets",
        statuses=statuses,
        error=error,
        source=ws.budgets_file.name,
    )
