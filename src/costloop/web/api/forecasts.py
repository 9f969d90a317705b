"""``GET /api/v1/forecasts``: a scope's forecast with 80 % / 95 % intervals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from costloop.analytics.forecast import MonthForecast, ScopeForecast, forecast_scope
from costloop.core.errors import InputError
from costloop.core.periods import Month
from costloop.web.api.common import ERRORS, Reader, bad_request
from costloop.web.api.schemas import ForecastDay, ForecastMonth, ForecastOut, money
from costloop.web.deps import engine_for, get_workspace

__all__ = ["horizon_end", "parse_horizon", "router"]

router = APIRouter(tags=["forecasts"], responses=ERRORS)

_HORIZON = re.compile(r"^\s*(\d{1,4})\s*([md])\s*$", re.IGNORECASE)
MAX_MONTHS = 24
MAX_DAYS = 730
HISTORY_MONTHS = 6


def parse_horizon(text: str) -> tuple[int, str]:
    """``3m`` (months after the current one) or ``90d`` (days) as (count, unit).

    Raises:
        InputError: anything else, or out of range.
    """
    m = _HORIZON.match(text)
    if not m:
        raise InputError(f"horizon: expected months like 3m or days like 90d, got {text!r}")
    count, unit = int(m.group(1)), m.group(2).lower()
    limit = MAX_MONTHS if unit == "m" else MAX_DAYS
    if not 1 <= count <= limit:
        raise InputError(f"horizon: {text!r} is out of range (1..{limit}{unit})")
    return count, unit


def horizon_end(as_of: date, count: int, unit: str) -> date:
    """The last day a horizon covers after ``as_of`` (as ``costloop forecast`` counts)."""
    if unit == "d":
        return as_of + timedelta(days=count)
    month = Month.of(as_of)
    for _ in range(count):
        month = month.next()
    return month.end.date() - timedelta(days=1)


def parse_scope_param(items: list[str]) -> dict[str, str]:
    """``COLUMN:VALUE`` items (``COLUMN=VALUE`` works too) as a forecast scope.

    Raises:
        InputError: an item without a separator, or a column given twice.
    """
    scope: dict[str, str] = {}
    for item in items:
        sep = ":" if ":" in item else "="
        column, found, value = item.partition(sep)
        column = column.strip()
        if not found or not column:
            raise InputError(f"scope: expected COLUMN:VALUE, got {item!r}")
        if column in scope:
            raise InputError(f"scope: column {column!r} is given twice")
        scope[column] = value.strip()
    return scope


def _months(f: ScopeForecast, end: date) -> list[MonthForecast]:
    months = [m for m in f.monthly() if m.month.end.date() - timedelta(days=1) <= end]
    past = [m for m in months if not m.is_forecast]
    if past and f.history[0][0].day != 1:
        past = past[1:]  # the history starts mid-month: that total is not a month's cost
    return past[-HISTORY_MONTHS:] + [m for m in months if m.is_forecast]


def _month(m: MonthForecast) -> ForecastMonth:
    if not m.is_forecast:
        return ForecastMonth(
            month=str(m.month),
            kind="actual",
            actual=money(m.actual),
            mean=money(m.actual),
            lo80=None,
            hi80=None,
            lo95=None,
            hi95=None,
        )
    return ForecastMonth(
        month=str(m.month),
        kind="partial" if m.is_partial else "forecast",
        actual=money(m.actual),
        mean=money(m.mean),
        lo80=money(m.lo80),
        hi80=money(m.hi80),
        lo95=money(m.lo95),
        hi95=money(m.hi95),
    )


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
        chosen = parse_scope_param(scope or [])
        count, unit = parse_horizon(horizon)
        days = count if unit == "d" else 31 * (count + 1)
        with engine_for(request) as engine:
            f = forecast_scope(
                engine,
                chosen,
                horizon_days=days,
                currency=currency,
                min_history_days=ws.config.int_("forecast.min_history_days"),
            )
    end = horizon_end(f.as_of, count, unit)
    return ForecastOut(
        scope=f.scope,
        currency=f.currency,
        as_of=f.as_of,
        horizon_end=end,
        model=f.model,
        fallback=f.fallback,
        notes=list(f.notes),
        backtest_winner=None if f.backtest is None else f.backtest.winner,
        months=[_month(m) for m in _months(f, end)],
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
