"""Allocation + monthly showback at scale, against a bare DuckDB GROUP BY of the same data.

Builds a workspace from the scaled FOCUS 1.2 generator (``--base-rows`` rows, 12
billing periods), optionally replicates its charges inside the warehouse up to
``--rows`` (copies get ``x_SourceId`` + ``-copy<k>``, so lineage keys stay unique),
writes an ``allocation.yaml`` that exercises the real engine (tag key and value
aliases, an ``env`` dimension, an account rule, a resource-name rule and a proportional
shared-cost pool over one sub-account), then times, each in its own process so that
peak RSS is that phase's:

* ``allocate``: :func:`costloop.allocation.allocate` over every billing period (with
  its Σ allocated = Σ source check), then :func:`~costloop.analytics.showback.showback`
  for all months and ``spend_by(engine, "team")``;
* ``reference``: ``SELECT BillingPeriodStart, team tag, sum(BilledCost),
  sum(EffectiveCost) ... GROUP BY ALL`` in plain DuckDB over the Parquet data files of
  the ``charges`` table.

Both use the same DuckDB memory limit (default 3.5 GB, spilling to the workspace's
``.costloop/tmp``) and 2 threads. The target (DESIGN.md §8) is allocation + showback of
100 M rows in ≤ 120 s with ≤ 4 GiB resident. Usage::

    .venv/bin/python benchmarks/allocate.py --base-rows 1000000            # quick check
    .venv/bin/python benchmarks/allocate.py                                # 10 M rows
    .venv/bin/python benchmarks/allocate.py --rows 100000000 --workdir /big/disk
    .venv/bin/python benchmarks/allocate.py --workspace DIR --json          # re-run on a kept one
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TARGET_ROWS = 100_000_000
TARGET_SECONDS = 120.0
TARGET_RSS_MIB = 4 * 1024
POOL_SHARE = 0.02  # the shared-services pool takes the sub-account nearest this row share
RULE_SHARE = 0.04  # the account rule names the sub-account nearest this row share
COPY_MARK = "-copy"


# --- measurement helpers (child processes) ----------------------------------------


def _status_mib(field: str) -> float:
    """A ``/proc/self/status`` memory figure (``VmHWM``, ``VmRSS``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _memory() -> dict[str, float]:
    """Peak resident memory of this process, two ways.

    ``VmHWM`` is the high-water mark of this process image alone; ``ru_maxrss`` can
    include the parent's when the child was started with vfork, so the table shows
    ``VmHWM`` and the JSON has both.
    """
    return {
        "peak_rss_mib": round(_status_mib("VmHWM"), 1),
        "ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class _SpillWatch:
    """Samples the size of DuckDB's spill directory while a phase runs."""

    def __init__(self, folder: Path, every: float = 0.5) -> None:
        self.folder = folder
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _size(self) -> int:
        total = 0
        for path in self.folder.rglob("*"):
            with contextlib.suppress(OSError):  # a spill file removed while we looked
                total += path.stat().st_size
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> _SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return round(self.peak / 2**20, 1)


# --- phases (each runs in its own process; figures as JSON on the last stdout line) -


def phase_generate(args: argparse.Namespace) -> dict[str, Any]:
    """Write the scaled FOCUS 1.2 CSV."""
    from costloop.demo import generate_scaled

    start = time.perf_counter()
    rows = generate_scaled(args.file, rows=args.base_rows, seed=args.seed)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - start,
        "csv_mib": round(args.file.stat().st_size / 2**20, 1),
    }


def phase_ingest(args: argparse.Namespace) -> dict[str, Any]:
    """``costloop init`` + ingest of the CSV; also the row count of each sub-account."""
    from costloop.warehouse.ingest import ingest_focus
    from costloop.workspace import Workspace

    ws = Workspace.init(args.workspace)
    start = time.perf_counter()
    result = ingest_focus(ws.lake, [args.file])
    seconds = time.perf_counter() - start
    with ws.lake.connect() as con:
        accounts = con.execute(
            "SELECT SubAccountId, count(*) FROM charges GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall()
    return {
        "rows": result.rows,
        "seconds": seconds,
        "slices": len(result.slices),
        "sub_accounts": [[a, int(n)] for a, n in accounts],
        **_memory(),
    }


def phase_replicate(args: argparse.Namespace) -> dict[str, Any]:
    """Copy the ingested charges until there are ``--rows``, one transaction per copy.

    Copies already made (by an earlier run on a kept workspace) are not made again.
    """
    from costloop.workspace import Workspace

    ws = Workspace.open(args.workspace)
    with ws.lake.connect() as con:
        (originals,) = con.execute(
            f"SELECT count(*) FROM charges WHERE x_SourceId NOT LIKE '%{COPY_MARK}%'"
        ).fetchone() or (0,)
        made = {
            int(k)
            for (k,) in con.execute(
                f"SELECT DISTINCT regexp_extract(x_SourceId, '{COPY_MARK}([0-9]+)$', 1) "
                f"FROM charges WHERE x_SourceId LIKE '%{COPY_MARK}%'"
            ).fetchall()
        }
    if not originals or args.rows % originals:
        raise SystemExit(f"--rows {args.rows:,} is not a multiple of the {originals:,} rows")
    todo = [k for k in range(1, args.rows // originals) if k not in made]
    start = time.perf_counter()
    with ws.lake.connect(read_only=False) as con:
        for k in todo:
            con.execute("BEGIN")
            con.execute(
                f"INSERT INTO charges SELECT * REPLACE (x_SourceId || '{COPY_MARK}{k}' "
                f"AS x_SourceId) FROM charges WHERE x_SourceId NOT LIKE '%{COPY_MARK}%'"
            )
            con.execute("COMMIT")
    seconds = time.perf_counter() - start
    with ws.lake.connect() as con:
        (rows,) = con.execute("SELECT count(*) FROM charges").fetchone() or (0,)
    return {"rows": int(rows), "seconds": seconds, "copies_made": len(todo), **_memory()}


def phase_files(args: argparse.Namespace) -> dict[str, Any]:
    """The Parquet data files of ``charges`` (for the reference query) and its row count."""
    from costloop.workspace import Workspace

    ws = Workspace.open(args.workspace)
    with ws.lake.connect() as con:
        files = [
            r[0]
            for r in con.execute(
                "SELECT data_file FROM ducklake_list_files('lake', 'charges')"
            ).fetchall()
        ]
        deletes = con.execute(
            "SELECT count(*) FROM ducklake_list_files('lake', 'charges') "
            "WHERE delete_file IS NOT NULL"
        ).fetchone()
        (rows,) = con.execute("SELECT count(*) FROM charges").fetchone() or (0,)
    if deletes and deletes[0]:
        raise SystemExit("charges has delete files: the reference would read stale rows")
    return {"files": files, "rows": int(rows)}


def phase_allocate(args: argparse.Namespace) -> dict[str, Any]:
    """allocate() over all periods, then monthly showback; times, coverage, memory."""
    from decimal import Decimal

    from costloop.allocation import allocate
    from costloop.analytics.showback import showback, spend_by
    from costloop.warehouse.engine import open_engine
    from costloop.workspace import Workspace

    ws = Workspace.open(args.workspace)
    config = ws.allocation
    with _SpillWatch(ws.lake.paths.tmp) as spill, open_engine(ws.lake, read_only=False) as engine:
        start = time.perf_counter()
        results = allocate(engine, config)  # raises unless Σ allocated = Σ source
        allocated = time.perf_counter()
        by_team = showback(engine)
        spend = spend_by(engine, "team")
        done = time.perf_counter()
    effective = sum((r.totals["EffectiveCost"] for r in results), Decimal(0))
    shown = sum((r.effective_cost for r in by_team), Decimal(0))
    if shown != effective or sum((r["effective"] for r in spend), Decimal(0)) != effective:
        raise SystemExit(f"showback sums to {shown}, allocation to {effective}")
    coverage = {
        d.name: str(
            (sum((r.allocated[d.name] for r in results), Decimal(0)) / effective * 100).quantize(
                Decimal("0.01")
            )
        )
        for d in config.dimensions
    }
    return {
        "periods": len(results),
        "source_rows": sum(r.source_rows for r in results),
        "allocated_rows": sum(r.rows for r in results),
        "allocate_seconds": allocated - start,
        "showback_seconds": done - allocated,
        "showback_rows": len(by_team),
        "effective_cost": str(effective),
        "coverage_pct": coverage,
        "pool_splits": sum(1 for r in results for n in r.pools if n.unsplit_reason is None),
        "spill_peak_mib": spill.peak_mib,
        **_memory(),
    }


def phase_reference(args: argparse.Namespace) -> dict[str, Any]:
    """Bare DuckDB: GROUP BY month and team tag over the charges Parquet files."""
    import duckdb

    files = json.loads(args.files.read_text())
    con = duckdb.connect(config={"threads": args.threads, "memory_limit": args.memory_limit})
    con.execute("SET enable_progress_bar_print = false")
    con.execute(f"SET temp_directory = '{args.workspace / '.costloop' / 'tmp'}'")
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    sql = (
        "SELECT BillingPeriodStart, x_TagsNormalized['team'] AS team, "
        "sum(BilledCost) AS billed, sum(EffectiveCost) AS effective "
        f"FROM read_parquet([{listing}]) GROUP BY ALL"
    )
    start = time.perf_counter()
    groups = con.execute(sql).fetchall()
    seconds = time.perf_counter() - start
    (rows,) = con.execute(f"SELECT count(*) FROM read_parquet([{listing}])").fetchone() or (0,)
    return {"rows": int(rows), "groups": len(groups), "seconds": seconds, **_memory()}


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|#[0-9]+")


def _operators(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Operators of a DuckDB JSON profile, most time first, with a short description."""
    out: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("operator_type"):
            info = node.get("extra_info") or {}
            detail = info.get("Projections") or info.get("Expression") or info.get("Table") or ""
            if isinstance(detail, list):  # show what is computed, not what passes through
                computed = [d for d in detail if not _PLAIN.fullmatch(d)]
                internal = [d for d in detail if d.startswith("__")][-8:]  # named steps
                detail = ", ".join(computed or internal) or "columns"
            out.append(
                {
                    "operator": node["operator_type"],
                    "seconds": round(float(node.get("operator_timing") or 0), 3),
                    "rows": int(node.get("operator_cardinality") or 0),
                    "detail": str(detail)[:160],
                }
            )
        for child in node.get("children") or []:
            walk(child)

    walk(profile)
    return sorted(out, key=lambda o: -o["seconds"])


def phase_profile(args: argparse.Namespace) -> dict[str, Any]:
    """Time allocate's steps separately and profile its INSERT (rolled back)."""
    import ibis

    from costloop.allocation import allocation_expr
    from costloop.allocation.expressions import dimension_columns
    from costloop.warehouse.engine import open_engine
    from costloop.warehouse.schema import ALLOCATED_COLUMNS
    from costloop.workspace import Workspace

    ws = Workspace.open(args.workspace)
    config = ws.allocation
    profile = args.workspace / "allocation-profile.json"
    with open_engine(ws.lake, read_only=False) as engine:
        engine.ensure_columns("allocated_charges", ALLOCATED_COLUMNS + dimension_columns(config))
        tables = {
            name: engine.table(name)
            for name in ("charges", "inventory", "k8s_allocation", "business_metrics")
        }
        start = time.perf_counter()
        expr, _ = allocation_expr(tables, config, engine.rows)  # runs the pool weights
        planned = time.perf_counter()
        sql = ibis.to_sql(expr, dialect="duckdb")
        (args.workspace / "allocation.sql").write_text(str(sql), encoding="utf-8")
        # As Engine.replace_slices does: the ratio memtable becomes a view first.
        engine.backend._run_pre_execute_hooks(expr)
        con = engine.backend.con
        con.execute("BEGIN")
        con.execute("DELETE FROM allocated_charges")
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{profile}'")
        inserting = time.perf_counter()
        con.execute(f"INSERT INTO allocated_charges BY NAME {sql}")
        inserted = time.perf_counter()
        con.execute("PRAGMA disable_profiling")
        con.execute("ROLLBACK")
    tree = json.loads(profile.read_text())
    return {
        "plan_and_weights_seconds": planned - start,
        "insert_seconds": inserted - inserting,
        "insert_cpu_seconds": round(float(tree.get("cpu_time") or 0), 2),
        "peak_buffer_mib": round(int(tree.get("system_peak_buffer_memory") or 0) / 2**20, 1),
        "peak_spill_mib": round(int(tree.get("system_peak_temp_dir_size") or 0) / 2**20, 1),
        "operators": _operators(tree)[:10],
        **_memory(),
    }


PHASES = {
    "generate": phase_generate,
    "ingest": phase_ingest,
    "replicate": phase_replicate,
    "files": phase_files,
    "allocate": phase_allocate,
    "reference": phase_reference,
    "profile": phase_profile,
}


# --- the allocation file ----------------------------------------------------------


def _nearest(accounts: list[list[Any]], share: float, taken: set[str]) -> str:
    """The sub-account whose share of rows is nearest ``share`` (not already taken)."""
    total = sum(n for _, n in accounts)
    free = [(abs(n / total - share), a) for a, n in accounts if a not in taken]
    return str(min(free)[1])


def write_config(ws: Path, accounts: list[list[Any]]) -> dict[str, Any]:
    """Write org.yaml and allocation.yaml; returns what they chose, with row shares."""
    from costloop.demo.company import TEAMS

    pool_account = _nearest(accounts, POOL_SHARE, set())
    rule_account = _nearest(accounts, RULE_SHARE, {pool_account})
    total = sum(n for _, n in accounts)
    share = {a: n / total for a, n in accounts}
    org = ["company: Benchmark", "teams:"]
    for team in TEAMS:
        org.append(f"  - {{name: {team.name}, tag_values: {json.dumps(list(team.aliases))}}}")
    (ws / "org.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    (ws / "allocation.yaml").write_text(
        f"""# Written by benchmarks/allocate.py: every stage of the engine at scale.
dimensions:
  team:
    required: true
    keys: [team, owner-team, squad]          # Team / TEAM / owner_team also match
    value_aliases:
      checkout: [chekout, check-out]
      platform: [platfrom]
      data-platform: [data-platfrom, DataPlatform]
  env:
    values: [prod, staging, dev]
    keys: [env, environment]
    value_aliases:
      prod: [production, prd]
      staging: [stg, stage]
      dev: [development]
rules:
  - {{dimension: team, account: ["{rule_account}"], value: platform}}
  - {{dimension: env, account: ["{rule_account}"], value: prod}}
  - {{dimension: team, resource_name: "^database-instance-", value: data-platform}}
  - {{dimension: env, resource_name: "^(function|log-group)-", value: dev}}
pools:
  - name: shared-services
    dimension: team
    match: {{account: ["{pool_account}"]}}
    method: proportional
""",
        encoding="utf-8",
    )
    return {
        "pool_account": pool_account,
        "pool_share_pct": round(share[pool_account] * 100, 2),
        "rule_account": rule_account,
        "rule_share_pct": round(share[rule_account] * 100, 2),
    }


# --- driver -----------------------------------------------------------------------


def _run_phase(name: str, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    argv = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--threads",
        str(args.threads),
        "--memory-limit",
        args.memory_limit,
        "--seed",
        str(args.seed),
        "--base-rows",
        str(args.base_rows),
    ]
    for key, value in extra.items():
        argv += [f"--{key}", str(value)]
    env = os.environ | {
        "COSTLOOP_WAREHOUSE_MEMORY_LIMIT": args.memory_limit,
        "COSTLOOP_WAREHOUSE_THREADS": str(args.threads),
    }
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"phase {name} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def prepare(args: argparse.Namespace, work: Path, ws: Path) -> dict[str, Any]:
    """Generate, ingest and replicate; returns the preparation figures."""
    console = Console(stderr=True)
    csv = work / f"focus_{args.base_rows}.csv"
    out: dict[str, Any] = {}
    console.print(f"generating {args.base_rows:,} rows …")
    out["generate"] = _run_phase("generate", args, file=csv)
    console.print(f"ingesting {out['generate']['csv_mib']:,.0f} MiB …")
    out["ingest"] = _run_phase("ingest", args, file=csv, workspace=ws)
    if not args.keep:
        csv.unlink()
    if args.rows > args.base_rows:
        console.print(f"replicating to {args.rows:,} rows in the warehouse …")
        out["replicate"] = _run_phase("replicate", args, workspace=ws, rows=args.rows)
    out["config"] = write_config(ws, out["ingest"]["sub_accounts"])
    del out["ingest"]["sub_accounts"]
    return out


def _accounts_of(args: argparse.Namespace, ws: Path) -> list[list[Any]]:
    code = (
        "import json,sys;from pathlib import Path;from costloop.workspace import Workspace\n"
        "with Workspace.open(Path(sys.argv[1])).lake.connect() as c:\n"
        "    print(json.dumps(c.execute('SELECT SubAccountId, count(*) FROM charges "
        "WHERE x_SourceId NOT LIKE ''%-copy%'' GROUP BY ALL').fetchall()))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"cannot read {ws}")
    accounts: list[list[Any]] = json.loads(proc.stdout)
    return accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="rows to allocate (default: --base-rows)")
    parser.add_argument("--base-rows", type=int, default=10_000_000, help="rows generated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3.5GB")
    parser.add_argument("--workdir", type=Path, help="where files go (default: a temp dir)")
    parser.add_argument("--workspace", type=Path, help="re-use a workspace kept by --keep")
    parser.add_argument("--keep", action="store_true", help="keep the CSV and the workspace")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also profile allocate's INSERT per operator"
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--files", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # child process: one phase, figures as JSON on stdout
        print(json.dumps(PHASES[args.phase](args)))
        return

    reuse = args.workspace is not None
    if not reuse:
        args.rows = args.rows or args.base_rows
        args.base_rows = min(args.base_rows, args.rows)
        if args.rows % args.base_rows:
            parser.error("--rows must be a multiple of --base-rows")
    work = (
        args.workspace
        if reuse
        else Path(tempfile.mkdtemp(prefix="costloop-bench-alloc-", dir=args.workdir))
    )
    ws = work if reuse else work / "ws"
    try:
        prep = {} if reuse else prepare(args, work, ws)
        if reuse and args.rows:  # grow a kept workspace to --rows
            Console(stderr=True).print(f"replicating to {args.rows:,} rows in the warehouse …")
            prep["replicate"] = _run_phase("replicate", args, workspace=ws, rows=args.rows)
        if reuse and not (ws / "allocation.yaml").exists():
            prep["config"] = write_config(ws, _accounts_of(args, ws))
        listing = _run_phase("files", args, workspace=ws)
        files = work / "charges_files.json"
        files.write_text(json.dumps(listing["files"]))
        Console(stderr=True).print(f"allocating {listing['rows']:,} rows …")
        alloc = _run_phase("allocate", args, workspace=ws)
        ref = _run_phase("reference", args, workspace=ws, files=files)
        prof = _run_phase("profile", args, workspace=ws) if args.profile else None
    finally:
        if not (args.keep or reuse):
            shutil.rmtree(work, ignore_errors=True)
    work_kept = None if reuse else work
    report(args, listing["rows"], len(listing["files"]), prep, alloc, ref, prof, work_kept)


def report(
    args: argparse.Namespace,
    rows: int,
    n_files: int,
    prep: dict[str, Any],
    alloc: dict[str, Any],
    ref: dict[str, Any],
    prof: dict[str, Any] | None,
    work: Path | None,
) -> None:
    """Print the figures (table or JSON)."""
    total = alloc["allocate_seconds"] + alloc["showback_seconds"]
    ratio = total / ref["seconds"]
    projected = total * TARGET_ROWS / rows
    meets = total <= TARGET_SECONDS and alloc["peak_rss_mib"] <= TARGET_RSS_MIB
    figures = {
        "rows": rows,
        "charges_files": n_files,
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "preparation": prep,
        "allocate": alloc,
        "reference": ref,
        "total_seconds": round(total, 2),
        "rows_per_second": round(rows / alloc["allocate_seconds"]),
        "ratio": round(ratio, 2),
        "target": {"rows": TARGET_ROWS, "seconds": TARGET_SECONDS, "rss_mib": TARGET_RSS_MIB},
        "meets_target": meets if rows >= TARGET_ROWS else None,
        "projected_seconds_at_target_rows": round(projected, 1),
        "profile": prof,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    console = Console()
    console.width = max(console.width, 120)  # the table stays readable in a log file
    for name in ("generate", "ingest", "replicate"):
        if name in prep:
            p = prep[name]
            console.print(
                f"{name}: {p['rows']:,} rows in {p['seconds']:.1f} s (not in the figures)"
            )
    if "config" in prep:
        c = prep["config"]
        console.print(
            f"pool shared-services = sub-account {c['pool_account']} ({c['pool_share_pct']} % "
            f"of rows); account rule on {c['rule_account']} ({c['rule_share_pct']} %)"
        )
    table = Table(
        title=f"Allocation + monthly showback ({args.threads} threads, "
        f"memory limit {args.memory_limit})"
    )
    columns = (
        "rows",
        "allocation s",
        "showback s",
        "total s",
        "rows/s",
        "peak RSS MiB",
        "reference s",
        "ratio",
    )
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(
        f"{rows:,}",
        f"{alloc['allocate_seconds']:.1f}",
        f"{alloc['showback_seconds']:.1f}",
        f"{total:.1f}",
        f"{figures['rows_per_second']:,}",
        f"{alloc['peak_rss_mib']:,.0f}",
        f"{ref['seconds']:.1f}",
        f"{ratio:.1f}×",
    )
    console.print(table)
    coverage = ", ".join(f"{d} {p} %" for d, p in alloc["coverage_pct"].items())
    console.print(
        f"{alloc['allocated_rows']:,} allocated rows over {alloc['periods']} periods "
        f"(Σ allocated = Σ source checked); coverage {coverage}; "
        f"{alloc['pool_splits']} pool splits; spill peak {alloc['spill_peak_mib']:,.0f} MiB; "
        f"reference peak RSS {ref['peak_rss_mib']:,.0f} MiB ({ref['groups']} groups)"
    )
    if rows >= TARGET_ROWS:
        verdict = "[green]meets[/]" if meets else "[red]misses[/]"
        console.print(
            f"{verdict} the target: ≤ {TARGET_SECONDS:.0f} s and ≤ 4 GiB for {TARGET_ROWS:,} rows"
        )
    else:
        console.print(
            f"target is for {TARGET_ROWS:,} rows (≤ {TARGET_SECONDS:.0f} s, ≤ 4 GiB); "
            f"linear projection {projected:,.0f} s"
        )
    if prof is not None:
        _print_profile(console, prof)
    if work is not None and args.keep:
        console.print(f"kept {work} (re-run with --workspace {work / 'ws'})")


def _print_profile(console: Console, prof: dict[str, Any]) -> None:
    console.print(
        f"profile: plan + pool weights {prof['plan_and_weights_seconds']:.1f} s, INSERT "
        f"{prof['insert_seconds']:.1f} s ({prof['insert_cpu_seconds']:.1f} CPU s); peak "
        f"buffer {prof['peak_buffer_mib']:,.0f} MiB, spill {prof['peak_spill_mib']:,.0f} MiB"
    )
    table = Table(title="INSERT operators by time (CPU seconds summed over threads)")
    for column in ("operator", "CPU s", "rows", "what"):
        table.add_column(column, justify="right" if column in ("CPU s", "rows") else "left")
    for op in prof["operators"]:
        table.add_row(op["operator"], f"{op['seconds']:.2f}", f"{op['rows']:,}", op["detail"][:70])
    console.print(table)


if __name__ == "__main__":
    main()
