"""Progress of a running DuckDB statement, polled from a thread for a progress bar."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

__all__ = ["tracked"]


def _poll(
    con: duckdb.DuckDBPyConnection,
    name: str,
    progress: Callable[[str, float], None],
    done: threading.Event,
    start: float,
    span: float,
) -> None:
    while not done.wait(0.2):
        try:
            pct = con.query_progress()
        except duckdb.Error:
            return
        if pct >= 0:
            progress(name, start + span * min(pct / 100.0, 1.0))


@contextmanager
def tracked(
    con: duckdb.DuckDBPyConnection,
    name: str,
    progress: Callable[[str, float], None] | None,
    start: float = 0.0,
    span: float = 1.0,
) -> Iterator[None]:
    """Report the running query's progress as ``start .. start + span`` of the file."""
    if progress is None:
        yield
        return
    done = threading.Event()
    poller = threading.Thread(
        target=_poll, args=(con, name, progress, done, start, span), daemon=True
    )
    poller.start()
    try:
        yield
    finally:
        done.set()
        poller.join()
