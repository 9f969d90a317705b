"""Owner routing and remediation plan text."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from costloop.core.findings import Change, ChangeAction, Finding
from costloop.core.org import Org
from costloop.opportunities import plan_text, resolve_owner

MakeFinding = Callable[..., Finding]


def test_owner_from_tag_alias_any_key_case(org: Org) -> None:
    owner = resolve_owner({"OWNER_TEAM": "Check-Out"}, "210987654321", org)
    assert (owner.team, owner.email, owner.source) == ("checkout", "ana@stride.example", "tag")
    assert owner.detail == "tag OWNER_TEAM=Check-Out"


def test_tag_key_priority_order(org: Org) -> None:
    owner = resolve_owner({"squad": "data", "Team": "checkout"}, "", org)
    assert owner.team == "checkout"
    custom = resolve_owner({"squad": "data", "Team": "checkout"}, "", org, tag_keys=("squad",))
    assert custom.team == "data"


def test_unknown_tag_value_falls_back_to_account(org: Org) -> None:
    owner = resolve_owner({"team": "marketing"}, "210987654321", org)
    assert (owner.team, owner.email, owner.source) == ("platform", "raj@stride.example", "account")


def test_unmapped_account_falls_back_to_unowned(org: Org) -> None:
    owner = resolve_owner({"env": "dev"}, "111122223333", org)
    assert (owner.team, owner.email, owner.source) == ("unowned", "", "fallback")


def test_plan_text_for_a_terraform_resize(make_finding: MakeFinding) -> None:
    assert plan_text(make_finding()) == (
        "change instance_type from m5.2xlarge to m5.xlarge in `terraform/prod/compute.tf` "
        "resource `aws_instance.checkout_api`, est. $140.16/month, "
        "p99 CPU 22%, p99 memory 31% over 30 days"
    )


def test_plan_text_without_terraform_address(make_finding: MakeFinding) -> None:
    finding = make_finding(
        iac_address=None,
        change=Change(ChangeAction.DELETE),
        resource_type="ebs-volume",
        resource_id="vol-0abc",
        monthly_savings=Decimal("1234.5"),
        evidence={"summary": "unattached since 2025-11-02"},
    )
    assert plan_text(finding) == (
        "delete ebs-volume `vol-0abc` (210987654321/us-east-1), by hand: no Terraform "
        "address is known, est. $1,234.50/month, unattached since 2025-11-02"
    )


def test_plan_text_unknown_evidence_and_currency(make_finding: MakeFinding) -> None:
    finding = make_finding(currency="EUR", evidence={"nat_gb": "812", "peer": "vpc-1"})
    assert plan_text(finding).endswith("est. 140.16 EUR/month, nat_gb 812, peer vpc-1")
