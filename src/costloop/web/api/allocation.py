"""``GET /api/v1/allocation/coverage`` and ``/api/v1/allocation/rules``."""

from __future__ import annotations

import dataclasses
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from costloop.allocation.coverage import band, coverage_report
from costloop.core.periods import Month, parse_month
from costloop.web.api.common import (
    ERRORS,
    MONTH_PATTERN,
    Reader,
    bad_request,
    jsonable,
    ratio_text,
)
from costloop.web.api.schemas import (
    CoverageOut,
    CoveragePeriod,
    RulesOut,
    SuggestionOut,
    UnallocatedOut,
    money,
)
from costloop.web.deps import engine_for, get_workspace

__all__ = ["router"]

router = APIRouter(prefix="/allocation", tags=["allocation"], responses=ERRORS)

DEFINITION = "allocated EffectiveCost / total EffectiveCost (all rows, Tax and Credit included)"


@router.get("/coverage", response_model=CoverageOut)
def get_coverage(
    request: Request,
    _: Reader,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="Month for gaps, YYYY-MM (default latest)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Unallocated items per dimension.")] = 10,
) -> CoverageOut:
    """Coverage per dimension and month, the largest unallocated items with the suggested
    fix; the same figures as ``costloop report coverage --json``."""
    period: Month | None = None
    if month is not None:
        with bad_request():
            period = parse_month(month)
    ws = get_workspace(request)
    with engine_for(request) as engine:
        report = coverage_report(engine, ws.allocation, period, limit)
    return CoverageOut(
        latest=None if report.latest is None else str(report.latest),
        required=report.required,
        definition=DEFINITION,
        periods=[
            CoveragePeriod(
                dimension=p.dimension,
                period=str(p.period),
                effective_cost=money(p.total),
                allocated_effective_cost=money(p.allocated),
                coverage=ratio_text(p.coverage),
                band=band(p.coverage),
                by_rule={k: money(v) for k, v in p.by_source.items()},
            )
            for p in report.periods
        ],
        unallocated=[
            UnallocatedOut(
                dimension=i.dimension,
                resource_id=i.resource_id,
                resource_name=i.resource_name,
                service=i.service,
                account=i.account,
                charge_category=i.charge_category,
                effective_cost=money(i.cost),
            )
            for i in report.unallocated
        ],
        suggestions=[
            SuggestionOut(
                dimension=s.dimension,
                kind=s.kind,
                text=s.text,
                effective_cost=money(s.cost),
                reaches=ratio_text(s.reaches),
                resources=list(s.items),
            )
            for s in report.suggestions
        ],
    )


def _plain(item: Any) -> dict[str, Any]:
    data = jsonable(dataclasses.asdict(item))
    assert isinstance(data, dict)
    return data


@router.get("/rules", response_model=RulesOut)
def get_rules(request: Request, _: Reader) -> RulesOut:
    """The allocation taxonomy, rules and shared-cost pools in force."""
    ws = get_workspace(request)
    config = ws.allocation
    path: FilePath = ws.allocation_file
    text = path.read_text(encoding="utf-8") if path.exists() else None
    return RulesOut(
        source=config.source,
        text=text,
        dimensions=[_plain(d) for d in config.dimensions],
        rules=[_plain(r) for r in config.rules],
        pools=[_plain(p) for p in config.pools],
    )
