"""Prometheus metrics of the server: requests per route and their latency, and the data.

``RequestMetrics`` is ASGI middleware counting every HTTP request by method, route
template (``/api/v1/anomalies/{anomaly_id}``, never the raw path) and status, with a
latency histogram. ``render`` adds gauges read at scrape time: the last ingest (time
and rows, from the warehouse ``loads`` table), the rows of ``charges``, and anomalies
and opportunities by status (state DB).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from starlette.routing import BaseRoute

from costloop.analytics.anomaly_view import OPEN_STATUSES
from costloop.opportunities.workflow import Status
from costloop.state import AnomalyRow, OpportunityRow
from costloop.warehouse.engine import open_engine
from costloop.web.queries import Connect
from costloop.web.security import ASGIApp, Message, Receive, Scope, Send
from costloop.workspace import Workspace

__all__ = ["BUCKETS", "CONTENT_TYPE", "RequestMetrics", "RequestStats", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Series:
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))


class RequestStats:
    """Thread-safe counts and latency histograms keyed by (method, route, status)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        with self._lock:
            series = self._series.setdefault((method, route, str(status)), _Series())
            series.count += 1
            series.total += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series.buckets[i] += 1

    def lines(self) -> list[str]:
        """The two request metric families in the Prometheus text format."""
        with self._lock:
            items = sorted((key, _copy(s)) for key, s in self._series.items())
        out = [
            "# HELP costloop_http_requests_total HTTP requests by method, route and status.",
            "# TYPE costloop_http_requests_total counter",
        ]
        for (method, route, status), s in items:
            out.append(f"costloop_http_requests_total{_labels(method, route, status)} {s.count}")
        out += [
            "# HELP costloop_http_request_duration_seconds Time to answer HTTP requests.",
            "# TYPE costloop_http_request_duration_seconds histogram",
        ]
        name = "costloop_http_request_duration_seconds"
        for (method, route, status), s in items:
            for bound, n in zip(BUCKETS, s.buckets, strict=True):
                labels = _labels(method, route, status, le=_num(bound))
                out.append(f"{name}_bucket{labels} {n}")
            out.append(f"{name}_bucket{_labels(method, route, status, le='+Inf')} {s.count}")
            out.append(f"{name}_sum{_labels(method, route, status)} {_num(s.total)}")
            out.append(f"{name}_count{_labels(method, route, status)} {s.count}")
        return out


def _copy(series: _Series) -> _Series:
    return _Series(series.count, series.total, list(series.buckets))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(method: str, route: str, status: str, **more: str) -> str:
    pairs = {"method": method, "route": route, "status": status, **more}
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}"


def _num(value: float) -> str:
    return repr(float(value))


def route_templates(routes: Sequence[BaseRoute]) -> dict[tuple[Any, str], str]:
    """(endpoint, method) → full path template of every route, prefixes included.

    FastAPI puts the matched route in the scope with its own path only (without the
    prefixes of the routers that include it), so the label comes from this table.
    """
    table: dict[tuple[Any, str], str] = {}
    for context in iter_route_contexts(routes):
        template = context.path_format
        if context.endpoint is None or not isinstance(template, str):
            continue
        for method in context.methods or ():
            table.setdefault((context.endpoint, method), template)
    return table


class RequestMetrics:
    """ASGI middleware feeding a ``RequestStats`` with every HTTP request.

    Args:
        app: the wrapped ASGI app.
        stats: where requests are counted.
        routes: gives the application's routes (read at the first request, once all
            routers are included).
    """

    def __init__(
        self, app: ASGIApp, stats: RequestStats, routes: Callable[[], Sequence[BaseRoute]]
    ) -> None:
        self.app = app
        self.stats = stats
        self._routes = routes
        self._templates: dict[tuple[Any, str], str] | None = None

    def _route_of(self, scope: Scope) -> str:
        if self._templates is None:
            self._templates = route_templates(self._routes())
        found = self._templates.get((scope.get("endpoint"), scope.get("method", "")))
        if found is not None:
            return found
        path = getattr(scope.get("route"), "path", None)
        # Unmatched paths are one series: raw paths would let clients create unlimited ones.
        return path if isinstance(path, str) and path else "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            self.stats.observe(
                scope.get("method", "GET"),
                self._route_of(scope),
                status,
                time.perf_counter() - started,
            )


def _gauge(name: str, help_text: str, samples: Iterable[tuple[str, Any]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{labels} {value}" for labels, value in samples]
    return lines


def _warehouse_lines(ws: Workspace, connect: Connect | None) -> list[str]:
    opened = connect() if connect is not None else open_engine(ws.lake, read_only=True)
    with opened as engine:
        loads = engine.table("loads")
        latest = engine.rows(
            loads.order_by(loads.loaded_at.desc()).limit(1).select("loaded_at", "rows", "kind")
        )
        charges = engine.rows(engine.table("charges").count().name("n").as_table())
    last_time, last_rows = 0.0, 0
    if latest:
        loaded_at = latest[0]["loaded_at"]
        if isinstance(loaded_at, datetime):
            stamp = loaded_at if loaded_at.tzinfo else loaded_at.replace(tzinfo=UTC)
            last_time = stamp.timestamp()
        last_rows = int(latest[0]["rows"] or 0)
    return [
        *_gauge(
            "costloop_last_ingest_timestamp_seconds",
            "When the newest load finished (Unix time; 0 before the first ingest).",
            [("", _num(last_time))],
        ),
        *_gauge("costloop_last_ingest_rows", "Rows of the newest load.", [("", last_rows)]),
        *_gauge(
            "costloop_warehouse_rows",
            "Rows in a warehouse table.",
            [('{table="charges"}', int(charges[0]["n"]) if charges else 0)],
        ),
    ]


def _state_lines(ws: Workspace) -> list[str]:
    with ws.state.session() as session:
        anomalies = dict(
            session.execute(
                select(AnomalyRow.status, func.count()).group_by(AnomalyRow.status)
            ).all()
        )
        opportunities = dict(
            session.execute(
                select(OpportunityRow.status, func.count()).group_by(OpportunityRow.status)
            ).all()
        )
    return [
        *_gauge(
            "costloop_open_anomalies",
            "Anomalies not yet resolved (new or acknowledged).",
            [("", sum(int(anomalies.get(s, 0)) for s in OPEN_STATUSES))],
        ),
        *_gauge(
            "costloop_anomalies",
            "Anomalies by status.",
            [(f'{{status="{_escape(str(k))}"}}', int(v)) for k, v in sorted(anomalies.items())],
        ),
        *_gauge(
            "costloop_open_opportunities",
            "Opportunities waiting for review (status open).",
            [("", int(opportunities.get(Status.OPEN.value, 0)))],
        ),
        *_gauge(
            "costloop_opportunities",
            "Opportunities by status.",
            [(f'{{status="{_escape(str(k))}"}}', int(v)) for k, v in sorted(opportunities.items())],
        ),
    ]


def render(
    ws: Workspace,
    stats: RequestStats,
    warm_rounds: int | None = None,
    connect: Connect | None = None,
) -> str:
    """The whole scrape body in the Prometheus text exposition format (version 0.0.4).

    ``warm_rounds``: how many times the server has computed the page figures in the
    background (``costloop serve``); left out when it does not. ``connect`` opens the
    warehouse (the server's shared reader); a fresh connection when None.
    """
    lines = stats.lines() + _warehouse_lines(ws, connect) + _state_lines(ws)
    if warm_rounds is not None:
        lines += _gauge(
            "costloop_web_warm_rounds",
            "Times the overview, explorer and team figures were computed in the background.",
            [("", warm_rounds)],
        )
    return "\n".join(lines) + "\n"
