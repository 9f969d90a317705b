"""``costloop budgets``: the table, the JSON shape, no file, a bad file, bad options."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from costloop.workspace import Workspace

Run = Callable[..., CompletedProcess[str]]

BUDGETS = """\
budgets:
  - name: checkout-march
    scope: {team: checkout}
    amount: "1500.00"
    thresholds: [50, 80, 100]
  - name: platform-march
    scope: {team: platform}
    amount: "1000"
    thresholds: [50, 100]
    owners: [cfo@example.com]
  - name: q1
    amount: "10000"
    period: quarter
    start: 2026-01
"""


def _file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "budgets.yaml"
    path.write_text(text, encoding="utf-8")
    return {"COSTLOOP_BUDGETS_FILE": str(path)}


def test_table(cli_main: Run, budget_ws: Workspace, tmp_path: Path) -> None:
    env = _file(tmp_path, BUDGETS)
    proc = cli_main("budgets", "--as-of", "2026-03-31", "-w", budget_ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    main, _, previous = proc.stdout.partition("Previous periods")
    lines = {line.split("│")[1].strip(): line for line in main.splitlines() if "│" in line}
    checkout = lines["checkout-march"]
    assert "team=checkout" in checkout and "2026-03" in checkout and "$1,500.00" in checkout
    assert "$1,243.83 (82.9%)" in checkout and " ok " in checkout
    assert "50%, 80% (actual)" in checkout and "ana@example.com" in checkout
    platform = lines["platform-march"]
    assert "$1,290.50 (129.0%)" in platform and "breached" in platform
    assert "2026-03-20" in platform and "cfo@example.com" in platform
    q1 = lines["q1"]
    assert "2026-Q1" in q1 and "$6,406.11 (64.1%)" in q1 and "all" in q1
    assert "Budgets as of 2026-03-31" in proc.stdout
    assert "checkout-march │ 2026-02: 74.9%, 2026-01: 82.9%, 2025-12: 82.9%" in previous


def test_json(cli_main: Run, budget_ws: Workspace, tmp_path: Path) -> None:
    env = _file(tmp_path, BUDGETS)
    proc = cli_main("budgets", "--json", "--as-of", "2026-03-31", "-w", budget_ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["as_of"] == "2026-03-31"
    assert [b["name"] for b in data["budgets"]] == ["checkout-march", "platform-march", "q1"]
    checkout, platform, q1 = data["budgets"]
    assert checkout["scope"] == {"team": "checkout"}
    assert checkout["actual"] == "1243.827160459" and checkout["amount"] == "1500.00"
    assert checkout["used_pct"] == "82.92" and checkout["status"] == "ok"
    assert (checkout["period"], checkout["period_label"]) == ("month", "2026-03")
    assert (checkout["period_start"], checkout["period_end"]) == ("2026-03-01", "2026-03-31")
    assert checkout["forecast"]["total"] == "1243.827160459"
    assert checkout["owners"] == ["ana@example.com"]  # the team owner from org.yaml
    assert checkout["hits"] == [
        {"threshold": "50.00", "basis": "actual", "crossed_on": "2026-03-19", "level": "750.00"},
        {
            "threshold": "80.00",
            "basis": "actual",
            "crossed_on": "2026-03-30",
            "level": "1200.00",
        },
    ]
    assert checkout["runs_out_on"] is None and checkout["run_rate"] == "40.12"
    assert [p["period_label"] for p in checkout["previous"]] == ["2026-02", "2026-01", "2025-12"]
    assert platform["status"] == "breached" and platform["runs_out_on"] == "2026-03-20"
    assert platform["owners"] == ["cfo@example.com"]
    assert q1["period_label"] == "2026-Q1" and q1["previous"] == []
    assert set(checkout) == {
        "name",
        "scope",
        "period",
        "period_label",
        "period_start",
        "period_end",
        "currency",
        "amount",
        "actual",
        "used_pct",
        "forecast",
        "forecast_note",
        "status",
        "thresholds",
        "hits",
        "run_rate",
        "runs_out_on",
        "owners",
        "previous",
    }


def test_forecast_in_the_current_period(
    cli_main: Run, budget_ws: Workspace, tmp_path: Path
) -> None:
    env = _file(
        tmp_path, "budgets:\n  - name: april\n    scope: {team: checkout}\n    amount: 1000\n"
    )
    proc = cli_main("budgets", "--json", "-w", budget_ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    (april,) = json.loads(proc.stdout)["budgets"]
    assert april["period_label"] == "2026-04" and april["actual"] == "401.23456789"
    forecast = april["forecast"]
    assert forecast["model"] and float(forecast["lo80"]) <= float(forecast["total"])
    assert float(forecast["total"]) <= float(forecast["hi80"])
    assert april["status"] == "at-risk"  # ~1,204 forecast for a 1,000 budget
    assert [(h["threshold"], h["basis"]) for h in april["hits"]] == [
        ("50.00", "forecast"),
        ("80.00", "forecast"),
        ("100.00", "forecast"),
    ]


def test_no_budgets_file(cli_main: Run, workspace: Path) -> None:
    proc = cli_main("budgets", "-w", workspace)
    assert proc.returncode == 0
    assert "No budgets file" in proc.stdout and "docs/budgets.md" in proc.stdout
    as_json = cli_main("budgets", "--json", "-w", workspace)
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {"as_of": None, "budgets": []}
    assert "docs/budgets.md" in as_json.stderr


def test_empty_budgets_file(cli_main: Run, workspace: Path) -> None:
    (workspace / "budgets.yaml").write_text("budgets: []\n", encoding="utf-8")
    proc = cli_main("budgets", "-w", workspace)
    assert proc.returncode == 0 and "defines no budgets" in proc.stdout


def test_invalid_file_exits_2_naming_file_line_and_key(cli_main: Run, workspace: Path) -> None:
    path = workspace / "budgets.yaml"
    path.write_text("budgets:\n  - name: a\n    amount: 5\n    period: weekly\n", encoding="utf-8")
    proc = cli_main("budgets", "-w", workspace)
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert f"file {path}, row 4: budgets[0].period: period is one of" in message


def test_unknown_scope_column_exits_2(cli_main: Run, budget_ws: Workspace, tmp_path: Path) -> None:
    env = _file(tmp_path, "budgets:\n  - name: a\n    amount: 5\n    scope: {squad: x}\n")
    proc = cli_main("budgets", "-w", budget_ws.root, env=env)
    assert proc.returncode == 2
    assert "row 4: budget 'a': scope.squad: unknown column" in " ".join(proc.stderr.split())


def test_bad_as_of(cli_main: Run, workspace: Path) -> None:
    proc = cli_main("budgets", "--as-of", "2026-3-1", "-w", workspace)
    assert proc.returncode == 2
    assert "--as-of expects a date as YYYY-MM-DD, got '2026-3-1'" in proc.stderr


def test_installed_script(cli: Run, budget_ws: Workspace, tmp_path: Path) -> None:
    env = _file(tmp_path, BUDGETS)
    proc = cli("budgets", "--as-of", "2026-03-31", "-w", budget_ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "platform-march" in proc.stdout and "breached" in proc.stdout


def test_notes_and_literal_scope_text(cli_main: Run, budget_ws: Workspace, tmp_path: Path) -> None:
    text = "budgets:\n  - name: early\n    amount: 100\n    scope: {team: '[bold]x'}\n"
    env = _file(tmp_path, text)
    proc = cli_main("budgets", "--as-of", "2025-12-03", "-w", budget_ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "team=[bold]x" in proc.stdout  # user text is not read as markup
    assert "early: no forecast:" in proc.stdout
