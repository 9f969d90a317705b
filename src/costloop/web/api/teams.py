"""``GET /api/v1/teams`` and ``/api/v1/teams/{team}``: showback per team."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from costloop.analytics.anomaly_view import anomaly_json
from costloop.core.periods import Month, parse_month
from costloop.report.team import Costs, Ranked
from costloop.web.api.common import (
    ERRORS,
    MONTH_PATTERN,
    Reader,
    bad_request,
    budget_item,
    opportunity_item,
    ratio_text,
    spend_out,
)
from costloop.web.api.schemas import (
    AnomalyItem,
    CostsOut,
    RankedOut,
    TeamDetail,
    TeamItem,
    TrendPoint,
    money,
)
from costloop.web.deps import engine_for, get_workspace
from costloop.web.queries import team_page_cached, team_summaries_cached

__all__ = ["router"]

router = APIRouter(tags=["teams"], responses=ERRORS)


@router.get("/teams", response_model=list[TeamItem])
def get_teams(request: Request, _: Reader) -> list[TeamItem]:
    """Every team (org file and allocated cost) with its owner and latest-month spend."""
    ws = get_workspace(request)
    teams = team_summaries_cached(ws, partial(engine_for, request))
    return [
        TeamItem(
            team=t.team, owner=t.owner, channel=t.channel, spend=[spend_out(s) for s in t.spend]
        )
        for t in teams
    ]


def _costs(currency: str, c: Costs) -> CostsOut:
    return CostsOut(
        currency=currency,
        billed=money(c.billed),
        effective=money(c.effective),
        list=money(c.list_cost),
    )


def _ranked(items: tuple[Ranked, ...]) -> list[RankedOut]:
    return [
        RankedOut(
            name=r.name,
            detail=r.detail,
            currency=r.currency,
            cost=money(r.cost),
            share=ratio_text(r.share),
        )
        for r in items
    ]


@router.get("/teams/{team}", response_model=TeamDetail)
def get_team(
    request: Request,
    _: Reader,
    team: Annotated[str, Path(max_length=200)],
    month: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM (default: the latest).")
    ] = None,
) -> TeamDetail:
    """A team's month (default: the latest): spend against the previous month, six-month
    trend, top services / accounts / resources, its anomalies, active opportunities and
    budgets. Unknown team: 404."""
    ws = get_workspace(request)
    period: Month | None = None
    if month is not None:
        with bad_request():
            period = parse_month(month)
    data = team_page_cached(ws, partial(engine_for, request), team, period)
    r = data.report
    org = ws.org
    return TeamDetail(
        team=r.team,
        month=str(r.month),
        owner=r.owner,
        channel=r.channel,
        current=[_costs(c, v) for c, v in sorted(r.current.items())],
        previous=None
        if r.previous is None
        else [_costs(c, v) for c, v in sorted(r.previous.items())],
        trend=[
            TrendPoint(
                month=str(m),
                currency=c,
                billed=money(v.billed),
                effective=money(v.effective),
                list=money(v.list_cost),
            )
            for c, values in sorted(r.trend.items())
            for m, v in zip(r.trend_months, values, strict=True)
        ],
        top_services=_ranked(r.services),
        top_accounts=_ranked(r.accounts),
        top_resources=_ranked(r.resources),
        anomalies=[AnomalyItem.model_validate(anomaly_json(a)) for a in data.anomalies],
        opportunities=[opportunity_item(o) for o in data.opportunities],
        budgets=[budget_item(b, org) for b in data.budgets],
    )
