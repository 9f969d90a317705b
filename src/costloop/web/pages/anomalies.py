"""Anomaly pages: the filtered list, the detail with its chart, and the owner's actions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from costloop.analytics import anomaly_store
from costloop.analytics.anomaly_view import AnomalyView
from costloop.core.errors import InputError
from costloop.report.charts import band_chart
from costloop.web.deps import Principal, get_workspace, page_user, verify_csrf_form
from costloop.web.pages.common import can_act_on_anomaly, forbid, page, redirect, svg

__all__ = ["STATUS_CHOICES", "router"]

router = APIRouter()

STATUS_CHOICES = ("open", "new", "acknowledged", "closed", "resolved", "false-positive", "all")
"""Values of the list's status filter (``all`` applies none)."""


def _load(request: Request, anomaly_id: int) -> AnomalyView:
    try:
        return anomaly_store.get(get_workspace(request).state, anomaly_id)
    except InputError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


def _detail(
    request: Request,
    user: Principal,
    view: AnomalyView,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    chart = band_chart(
        [(p.day, p.actual, p.expected, p.lower, p.upper) for p in view.series],
        title=f"Anomaly {view.id}: actual vs expected daily cost ({view.currency})",
        currency=view.currency,
    )
    return page(
        request,
        "anomaly.html.j2",
        user,
        active="anomalies",
        title=f"Anomaly {view.id}",
        a=view,
        chart=svg(chart) if view.series else "",
        can_act=can_act_on_anomaly(user, view.owner_team),
        error=error,
        status_code=status_code,
    )


@router.get("/anomalies", response_class=HTMLResponse, include_in_schema=False)
def anomalies_page(
    request: Request,
    user: Annotated[Principal, Depends(page_user)],
    status: str = "open",
    team: str = "",
    since: str = "",
) -> HTMLResponse:
    """Stored anomalies, most recent first, filtered by status, team and end day."""
    ws = get_workspace(request)
    error = None
    views: list[AnomalyView] = []
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        day, error = None, f"since: expected a day YYYY-MM-DD, got {since!r}"
    if error is None:
        try:
            views = anomaly_store.list_anomalies(
                ws.state,
                since=day,
                status=None if status == "all" else status,
                team=team or None,
            )
        except InputError as exc:
            error = str(exc)
    teams = sorted({t.name for t in ws.org.teams} | {"unowned"})
    return page(
        request,
        "anomalies.html.j2",
        user,
        active="anomalies",
        title="Anomalies",
        status_code=400 if error else 200,
        error=error,
        anomalies=views,
        filters={"status": status, "team": team, "since": since},
        statuses=STATUS_CHOICES,
        teams=teams,
    )


@router.get("/anomalies/{anomaly_id}", response_class=HTMLResponse, include_in_schema=False)
def anomaly_page(
    request: Request, anomaly_id: int, user: Annotated[Principal, Depends(page_user)]
) -> HTMLResponse:
    """One anomaly: chart, root cause, history and (for its owner) the actions."""
    return _detail(request, user, _load(request, anomaly_id))


Note = Annotated[str, Form()]
Csrf = Depends(verify_csrf_form)


def _act(
    request: Request,
    user: Principal,
    anomaly_id: int,
    action: str,
    note: str,
    false_positive: bool = False,
) -> Response:
    view = _load(request, anomaly_id)
    forbid(can_act_on_anomaly(user, view.owner_team))
    state = get_workspace(request).state
    try:
        if action == "ack":
            anomaly_store.acknowledge(state, anomaly_id, user.username, note)
        elif action == "resolve":
            anomaly_store.resolve(
                state, anomaly_id, user.username, note, false_positive=false_positive
            )
        else:
            anomaly_store.comment(state, anomaly_id, user.username, note)
    except InputError as exc:
        return _detail(request, user, view, error=str(exc), status_code=409)
    return redirect(f"/anomalies/{anomaly_id}")


@router.post("/anomalies/{anomaly_id}/ack", include_in_schema=False, dependencies=[Csrf])
def acknowledge_form(
    request: Request,
    anomaly_id: int,
    user: Annotated[Principal, Depends(page_user)],
    note: Note = "",
) -> Response:
    """Acknowledge a new anomaly (its team's owner or an admin)."""
    return _act(request, user, anomaly_id, "ack", note)


@router.post("/anomalies/{anomaly_id}/resolve", include_in_schema=False, dependencies=[Csrf])
def resolve_form(
    request: Request,
    anomaly_id: int,
    user: Annotated[Principal, Depends(page_user)],
    note: Note = "",
    false_positive: Annotated[bool, Form()] = False,
) -> Response:
    """Resolve an open anomaly with a note (optionally as a false positive)."""
    return _act(request, user, anomaly_id, "resolve", note, false_positive)


@router.post("/anomalies/{anomaly_id}/comment", include_in_schema=False, dependencies=[Csrf])
def comment_form(
    request: Request,
    anomaly_id: int,
    user: Annotated[Principal, Depends(page_user)],
    note: Note = "",
) -> Response:
    """Add a comment to an anomaly's history."""
    return _act(request, user, anomaly_id, "comment", note)
