"""Keep the slow figures computed ahead of the first visitor.

The overview's month-end forecast and budget evaluation take seconds on a large
estate, and each team page runs a dozen queries. They are memoized until the data
changes (:func:`costloop.web.queries.memoized`); this thread recomputes them when the
server starts and whenever an ingest or allocation commits (or the budgets, org,
allocation or settings file changes), so visitors read them from memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from costloop.core.errors import CostloopError
from costloop.web.pages.overview import month_to_date
from costloop.web.queries import (
    Connect,
    ExplorerQuery,
    data_version,
    explorer_cached,
    memoized,
    on_engine,
    overview_cached,
    team_page_cached,
    team_summaries_cached,
)
from costloop.workspace import Workspace

__all__ = ["Warmer", "warm"]

log = logging.getLogger("costloop.web")


def warm(ws: Workspace, connect: Connect) -> list[str]:
    """Compute what the overview, explorer and team pages show, into the memo.

    Returns:
        What could not be computed (``name: error``); the pages show those errors
        when visited.
    """
    failures: list[str] = []

    def attempt(name: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except CostloopError as exc:
            failures.append(f"{name}: {exc}")
            return None

    attempt("overview", lambda: overview_cached(ws, connect))
    attempt(
        "month-to-date",
        lambda: memoized(ws, "month-to-date", lambda: on_engine(connect, month_to_date)),
    )
    attempt("explorer", lambda: explorer_cached(ws, connect, ExplorerQuery()))
    teams = attempt("teams", lambda: team_summaries_cached(ws, connect)) or []
    for summary in teams:
        attempt(f"team {summary.team}", partial(team_page_cached, ws, connect, summary.team))
    return failures


class Warmer:
    """A daemon thread running :func:`warm` at start and after each data change.

    Args:
        ws: the served workspace.
        connect: opens a read-only engine (the app's shared reader).
        interval: seconds between checks of :func:`~costloop.web.queries.data_version`.
    """

    def __init__(self, ws: Workspace, connect: Connect, interval: float = 5.0) -> None:
        self.ws = ws
        self.connect = connect
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="costloop-warm", daemon=True)

    def start(self) -> None:
        """Start warming in the background."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        self._thread.join(timeout)

    def wait_warm(self, timeout: float | None = None) -> bool:
        """Wait until the first round has finished; False on timeout."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        seen = None
        while not self._stop.is_set():
            version = data_version(self.ws)
            if version != seen:
                try:
                    failures = warm(self.ws, self.connect)
                except Exception:  # never let the thread die; requests still work
                    log.exception("warming the page figures failed")
                    failures = []
                for failure in failures:
                    log.warning("warming: %s", failure)
                seen = version
                self.rounds += 1
                self._done.set()
            self._stop.wait(self.interval)
