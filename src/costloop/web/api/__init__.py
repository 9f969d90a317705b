"""The REST API, version 1 (``/api/v1``): every page's data as JSON, and its actions.

Every route needs a signed-in caller (API token or session); mutations check the role
and the team scope. Errors are problem+json (RFC 9457).
"""

from __future__ import annotations

from fastapi import APIRouter

from costloop.web.api import (
    allocation,
    anomalies,
    budgets,
    commitments,
    explorer,
    forecasts,
    opportunities,
    overview,
    teams,
    unit_economics,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
for _module in (
    overview,
    explorer,
    allocation,
    teams,
    anomalies,
    forecasts,
    budgets,
    commitments,
    unit_economics,
    opportunities,
):
    router.include_router(_module.router)
