"""The overview page: spend, forecast, coverage, ESR, anomalies, opportunities, budgets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from costloop.analytics.anomaly_store import list_anomalies
from costloop.analytics.budgets import data_range
from costloop.analytics.showback import daily_costs
from costloop.core.money import ZERO
from costloop.core.periods import Month
from costloop.warehouse.engine import Engine
from costloop.web.deps import Principal, engine_for, get_workspace, page_user
from costloop.web.pages.common import page
from costloop.web.queries import memoized, on_engine, overview_cached

__all__ = ["MonthToDate", "month_to_date", "router"]

router = APIRouter()

TOP_ANOMALIES = 3


@dataclass(frozen=True)
class MonthToDate:
    """EffectiveCost of the current month to its last day of data, against the same
    days of the month before, in one currency."""

    currency: str
    as_of: date
    current: Decimal
    previous: Decimal

    @property
    def change_pct(self) -> Decimal | None:
        """Change in percent of the same days last month (None when that was zero)."""
        return None if self.previous == 0 else (self.current - self.previous) / self.previous * 100


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def month_to_date(engine: Engine) -> list[MonthToDate]:
    """Month-to-date spend against the same number of days of the previous month.

    Days are charge days (``ChargePeriodStart``); the month is that of the last day with
    allocated charges. The previous month's window stops at its own end (a 31st has no
    counterpart in a 30-day month).
    """
    span = data_range(engine)
    if span is None:
        return []
    as_of = span[1]
    month = Month.of(as_of)
    prev = month.previous()
    prev_end = min(prev.start + timedelta(days=as_of.day), prev.end)
    t = daily_costs(engine)
    this = (t.ChargePeriodDay >= month.start) & (
        t.ChargePeriodDay < _midnight(as_of + timedelta(days=1))
    )
    before = (t.ChargePeriodDay >= prev.start) & (t.ChargePeriodDay < prev_end)
    agg = t.group_by("BillingCurrency").aggregate(
        current=t.EffectiveCost.sum(where=this), previous=t.EffectiveCost.sum(where=before)
    )
    rows = engine.rows(agg)
    return [
        MonthToDate(r["BillingCurrency"], as_of, r["current"] or ZERO, r["previous"] or ZERO)
        for r in sorted(rows, key=lambda r: str(r["BillingCurrency"]))
        if r["current"] is not None
    ]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def overview_page(request: Request, user: Annotated[Principal, Depends(page_user)]) -> HTMLResponse:
    """The overview of the estate."""
    ws = get_workspace(request)
    connect = partial(engine_for, request)
    data = overview_cached(ws, connect)
    mtd = memoized(ws, "month-to-date", lambda: on_engine(connect, month_to_date))
    open_now = list_anomalies(ws.state, status="open")
    top = sorted(open_now, key=lambda a: (-a.impact, a.id))[:TOP_ANOMALIES]
    return page(
        request,
        "overview.html.j2",
        user,
        active="overview",
        title="Overview",
        d=data,
        mtd=mtd,
        top_anomalies=top,
    )
