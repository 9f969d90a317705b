"""Showback pages: the list of teams and one page per team."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from costloop.core.errors import NotFoundError
from costloop.report.charts import stacked_bar_chart
from costloop.report.team import TeamReport
from costloop.web.deps import Principal, engine_for, get_workspace, page_user
from costloop.web.pages.common import page, svg
from costloop.web.queries import team_page_cached, team_summaries_cached

__all__ = ["router", "trend_charts"]

router = APIRouter()


def trend_charts(report: TeamReport) -> dict[str, str]:
    """Per currency, the monthly EffectiveCost of the team's top services as stacked bars."""
    labels = [str(m) for m in report.trend_months]
    return {
        currency: stacked_bar_chart(
            labels,
            series,
            title=f"{report.team}: effective cost per month by service ({currency})",
            currency=currency,
        )
        for currency, series in report.trend_by_service.items()
    }


@router.get("/teams", response_class=HTMLResponse, include_in_schema=False)
def teams_page(request: Request, user: Annotated[Principal, Depends(page_user)]) -> HTMLResponse:
    """Every team with its latest month's cost."""
    ws = get_workspace(request)
    teams = team_summaries_cached(ws, partial(engine_for, request))
    return page(request, "teams.html.j2", user, active="teams", title="Teams", teams=teams)


@router.get("/teams/{team}", response_class=HTMLResponse, include_in_schema=False)
def team_detail(
    request: Request, team: str, user: Annotated[Principal, Depends(page_user)]
) -> HTMLResponse:
    """One team's showback: spend, trend, top services, anomalies, opportunities, budgets."""
    ws = get_workspace(request)
    try:
        data = team_page_cached(ws, partial(engine_for, request), team)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    charts = {c: svg(text) for c, text in trend_charts(data.report).items()}
    return page(
        request,
        "team.html.j2",
        user,
        active="teams",
        title=f"Team {team}",
        t=data,
        r=data.report,
        charts=charts,
    )
