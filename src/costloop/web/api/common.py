"""What the API routers share: auth dependencies, error mapping, model converters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends

from costloop.analytics.budgets import budget_record
from costloop.core.budgets import BudgetStatus
from costloop.core.errors import InputError
from costloop.core.money import quantize
from costloop.core.org import Org
from costloop.opportunities.model import OpportunityView
from costloop.web.api.schemas import (
    BudgetItem,
    OpportunityItem,
    Problem,
    SpendOut,
    money,
    money_or_none,
)
from costloop.web.deps import Principal, api_user, require_role
from costloop.web.errors import problem
from costloop.web.queries import CurrencySpend

__all__ = [
    "ACTION_ERRORS",
    "ERRORS",
    "MONTH_PATTERN",
    "Reader",
    "bad_request",
    "budget_item",
    "iso",
    "jsonable",
    "opportunity_item",
    "ratio_text",
    "spend_out",
]

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
"""A billing period parameter: ``YYYY-MM``."""

Reader = Annotated[Principal, Depends(api_user)]
"""Any signed-in caller (every API route needs one)."""

Actor = Annotated[Principal, Depends(require_role("viewer", "owner", "approver"))]

_PROBLEM: dict[str, Any] = {
    "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}
}


def _error(description: str) -> dict[str, Any]:
    return {"description": f"{description} (problem+json)", **_PROBLEM}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Bad parameters"),
    401: _error("No or invalid credentials"),
    404: _error("Not found"),
    422: _error("Invalid request"),
}
"""Error responses documented on every route."""

ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    403: _error("Not allowed for this user"),
    409: _error("Not allowed in the item's current status"),
}
"""Further error responses of the actions."""


@contextmanager
def bad_request(status: int = 400) -> Iterator[None]:
    """Turn the services' InputError (bad parameters) into a ``status`` problem."""
    try:
        yield
    except InputError as exc:
        raise problem(status, str(exc)) from exc


def iso(value: datetime | date | None) -> str | None:
    """An instant as ISO 8601 UTC (``...Z``), a date as ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def ratio_text(ratio: Decimal | None) -> str | None:
    """A 0..1 ratio as decimal text rounded to 4 places (as the CLI prints it)."""
    return None if ratio is None else money(round(ratio, 4))


def jsonable(value: Any) -> Any:
    """Decimals as exact text, dates ISO, recursively (the CLI's JSON conventions)."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def spend_out(s: CurrencySpend) -> SpendOut:
    """The API shape of a spend comparison."""
    return SpendOut(
        currency=s.currency,
        current=money(s.current),
        previous=money_or_none(s.previous),
        change=money_or_none(s.change),
        change_pct=money_or_none(None if s.change_pct is None else quantize(s.change_pct, 2)),
    )


def opportunity_item(o: OpportunityView) -> OpportunityItem:
    """The list shape of an opportunity."""
    return OpportunityItem(
        id=o.id,
        title=o.title,
        detector=o.detector,
        code=o.code,
        resource_id=o.resource_id,
        status=o.status.value,
        owner_team=o.owner_team,
        currency=o.currency,
        monthly_savings=money(o.monthly_savings),
        annual_savings=money(o.annual_savings),
        risk=o.risk_score,
        effort=o.effort_score,
        value=o.value_score,
        priority=money(o.priority),
        plan=o.plan,
    )


def budget_item(s: BudgetStatus, org: Org) -> BudgetItem:
    """A budget status in the shape ``costloop budgets --json`` prints."""
    return BudgetItem.model_validate(jsonable(budget_record(s, org)))
