"""The opportunities board (columns by status) and the detail page with review actions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from costloop.core.errors import CostloopError, InputError, NotFoundError
from costloop.execution.git import Git
from costloop.opportunities.model import ExecutionView, OpportunityView
from costloop.opportunities.records import executions
from costloop.opportunities.store import events, get, list_opportunities, transition
from costloop.opportunities.workflow import Status
from costloop.web.deps import Principal, get_workspace, page_user, verify_csrf_form
from costloop.web.pages.common import can_approve, can_snooze, forbid, page, redirect

__all__ = ["BOARD_COLUMNS", "PullRequest", "pull_requests", "router"]

router = APIRouter()

BOARD_COLUMNS = (
    Status.OPEN,
    Status.SNOOZED,
    Status.APPROVED,
    Status.IN_PROGRESS,
    Status.DONE,
    Status.VERIFIED,
    Status.REJECTED,
    Status.CLOSED,
)
"""Board columns, in workflow order."""
CARDS_PER_COLUMN = 50

_ACTIONS = {"approve": Status.APPROVED, "reject": Status.REJECTED, "snooze": Status.SNOOZED}


@dataclass(frozen=True)
class PullRequest:
    """An execution of the opportunity with what a reviewer reads: body and diff."""

    execution: ExecutionView
    body: str | None
    diff: str | None
    problem: str | None


def pull_requests(runs: list[ExecutionView]) -> list[PullRequest]:
    """Each execution with its PR body (from ``body_path``) and diff (from its commit)."""
    out = []
    for ex in runs:
        body = diff = problem = None
        if ex.body_path and Path(ex.body_path).is_file():
            body = Path(ex.body_path).read_text(encoding="utf-8", errors="replace")
        if ex.repo_path and ex.commit_sha:
            try:
                diff = Git(Path(ex.repo_path)).diff(f"{ex.commit_sha}^", ex.commit_sha)
            except (CostloopError, OSError) as exc:
                problem = f"the diff is not available: {exc}"
        out.append(PullRequest(ex, body, diff, problem))
    return out


@router.get("/opportunities", response_class=HTMLResponse, include_in_schema=False)
def board_page(
    request: Request, user: Annotated[Principal, Depends(page_user)], owner: str = ""
) -> HTMLResponse:
    """Opportunities in columns by status, highest priority first."""
    ws = get_workspace(request)
    opps = list_opportunities(ws.state, owner=owner or None)
    columns: dict[Status, list[OpportunityView]] = {s: [] for s in BOARD_COLUMNS}
    for o in opps:
        columns[o.status].append(o)
    owners = sorted({t.name for t in ws.org.teams} | {o.owner_team for o in opps})
    return page(
        request,
        "opportunities.html.j2",
        user,
        active="opportunities",
        title="Opportunities",
        columns=columns,
        total=len(opps),
        limit=CARDS_PER_COLUMN,
        owners=owners,
        owner=owner,
    )


def _load(request: Request, opportunity_id: int) -> OpportunityView:
    try:
        return get(get_workspace(request).state, opportunity_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


def _detail(
    request: Request,
    user: Principal,
    opp: OpportunityView,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    state = get_workspace(request).state
    return page(
        request,
        "opportunity.html.j2",
        user,
        active="opportunities",
        title=f"Opportunity {opp.id}",
        o=opp,
        history=events(state, opp.id),
        prs=pull_requests(executions(state, opp.id)),
        can_approve=can_approve(user),
        can_snooze=can_snooze(user, opp.owner_team),
        error=error,
        status_code=status_code,
    )


@router.get("/opportunities/{opportunity_id}", response_class=HTMLResponse, include_in_schema=False)
def opportunity_page(
    request: Request, opportunity_id: int, user: Annotated[Principal, Depends(page_user)]
) -> HTMLResponse:
    """One opportunity: evidence, Risk/Effort/Value, owner, plan, PR, history, actions."""
    return _detail(request, user, _load(request, opportunity_id))


@router.post(
    "/opportunities/{opportunity_id}/{action}",
    include_in_schema=False,
    dependencies=[Depends(verify_csrf_form)],
)
def review_form(
    request: Request,
    opportunity_id: int,
    action: str,
    user: Annotated[Principal, Depends(page_user)],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject (approvers, admins) or snooze (also the team's owner), with a note."""
    target = _ACTIONS.get(action)
    if target is None:
        raise HTTPException(status_code=404, detail=f"unknown action {action!r}")
    opp = _load(request, opportunity_id)
    allowed = (
        can_approve(user) if action in ("approve", "reject") else can_snooze(user, opp.owner_team)
    )
    forbid(allowed)
    try:
        transition(get_workspace(request).state, opportunity_id, target, user.username, note)
    except InputError as exc:
        return _detail(request, user, opp, error=str(exc), status_code=409)
    return redirect(f"/opportunities/{opportunity_id}")
