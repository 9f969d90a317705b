"""``GET /api/v1/forecasts``: a scope's forecast with 80 % / 95 % intervals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from costloop.analytics.forecast import forecast_scope
from costloop.analytics.forecast.horizon import (
    month_record,
    parse_horizon,
    parse_scope,
    shown_months,
)
from costloop.web.api.common import ERRORS, Reader, bad_request, jsonable
from costloop.web.api.schemas import ForecastDay, ForecastMonth, ForecastOut, money
from costloop.web.deps import engine_for, get_workspace

__all__ = ["router"]

router = APIRouter(tags=["forecasts"], responses=ERRORS)


@router.get("/forecasts", response_model=ForecastOut)
def get_forecast(
    request: Request,
    _: Reader,
    scope: Annotated[
        list[str] | None,
        Query(max_length=20, description="COLUMN:VALUE filter, e.g. team:checkout; repeatable."),
    ] = None,
    horizon: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{1,3}[md]$",
            description="Months after the current one (3m, at most 24m) or days (90d, at "
            "most 730d).",
        ),
    ] = "3m",
    currency: Annotated[
        str | None, Query(max_length=10, description="Billing currency, if several.")
    ] = None,
) -> ForecastOut:
    """Monthly history and forecast of a scope's EffectiveCost, with 80 % and 95 %
    intervals; the same forecast as ``costloop forecast --json``."""
    ws = get_workspace(request)
    with bad_request():
        chosen = parse_scope(scope or [], "scope", separators=":=")
        span = parse_horizon(horizon, "horizon")
        with engine_for(request) as engine:
            f = forecast_scope(
                engine,
                chosen,
                horizon_days=span.model_days,
                currency=currency,
                min_history_days=ws.config.int_("forecast.min_history_days"),
            )
    end = span.end(f.as_of)
    return ForecastOut(
        scope=f.scope,
        currency=f.currency,
        as_of=f.as_of,
        horizon_end=end,
        model=f.model,
        fallback=f.fallback,
        notes=list(f.notes),
        backtest_winner=None if f.backtest is None else f.backtest.winner,
        months=[
            ForecastMonth.model_validate(jsonable(month_record(m))) for m in shown_months(f, end)
        ],
        daily=[
            ForecastDay(
                day=p.day,
                mean=money(p.mean),
                lo80=money(p.lo80),
                hi80=money(p.hi80),
                lo95=money(p.lo95),
                hi95=money(p.hi95),
            )
            for p in f.daily
            if p.day <= end
        ],
    )
