"""Server-rendered HTML pages: every page is behind login and calls the CLI's services.

Charts are inline SVG drawn on the server (``costloop.report.charts``); the only script
is ``/static/app.js`` (progressive enhancement), so the pages work without JavaScript
and under a CSP without inline scripts or styles.
"""

from __future__ import annotations

from fastapi import APIRouter

from costloop.web.pages import (
    allocation,
    anomalies,
    explorer,
    forecasts,
    opportunities,
    overview,
    rates,
    teams,
)

__all__ = ["router"]

router = APIRouter()
for _module in (
    overview,
    explorer,
    allocation,
    teams,
    anomalies,
    forecasts,
    rates,
    opportunities,
):
    router.include_router(_module.router)
