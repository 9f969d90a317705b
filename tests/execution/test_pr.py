"""Pull requests from opportunities: dry-run plans, real commits, golden PR texts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costloop.core.errors import ExecutionError, InputError
from costloop.core.findings import Change, ChangeAction, Finding
from costloop.core.org import parse_org
from costloop.execution import apply_pull_request, branch_name, open_pull_request, plan_pull_request
from costloop.opportunities import (
    OpportunityView,
    Status,
    events,
    executions,
    get,
    sync_findings,
    transition,
)
from costloop.state import StateDB, sqlite_url

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
AUTHOR = "costloop bot <costloop@stride.example>"
ORG = parse_org(
    {
        "teams": [{"name": "checkout", "owner": "ana@stride.example"}],
        "accounts": [{"id": "210987654321", "team": "checkout"}],
    }
)
RIGHTSIZE = Finding(
    detector="rightsizing",
    code="CMP002",
    resource_id="i-0a1b2c3d4e5f",
    title="checkout-api is oversized (m5.2xlarge, p99 CPU 22%)",
    monthly_savings=Decimal("140.16"),
    provider="AWS",
    account_id="210987654321",
    region="us-east-1",
    resource_type="aws_instance",
    evidence={"cpu_p99": "22", "mem_p99": "31", "lookback_days": "30", "note": "a|b"},
    change=Change(ChangeAction.SET, "instance_type", "m5.2xlarge", "m5.xlarge"),
    tags={"team": "checkout", "Env": "prod"},
    iac_address="aws_instance.checkout_api",
    iac_file="compute.tf",
)
UNATTACHED = Finding(
    detector="unattached-volume",
    code="STG001",
    resource_id="vol-0123456789abcdef0",
    title="500 GiB gp2 volume unattached for 143 days",
    monthly_savings=Decimal("50"),
    provider="AWS",
    account_id="210987654321",
    region="us-east-1",
    resource_type="aws_ebs_volume",
    evidence={"unattached_days": "143", "size_gib": "500"},
    change=Change(ChangeAction.DELETE),
    tags={"env": "dev"},
    iac_address="aws_ebs_volume.scratch",
    iac_file="storage.tf",
)


@pytest.fixture
def db(tmp_path: Path) -> StateDB:
    state = StateDB(sqlite_url(tmp_path / "ws"))
    state.migrate()
    return state


def _approved(db: StateDB, finding: Finding) -> OpportunityView:
    oid = sync_findings(db, [finding], ORG, Decimal(120), T0, full_run=False).ids["created"][0]
    return transition(db, oid, Status.APPROVED, "ana", now=T0)


@pytest.mark.parametrize(
    ("name", "finding", "case"),
    [("rightsize", RIGHTSIZE, "aligned_attributes"), ("delete", UNATTACHED, "remove_with_comment")],
)
def test_pr_texts_match_golden(
    db: StateDB, golden: Callable[[Path, str], None], name: str, finding: Finding, case: str
) -> None:
    opp = _approved(db, finding)
    plan = plan_pull_request(opp, GOLDEN / "terraform" / case / "input")
    golden(GOLDEN / "pr" / f"{name}.title.txt", plan.title + "\n")
    golden(GOLDEN / "pr" / f"{name}.body.md", plan.body)
    golden(GOLDEN / "pr" / f"{name}.diff", plan.diff)
    golden(GOLDEN / "pr" / f"{name}.commit.txt", plan.commit_message)


def test_plan_is_a_dry_run(
    db: StateDB, make_repo: Callable[[Path], Path], run_git: Callable[..., str]
) -> None:
    repo = make_repo(GOLDEN / "terraform" / "aligned_attributes" / "input")
    head = run_git(repo, "rev-parse", "HEAD")
    before = (repo / "compute.tf").read_bytes()
    plan = plan_pull_request(_approved(db, RIGHTSIZE), repo)
    assert plan.branch == "costloop/cmp002-1-checkout-api"
    assert plan.files == ("compute.tf",)
    assert '+  instance_type          = "m5.xlarge"' in plan.diff
    assert (repo / "compute.tf").read_bytes() == before
    assert run_git(repo, "status", "--porcelain") == ""
    assert run_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    assert run_git(repo, "rev-parse", "HEAD") == head


def test_apply_commits_on_a_branch_and_writes_the_body_outside_the_repo(
    db: StateDB, make_repo: Callable[[Path], Path], run_git: Callable[..., str], tmp_path: Path
) -> None:
    repo = make_repo(GOLDEN / "terraform" / "aligned_attributes" / "input")
    (repo / "wip.txt").write_text("uncommitted\n")
    plan = plan_pull_request(_approved(db, RIGHTSIZE), repo)
    body_dir = tmp_path / "ws" / ".costloop" / "pr"
    applied = apply_pull_request(plan, repo, AUTHOR, body_dir)
    assert applied.branch == plan.branch and applied.files == ("compute.tf",)
    assert run_git(repo, "rev-parse", plan.branch).strip() == applied.commit_sha
    assert run_git(repo, "rev-parse", f"{applied.commit_sha}^").strip() == applied.base_sha
    assert run_git(repo, "show", f"{plan.branch}:compute.tf") == plan.edits[0].after
    log = run_git(repo, "log", "-1", "--format=%an <%ae>%n%B", plan.branch)
    assert log.startswith(AUTHOR + "\n" + plan.title + "\n")
    assert "Costloop-Opportunity: 1\n" in log
    header = f"diff --git a/compute.tf b/compute.tf\nindex {_blobs(run_git, repo, plan.branch)}\n"
    assert run_git(repo, "diff", "main", plan.branch) == header + plan.diff
    # the user's checkout is untouched
    assert run_git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert run_git(repo, "status", "--porcelain") == "?? wip.txt\n"
    assert applied.body_path == body_dir / "costloop-cmp002-1-checkout-api.md"
    assert applied.body_path.read_text() == plan.body


def _blobs(run_git: Callable[..., str], repo: Path, branch: str) -> str:
    old = run_git(repo, "rev-parse", "--short", "main:compute.tf").strip()
    new = run_git(repo, "rev-parse", "--short", f"{branch}:compute.tf").strip()
    return f"{old}..{new} 100644"


def test_apply_refuses_a_stale_plan_and_an_existing_branch(
    db: StateDB, make_repo: Callable[[Path], Path], run_git: Callable[..., str], tmp_path: Path
) -> None:
    repo = make_repo(GOLDEN / "terraform" / "aligned_attributes" / "input")
    plan = plan_pull_request(_approved(db, RIGHTSIZE), repo)
    run_git(repo, "branch", plan.branch)
    with pytest.raises(ExecutionError, match="already exists"):
        apply_pull_request(plan, repo, AUTHOR, tmp_path / "pr")
    run_git(repo, "branch", "-D", plan.branch)
    (repo / "compute.tf").write_text((repo / "compute.tf").read_text() + "# edited\n")
    run_git(repo, "commit", "-qam", "someone else edited")
    with pytest.raises(ExecutionError, match=r"compute\.tf differs between HEAD and the planned"):
        apply_pull_request(plan, repo, AUTHOR, tmp_path / "pr")
    assert not (tmp_path / "pr").exists()


def test_plan_needs_a_change_and_an_address(db: StateDB, tmp_path: Path) -> None:
    opp = _approved(db, RIGHTSIZE)
    with pytest.raises(ExecutionError, match=r"no Terraform address.*follow its plan by hand"):
        plan_pull_request(dataclasses.replace(opp, iac_address=None), tmp_path)
    with pytest.raises(ExecutionError, match="proposes no concrete change"):
        plan_pull_request(dataclasses.replace(opp, change=None), tmp_path)


def test_branch_names_are_safe(db: StateDB) -> None:
    opp = _approved(db, RIGHTSIZE)
    odd = dataclasses.replace(opp, iac_address=None, resource_id="arn:aws:ec2:x:vol/Vol_ABC..1")
    assert branch_name(odd) == "costloop/cmp002-1-vol-abc-1"
    indexed = dataclasses.replace(opp, iac_address='module.a.aws_instance.web["blue"]')
    assert branch_name(indexed) == "costloop/cmp002-1-web"


def test_open_pull_request_records_the_execution(
    db: StateDB, make_repo: Callable[[Path], Path], run_git: Callable[..., str], tmp_path: Path
) -> None:
    repo = make_repo(GOLDEN / "terraform" / "aligned_attributes" / "input")
    oid = sync_findings(db, [RIGHTSIZE], ORG, Decimal(120), T0).ids["created"][0]
    with pytest.raises(InputError, match="is open; only approved"):
        open_pull_request(db, oid, repo, tmp_path / "pr", AUTHOR)
    transition(db, oid, "approved", "ana")
    dry = open_pull_request(db, oid, repo, tmp_path / "pr", AUTHOR)
    assert dry.applied is None and executions(db, oid) == []
    assert run_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    real = open_pull_request(db, oid, repo, tmp_path / "pr", AUTHOR, dry_run=False, now=T0)
    assert real.applied is not None
    (ex,) = executions(db, oid)
    assert (ex.branch, ex.commit_sha, ex.executed_at) == (
        real.plan.branch,
        real.applied.commit_sha,
        T0,
    )
    assert get(db, oid).status is Status.IN_PROGRESS
    assert events(db, oid)[-1].action == "executed"
