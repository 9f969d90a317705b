"""Allocation stages per dimension: tag → account → resource → inherited → unallocated."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.allocation.conftest import (
    allocated_rows,
    load_bill,
    load_inventory,
    new_workspace,
    run_allocation,
    table_columns,
)
from tests.conftest import Cli

from costloop.allocation import AllocationResult
from costloop.testing import charge
from costloop.workspace import Workspace

ALLOCATION = """
dimensions:
  team:
    keys: [team, squad]
    value_aliases:
      platform: [infra, platfrom]
  env:
    values: [prod, staging, dev]
    keys: [env, environment]
    value_aliases:
      prod: [production, prd]
  cost_center:
    keys: [cost center]
  product: {}
rules:
  - {dimension: team, account: ["222222222222"], value: checkout}
  - {dimension: env, account: ["333333333333"], value: staging}
  - {dimension: team, resource_name: "^search-", value: search}
  - {dimension: team, resource_id: "^i-shared-", value: platform}
  - {dimension: team, resource_name: "-api$", value: checkout}
  - {dimension: team, inherit: parent}
  - {dimension: env, inherit: parent}
"""

MARCH = datetime(2026, 3, 5)
APRIL = datetime(2026, 4, 5)
MAY = datetime(2026, 5, 5)
U = ("unallocated", "unallocated")

# resource id, charge fields, expected {dimension: (value, source)} (others: unallocated)
CASES: list[tuple[str, dict[str, Any], dict[str, tuple[str, str]]]] = [
    ("tag-key-and-value-case", {"tags": {"Team": "Checkout"}}, {"team": ("checkout", "tag")}),
    ("second-tag-key", {"tags": {"SQUAD": "search"}}, {"team": ("search", "tag")}),
    (
        # team is present (unknown value): squad is not read; the account rule decides
        "first-present-key-wins",
        {"tags": {"team": "nobody", "squad": "checkout"}, "account": "444444444444"},
        {"team": ("search", "account")},
    ),
    ("listed-typo-alias", {"tags": {"team": " Platfrom "}}, {"team": ("platform", "tag")}),
    ("org-tag-value-alias", {"tags": {"team": "Check_Out"}}, {"team": ("checkout", "tag")}),
    ("value-separators-ignored", {"tags": {"team": "PLAT-FORM"}}, {"team": ("platform", "tag")}),
    (
        "file-account-rule-before-org",
        {"account": "222222222222"},
        {"team": ("checkout", "account")},
    ),
    ("org-account-mapping", {"account": "444444444444"}, {"team": ("search", "account")}),
    (
        "tag-before-account",
        {"account": "222222222222", "tags": {"team": "search"}},
        {"team": ("search", "tag")},
    ),
    (
        "resource-rules-in-file-order",
        {"ResourceName": "search-api"},
        {"team": ("search", "resource")},
    ),
    ("resource-name-rule", {"ResourceName": "billing-api"}, {"team": ("checkout", "resource")}),
    ("i-shared-7", {}, {"team": ("platform", "resource")}),
    (
        "account-before-resource",
        {"account": "222222222222", "ResourceName": "search-web"},
        {"team": ("checkout", "account")},
    ),
    ("nothing-matches", {"tags": {"owner": "checkout"}}, {}),
    ("cost-center-dash", {"tags": {"Cost-Center": "CC-42"}}, {"cost_center": ("cc-42", "tag")}),
    (
        "cost-center-underscore",
        {"tags": {"cost_center": " Finance "}},
        {"cost_center": ("finance", "tag")},
    ),
    ("cost-center-space", {"tags": {"Cost Center": "R&D"}}, {"cost_center": ("r&d", "tag")}),
    ("env-second-key-alias", {"tags": {"Environment": "Production"}}, {"env": ("prod", "tag")}),
    ("env-alias-case", {"tags": {"env": "PRD"}}, {"env": ("prod", "tag")}),
    (
        "env-unknown-value-to-account",
        {"tags": {"env": "qa"}, "account": "333333333333"},
        {"env": ("staging", "account")},
    ),
    ("env-value-not-allowed", {"tags": {"env": "qa"}}, {}),
    (
        "product-any-value",
        {"tags": {"Product": " StoreFront "}},
        {"product": ("storefront", "tag")},
    ),
    ("vol-1", {}, {"team": ("checkout", "inherited"), "env": ("prod", "inherited")}),
    (
        "vol-3",
        {"tags": {"team": "search"}},
        {"team": ("search", "tag"), "env": ("prod", "inherited")},
    ),
    ("vol-2", {}, {}),  # its parent has no charges
    ("vol-4", {}, {"team": ("checkout", "inherited"), "env": ("prod", "inherited")}),
    ("vol-5", {}, {"team": ("platform", "inherited")}),  # parent allocated by a resource rule
    ("vol-6", {}, {}),  # parent vol-1 only inherits: one level, no chains
]

INVENTORY = [
    {"snapshot_time": "2026-03-01T00:00:00Z", "resource_id": "vol-4", "attached_to": "i-ghost"},
    {"snapshot_time": "2026-03-20T00:00:00Z", "resource_id": "vol-4", "attached_to": "i-parent"},
    *(
        {"snapshot_time": "2026-03-20T00:00:00Z", "resource_id": child, "attached_to": parent}
        for child, parent in [
            ("vol-1", "i-parent"),
            ("vol-2", "i-ghost"),
            ("vol-3", "i-parent"),
            ("vol-5", "i-shared-7"),
            ("vol-6", "vol-1"),
        ]
    ),
    {
        "snapshot_time": "2026-03-20T00:00:00Z",
        "resource_id": "i-parent",
        "resource_type": "instance",
    },
]


class Estate:
    """The allocated workspace shared by this module's tests."""

    def __init__(self, ws: Workspace, results: list[AllocationResult]) -> None:
        self.ws = ws
        self.results = results
        self.rows = allocated_rows(ws)

    def row(self, resource_id: str, day: datetime = MARCH) -> dict[str, Any]:
        found = [
            r for r in self.rows if r["ResourceId"] == resource_id and r["ChargePeriodStart"] == day
        ]
        assert len(found) == 1
        return found[0]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    ws = new_workspace(tmp_path_factory.mktemp("stages") / "ws", ALLOCATION)
    rows = [charge(MARCH, "1.00", resource_id=rid, **fields) for rid, fields, _ in CASES]
    rows += [
        # The parent instance: most of its cost is checkout/prod.
        charge(MARCH, "10.00", resource_id="i-parent", tags={"team": "checkout", "env": "prod"}),
        charge(
            datetime(2026, 3, 6),
            "4.00",
            resource_id="i-parent",
            tags={"team": "search", "env": "dev"},
        ),
        # April: the volume's parent has no charges in that billing period.
        charge(APRIL, "2.00", resource_id="vol-1"),
        # May: the first tag key is present but empty.
        charge(MAY, "3.00", resource_id="empty-first-key", tags={"team": "", "squad": "search"}),
    ]
    load_bill(ws, rows)
    load_inventory(ws, INVENTORY)
    return Estate(ws, run_allocation(ws))


DIMENSIONS = ("team", "env", "cost_center", "product")


@pytest.mark.parametrize(
    ("resource_id", "expected"), [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_stage_per_dimension(
    estate: Estate, resource_id: str, expected: dict[str, tuple[str, str]]
) -> None:
    row = estate.row(resource_id)
    got = {d: (row[d], row[f"{d}_source"]) for d in DIMENSIONS}
    assert got == {d: expected.get(d, U) for d in DIMENSIONS}
    assert row["BilledCost"] == Decimal("1.00")


def test_inheritance_takes_the_parents_value_with_most_cost_in_the_same_period(
    estate: Estate,
) -> None:
    parents = [r for r in estate.rows if r["ResourceId"] == "i-parent"]
    assert sorted((r["team"], r["env"], r["EffectiveCost"]) for r in parents) == [
        ("checkout", "prod", Decimal("10.00")),
        ("search", "dev", Decimal("4.00")),
    ]
    april = estate.row("vol-1", APRIL)
    assert (april["team"], april["team_source"], april["env"]) == (
        "unallocated",
        "unallocated",
        "unallocated",
    )


def test_an_empty_tag_value_does_not_hide_the_next_key(estate: Estate) -> None:
    row = estate.row("empty-first-key", MAY)
    assert (row["team"], row["team_source"]) == ("search", "tag")


def test_every_dimension_is_a_column_pair(estate: Estate) -> None:
    columns = table_columns(estate.ws, "allocated_charges")
    for dim in DIMENSIONS:
        assert dim in columns and f"{dim}_source" in columns
    assert [d.name for d in estate.ws.allocation.dimensions] == list(DIMENSIONS)


def test_results_and_coverage_per_dimension(estate: Estate) -> None:
    march, april, _ = estate.results
    assert (march.period, march.rows, march.source_rows) == (datetime(2026, 3, 1), 30, 30)
    assert march.totals["EffectiveCost"] == Decimal("42.00")  # 28 × 1.00 + 10.00 + 4.00
    # 11 cases of 1.00 have no team; both i-parent charges (14.00) have one.
    assert len([c for c in CASES if "team" not in c[2]]) == 11
    assert march.allocated["team"] == Decimal("31.00")
    assert march.coverage == march.coverage_of("team") == Decimal("31.00") / Decimal("42.00")
    # env: 3 tagged or account cases, 3 inherited volumes, the parent's 10.00 and 4.00
    assert march.allocated["env"] == Decimal("20.00")
    assert march.allocated["cost_center"] == Decimal("3.00")
    assert march.allocated["product"] == Decimal("1.00")
    assert (april.totals["BilledCost"], april.allocated["team"]) == (Decimal("2.00"), 0)


def test_cli_reports_coverage_by_dimension(estate: Estate, cli_main: Cli) -> None:
    proc = cli_main("allocate", "-w", estate.ws.root, "--period", "2026-03", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["dimensions"] == list(DIMENSIONS)
    assert out["allocation_file"] == str(estate.ws.allocation_file)
    [period] = out["periods"]
    assert period["period"] == "2026-03"
    assert period["totals"]["EffectiveCost"] == "42.00"
    assert period["coverage_by_dimension"] == {
        "team": "0.7381",
        "env": "0.4762",
        "cost_center": "0.0714",
        "product": "0.0238",
    }
