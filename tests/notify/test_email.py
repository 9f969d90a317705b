"""E-mail delivery against a real local SMTP server (aiosmtpd), plain and with STARTTLS."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.notify.conftest import NOW, SmtpServer, add_anomaly, free_port, write_alerts

from costloop.notify import dispatch
from costloop.notify.sources import anomaly_alerts
from costloop.workspace import Workspace


def _parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_an_alert_arrives_with_subject_text_html_and_the_owner_as_recipient(
    ws: Workspace, smtp: SmtpServer
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  mail:
    type: email
    host: {smtp.host}
    port: {smtp.port}
    from: costloop@shop.example
    to: [finops@shop.example]
    include_owner: true
routes:
  default: [mail]
""",
    )
    add_anomaly(ws, impact="420.00")
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None)

    assert [(r.status, r.code) for r in report.results] == [("sent", 250)]
    ((rcpt, raw),) = smtp.messages
    assert sorted(rcpt) == ["checkout@shop.example", "finops@shop.example"]
    msg = _parse(raw)
    assert msg["Subject"] == "[costloop] Cost spike in ServiceName AWS Lambda (+140%): $420.00"
    assert msg["From"] == "costloop@shop.example"
    text, html = _bodies(msg)
    assert "How much: $420.00" in text and "Since: 2026-11-17" in text
    assert "Root cause: ResourceId fn-resize +$386.40 (92%)" in text
    assert "<th align='left'>How much</th><td>$420.00</td>" in html


def test_starttls_with_login_delivers_over_an_encrypted_connection(
    ws: Workspace, smtp_tls: SmtpServer, tls_cert: tuple[Path, Path]
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  mail:
    type: email
    host: {smtp_tls.host}
    port: {smtp_tls.port}
    starttls: true
    ca_file: {tls_cert[0]}
    username: bot
    password_env: TEST_SMTP_PASSWORD
    from: costloop@shop.example
    to: finops@shop.example
    digest: true
routes:
  default: [mail]
""",
    )
    add_anomaly(ws, impact="420")
    add_anomaly(ws, impact="150", team="catalog")
    env = {"TEST_SMTP_PASSWORD": "s3cret-pw"}
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=env)

    assert report.count("sent") == 2
    assert smtp_tls.logins == [("bot", "s3cret-pw")]
    ((rcpt, raw),) = smtp_tls.messages  # a digest: one message for both alerts
    assert rcpt == ["finops@shop.example"]
    msg = _parse(raw)
    assert msg["Subject"] == "[costloop] 2 cost alerts: 2 anomalies, $570.00 above expected"
    text, _ = _bodies(msg)
    assert text.index("$420.00") < text.index("$150.00")


def test_an_untrusted_certificate_fails_without_retry_and_keeps_the_password_out(
    ws: Workspace, smtp_tls: SmtpServer
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  mail:
    type: email
    host: {smtp_tls.host}
    port: {smtp_tls.port}
    starttls: true
    username: bot
    password: s3cret-pw
    from: costloop@shop.example
    to: [finops@shop.example]
routes:
  default: [mail]
""",
    )
    add_anomaly(ws)
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None)
    (result,) = report.results
    assert result.status == "failed" and result.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.error and "s3cret" not in result.error
    assert smtp_tls.messages == []


def test_a_wrong_password_is_a_permanent_failure(
    ws: Workspace, smtp_tls: SmtpServer, tls_cert: tuple[Path, Path]
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  mail:
    type: email
    host: {smtp_tls.host}
    port: {smtp_tls.port}
    starttls: true
    ca_file: {tls_cert[0]}
    username: bot
    password: wrong-pw
    from: costloop@shop.example
    to: [finops@shop.example]
routes:
  default: [mail]
""",
    )
    add_anomaly(ws)
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None)
    (result,) = report.results
    assert (result.status, result.attempts, result.code) == ("failed", 1, 535)
    assert "wrong-pw" not in result.error


def test_no_smtp_server_is_retried_then_failed_while_another_channel_delivers(
    ws: Workspace, smtp: SmtpServer
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  down:
    type: email
    host: 127.0.0.1
    port: {free_port()}
    from: costloop@shop.example
    to: [finops@shop.example]
  up:
    type: email
    host: {smtp.host}
    port: {smtp.port}
    from: costloop@shop.example
    to: [team@shop.example]
routes:
  default: [down, up]
""",
    )
    add_anomaly(ws)
    waits: list[float] = []
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append)
    by_channel = {r.channel: r for r in report.results}
    assert by_channel["down"].status == "failed" and by_channel["down"].attempts == 3
    assert "ConnectionRefused" in by_channel["down"].error
    assert by_channel["up"].status == "sent" and len(smtp.messages) == 1
    assert waits == [0.5, 1.0]
