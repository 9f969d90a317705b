"""AWS Data Exports' FOCUS tables (FOCUS_1_0_AWS, FOCUS_1_2_AWS) ingest as FOCUS.

AWS adds five provider columns (x_CostCategories, x_Discounts, x_Operation,
x_ServiceCode, x_UsageType). No public sample of these exports exists; the AWS rows of
the FOCUS 1.0 sample are rewritten in the FOCUS_1_2_AWS shape for the test.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import Cli

AWS_X = ("x_CostCategories", "x_Discounts", "x_Operation", "x_ServiceCode", "x_UsageType")


def _aws_rows(focus_sample: Path) -> tuple[list[str], list[dict[str, str]]]:
    with focus_sample.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r["ProviderName"] == "AWS"]
        return list(reader.fieldnames or []), rows


@pytest.mark.parametrize("version", ["1.0", "1.2"])
def test_aws_focus_export_keeps_its_provider_columns(
    cli: Cli, tmp_path: Path, focus_sample: Path, version: str
) -> None:
    header, rows = _aws_rows(focus_sample)
    header = [h for h in header if h != "Id"] + list(AWS_X)
    if version == "1.2":
        header += ["InvoiceId", "ServiceSubcategory", "PricingCurrency"]
    file = tmp_path / f"FOCUS_{version.replace('.', '_')}_AWS-00001.csv"
    with file.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, extrasaction="ignore")
        w.writeheader()
        for i, r in enumerate(rows):
            r.update(
                x_CostCategories=json.dumps({"team": f"t{i % 2}"}),
                x_Discounts="{}",
                x_Operation="RunInstances",
                x_ServiceCode="AmazonEC2",
                x_UsageType="BoxUsage:m5.large",
                InvoiceId="INV-1",
                ServiceSubcategory="Other (Compute)",
                PricingCurrency="USD",
            )
            w.writerow(r)
    ws = tmp_path / "ws"
    cli("init", ws)
    done = cli("ingest", "-w", ws, "--json", file)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [(f["format"], f["focus_version"]) for f in out["files"]] == [("focus", version)]
    assert out["reconciliation"] == []
    q = cli(
        "sql",
        "-w",
        ws,
        "--json",
        'SELECT count(*) AS n, sum("BilledCost") AS billed, '
        "count(DISTINCT x_CostCategories) AS cats, min(x_ServiceCode) AS code FROM charges",
    )
    got = json.loads(q.stdout)["rows"][0]
    assert got["n"] == len(rows) == 942
    assert Decimal(got["billed"]) == sum(Decimal(r["BilledCost"]) for r in rows)
    assert (got["cats"], got["code"]) == (2, "AmazonEC2")
