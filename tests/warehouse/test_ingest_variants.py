"""The same FOCUS data in every container and dialect costloop accepts loads the same."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costloop.warehouse.ingest import ingest_focus

Write = Callable[[Any, Path, list[dict[str, Any]]], Path]


def _plain(focus: Any, d: Path, rows: list) -> Path:
    return focus.csv(d / "bill.csv", rows)


def _gzip(focus: Any, d: Path, rows: list) -> Path:
    return focus.csv(d / "bill.csv.gz", rows)


def _gzip_members(focus: Any, d: Path, rows: list) -> Path:
    """Concatenated gzip members, as some exporters append to a file."""
    lines = focus.csv_text(rows).encode("utf-8").splitlines(keepends=True)
    path = d / "bill.csv.gz"
    path.write_bytes(gzip.compress(b"".join(lines[:10])) + gzip.compress(b"".join(lines[10:])))
    return path


def _bom(focus: Any, d: Path, rows: list) -> Path:
    return focus.csv(d / "bill.csv", rows, bom=True)


def _crlf(focus: Any, d: Path, rows: list) -> Path:
    return focus.csv(d / "bill.csv", rows, newline="\r\n")


def _null_strings(focus: Any, d: Path, rows: list) -> Path:
    return focus.csv(d / "bill.csv", rows, null="NULL")


def _parquet_strings(focus: Any, d: Path, rows: list) -> Path:
    return focus.parquet(d / "bill.parquet", rows)


def _parquet_typed(focus: Any, d: Path, rows: list) -> Path:
    """Decimal, float and UTC timestamp columns, as real exports write them."""
    from datetime import datetime

    def col(name: str, kind: pa.DataType, conv: Callable[[str], Any]) -> pa.Array:
        return pa.array([None if r[name] is None else conv(r[name]) for r in rows], kind)

    when = pa.timestamp("ms", tz="UTC")
    table = pa.table(
        {
            name: col(name, pa.decimal128(38, 10), Decimal)
            if name in ("BilledCost", "EffectiveCost")
            else col(name, pa.float64(), float)
            if name in ("ListCost", "ContractedCost", "PricingQuantity", "ConsumedQuantity")
            else col(name, when, datetime.fromisoformat)
            if name.endswith(("PeriodStart", "PeriodEnd"))
            else col(name, pa.string(), str)
            for name in focus.HEADER
        }
    )
    path = d / "typed.parquet"
    pq.write_table(table, path)
    return path


def _space_datetimes(focus: Any, d: Path, rows: list) -> Path:
    """``2024-09-01 00:00:00`` instead of ``2024-09-01T00:00:00Z`` (the FOCUS 1.0 sample's)."""
    for r in rows:
        for c in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
            r[c] = r[c].replace("T", " ").removesuffix("Z")
    return focus.csv(d / "bill.csv", rows)


def _multiline_fields(focus: Any, d: Path, rows: list) -> Path:
    for r in rows[::5]:
        r["ChargeDescription"] = 'line one,\nline "two"'
    return focus.csv(d / "bill.csv", rows)


def _folder(focus: Any, d: Path, rows: list) -> Path:
    """A folder tree mixing CSV, gzip and Parquet, plus a file that is not data."""
    folder = d / "exports"
    (folder / "2024" / "10").mkdir(parents=True)
    third = len(rows) // 3
    focus.csv(folder / "a.csv", rows[:third])
    focus.csv(folder / "2024" / "b.csv.gz", rows[third : 2 * third])
    focus.parquet(folder / "2024" / "10" / "c.parquet", rows[2 * third :])
    (folder / "README.txt").write_text("not billing data\n")
    return folder


VARIANTS: dict[str, Write] = {
    "csv": _plain,
    "gzip": _gzip,
    "gzip-members": _gzip_members,
    "utf8-bom": _bom,
    "crlf": _crlf,
    "literal-NULL": _null_strings,
    "parquet-strings": _parquet_strings,
    "parquet-typed": _parquet_typed,
    "datetimes-without-T-and-Z": _space_datetimes,
    "quoted-newlines": _multiline_fields,
    "folder": _folder,
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One warehouse for all variants: each loads under its own source, its own slices."""
    from costloop.warehouse import Lake, LakePaths

    root = tmp_path_factory.mktemp("variants")
    lake = Lake(LakePaths(root / ".costloop"))
    lake.create()
    return root, lake


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_loads_with_equal_totals(
    variant: str, focus: Any, shared: tuple[Path, Any], tmp_path: Path, lake_sql: Any
) -> None:
    root, lake = shared
    rows = focus.rows()
    expected = focus.totals(rows)
    path = VARIANTS[variant](focus, tmp_path, [dict(r) for r in rows])

    result = ingest_focus(lake, [path], source=variant)

    assert result.rows == expected.rows == 24
    assert {(s.billing_account_id, f"{s.billing_period_start:%Y-%m}") for s in result.slices} == (
        set(expected.slices)
    )
    assert all(s.reconciled for s in result.slices)
    assert result.issues == []
    mine = f"FROM charges WHERE x_SourceName = '{variant}'"
    [stored], per_slice = lake_sql(
        root,
        "SELECT count(*) AS n, sum(BilledCost) AS billed, sum(EffectiveCost) AS effective, "
        "list(DISTINCT x_FocusVersion) AS versions, "
        "count(*) FILTER (WHERE ChargePeriodStart < BillingPeriodStart "
        f"OR ChargePeriodStart >= BillingPeriodEnd) AS outside {mine}",
        "SELECT BillingAccountId AS a, strftime(BillingPeriodStart, '%Y-%m') AS m, "
        f"count(*) AS n, sum(BilledCost) AS billed {mine} GROUP BY ALL",
    )
    assert (stored["n"], stored["billed"], stored["effective"]) == (
        expected.rows,
        expected.billed,
        expected.effective,
    )
    assert stored["versions"] == ["1.2"]
    assert stored["outside"] == 0
    assert {(r["a"], r["m"]): (r["n"], r["billed"]) for r in per_slice} == expected.slices


def test_lineage_counts_data_rows_not_physical_lines(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()
    path = _multiline_fields(focus, tmp_path, [dict(r) for r in rows])
    ingest_focus(lake, [path])
    stored = lake_sql(tmp_path, "SELECT x_SourceRow, ResourceId FROM charges ORDER BY 1")
    assert [(r["x_SourceRow"], r["ResourceId"]) for r in stored] == [
        (i, r["ResourceId"]) for i, r in enumerate(rows, start=1)
    ]


def test_lower_case_enumerations_are_canonicalized(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()
    for r in rows:
        r.update(ChargeCategory="usage", ChargeFrequency="usage-based", ServiceCategory="COMPUTE")
    result = ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows)])
    assert result.issues == []
    values = lake_sql(
        tmp_path,
        "SELECT DISTINCT ChargeCategory AS c, ChargeFrequency AS f, ServiceCategory AS s "
        "FROM charges",
    )
    assert values == [{"c": "Usage", "f": "Usage-Based", "s": "Compute"}]


def test_focus_1_3_provider_columns(focus: Any, lake: Any, tmp_path: Path, lake_sql: Any) -> None:
    """A 1.3 file names providers only with ServiceProviderName / HostProviderName."""
    rows = focus.rows()
    for r in rows:
        r["ServiceProviderName"] = r.pop("ProviderName")
        r["HostProviderName"] = "Equinix"
        del r["PublisherName"]
    header = [c for c in focus.HEADER if c not in ("ProviderName", "PublisherName")]
    header += ["ServiceProviderName", "HostProviderName"]

    result = ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows, header)])

    assert result.files[0].plan.version == "1.3"
    assert result.issues == []
    assert result.rows == 24
    values = lake_sql(
        tmp_path,
        "SELECT DISTINCT ServiceProviderName, HostProviderName, ProviderName, PublisherName, "
        "x_FocusVersion FROM charges",
    )
    # The deprecated 1.2 columns are filled from ServiceProviderName so 1.2 queries work.
    assert values == [
        {
            "ServiceProviderName": "AWS",
            "HostProviderName": "Equinix",
            "ProviderName": "AWS",
            "PublisherName": "AWS",
            "x_FocusVersion": "1.3",
        }
    ]


def test_focus_1_0_preview_names_are_renamed(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()
    for r in rows:
        r["AmortizedCost"] = r.pop("EffectiveCost")
        r["Region"] = r.pop("RegionId")
    old_names = {"EffectiveCost": "AmortizedCost", "RegionId": "Region"}
    header = [old_names.get(c, c) for c in focus.HEADER]

    result = ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows, header)])

    assert result.files[0].plan.renamed == {
        "AmortizedCost": "EffectiveCost",
        "Region": "RegionId",
    }
    (stored,) = lake_sql(
        tmp_path, "SELECT sum(EffectiveCost) AS e, list(DISTINCT RegionId) AS r FROM charges"
    )
    assert stored == {"e": sum(Decimal(r["AmortizedCost"]) for r in rows), "r": ["us-east-1"]}


def test_unknown_columns_become_x_columns(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()
    for i, r in enumerate(rows):
        r["cost center"] = f"cc-{i % 2}"
        r["x_Team"] = "core"
    header = [*focus.HEADER, "cost center", "x_Team"]
    ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows, header)])
    stored = lake_sql(tmp_path, 'SELECT DISTINCT "x_cost_center", "x_Team" FROM charges ORDER BY 1')
    assert stored == [
        {"x_cost_center": "cc-0", "x_Team": "core"},
        {"x_cost_center": "cc-1", "x_Team": "core"},
    ]


def test_an_export_of_charges_loads_again_with_its_lineage_kept(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any, cli: Any
) -> None:
    rows = focus.rows()
    ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows)])
    export = cli("sql", "SELECT * FROM charges", "--csv", "-w", tmp_path)
    assert export.returncode == 0, export.stderr
    (tmp_path / "export.csv").write_text(export.stdout, encoding="utf-8")

    again = ingest_focus(lake, [tmp_path / "export.csv"], source="re-export")

    assert again.rows == 24
    sums = lake_sql(
        tmp_path,
        "SELECT x_SourceName AS s, sum(BilledCost) AS billed, "
        "list(DISTINCT x_SourceFile_) FILTER (WHERE x_SourceFile_ IS NOT NULL) AS origin "
        "FROM charges GROUP BY s ORDER BY s",
    )
    billed = focus.totals(rows).billed
    assert sums == [
        {"s": "default", "billed": billed, "origin": None},
        {"s": "re-export", "billed": billed, "origin": [str(tmp_path / "bill.csv")]},
    ]


def test_extra_columns_differing_only_in_case_share_a_column(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()
    for i, r in enumerate(rows):
        r["Id"] = r["ID"] = str(i)
    ingest_focus(lake, [focus.csv(tmp_path / "a.csv", rows, [*focus.HEADER, "Id"])], source="a")
    ingest_focus(lake, [focus.csv(tmp_path / "b.csv", rows, [*focus.HEADER, "ID"])], source="b")

    counts = lake_sql(
        tmp_path, "SELECT x_SourceName AS s, count(x_Id) AS ids FROM charges GROUP BY s ORDER BY s"
    )
    assert counts == [{"s": "a", "ids": 24}, {"s": "b", "ids": 24}]


def test_tag_keys_are_trimmed_and_lower_cased_first_wins(
    focus: Any, lake: Any, tmp_path: Path, lake_sql: Any
) -> None:
    rows = focus.rows()[:4]
    tags = [
        '{"Team": "core", " Env ": "prod", "team": "other"}',
        '{"team": "core", "n": 3, "nested": {"a": 1}}',
        "{}",
        None,
    ]
    for row, value in zip(rows, tags, strict=True):
        row["Tags"] = value
    ingest_focus(lake, [focus.csv(tmp_path / "bill.csv", rows)])
    stored = lake_sql(
        tmp_path, "SELECT Tags, x_TagsNormalized AS t FROM charges ORDER BY x_SourceRow"
    )
    assert [r["t"] for r in stored] == [
        {"team": "core", "env": "prod"},
        {"team": "core", "n": "3", "nested": '{"a":1}'},
        {},
        {},
    ]
    assert [r["Tags"] for r in stored] == tags  # the original text is kept as it was
