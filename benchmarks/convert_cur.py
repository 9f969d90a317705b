"""AWS CUR → FOCUS: costloop vs the FinOps Foundation's reference focus-converter 1.0.0.

Replicates the anonymized AWS CUR sample of the focus_converters project
(``tests/fixtures/native/aws/sample-anonymous-aws-export-dataset.csv``, 1,281 rows) to
``--rows`` rows: whole copies of the file, then the first rows of one more, every copy
with its own ``identity/LineItemId`` (copy 0 keeps the original ids) and the same
billing period, so each total is the sample's times the number of copies. Then, each
in its own process (wall time and peak RSS per tool):

* ``focus-converter``: ``focus-converter convert --provider aws-cur --data-format csv
  --export-format csv`` in its own venv ``.venv-fc`` (Python 3.11, installed on first
  use, every package pinned by ``requirements/focus-converter.txt``), under ``timeout``;
* ``costloop``: ``costloop init`` + ``costloop ingest --format aws-cur FILE`` +
  ``costloop export focus --out FILE.csv``.

Both outputs are summed exactly (DuckDB DECIMAL) and printed beside the input's own
totals: rows, Σ BilledCost, Σ EffectiveCost (focus-converter writes FOCUS
1.0-preview names: its ``AmortizedCost`` is counted as EffectiveCost), Σ ListCost when
present, wall time, peak RSS and the speed ratio (target: costloop ≥ 20× faster).
Usage::

    .venv/bin/python benchmarks/convert_cur.py                   # 1,000,000 rows
    .venv/bin/python benchmarks/convert_cur.py --rows 1281       # the original file
    .venv/bin/python benchmarks/convert_cur.py --ten-million --workdir /big/disk
    .venv/bin/python benchmarks/convert_cur.py --rows 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "fixtures" / "native" / "aws" / "sample-anonymous-aws-export-dataset.csv"
FC_VENV = REPO / ".venv-fc"
FC_LOCK = REPO / "requirements" / "focus-converter.txt"
FC_REQUIREMENTS = ("focus-converter==1.0.0", "multimethod<1.12", "click<8.2")
COSTLOOP = Path(sys.executable).parent / "costloop"
TARGET_SPEEDUP = 20.0
GNU_TIME = "/usr/bin/time"
ID_COLUMN = "identity/LineItemId"
# Input CUR columns summed as the reference for BilledCost and ListCost (there is no
# single CUR column for EffectiveCost: it depends on the line item type).
CUR_COSTS = ("lineItem/UnblendedCost", "pricing/publicOnDemandCost")
# Output column of each measure; focus-converter 1.0.0 writes FOCUS 1.0-preview names.
MEASURES: dict[str, tuple[str, ...]] = {
    "BilledCost": ("BilledCost",),
    "EffectiveCost": ("EffectiveCost", "AmortizedCost"),
    "ListCost": ("ListCost",),
}


# --- input ----------------------------------------------------------------------------


def _csv_relation(path: Path | str) -> str:
    text = str(path).replace("'", "''")
    return f"read_csv('{text}', header = true, all_varchar = true, delim = ',', quote = '\"')"


def replicate(source: Path, target: Path, rows: int) -> dict[str, Any]:
    """Write ``rows`` rows of copies of ``source`` to ``target``; returns the input's facts."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"CREATE TEMP TABLE src AS SELECT row_number() OVER () AS n, * FROM {_csv_relation(source)}"
    )
    (per_copy,) = con.execute("SELECT count(*) FROM src").fetchone() or (0,)
    columns = [str(r[0]) for r in con.execute("DESCRIBE src").fetchall()][1:]
    copies = -(-rows // int(per_copy))
    suffix = "'-r' || lpad(CAST(k AS VARCHAR), 6, '0')"
    quoted = ", ".join(
        f'CASE WHEN k = 0 THEN "{c}" ELSE "{c}" || {suffix} END AS "{c}"'
        if c == ID_COLUMN
        else f'"{c}"'
        for c in columns
    )
    path = str(target).replace("'", "''")
    con.execute(
        f"COPY (SELECT {quoted} FROM src, range({copies}) AS r(k) "
        f"ORDER BY k, n LIMIT {rows}) TO '{path}' (FORMAT CSV, HEADER true)"
    )
    sums = ", ".join(f'sum(CAST("{c}" AS DECIMAL(38, 18)))' for c in CUR_COSTS)
    facts = con.execute(
        f'SELECT count(*), count(DISTINCT "{ID_COLUMN}" || \'|\' || "identity/TimeInterval"), '
        f'{sums}, list(DISTINCT "bill/BillingPeriodStartDate") FROM {_csv_relation(target)}'
    ).fetchone()
    con.close()
    assert facts is not None
    return {
        "rows": int(facts[0]),
        "distinct_line_items": int(facts[1]),
        "copies": copies,
        "per_copy": int(per_copy),
        "sums": {c: facts[2 + i] for i, c in enumerate(CUR_COSTS)},
        "billing_periods": sorted(facts[2 + len(CUR_COSTS)]),
        "bytes": target.stat().st_size,
    }


# --- running the tools ----------------------------------------------------------------


@dataclass
class Step:
    """One external command: exit code, wall seconds, peak RSS of its process tree."""

    command: list[str]
    returncode: int
    seconds: float
    peak_rss_mib: float
    output: str = ""


def run_measured(command: list[str], *, cwd: Path | None = None, timeout: int = 0) -> Step:
    """Run ``command`` (under coreutils ``timeout`` when given) and measure it.

    Peak RSS comes from GNU ``/usr/bin/time`` (``%M``): the largest resident set among
    the process and the descendants it waited for (not their sum). It is measured there
    and not with ``os.wait4`` here because Linux keeps a process's RSS high-water mark
    across ``execve``: a child of this (large, DuckDB-using) process would report at
    least this process's RSS.
    """
    full = ["timeout", "--kill-after=30", str(timeout), *command] if timeout else command
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        if Path(GNU_TIME).exists():
            full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *full]
        with (Path(tmp) / "log").open("w+") as log:
            start = time.perf_counter()
            proc = subprocess.run(full, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
            seconds = time.perf_counter() - start
            log.seek(0)
            output = log.read()
        lines = rss_file.read_text().split() if rss_file.exists() else []
        peak_kib = float(lines[-1]) if lines and lines[-1].isdigit() else 0.0
    return Step(command, proc.returncode, seconds, peak_kib / 1024, output)


def _install_pinned(venv: Path, lock: Path, requirements: tuple[str, ...], python: str) -> None:
    """Create ``venv`` pinned by ``lock`` (written from ``pip freeze`` when missing)."""
    stamp = venv / ".installed"
    digest = (lock.read_text() if lock.exists() else "") + "\n".join(requirements)
    if stamp.exists() and stamp.read_text() == digest:
        return
    if venv.exists():
        shutil.rmtree(venv)
    print(f"installing {' '.join(requirements)} into {venv} ...", file=sys.stderr)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    constraints = ["-c", str(lock)] if lock.exists() else []
    subprocess.run(
        [*pip, "install", "--quiet", *constraints, *requirements], check=True, capture_output=True
    )
    if not lock.exists():
        frozen = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=True)
        pins = sorted(
            (ln for ln in frozen.stdout.splitlines() if ln and not ln.startswith("pip==")),
            key=lambda pin: pin.split("==")[0].lower(),
        )
        lock.write_text(
            "# pip freeze of .venv-fc (Python 3.11): focus-converter 1.0.0 and its\n"
            "# dependencies, for benchmarks/convert_cur.py. Regenerate: delete this file\n"
            "# and .venv-fc, then run the benchmark.\n" + "\n".join(pins) + "\n"
        )
        digest = lock.read_text() + "\n".join(requirements)
    stamp.write_text(digest)


def ensure_converter(python: str) -> Path:
    """The focus-converter executable of ``.venv-fc`` (created on first use)."""
    _install_pinned(FC_VENV, FC_LOCK, FC_REQUIREMENTS, python)
    return FC_VENV / "bin" / "focus-converter"


@dataclass
class ToolResult:
    """What one tool produced from the input."""

    tool: str
    ok: bool
    message: str = ""
    rows: int = 0
    sums: dict[str, Decimal | None] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    charge_categories: dict[str, int] = field(default_factory=dict)


def summarize_output(
    files: list[Path],
) -> tuple[int, dict[str, Decimal | None], list[str], dict[str, int]]:
    """Rows, Σ of each measure, the header, and rows per ChargeCategory of CSV outputs."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar_print = false")
    relation = (
        _csv_relation(files[0])
        if len(files) == 1
        else (
            "read_csv([" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "], "
            "header = true, all_varchar = true, union_by_name = true)"
        )
    )
    header = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    exprs, names = ["count(*)"], []
    for measure, candidates in MEASURES.items():
        column = next((c for c in candidates if c in header), None)
        if column is not None:
            exprs.append(f'sum(CAST("{column}" AS DECIMAL(38, 18)))')
            names.append(measure)
    row = con.execute(f"SELECT {', '.join(exprs)} FROM {relation}").fetchone()
    assert row is not None
    categories: dict[str, int] = {}
    category = next((c for c in ("ChargeCategory", "ChargeType") if c in header), None)
    if category is not None:
        for value, count in con.execute(
            f'SELECT "{category}", count(*) FROM {relation} GROUP BY 1 ORDER BY 1'
        ).fetchall():
            categories[str(value)] = int(count)
    con.close()
    sums: dict[str, Decimal | None] = dict.fromkeys(MEASURES)
    sums.update({n: row[1 + i] for i, n in enumerate(names)})
    return int(row[0]), sums, header, categories


def run_converter(file: Path, work: Path, timeout: int, python: str) -> ToolResult:
    """focus-converter 1.0.0 on ``file``."""
    result = ToolResult("focus-converter 1.0.0", ok=False)
    try:
        exe = ensure_converter(python)
    except subprocess.CalledProcessError as exc:
        result.message = f"could not install focus-converter: {exc}\n{exc.stderr}"
        return result
    except OSError as exc:
        result.message = f"could not install focus-converter: {exc}"
        return result
    out = work / "focus-converter-out"
    out.mkdir()
    step = run_measured(
        [
            str(exe),
            "convert",
            "--provider",
            "aws-cur",
            "--data-format",
            "csv",
            "--data-path",
            str(file),
            "--export-path",
            f"{out}/",  # the path is string-concatenated: the slash is required
            "--export-format",
            "csv",
            "--no-export-include-source-columns",
        ],
        cwd=work,
        timeout=timeout,
    )
    result.seconds, result.peak_rss_mib = step.seconds, step.peak_rss_mib
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.suffix == ".csv")
    if step.returncode != 0 or not files:
        reason = "timed out" if step.returncode in (124, 137) else f"exit {step.returncode}"
        result.message = f"focus-converter {reason}: {step.output.strip()[-1500:]}"
        return result
    result.rows, result.sums, result.columns, result.charge_categories = summarize_output(files)
    result.ok = True
    return result


def run_costloop(file: Path, work: Path, timeout: int) -> ToolResult:
    """costloop init + ingest --format aws-cur + export focus on ``file``."""
    result = ToolResult("costloop", ok=False)
    ws, out = work / "costloop-ws", work / "costloop-focus.csv"
    commands = {
        "init": [str(COSTLOOP), "init", str(ws)],
        "ingest": [str(COSTLOOP), "ingest", "-w", str(ws), "--format", "aws-cur", str(file)],
        "export": [str(COSTLOOP), "export", "focus", "-w", str(ws), "--out", str(out)],
    }
    for name, command in commands.items():
        step = run_measured(command, timeout=timeout)
        result.steps[name] = {"seconds": step.seconds, "peak_rss_mib": step.peak_rss_mib}
        result.seconds += step.seconds
        result.peak_rss_mib = max(result.peak_rss_mib, step.peak_rss_mib)
        if step.returncode != 0:
            text = step.output.strip()
            if name == "ingest" and ("--format" in text or "aws-cur" in text):
                result.message = (
                    "costloop cannot read AWS CUR files yet (`costloop ingest --format "
                    f"aws-cur` failed: {text.splitlines()[-1] if text else 'no output'})"
                )
            else:
                result.message = f"costloop {name} failed (exit {step.returncode}): {text[-1500:]}"
            return result
    result.rows, result.sums, result.columns, result.charge_categories = summarize_output([out])
    result.ok = True
    return result


# --- report ---------------------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    """Exact decimal text (no exponent, no padding), or a dash."""
    return "—" if value is None else format(value.normalize(), "f")


def _find_python311() -> str:
    for candidate in ("python3.11", sys.executable):
        found = shutil.which(candidate) or candidate
        probe = subprocess.run(
            [found, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 11))"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return found
    raise SystemExit("focus-converter 1.0.0 needs Python 3.11: none found")


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to replicate to")
    parser.add_argument("--ten-million", action="store_true", help="--rows 10000000")
    parser.add_argument("--source", type=Path, default=SAMPLE, help="the CUR file to replicate")
    parser.add_argument("--workdir", type=Path, help="where files go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per tool step")
    parser.add_argument("--skip-converter", action="store_true", help="run costloop only")
    parser.add_argument("--skip-costloop", action="store_true", help="run focus-converter only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rows = 10_000_000 if args.ten_million else args.rows
    python = _find_python311()

    work = Path(tempfile.mkdtemp(prefix="costloop-cur-bench-", dir=args.workdir))
    try:
        file = work / f"cur_{rows}.csv"
        start = time.perf_counter()
        facts = replicate(args.source, file, rows)
        facts["seconds"] = time.perf_counter() - start
        results: list[ToolResult] = []
        if not args.skip_converter:
            results.append(run_converter(file, work, args.timeout, python))
        if not args.skip_costloop:
            results.append(run_costloop(file, work, args.timeout))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    speedup = None
    by_tool = {r.tool.split()[0]: r for r in results}
    converter, costloop = by_tool.get("focus-converter"), by_tool.get("costloop")
    if converter and costloop and converter.ok and costloop.ok and costloop.seconds:
        speedup = converter.seconds / costloop.seconds

    if args.json:
        print(
            json.dumps(
                {
                    "input": facts,
                    "tools": [asdict(r) for r in results],
                    "speedup": speedup,
                    "target_speedup": TARGET_SPEEDUP,
                    "workdir": str(work) if args.keep else None,
                },
                indent=2,
                default=str,
            )
        )
        return

    console = Console() if sys.stdout.isatty() else Console(width=132)
    table = Table(
        title=f"AWS CUR → FOCUS, {facts['rows']:,} rows ({facts['bytes'] / 2**20:,.0f} MiB)"
    )
    table.add_column("")
    table.add_column("input CUR", justify="right")
    for r in results:
        table.add_column(r.tool, justify="right")
    cur = facts["sums"]

    def cells(fn: Any) -> list[str]:
        return [fn(r) if r.ok else "—" for r in results]

    table.add_row("rows", f"{facts['rows']:,}", *cells(lambda r: f"{r.rows:,}"))
    table.add_row(
        "Σ BilledCost",
        f"{_money(cur['lineItem/UnblendedCost'])} (UnblendedCost)",
        *cells(lambda r: _money(r.sums["BilledCost"])),
    )
    table.add_row("Σ EffectiveCost", "", *cells(lambda r: _money(r.sums["EffectiveCost"])))
    table.add_row(
        "Σ ListCost",
        f"{_money(cur['pricing/publicOnDemandCost'])} (publicOnDemandCost)",
        *cells(lambda r: _money(r.sums["ListCost"])),
    )
    table.add_row(
        "wall seconds", f"{facts['seconds']:.1f} (replicate)", *cells(lambda r: f"{r.seconds:.1f}")
    )
    table.add_row("peak RSS MiB", "", *cells(lambda r: f"{r.peak_rss_mib:,.0f}"))
    table.add_row(
        "rows/s", "", *cells(lambda r: f"{r.rows / r.seconds:,.0f}" if r.seconds else "—")
    )
    console.print(table)
    for r in results:
        if not r.ok:
            console.print(f"[yellow]{r.tool}:[/] {r.message}", highlight=False, soft_wrap=True)
            continue
        if r.steps:
            parts = ", ".join(
                f"{name} {step['seconds']:.1f} s ({step['peak_rss_mib']:,.0f} MiB)"
                for name, step in r.steps.items()
            )
            console.print(f"{r.tool} steps: {parts}", highlight=False)
        if r.charge_categories:
            shares = ", ".join(f"{k} {v:,}" for k, v in r.charge_categories.items())
            console.print(f"{r.tool} charge categories: {shares}", highlight=False)
    if speedup is not None:
        verdict = "[green]meets[/]" if speedup >= TARGET_SPEEDUP else "[red]below[/]"
        console.print(
            f"costloop is {speedup:.1f}× faster than focus-converter ({verdict} the "
            f"{TARGET_SPEEDUP:.0f}× target)"
        )


if __name__ == "__main__":
    main()
