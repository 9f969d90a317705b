"""Building blocks of the fleet: meters, tag styles and resource constructors."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from typing import Any

from costloop.demo.company import TEAMS
from costloop.demo.model import Meter, Pattern, Resource, hex_id

__all__ = [
    "dt_meter",
    "ebs_volume",
    "fixed_hours",
    "hours_meter",
    "instance",
    "parse_table",
    "resource",
    "storage_meter",
    "team_tags",
    "traffic_meter",
]

_VARIANTS = {t.name: t.variants for t in TEAMS}
_TEAM_KEYS = ("team", "team", "team", "team", "team", "team", "Team", "Team", "TEAM", "owner-team")
_ENV_KEYS = ("env", "env", "env", "Environment", "environment")
_ENV_VALUES = {
    "prod": ("prod", "prod", "production", "Prod"),
    "staging": ("staging", "staging", "stg"),
    "shared": ("shared", "shared", "prod"),
}


def parse_table(text: str) -> list[list[str]]:
    """Rows of a whitespace-aligned text table; ``#`` starts a comment, ``-`` is empty."""
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
    return rows


def resource(
    rid: str,
    name: str,
    provider: str,
    account: str,
    region: str,
    kind: str,
    rtype: str,
    meters: tuple[Meter, ...],
    *,
    team: str,
    env: str,
    tags: dict[str, str],
    **kw: Any,
) -> Resource:
    """A resource from positional essentials plus optional Resource fields."""
    return Resource(
        rid=rid,
        name=name,
        provider=provider,
        account=account,
        region=region,
        az=kw.pop("az", None),
        kind=kind,
        rtype=rtype,
        size=kw.pop("size", None),
        team=team,
        env=env,
        tags=tags,
        meters=meters,
        **kw,
    )


def _pick(name: str, salt: str, options: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return options[digest[0] % len(options)]


def team_tags(
    name: str,
    team: str | None,
    env: str,
    *,
    managed: bool = True,
    **extra: str,
) -> dict[str, str]:
    """Tags as engineers wrote them: key and value spellings vary by resource.

    ``team=None`` leaves the team out (an env tag alone does not allocate the cost).
    """
    tags: dict[str, str] = {}
    if team is not None:
        variants = _VARIANTS[team]
        value = variants[0] if _pick(name, "v", tuple("0123456789")) < "6" else None
        if value is None:
            value = _pick(name, "w", variants[1:]) if len(variants) > 1 else variants[0]
        tags[_pick(name, "k", _TEAM_KEYS)] = value
    tags[_pick(name, "e", _ENV_KEYS)] = _pick(name, "ev", _ENV_VALUES[env])
    if managed:
        tags["managed-by"] = "terraform"
    tags.update(extra)
    return tags


def hours_meter(service: str = "ec2", *, burst: float | None = None, places: int = 4) -> Meter:
    """Instance hours: always on, or autoscaled (``burst`` = share of the day at the end)."""
    if service == "rds":
        usage, text = "InstanceUsage:{size}", "${price} per RDS {size} instance hour (PostgreSQL)"
    elif service == "azure_vm":
        usage, text = "{size} Linux", "{size} Linux virtual machine hours at ${price}/hour"
    elif service == "gce":
        usage, text = "{size} running", "{size} instance core and RAM running in Americas"
    else:
        usage, text = "BoxUsage:{size}", "${price} per On Demand Linux {size} Instance Hour"
    if burst is None:
        return Meter("hours", service, usage, "Hours", Pattern.HOURS, 24.0, None, places, text)
    return Meter(
        "hours",
        service,
        usage,
        "Hours",
        Pattern.BURST,
        burst,
        None,
        places,
        text,
        growth=0.03,
        weekend=0.35,
        noise=0.08,
    )


def fixed_hours(service: str, price_key: str, usage: str, text: str) -> Meter:
    """A flat hourly fee (NAT gateway, public IP, cluster, load balancer)."""
    return Meter("hours", service, usage, "Hours", Pattern.HOURS, 24.0, price_key, 4, text)


def storage_meter(
    service: str,
    price_key: str | None,
    gib: float,
    usage: str,
    text: str,
    *,
    growth: float = 0.0,
    unit: str = "GB-Months",
) -> Meter:
    """Provisioned or stored capacity, billed per GB-month and prorated daily."""
    return Meter("storage", service, usage, unit, Pattern.STORAGE, gib, price_key, 6, text, growth)


def traffic_meter(
    key: str,
    service: str,
    price_key: str,
    per_day: float,
    usage: str,
    unit: str,
    text: str,
    *,
    places: int = 4,
    growth: float = 0.03,
    weekend: float = 0.25,
    noise: float = 0.06,
) -> Meter:
    """A usage-driven meter (requests, GB transferred, GB-seconds)."""
    return Meter(
        key,
        service,
        usage,
        unit,
        Pattern.TRAFFIC,
        per_day,
        price_key,
        places,
        text,
        growth,
        weekend,
        noise,
    )


def dt_meter(gb_per_day: float) -> Meter:
    """Inter-AZ data transfer of an instance."""
    return traffic_meter(
        "transfer",
        "dt",
        "dt.az",
        gb_per_day,
        "USE1-DataTransfer-Regional-Bytes",
        "GB",
        "$0.010 per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs",
    )


def ebs_volume(
    name: str,
    account: str,
    vtype: str,
    gib: int,
    *,
    team: str,
    env: str,
    tags: dict[str, str],
    attached_to: str | None,
    az: str = "us-east-1a",
    **kw: Any,
) -> Resource:
    """An EBS volume (``attached_to=None`` makes it unattached, state ``available``)."""
    meter = storage_meter(
        "ebs",
        None,
        float(gib),
        "EBS:VolumeUsage.{size}",
        "${price} per GB-month of General Purpose ({size}) provisioned storage",
    )
    return Resource(
        rid=hex_id("vol", f"{account}/{name}"),
        name=name,
        provider="aws",
        account=account,
        region="us-east-1",
        az=az,
        kind="volume",
        rtype="Volume",
        size=vtype,
        team=team,
        env=env,
        tags=tags,
        meters=(meter,),
        size_gib=Decimal(gib),
        state="in-use" if attached_to else "available",
        attached_to=attached_to,
        profile="volume" if attached_to else "unattached",
        **kw,
    )


def instance(
    name: str,
    account: str,
    size: str,
    *,
    team: str,
    env: str,
    tags: dict[str, str],
    root: tuple[str, int] = ("gp3", 50),
    az: str = "us-east-1a",
    burst: float | None = None,
    transfer_gb: float | None = None,
    **kw: Any,
) -> list[Resource]:
    """An EC2 instance with its root volume (which shares its tags and IaC address)."""
    meters = [hours_meter("ec2", burst=burst)]
    if transfer_gb:
        meters.append(dt_meter(transfer_gb))
    inst = Resource(
        rid=hex_id("i", f"{account}/{name}"),
        name=name,
        provider="aws",
        account=account,
        region="us-east-1",
        az=az,
        kind="instance",
        rtype="Virtual Machine",
        size=size,
        team=team,
        env=env,
        tags=tags,
        meters=tuple(meters),
        extra={"root": f"{root[0]}:{root[1]}"},
        **kw,
    )
    vol_kw = {k: kw[k] for k in ("created_days_ago", "iac_address", "iac_file") if k in kw}
    vol = ebs_volume(
        f"{name}-root",
        account,
        root[0],
        root[1],
        team=team,
        env=env,
        tags=tags,
        attached_to=inst.rid,
        az=az,
        **vol_kw,
    )
    if root[0] == "gp2":
        vol = replace(vol, waste="gp2-volume")
    return [inst, vol]
