"""CUR 2.0 (AWS Data Exports): snake_case columns with ``product`` / ``resource_tags`` maps.

No public CUR 2.0 sample exists, so the reference CUR sample is rewritten in the
CUR 2.0 layout (Parquet with map columns, and CSV with the maps as JSON text) and must
convert to the same FOCUS totals as the legacy file.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import Cli

SAMPLE = Path(__file__).parents[2] / "fixtures/native/aws/sample-anonymous-aws-export-dataset.csv"
PROMOTED = {"product/region": "product_region_code", "product/sku": "product_sku"}


def _snake(name: str) -> str:
    group, _, rest = name.partition("/")
    snake = lambda s: re.sub(r"(?<!^)([A-Z])", r"_\1", s).lower()  # noqa: E731
    return f"{snake(group)}_{snake(rest)}"


def cur2_columns() -> dict[str, list[Any]]:
    """The sample in the CUR 2.0 layout: top-level columns plus map columns."""
    with SAMPLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols: dict[str, list[Any]] = {}
    product: list[list[tuple[str, str]]] = []
    tags: list[list[tuple[str, str]]] = []
    for i, row in enumerate(rows):
        entries = []
        for name, value in row.items():
            if name in PROMOTED:
                cols.setdefault(PROMOTED[name], []).append(value or None)
            elif name.startswith("product/"):
                if value:
                    entries.append((_snake(name)[len("product_") :], value))
            else:
                cols.setdefault(_snake(name), []).append(value or None)
        product.append(entries)
        tags.append([("user_cost_center", f"cc-{i % 3}")] if i % 2 else [])
    cols["product"] = product
    cols["resource_tags"] = tags
    return cols


def _totals(cli: Cli, tmp_path: Path, name: str, file: Path) -> dict[str, Any]:
    ws = tmp_path / name
    cli("init", ws)
    done = cli("ingest", "-w", ws, "--json", file)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert all(c["reconciled"] for c in out["reconciliation"])
    q = cli(
        "sql",
        "-w",
        ws,
        "--json",
        'SELECT count(*) AS n, sum("BilledCost") AS b, sum("EffectiveCost") AS e, '
        'sum("ListCost") AS l, count(DISTINCT "ServiceName") AS services, '
        'count(*) FILTER (WHERE "Tags" IS NOT NULL) AS tagged, '
        'count(*) FILTER (WHERE "RegionName" IS NOT NULL) AS located FROM charges',
    )
    rows: dict[str, Any] = json.loads(q.stdout)["rows"][0]
    return rows


@pytest.mark.parametrize("container", ["parquet", "csv"])
def test_cur2_layout_converts_like_the_legacy_report(
    cli: Cli, tmp_path: Path, container: str
) -> None:
    cols = cur2_columns()
    if container == "parquet":
        arrays = {
            k: pa.array(v, type=pa.map_(pa.string(), pa.string()))
            if k in ("product", "resource_tags")
            else pa.array(v, type=pa.string())
            for k, v in cols.items()
        }
        file = tmp_path / "cur2-00001.snappy.parquet"
        pq.write_table(pa.table(arrays), file)
    else:
        file = tmp_path / "cur2-00001.csv"
        names = list(cols)
        with file.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(names)
            for i in range(len(cols["product"])):
                w.writerow(
                    [
                        json.dumps(dict(cols[n][i]))
                        if n in ("product", "resource_tags")
                        else cols[n][i]
                        for n in names
                    ]
                )
    legacy = _totals(cli, tmp_path, "legacy", SAMPLE)
    cur2 = _totals(cli, tmp_path, "cur2", file)
    for k in ("n", "b", "e", "l", "services", "located"):
        assert cur2[k] == legacy[k], k
    assert legacy["tagged"] == 0 and cur2["tagged"] == 640
