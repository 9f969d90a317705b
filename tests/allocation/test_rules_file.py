"""The allocation file: every validation error names the file, the line and the key (exit 2)."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from tests.allocation.conftest import ORG, allocated_rows, load_bill, new_workspace, set_allocation
from tests.conftest import Cli

from costloop.core.allocation_rules import key_variants, parse_allocation
from costloop.core.errors import InputError
from costloop.core.org import Org, parse_org
from costloop.testing import charge
from costloop.workspace import Workspace

DOCS = Path(__file__).parents[2] / "docs" / "allocation.md"
MARK = "#<"  # marks the line an error must name


def _expected_line(text: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1, "a case marks exactly one line"
    return lines[0]


# id, file text (the line the error names ends in #<), key path, words of the message
CASES = [
    (
        "unknown-top-level-key",
        """
        dimensions:
          env:
            values: [prod, dev]
        rules:
          - {dimension: env, account: ["111111111111"], value: prod}
        pool: []  #<
        """,
        "allocation.pool",
        "unknown key (allowed: dimensions, pools, rules)",
    ),
    (
        "unknown-dimension-key",
        """
        dimensions:
          team:
            keys: [team, squad]
          env:
            values: [prod, dev]
            colour: red  #<
        """,
        "dimensions.env.colour",
        "unknown key (allowed: keys, required, value_aliases, values)",
    ),
    (
        "bad-dimension-name",
        """
        dimensions:
          env:
            values: [prod, dev]
          Cost-Center: {keys: [cost center]}  #<
        """,
        "dimensions.Cost-Center",
        "a dimension name is lower case letters, digits and _",
    ),
    (
        "dimension-name-ending-in-source",
        """
        dimensions:
          team: {}
          team_source: {}  #<
        """,
        "dimensions.team_source",
        "does not end in _source",
    ),
    (
        "alias-of-a-value-not-allowed",
        """
        dimensions:
          env:
            values: [prod, staging]
            value_aliases:
              prod: [production, prd]
              dev: [development]  #<
        """,
        "dimensions.env.value_aliases.dev",
        "'dev' is not one of the values",
    ),
    (
        "required-not-a-flag",
        """
        dimensions:
          env:
            required: sometimes  #<
        """,
        "dimensions.env.required",
        "expected true or false",
    ),
    (
        "rule-with-unknown-dimension",
        """
        dimensions:
          env:
            values: [prod, dev]
        rules:
          - dimension: env
            account: ["111111111111"]
            value: prod
          - dimension: product  #<
            account: ["111111111111"]
            value: checkout
        """,
        "rules[1].dimension",
        "unknown dimension 'product'",
    ),
    (
        "rule-value-not-allowed",
        """
        dimensions:
          env:
            values: [prod, staging, dev]
        rules:
          - dimension: env
            account: ["111111111111"]
            value: production  #<
        """,
        "rules[0].value",
        "'production' is not an allowed env (prod, staging, dev)",
    ),
    (
        "rule-value-not-a-team",
        """
        rules:
          - {dimension: team, account: ["111111111111"], value: checkout}
          - {dimension: team, resource_name: "^db-", value: databases}  #<
        """,
        "rules[1].value",
        "'databases' is not an allowed team (checkout, platform, search)",
    ),
    (
        "rule-assigns-unallocated",
        """
        rules:
          - dimension: team
            account: ["111111111111"]
            value: unallocated  #<
        """,
        "rules[0].value",
        "'unallocated' cannot be assigned",
    ),
    (
        "rule-with-two-kinds",
        """
        rules:
          - {dimension: team, account: ["111111111111"], value: checkout}
          - dimension: team  #<
            account: ["222222222222"]
            resource_name: "^search-"
            value: search
        """,
        "rules[1]",
        "a rule has exactly one of account, resource_name/resource_id, inherit",
    ),
    (
        "rule-with-no-kind",
        """
        rules:
          - dimension: team  #<
            value: search
        """,
        "rules[0]",
        "a rule has exactly one of account, resource_name/resource_id, inherit",
    ),
    (
        "rule-without-value",
        """
        rules:
          - dimension: team  #<
            account: ["111111111111"]
        """,
        "rules[0]",
        "this rule needs a value",
    ),
    (
        "inherit-with-a-value",
        """
        rules:
          - dimension: team
            inherit: parent
            value: checkout  #<
        """,
        "rules[0].value",
        "an inherit rule takes no value",
    ),
    (
        "inherit-other-than-parent",
        """
        rules:
          - dimension: team
            inherit: child  #<
        """,
        "rules[0].inherit",
        "the only form is 'inherit: parent'",
    ),
    (
        "bad-regex",
        """
        rules:
          - dimension: team
            resource_name: "^search-"
            value: search
          - dimension: team
            resource_id: "^(i-shared"  #<
            value: platform
        """,
        "rules[1].resource_id",
        "invalid regular expression: missing ), unterminated subpattern",
    ),
    (
        "rules-not-a-list",
        """
        dimensions:
          env: {values: [prod]}
        rules: {dimension: env}  #<
        """,
        "rules",
        "expected a list",
    ),
    (
        "pool-unknown-method",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: weighted  #<
        """,
        "pools[0].method",
        "method is one of proportional, even, fixed, metric",
    ),
    (
        "fixed-shares-not-summing-to-100",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: fixed
            shares: {checkout: 60, platform: 30}  #<
        """,
        "pools[0].shares",
        "shares add up to 90%, not 100%",
    ),
    (
        "fixed-share-not-a-number",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: fixed
            shares:
              checkout: sixty  #<
              platform: 40
        """,
        "pools[0].shares.checkout",
        "expected a percentage, got 'sixty'",
    ),
    (
        "fixed-share-zero",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: fixed
            shares:
              checkout: 100
              platform: 0  #<
        """,
        "pools[0].shares.platform",
        "a share is a positive percentage",
    ),
    (
        "fixed-without-shares",
        """
        pools:
          - name: shared  #<
            match: {account: ["222222222222"]}
            method: fixed
        """,
        "pools[0]",
        "a fixed pool needs shares (percent per value)",
    ),
    (
        "shares-on-an-even-pool",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: even
            shares: {checkout: 100}  #<
        """,
        "pools[0].shares",
        "shares are for method: fixed",
    ),
    (
        "metric-pool-without-metric",
        """
        pools:
          - name: eks  #<
            match: {service: ["Amazon Elastic Kubernetes Service"]}
            method: metric
        """,
        "pools[0]",
        "a metric pool needs metric: {kubernetes: ...} or {business: NAME}",
    ),
    (
        "metric-with-two-sources",
        """
        pools:
          - name: eks
            match: {service: ["Amazon Elastic Kubernetes Service"]}
            method: metric
            metric: {kubernetes: {cluster: prod}, business: orders}  #<
        """,
        "pools[0].metric",
        "give exactly one of kubernetes, business",
    ),
    (
        "namespace-mapped-to-unknown-team",
        """
        pools:
          - name: eks
            match: {service: ["Amazon Elastic Kubernetes Service"]}
            method: metric
            metric:
              kubernetes:
                cluster: prod-east
                namespaces:
                  checkout: checkout
                  catalog: catalogue  #<
        """,
        "pools[0].metric.kubernetes.namespaces.catalog",
        "'catalogue' is not an allowed team",
    ),
    (
        "duplicate-pool-name",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: even
          - name: shared  #<
            match: {service: ["AWS Support"]}
            method: proportional
        """,
        "pools[1].name",
        "duplicate pool name 'shared'",
    ),
    (
        "pool-without-match-conditions",
        """
        pools:
          - name: shared
            match: {}  #<
            method: even
        """,
        "pools[0].match",
        "a pool needs at least one match condition",
    ),
    (
        "pool-target-not-allowed",
        """
        pools:
          - name: shared
            match: {account: ["222222222222"]}
            method: even
            targets: [checkout, billing]  #<
        """,
        "pools[0].targets",
        "'billing' is not an allowed team",
    ),
    (
        "pool-unknown-match-key",
        """
        pools:
          - name: shared
            match:
              account: ["222222222222"]
              region: [us-east-1]  #<
            method: even
        """,
        "pools[0].match.region",
        "unknown key (allowed: account, charge_category, provider, resource_id, service, tag, "
        "unallocated)",
    ),
    (
        "invalid-yaml-mapping-in-a-value",
        """
        dimensions:
          env:
            values: [prod, dev]
        rules:
          - dimension: env
            account: ["111111111111"]
            value: prod: yes  #<
        """,
        None,
        "invalid YAML: mapping values are not allowed here",
    ),
    (
        "invalid-yaml-indentation",
        """
        dimensions:
          team:
            keys: [team, squad]
           values: [checkout]  #<
        """,
        None,
        "invalid YAML",
    ),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace (no charges) whose allocation file each case rewrites."""
    return new_workspace(tmp_path_factory.mktemp("rules") / "ws")


@pytest.mark.parametrize(
    ("text", "path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_cli_names_file_line_and_key(
    ws: Workspace, cli_main: Cli, text: str, path: str | None, words: str
) -> None:
    text = textwrap.dedent(text).lstrip()
    set_allocation(ws, text)
    proc = cli_main("allocate", "-w", ws.root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    where = f"file {ws.allocation_file}, row {_expected_line(text)}: "
    assert where in proc.stderr
    detail = proc.stderr.split(where, 1)[1]
    if path is not None:
        assert detail.startswith(f"{path}: ")
    assert words in detail


@pytest.mark.parametrize(
    ("text", "line", "path"),
    [
        (
            "dimensions:\n  env:\n    values: [prod]\n  Env:\n    values: [prod]\n",
            4,
            "dimensions.Env",
        ),
        ("rules: []\npools: []\nowners:\n  - ana\n", 3, "allocation.owners"),
        (
            "pools:\n  - name: p\n    match: {account: ['1']}\n    method: fixed\n"
            "    shares:\n      checkout: 60\n      platform: 30\n",
            5,
            "pools[0].shares",
        ),
    ],
    ids=["dimension-with-block-body", "top-level-key-with-block-value", "block-shares"],
)
def test_errors_about_a_key_with_a_block_value_name_the_key_line(
    text: str, line: int, path: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_allocation(text, "allocation.yaml", Org(), ["team"])
    assert (caught.value.row, caught.value.detail.split(":")[0]) == (line, path)


def test_pool_with_unknown_dimension_names_the_dimension_line() -> None:
    text = (
        "pools:\n  - name: p\n    dimension: env\n    match: {account: ['1']}\n    method: even\n"
    )
    with pytest.raises(InputError) as caught:
        parse_allocation(text, "allocation.yaml", Org(), ["team"])
    assert caught.value.detail == "pools[0].dimension: unknown dimension 'env'"
    assert caught.value.row == 3


def test_duplicate_key_is_an_error() -> None:
    text = (
        "pools:\n"
        "  - {name: a, match: {account: ['1']}, method: even}\n"
        "rules: []\n"
        "pools:\n"
        "  - {name: b, match: {account: ['2']}, method: even}\n"
    )
    with pytest.raises(InputError) as caught:
        parse_allocation(text, "allocation.yaml", Org(), ["team"])
    assert caught.value.row == 4
    assert "pools" in caught.value.detail


def test_unquoted_account_id_with_leading_zero_is_kept_or_refused() -> None:
    text = "rules:\n  - {dimension: team, account: [012345670123], value: checkout}\n"
    try:
        config = parse_allocation(text, "allocation.yaml", Org(), ["team"])
    except InputError as exc:
        assert (exc.row, exc.detail.startswith("rules[0].account")) == (2, True)
    else:
        assert config.rules[0].accounts == ("012345670123",)


def test_regex_the_engine_cannot_run_is_refused_when_parsing() -> None:
    text = "rules:\n  - dimension: team\n    resource_name: '^(?=search)'\n    value: search\n"
    with pytest.raises(InputError) as caught:
        parse_allocation(text, "allocation.yaml", Org(), ["team"])
    assert caught.value.row == 3
    assert caught.value.detail.startswith("rules[0].resource_name: ")


def test_bad_file_leaves_the_previous_allocation(tmp_path: Path, cli_main: Cli) -> None:
    ws = new_workspace(
        tmp_path / "ws", "rules:\n  - {dimension: team, account: ['111111111111'], value: search}\n"
    )
    load_bill(ws, [charge(datetime(2026, 3, 2), "12.34")])
    assert cli_main("allocate", "-w", ws.root).returncode == 0
    before = allocated_rows(ws)
    set_allocation(ws, "rules:\n  - {dimension: team, account: ['111111111111'], value: nobody}\n")
    proc = cli_main("allocate", "-w", ws.root)
    assert proc.returncode == 2
    assert "row 2: rules[0].value: 'nobody' is not an allowed team" in proc.stderr
    assert allocated_rows(ws) == before
    assert [(r["team"], r["team_source"], r["BilledCost"]) for r in before] == [
        ("search", "account", Decimal("12.34"))
    ]


def test_team_is_always_a_required_dimension() -> None:
    text = "dimensions:\n  env:\n    values: [prod, dev]\n  product: {}\n"
    config = parse_allocation(text, "allocation.yaml", Org(), ["team", "squad"])
    assert [(d.name, d.required) for d in config.dimensions] == [
        ("team", True),
        ("env", False),
        ("product", False),
    ]
    team = config.dimension("team")
    assert team.tag_keys()[:2] == ["team", "squad"]
    assert team.values == ()  # no org teams: any value


def test_org_teams_accounts_and_aliases_feed_the_team_dimension(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws", "dimensions:\n  team:\n    keys: [owner]\n")
    config = ws.allocation
    team = config.dimension("team")
    assert team.values == ("checkout", "platform", "search")
    assert team.tag_keys() == ["owner"]  # keys in the file replace allocation.team_tag_keys
    assert team.canonical("Check_Out") == "checkout"  # the org file's tag_values
    assert team.canonical("nobody") is None
    # The org file's account → team mapping comes after the file's own rules.
    assert [(r.kind, r.accounts, r.value) for r in config.rules] == [
        ("account", ("222222222222",), "platform"),
        ("account", ("444444444444",), "search"),
    ]
    assert config.source == str(ws.allocation_file)


def test_without_a_file_the_defaults_apply(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws")
    config = ws.allocation
    assert config.source == "defaults"
    assert [d.name for d in config.dimensions] == ["team"]
    assert config.dimension("team").tag_keys()[:4] == [
        "team",
        "owner-team",
        "owner_team",
        "ownerteam",
    ]
    assert config.pools == ()


def test_key_variants_ignore_case_and_separators() -> None:
    assert key_variants("Cost Center") == [
        "cost center",
        "cost-center",
        "cost_center",
        "costcenter",
        "cost.center",
        "cost:center",
    ]
    assert key_variants("  ") == []


def _complete_example() -> str:
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"## A complete example\n.*?```yaml\n(.*?)```", text, re.S)
    assert found, "docs/allocation.md has a complete example"
    return found.group(1)


def test_documented_complete_example_loads() -> None:
    org = parse_org(yaml.safe_load(ORG), "org.yaml")
    config = parse_allocation(_complete_example(), "docs/allocation.md", org, ["team"])
    assert [d.name for d in config.dimensions] == ["team", "env", "product", "cost_center"]
    assert config.dimension("env").canonical("Production") == "prod"
    assert config.dimension("cost_center").tag_keys()[:3] == [
        "cost center",
        "cost-center",
        "cost_center",
    ]
    assert [(r.dimension, r.kind) for r in config.rules][-4:] == [
        ("team", "inherit"),
        ("env", "inherit"),
        ("team", "account"),  # the org file's mapping comes last
        ("team", "account"),
    ]
    assert [(p.name, p.dimension, p.method) for p in config.pools] == [
        ("shared-networking", "team", "proportional"),
        ("untagged-support", "team", "even"),
        ("security-tooling", "team", "fixed"),
        ("eks-prod", "team", "metric"),
        ("email-by-orders", "product", "metric"),
    ]
    assert config.pools[2].shares == {
        "checkout": Decimal("50"),
        "search": Decimal("30"),
        "platform": Decimal("20"),
    }
    assert config.pools[3].metric is not None
    assert config.pools[3].metric.namespaces["kube-system"] == "platform"
