"""Build src/costloop/data/pricing/aws_ec2.csv from an ec2instances.info snapshot.

Usage::

    .venv/bin/python scripts/build_pricing_catalog.py \
        [--source ../shared/data/ec2instances-info/opszero-app/instances.json] \
        [--out src/costloop/data/pricing/aws_ec2.csv]

The source is ``opszero-app/instances.json`` of vantage-sh/ec2instances.info (MIT,
(c) 2013 Garret Heaton): ``{"data": [{"instance-type", "arch", "memory", "vCPU", "GPU",
"GPU_memory", "current-generation", "region", "ondemand", "spot_avg"}, ...]}``, one
object per instance type and region. Prices are copied as decimal text, never through
binary floating point. The output is sorted, so rebuilding from the same snapshot gives
the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = (
    ROOT.parent / "shared" / "data" / "ec2instances-info" / "opszero-app" / "instances.json"
)
DEFAULT_OUT = ROOT / "src" / "costloop" / "data" / "pricing" / "aws_ec2.csv"

COLUMNS = (
    "instance_type",
    "region",
    "family",
    "size",
    "generation",
    "vcpu",
    "memory_gib",
    "gpu",
    "arch",
    "price_hour_linux_ondemand",
    "price_hour_spot_avg",
)


def price_text(raw: object) -> str:
    """Decimal text of a source price; zero or missing (not offered) becomes empty."""
    if raw is None or raw == "":
        return ""
    value = Decimal(str(raw))
    return "" if value == 0 else str(raw)


def number_text(raw: Decimal | int) -> str:
    """Plain decimal text without a useless fraction: 16.0 -> 16, 0.613 -> 0.613."""
    value = Decimal(raw)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def convert(records: list[dict[str, object]]) -> list[dict[str, str]]:
    """Map source records to catalog rows, one per (instance type, region).

    A few old types are listed twice per region, as ``i386`` and as ``x86_64`` with
    identical prices; the ``x86_64`` row is kept because it covers both.
    """
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for rec in records:
        instance_type = str(rec["instance-type"])
        region = str(rec["region"])
        arch = str(rec["arch"])
        family, _, size = instance_type.partition(".")
        key = (instance_type, region)
        if key in rows and arch == "i386":
            continue
        memory = rec["memory"]
        vcpu = rec["vCPU"]
        gpu = rec.get("GPU", 0)
        assert isinstance(memory, Decimal | int), memory
        assert isinstance(vcpu, int) and isinstance(gpu, int), (vcpu, gpu)
        rows[key] = {
            "instance_type": instance_type,
            "region": region,
            "family": family,
            "size": size,
            "generation": "current" if rec.get("current-generation") else "previous",
            "vcpu": str(vcpu),
            "memory_gib": number_text(memory),
            "gpu": str(gpu),
            "arch": "x86_64" if arch == "i386" else arch,
            "price_hour_linux_ondemand": price_text(rec.get("ondemand")),
            "price_hour_spot_avg": price_text(rec.get("spot_avg")),
        }
    return [rows[key] for key in sorted(rows)]


def main() -> None:
    """Read the snapshot, write the CSV and print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with args.source.open(encoding="utf-8") as f:
        records = json.load(f, parse_float=Decimal)["data"]
    rows = convert(records)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    types = len({r["instance_type"] for r in rows})
    regions = len({r["region"] for r in rows})
    size = args.out.stat().st_size
    print(f"wrote {len(rows)} rows ({types} types, {regions} regions, {size} bytes) to {args.out}")


if __name__ == "__main__":
    main()
