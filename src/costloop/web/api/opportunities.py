"""``/api/v1/opportunities``: the backlog, detail, approve / reject / snooze / done."""

from __future__ import annotations

import re
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from costloop.core.errors import ExecutionError
from costloop.execution.git import Git
from costloop.opportunities import store
from costloop.opportunities.model import ExecutionView, OpportunityView
from costloop.opportunities.records import executions
from costloop.opportunities.workflow import Status
from costloop.web.api.common import (
    ACTION_ERRORS,
    ERRORS,
    Reader,
    bad_request,
    iso,
    opportunity_item,
)
from costloop.web.api.pagination import Page, PageParams, page_of, page_params
from costloop.web.api.schemas import (
    ChangeOut,
    ExecutionOut,
    OpportunityAction,
    OpportunityDetail,
    OpportunityEvent,
    OpportunityItem,
    money,
    money_or_none,
)
from costloop.web.deps import Principal, can_act_on_team, get_workspace
from costloop.web.errors import problem
from costloop.workspace import Workspace

__all__ = ["router"]

router = APIRouter(prefix="/opportunities", tags=["opportunities"], responses=ERRORS)

OpportunityId = Annotated[int, Path(ge=1, le=2**62, description="Opportunity id.")]
_MAX_TEXT = 200_000
_SHA = re.compile(r"[0-9a-f]{7,64}")


@router.get("", response_model=Page[OpportunityItem])
def list_opportunities(
    request: Request,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[Status | None, Query(description="Only this status.")] = None,
    owner: Annotated[str | None, Query(max_length=200, description="Owner team.")] = None,
) -> Page[OpportunityItem]:
    """Opportunities, highest priority first (as ``costloop opportunities --json``)."""
    ws = get_workspace(request)
    views = store.list_opportunities(ws.state, status, owner)
    return page_of([opportunity_item(o) for o in views], page, request)


def _read(path: str | None, ws: Workspace) -> str | None:
    """A recorded text file (PR body) if it still exists, bounded in size."""
    if not path:
        return None
    file = FilePath(path)
    if not file.is_absolute():
        file = ws.root / file
    try:
        return file.read_text(encoding="utf-8")[:_MAX_TEXT]
    except OSError:
        return None


def _diff(e: ExecutionView) -> str | None:
    """The committed change as a unified diff, while the repository still has it."""
    if not e.repo_path or not e.commit_sha or not _SHA.fullmatch(e.commit_sha):
        return None
    try:
        return Git(FilePath(e.repo_path)).diff(f"{e.commit_sha}^", e.commit_sha)[:_MAX_TEXT]
    except (ExecutionError, OSError):
        return None


def _execution(e: ExecutionView, ws: Workspace) -> ExecutionOut:
    return ExecutionOut(
        kind=e.kind,
        branch=e.branch,
        commit_sha=e.commit_sha,
        url=e.url,
        files=list(e.files),
        executed_at=iso(e.executed_at) or "",
        body=_read(e.body_path, ws),
        diff=_diff(e),
    )


def _detail(o: OpportunityView, ws: Workspace) -> OpportunityDetail:
    base = opportunity_item(o).model_dump()
    return OpportunityDetail(
        **base,
        fingerprint=o.fingerprint,
        account_id=o.account_id,
        region=o.region,
        provider=o.provider,
        resource_type=o.resource_type,
        effort_hours=money(o.effort_hours),
        roi=money_or_none(o.roi),
        cost_of_inaction=money(o.cost_of_inaction),
        risk_level=o.risk_level,
        owner_email=o.owner_email,
        owner_source=o.owner_source,
        evidence=dict(o.evidence),
        change=None
        if o.change is None
        else ChangeOut(
            action=o.change.action.value,
            attribute=o.change.attribute,
            old_value=o.change.old_value,
            new_value=o.change.new_value,
        ),
        iac_address=o.iac_address,
        iac_file=o.iac_file,
        first_seen=iso(o.first_seen) or "",
        last_seen=iso(o.last_seen) or "",
        history=[
            OpportunityEvent(
                at=iso(e.at) or "",
                actor=e.actor,
                action=e.action,
                from_status=None if e.from_status is None else e.from_status.value,
                to_status=None if e.to_status is None else e.to_status.value,
                note=e.note,
            )
            for e in store.events(ws.state, o.id)
        ],
        executions=[_execution(e, ws) for e in executions(ws.state, o.id)],
    )


@router.get("/{opportunity_id}", response_model=OpportunityDetail)
def get_opportunity(
    request: Request, _: Reader, opportunity_id: OpportunityId
) -> OpportunityDetail:
    """One opportunity: evidence, Risk/Effort/Value, owner, plan, history and, once
    executed, its pull request (branch, commit, files and body)."""
    ws = get_workspace(request)
    return _detail(store.get(ws.state, opportunity_id), ws)


def _move(
    request: Request,
    who: Principal,
    opportunity_id: int,
    target: Status,
    body: OpportunityAction | None,
) -> OpportunityDetail:
    if who.role == "viewer":
        raise problem(403, "viewers cannot change opportunities")
    ws = get_workspace(request)
    current = store.get(ws.state, opportunity_id)
    review = target in (Status.APPROVED, Status.REJECTED)
    if review:
        allowed = who.role in ("approver", "admin")
        rule = "only approvers and admins may approve or reject"
    else:
        allowed = who.role == "approver" or can_act_on_team(who, current.owner_team)
        rule = (
            f"opportunity {opportunity_id} belongs to team {current.owner_team!r}; only its "
            "owners, approvers and admins may change it"
        )
    if not allowed:
        raise problem(403, rule)
    note = "" if body is None else body.comment
    with bad_request(409):
        done = store.transition(ws.state, opportunity_id, target, actor=who.username, note=note)
    return _detail(done, ws)


def _route(name: str, target: Status, summary: str) -> None:
    def action(
        request: Request,
        who: Reader,
        opportunity_id: OpportunityId,
        body: OpportunityAction | None = None,
    ) -> OpportunityDetail:
        return _move(request, who, opportunity_id, target, body)

    action.__name__ = f"{name}_opportunity"
    action.__doc__ = summary
    router.add_api_route(
        f"/{{opportunity_id}}/{name}",
        action,
        methods=["POST"],
        response_model=OpportunityDetail,
        responses=ACTION_ERRORS,
    )


_route("approve", Status.APPROVED, "Approve an opportunity (approvers and admins).")
_route("reject", Status.REJECTED, "Reject an opportunity (approvers and admins).")
_route(
    "snooze",
    Status.SNOOZED,
    "Decide later (the owner team's owners, approvers and admins).",
)
_route(
    "done",
    Status.DONE,
    "Mark the change as applied (the owner team's owners, approvers and admins).",
)
