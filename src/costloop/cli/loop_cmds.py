"""The optimization loop: ``discover``, ``opportunities``, ``pr``, ``verify``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from costloop.cli.common import WorkspaceOption, console, open_workspace, print_json, table
from costloop.core.money import format_money
from costloop.operate.execute import pull_request
from costloop.operate.loop import discover as run_discover
from costloop.operate.loop import verify as run_verify
from costloop.opportunities.model import OpportunityView
from costloop.opportunities.store import get, list_opportunities, transition
from costloop.opportunities.workflow import Status, parse_status

__all__ = ["register"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
opp_app = typer.Typer(help="The opportunity backlog and its review workflow.")


def _opp_json(o: OpportunityView) -> dict[str, object]:
    return {
        "id": o.id,
        "fingerprint": o.fingerprint,
        "detector": o.detector,
        "code": o.code,
        "resource_id": o.resource_id,
        "account_id": o.account_id,
        "region": o.region,
        "title": o.title,
        "currency": o.currency,
        "monthly_savings": o.monthly_savings,
        "annual_savings": o.annual_savings,
        "risk": o.risk_score,
        "effort": o.effort_score,
        "value": o.value_score,
        "effort_hours": o.effort_hours,
        "roi": o.roi,
        "priority": o.priority,
        "owner": {"team": o.owner_team, "email": o.owner_email, "source": o.owner_source},
        "plan": o.plan,
        "evidence": dict(o.evidence),
        "change": None
        if o.change is None
        else {
            "action": o.change.action.value,
            "attribute": o.change.attribute,
            "old_value": o.change.old_value,
            "new_value": o.change.new_value,
        },
        "iac": {"address": o.iac_address, "file": o.iac_file},
        "status": o.status.value,
        "first_seen": o.first_seen,
        "last_seen": o.last_seen,
    }


def discover(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Run the waste detectors and update the opportunity backlog (no duplicates)."""
    ws = open_workspace(workspace)
    result = run_discover(ws)
    if as_json:
        print_json(
            {
                "now": result.now,
                "findings": [
                    {
                        "detector": f.detector,
                        "code": f.code,
                        "resource_id": f.resource_id,
                        "title": f.title,
                        "monthly_savings": f.monthly_savings,
                        "currency": f.currency,
                        "evidence": dict(f.evidence),
                        "fingerprint": f.fingerprint,
                    }
                    for f in result.findings
                ],
                "backlog": {
                    "created": result.sync.created,
                    "updated": result.sync.updated,
                    "closed": result.sync.closed,
                    "unchanged": result.sync.unchanged,
                },
            }
        )
        return
    console.print(
        table(
            f"Findings (data up to {result.now:%Y-%m-%d})",
            ["code", "detector", "resource", "finding", "$monthly savings"],
            [
                [f.code, f.detector, f.resource_id, f.title, format_money(f.monthly_savings)]
                for f in result.findings
            ],
        )
    )
    total = sum((f.monthly_savings for f in result.findings), start=0)
    console.print(
        f"{len(result.findings)} findings, {format_money(total)}/month projected. "
        f"Backlog: {result.sync.created} new, {result.sync.updated} updated, "
        f"{result.sync.closed} closed."
    )


@opp_app.callback(invoke_without_command=True)
def opportunities(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner team.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """List opportunities, highest priority first."""
    if ctx.invoked_subcommand is not None:
        return
    ws = open_workspace(workspace)
    opps = list_opportunities(ws.state, None if status is None else parse_status(status), owner)
    if as_json:
        print_json({"opportunities": [_opp_json(o) for o in opps]})
        return
    console.print(
        table(
            "Opportunities",
            ["#id", "status", "owner", "finding", "R/E/V", "$monthly", "plan"],
            [
                [
                    o.id,
                    o.status.value,
                    o.owner_team,
                    o.title,
                    f"{o.risk_score}/{o.effort_score}/{o.value_score}",
                    format_money(o.monthly_savings),
                    o.plan,
                ]
                for o in opps
            ],
        )
    )


def _move(opportunity_id: int, to: Status, note: str, workspace: Path | None) -> None:
    ws = open_workspace(workspace)
    view = transition(ws.state, opportunity_id, to, actor=getpass.getuser(), note=note)
    console.print(f"Opportunity {view.id} is now [bold]{view.status.value}[/]: {view.title}")


NoteOption = Annotated[str, typer.Option(help="Comment recorded in the audit log.")]


@opp_app.command("approve")
def approve(opportunity_id: int, note: NoteOption = "", workspace: WorkspaceOption = None) -> None:
    """Approve an opportunity for execution."""
    _move(opportunity_id, Status.APPROVED, note, workspace)


@opp_app.command("reject")
def reject(opportunity_id: int, note: NoteOption = "", workspace: WorkspaceOption = None) -> None:
    """Reject an opportunity (re-runs will not reopen it)."""
    _move(opportunity_id, Status.REJECTED, note, workspace)


@opp_app.command("snooze")
def snooze(opportunity_id: int, note: NoteOption = "", workspace: WorkspaceOption = None) -> None:
    """Decide later."""
    _move(opportunity_id, Status.SNOOZED, note, workspace)


@opp_app.command("done")
def done(opportunity_id: int, note: NoteOption = "", workspace: WorkspaceOption = None) -> None:
    """Mark the change as applied (e.g. the pull request was merged and deployed)."""
    _move(opportunity_id, Status.DONE, note, workspace)


@opp_app.command("show")
def show(opportunity_id: int, workspace: WorkspaceOption = None) -> None:
    """Print one opportunity as JSON."""
    ws = open_workspace(workspace)
    print_json(_opp_json(get(ws.state, opportunity_id)))


def pr(
    opportunity_id: Annotated[int, typer.Argument(help="Opportunity id.")],
    repo: Annotated[Path, typer.Option(help="Infrastructure-as-code git repository.")],
    apply: Annotated[bool, typer.Option("--apply", help="Create the branch and commit.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Turn an opportunity into an IaC change: print the diff and PR body, or --apply it."""
    ws = open_workspace(workspace)
    outcome = pull_request(ws, opportunity_id, repo, apply=apply, actor=getpass.getuser())
    console.print(outcome.plan.diff, markup=False, highlight=False)
    console.rule("pull request body")
    console.print(outcome.plan.body, markup=False, highlight=False)
    if outcome.applied is not None:
        console.print(
            f"Committed {outcome.applied.commit_sha[:10]} on branch "
            f"[bold]{outcome.applied.branch}[/] "
            f"in {repo}; body written to {outcome.applied.body_path}"
        )
    else:
        console.print("Dry run: nothing changed. Add --apply to create the branch and commit.")


def verify(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Compare each executed opportunity's cost before and after, from billing data."""
    ws = open_workspace(workspace)
    outcomes = run_verify(ws, now=datetime.now(UTC).replace(tzinfo=None))
    if as_json:
        print_json(
            {
                "verifications": [
                    {
                        "id": o.opportunity.id,
                        "resource_id": o.opportunity.resource_id,
                        "status": o.status,
                        "baseline_daily": o.baseline_daily,
                        "after_daily": o.after_daily,
                        "after_days": o.after_days,
                        "projected_monthly": o.projected_monthly,
                        "realized_monthly": o.realized_monthly,
                    }
                    for o in outcomes
                ]
            }
        )
        return
    console.print(
        table(
            "Realized savings (run rate before vs after the change)",
            [
                "#id",
                "resource",
                "$before/day",
                "$after/day",
                "#days after",
                "$projected/mo",
                "$realized/mo",
                "status",
            ],
            [
                [
                    o.opportunity.id,
                    o.opportunity.resource_id,
                    format_money(o.baseline_daily),
                    format_money(o.after_daily),
                    o.after_days,
                    format_money(o.projected_monthly),
                    format_money(o.realized_monthly),
                    o.status,
                ]
                for o in outcomes
            ],
        )
    )
    if not outcomes:
        console.print("Nothing to verify: no opportunity is marked done yet.")


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(discover)
    app.add_typer(opp_app, name="opportunities")
    app.command()(pr)
    app.command()(verify)
