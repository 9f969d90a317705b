"""Execute an approved opportunity as a pull request and record it in the state DB."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from costloop.core.errors import InputError
from costloop.execution.git import Author, Runner
from costloop.execution.pr import (
    AppliedPullRequest,
    PullRequestPlan,
    apply_pull_request,
    plan_pull_request,
)
from costloop.opportunities import Status, get, record_execution
from costloop.state import StateDB

__all__ = ["PullRequestOutcome", "open_pull_request"]


@dataclass(frozen=True)
class PullRequestOutcome:
    """The plan, and what was applied (None for a dry run)."""

    plan: PullRequestPlan
    applied: AppliedPullRequest | None


def open_pull_request(
    db: StateDB,
    opportunity_id: int,
    repo: Path,
    body_dir: Path,
    author: str | Author,
    *,
    dry_run: bool = True,
    actor: str = "costloop",
    now: datetime | None = None,
    runner: Runner | None = None,
) -> PullRequestOutcome:
    """Plan (and unless ``dry_run``, commit) the pull request of an approved opportunity.

    A real run records the execution (``kind="pull-request"``, ``executed_at=now``)
    and moves the opportunity to ``in_progress``. A dry run changes nothing anywhere.

    Args:
        db: the state DB.
        opportunity_id: the opportunity to carry out.
        repo: the infrastructure repository folder.
        body_dir: where the PR body is written (inside the workspace).
        author: ``Name <email>`` of the commit.
        dry_run: only plan (the default).
        actor: recorded in the audit log.
        now: the execution time (default: current UTC time).
        runner: command runner for git.

    Raises:
        InputError: the opportunity is not approved.
        ExecutionError: the change cannot be planned or committed.
    """
    opp = get(db, opportunity_id)
    if opp.status is not Status.APPROVED:
        raise InputError(
            f"opportunity #{opp.id} is {opp.status.value}; only approved opportunities get a "
            "pull request"
        )
    plan = plan_pull_request(opp, repo)
    if dry_run:
        return PullRequestOutcome(plan, None)
    when = now or datetime.now(UTC)
    applied = apply_pull_request(plan, repo, author, body_dir, runner=runner)
    record_execution(
        db,
        opp.id,
        executed_at=when,
        kind="pull-request",
        branch=applied.branch,
        commit_sha=applied.commit_sha,
        repo_path=str(repo.resolve()),
        body_path=str(applied.body_path),
        files=applied.files,
        actor=actor,
        status=Status.IN_PROGRESS,
        now=when,
    )
    return PullRequestOutcome(plan, applied)
