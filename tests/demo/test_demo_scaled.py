"""The scaled generator: requested row count, FOCUS header, exact and varied rows."""

from __future__ import annotations

import csv
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import costloop.demo as demo
from costloop.core.focus import COLUMNS
from costloop.demo import generate_scaled
from costloop.demo.scaled import CHUNK_ROWS

PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d{1,10})?$")


def test_public_api() -> None:
    assert set(demo.__all__) == {
        "AppliedChange",
        "CloudAccount",
        "EstateManifest",
        "generate_estate",
        "generate_scaled",
        "simulate_next_month",
    }


def test_writes_the_requested_rows(tmp_path: Path) -> None:
    rows = CHUNK_ROWS + 1234  # more than one chunk
    out = tmp_path / "big.csv"
    assert generate_scaled(out, rows=rows, months=3) == rows
    lines = out.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header == [c.name for c in COLUMNS if c.since != "1.3"]
    assert len(lines) == rows + 1
    # Columns up to BillingPeriodStart never contain a comma: cheap period-order check.
    periods = [line.split(",", 8)[7] for line in lines[1:]]
    assert periods == sorted(periods) and len(set(periods)) == 3
    sample = [dict(zip(header, r, strict=True)) for r in csv.reader(lines[1::97])]
    assert len({r["BillingAccountId"] for r in sample}) >= 5
    committed = 0
    for row in sample:
        for name in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
            assert PLAIN_DECIMAL.match(row[name]), row[name]
        qty = Decimal(row["PricingQuantity"])
        assert Decimal(row["ListUnitPrice"]) * qty == Decimal(row["ListCost"])
        assert Decimal(row["ContractedUnitPrice"]) * qty == Decimal(row["ContractedCost"])
        if row["PricingCategory"] == "Committed":
            committed += 1
            assert Decimal(row["BilledCost"]) == 0 < Decimal(row["EffectiveCost"])
        else:
            assert row["BilledCost"] == row["EffectiveCost"] == row["ContractedCost"]
    assert 0 < committed < len(sample)


def test_scaled_output_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    generate_scaled(a, rows=5000, months=2)
    generate_scaled(b, rows=5000, months=2)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
