"""``costloop alerts``: send anomaly and budget alerts, test a channel, read the log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from costloop.cli.common import (
    WorkspaceOption,
    console,
    open_workspace,
    print_json,
    table,
)
from costloop.core.errors import ConfigError, ExecutionError
from costloop.core.org import Org
from costloop.notify.alert import channel_test_alert
from costloop.notify.config import AlertsConfig, Channel
from costloop.notify.dispatch import (
    DeliveryResult,
    DispatchReport,
    alerts_file,
    deliver,
    dispatch,
    load_alerts_config,
)
from costloop.notify.sources import anomaly_alerts, budget_alerts, delivery_log
from costloop.workspace import Workspace

__all__ = ["register"]

_DOCS = "docs/alerts.md"
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
alerts_app = typer.Typer(
    help="Alerts to owners: Slack, signed webhooks and e-mail, with a delivery log.",
    no_args_is_help=True,
)


def _config(ws: Workspace) -> AlertsConfig:
    config = load_alerts_config(ws)
    if not config.channels:
        raise ConfigError(
            f"no alert channels: {alerts_file(ws)} defines none (see {_DOCS} for the format)"
        )
    return config


def _receives(config: AlertsConfig, channel: Channel, org: Org) -> str:
    """Whose alerts a channel gets, for people."""
    if channel.name in config.routes.always:
        return "all alerts (always)"
    teams = [t.name for t in org.teams if channel.name in config.channels_for(t.name, org)]
    parts = []
    if channel.name in config.routes.default:
        parts.append("default")
    parts += [f"team {t}" for t in teams]
    return ", ".join(parts) or "nothing (not routed)"


def _result_json(r: DeliveryResult) -> dict[str, Any]:
    return {
        "channel": r.channel,
        "channel_type": r.channel_type,
        "idempotency_key": r.alert.key,
        "subject": r.alert.subject,
        "subject_id": r.alert.subject_id,
        "title": r.alert.title,
        "team": r.alert.team,
        "amount": r.alert.amount,
        "currency": r.alert.currency,
        "status": r.status,
        "attempts": r.attempts,
        "response_code": r.code,
        "error": r.error or None,
    }


def _report_json(report: DispatchReport, config: AlertsConfig) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "channels": [
            {
                "name": name,
                "type": config.channels[name].type,
                "digest": config.channels[name].digest,
                **{s: report.count(s, name) for s in ("sent", "skipped", "failed", "pending")},
            }
            for name in report.channels
        ],
        "deliveries": [_result_json(r) for r in report.results],
        "unrouted": [a.key for a in report.unrouted],
    }


def _print_report(report: DispatchReport, config: AlertsConfig) -> None:
    for name in report.channels:
        channel = config.channels[name]
        rows = [r for r in report.results if r.channel == name]
        mode = "digest" if channel.digest else "one message per alert"
        console.print(
            table(
                escape(f"{name} ({channel.type}, {mode}, {channel.target})"),
                ["status", "alert", "$how much", "#attempts", "result"],
                [
                    [
                        r.status,
                        escape(r.alert.title),
                        r.alert.amount_text,
                        r.attempts or "",
                        escape(r.error) or ("" if r.code is None else f"answer {r.code}"),
                    ]
                    for r in rows
                ],
            ),
            highlight=False,
        )
    for alert in report.unrouted:
        console.print(
            f"not routed (no channel for team {alert.team or 'unknown'} and no default): "
            f"{alert.title}",
            highlight=False,
            markup=False,
        )
    counts = ", ".join(
        f"{report.count(s)} {s}"
        for s in ("sent", "skipped", "failed", "pending")
        if report.count(s) or s in ("sent", "failed")
    )
    console.print(("Dry run, nothing sent: " if report.dry_run else "") + counts, highlight=False)


@alerts_app.command("send")
def send(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send and log nothing.")
    ] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Alert owners about new and acknowledged anomalies and budget thresholds reached.

    Each alert goes to a channel once (the delivery log remembers it); failed ones are
    tried again next time. Exit code 1 when a delivery failed.
    """
    ws = open_workspace(workspace)
    config = _config(ws)
    alerts = anomaly_alerts(ws) + budget_alerts(ws)
    report = dispatch(ws, alerts, dry_run=dry_run, config=config)
    if as_json:
        print_json(_report_json(report, config))
    else:
        if not alerts:
            console.print("Nothing to alert about: no open anomaly, no budget threshold reached.")
        _print_report(report, config)
    if not report.ok:
        failed = report.count("failed")
        raise ExecutionError(
            f"{failed} deliver{'y' if failed == 1 else 'ies'} failed; they are tried again "
            "by the next `costloop alerts send` (details: `costloop alerts log`)"
        )


@alerts_app.command("test")
def test_channel(
    channel: Annotated[str, typer.Option("--channel", "-c", help="Channel name in alerts.yaml.")],
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Send a test message to one channel and say whether it arrived (exit 1 if not)."""
    ws = open_workspace(workspace)
    config = load_alerts_config(ws)
    found = config.channel(channel)
    secrets = ((found.url, "URL"), (found.secret, "secret"), (found.password, "password"))
    for secret, what in secrets:
        if secret.given:
            secret.resolve(what=f"{what} of channel {found.name}")
    now = datetime.now(UTC)
    alert = channel_test_alert(found.name, now, server_url=ws.config.str_("server.url"))
    result = deliver(ws, found, [alert], config.delivery, now=now)[0]
    where = f"{found.name} ({found.type}, {found.target})"
    if as_json:
        print_json(_result_json(result))
    elif result.status == "sent":
        code = "" if result.code is None else f", answer {result.code}"
        console.print(
            f"Test message sent to {where} after {result.attempts} attempt(s){code}.",
            highlight=False,
            markup=False,
        )
    if result.status != "sent":
        raise ExecutionError(
            f"test message to {where} failed after {result.attempts} attempt(s): {result.error}"
        )


@alerts_app.command("log")
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N entries.")] = 50,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The delivery log: each alert on each channel, its status, attempts and last error."""
    ws = open_workspace(workspace)
    entries = delivery_log(ws, limit)
    if as_json:
        print_json(
            {
                "deliveries": [
                    {
                        "id": e.id,
                        "idempotency_key": e.idempotency_key,
                        "channel": e.channel,
                        "channel_type": e.channel_type,
                        "subject": e.subject,
                        "subject_id": e.subject_id,
                        "title": e.title,
                        "status": e.status,
                        "attempts": e.attempts,
                        "response_code": e.response_code,
                        "last_error": e.last_error or None,
                        "created_at": e.created_at,
                        "updated_at": e.updated_at,
                        "sent_at": e.sent_at,
                        "alert": e.payload,
                    }
                    for e in entries
                ]
            }
        )
        return
    if not entries:
        console.print("The delivery log is empty: run `costloop alerts send`.")
        return
    console.print(
        table(
            "Alert deliveries (newest first)",
            ["updated", "channel", "status", "#attempts", "#code", "alert", "last error"],
            [
                [
                    f"{e.updated_at:%Y-%m-%d %H:%M}",
                    escape(e.channel),
                    e.status,
                    e.attempts,
                    e.response_code,
                    escape(e.title),
                    escape(e.last_error),
                ]
                for e in entries
            ],
        ),
        highlight=False,
    )


@alerts_app.command("channels")
def channels(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Configured channels: type, target (secrets masked), mode, and whose alerts they get."""
    ws = open_workspace(workspace)
    config = load_alerts_config(ws)
    org = ws.org
    if as_json:
        print_json(
            {
                "file": str(alerts_file(ws)),
                "channels": [
                    {
                        "name": c.name,
                        "type": c.type,
                        "target": c.target,
                        "digest": c.digest,
                        "min_impact": c.min_impact,
                        "teams": [
                            t.name for t in org.teams if c.name in config.channels_for(t.name, org)
                        ],
                        "default": c.name in config.routes.default,
                        "always": c.name in config.routes.always,
                    }
                    for c in config.channels.values()
                ],
            }
        )
        return
    if not config.channels:
        console.print(
            f"No alert channels: {alerts_file(ws)} does not exist or defines none (see {_DOCS}).",
            highlight=False,
        )
        return
    console.print(
        table(
            f"Alert channels ({config.source})",
            ["name", "type", "target", "mode", "$min impact", "receives"],
            [
                [
                    escape(c.name),
                    c.type,
                    escape(c.target),
                    "digest" if c.digest else "each alert",
                    "" if c.min_impact is None else c.min_impact,
                    _receives(config, c, org),
                ]
                for c in config.channels.values()
            ],
        ),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(alerts_app, name="alerts")
