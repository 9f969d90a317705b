"""Stride's AWS networking: clusters, NAT gateways, public IPs, load balancers, egress."""

from __future__ import annotations

from costloop.demo.fleet import fixed_hours, parse_table, team_tags, traffic_meter
from costloop.demo.fleet_awsbase import ACCOUNT_IDS, AZS, arn, aws, env_of, tf_path
from costloop.demo.model import Meter, Resource, hex_id

__all__ = ["network"]

_NATS = """
# acct     n  GB_day  tf
prod       3  500     prod/network
staging    1  40      staging/main
data       1  700     data/main
"""

_IPS = """
# name                  acct    team      address                 tf              attached
eip-bastion             prod    platform  aws_eip.bastion         prod/network    bastion
eip-legacy-checkout     prod    checkout  aws_eip.legacy_checkout prod/network    -
eip-vpn                 shared  platform  aws_eip.vpn             shared/network  -
eip-manual-test         prod    -         -                       -               -
"""

_BALANCERS = """
# name             acct     team      address           tf            LCU_hours
checkout-alb       prod     checkout  aws_lb.checkout   prod/network  60
storefront-alb     prod     catalog   aws_lb.storefront prod/network  140
stg-legacy-alb     staging  checkout  aws_lb.legacy     staging/main  0
"""

# Data transfer out to the internet: account-level charges with no resource.
_EGRESS_GB = {"prod": 450.0, "staging": 10.0, "data": 120.0, "shared": 20.0}


def _clusters() -> list[Resource]:
    out = []
    for acct, cluster, address, tf in (
        ("prod", "stride-prod", "aws_eks_cluster.main", "prod/eks"),
        ("staging", "stride-staging", "aws_eks_cluster.staging", "staging/main"),
    ):
        meter = fixed_hours(
            "eks", "eks.hour", "USE1-AmazonEKS-Hours:perCluster", "Amazon EKS cluster usage"
        )
        out.append(
            aws(
                arn("eks", ACCOUNT_IDS[acct], f"cluster/{cluster}"),
                cluster,
                acct,
                "cluster",
                "Kubernetes Cluster",
                (meter,),
                "platform",
                team_tags(cluster, "platform", env_of(acct)),
                state="active",
                iac_address=address,
                iac_file=tf_path(tf),
                created_days_ago=800,
                profile="none",
            )
        )
    return out


def _nat_and_ips() -> list[Resource]:
    out = []
    for acct, n, gb, tf in parse_table(_NATS):
        for i in range(int(n)):
            name = f"nat-{acct}-{AZS[i][-1]}"
            meters = (
                fixed_hours("vpc", "nat.hour", "NatGateway-Hours", "$0.045 per NAT Gateway Hour"),
                traffic_meter(
                    "bytes",
                    "vpc",
                    "nat.gb",
                    float(gb) / int(n),
                    "NatGateway-Bytes",
                    "GB",
                    "$0.045 per GB Data Processed by NAT Gateways",
                    weekend=0.15,
                ),
            )
            out.append(
                aws(
                    hex_id("nat", f"{acct}/{name}"),
                    name,
                    acct,
                    "nat-gateway",
                    "NAT Gateway",
                    meters,
                    "-",
                    {},
                    az=AZS[i],
                    state="available",
                    iac_file=tf_path(tf),
                    iac_address="aws_nat_gateway.main" + (f"[{i}]" if int(n) > 1 else ""),
                    created_days_ago=1000,
                    profile="none",
                )
            )
    bastion = hex_id("i", f"{ACCOUNT_IDS['prod']}/bastion")
    for name, acct, team, address, tf, attached in parse_table(_IPS):
        used = attached != "-"
        state = "InUse" if used else "Idle"
        meter = fixed_hours(
            "vpc",
            "eip.hour",
            f"PublicIPv4:{state}Address",
            f"$0.005 per {state} public IPv4 address per hour",
        )
        tags = {} if team == "-" else team_tags(name, team, env_of(acct), managed=address != "-")
        out.append(
            aws(
                hex_id("eipalloc", f"{acct}/{name}"),
                name,
                acct,
                "ip-address",
                "IP Address",
                (meter,),
                team,
                tags,
                state="associated" if used else "unassociated",
                attached_to=bastion if used else None,
                iac_address=None if address == "-" else address,
                iac_file=tf_path(tf),
                profile="none",
                waste=None if used else "unassociated-ip",
                created_days_ago=300,
                last_used_days_ago=0 if used else 210,
            )
        )
    return out


def _balancers() -> list[Resource]:
    out = []
    for name, acct, team, address, tf, lcu in parse_table(_BALANCERS):
        meters: tuple[Meter, ...] = (
            fixed_hours(
                "elb",
                "alb.hour",
                "LoadBalancerUsage",
                "$0.0225 per Application LoadBalancer-hour (or partial hour)",
            ),
        )
        if float(lcu):
            meters += (
                traffic_meter(
                    "lcu",
                    "elb",
                    "alb.lcu",
                    float(lcu),
                    "LCUUsage",
                    "LCU-Hours",
                    "$0.008 per used Application load balancer capacity unit-hour",
                ),
            )
        idle = not float(lcu)
        suffix = hex_id("x", name)[3:]
        out.append(
            aws(
                arn("elasticloadbalancing", ACCOUNT_IDS[acct], f"loadbalancer/app/{name}/{suffix}"),
                name,
                acct,
                "load-balancer",
                "Load Balancer",
                meters,
                team,
                team_tags(name, team, env_of(acct)),
                state="active",
                iac_address=address,
                iac_file=tf_path(tf),
                profile="lb-idle" if idle else "lb",
                waste="idle-load-balancer" if idle else None,
                created_days_ago=700,
                last_used_days_ago=190 if idle else 0,
            )
        )
    return out


def _egress() -> list[Resource]:
    out = []
    for acct, gb in _EGRESS_GB.items():
        meter = traffic_meter(
            "egress",
            "dt",
            "dt.out",
            gb,
            "USE1-DataTransfer-Out-Bytes",
            "GB",
            "$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier",
        )
        # No resource id: the kind "" keeps it out of the inventory.
        out.append(aws("", f"egress-{acct}", acct, "", "", (meter,), "-", {}, profile="none"))
    return out


def network() -> list[Resource]:
    """Clusters, NAT gateways, IPs, load balancers and account-level egress."""
    return _clusters() + _nat_and_ips() + _balancers() + _egress()
