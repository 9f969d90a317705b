"""The infra repository, the org file and the business metrics of the demo estate."""

from __future__ import annotations

import re
import subprocess

import yaml
from demo_helpers import read_csv

from costloop.core.datasets import BUSINESS_METRICS_COLUMNS
from costloop.core.org import parse_org
from costloop.demo import EstateManifest


def _git(repo: object, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_infra_is_a_git_repository_with_one_commit_on_main(estate: EstateManifest) -> None:
    repo = estate.infra_repo
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert _git(repo, "log", "--format=%an <%ae>") == "Stride Infra <infra@stride.example>"
    assert _git(repo, "status", "--porcelain") == ""
    tracked = _git(repo, "ls-files").splitlines()
    assert any(p.startswith("terraform/prod/") for p in tracked)
    assert any(p.startswith("k8s/") for p in tracked)


def test_every_iac_address_is_declared_in_its_file(
    estate: EstateManifest, inventory: list[dict[str, str]]
) -> None:
    managed = [r for r in inventory if r["iac_address"]]
    assert len(managed) > 50
    for r in managed:
        text = (estate.infra_repo / r["iac_file"]).read_text()
        parts = re.sub(r"\[\d+\]$", "", r["iac_address"]).split(".")
        if parts[0] == "module":
            assert f'module "{parts[1]}"' in text, r["iac_address"]
        else:
            assert f'resource "{parts[0]}" "{parts[1]}"' in text, r["iac_address"]
    compute = (estate.infra_repo / "terraform/prod/compute.tf").read_text()
    assert re.search(r'instance_type\s+=\s+"m5\.2xlarge"', compute)
    assert "root_block_device" in compute and "tags = {" in compute


def test_kubernetes_deployments_request_resources(estate: EstateManifest) -> None:
    manifests = sorted((estate.infra_repo / "k8s").glob("*.yaml"))
    assert len(manifests) >= 3
    for path in manifests:
        doc = yaml.safe_load(path.read_text())
        assert doc["kind"] == "Deployment"
        container = doc["spec"]["template"]["spec"]["containers"][0]
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}


def test_org_file_maps_every_billed_account_but_the_shared_one(
    estate: EstateManifest, billing: list[dict[str, str]]
) -> None:
    org = parse_org(yaml.safe_load(estate.org_file.read_text()))
    assert org.company == "Stride Sneakers"
    assert {t.name for t in org.teams} == {
        "checkout",
        "catalog",
        "data-platform",
        "platform",
        "search",
        "marketing-web",
    }
    assert all("@" in t.owner and t.channel.startswith("#") for t in org.teams)
    for account in {r["SubAccountId"] for r in billing}:
        if account == "536475869723":  # sneakers-shared: no single owner, left unallocated
            assert org.team_for_account(account) is None
        else:
            assert org.team_for_account(account) is not None, account
    assert org.team_for_tag_value("Check-Out") == "checkout"
    assert org.team_for_tag_value("chekout") is None  # a typo left for allocation rules


def test_orders_follow_traffic(estate: EstateManifest) -> None:
    rows = read_csv(estate.business_file)
    assert list(rows[0]) == [name for name, _ in BUSINESS_METRICS_COLUMNS]
    orders = [r for r in rows if r["metric"] == "orders" and r["dimension"] == "web"]
    assert len(orders) == 92  # August to October 2026
    first, last = int(orders[0]["value"]), int(orders[-1]["value"])
    assert last > first * 0.9
    assert {r["dimension"] for r in rows} == {"web", "app"}
