"""Stride's AWS compute: instances, Kubernetes nodes, databases, volumes and snapshots."""

from __future__ import annotations

from decimal import Decimal

from costloop.demo.fleet import (
    ebs_volume,
    hours_meter,
    instance,
    parse_table,
    resource,
    storage_meter,
    team_tags,
)
from costloop.demo.fleet_aws_net import network
from costloop.demo.fleet_aws_services import managed_services
from costloop.demo.fleet_awsbase import ACCOUNT_IDS, AZS, REGION, arn
from costloop.demo.model import Meter, Resource, hex_id

__all__ = ["aws_resources"]

# One row per group of identical instances; n > 1 becomes a Terraform `count`.
# tags: y = team tags, env = an env tag only. Profiles drive utilization (and waste).
_INSTANCES = """
# group         acct    n type       team          root    dt  profile       tags tf           age
checkout_api    prod    2 m5.2xlarge checkout      gp2:100 220 oversized     y    prod/compute 540
checkout_worker prod    2 m5.xlarge  checkout      gp3:50  60  normal        y    prod/compute 520
storefront_web  prod    3 m5.xlarge  catalog       gp3:50  180 busy          y    prod/compute 610
catalog_worker  prod    1 c5.2xlarge catalog       gp3:50  40  oversized-cpu y    prod/compute 450
legacy_resizer  prod    1 m5.large   catalog       gp2:30  0   idle          y    prod/compute 900
bastion         prod    1 t3.small   platform      gp2:20  0   low           y    prod/network 1100
api             staging 2 m5.xlarge  checkout      gp3:50  0   staging       y    staging/main 480
catalog         staging 1 t3.xlarge  catalog       gp3:50  0   staging       env  staging/main 480
reporting_batch data    1 m4.xlarge  data-platform gp2:200 0   batch         y    data/main    1300
etl_runner      data    2 r5.xlarge  data-platform gp3:200 120 busy          y    data/main    400
airflow         data    1 m5.large   data-platform gp3:100 10  normal        env  data/main    420
jenkins         shared  1 t3.xlarge  platform      gp2:200 0   idle          y    shared/ci    1000
ci_runner       shared  2 c5.xlarge  platform      gp3:100 0   ci            y    shared/ci    300
"""

# resized: days ago:new class. address: a module name or the aws_db_instance name.
_DATABASES = """
# name       acct    class        team      GiB  profile    resized           address
checkout-db  prod    db.r5.large  checkout  500  busy-db    -                 module.checkout_db
loyalty-db   prod    db.r5.large  checkout  200  normal-db  -                 loyalty
catalog-db   prod    db.r5.large  catalog   300  busy-db    150:db.r6g.large  catalog
staging-db   staging db.t3.medium checkout  100  staging    -                 staging
"""

_VOLUMES = """
# name               acct  type  GiB   team           tf            address                 age
old-checkout-data    prod  gp2   500   checkout       -             -                       420
tmp-migration        prod  gp3   200   -              -             -                       260
data-scratch         data  gp2   1000  data-platform  data/storage  aws_ebs_volume.scratch  380
"""

_SNAPSHOTS = """
# name                        acct  GiB  team           age  source
checkout-db-migration-2024    prod  500  checkout       620  vol-0deadbeefcafe0001
image-resizer-backup          prod  30   catalog        400  legacy-resizer-root
storefront-ami-2025           prod  50   -              250  storefront-web-1-root
search-reindex                prod  500  search         40   search-data-1
etl-weekly-backup             data  200  data-platform  20   etl-runner-1-root
"""

_PROFILE_WASTE = {
    "oversized": "oversized-instance",
    "oversized-cpu": "oversized-instance",
    "idle": "idle-instance",
    "staging": "staging-24x7",
}


def _env(acct: str) -> str:
    return {"staging": "staging", "shared": "shared"}.get(acct, "prod")


def _instances() -> list[Resource]:
    out: list[Resource] = []
    for group, acct, n, size, team, root, dt, profile, tags, tf, age in parse_table(_INSTANCES):
        env, count = _env(acct), int(n)
        vtype, gib = root.split(":")
        for i in range(count):
            stem = group.replace("_", "-")
            name = (f"stg-{stem}" if env == "staging" else stem) + (
                f"-{i + 1}" if count > 1 else ""
            )
            waste = _PROFILE_WASTE.get(profile)
            if size.startswith("m4."):
                waste = "previous-generation"
            out += instance(
                name,
                ACCOUNT_IDS[acct],
                size,
                team=team,
                env=env,
                tags=team_tags(stem, team if tags == "y" else None, env, service=stem),
                root=(vtype, int(gib)),
                az=AZS[i % 3],
                burst=0.45 if profile == "ci" else None,
                transfer_gb=float(dt) or None,
                profile=profile,
                waste=waste,
                last_used_days_ago=140 if profile == "idle" else 0,
                iac_address=f"aws_instance.{group}" + (f"[{i}]" if count > 1 else ""),
                iac_file=f"terraform/{tf}.tf",
                created_days_ago=int(age),
            )
    for i in range(3):
        name = f"search-node-{i + 1}"
        out += instance(
            name,
            ACCOUNT_IDS["prod"],
            "r5.2xlarge",
            team="search",
            env="prod",
            tags=team_tags("search-node", "search", "prod", service="search"),
            az=AZS[i],
            transfer_gb=150.0,
            profile="busy",
            iac_address=f"module.search.aws_instance.node[{i}]",
            iac_file="terraform/prod/search.tf",
            created_days_ago=420,
        )
        out.append(
            ebs_volume(
                f"search-data-{i + 1}",
                ACCOUNT_IDS["prod"],
                "gp3",
                500,
                team="search",
                env="prod",
                az=AZS[i],
                tags=team_tags("search-data", "search", "prod"),
                attached_to=out[-2].rid,
                iac_address=f"module.search.aws_ebs_volume.data[{i}]",
                iac_file="terraform/prod/search.tf",
                created_days_ago=420,
            )
        )
    return out


def _eks_nodes() -> list[Resource]:
    out: list[Resource] = []
    for acct, cluster, n_base, n_burst, size, f in (
        ("prod", "stride-prod", 16, 12, "m5.2xlarge", "prod/eks"),
        ("staging", "stride-staging", 3, 0, "m5.large", "staging/main"),
    ):
        env = _env(acct)
        tags = {"aws:eks:cluster-name": cluster, "eks:nodegroup-name": "general", "env": env}
        if env == "prod":
            tags["Team"] = "platform"  # the node group owner; namespaces share the cost
        for i in range(n_base + n_burst):
            # The base node group grew over the years; burst nodes follow traffic.
            burst = None if i < n_base else 0.25 + 0.06 * (i - n_base)
            out += instance(
                f"{cluster}-general-{i + 1:02d}",
                ACCOUNT_IDS[acct],
                size,
                team="platform",
                env=env,
                tags=tags,
                az=AZS[i % 3],
                root=("gp3", 100),
                burst=burst,
                transfer_gb=90.0 if env == "prod" else None,
                profile="busy" if env == "prod" else "staging",
                waste=None if env == "prod" else "staging-24x7",
                iac_address="aws_eks_node_group.general",
                iac_file=f"terraform/{f}.tf",
                created_days_ago=760 - 30 * i if i < n_base else 700,
            )
    return out


def _databases() -> list[Resource]:
    out: list[Resource] = []
    for name, acct, size, team, gib, profile, resized, addr in parse_table(_DATABASES):
        env, acct_id = _env(acct), ACCOUNT_IDS[acct]
        resizes = () if resized == "-" else ((int(resized.split(":")[0]), resized.split(":")[1]),)
        storage = storage_meter(
            "rds",
            "rds.gp2",
            float(gib),
            "RDS:GP2-Storage",
            "$0.115 per GB-month of provisioned gp2 storage running PostgreSQL",
        )
        meters: tuple[Meter, ...] = (hours_meter("rds"), storage)
        out.append(
            resource(
                arn("rds", acct_id, f"db:{name}"),
                name,
                "aws",
                acct_id,
                REGION,
                "database",
                "Database Instance",
                meters,
                team=team,
                env=env,
                tags=team_tags(name, team, env),
                az=AZS[0],
                size=size,
                size_gib=Decimal(int(gib)),
                state="available",
                iac_address=(
                    f"{addr}.aws_db_instance.this"
                    if addr.startswith("module.")
                    else f"aws_db_instance.{addr}"
                ),
                iac_file="terraform/staging/main.tf"
                if env == "staging"
                else "terraform/prod/database.tf",
                resizes=resizes,
                profile=profile,
                waste="staging-24x7" if env == "staging" else None,
                created_days_ago=700,
            )
        )
    return out


def _storage(instances: list[Resource]) -> list[Resource]:
    out: list[Resource] = []
    for name, acct, vtype, gib, team, tf, addr, age in parse_table(_VOLUMES):
        out.append(
            ebs_volume(
                name,
                ACCOUNT_IDS[acct],
                vtype,
                int(gib),
                team=team if team != "-" else "platform",
                env=_env(acct),
                tags=team_tags(name, None if team == "-" else team, _env(acct), managed=tf != "-"),
                attached_to=None,
                iac_address=None if addr == "-" else addr,
                iac_file=None if tf == "-" else f"terraform/{tf}.tf",
                created_days_ago=int(age),
                last_used_days_ago=int(age) // 2,
                waste="unattached-volume",
            )
        )
    by_name = {r.name: r.rid for r in instances}
    for name, acct, gib, team, age, source in parse_table(_SNAPSHOTS):
        meter = storage_meter(
            "snapshot",
            "ebs.snapshot",
            float(gib),
            "EBS:SnapshotUsage",
            "$0.05 per GB-month of snapshot data stored",
        )
        old = int(age) > 180
        out.append(
            resource(
                hex_id("snap", f"{acct}/{name}"),
                name,
                "aws",
                ACCOUNT_IDS[acct],
                REGION,
                "snapshot",
                "Snapshot",
                (meter,),
                team="platform" if team == "-" else team,
                env=_env(acct),
                tags={} if team == "-" else team_tags(name, team, _env(acct), managed=False),
                size_gib=Decimal(gib),
                state="completed",
                attached_to=by_name.get(source, source),
                created_days_ago=int(age),
                last_used_days_ago=None,
                profile="none",
                waste="old-snapshot" if old else None,
            )
        )
    return out


def aws_resources() -> list[Resource]:
    """Every AWS resource of the estate, in a stable order."""
    instances = _instances() + _eks_nodes()
    return instances + _databases() + _storage(instances) + network() + managed_services()
