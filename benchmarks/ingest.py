"""Ingest throughput: costloop's FOCUS ingest vs a bare DuckDB CSV→Parquet copy.

Generates a FOCUS 1.2 CSV of ``--rows`` rows, then times, each in its own process (so
peak RSS is per phase):

* ``bare``: ``COPY (SELECT * FROM read_csv(file)) TO 'x.parquet'`` in plain DuckDB;
* ``costloop``: :func:`costloop.warehouse.ingest.ingest_focus` into a fresh workspace
  (normalize, validate, replace slices, reconcile).

Prints a table (rows, seconds, rows/s, peak RSS) and the ratio costloop ÷ bare rows/s;
the target (DESIGN.md §8) is ≥ 0.8. Usage::

    .venv/bin/python benchmarks/ingest.py --rows 1000000
    .venv/bin/python benchmarks/ingest.py --rows 10000000 --workdir /big/disk
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TARGET_RATIO = 0.8


def generate(path: Path, rows: int, seed: int) -> str:
    """Write the FOCUS 1.2 CSV; returns which generator wrote it."""
    try:
        from costloop.demo import generate_scaled
    except ImportError:
        _generate_sql(path, rows)
        return "benchmark SQL generator"
    generate_scaled(path, rows=rows, seed=seed)
    return "costloop.demo.generate_scaled"


def _generate_sql(path: Path, rows: int) -> None:
    """Fallback generator: vectorized in DuckDB, 12 monthly periods, 5 accounts."""
    import duckdb

    month = "date_trunc('month', DATE '2025-11-01' - to_months(CAST(i % 12 AS INTEGER)))"
    money = "CAST((hash(i) % 1000000) / 10000.0 AS DECIMAL(18, 4))"
    select = f"""
        {money} AS BilledCost, 'BA-' || (i % 5) AS BillingAccountId,
        'Account ' || (i % 5) AS BillingAccountName, 'USD' AS BillingCurrency,
        strftime({month} + INTERVAL 1 MONTH, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodEnd,
        strftime({month}, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodStart,
        'Usage' AS ChargeCategory, NULL AS ChargeClass, 'Compute usage' AS ChargeDescription,
        'Usage-Based' AS ChargeFrequency,
        strftime({month} + to_hours(CAST(i % 600 + 1 AS INTEGER)), '%Y-%m-%dT%H:%M:%SZ')
            AS ChargePeriodEnd,
        strftime({month} + to_hours(CAST(i % 600 AS INTEGER)), '%Y-%m-%dT%H:%M:%SZ')
            AS ChargePeriodStart,
        {money} AS ContractedCost, {money} AS EffectiveCost, 'AWS' AS InvoiceIssuerName,
        {money} AS ListCost, 1 AS PricingQuantity, 'Hours' AS PricingUnit,
        'AWS' AS ProviderName, 'AWS' AS PublisherName, 'us-east-1' AS RegionId,
        'i-' || i AS ResourceId, 'Compute' AS ServiceCategory, 'EC2' AS ServiceName,
        'INV-' || (i % 5) AS InvoiceId,
        CASE WHEN i % 3 = 0 THEN '{{"team": "t' || (i % 7) || '"}}' END AS Tags
    """
    con = duckdb.connect()
    con.execute("SET enable_progress_bar_print = false")
    con.execute(
        f"COPY (SELECT {select} FROM range({rows}) r(i) ORDER BY i % 12, i) TO '{path}' (HEADER)"
    )
    con.close()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def phase_bare(file: Path, work: Path, threads: int, memory_limit: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    con.execute("SET enable_progress_bar_print = false")
    out = work / "bare.parquet"
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv('{file}')) TO '{out}' (FORMAT parquet)")
    seconds = time.perf_counter() - start
    (rows,) = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone() or (0,)
    return {"rows": int(rows), "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}


def phase_costloop(file: Path, work: Path, threads: int, memory_limit: str) -> dict[str, Any]:
    from costloop.warehouse import Lake, LakePaths
    from costloop.warehouse.ingest import ingest_focus

    lake = Lake(LakePaths(work / "ws" / ".costloop"), memory_limit=memory_limit, threads=threads)
    lake.create()
    start = time.perf_counter()
    result = ingest_focus(lake, [file])
    seconds = time.perf_counter() - start
    assert all(s.reconciled for s in result.slices)
    return {
        "rows": result.rows,
        "seconds": seconds,
        "peak_rss_mib": _peak_rss_mib(),
        "slices": len(result.slices),
    }


PHASES = {"bare": phase_bare, "costloop": phase_costloop}


def _run_phase(name: str, file: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            name,
            "--file",
            str(file),
            "--workdir",
            str(work),
            "--threads",
            str(args.threads),
            "--memory-limit",
            args.memory_limit,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--workdir", type=Path, help="where files go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # child process: one timed phase, figures as JSON on stdout
        work = Path(tempfile.mkdtemp(dir=args.workdir))
        try:
            figures = PHASES[args.phase](args.file, work, args.threads, args.memory_limit)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(figures))
        return

    work = Path(tempfile.mkdtemp(prefix="costloop-bench-", dir=args.workdir))
    try:
        file = work / f"focus_{args.rows}.csv"
        start = time.perf_counter()
        generator = generate(file, args.rows, args.seed)
        generated = time.perf_counter() - start
        csv_mib = file.stat().st_size / 2**20
        results = {name: _run_phase(name, file, work, args) for name in PHASES}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    rate = {name: r["rows"] / r["seconds"] for name, r in results.items()}
    ratio = rate["costloop"] / rate["bare"]
    figures = {
        "rows": args.rows,
        "csv_mib": round(csv_mib, 1),
        "generator": generator,
        "generate_seconds": round(generated, 2),
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "phases": results,
        "ratio": round(ratio, 3),
        "target": TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title=f"Ingest of {args.rows:,} FOCUS 1.2 rows ({args.threads} threads)")
    for column in ("phase", "rows", "seconds", "rows/s", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for name, r in results.items():
        table.add_row(
            "bare DuckDB CSV→Parquet" if name == "bare" else "costloop ingest",
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{rate[name]:,.0f}",
            f"{r['peak_rss_mib']:,.0f}",
        )
    console = Console()
    console.print(table)
    verdict = "[green]meets[/]" if ratio >= TARGET_RATIO else "[red]below[/]"
    console.print(
        f"ratio costloop ÷ bare = {ratio:.2f} ({verdict} the {TARGET_RATIO} target); "
        f"{csv_mib:,.0f} MiB CSV written by {generator} in {generated:.1f} s"
    )


if __name__ == "__main__":
    main()
