"""What every HTML page shares: the template environment, filters, rendering and role checks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from costloop.core.money import format_money
from costloop.web.deps import Principal, can_act_on_team, csrf_token

__all__ = [
    "NAV",
    "can_act_on_anomaly",
    "can_approve",
    "can_snooze",
    "forbid",
    "page",
    "redirect",
    "svg",
]

NAV = (
    ("overview", "/", "Overview"),
    ("explorer", "/explorer", "Cost explorer"),
    ("allocation", "/allocation", "Allocation"),
    ("teams", "/teams", "Teams"),
    ("anomalies", "/anomalies", "Anomalies"),
    ("forecasts", "/forecasts", "Forecasts"),
    ("budgets", "/budgets", "Budgets"),
    ("commitments", "/commitments", "Commitments"),
    ("unit-economics", "/unit-economics", "Unit economics"),
    ("opportunities", "/opportunities", "Opportunities"),
)
"""(key, path, label) of the main navigation, in order."""


def _money(value: Decimal | int | None, currency: str = "USD", places: int = 2) -> str:
    return "n/a" if value is None else format_money(Decimal(value), currency, places)


def _pct(value: Decimal | None, places: int = 1, *, ratio: bool = True) -> str:
    """A ratio (0.25) or, with ``ratio=False``, a percentage (25) as ``25.0%``."""
    if value is None:
        return "n/a"
    shown = value * 100 if ratio else value
    return f"{shown:.{places}f}%"


def _signed_pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _query(params: dict[str, Any]) -> str:
    """URL query text of the non-empty ``params``."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("costloop.web", "templates"),
    autoescape=jinja2.select_autoescape(("html", "j2")),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(money=_money, pct=_pct, signed_pct=_signed_pct, when=_when, query=_query)
_ENV.globals["NAV"] = NAV


def svg(markup: str) -> Markup:
    """Mark a chart built by ``costloop.report.charts`` (which escapes its text) as safe."""
    return Markup(markup)


def page(
    request: Request,
    template: str,
    user: Principal,
    *,
    active: str,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the shared layout as an HTML response.

    Args:
        request: the request (for the CSRF token and the current path).
        template: file name under ``costloop/web/templates``.
        user: the logged-in user (shown in the user menu; drives which forms appear).
        active: key of the navigation entry to highlight.
        title: the page title.
        status_code: HTTP status of the response.
        **context: the template's own variables.
    """
    html = _ENV.get_template(template).render(
        user=user,
        csrf=csrf_token(request),
        active=active,
        title=title,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    """303 See Other to ``url`` (after a form POST, the browser GETs the page again)."""
    return RedirectResponse(url, status_code=303)


def can_act_on_anomaly(user: Principal, team: str) -> bool:
    """Admins act on every anomaly; owners on their own team's (as the REST API)."""
    return can_act_on_team(user, team)


def can_approve(user: Principal) -> bool:
    """Approvers and admins approve and reject opportunities."""
    return user.role in ("approver", "admin")


def can_snooze(user: Principal, team: str) -> bool:
    """Approvers, admins and the owner of the opportunity's team snooze it."""
    return can_approve(user) or (user.role == "owner" and user.team == team)


def forbid(allowed: bool) -> None:
    """Raise 403 unless ``allowed``.

    Raises:
        HTTPException: 403.
    """
    if not allowed:
        raise HTTPException(status_code=403, detail="your role does not allow this action")
