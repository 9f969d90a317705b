"""``GET /api/v1/explorer`` and ``/api/v1/explorer.csv``: cost by dimension over time."""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from costloop.web.api.common import ERRORS, Reader, bad_request
from costloop.web.api.schemas import (
    CurrencyTotal,
    ExplorerOut,
    FilterOut,
    PointOut,
    SeriesOut,
    money,
)
from costloop.web.deps import engine_for, get_workspace
from costloop.web.queries import (
    ExplorerQuery,
    ExplorerResult,
    explorer_cached,
    parse_filter,
)

__all__ = ["router"]

router = APIRouter(tags=["explorer"], responses=ERRORS)

GroupBy = Annotated[
    str,
    Query(
        max_length=200,
        description="Dimension: ProviderName, BillingAccountId, SubAccountId, ServiceName, "
        "RegionId, ChargeCategory or an allocation dimension (team, ...).",
    ),
]
Metric = Annotated[Literal["effective", "billed", "list"], Query(description="Money column.")]
Grain = Annotated[Literal["day", "month"], Query(description="Period of each point.")]
From = Annotated[date | None, Query(alias="from", description="First day YYYY-MM-DD (included).")]
To = Annotated[date | None, Query(alias="to", description="Last day YYYY-MM-DD (included).")]
Filters = Annotated[
    list[str] | None,
    Query(
        alias="filter",
        max_length=50,
        description="COLUMN:VALUE, repeatable; values of one column are alternatives.",
    ),
]


def _cell(value: str | None) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _run(
    request: Request,
    group_by: str,
    metric: str,
    grain: str,
    start: date | None,
    end: date | None,
    filters: list[str] | None,
) -> tuple[ExplorerResult, list[str]]:
    with bad_request():
        parsed = tuple(parse_filter(f) for f in filters or [])
        query = ExplorerQuery(group_by, metric, start, end, grain, parsed)
        return explorer_cached(get_workspace(request), partial(engine_for, request), query)


@router.get("/explorer", response_model=ExplorerOut, response_model_by_alias=True)
def get_explorer(
    request: Request,
    _: Reader,
    group_by: GroupBy = "ServiceName",
    metric: Metric = "effective",
    grain: Grain = "month",
    start: From = None,
    end: To = None,
    filters: Filters = None,
) -> ExplorerOut:
    """Cost per value of a dimension and period, series largest first.

    With ``grain=month`` the range selects whole billing periods; with ``grain=day`` it
    selects charge days. An unknown dimension answers 400 listing the allowed ones.
    """
    result, dimensions = _run(request, group_by, metric, grain, start, end, filters)
    q = result.query
    return ExplorerOut(
        group_by=q.group_by,
        metric=q.metric,
        grain=q.grain,
        **{"from": q.start, "to": q.end},
        filters=[FilterOut(column=c, value=v) for c, v in q.filters],
        dimensions=dimensions,
        periods=list(result.periods),
        totals=[CurrencyTotal(currency=c, total=money(v)) for c, v in result.totals.items()],
        series=[
            SeriesOut(
                value=s.value,
                currency=s.currency,
                total=money(s.total),
                points=[PointOut(period=p.period, cost=money(p.cost)) for p in s.points],
            )
            for s in result.series
        ],
    )


@router.get(
    "/explorer.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The explorer table."}},
)
def get_explorer_csv(
    request: Request,
    _: Reader,
    group_by: GroupBy = "ServiceName",
    metric: Metric = "effective",
    grain: Grain = "month",
    start: From = None,
    end: To = None,
    filters: Filters = None,
) -> Response:
    """The explorer table as CSV: period, the dimension value, currency, cost."""
    result, _dimensions = _run(request, group_by, metric, grain, start, end, filters)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["period", result.query.group_by, "currency", f"{result.query.metric}_cost"])
    for p in result.rows:
        writer.writerow([p.period.isoformat(), _cell(p.value), p.currency, money(p.cost)])
    name = f"costloop-{result.query.group_by}-{result.query.grain}.csv"
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
