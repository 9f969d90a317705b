"""Infrastructure-as-code pull requests: plan (dry run) first, then commit with real git.

``plan_pull_request`` only reads the repository: it finds the resource, computes the
edit and renders the diff, title and body. ``apply_pull_request`` commits the planned
files on a new branch from HEAD (the working tree and the checked-out branch are not
touched) and writes the PR body into the caller's ``body_dir`` (the costloop
workspace, never the infrastructure repository). Pushing and opening the PR on a forge
are separate steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from costloop.core.errors import ExecutionError
from costloop.execution.git import Author, Git, Runner, parse_author
from costloop.execution.prbody import commit_message, pr_body, pr_title
from costloop.execution.terraform import TerraformTree, parse_address
from costloop.execution.tfedit import FileEdit, edit_for_change
from costloop.opportunities import OpportunityView

__all__ = [
    "AppliedPullRequest",
    "PullRequestPlan",
    "apply_pull_request",
    "branch_name",
    "plan_pull_request",
]


@dataclass(frozen=True)
class PullRequestPlan:
    """Everything a pull request will contain, computed without changing anything.

    Attributes:
        opportunity_id: the opportunity it carries out.
        branch: ``costloop/<code>-<id>-<short-resource>``.
        title, body: the PR title and Markdown body.
        commit_message: subject, plan and ``Costloop-*`` trailers.
        edits: the file rewrites (paths relative to the repository folder given).
        diff: the unified diff of all edits.
        warnings: things a reviewer must know (e.g. count: every instance changes).
    """

    opportunity_id: int
    branch: str
    title: str
    body: str
    commit_message: str
    edits: tuple[FileEdit, ...]
    diff: str
    warnings: tuple[str, ...]

    @property
    def files(self) -> tuple[str, ...]:
        """The files the pull request changes."""
        return tuple(e.path for e in self.edits)


@dataclass(frozen=True)
class AppliedPullRequest:
    """The branch and commit created for a plan, and where its body was written."""

    branch: str
    commit_sha: str
    base_sha: str
    body_path: Path
    files: tuple[str, ...]
    title: str


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def branch_name(opp: OpportunityView) -> str:
    """``costloop/<code>-<id>-<short-resource>``, lower case, safe for git."""
    if opp.iac_address:
        short = parse_address(opp.iac_address).name
    else:
        short = re.split(r"[/:]", opp.resource_id)[-1]
    tail = _slug(short, 40) or "resource"
    return f"costloop/{_slug(opp.code, 20) or 'opp'}-{opp.id}-{tail}"


def plan_pull_request(opp: OpportunityView, repo: Path) -> PullRequestPlan:
    """Plan the pull request for an opportunity (a dry run: nothing is written).

    Args:
        opp: the opportunity; it needs a change and a Terraform address.
        repo: the infrastructure repository folder; ``opp.iac_file`` is relative to it.

    Raises:
        ExecutionError: no concrete change or address, or the edit is refused.
    """
    if opp.change is None:
        raise ExecutionError(
            f"opportunity #{opp.id} proposes no concrete change; follow its plan: {opp.plan}"
        )
    if not opp.iac_address:
        raise ExecutionError(
            f"opportunity #{opp.id} has no Terraform address, so no pull request can be "
            f"generated; follow its plan by hand: {opp.plan}"
        )
    tree = TerraformTree(repo)
    edit = edit_for_change(tree, opp.iac_address, opp.change, opp.iac_file)
    return PullRequestPlan(
        opportunity_id=opp.id,
        branch=branch_name(opp),
        title=pr_title(opp, edit),
        body=pr_body(opp, edit),
        commit_message=commit_message(opp, edit),
        edits=(edit.edit,),
        diff=edit.edit.diff(),
        warnings=edit.warnings,
    )


def apply_pull_request(
    plan: PullRequestPlan,
    repo: Path,
    author: str | Author,
    body_dir: Path,
    *,
    runner: Runner | None = None,
) -> AppliedPullRequest:
    """Commit a planned pull request on a new branch from HEAD; write its body file.

    The working tree, index and checked-out branch stay as they were.

    Args:
        plan: from ``plan_pull_request`` on the same ``repo``.
        repo: the infrastructure repository folder (may be inside a larger repo).
        author: ``Name <email>``, author and committer of the commit.
        body_dir: where ``<branch, sanitized>.md`` is written (in the workspace).
        runner: command runner for git (default: a real subprocess).

    Raises:
        ExecutionError: the branch exists, a file changed since planning (or has
            uncommitted changes), or git failed.
    """
    who = parse_author(author) if isinstance(author, str) else author
    git = Git(repo, runner)
    top = git.toplevel().resolve()
    try:
        prefix = repo.resolve().relative_to(top)
    except ValueError as exc:
        raise ExecutionError(f"{repo} is not inside the git repository {top}") from exc
    if git.branch_exists(plan.branch):
        raise ExecutionError(
            f"branch {plan.branch} already exists in {top}: the pull request for opportunity "
            f"#{plan.opportunity_id} was probably created already"
        )
    base = git.head()
    files: dict[str, str] = {}
    for edit in plan.edits:
        path = (prefix / edit.path).as_posix()
        if git.show(base, path) != edit.before:
            raise ExecutionError(
                f"{path} differs between HEAD and the planned change (uncommitted edits or "
                "a new commit); commit or stash, then plan again"
            )
        files[path] = edit.after
    sha = git.commit_files(plan.branch, files, plan.commit_message, who, base=base)
    body_dir.mkdir(parents=True, exist_ok=True)
    body_path = body_dir / f"{_slug(plan.branch, 200)}.md"
    body_path.write_text(plan.body, encoding="utf-8")
    return AppliedPullRequest(
        branch=plan.branch,
        commit_sha=sha,
        base_sha=base,
        body_path=body_path,
        files=tuple(files),
        title=plan.title,
    )
