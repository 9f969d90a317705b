"""Web app latency under load: 20 concurrent clients on a 10 M-row workspace.

Builds (or re-uses) the 10 M-row workspace of ``benchmarks/allocate.py`` (the scaled
FOCUS 1.2 generator, replicated in the warehouse and allocated with a rule set that
exercises every stage), starts ``costloop serve --workers 2`` on it (one worker per
core of the 2-core reference machine), waits until the server has computed its page
figures in the background, then runs:

* ``reference``: one client, the same request mix, one request at a time;
* ``load``: ``--clients`` (20) concurrent clients, each with its own signed-in browser
  session and keep-alive connection, for ``--requests`` requests each.

The mix cycles through the overview page ``/``, the cost explorer ``/explorer`` and a
team page ``/teams/<team>``. Every explorer request draws a new question (dimension,
metric, grain, a random date range and sometimes a team filter), so it is computed,
not served from memory; the overview and team pages show figures the server keeps
until the data changes. Prints p50 / p95 / p99 per page and overall, throughput, and
the ratio of the loaded p95 to the reference p95. Target (DESIGN.md §8 and issue 6):
p95 ≤ 300 ms. Usage::

    .venv/bin/python benchmarks/web_load.py                        # builds 10 M rows (~10 min)
    .venv/bin/python benchmarks/web_load.py --workspace DIR        # a kept workspace
    .venv/bin/python benchmarks/web_load.py --base-rows 100000 --rows 1000000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

TARGET_P95_MS = 300.0
PAGES = ("overview", "explorer", "team")
METRICS = ("effective", "billed", "list")
GRAINS = ("day", "month")
BENCH_USER = "bench-viewer"
BENCH_PASSWORD = "bench-password-not-secret"

console = Console(stderr=True)


# --- the workspace ------------------------------------------------------------------


def build_workspace(args: argparse.Namespace, work: Path) -> Path:
    """Run benchmarks/allocate.py to generate, ingest, replicate and allocate."""
    script = Path(__file__).with_name("allocate.py")
    cmd = [
        sys.executable,
        str(script),
        "--base-rows",
        str(args.base_rows),
        "--rows",
        str(args.rows),
        "--seed",
        str(args.seed),
        "--keep",
        "--workdir",
        str(work),
        "--json",
    ]
    console.print(f"building a {args.rows:,}-row workspace with benchmarks/allocate.py …")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    kept = sorted(work.glob("costloop-bench-alloc-*/ws"))
    if not kept:
        raise SystemExit("allocate.py kept no workspace")
    return kept[-1]


def _prepare_users(ws_dir: Path, sessions: int) -> tuple[list[str], list[str], dict[str, Any]]:
    """Browser sessions of a viewer (one per client) and the page parameters (teams,
    dimensions, days)."""
    from costloop.web.auth import AuthSettings, start_session
    from costloop.web.users import add_user, get_user
    from costloop.workspace import Workspace

    ws = Workspace.open(ws_dir)
    try:
        user = get_user(ws.state, BENCH_USER)
    except Exception:
        user = add_user(ws.state, ws.org, BENCH_USER, BENCH_PASSWORD, "viewer")
    cookies = [start_session(ws.state, user.id, AuthSettings())[0] for _ in range(sessions)]
    with ws.lake.connect(read_only=False) as con:  # also brings the schema up to date
        rows = con.execute("SELECT count(*) FROM allocated_charges").fetchone()[0]
        teams = [r[0] for r in con.execute("SELECT DISTINCT team FROM daily_costs").fetchall()]
        first, last = con.execute(
            "SELECT min(ChargePeriodDay), max(ChargePeriodDay) FROM daily_costs"
        ).fetchone()
        columns = [r[0] for r in con.execute("DESCRIBE daily_costs").fetchall()]
    dims = [c[: -len("_source")] for c in columns if c.endswith("_source")]
    dims += ["ProviderName", "SubAccountId", "ServiceName", "RegionId", "ChargeCategory"]
    info = {"rows": rows, "first": first.date(), "last": last.date(), "dims": dims}
    return cookies, sorted(t for t in teams if t), info


# --- the server ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    ws: Path, port: int, token_cookie: str, workers: int
) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``costloop serve``; returns it and the seconds until its figures were warm
    (in every worker: each scrape of /metrics reaches one of them)."""
    env = dict(os.environ, COSTLOOP_ADMIN_PASSWORD=BENCH_PASSWORD)
    exe = Path(sys.executable).with_name("costloop")
    cmd = [str(exe), "serve", "--port", str(port), "--workers", str(workers)]
    cmd += ["--workspace", str(ws)]
    log = open(ws.parent / "serve.log", "wb")  # noqa: SIM115 - kept open for the process
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    cookies = {"costloop_session": token_cookie}
    deadline = started + 600
    warm_in_a_row = 0
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"costloop serve exited with {proc.returncode}: see {log.name}")
        try:
            r = httpx.get(f"{base}/metrics", cookies=cookies, timeout=5)
            for line in r.text.splitlines():
                if line.startswith("costloop_web_warm_rounds "):
                    warm = float(line.split()[1]) >= 1
                    warm_in_a_row = warm_in_a_row + 1 if warm else 0
            if warm_in_a_row >= 4 * workers:  # (a new connection each time: any worker)
                return proc, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not finish warming within 10 minutes")


# --- the load -----------------------------------------------------------------------


@dataclass
class Sample:
    page: str
    ms: float
    status: int


@dataclass
class Run:
    name: str
    clients: int
    seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)


def _explorer_params(rng: random.Random, info: dict[str, Any], teams: list[str]) -> dict[str, Any]:
    span = (info["last"] - info["first"]).days
    a = info["first"] + timedelta(days=rng.randrange(span + 1))
    b = a + timedelta(days=rng.randrange(7, 120))
    params: dict[str, Any] = {
        "group_by": rng.choice(info["dims"]),
        "metric": rng.choice(METRICS),
        "grain": rng.choice(GRAINS),
        "from": a.isoformat(),
        "to": min(b, info["last"]).isoformat(),
    }
    if teams and rng.random() < 0.3:
        params["filter"] = f"team:{rng.choice(teams)}"
    return params


def _client(
    base: str,
    cookie: str,
    n: int,
    seed: int,
    teams: list[str],
    info: dict[str, Any],
    out: list[Sample],
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    mine: list[Sample] = []
    with httpx.Client(base_url=base, cookies={"costloop_session": cookie}, timeout=60) as c:
        for i in range(n):
            page = PAGES[(i + seed) % len(PAGES)]
            if page == "overview":
                url, params = "/", None
            elif page == "explorer":
                url, params = "/explorer", _explorer_params(rng, info, teams)
            else:
                url, params = f"/teams/{rng.choice(teams)}", None
            t0 = time.perf_counter()
            r = c.get(url, params=params)
            mine.append(Sample(page, (time.perf_counter() - t0) * 1000, r.status_code))
    with lock:
        out.extend(mine)


def run_load(
    name: str,
    base: str,
    cookies: list[str],
    clients: int,
    requests: int,
    teams: list[str],
    info: Any,
) -> Run:
    run = Run(name, clients)
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_client,
            args=(base, cookies[k], requests, k, teams, info, run.samples, lock),
        )
        for k in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - t0
    return run


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def figures(run: Run) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clients": run.clients,
        "requests": len(run.samples),
        "errors": sum(1 for s in run.samples if s.status != 200),
        "seconds": round(run.seconds, 2),
        "throughput_rps": round(len(run.samples) / run.seconds, 1) if run.seconds else 0,
    }
    for page in (*PAGES, "all"):
        ms = [s.ms for s in run.samples if page in ("all", s.page)]
        out[page] = {
            "n": len(ms),
            "p50_ms": round(_pct(ms, 50), 1),
            "p95_ms": round(_pct(ms, 95), 1),
            "p99_ms": round(_pct(ms, 99), 1),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        }
    return out


def report(
    info: dict[str, Any],
    warm_s: float,
    ref: dict[str, Any],
    load: dict[str, Any],
    as_json: bool = False,
) -> None:
    table = Table(title=f"costloop serve, {info['rows']:,} allocated rows")
    for col in ("run", "page", "requests", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, justify="left" if col in ("run", "page") else "right")
    for name, f in (("1 client", ref), (f"{load['clients']} clients", load)):
        for page in (*PAGES, "all"):
            p = f[page]
            table.add_row(
                name,
                page,
                f"{p['n']:,}",
                f"{p['p50_ms']:.1f}",
                f"{p['p95_ms']:.1f}",
                f"{p['p99_ms']:.1f}",
            )
    out = Console(stderr=as_json)
    out.print(table)
    p95 = load["all"]["p95_ms"]
    ratio = p95 / ref["all"]["p95_ms"] if ref["all"]["p95_ms"] else float("nan")
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    out.print(
        f"figures warm {warm_s:.1f} s after start · throughput {load['throughput_rps']} req/s "
        f"with {load['clients']} clients ({ref['throughput_rps']} req/s with 1) · errors "
        f"{load['errors']} · p95 {p95:.0f} ms = {ratio:.1f}× the 1-client p95 · "
        f"{verdict} the target p95 ≤ {TARGET_P95_MS:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a workspace kept by allocate.py --keep")
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows to build")
    parser.add_argument("--base-rows", type=int, default=1_000_000, help="rows generated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="where a built workspace goes")
    parser.add_argument("--keep", action="store_true", help="keep the built workspace")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="costloop serve --workers")
    parser.add_argument("--requests", type=int, default=60, help="requests per client")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    work = None
    ws = args.workspace
    if ws is None:
        work = Path(tempfile.mkdtemp(prefix="costloop-bench-web-", dir=args.workdir))
        ws = build_workspace(args, work)
    proc = None
    try:
        cookies, teams, info = _prepare_users(ws.resolve(), args.clients + 1)
        port = _free_port()
        console.print(f"starting costloop serve on {info['rows']:,} rows …")
        proc, warm_s = start_server(ws.resolve(), port, cookies[-1], args.workers)
        base = f"http://127.0.0.1:{port}"
        console.print("reference: 1 client …")
        ref = figures(run_load("reference", base, cookies, 1, args.requests, teams, info))
        console.print(f"load: {args.clients} clients × {args.requests} requests …")
        load = figures(run_load("load", base, cookies, args.clients, args.requests, teams, info))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if work is not None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "rows": info["rows"],
        "warm_seconds": round(warm_s, 1),
        "reference": ref,
        "load": load,
        "workers": args.workers,
        "target_p95_ms": TARGET_P95_MS,
        "date": date.today().isoformat(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    report(info, warm_s, ref, load, args.json)


if __name__ == "__main__":
    main()
