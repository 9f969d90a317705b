"""The cost explorer: a metric by any dimension over time, as a chart, a table and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from costloop.core.errors import InputError
from costloop.core.money import ZERO
from costloop.report.charts import line_chart, stacked_bar_chart
from costloop.report.render import label, plain_decimal
from costloop.web.deps import Principal, engine_for, get_workspace, page_user
from costloop.web.pages.common import page, svg
from costloop.web.queries import (
    GRAINS,
    ExplorerQuery,
    ExplorerResult,
    explorer_cached,
    explorer_dimensions,
    memoized,
    on_engine,
    parse_filter,
)

__all__ = ["ExplorerTable", "explorer_table", "router"]

router = APIRouter()

CHART_SERIES = 8
"""Series drawn in the chart; the rest are summed as ``other``."""
PERIOD_COLUMNS = 13
"""Up to this many periods, the table has a column per period."""


@dataclass(frozen=True)
class ExplorerTable:
    """The explorer's table: one row per (value, currency), a cell per period."""

    periods: tuple[date, ...]
    rows: tuple[tuple[str, str, Decimal, tuple[Decimal, ...]], ...]
    show_periods: bool


def explorer_table(result: ExplorerResult) -> ExplorerTable:
    """Rows largest first within each currency, with their cost in each period."""
    index = {p: i for i, p in enumerate(result.periods)}
    rows = []
    for s in result.series:
        cells = [ZERO] * len(result.periods)
        for p in s.points:
            cells[index[p.period]] += p.cost
        rows.append((label(s.value), s.currency, s.total, tuple(cells)))
    return ExplorerTable(result.periods, tuple(rows), len(result.periods) <= PERIOD_COLUMNS)


def _period_label(day: date, grain: str) -> str:
    return f"{day:%Y-%m}" if grain == "month" else day.isoformat()


def _chart(result: ExplorerResult) -> str:
    """Stacked monthly bars or daily lines of the largest series of the main currency."""
    if not result.series:
        return ""
    currency = max(result.totals, key=lambda c: result.totals[c])
    mine = [s for s in result.series if s.currency == currency]
    index = {p: i for i, p in enumerate(result.periods)}
    series: dict[str, list[Decimal]] = {}
    for s in mine[:CHART_SERIES]:
        values = [ZERO] * len(result.periods)
        for p in s.points:
            values[index[p.period]] += p.cost
        series[label(s.value)] = values
    if len(mine) > CHART_SERIES:
        other = [ZERO] * len(result.periods)
        for s in mine[CHART_SERIES:]:
            for p in s.points:
                other[index[p.period]] += p.cost
        series["other"] = other
    q = result.query
    labels = [_period_label(p, q.grain) for p in result.periods]
    title = f"{q.metric.capitalize()} cost by {q.group_by} ({currency})"
    if q.grain == "month":
        return stacked_bar_chart(labels, series, title=title, currency=currency)
    return line_chart(labels, dict(series.items()), title=title, unit=currency)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: expected a day YYYY-MM-DD, got {text!r}") from None


def _query(
    group_by: str, metric: str, start: str | None, end: str | None, grain: str, filters: list[str]
) -> ExplorerQuery:
    return ExplorerQuery(
        group_by=group_by,
        metric=metric,
        start=_day(start, "from"),
        end=_day(end, "to"),
        grain=grain,
        filters=tuple(parse_filter(f) for f in filters if f.strip()),
    )


GroupBy = Annotated[str, Query()]
FromDay = Annotated[str | None, Query(alias="from")]
ToDay = Annotated[str | None, Query(alias="to")]
Filters = Annotated[list[str] | None, Query(alias="filter")]


@router.get("/explorer", response_class=HTMLResponse, include_in_schema=False)
def explorer_page(
    request: Request,
    user: Annotated[Principal, Depends(page_user)],
    group_by: GroupBy = "ServiceName",
    metric: str = "effective",
    start: FromDay = None,
    end: ToDay = None,
    grain: str = "month",
    filters: Filters = None,
) -> HTMLResponse:
    """Group, filter and chart the cost."""
    params = {
        "group_by": group_by,
        "metric": metric,
        "from": start or "",
        "to": end or "",
        "grain": grain,
        "filter": [f for f in filters or [] if f.strip()],
    }
    error = None
    result = None
    ws = get_workspace(request)
    connect = partial(engine_for, request)
    try:
        result, dimensions = explorer_cached(
            ws, connect, _query(group_by, metric, start, end, grain, filters or [])
        )
    except InputError as exc:
        error = str(exc)
        dimensions = memoized(
            ws, "explorer-dimensions", lambda: on_engine(connect, explorer_dimensions)
        )
    return page(
        request,
        "explorer.html.j2",
        user,
        active="explorer",
        title="Cost explorer",
        status_code=400 if error else 200,
        error=error,
        params=params,
        dimensions=dimensions,
        grains=GRAINS,
        metrics=("effective", "billed", "list"),
        result=result,
        table=None if result is None else explorer_table(result),
        chart=svg(_chart(result)) if result is not None else "",
        period_label=_period_label,
    )


@router.get("/explorer.csv", include_in_schema=False)
def explorer_csv(
    request: Request,
    user: Annotated[Principal, Depends(page_user)],
    group_by: GroupBy = "ServiceName",
    metric: str = "effective",
    start: FromDay = None,
    end: ToDay = None,
    grain: str = "month",
    filters: Filters = None,
) -> Response:
    """The explorer's points as CSV: period, value, currency, cost (exact decimals)."""
    try:
        result, _ = explorer_cached(
            get_workspace(request),
            partial(engine_for, request),
            _query(group_by, metric, start, end, grain, filters or []),
        )
    except InputError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", group_by, "currency", f"{metric}_cost"])
    for p in result.rows:
        writer.writerow([p.period.isoformat(), p.value or "", p.currency, plain_decimal(p.cost)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="costloop-explorer.csv"'},
    )
