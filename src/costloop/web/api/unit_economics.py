"""``GET /api/v1/unit-economics``: cost per unit of a business metric."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from costloop.analytics.unit_cost import COST_BASIS, UnitCostRow, unit_cost
from costloop.core.errors import InputError
from costloop.core.money import quantize
from costloop.web.api.common import ERRORS, Reader, bad_request
from costloop.web.api.schemas import UnitCostRowOut, UnitEconomicsOut, money, money_or_none
from costloop.web.deps import engine_for

__all__ = ["router"]

router = APIRouter(tags=["unit economics"], responses=ERRORS)


def _pct(ratio: Decimal | None) -> str | None:
    return None if ratio is None else money(quantize(ratio * 100, 4))


def _row(r: UnitCostRow) -> UnitCostRowOut:
    ch = r.change
    unit = r.unit_cost
    return UnitCostRowOut(
        period=r.period,
        period_end=r.period_end,
        partial=r.partial,
        group="(total)" if r.is_total else r.group,
        cost=money(r.cost),
        volume=money_or_none(r.volume),
        unit_cost=None if unit is None else money(quantize(unit, 10)),
        cost_change=None if ch is None else money(ch.cost_change),
        cost_change_pct=None if ch is None else _pct(ch.cost_pct),
        volume_change_pct=None if ch is None else _pct(ch.volume_pct),
        unit_cost_change_pct=None if ch is None else _pct(ch.unit_cost_pct),
        volume_effect=None if ch is None else money_or_none(ch.volume_effect),
        unit_cost_effect=None if ch is None else money_or_none(ch.unit_cost_effect),
        verdict=None if ch is None else ch.verdict,
    )


def _scope(items: list[str]) -> dict[str, list[str]]:
    scope: dict[str, list[str]] = {}
    for item in items:
        sep = ":" if ":" in item else "="
        name, found, value = item.partition(sep)
        if not found or not name.strip() or not value.strip():
            raise InputError(f"scope: expected DIMENSION:VALUE (e.g. env:prod), got {item!r}")
        scope.setdefault(name.strip(), []).append(value.strip())
    return scope


@router.get("/unit-economics", response_model=UnitEconomicsOut)
def get_unit_economics(
    request: Request,
    _: Reader,
    metric: Annotated[str, Query(min_length=1, max_length=200, description="e.g. orders.")],
    by: Annotated[
        str | None, Query(max_length=200, description="Allocation dimension, e.g. product.")
    ] = None,
    grain: Annotated[
        Literal["day", "week", "month"], Query(description="Period of each row.")
    ] = "month",
    start: Annotated[date | None, Query(alias="from", description="First day (included).")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (included).")] = None,
    scope: Annotated[
        list[str] | None, Query(max_length=20, description="DIMENSION:VALUE, repeatable.")
    ] = None,
) -> UnitEconomicsOut:
    """Amortized cost per unit of a business metric per period, with the change split
    into volume and unit-cost effects; as ``costloop report unit-cost --format json``."""
    with bad_request():
        chosen = _scope(scope or [])
        with engine_for(request) as engine:
            report = unit_cost(
                engine, metric, by=by, grain=grain, start=start, end=end, scope=chosen
            )
    headline = report.headline
    return UnitEconomicsOut(
        metric=report.metric,
        grain=report.grain,
        by=report.by,
        cost_basis=COST_BASIS,
        scope={k: list(v) for k, v in report.scope.items()},
        currency=report.currency,
        covered_from=None if report.covered is None else report.covered[0],
        covered_to=None if report.covered is None else report.covered[1],
        rows=[_row(r) for r in report.rows],
        summary=None if headline is None else headline[1].sentence(),
        notes=list(report.notes),
    )
