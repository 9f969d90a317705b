"""OpenCost / Kubecost exports: detection, exact parsing of both formats, bad input."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costloop.connectors.opencost import is_opencost, opencost_kind, read_opencost
from costloop.core.errors import InputError

FIXTURES = Path(__file__).parents[1] / "fixtures"
OPENCOST = FIXTURES / "opencost"
DAILY = OPENCOST / "allocation-namespace-daily.json"
CONTROLLER = OPENCOST / "allocation-namespace-controller.json"
EXPORT = OPENCOST / "opencost-export.csv"
HEADER = (
    "Date,Namespace,ControllerKind,ControllerName,Pod,Container,CPUCoreUsageAverage,"
    "CPUCoreRequestAverage,RAMBytesUsageAverage,RAMBytesRequestAverage,NetworkReceiveBytes,"
    "NetworkTransferBytes,GPUs,PVBytes,CPUCost,RAMCost,NetworkCost,PVCost,GPUCost,TotalCost"
)


def _rows(path: Path, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = read_opencost(path, **kw).to_pylist()
    return rows


def _by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], Decimal]:
    out: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for r in rows:
        out[tuple(r[k] for k in keys)] += r["total_cost"]
    return dict(out)


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DAILY.read_text(), parse_float=Decimal)
    return doc


def _write_doc(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, default=str, indent=1))
    return path


def test_api_response_is_parsed_exactly_per_window_and_namespace() -> None:
    rows = _rows(DAILY)
    assert len(rows) == 13
    day = {d: datetime(2026, 10, d) for d in (1, 2, 3)}
    totals = _by(rows, "window_start", "namespace")
    # Hand sums of cpu + ram + pv + network + load balancer (see the fixture's NOTICE.md).
    assert totals[(day[1], "checkout")] == Decimal("7.795423")  # 4.812345+2.104411+...+0.6
    assert totals[(day[2], "__unmounted__")] == Decimal("0.4")
    assert totals[(day[3], "checkout")] == Decimal("8.006682")  # networkCost 1.5e-05
    per_window = _by(rows, "window_start")
    assert per_window == {
        (day[1],): Decimal("18.234256"),
        (day[2],): Decimal("18.4549"),
        (day[3],): Decimal("18.201315"),
    }
    assert sum(per_window.values()) == Decimal("54.890471")
    checkout3 = next(
        r for r in rows if r["window_start"] == day[3] and r["namespace"] == "checkout"
    )
    assert checkout3["network_cost"] == Decimal("0.000015")
    assert checkout3["cpu_cost"] == Decimal("4.99") and checkout3["ram_cost"] == Decimal("2.15")
    assert checkout3["pv_cost"] == Decimal("0.266667") and checkout3["gpu_cost"] == 0
    assert {r["cluster"] for r in rows} == {"prod-east"}
    assert all(r["window_end"] - r["window_start"] == day[2] - day[1] for r in rows)


def test_special_allocations_keep_their_names_as_namespace() -> None:
    rows = _rows(DAILY)
    idle = [r for r in rows if r["namespace"] == "__idle__"]
    assert [r["total_cost"] for r in idle] == [Decimal("4.59"), Decimal("4.22"), Decimal("4.44")]
    assert {r["namespace"] for r in rows} == {
        "checkout",
        "catalog",
        "kube-system",
        "__idle__",
        "__unmounted__",
    }


def test_source_row_is_the_allocation_position_over_all_windows() -> None:
    rows = _rows(DAILY)
    assert [r["source_row"] for r in rows] == list(range(1, 14))
    unmounted = next(r for r in rows if r["namespace"] == "__unmounted__")
    assert unmounted["source_row"] == 8  # 4 allocations in window 1, 4th of window 2
    assert {r["source_file"] for r in rows} == {str(DAILY)}


def test_finer_aggregation_sums_to_the_namespace_totals() -> None:
    rows = _rows(CONTROLLER)
    assert len(rows) == 7
    assert _by(rows, "namespace") == {
        ("checkout",): Decimal("7.195423"),  # 5.182423 + 2.013
        ("catalog",): Decimal("5.087333"),  # 4.2535 + 0.833833, as in the daily file
        ("kube-system",): Decimal("0.7615"),  # 0.411 + 0.3505
        ("__idle__",): Decimal("4.59"),
    }


def test_csv_export_rows_with_cluster_from_the_option() -> None:
    rows = _rows(EXPORT)
    assert len(rows) == 10 and {r["cluster"] for r in rows} == {None}
    day1, day2 = datetime(2026, 10, 1), datetime(2026, 10, 2)
    assert _by(rows, "window_start", "namespace") == {
        (day1, "checkout"): Decimal("7.195467"),  # 2 x 2.5912335 + 2.013
        (day1, "catalog"): Decimal("4.2535"),
        (day1, "kube-system"): Decimal("0.411"),
        (day2, "checkout"): Decimal("4.6328335"),
        (day2, "catalog"): Decimal("4.2533"),
        (day2, "__unallocated__"): Decimal("0.2666667"),  # empty Namespace
    }
    assert sum(r["total_cost"] for r in rows) == Decimal("21.0127672")
    assert rows[0]["pv_cost"] == Decimal("0.1333335") and rows[0]["source_row"] == 1
    assert {r["cluster"] for r in _rows(EXPORT, cluster="prod-east")} == {"prod-east"}


def test_csv_with_labels_and_cluster_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    header = HEADER.replace("Container,", "Container,Labels,").replace("Date,", "Date,Cluster,")
    path.write_text(
        header + "\n"
        '2026-10-01,east,checkout,deployment,api,api-1,api,"{""app"":""api"",""tier"":""web""}",'
        "1,2,3,4,5,6,0,0,1.25,0.5,0.01,0,0,1.76\n"
        '2026-10-01,,search,statefulset,es,es-0,es,"",1,2,3,4,5,6,0,0,2,1,0,0.3,0,3.3\n'
    )
    rows = _rows(path, cluster="fallback")
    assert [(r["cluster"], r["namespace"], r["total_cost"]) for r in rows] == [
        ("east", "checkout", Decimal("1.76")),
        ("fallback", "search", Decimal("3.3")),
    ]


def test_gzipped_api_response_and_utc_offsets(tmp_path: Path) -> None:
    doc = _doc()
    first = doc["data"][0]["checkout"]
    first["window"] = {"start": "2026-10-01T02:00:00+02:00", "end": "2026-10-02T02:00:00+02:00"}
    del first["properties"]["cluster"]
    path = tmp_path / "alloc.json.gz"
    path.write_bytes(gzip.compress(json.dumps(doc, default=str).encode()))
    rows = _rows(path, cluster="from-option")
    assert rows[0]["window_start"] == datetime(2026, 10, 1)
    assert rows[0]["cluster"] == "from-option" and rows[1]["cluster"] == "prod-east"
    assert sum(r["total_cost"] for r in rows) == Decimal("54.890471")


def test_detection_claims_opencost_files_only(tmp_path: Path) -> None:
    assert opencost_kind(DAILY) == "api" and opencost_kind(CONTROLLER) == "api"
    assert opencost_kind(EXPORT) == "csv"
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(json.loads(DAILY.read_text())))  # curl's one-line output
    assert is_opencost(compact)
    others = [p for p in FIXTURES.rglob("*") if p.is_file() and p.parent.name != "opencost"]
    assert len(others) > 20
    assert [p for p in others if is_opencost(p)] == []  # FOCUS, CUR, Azure, GCP, OCI files
    metrics = tmp_path / "orders.csv"
    metrics.write_text("date,metric,value\n2026-10-01,orders,12\n")
    jsonl = tmp_path / "bill.jsonl"
    jsonl.write_text('{"data": {"cost": 1}}\n{"data": {"cost": 2}}\n')
    listed = tmp_path / "list.json"
    listed.write_text('{"data": [1, 2]}')
    assert not any(is_opencost(p) for p in (metrics, jsonl, listed, tmp_path / "missing.json"))


def _broken(tmp_path: Path, change: Any) -> Path:
    doc = _doc()
    change(doc)
    return _write_doc(tmp_path / "broken.json", doc)


def _set(window: int, name: str, key: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["data"][window][name][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "row", "column", "words"),
    [
        (_set(1, "catalog", "totalCost", "12,5"), 6, "totalCost", "window 2, allocation 'catalog'"),
        (_set(2, "__idle__", "cpuCost", "NaN"), 13, "cpuCost", "not a finite number"),
        (_set(0, "kube-system", "totalCost", None), 3, "totalCost", "no totalCost"),
        (_set(0, "checkout", "window", {"start": "2026-10-01"}), 1, "window.end", "missing"),
        (
            _set(1, "checkout", "window", {"start": "yesterday", "end": "2026-10-03T00:00:00Z"}),
            5,
            "window.start",
            "not an RFC 3339 date-time",
        ),
        (
            _set(2, "catalog", "window", {"start": "2026-10-04T00:00:00Z", "end": "2026-10-03"}),
            11,
            "window",
            "ends",
        ),
        (
            _set(0, "catalog", "properties", {"cluster": "x"}),
            2,
            "properties.namespace",
            "namespace",
        ),
    ],
)
def test_bad_api_values_name_file_row_and_column(
    tmp_path: Path, change: Any, row: int, column: str, words: str
) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(InputError) as caught:
        read_opencost(path)
    err = caught.value
    assert (err.file, err.row, err.column) == (str(path), row, column)
    assert words in str(err)


def test_missing_window_is_named(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        for key in ("window", "start", "end"):
            del doc["data"][0]["catalog"][key]

    path = _broken(tmp_path, change)
    with pytest.raises(InputError, match="no window") as caught:
        read_opencost(path)
    assert (caught.value.row, caught.value.column) == (2, "window")


def test_error_response_and_empty_response_are_refused(tmp_path: Path) -> None:
    failed = tmp_path / "failed.json"
    failed.write_text('{"code": 400, "data": [], "message": "window: bad duration"}')
    with pytest.raises(InputError, match=r"code 400.*bad duration"):
        read_opencost(failed)
    empty = tmp_path / "empty.json"
    empty.write_text('{"code": 200, "data": [null, {}]}')
    with pytest.raises(InputError, match="no allocations"):
        read_opencost(empty)
    with pytest.raises(InputError, match="not an OpenCost"):
        read_opencost(FIXTURES / "focus" / "focus_sample_1_0.csv")


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("2026-10-03,checkout,,,,,0,0,0,0,0,0,0,0,1,1,0,0,0,two", "TotalCost", "not a number"),
        ("10/03/2026,checkout,,,,,0,0,0,0,0,0,0,0,1,1,0,0,0,2", "Date", "YYYY-MM-DD"),
        ("2026-02-30,checkout,,,,,0,0,0,0,0,0,0,0,1,1,0,0,0,2", "Date", "not a calendar date"),
        ("2026-10-03,checkout,,,,,0,0,0,0,0,0,0,0,1,x,0,0,0,2", "RAMCost", "not a number"),
        ("2026-10-03,checkout,,,,,0,0,0,0,0,0,0,0,1,1,0,0,0,", "TotalCost", "empty"),
        ("2026-10-03,checkout,1,2", None, "4 fields but the header has 20"),
    ],
)
def test_bad_csv_values_name_file_row_and_column(
    tmp_path: Path, line: str, column: str | None, words: str
) -> None:
    path = tmp_path / "export.csv"
    good = "2026-10-03,catalog,,,,,0,0,0,0,0,0,0,0,1,1,0,0,0,2"
    path.write_text(f"{HEADER}\n{good}\n{good}\n{line}\n")
    with pytest.raises(InputError) as caught:
        read_opencost(path)
    err = caught.value
    assert (err.file, err.row, err.column) == (str(path), 3, column)
    assert words in str(err)


def test_bare_nan_in_the_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    text = DAILY.read_text()
    assert text.count('"ramCost": 1.51,') == 1
    path.write_text(text.replace('"ramCost": 1.51,', '"ramCost": NaN,'))  # window 2's __idle__
    with pytest.raises(InputError, match="not a finite number") as caught:
        read_opencost(path)
    assert (caught.value.row, caught.value.column) == (9, "ramCost")
