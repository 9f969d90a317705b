"""``costloop anomalies``: detect, list, show, acknowledge, resolve and comment."""

from __future__ import annotations

import getpass
import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from rich.markup import escape

from costloop.analytics.anomaly_store import (
    SYSTEM_ACTOR,
    acknowledge,
    comment,
    get,
    list_anomalies,
    parse_statuses,
    record,
    reopen,
    resolve,
)
from costloop.analytics.anomaly_view import (
    AnomalyStats,
    AnomalyView,
    RecordResult,
    anomaly_json,
    stats_of,
)
from costloop.cli.common import (
    WorkspaceOption,
    console,
    err_console,
    file_progress,
    open_workspace,
    parse_day,
    print_json,
    table,
)
from costloop.core.money import format_money
from costloop.warehouse.engine import open_engine
from costloop.workspace import Workspace

__all__ = ["register"]

anomalies_app = typer.Typer(
    help="Cost anomalies: detect them, then acknowledge, comment and resolve the events."
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NoteOption = Annotated[str, typer.Option("--note", help="Text recorded in the history.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Who is acting (default: $COSTLOOP_USER, else the OS user name).",
        show_default=False,
    ),
]
IdArgument = Annotated[int, typer.Argument(help="Anomaly id (see `costloop anomalies`).")]

_SPARKS = "▁▂▃▄▅▆▇█"


def _actor(by: str | None) -> str:
    name = (by or os.environ.get("COSTLOOP_USER") or "").strip()
    return name or getpass.getuser()


def _scope_text(view: AnomalyView, sep: str = ", ") -> str:
    if not view.scope:
        return "(all costs)"
    return sep.join(f"{k}={v}" for k, v in view.scope.items())


def _window(view: AnomalyView) -> str:
    if view.start == view.end:
        return f"{view.start} (1d)"
    end = f"{view.end:%m-%d}" if view.end.year == view.start.year else str(view.end)
    return f"{view.start}..{end} ({view.days}d)"


def _pct(value: Decimal | None) -> str:
    return "new cost" if value is None else f"{value:+.1f}%"


def _impact(view: AnomalyView) -> str:
    return f"{format_money(view.impact, view.currency)} ({_pct(view.impact_pct)})"


def _short(value: str, width: int = 40) -> str:
    """A long resource id by its last path segment (ARNs, Azure ids, GCP paths)."""
    if len(value) <= width:
        return value
    last = value.replace(":", "/").rstrip("/").rsplit("/", 1)[-1]
    return "…" + (last if len(last) < width else last[-(width - 1) :])


def _top_cause(view: AnomalyView) -> str:
    """The most telling contributor: a resource carrying most of the impact, else the
    largest contributor the scope does not already name."""
    fresh = [r for r in view.root_cause if r.dimension not in view.scope]
    if not fresh:
        return ""
    resources = [r for r in fresh if r.dimension == "ResourceId" and r.share >= Decimal("0.5")]
    top = resources[0] if resources else fresh[0]
    return f"{top.dimension}={_short(top.value)} ({top.share * 100:.0f}%)"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "n/a"
    hours = Decimal(int(delta.total_seconds())) / Decimal(3600)
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def _footer(stats: AnomalyStats) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in stats.by_status.items())
    return (
        f"{stats.total} events ({counts}); {stats.open} open. Time to acknowledge: "
        f"mean {_duration(stats.mean_time_to_ack)}, "
        f"median {_duration(stats.median_time_to_ack)} "
        f"over {stats.acknowledged} acknowledged."
    )


def _run_detection(ws: Workspace, since: date | None, show_progress: bool) -> RecordResult:
    # Imported here: detection loads the numeric stack, which the other commands
    # (and `costloop --help`) do not need.
    from costloop.analytics.anomalies import detect

    with open_engine(ws.lake) as engine, file_progress(show_progress) as update:

        def progress(done: int, total: int) -> None:
            if update is not None and total > 0:
                update("Detecting anomalies", done / total)

        detection = detect(ws, engine, since=since, progress=progress)
    result = record(ws.state, ws.org, detection.anomalies, actor=SYSTEM_ACTOR)
    if show_progress and detection.series_count == 0:
        err_console.print(
            "No allocated charges to score: load bills with `costloop ingest`, then run "
            "`costloop allocate`.",
            highlight=False,
        )
    elif show_progress:
        err_console.print(
            f"Scored {detection.series_count} daily series over {detection.days} days: "
            f"{len(detection.anomalies)} anomalies, {result.new} new, {result.updated} "
            f"updated, {result.unchanged} unchanged, {result.closed} already closed.",
            highlight=False,
        )
    return result


@anomalies_app.callback(invoke_without_command=True)
def anomalies(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Only events ending on or after this day (YYYY-MM-DD)."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="Only these statuses, comma-separated: new, acknowledged, resolved, "
            "false-positive, or open / closed."
        ),
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only events owned by this team.")] = None,
    as_json: JsonOption = False,
    no_detect: Annotated[
        bool,
        typer.Option("--no-detect", help="List the stored events without running detection."),
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Detect cost anomalies, record them as events (no duplicates), and list the events."""
    if ctx.invoked_subcommand is not None:
        return
    since_day = parse_day(since, "--since")
    statuses = None if status is None else parse_statuses(status)
    ws = open_workspace(workspace)
    if not no_detect:
        _run_detection(ws, since_day, show_progress=not as_json)
    views = list_anomalies(ws.state, since=since_day, status=statuses, team=team)
    stats = stats_of(views)
    if as_json:
        print_json({"anomalies": [anomaly_json(v) for v in views], "summary": stats.to_json()})
        return
    title = "Cost anomalies" + (f" ending on or after {since_day}" if since_day else "")
    if not views:
        filtered = since_day is not None or statuses is not None or team is not None
        console.print(
            "No anomaly events" + (" match these filters." if filtered else " recorded."),
            highlight=False,
        )
        return
    console.print(
        table(
            title,
            [
                "#id",
                "scope",
                "window",
                "kind",
                "$expected",
                "$actual",
                "$impact",
                "top root cause",
                "owner",
                "status",
            ],
            [
                [
                    v.id,
                    escape(_scope_text(v, "\n")),
                    _window(v),
                    v.kind,
                    format_money(v.expected_cost, v.currency),
                    format_money(v.actual_cost, v.currency),
                    _impact(v),
                    escape(_top_cause(v)),
                    escape(v.owner_team),
                    v.status,
                ]
                for v in views
            ],
        )
    )
    console.print(_footer(stats), highlight=False)


def _sparkline(values: list[Decimal]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    if span == 0:
        return _SPARKS[0] * len(values)
    top = len(_SPARKS) - 1
    return "".join(_SPARKS[int((v - low) / span * top)] for v in values)


def _show_text(view: AnomalyView) -> None:
    c = view.currency
    lines = [
        f"[bold]Anomaly {view.id}[/]: {view.kind} on {escape(_scope_text(view))}",
        f"  window       {view.start} .. {view.end} ({view.days} days)",
        f"  expected     {format_money(view.expected_cost, c)}",
        f"  actual       {format_money(view.actual_cost, c)}",
        f"  impact       {_impact(view)}; largest day {format_money(view.max_daily_impact, c)}",
        f"  owner        {escape(view.owner_team)}"
        + (f" <{escape(view.owner_email)}>" if view.owner_email else "")
        + f" (from {view.owner_source})",
        f"  status       {view.status}",
        f"  detected     first {view.first_detected:%Y-%m-%d %H:%M}Z, "
        f"last {view.last_detected:%Y-%m-%d %H:%M}Z",
        f"  time to ack  {_duration(view.time_to_ack)}",
    ]
    console.print("\n".join(lines), highlight=False)
    if view.root_cause:
        console.print(
            table(
                "Root cause",
                ["dimension", "value", "$impact", "%share"],
                [
                    [
                        r.dimension,
                        escape(r.value),
                        format_money(r.impact, c),
                        f"{r.share * 100:.1f}%",
                    ]
                    for r in view.root_cause
                ],
            )
        )
    if view.series:
        actual = [p.actual for p in view.series]
        console.print(f"Daily cost {_sparkline(actual)}  (actual, {view.series[0].day} ..)")
        console.print(
            table(
                None,
                ["day", "$actual", "$expected", "band", "$actual − expected", ""],
                [
                    [
                        p.day,
                        format_money(p.actual, c),
                        format_money(p.expected, c),
                        f"{format_money(p.lower, c)} – {format_money(p.upper, c)}",
                        format_money(p.actual - p.expected, c),
                        "◀ anomaly" if view.start <= p.day <= view.end else "",
                    ]
                    for p in view.series
                ],
            )
        )
    console.print(
        table(
            "History",
            ["at", "by", "action", "status", "note"],
            [
                [
                    f"{e.at:%Y-%m-%d %H:%M}Z",
                    escape(e.actor),
                    e.action,
                    f"{e.from_status} → {e.to_status}" if e.from_status else e.to_status,
                    escape(e.note),
                ]
                for e in view.history
            ],
        )
    )


@anomalies_app.command("show")
def show(
    anomaly_id: IdArgument, as_json: JsonOption = False, workspace: WorkspaceOption = None
) -> None:
    """One anomaly in detail: root cause, the daily series around it, and its history."""
    ws = open_workspace(workspace)
    view = get(ws.state, anomaly_id)
    if as_json:
        print_json(anomaly_json(view, detail=True))
        return
    _show_text(view)


def _done(view: AnomalyView, actor: str) -> None:
    console.print(
        f"Anomaly {view.id} is now [bold]{view.status}[/] (by {escape(actor)}): "
        f"{escape(_scope_text(view))}, {_impact(view)}",
        highlight=False,
    )


@anomalies_app.command("ack")
def ack(
    anomaly_id: IdArgument,
    note: NoteOption = "",
    by: ByOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Acknowledge a new anomaly: its owner has seen it (this fixes its time to acknowledge)."""
    ws = open_workspace(workspace)
    actor = _actor(by)
    _done(acknowledge(ws.state, anomaly_id, actor, note), actor)


@anomalies_app.command("resolve")
def resolve_cmd(
    anomaly_id: IdArgument,
    note: Annotated[
        str, typer.Option("--note", help="Why it is resolved (required).", show_default=False)
    ],
    false_positive: Annotated[
        bool,
        typer.Option("--false-positive", help="Close it as a false positive (not a real issue)."),
    ] = False,
    by: ByOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Close an anomaly as resolved (or --false-positive), with a note saying why."""
    ws = open_workspace(workspace)
    actor = _actor(by)
    _done(resolve(ws.state, anomaly_id, actor, note, false_positive=false_positive), actor)


@anomalies_app.command("reopen")
def reopen_cmd(
    anomaly_id: IdArgument,
    note: NoteOption = "",
    by: ByOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Reopen a resolved or false-positive anomaly (back to acknowledged)."""
    ws = open_workspace(workspace)
    actor = _actor(by)
    _done(reopen(ws.state, anomaly_id, actor, note), actor)


@anomalies_app.command("comment")
def comment_cmd(
    anomaly_id: IdArgument,
    note: Annotated[str, typer.Option("--note", help="The comment.", show_default=False)],
    by: ByOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a comment to an anomaly's history."""
    ws = open_workspace(workspace)
    actor = _actor(by)
    view = comment(ws.state, anomaly_id, actor, note)
    console.print(f"Comment added to anomaly {view.id} by {escape(actor)}.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``anomalies`` command group to the app."""
    app.add_typer(anomalies_app, name="anomalies")
