"""``/api/v1/anomalies``: the anomaly list and detail, acknowledge / resolve / comment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from costloop.analytics import anomaly_store
from costloop.analytics.anomaly_view import AnomalyView, anomaly_json
from costloop.core.errors import InputError
from costloop.state import StateDB
from costloop.web.api.common import ACTION_ERRORS, ERRORS, Reader, bad_request
from costloop.web.api.pagination import Page, PageParams, page_of, page_params
from costloop.web.api.schemas import AnomalyAction, AnomalyDetail, AnomalyItem
from costloop.web.deps import Principal, can_act_on_team, get_workspace
from costloop.web.errors import problem

__all__ = ["router"]

router = APIRouter(prefix="/anomalies", tags=["anomalies"], responses=ERRORS)

_STATUS = "(new|acknowledged|resolved|false-positive|open|closed)"
_STATUSES = f"^{_STATUS}(,{_STATUS})*$"
AnomalyId = Annotated[int, Path(ge=1, le=2**62, description="Anomaly id.")]


@router.get("", response_model=Page[AnomalyItem])
def list_anomalies(
    request: Request,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[
        str | None,
        Query(
            pattern=_STATUSES,
            description="new, acknowledged, resolved, false-positive, open or closed; "
            "comma-separated.",
        ),
    ] = None,
    team: Annotated[str | None, Query(max_length=200, description="Owner team.")] = None,
    since: Annotated[
        date | None, Query(description="Only events ending on or after this day.")
    ] = None,
) -> Page[AnomalyItem]:
    """Stored anomalies, most recent first, as ``costloop anomalies --no-detect --json``."""
    ws = get_workspace(request)
    with bad_request():
        views = anomaly_store.list_anomalies(ws.state, since=since, status=status, team=team)
    items = [AnomalyItem.model_validate(anomaly_json(v)) for v in views]
    return page_of(items, page, request)


def _load(state: StateDB, anomaly_id: int) -> AnomalyView:
    try:
        return anomaly_store.get(state, anomaly_id)
    except InputError as exc:
        raise problem(404, str(exc)) from exc


@router.get("/{anomaly_id}", response_model=AnomalyDetail)
def get_anomaly(request: Request, _: Reader, anomaly_id: AnomalyId) -> AnomalyDetail:
    """One anomaly with its expected-vs-actual series, root cause and history."""
    view = _load(get_workspace(request).state, anomaly_id)
    return AnomalyDetail.model_validate(anomaly_json(view, detail=True))


def _act(
    request: Request, who: Principal, anomaly_id: int, action: str, body: AnomalyAction
) -> AnomalyDetail:
    if who.role == "viewer":
        raise problem(403, "viewers cannot change anomalies")
    state = get_workspace(request).state
    view = _load(state, anomaly_id)
    if not can_act_on_team(who, view.owner_team):
        raise problem(
            403,
            f"anomaly {anomaly_id} belongs to team {view.owner_team!r}; only its owners "
            "and admins may change it",
        )
    with bad_request(409):
        if action == "ack":
            done = anomaly_store.acknowledge(state, anomaly_id, who.username, body.note)
        elif action == "resolve":
            if not body.note.strip():
                raise problem(400, "resolving an anomaly needs a note")
            done = anomaly_store.resolve(
                state, anomaly_id, who.username, body.note, false_positive=body.false_positive
            )
        else:
            if not body.note.strip():
                raise problem(400, "a comment needs a note")
            done = anomaly_store.comment(state, anomaly_id, who.username, body.note)
    return AnomalyDetail.model_validate(anomaly_json(done, detail=True))


@router.post("/{anomaly_id}/ack", response_model=AnomalyDetail, responses=ACTION_ERRORS)
def ack_anomaly(
    request: Request, who: Reader, anomaly_id: AnomalyId, body: AnomalyAction | None = None
) -> AnomalyDetail:
    """Acknowledge a new anomaly (its team's owner or an admin); the note is optional."""
    return _act(request, who, anomaly_id, "ack", body or AnomalyAction())


@router.post("/{anomaly_id}/resolve", response_model=AnomalyDetail, responses=ACTION_ERRORS)
def resolve_anomaly(
    request: Request, who: Reader, anomaly_id: AnomalyId, body: AnomalyAction
) -> AnomalyDetail:
    """Resolve an open anomaly with a note; ``false_positive`` closes it as one."""
    return _act(request, who, anomaly_id, "resolve", body)


@router.post("/{anomaly_id}/comment", response_model=AnomalyDetail, responses=ACTION_ERRORS)
def comment_anomaly(
    request: Request, who: Reader, anomaly_id: AnomalyId, body: AnomalyAction
) -> AnomalyDetail:
    """Add a comment (its team's owner or an admin)."""
    return _act(request, who, anomaly_id, "comment", body)
