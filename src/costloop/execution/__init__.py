"""Execute: Terraform edits, git branches and commits, pull request plans (DESIGN §5.4)."""

from costloop.execution.git import Author, Git, parse_author
from costloop.execution.pr import (
    AppliedPullRequest,
    PullRequestPlan,
    apply_pull_request,
    branch_name,
    plan_pull_request,
)
from costloop.execution.service import PullRequestOutcome, open_pull_request
from costloop.execution.terraform import Address, ResourceLocation, TerraformTree, parse_address
from costloop.execution.tfedit import (
    FileEdit,
    TerraformEdit,
    edit_for_change,
    remove_resource,
    set_attribute,
)

__all__ = [
    "Address",
    "AppliedPullRequest",
    "Author",
    "FileEdit",
    "Git",
    "PullRequestOutcome",
    "PullRequestPlan",
    "ResourceLocation",
    "TerraformEdit",
    "TerraformTree",
    "apply_pull_request",
    "branch_name",
    "edit_for_change",
    "open_pull_request",
    "parse_address",
    "parse_author",
    "plan_pull_request",
    "remove_resource",
    "set_attribute",
]
