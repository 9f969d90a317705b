"""Messages from alerts: Slack blocks, the generic webhook JSON, e-mail text and HTML.

A message carries one alert, or all of a channel's alerts in digest mode. Rendering is
pure; transports send the bytes.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from costloop.core.money import format_money
from costloop.notify.alert import Alert

__all__ = [
    "SLACK_MAX_ALERTS",
    "WEBHOOK_VERSION",
    "email_message",
    "message_key",
    "slack_payload",
    "subject_line",
    "webhook_payload",
]

WEBHOOK_VERSION = 1
# Slack refuses messages of more than 50 blocks. A digest shows this many alerts: a
# header, a section per alert with dividers between, and a closing "more" line.
SLACK_MAX_ALERTS = 24
_ICONS = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


def message_key(alerts: Sequence[Alert]) -> str:
    """The Idempotency-Key of a message: the alert's key, or a digest of all keys."""
    if len(alerts) == 1:
        return alerts[0].key
    joined = "\n".join(sorted(a.key for a in alerts))
    return "digest:" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def _totals(alerts: Sequence[Alert]) -> str:
    by_currency: dict[str, Any] = {}
    for a in alerts:
        by_currency[a.currency] = by_currency.get(a.currency, 0) + a.amount
    return " + ".join(format_money(v, c) for c, v in sorted(by_currency.items()))


def subject_line(alerts: Sequence[Alert]) -> str:
    """One line naming the message: the alert's title, or a count and total for a digest."""
    if len(alerts) == 1:
        a = alerts[0]
        amount = "" if a.subject == "test" else f": {a.amount_text}"
        return f"[costloop] {a.title}{amount}"
    # Anomaly impacts add up; budget amounts (spend to date) do not add to them.
    anomalies = [a for a in alerts if a.subject == "anomaly"]
    budgets = [a for a in alerts if a.subject == "budget"]
    parts = []
    if anomalies:
        noun = "anomaly" if len(anomalies) == 1 else "anomalies"
        parts.append(f"{len(anomalies)} {noun}, {_totals(anomalies)} above expected")
    if budgets:
        parts.append(f"{len(budgets)} budget threshold{'' if len(budgets) == 1 else 's'}")
    others = len(alerts) - len(anomalies) - len(budgets)
    if others:
        parts.append(f"{others} other")
    return f"[costloop] {len(alerts)} cost alerts: " + "; ".join(parts)


def _facts(a: Alert) -> list[tuple[str, str]]:
    facts = [("How much", a.amount_text), ("Since", a.since.isoformat())]
    if a.root_cause:
        facts.append(("Root cause", a.root_cause))
    owner = " · ".join(x for x in (a.team or "", a.owner) if x)
    if owner:
        facts.append(("Owner", owner))
    facts += list(a.fields.items())
    if a.link:
        facts.append(("Details", a.link))
    return facts


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_alert(a: Alert) -> dict[str, Any]:
    lines = [f"{_ICONS[a.severity]} *{_slack_escape(a.title)}*"]
    for name, value in _facts(a):
        if name == "Details":
            lines.append(f"*{name}:* <{a.link}|open in costloop>")
        else:
            lines.append(f"*{name}:* {_slack_escape(value)}")
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}


def slack_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (notification fallback) and ``blocks``."""
    text = subject_line(alerts).removeprefix("[costloop] ")
    blocks: list[dict[str, Any]] = []
    if len(alerts) > 1:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": text[:150]}})
    shown = alerts[:SLACK_MAX_ALERTS]
    for i, a in enumerate(shown):
        if i:
            blocks.append({"type": "divider"})
        blocks.append(_slack_alert(a))
    if len(alerts) > len(shown):
        more = len(alerts) - len(shown)
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"…and {more} more alerts"}],
            }
        )
    return {"text": text, "blocks": blocks}


def webhook_payload(alerts: Sequence[Alert], channel: str, sent_at: datetime) -> dict[str, Any]:
    """The generic webhook body (docs/alerts.md): version, channel, time and the alerts."""
    return {
        "version": WEBHOOK_VERSION,
        "type": "costloop.alerts",
        "channel": channel,
        "sent_at": sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "idempotency_key": message_key(alerts),
        "digest": len(alerts) > 1,
        "alerts": [a.as_json() for a in alerts],
    }


def _text_body(alerts: Sequence[Alert]) -> str:
    out = []
    if len(alerts) > 1:
        out += [subject_line(alerts).removeprefix("[costloop] "), ""]
    for a in alerts:
        out.append(f"{a.title} [{a.severity}]")
        out += [f"  {name}: {value}" for name, value in _facts(a)]
        out.append("")
    out.append("Sent by costloop.")
    return "\n".join(out) + "\n"


def _html_body(alerts: Sequence[Alert]) -> str:
    esc = html.escape
    parts = ["<html><body style='font-family:sans-serif'>"]
    if len(alerts) > 1:
        parts.append(f"<h2>{esc(subject_line(alerts).removeprefix('[costloop] '))}</h2>")
    for a in alerts:
        parts.append(f"<h3>{esc(a.title)} <small>[{esc(a.severity)}]</small></h3><table>")
        for name, value in _facts(a):
            cell = (
                f"<a href='{esc(value, quote=True)}'>{esc(value)}</a>"
                if name == "Details"
                else esc(value)
            )
            parts.append(f"<tr><th align='left'>{esc(name)}</th><td>{cell}</td></tr>")
        parts.append("</table>")
    parts.append("<p><small>Sent by costloop.</small></p></body></html>")
    return "\n".join(parts) + "\n"


def email_message(
    alerts: Sequence[Alert], sender: str, to: Sequence[str], sent_at: datetime
) -> EmailMessage:
    """A multipart/alternative e-mail: plain text first, then a simple HTML version."""
    msg = EmailMessage()
    msg["Subject"] = subject_line(alerts)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = make_msgid("costloop")
    msg["X-Costloop-Idempotency-Key"] = message_key(alerts)
    msg.set_content(_text_body(alerts))
    msg.add_alternative(_html_body(alerts), subtype="html")
    return msg
