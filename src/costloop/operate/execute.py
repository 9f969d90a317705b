"""Execute step: an approved opportunity becomes a Terraform pull request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from costloop.execution import PullRequestOutcome, open_pull_request
from costloop.workspace import Workspace

__all__ = ["PullRequestOutcome", "aware", "pull_request"]


def aware(moment: datetime) -> datetime:
    """A UTC-aware datetime (warehouse timestamps are naive UTC, the state DB's are aware)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def pull_request(
    ws: Workspace,
    opportunity_id: int,
    repo: Path,
    *,
    apply: bool,
    actor: str,
    executed_at: datetime | None = None,
) -> PullRequestOutcome:
    """Plan the change (dry run) or commit it on a new branch with the PR body in the workspace.

    Args:
        ws: the workspace.
        opportunity_id: an approved opportunity.
        repo: the infrastructure git repository.
        apply: create the branch and commit (otherwise nothing changes).
        actor: who asks, for the audit log and the commit author.
        executed_at: when the change counts as effective (default: now).
    """
    return open_pull_request(
        ws.state,
        opportunity_id,
        repo.resolve(),
        ws.state_dir / "pull-requests",
        f"{actor} <{actor}@costloop.invalid>",
        dry_run=not apply,
        actor=actor,
        now=None if executed_at is None else aware(executed_at),
    )
