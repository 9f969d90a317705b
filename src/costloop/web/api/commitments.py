"""``GET /api/v1/commitments``: commitment utilization, coverage and ESR of a month."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request

from costloop.analytics.kpis import Kpi, kpi_catalogue, latest_month, month_currency
from costloop.analytics.rates import (
    Ratio,
    billed_vs_amortized,
    commitment_coverage,
    commitment_utilization,
)
from costloop.core.errors import InputError
from costloop.core.periods import parse_month
from costloop.web.api.common import ERRORS, MONTH_PATTERN, Reader, bad_request
from costloop.web.api.schemas import (
    BilledAmortizedOut,
    CommitmentOut,
    CommitmentsOut,
    KpiOut,
    ServiceCoverageOut,
    money,
    money_or_none,
)
from costloop.web.deps import engine_for, get_workspace
from costloop.web.queries import memoized

__all__ = ["router"]

router = APIRouter(tags=["commitments"], responses=ERRORS)

_RATIO_UNIT = Decimal("0.000001")


def _ratio(r: Ratio | None) -> str | None:
    value = None if r is None else r.value
    return money_or_none(
        None if value is None else value.quantize(_RATIO_UNIT, rounding=ROUND_HALF_EVEN)
    )


def _kpi(k: Kpi) -> KpiOut:
    return KpiOut(
        id=k.id,
        name=k.name,
        definition=k.definition,
        unit=k.unit,
        value=money_or_none(k.value),
        previous=money_or_none(k.previous),
        change=money_or_none(k.change),
        band=k.band,
        band_source=k.band_source,
        numerator=money_or_none(k.numerator),
        denominator=money_or_none(k.denominator),
        available=k.available,
        reason=k.reason,
    )


@router.get("/commitments", response_model=CommitmentsOut)
def get_commitments(
    request: Request,
    _: Reader,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="Billing period YYYY-MM (default latest)."),
    ] = None,
    currency: Annotated[
        str | None, Query(max_length=10, description="Billing currency, if several.")
    ] = None,
) -> CommitmentsOut:
    """KPIs (utilization, coverage, ESR, waste, ...), each commitment's utilization,
    coverage per eligible service and billed vs amortized cost, as ``costloop kpis --json``."""
    with bad_request():
        return memoized(
            get_workspace(request),
            f"commitments:{month}:{currency}",
            lambda: _commitments(request, month, currency),
        )


def _commitments(request: Request, month: str | None, currency: str | None) -> CommitmentsOut:
    with engine_for(request) as engine:
        latest = latest_month(engine)
        if latest is None:
            raise InputError("the workspace has no charges yet")
        period = latest if month is None else parse_month(month)
        if period > latest:
            raise InputError(f"no charges in billing period {period}; the latest is {latest}")
        chosen = currency or month_currency(engine, period)
        catalogue = kpi_catalogue(engine, period, chosen)
        use = commitment_utilization(engine, period, currency=chosen)
        cov = commitment_coverage(engine, period, currency=chosen)
        lines = billed_vs_amortized(engine, period, currency=chosen)
    return CommitmentsOut(
        month=str(period),
        currency=chosen,
        kpis=[_kpi(k) for k in catalogue],
        commitments=[
            CommitmentOut(
                provider=c.provider,
                commitment_id=c.commitment_id,
                name=c.name,
                type=c.type,
                category=c.category,
                unit=c.unit,
                used_cost=money(c.used_cost),
                unused_cost=money(c.unused_cost),
                utilization=_ratio(c.utilization),
                used_quantity=money_or_none(c.used_quantity),
                unused_quantity=money_or_none(c.unused_quantity),
                quantity_utilization=_ratio(c.quantity_utilization),
            )
            for c in use.commitments
        ],
        coverage_by_service=[
            ServiceCoverageOut(
                provider=s.provider,
                service=s.service,
                covered_list_cost=money(s.covered_list_cost),
                eligible_list_cost=money(s.eligible_list_cost),
                coverage=_ratio(s.coverage),
            )
            for s in cov.services
        ],
        billed_vs_amortized=[
            BilledAmortizedOut(
                charge_category=x.charge_category,
                kind=x.kind,
                rows=x.rows,
                billed_cost=money(x.billed_cost),
                effective_cost=money(x.effective_cost),
                difference=money(x.difference),
            )
            for x in lines
        ],
    )
