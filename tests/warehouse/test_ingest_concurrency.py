"""Integration: readers during an ingest, and an ingest killed with SIGKILL half-way.

Both replace a one-account slice with a much larger restated file, so a reader that
caught the slice half-replaced would see a row count that is neither the old one nor
the new one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costloop.warehouse.ingest import ingest_focus
from costloop.workspace import Workspace

BIG = "999999999999"
READER = """
import json, sys, time
from pathlib import Path
from costloop.warehouse import Lake, LakePaths

# One long-lived connection, as a dashboard holds: each query is its own transaction.
lake, stop = Lake(LakePaths(Path(sys.argv[1]))), Path(sys.argv[2])
with lake.connect(read_only=True) as con:
    while not stop.exists():
        try:
            n, billed = con.execute("SELECT count(*), sum(BilledCost) FROM charges").fetchone()
            print(json.dumps({"rows": n, "billed": str(billed)}), flush=True)
        except Exception as exc:  # reported to the test, which fails on any
            print(json.dumps({"error": repr(exc)}), flush=True)
        time.sleep(0.005)
"""


def _prepare(workspace: Path, focus: Any, tmp_path: Path) -> tuple[Any, tuple[int, Decimal]]:
    """Other slices plus a 1,000-row version of the BIG slice; returns (lake, state)."""
    lake = Workspace.open(workspace).lake
    ingest_focus(lake, [focus.csv(tmp_path / "others.csv", focus.rows())])
    ingest_focus(lake, [focus.large_csv(tmp_path / "v1.csv", 1000, account=BIG)])
    return lake, (24 + 1000, focus.totals(focus.rows()).billed + focus.large_billed_total(1000))


def _replaced(focus: Any, rows: int, scale: int) -> tuple[int, Decimal]:
    """The lake's (rows, billed) once the BIG slice is replaced by ``rows`` rows."""
    return 24 + rows, focus.totals(focus.rows()).billed + focus.large_billed_total(rows, scale)


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_readers_see_the_old_or_the_new_slice_never_a_mix(
    workspace: Path,
    focus: Any,
    tmp_path: Path,
    costloop_exe: Path,
    cli_environ: dict[str, str],
    cli: Any,
) -> None:
    _, old = _prepare(workspace, focus, tmp_path)
    new = _replaced(focus, 150_000, scale=3)
    big = focus.large_csv(tmp_path / "v2.csv", 150_000, account=BIG, scale=3)
    seen_path, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    with seen_path.open("w") as seen:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(workspace / ".costloop"), str(stop)],
            stdout=seen,
            stderr=subprocess.STDOUT,
            env=cli_environ,
        )
    cli_reads: list[subprocess.CompletedProcess[str]] = []
    writing = threading.Event()

    def cli_reader() -> None:  # the same through `costloop sql`, a few times (it is slower)
        while writing.is_set() and len(cli_reads) < 2:
            cli_reads.append(
                cli(
                    "sql", "SELECT count(*), sum(BilledCost) FROM charges", "--csv", "-w", workspace
                )
            )

    try:
        _wait_for(lambda: _lines(seen_path), 60, "the first read")
        writing.set()
        thread = threading.Thread(target=cli_reader)
        thread.start()
        writer = subprocess.run(
            [str(costloop_exe), "ingest", str(big), "-w", str(workspace), "--json"],
            capture_output=True,
            text=True,
            env=cli_environ,
            timeout=180,
            check=False,
        )
        writing.clear()
        thread.join()
        assert writer.returncode == 0, writer.stderr
        target = {"rows": new[0], "billed": str(new[1])}

        def caught_up() -> bool:
            return any(_normal(r) == _normal(target) for r in _lines(seen_path))

        _wait_for(caught_up, 60, "a read of the new slice")
    finally:
        stop.touch()
        reader.wait(timeout=60)

    reads = _lines(seen_path)
    assert [r for r in reads if "error" in r] == []
    states = {(r["rows"], Decimal(r["billed"])) for r in reads}
    assert states == {old, new}, "a reader saw a state that is neither before nor after"
    for proc in cli_reads:
        assert proc.returncode == 0, proc.stderr
        (rows, billed) = proc.stdout.splitlines()[1].split(",")
        assert (int(rows), Decimal(billed)) in {old, new}


def _normal(read: dict[str, Any]) -> tuple[int, Decimal]:
    return read["rows"], Decimal(read["billed"])


def _staged(lake: Any) -> set[Path]:
    return set((lake.paths.data / "staging").glob("*.parquet"))


def test_sigkill_mid_ingest_keeps_the_last_snapshot_and_a_rerun_completes(
    workspace: Path,
    focus: Any,
    tmp_path: Path,
    costloop_exe: Path,
    cli_environ: dict[str, str],
    lake_state: Any,
    lake_sql: Any,
) -> None:
    lake, old = _prepare(workspace, focus, tmp_path)
    before = lake_state(workspace)
    committed = _staged(lake)
    big = focus.large_csv(tmp_path / "v2.csv", 300_000, account=BIG, scale=2)

    victim = subprocess.Popen(
        [str(costloop_exe), "ingest", str(big), "-w", str(workspace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_environ,
    )
    try:
        _wait_for(lambda: _staged(lake) - committed, 60, "the ingest to start staging")
        time.sleep(0.2)  # well inside the staging COPY of 300,000 rows
        assert victim.poll() is None, "the ingest finished before it could be killed"
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    orphans = _staged(lake) - committed
    assert orphans, "the killed ingest left no staged file; the test did not kill it mid-way"
    assert lake_state(workspace) == before
    assert (before.rows, before.billed) == old

    rerun = ingest_focus(lake, [big])

    (load,) = rerun.slices
    assert load.rows == 300_000
    assert load.reconciled
    assert load.billed_cost == focus.large_billed_total(300_000, scale=2)
    after = lake_state(workspace)
    assert (after.rows, after.billed) == _replaced(focus, 300_000, scale=2)
    assert not orphans & _staged(lake), "orphaned staging files were not cleaned up"
    # Lineage holds across the parallel reader's batches: data row i is resource r-i.
    [misplaced] = lake_sql(
        workspace,
        f"SELECT count(*) AS n FROM charges WHERE BillingAccountId = '{BIG}' "
        "AND ResourceId <> 'r-' || x_SourceRow",
    )
    assert misplaced == {"n": 0}


def test_an_ingest_started_during_another_keeps_both(
    workspace: Path,
    focus: Any,
    tmp_path: Path,
    costloop_exe: Path,
    cli_environ: dict[str, str],
    lake_state: Any,
) -> None:
    """The second ingest must not take the first one's staged file for an orphan."""
    lake = Workspace.open(workspace).lake
    big = focus.large_csv(tmp_path / "big.csv", 100_000, account=BIG)
    first = subprocess.Popen(
        [str(costloop_exe), "ingest", str(big), "-w", str(workspace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_environ,
    )
    _wait_for(lambda: _staged(lake), 60, "the first ingest to start staging")
    second = ingest_focus(lake, [focus.csv(tmp_path / "small.csv", focus.rows())])
    _, errors = first.communicate(timeout=180)

    assert first.returncode == 0, errors
    assert second.rows == 24
    state = lake_state(workspace)
    assert (state.rows, state.billed) == _replaced(focus, 100_000, scale=1)
