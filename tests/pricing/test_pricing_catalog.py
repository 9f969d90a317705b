"""The shipped pricing catalog: exact prices from the source snapshot, size ordering."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from costloop.core.errors import NotFoundError
from costloop.pricing import HOURS_PER_MONTH, InstanceSpec, PricingCatalog, UnitPrice

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "costloop" / "data" / "pricing"
SOURCE = ROOT.parent / "shared" / "data" / "ec2instances-info" / "opszero-app" / "instances.json"


@pytest.fixture(scope="module")
def catalog() -> PricingCatalog:
    return PricingCatalog.load_default()


def test_known_price_and_shape(catalog: PricingCatalog) -> None:
    spec = catalog.instance("m5.xlarge", "us-east-1")
    assert spec.hourly_price == Decimal("0.192")  # source: "ondemand": "0.192"
    assert spec.spot_hourly_avg == Decimal("0.071040")
    assert (spec.family, spec.size, spec.generation, spec.arch) == (
        "m5",
        "xlarge",
        "current",
        "x86_64",
    )
    assert (spec.vcpu, spec.memory_gib, spec.gpu) == (4, Decimal(16), 0)
    assert spec.monthly_price == Decimal("140.160")
    assert HOURS_PER_MONTH == 730


def test_money_and_memory_are_decimal(catalog: PricingCatalog) -> None:
    spec = catalog.instance("t2.nano", "us-east-1")
    assert type(spec.hourly_price) is Decimal
    assert type(spec.memory_gib) is Decimal and spec.memory_gib == Decimal("0.5")
    assert type(catalog.volume_price_gb_month("gp3", "us-east-1")) is Decimal
    assert type(catalog.eip_hour("us-east-1")) is Decimal


def test_load_default_is_cached(catalog: PricingCatalog) -> None:
    assert PricingCatalog.load_default() is catalog
    assert len(catalog) > 13_000


def test_smaller_sizes_same_family_and_arch_smallest_first(catalog: PricingCatalog) -> None:
    smaller = catalog.smaller_sizes("m5.4xlarge", "us-east-1")
    assert [s.instance_type for s in smaller] == ["m5.large", "m5.xlarge", "m5.2xlarge"]
    assert [s.hourly_price for s in smaller] == [
        Decimal("0.096"),
        Decimal("0.192"),
        Decimal("0.384"),
    ]
    graviton = catalog.smaller_sizes("m6g.xlarge", "us-east-1")
    assert [s.instance_type for s in graviton] == ["m6g.medium", "m6g.large"]
    assert {s.arch for s in graviton} == {"arm64"}


def test_smaller_sizes_orders_by_memory_when_vcpus_tie(catalog: PricingCatalog) -> None:
    smaller = catalog.smaller_sizes("t3.large", "us-east-1")
    assert [s.instance_type for s in smaller] == ["t3.nano", "t3.micro", "t3.small", "t3.medium"]


def test_smaller_sizes_skip_metal_and_unpriced(catalog: PricingCatalog) -> None:
    assert catalog.smaller_sizes("m5.large", "us-east-1") == []
    below_metal = catalog.smaller_sizes("m5.metal", "us-east-1")
    assert "m5.24xlarge" not in [s.instance_type for s in below_metal]  # same vCPU and memory
    assert all(not s.is_metal for s in below_metal)
    assert catalog.instance("p5.48xlarge", "us-east-1").hourly_price is None


def test_unknown_type_or_region(catalog: PricingCatalog) -> None:
    with pytest.raises(NotFoundError, match=r"m5\.huge"):
        catalog.instance("m5.huge", "us-east-1")
    with pytest.raises(NotFoundError, match="mars-1"):
        catalog.smaller_sizes("m5.xlarge", "mars-1")
    with pytest.raises(NotFoundError, match="premium"):
        catalog.volume_price_gb_month("premium", "us-east-1")


def test_volume_and_ip_prices(catalog: PricingCatalog) -> None:
    prices = {t: catalog.volume_price_gb_month(t, "us-east-1") for t in ("gp2", "gp3", "io1")}
    assert prices == {"gp2": Decimal("0.10"), "gp3": Decimal("0.08"), "io1": Decimal("0.125")}
    assert catalog.volume_price_gb_month("ST1", "us-east-1") == Decimal("0.045")
    assert catalog.volume_price_gb_month("sc1", "us-east-1") == Decimal("0.015")
    assert catalog.eip_hour("us-east-1") == Decimal("0.005")
    # Regions without their own row use the reference region, and say so.
    assert catalog.unit_price("ebs", "gp2", "eu-west-1").region == "us-east-1"


def test_small_catalog_from_parts() -> None:
    spec = InstanceSpec(
        "x1.big", "r", "x1", "big", "current", 4, Decimal(8), 0, "arm64", Decimal("0.5")
    )
    catalog = PricingCatalog([spec], [UnitPrice("ebs", "gp3", "r", "GB-month", Decimal("1"))])
    assert catalog.instance("x1.big", "r") is spec
    assert catalog.volume_price_gb_month("gp3", "r") == 1


def test_shipped_csv_is_small_and_exact() -> None:
    path = DATA / "aws_ec2.csv"
    assert path.stat().st_size < 1_500_000
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keys = [(r["instance_type"], r["region"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys)
    assert (DATA / "NOTICE.md").read_text(encoding="utf-8").count("Garret Heaton") >= 1


@pytest.mark.skipif(not SOURCE.exists(), reason="source snapshot not available")
def test_build_script_reproduces_shipped_csv(tmp_path: Path) -> None:
    out = tmp_path / "aws_ec2.csv"
    script = ROOT / "scripts" / "build_pricing_catalog.py"
    cmd = [sys.executable, str(script), "--source", str(SOURCE), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_bytes() == (DATA / "aws_ec2.csv").read_bytes()
    source = json.loads(SOURCE.read_text(encoding="utf-8"))["data"]
    m5 = next(r for r in source if r["instance-type"] == "m5.xlarge" and r["region"] == "us-east-1")
    assert m5["ondemand"] == "0.192"
