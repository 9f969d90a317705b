"""Offline AWS list prices: EC2 instance types per region, EBS volumes and idle IPs."""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from costloop.core.errors import NotFoundError

__all__ = [
    "HOURS_PER_MONTH",
    "REFERENCE_REGION",
    "InstanceSpec",
    "PricingCatalog",
    "UnitPrice",
    "parse_instances",
    "parse_unit_prices",
]

HOURS_PER_MONTH = Decimal(730)
"""Hours in an average month (8,760 h a year / 12), the convention of AWS price pages."""

REFERENCE_REGION = "us-east-1"
"""Region whose unit price stands in where a region has no row of its own."""

_DATA_PACKAGE = "costloop"
_EC2_FILE = ("data", "pricing", "aws_ec2.csv")
_UNIT_FILE = ("data", "pricing", "aws_ebs_eip.csv")


@dataclass(frozen=True)
class InstanceSpec:
    """One EC2 instance type in one region, with its Linux on-demand price.

    Attributes:
        instance_type: e.g. ``m5.2xlarge``.
        region: AWS region code (or local zone), e.g. ``us-east-1``.
        family: the part before the dot, e.g. ``m5``.
        size: the part after the dot, e.g. ``2xlarge``.
        generation: ``current`` or ``previous``.
        vcpu: number of vCPUs.
        memory_gib: memory in GiB.
        gpu: number of GPUs.
        arch: ``x86_64`` or ``arm64``.
        hourly_price: Linux on-demand USD per hour; None when the source lists no price.
        spot_hourly_avg: average Spot USD per hour, when the source has one.
    """

    instance_type: str
    region: str
    family: str
    size: str
    generation: str
    vcpu: int
    memory_gib: Decimal
    gpu: int
    arch: str
    hourly_price: Decimal | None
    spot_hourly_avg: Decimal | None = None

    @property
    def monthly_price(self) -> Decimal | None:
        """On-demand price for ``HOURS_PER_MONTH`` hours (unrounded)."""
        return None if self.hourly_price is None else self.hourly_price * HOURS_PER_MONTH

    @property
    def is_metal(self) -> bool:
        """Bare-metal sizes (``metal``, ``metal-24xl``) are never rightsizing targets."""
        return self.size.startswith("metal")

    def size_key(self) -> tuple[int, Decimal, str]:
        """Sort key ordering sizes of one family from smallest to largest."""
        return (self.vcpu, self.memory_gib, self.instance_type)


@dataclass(frozen=True)
class UnitPrice:
    """A list price per unit, e.g. EBS gp3 per GB-month or an idle IP per hour."""

    service: str
    item: str
    region: str
    unit: str
    price: Decimal


def _optional_decimal(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def parse_instances(lines: Iterable[str]) -> list[InstanceSpec]:
    """Parse the catalog CSV (``aws_ec2.csv`` format) into specs; prices stay exact."""
    return [
        InstanceSpec(
            instance_type=row["instance_type"],
            region=row["region"],
            family=row["family"],
            size=row["size"],
            generation=row["generation"],
            vcpu=int(row["vcpu"]),
            memory_gib=Decimal(row["memory_gib"]),
            gpu=int(row.get("gpu") or 0),
            arch=row["arch"],
            hourly_price=_optional_decimal(row["price_hour_linux_ondemand"]),
            spot_hourly_avg=_optional_decimal(row.get("price_hour_spot_avg") or ""),
        )
        for row in csv.DictReader(lines)
    ]


def parse_unit_prices(lines: Iterable[str]) -> list[UnitPrice]:
    """Parse the unit price CSV (``aws_ebs_eip.csv`` format)."""
    return [
        UnitPrice(
            service=row["service"],
            item=row["item"].lower(),
            region=row["region"],
            unit=row["unit"],
            price=Decimal(row["price_usd"]),
        )
        for row in csv.DictReader(lines)
    ]


class PricingCatalog:
    """Lookups over instance specs and unit prices; all money is Decimal USD.

    Args:
        instances: instance specs, at most one per (instance type, region).
        unit_prices: EBS and Elastic IP unit prices.
    """

    currency = "USD"

    def __init__(self, instances: Iterable[InstanceSpec], unit_prices: Iterable[UnitPrice]) -> None:
        self._instances: dict[tuple[str, str], InstanceSpec] = {}
        families: defaultdict[tuple[str, str, str], list[InstanceSpec]] = defaultdict(list)
        for spec in instances:
            self._instances[spec.instance_type, spec.region] = spec
            families[spec.family, spec.arch, spec.region].append(spec)
        self._families = {key: sorted(v, key=InstanceSpec.size_key) for key, v in families.items()}
        self._units = {(u.service, u.item, u.region): u for u in unit_prices}

    @classmethod
    def load_default(cls) -> PricingCatalog:
        """The catalog shipped with costloop (no network); parsed once, then cached."""
        return _default_catalog()

    def __len__(self) -> int:
        return len(self._instances)

    def instance(self, instance_type: str, region: str) -> InstanceSpec:
        """The spec of ``instance_type`` in ``region``; NotFoundError when not listed."""
        try:
            return self._instances[instance_type, region]
        except KeyError:
            raise NotFoundError(
                f"no price for instance type {instance_type!r} in region {region!r}"
            ) from None

    def smaller_sizes(self, instance_type: str, region: str) -> list[InstanceSpec]:
        """Priced sizes of the same family and architecture, smaller than ``instance_type``.

        "Smaller" means no more vCPUs and no more memory, and not both equal. Bare-metal
        sizes are left out. The result is ordered from the smallest size up.
        """
        current = self.instance(instance_type, region)
        return [
            spec
            for spec in self._families[current.family, current.arch, region]
            if spec.hourly_price is not None
            and not spec.is_metal
            and spec.vcpu <= current.vcpu
            and spec.memory_gib <= current.memory_gib
            and (spec.vcpu, spec.memory_gib) != (current.vcpu, current.memory_gib)
        ]

    def unit_price(self, service: str, item: str, region: str) -> UnitPrice:
        """The unit price for ``region``, else for ``REFERENCE_REGION``.

        The returned row's ``region`` tells which one was used.
        """
        key = item.lower()
        for where in (region, REFERENCE_REGION):
            found = self._units.get((service, key, where))
            if found is not None:
                return found
        raise NotFoundError(f"no {service} price for {item!r} in region {region!r}")

    def volume_price_gb_month(self, volume_type: str, region: str) -> Decimal:
        """EBS storage price per GB-month of ``volume_type`` (gp2, gp3, io1, st1, sc1...).

        Provisioned IOPS and throughput are not included.
        """
        return self.unit_price("ebs", volume_type, region).price

    def eip_hour(self, region: str) -> Decimal:
        """Price per hour of an Elastic IP address that is not associated."""
        return self.unit_price("eip", "idle", region).price


@functools.cache
def _default_catalog() -> PricingCatalog:
    root = resources.files(_DATA_PACKAGE)
    ec2 = root.joinpath(*_EC2_FILE).read_text(encoding="utf-8")
    units = root.joinpath(*_UNIT_FILE).read_text(encoding="utf-8")
    return PricingCatalog(parse_instances(ec2.splitlines()), parse_unit_prices(units.splitlines()))
