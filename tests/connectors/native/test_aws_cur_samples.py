"""Every AWS CUR sample through the real CLI: totals reconcile with an independent sum.

The native totals are recomputed here with Python's csv module and Decimal, from the
AWS definitions (reference/cur_to_focus.md), independently of the SQL mapping.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Cli

FIXTURES = Path(__file__).parents[2] / "fixtures" / "native" / "aws"
Q = Decimal("1e-18")
D0 = Decimal(0)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _read(path: Path) -> list[dict[str, str]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    return [{_key(k): (v or "").strip() for k, v in r.items()} for r in reader]


def _dec(row: dict[str, str], name: str) -> Decimal | None:
    text = row.get(_key(name), "")
    return Decimal(text).quantize(Q, ROUND_HALF_UP) if text else None


def _amortized(row: dict[str, str], billed: Decimal) -> Decimal:
    lt = row.get(_key("lineItem/LineItemType"), "")
    d = lambda n: _dec(row, n) or D0  # noqa: E731
    return {
        "SavingsPlanCoveredUsage": d("savingsPlan/SavingsPlanEffectiveCost"),
        "SavingsPlanRecurringFee": d("savingsPlan/TotalCommitmentToDate")
        - d("savingsPlan/UsedCommitment"),
        "SavingsPlanNegation": D0,
        "SavingsPlanUpfrontFee": D0,
        "DiscountedUsage": d("reservation/EffectiveCost"),
        "RIFee": d("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod")
        + d("reservation/UnusedRecurringFee"),
    }.get(lt, D0 if lt == "Fee" and row.get(_key("reservation/ReservationARN")) else billed)


def native_totals(path: Path) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(payer, period YYYY-MM) → unblended / amortized / public on-demand totals."""
    out: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"BilledCost": D0, "EffectiveCost": D0, "ListCost": D0}
    )
    for row in _read(path):
        key = (row[_key("bill/PayerAccountId")], row[_key("bill/BillingPeriodStartDate")][:7])
        billed = _dec(row, "lineItem/UnblendedCost") or D0
        t = out[key]
        t["BilledCost"] += billed
        t["EffectiveCost"] += _amortized(row, billed)
        od = _dec(row, "pricing/publicOnDemandCost")
        t["ListCost"] += od if od is not None else billed
    return dict(out)


def ingest(cli: Cli, tmp_path: Path, sample: Path) -> tuple[int, dict[str, Any], str]:
    ws = tmp_path / "ws"
    assert cli("init", ws).returncode == 0
    done = cli("ingest", "-w", ws, "--json", sample)
    return done.returncode, (json.loads(done.stdout) if done.returncode == 0 else {}), done.stderr


SAMPLES = [
    ("sample-anonymous-aws-export-dataset.csv", 1281),
    ("koku/test_cur.csv", 629),
    ("koku/2023-06-01.csv", 4),
    ("koku/2022-07-01-alt-columns.csv", 2),
    ("koku/koku-local-1.csv.gz", 13380),
]


@pytest.mark.parametrize(("name", "rows"), SAMPLES)
def test_sample_reconciles_with_independent_native_totals(
    cli: Cli, tmp_path: Path, name: str, rows: int
) -> None:
    code, out, err = ingest(cli, tmp_path, FIXTURES / name)
    assert code == 0, err
    assert [f["format"] for f in out["files"]] == ["aws-cur"]
    assert sum(s["rows"] for s in out["loads"]) == rows
    expected = native_totals(FIXTURES / name)
    seen: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for check in out["reconciliation"]:
        assert check["reconciled"], check
        key = (check["billing_account_id"], check["billing_period_start"][:7])
        seen[key][check["focus_column"]] = Decimal(check["focus_total"])
        assert Decimal(check["native_total"]) == Decimal(check["focus_total"])
    assert seen == expected


def test_reference_sample_values_users_notice(cli: Cli, tmp_path: Path) -> None:
    code, _, err = ingest(cli, tmp_path, FIXTURES / "sample-anonymous-aws-export-dataset.csv")
    assert code == 0, err
    sql = cli(
        "sql",
        "-w",
        tmp_path / "ws",
        "--json",
        'SELECT "ChargeCategory" AS c, count(*) AS n, count(DISTINCT "ServiceCategory") AS k, '
        'count(*) FILTER (WHERE "ServiceSubcategory" IS NULL) AS nosub, '
        "count(*) FILTER (WHERE x_SourceRow IS NULL) AS nolineage "
        "FROM charges GROUP BY ALL ORDER BY c",
    )
    rows = {r["c"]: r for r in json.loads(sql.stdout)["rows"]}
    assert rows["Usage"]["n"] == 1269 and rows["Tax"]["n"] == 12
    assert all(r["nosub"] == 0 and r["nolineage"] == 0 for r in rows.values())


def test_misaligned_sample_fails_with_row_and_nothing_loaded(cli: Cli, tmp_path: Path) -> None:
    code, _, err = ingest(cli, tmp_path, FIXTURES / "koku" / "November-2023-None.csv")
    assert code == 2
    assert "November-2023-None.csv, row 6" in err and "194 fields" in err
    count = cli("sql", "-w", tmp_path / "ws", "--json", "SELECT count(*) AS n FROM charges")
    assert json.loads(count.stdout)["rows"] == [{"n": 0}]


def test_format_override_refuses_a_file_of_another_format(
    cli: Cli, tmp_path: Path, focus_sample: Path
) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    done = cli("ingest", "-w", ws, "--format", "aws-cur", focus_sample)
    assert done.returncode == 2
    assert "not a complete AWS CUR export: missing column(s) bill/PayerAccountId" in done.stderr
    unknown = cli("ingest", "-w", ws, "--format", "nope", focus_sample)
    assert unknown.returncode == 2 and "known formats: focus, aws-cur" in unknown.stderr
