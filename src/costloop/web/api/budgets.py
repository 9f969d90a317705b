"""``GET /api/v1/budgets``: every budget's current period."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from costloop.core.budgets import BudgetStatus
from costloop.web.api.common import ERRORS, Reader, bad_request, budget_item
from costloop.web.api.schemas import BudgetsOut
from costloop.web.deps import engine_for, get_workspace
from costloop.web.queries import budget_statuses, memoized

__all__ = ["router"]

router = APIRouter(tags=["budgets"], responses=ERRORS)


@router.get("/budgets", response_model=BudgetsOut)
def get_budgets(
    request: Request,
    _: Reader,
    as_of: Annotated[
        date | None, Query(description="Last day counted (default: the last day with data).")
    ] = None,
) -> BudgetsOut:
    """Spend to date, forecast, thresholds reached, status and run-out date of each
    budget; the same figures as ``costloop budgets --json``."""
    ws = get_workspace(request)
    if not ws.budgets_file.exists() or not ws.budgets:
        return BudgetsOut(as_of=as_of, budgets=[])

    def run() -> list[BudgetStatus]:
        with engine_for(request) as engine:
            return budget_statuses(engine, ws, as_of=as_of)

    with bad_request():
        statuses = memoized(ws, f"api-budgets:{as_of}", run)
    org = ws.org
    return BudgetsOut(
        as_of=statuses[0].as_of if statuses else as_of,
        budgets=[budget_item(s, org) for s in statuses],
    )
