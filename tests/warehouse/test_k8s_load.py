"""Loading OpenCost / Kubecost exports into ``k8s_allocation``: atomic and idempotent."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costloop.core.errors import InputError
from costloop.warehouse.k8s_load import load_k8s_allocation
from costloop.workspace import Workspace

OPENCOST = Path(__file__).parents[1] / "fixtures" / "opencost"
DAILY = OPENCOST / "allocation-namespace-daily.json"
CONTROLLER = OPENCOST / "allocation-namespace-controller.json"
EXPORT = OPENCOST / "opencost-export.csv"


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    return Workspace.open(workspace)


def _query(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    with ws.lake.connect() as con:
        return con.execute(sql).fetchall()


def _per_day(ws: Workspace) -> list[tuple[Any, ...]]:
    return _query(
        ws,
        "SELECT cluster, window_start::DATE::VARCHAR, count(*), sum(total_cost) "
        "FROM k8s_allocation GROUP BY ALL ORDER BY cluster NULLS LAST, 2",
    )


def test_load_stores_every_allocation_and_records_the_load(ws: Workspace) -> None:
    done = load_k8s_allocation(ws.lake, DAILY)
    assert (done.rows, done.replaced_rows, done.windows, done.namespaces) == (13, 0, 3, 5)
    assert done.total_cost == Decimal("54.890471") and done.days == 3
    assert done.clusters == ("prod-east",) and done.format == "api"
    assert done.first_window == datetime(2026, 10, 1) and done.last_window == datetime(2026, 10, 3)
    assert _per_day(ws) == [
        ("prod-east", "2026-10-01", 4, Decimal("18.234256")),
        ("prod-east", "2026-10-02", 5, Decimal("18.4549")),
        ("prod-east", "2026-10-03", 4, Decimal("18.201315")),
    ]
    # What the shared-cost pools read: Σ total_cost per namespace over the month.
    assert _query(
        ws,
        "SELECT namespace, sum(total_cost) FROM k8s_allocation WHERE cluster = 'prod-east' "
        "AND window_start >= '2026-10-01' AND window_start < '2026-11-01' "
        "GROUP BY ALL ORDER BY 1",
    ) == [
        ("__idle__", Decimal("13.25")),
        ("__unmounted__", Decimal("0.4")),
        ("catalog", Decimal("14.970099")),
        ("checkout", Decimal("23.985872")),
        ("kube-system", Decimal("2.2845")),
    ]
    (load,) = _query(ws, "SELECT kind, source, rows, replaced_rows, files FROM loads")
    assert load[:4] == ("k8s_allocation", "opencost", 13, 0)
    assert json.loads(load[4])[0]["path"] == str(DAILY)


def test_loading_the_same_file_again_changes_nothing(ws: Workspace) -> None:
    load_k8s_allocation(ws.lake, DAILY)
    before = _per_day(ws)
    again = load_k8s_allocation(ws.lake, DAILY)
    assert (again.rows, again.replaced_rows) == (13, 13)
    assert _per_day(ws) == before
    assert _query(ws, "SELECT count(*), sum(replaced_rows) FROM loads") == [(2, 13)]


def test_a_file_replaces_only_the_days_and_cluster_it_covers(ws: Workspace) -> None:
    load_k8s_allocation(ws.lake, DAILY)
    finer = load_k8s_allocation(ws.lake, CONTROLLER)  # 2026-10-01 only, by controller
    assert (finer.rows, finer.replaced_rows) == (7, 4)
    assert _per_day(ws) == [
        ("prod-east", "2026-10-01", 7, Decimal("17.634256")),
        ("prod-east", "2026-10-02", 5, Decimal("18.4549")),
        ("prod-east", "2026-10-03", 4, Decimal("18.201315")),
    ]


def test_csv_without_a_cluster_is_its_own_slice(ws: Workspace) -> None:
    load_k8s_allocation(ws.lake, DAILY)
    nameless = load_k8s_allocation(ws.lake, EXPORT)
    assert (nameless.rows, nameless.replaced_rows, nameless.clusters) == (10, 0, (None,))
    assert load_k8s_allocation(ws.lake, EXPORT).replaced_rows == 10  # null-safe match
    named = load_k8s_allocation(ws.lake, EXPORT, cluster="prod-east")
    assert named.replaced_rows == 9  # prod-east's rows of 2026-10-01 and 2026-10-02
    assert _per_day(ws) == [
        ("prod-east", "2026-10-01", 6, Decimal("11.859967")),
        ("prod-east", "2026-10-02", 4, Decimal("9.1528002")),
        ("prod-east", "2026-10-03", 4, Decimal("18.201315")),
        (None, "2026-10-01", 6, Decimal("11.859967")),
        (None, "2026-10-02", 4, Decimal("9.1528002")),
    ]


def test_a_bad_file_writes_nothing(ws: Workspace, tmp_path: Path) -> None:
    load_k8s_allocation(ws.lake, DAILY)
    bad = tmp_path / "bad.json"
    bad.write_text(DAILY.read_text().replace('"totalCost": 4.22', '"totalCost": "n/a"'))
    with pytest.raises(InputError) as caught:
        load_k8s_allocation(ws.lake, bad)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(bad), 9, "totalCost")
    assert _query(ws, "SELECT count(*), sum(total_cost) FROM k8s_allocation") == [
        (13, Decimal("54.890471"))
    ]
    assert _query(ws, "SELECT count(*) FROM loads") == [(1,)]
