"""Load OpenCost / Kubecost namespace costs into ``k8s_allocation``.

A file replaces what it covers, in one transaction: for each cluster it names (a
missing cluster counts as one more, null-safe), the rows of that cluster whose
window starts between the file's first and last window start of that cluster.
Loading the same file again therefore changes nothing, and a re-export of a
longer or corrected period supersedes the older rows it overlaps.
"""

from __future__ import annotations

import getpass
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costloop.connectors.files import InputFile, discover, file_digest
from costloop.connectors.opencost import opencost_kind, read_opencost
from costloop.core.datasets import K8S_ALLOCATION_COLUMNS
from costloop.warehouse.connection import Lake
from costloop.warehouse.focus_sql import ident

__all__ = ["K8S_KIND", "K8sLoad", "load_k8s_allocation"]

K8S_KIND = "k8s_allocation"
"""The ``kind`` (and table name) of these loads in the ``loads`` table."""

_COVERED = (
    "DELETE FROM k8s_allocation AS k WHERE EXISTS ("
    "SELECT 1 FROM (SELECT cluster, min(window_start) AS lo, max(window_start) AS hi "
    "FROM k8s_new GROUP BY cluster) AS n "
    "WHERE k.cluster IS NOT DISTINCT FROM n.cluster AND k.window_start BETWEEN n.lo AND n.hi)"
)


@dataclass(frozen=True)
class K8sLoad:
    """What one OpenCost / Kubecost file loaded.

    Attributes:
        load_id: id of the row recorded in ``loads``.
        file: the file's path as given.
        format: ``api`` (allocation API JSON) or ``csv`` (OpenCost CSV export).
        rows: allocation rows written.
        replaced_rows: rows of earlier loads this one replaced.
        windows: distinct allocation windows (days for a daily export).
        namespaces: distinct namespaces, special ones (``__idle__``...) included.
        clusters: distinct cluster names (None for rows without one).
        first_window: start of the earliest window (naive UTC).
        last_window: start of the latest window (naive UTC).
        total_cost: sum of ``total_cost`` over the rows.
    """

    load_id: str
    file: str
    format: str
    rows: int
    replaced_rows: int
    windows: int
    namespaces: int
    clusters: tuple[str | None, ...]
    first_window: datetime
    last_window: datetime
    total_cost: Decimal

    @property
    def days(self) -> int:
        """Days from the first window's start through the last window's start."""
        return (self.last_window.date() - self.first_window.date()).days + 1


def _item(path: Path) -> InputFile:
    return discover([path])[0]


def load_k8s_allocation(lake: Lake, path: Path, cluster: str | None = None) -> K8sLoad:
    """Load one OpenCost / Kubecost export into ``k8s_allocation`` atomically.

    Args:
        lake: the workspace's warehouse.
        path: an allocation API JSON response or an OpenCost CSV export.
        cluster: cluster name for rows whose file does not name one.

    Returns:
        What was loaded (rows, replaced rows, windows, namespaces, total cost).

    Raises:
        InputError: the file is not an OpenCost/Kubecost export or holds a bad value
            (file, row and column named); nothing is written then.
    """
    table = read_opencost(path, cluster=cluster)
    kind = opencost_kind(path) or "api"
    file = str(path)
    sha = file_digest(_item(path))
    load_id = uuid.uuid4().hex[:16]
    names = [c for c, _ in K8S_ALLOCATION_COLUMNS]
    select = ", ".join(f"CAST({ident(c)} AS {t}) AS {ident(c)}" for c, t in K8S_ALLOCATION_COLUMNS)
    with lake.connect(read_only=False) as con:
        con.register("k8s_incoming", table)
        con.execute(f"CREATE TEMP TABLE k8s_new AS SELECT {select} FROM k8s_incoming")
        con.unregister("k8s_incoming")
        summary = con.execute(
            "SELECT count(*), count(DISTINCT (window_start, window_end)), "
            "count(DISTINCT namespace), min(window_start), max(window_start), "
            "sum(total_cost) FROM k8s_new"
        ).fetchone()
        clusters = tuple(
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cluster FROM k8s_new ORDER BY cluster NULLS LAST"
            ).fetchall()
        )
        assert summary is not None
        rows, windows, namespaces, first, last, total = summary
        con.execute("BEGIN")
        try:
            deleted = con.execute(_COVERED).fetchone()
            con.execute(
                f"INSERT INTO k8s_allocation ({', '.join(map(ident, names))}) "
                f"SELECT {', '.join(map(ident, names))} FROM k8s_new"
            )
            replaced = int(deleted[0]) if deleted else 0
            con.execute(
                "INSERT INTO loads (load_id, kind, source, files, rows, replaced_rows, loaded_at, "
                "loaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    K8S_KIND,
                    "opencost",
                    json.dumps([{"path": file, "sha256": sha, "format": f"opencost-{kind}"}]),
                    int(rows),
                    replaced,
                    datetime.now(UTC).replace(tzinfo=None),
                    getpass.getuser(),
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return K8sLoad(
        load_id=load_id,
        file=file,
        format=kind,
        rows=int(rows),
        replaced_rows=replaced,
        windows=int(windows),
        namespaces=int(namespaces),
        clusters=clusters,
        first_window=first,
        last_window=last,
        total_cost=Decimal(total),
    )
