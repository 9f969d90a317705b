"""Stride Sneakers: the fictional company, its cloud accounts and teams."""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

__all__ = [
    "ACCOUNTS",
    "COMPANY",
    "PROVIDERS",
    "TEAMS",
    "CloudAccount",
    "ProviderInfo",
    "TeamInfo",
    "account",
    "render_allocation_yaml",
    "render_org_yaml",
]

COMPANY = "Stride Sneakers"


@dataclass(frozen=True)
class ProviderInfo:
    """Billing-level facts of one cloud provider."""

    slug: str
    name: str  # FOCUS ProviderName / PublisherName
    issuer: str  # FOCUS InvoiceIssuerName
    billing_account_id: str
    billing_account_name: str
    billing_account_type: str
    sub_account_type: str
    invoice_prefix: str
    tax_rate: str  # decimal text


PROVIDERS: dict[str, ProviderInfo] = {
    "aws": ProviderInfo(
        "aws",
        "AWS",
        "Amazon Web Services, Inc.",
        "431209876543",
        "stride-management",
        "Management Account",
        "Member Account",
        "AWS",
        "0.06",
    ),
    "azure": ProviderInfo(
        "azure",
        "Microsoft",
        "Microsoft",
        "8611537",
        "Stride Sneakers EA",
        "Enterprise Agreement",
        "Subscription",
        "G",
        "0.06",
    ),
    "gcp": ProviderInfo(
        "gcp",
        "Google Cloud",
        "Google Cloud",
        "01A7C3-5E9B2D-4F6081",
        "Stride Sneakers Billing",
        "Billing Account",
        "Project",
        "GCP",
        "0.06",
    ),
}


@dataclass(frozen=True)
class CloudAccount:
    """A sub-account (AWS member account, Azure subscription, GCP project)."""

    provider: str  # provider slug
    id: str
    name: str
    env: str
    team: str  # owner of the account's untagged charges

    def to_dict(self) -> dict[str, str]:
        """Plain mapping, for the manifest."""
        return {
            "provider": PROVIDERS[self.provider].name,
            "billing_account_id": PROVIDERS[self.provider].billing_account_id,
            "id": self.id,
            "name": self.name,
            "env": self.env,
            "team": self.team,
        }


ACCOUNTS: tuple[CloudAccount, ...] = (
    CloudAccount("aws", "210987654321", "sneakers-prod", "prod", "platform"),
    CloudAccount("aws", "318273645501", "sneakers-staging", "staging", "platform"),
    CloudAccount("aws", "427384950612", "sneakers-data", "prod", "data-platform"),
    CloudAccount("aws", "536475869723", "sneakers-shared", "shared", "platform"),
    CloudAccount(
        "azure", "5f2c8e3a-9b1d-4c7e-8a6f-2d3b4c5e6f70", "stride-marketing", "prod", "marketing-web"
    ),
    CloudAccount("gcp", "stride-analytics-prod", "Stride Analytics", "prod", "data-platform"),
)


def account(name: str) -> CloudAccount:
    """An account by its name or id, e.g. ``sneakers-prod``."""
    for acct in ACCOUNTS:
        if name in (acct.name, acct.id):
            return acct
    raise KeyError(name)


@dataclass(frozen=True)
class TeamInfo:
    """A team, its owner and the tag values engineers actually typed for it."""

    name: str
    owner: str
    channel: str
    aliases: tuple[str, ...]  # documented in org.yaml
    variants: tuple[str, ...]  # what appears in tags, typos included


TEAMS: tuple[TeamInfo, ...] = (
    TeamInfo(
        "checkout",
        "ana.silva@stride.example",
        "#checkout-costs",
        ("checkout", "check-out"),
        ("checkout", "Checkout", "check-out", "chekout"),
    ),
    TeamInfo(
        "catalog",
        "ben.okafor@stride.example",
        "#catalog-costs",
        ("catalog", "catalogue"),
        ("catalog", "Catalog", "catalogue"),
    ),
    TeamInfo(
        "data-platform",
        "chen.wei@stride.example",
        "#data-platform",
        ("data-platform", "data_platform", "data"),
        ("data-platform", "data_platform", "DataPlatform", "data-platfrom"),
    ),
    TeamInfo(
        "platform",
        "dana.kowalski@stride.example",
        "#platform-eng",
        ("platform", "infra", "sre"),
        ("platform", "Platform", "infra", "platfrom"),
    ),
    TeamInfo(
        "search",
        "elif.demir@stride.example",
        "#search-team",
        ("search",),
        ("search", "Search", "SEARCH"),
    ),
    TeamInfo(
        "marketing-web",
        "femi.adeyemi@stride.example",
        "#marketing-web",
        ("marketing-web", "marketing", "mktg-web"),
        ("marketing-web", "marketing", "mktg-web", "Marketing"),
    ),
)


def render_org_yaml() -> str:
    """The organization file (format of ``costloop.core.org``)."""
    doc = {
        "company": COMPANY,
        "teams": [
            {
                "name": t.name,
                "owner": t.owner,
                "channel": t.channel,
                "tag_values": list(t.aliases),
            }
            for t in TEAMS
        ],
        # Shared-services and management accounts have no single owner: their untagged
        # charges stay unallocated until shared-cost pools split them.
        "accounts": [
            {"id": a.id, "name": a.name, "provider": PROVIDERS[a.provider].name}
            | ({} if a.env == "shared" else {"team": a.team})
            for a in ACCOUNTS
        ]
        + [
            {
                "id": PROVIDERS["aws"].billing_account_id,
                "name": PROVIDERS["aws"].billing_account_name,
                "provider": "AWS",
            }
        ],
    }
    header = (
        "# Stride Sneakers: teams, owners and which team owns each cloud account.\n"
        "# Typos seen in tags (chekout, platfrom, data-platfrom) are deliberately not listed.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def render_allocation_yaml() -> str:
    """The allocation file (format of ``costloop.core.allocation_rules``)."""
    by_env: dict[str, list[str]] = {}
    for a in ACCOUNTS:
        by_env.setdefault(a.env, []).append(a.id)
    shared = by_env.get("shared", [])
    by_name = {a.name: a.id for a in ACCOUNTS}
    products = {"data": ["sneakers-data", "Stride Analytics"], "web": ["stride-marketing"]}
    product_rules = "\n".join(
        f"  - {{dimension: product, account: {json.dumps([by_name[n] for n in names])}, "
        f"value: {value}}}"
        for value, names in products.items()
    )
    env_rules = "\n".join(
        f"  - {{dimension: env, account: {json.dumps(ids)}, value: {env}}}"
        for env, ids in sorted(by_env.items())
    )
    return f"""# Stride Sneakers: how cost is attributed (see docs/allocation.md).
dimensions:
  team:
    required: true
    # The org file gives the teams and their usual spellings; these are typos seen in tags.
    value_aliases:
      checkout: [chekout]
      platform: [platfrom]
      data-platform: [data-platfrom, DataPlatform]
  env:
    required: true
    values: [prod, staging, shared]
    keys: [env, environment]
    value_aliases:
      prod: [production, prd]
      staging: [stg, stage]
  product:
    # What the business sells: orders come from the web shop and the mobile app.
    values: [web, app, data, internal]
    keys: [product, service]
    value_aliases:
      web: [storefront-web, search, catalog, catalog-worker]
      app: [api, checkout-api, checkout-worker]
      data: [airflow, etl-runner, reporting-batch]
      internal: [bastion, ci-runner, jenkins, legacy-resizer]
rules:
{env_rules}
{product_rules}
  # Volumes, addresses and snapshots carry no tags of their own: they follow their instance.
  - {{dimension: team, inherit: parent}}
  - {{dimension: product, inherit: parent}}
pools:
  # The shared EKS cluster's nodes, disks and traffic, split by namespace usage (OpenCost).
  - name: eks-stride-prod
    match: {{tag: {{"aws:eks:cluster-name": stride-prod}}}}
    method: metric
    metric:
      kubernetes:
        cluster: stride-prod
        namespaces:
          checkout: checkout
          catalog: catalog
          search: search
          data-pipelines: data-platform
  # Commitments, monitoring and tooling in the shared-services account serve everyone.
  - name: shared-services
    match: {{account: {json.dumps(shared)}}}
    method: proportional
  # Tax follows the cost it is levied on.
  - name: tax
    match: {{charge_category: [Tax]}}
    method: proportional
"""
