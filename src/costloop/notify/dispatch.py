"""Reliable delivery: route alerts to channels, send with retries, log every outcome.

``dispatch`` sends each (alert, channel) pair at most once: pairs already ``sent`` in
the delivery log (``alert_deliveries``) are skipped, failed ones are tried again on the
next dispatch. Before sending, a dispatch claims each pair in the log (status
``sending``, a unique row per pair), so two dispatches running at the same moment (a
scheduled run and a manual ``costloop alerts send``) never both send it; a claim whose
process died is taken over once it is older than the longest a send can take. A channel
that fails (bad answer, no answer, missing secret, any error) never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from costloop.core.errors import ConfigError
from costloop.core.org import Org
from costloop.notify.alert import Alert
from costloop.notify.config import AlertsConfig, Channel, Delivery, parse_alerts
from costloop.notify.render import email_message, message_key, slack_payload, webhook_payload
from costloop.notify.transport import Attempt, post_json, send_email
from costloop.state.models import AlertDeliveryRow
from costloop.workspace import Workspace

__all__ = [
    "DELIVERY_STATUSES",
    "DeliveryResult",
    "DispatchReport",
    "alerts_file",
    "deliver",
    "dispatch",
    "load_alerts_config",
    "route",
    "send_message",
]

# Outcomes of one (alert, channel) pair; "pending" is what a dry run would send.
DELIVERY_STATUSES = ("sent", "failed", "skipped", "pending")
_UNREACHABLE = "not tried: the channel did not answer earlier in this dispatch"
_SENDING = "sending"  # claimed by a dispatch that is sending it now
MAX_RETRY_AFTER = 60.0
"""Longest ``Retry-After`` a dispatch waits for; a longer one ends that message's tries."""


def load_alerts_config(ws: Workspace) -> AlertsConfig:
    """The workspace's alerts file (setting ``alerts.file``); no channels without one."""
    path = alerts_file(ws)
    text = path.read_text(encoding="utf-8") if path.exists() else None
    return parse_alerts(text, str(path), ws.org, base=path.parent)


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one alert on one channel in a dispatch.

    Attributes:
        status: ``sent``, ``failed``, ``skipped`` (sent before) or ``pending`` (dry run).
        attempts: tries made in this dispatch (0 when skipped or not tried).
        code: last HTTP status or SMTP reply code.
        error: last error ("" when sent).
        message_key: Idempotency-Key of the message that carried it (digests share one).
    """

    channel: str
    channel_type: str
    alert: Alert
    status: str
    attempts: int = 0
    code: int | None = None
    error: str = ""
    message_key: str = ""


@dataclass
class DispatchReport:
    """Every (alert, channel) outcome of one dispatch, in routing order."""

    results: list[DeliveryResult] = field(default_factory=list)
    unrouted: list[Alert] = field(default_factory=list)
    dry_run: bool = False

    def count(self, status: str, channel: str | None = None) -> int:
        """How many pairs ended with ``status`` (on one channel, or on all)."""
        return sum(
            1
            for r in self.results
            if r.status == status and (channel is None or r.channel == channel)
        )

    @property
    def channels(self) -> list[str]:
        """Channel names in the order they were handled."""
        return list(dict.fromkeys(r.channel for r in self.results))

    @property
    def ok(self) -> bool:
        """No pair failed."""
        return self.count("failed") == 0


def route(
    config: AlertsConfig, org: Org, alerts: Iterable[Alert]
) -> tuple[dict[str, list[Alert]], list[Alert]]:
    """Alerts per channel (routes and each channel's ``min_impact``), and those routed nowhere."""
    plan: dict[str, list[Alert]] = {}
    unrouted: list[Alert] = []
    keys: set[str] = set()
    for alert in alerts:
        if alert.key in keys:  # the same alert listed twice is sent once
            continue
        keys.add(alert.key)
        names = config.channels_for(alert.team, org)
        taken = False
        for name in names:
            channel = config.channels[name]
            if channel.min_impact is not None and alert.amount < channel.min_impact:
                continue
            plan.setdefault(name, []).append(alert)
            taken = True
        if not taken:
            unrouted.append(alert)
    return plan, unrouted


def send_message(
    channel: Channel,
    alerts: Sequence[Alert],
    *,
    timeout: float,
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> Attempt:
    """One try at sending ``alerts`` as one message on ``channel``.

    Raises:
        ConfigError: a secret's environment variable is not set.
    """
    key = message_key(alerts)
    if channel.type == "slack":
        url = channel.url.resolve(environ, what=f"URL of channel {channel.name}")
        return post_json(url, slack_payload(alerts), timeout=timeout, idempotency_key=key)
    if channel.type == "webhook":
        url = channel.url.resolve(environ, what=f"URL of channel {channel.name}")
        secret = channel.secret.resolve(environ, what=f"HMAC secret of channel {channel.name}")
        body = webhook_payload(alerts, channel.name, now)
        return post_json(
            url, body, timeout=timeout, idempotency_key=key, secret=secret, sent_at=now
        )
    password = channel.password.resolve(environ, what=f"password of channel {channel.name}")
    to = list(channel.to)
    if channel.include_owner:
        to += [a.owner for a in alerts if a.owner and a.owner not in to]
    if not to:
        return Attempt(False, None, "no recipient: the alerts have no owner address")
    message = email_message(alerts, channel.sender, list(dict.fromkeys(to)), now)
    return send_email(
        message,
        host=channel.host,
        port=channel.port,
        timeout=timeout,
        starttls=channel.starttls,
        ca_file=channel.ca_file,
        username=channel.username,
        password=password,
    )


def _with_retries(
    channel: Channel,
    alerts: Sequence[Alert],
    delivery: Delivery,
    now: datetime,
    sleep: Callable[[float], None],
    environ: Mapping[str, str] | None,
) -> tuple[Attempt, int]:
    waits = delivery.waits()
    tries = 0
    while True:
        tries += 1
        try:
            attempt = send_message(
                channel,
                alerts,
                timeout=float(delivery.timeout_seconds),
                now=now,
                environ=environ,
            )
        except ConfigError as exc:
            return Attempt(False, None, str(exc)), tries
        except Exception as exc:  # a bug or an odd server must not stop other channels
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500]), tries
        if attempt.ok or not attempt.retryable or tries > len(waits):
            return attempt, tries
        wait = waits[tries - 1]
        if attempt.retry_after is not None:
            if attempt.retry_after > MAX_RETRY_AFTER:
                # Not worth holding the dispatch: the next one tries again.
                note = f"; the server asked to retry after {attempt.retry_after:.0f} s"
                return replace(attempt, error=attempt.error + note), tries
            wait = max(wait, attempt.retry_after)
        sleep(wait)


def _delivery_row(session: Session, key: str, channel: str) -> AlertDeliveryRow | None:
    """The log row of one (alert key, channel) pair, if any."""
    return session.scalars(
        select(AlertDeliveryRow).where(
            AlertDeliveryRow.idempotency_key == key, AlertDeliveryRow.channel == channel
        )
    ).one_or_none()


def _record(
    ws: Workspace,
    channel: Channel,
    alerts: Sequence[Alert],
    attempt: Attempt,
    tries: int,
    now: datetime,
) -> None:
    status = "sent" if attempt.ok else "failed"
    with ws.state.session() as session:
        for alert in alerts:
            row = _delivery_row(session, alert.key, channel.name)
            if row is None:
                row = AlertDeliveryRow(
                    idempotency_key=alert.key,
                    channel=channel.name,
                    attempts=0,
                    created_at=now,
                )
                session.add(row)
            row.channel_type = channel.type
            row.subject = alert.subject
            row.subject_id = alert.subject_id
            row.title = alert.title
            row.payload = alert.as_json()
            row.status = status
            row.attempts = row.attempts + tries
            row.response_code = attempt.code
            row.last_error = attempt.error
            row.updated_at = now
            row.sent_at = now if attempt.ok else None


def _claim_ttl(delivery: Delivery) -> timedelta:
    """How long a claim holds: every attempt timing out, the waits between, a margin."""
    retries = delivery.attempts - 1
    seconds = delivery.attempts * float(delivery.timeout_seconds)
    seconds += sum(max(w, MAX_RETRY_AFTER) for w in delivery.waits()) if retries else 0
    return timedelta(seconds=seconds + 60)


def _claim(ws: Workspace, channel: Channel, alert: Alert, now: datetime, ttl: timedelta) -> bool:
    """Mark (alert, channel) as being sent by this dispatch; False when it was sent
    already or another dispatch is sending it (its claim younger than ``ttl``)."""
    try:
        with ws.state.session() as session:
            row = _delivery_row(session, alert.key, channel.name)
            if row is None:
                session.add(
                    AlertDeliveryRow(
                        idempotency_key=alert.key,
                        channel=channel.name,
                        channel_type=channel.type,
                        subject=alert.subject,
                        subject_id=alert.subject_id,
                        title=alert.title,
                        payload=alert.as_json(),
                        status=_SENDING,
                        attempts=0,
                        response_code=None,
                        last_error="",
                        created_at=now,
                        updated_at=now,
                        sent_at=None,
                    )
                )
                return True  # committed on leaving the block; a twin insert fails there
            if row.status == "sent":
                return False
            if row.status == _SENDING and now - row.updated_at < ttl:
                return False
            # Failed before, or claimed by a dispatch that died: take it, unless another
            # dispatch takes it first (the row is no longer the one read above).
            taken = session.execute(
                update(AlertDeliveryRow)
                .where(
                    AlertDeliveryRow.id == row.id,
                    AlertDeliveryRow.status == row.status,
                    AlertDeliveryRow.updated_at == row.updated_at,
                )
                .values(status=_SENDING, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(taken, "rowcount", 0))
    except IntegrityError:
        return False  # another dispatch inserted the same pair first


def _sent_keys(ws: Workspace, channel: str, keys: Sequence[str]) -> set[str]:
    with ws.state.session() as session:
        return set(
            session.scalars(
                select(AlertDeliveryRow.idempotency_key).where(
                    AlertDeliveryRow.channel == channel,
                    AlertDeliveryRow.status == "sent",
                    AlertDeliveryRow.idempotency_key.in_(keys),
                )
            )
        )


def dispatch(
    ws: Workspace,
    alerts: Iterable[Alert],
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    dry_run: bool = False,
    config: AlertsConfig | None = None,
    environ: Mapping[str, str] | None = None,
) -> DispatchReport:
    """Route and send alerts, once per (alert, channel), logging every outcome.

    Args:
        ws: the workspace (its alerts file, org file and state DB).
        alerts: what to send; an alert sent to a channel before is skipped there.
        now: the time recorded in the log and the messages (default: now, UTC).
        sleep: waits between retries (tests pass a recorder).
        dry_run: route and check the log, send nothing, write nothing.
        config: channels and routes (default: the workspace's alerts file).
        environ: where ``*_env`` secrets are read (default: the process environment).

    Raises:
        InputError: the alerts file is invalid.
    """
    config = load_alerts_config(ws) if config is None else config
    now = datetime.now(UTC) if now is None else now
    plan, unrouted = route(config, ws.org, alerts)
    report = DispatchReport(unrouted=unrouted, dry_run=dry_run)
    for name, queued in plan.items():
        channel = config.channels[name]
        done = _sent_keys(ws, name, [a.key for a in queued])
        pending: list[Alert] = []
        for alert in queued:
            if alert.key in done:
                report.results.append(DeliveryResult(name, channel.type, alert, "skipped"))
            else:
                pending.append(alert)
        if dry_run:
            report.results += [DeliveryResult(name, channel.type, a, "pending") for a in pending]
            continue
        ttl = _claim_ttl(config.delivery)
        claimed: list[Alert] = []
        for alert in pending:
            if _claim(ws, channel, alert, now, ttl):
                claimed.append(alert)
            else:
                report.results.append(DeliveryResult(name, channel.type, alert, "skipped"))
        messages = [claimed] if channel.digest and claimed else [[a] for a in claimed]
        unreachable = False
        for message in messages:
            if unreachable:
                attempt, tries = Attempt(False, None, _UNREACHABLE), 0
            else:
                attempt, tries = _with_retries(
                    channel, message, config.delivery, now, sleep, environ
                )
                unreachable = attempt.unreachable
            _record(ws, channel, message, attempt, tries, now)
            report.results += _results(channel, message, attempt, tries)
    return report


def _results(
    channel: Channel, message: Sequence[Alert], attempt: Attempt, tries: int
) -> list[DeliveryResult]:
    key = message_key(message)
    status = "sent" if attempt.ok else "failed"
    return [
        DeliveryResult(
            channel.name, channel.type, a, status, tries, attempt.code, attempt.error, key
        )
        for a in message
    ]


def deliver(
    ws: Workspace,
    channel: Channel,
    message: Sequence[Alert],
    delivery: Delivery,
    *,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] | None = None,
) -> list[DeliveryResult]:
    """Send ``message`` (one or more alerts) on ``channel`` with retries, and log the outcome.

    Unlike ``dispatch`` this does not consult the log first: it always sends.
    """
    attempt, tries = _with_retries(channel, message, delivery, now, sleep, environ)
    _record(ws, channel, message, attempt, tries, now)
    return _results(channel, message, attempt, tries)


def alerts_file(ws: Workspace) -> Path:
    """Path of the workspace's alerts file (it may not exist)."""
    return ws.root / ws.config.str_("alerts.file")
