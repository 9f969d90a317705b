"""`costloop ingest` of OpenCost / Kubecost exports, next to bills, with --cluster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import Cli

OPENCOST = Path(__file__).parents[1] / "fixtures" / "opencost"
DAILY = OPENCOST / "allocation-namespace-daily.json"
EXPORT = OPENCOST / "opencost-export.csv"


def test_ingest_an_allocation_api_response(cli: Cli, cli_main: Cli, workspace: Path) -> None:
    proc = cli("ingest", "-w", workspace, DAILY, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["loads"] == [] and out["datasets"] == []
    assert out["kubernetes"] == [
        {
            "file": str(DAILY),
            "format": "api",
            "rows": 13,
            "replaced_rows": 0,
            "windows": 3,
            "days": 3,
            "namespaces": 5,
            "clusters": ["prod-east"],
            "first_window": "2026-10-01T00:00:00Z",
            "last_window": "2026-10-03T00:00:00Z",
            "total_cost": "54.890471",
        }
    ]
    text = cli_main("ingest", "-w", workspace, DAILY)
    assert text.returncode == 0, text.stderr
    shown = " ".join(text.stdout.split())
    assert f"Loaded 13 Kubernetes allocation rows from {DAILY}" in shown
    assert (
        "allocation API JSON, cluster prod-east: 5 namespaces over 3 days "
        "(2026-10-01 to 2026-10-03), total $54.89; replaced 13 earlier rows." in shown
    )
    stored = cli_main(
        "sql",
        "-w",
        workspace,
        "SELECT namespace, sum(total_cost) AS cost FROM k8s_allocation "
        "WHERE namespace = 'checkout' GROUP BY ALL",
        "--json",
    )
    assert json.loads(stored.stdout)["rows"] == [{"namespace": "checkout", "cost": "23.985872"}]


def test_bills_and_csv_export_in_one_folder_with_cluster(
    cli_main: Cli, workspace: Path, focus_sample: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(EXPORT, folder / "opencost-export.csv")
    shutil.copy(focus_sample, folder / "focus.csv")
    proc = cli_main("ingest", "-w", workspace, folder, "--cluster", "prod-east", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert sum(s["rows"] for s in out["loads"]) == 1000  # the FOCUS sample went to charges
    (k8s,) = out["kubernetes"]
    assert (k8s["format"], k8s["rows"], k8s["clusters"]) == ("csv", 10, ["prod-east"])
    assert (k8s["days"], k8s["namespaces"], k8s["total_cost"]) == (2, 4, "21.0127672")


def test_bad_export_exits_2_naming_file_row_and_column(
    cli_main: Cli, workspace: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "export.csv"
    lines = EXPORT.read_text().splitlines()
    lines[3] = lines[3].replace(",0.003,0,0,2.013", ",0.003,0,0,2.O13")
    bad.write_text("\n".join(lines) + "\n")
    proc = cli_main("ingest", "-w", workspace, bad)
    assert proc.returncode == 2
    assert f"file {bad}, row 3, column TotalCost: not a number: '2.O13'" in proc.stderr
    rows = cli_main("sql", "-w", workspace, "SELECT count(*) AS n FROM k8s_allocation", "--json")
    assert json.loads(rows.stdout)["rows"] == [{"n": 0}]


def test_cluster_option_needs_an_opencost_file(
    cli_main: Cli, workspace: Path, focus_sample: Path
) -> None:
    proc = cli_main("ingest", "-w", workspace, focus_sample, "--cluster", "prod-east")
    assert proc.returncode == 2
    assert "--cluster applies to OpenCost/Kubecost exports" in proc.stderr
