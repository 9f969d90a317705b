"""Delivery over HTTP against a real loopback server: retries, signatures, isolation, log."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

from sqlalchemy import select
from tests.notify.conftest import NOW, WebhookServer, add_anomaly, free_port, write_alerts

from costloop.notify import dispatch
from costloop.notify.dispatch import DispatchReport
from costloop.notify.sources import anomaly_alerts, delivery_log
from costloop.state.models import AlertDeliveryRow
from costloop.workspace import Workspace

SECRET = "whsec-test-0123456789"


def _webhook_yaml(url: str, *, digest: bool = False, extra: str = "") -> str:
    return f"""\
channels:
  hooks:
    type: webhook
    url: {url}/costloop
    secret_env: TEST_HOOK_SECRET
    digest: {"true" if digest else "false"}
routes:
  default: [hooks]
delivery:
  attempts: 3
  backoff_seconds: 0.5
  timeout_seconds: 1
{extra}"""


ENV = {"TEST_HOOK_SECRET": SECRET}


def _rows(ws: Workspace) -> list[AlertDeliveryRow]:
    with ws.state.session() as s:
        return list(s.scalars(select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)))


def test_503_twice_then_200_is_delivered_on_the_third_attempt_with_backoff(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    anomaly = add_anomaly(ws, impact="420.00")
    webhook.script(503, 503, 200)
    waits: list[float] = []
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append, environ=ENV)

    assert [r.status for r in report.results] == ["sent"]
    assert report.results[0].attempts == 3
    assert waits == [0.5, 1.0]
    assert len(webhook.requests) == 3
    (row,) = _rows(ws)
    assert (row.status, row.attempts, row.response_code, row.last_error) == ("sent", 3, 200, "")
    assert row.idempotency_key == f"anomaly:{anomaly}:2"  # $420 ≥ 4 × $100, < 8 × $100
    assert row.sent_at == NOW


def test_the_signature_verifies_with_the_shared_secret_and_the_body_is_documented_json(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    anomaly = add_anomaly(ws, impact="420.00")
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)

    (req,) = webhook.requests
    expected = hmac.new(SECRET.encode(), req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Costloop-Signature"] == f"sha256={expected}"
    assert req.headers["X-Costloop-Timestamp"] == str(int(NOW.timestamp()))
    assert req.headers["Idempotency-Key"] == f"anomaly:{anomaly}:2"
    assert req.path == "/costloop"
    body = json.loads(req.body)
    assert body["version"] == 1 and body["channel"] == "hooks" and body["digest"] is False
    assert body["sent_at"] == "2026-11-20T09:30:00Z"
    (alert,) = body["alerts"]
    assert alert["amount"] == "420.00" and alert["currency"] == "USD"
    assert alert["since"] == "2026-11-17"
    assert alert["team"] == "checkout" and alert["owner"] == "checkout@shop.example"
    assert alert["root_cause"] == "ResourceId fn-resize +$386.40 (92%)"
    assert alert["title"] == "Cost spike in ServiceName AWS Lambda (+140%)"
    # a tampered body fails verification
    forged = hmac.new(SECRET.encode(), req.body + b" ", hashlib.sha256).hexdigest()
    assert forged != expected


def test_a_400_answer_is_not_retried_and_is_logged_as_failed(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    add_anomaly(ws)
    webhook.script(400)
    waits: list[float] = []
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append, environ=ENV)

    assert len(webhook.requests) == 1 and waits == []
    (result,) = report.results
    assert (result.status, result.attempts, result.code) == ("failed", 1, 400)
    assert "HTTP 400" in result.error and "invalid_payload" in result.error
    (row,) = _rows(ws)
    assert (row.status, row.attempts, row.response_code) == ("failed", 1, 400)


def test_a_server_slower_than_the_timeout_is_retried(ws: Workspace, webhook: WebhookServer) -> None:
    text = _webhook_yaml(webhook.url).replace("timeout_seconds: 1", "timeout_seconds: 0.3")
    write_alerts(ws, text)
    add_anomaly(ws)
    webhook.script(200, 200, delays=(1.0,))
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)

    (result,) = report.results
    assert result.status == "sent" and result.attempts == 2
    assert len(webhook.requests) == 2


def test_failed_deliveries_are_retried_by_the_next_dispatch_and_sent_ones_never_again(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    add_anomaly(ws)
    webhook.script(500, 500, 500)
    first = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert first.count("failed") == 1 and len(webhook.requests) == 3

    second = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert second.count("sent") == 1 and len(webhook.requests) == 4
    third = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert [r.status for r in third.results] == ["skipped"]
    assert len(webhook.requests) == 4
    (row,) = _rows(ws)
    assert (row.status, row.attempts) == ("sent", 4)  # attempts add up across dispatches


def test_a_growing_incident_alerts_again_when_its_impact_doubles(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    anomaly = add_anomaly(ws, impact="420.00")
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    with ws.state.session() as s:
        from costloop.state.models import AnomalyRow

        row = s.get(AnomalyRow, anomaly)
        assert row is not None
        row.impact = row.impact + 10  # a re-run moving the impact a little: same tier
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert len(webhook.requests) == 1
    with ws.state.session() as s:
        row = s.get(AnomalyRow, anomaly)
        assert row is not None
        row.impact = row.impact * 2  # $860 ≥ 8 × $100: tier 3
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert len(webhook.requests) == 2
    assert webhook.requests[1].headers["Idempotency-Key"] == f"anomaly:{anomaly}:3"


def test_a_dead_channel_does_not_stop_the_others_nor_wait_on_every_alert(
    ws: Workspace, webhook: WebhookServer
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    write_alerts(
        ws,
        f"""\
channels:
  dead:
    type: slack
    url: {dead}/services/T0/B0/secret-token
  alive:
    type: slack
    url: {webhook.url}/services/T1/B1/other-token
routes:
  default: [dead, alive]
""",
    )
    add_anomaly(ws, team="search", impact="150")
    add_anomaly(ws, team="search", impact="900")
    waits: list[float] = []
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append)

    assert report.count("sent", "alive") == 2 and len(webhook.requests) == 2
    assert report.count("failed", "dead") == 2
    first, second = [r for r in report.results if r.channel == "dead"]
    assert first.attempts == 3 and "Connection" in first.error
    assert "secret-token" not in first.error
    assert second.attempts == 0 and "did not answer" in second.error
    assert waits == [0.5, 1.0]  # only the first message to the dead channel waited
    assert {(r.channel, r.status) for r in _rows(ws)} == {("dead", "failed"), ("alive", "sent")}


def test_digest_mode_sends_one_message_listing_every_alert(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url, digest=True))
    ids = [add_anomaly(ws, impact=v) for v in ("150", "900", "420")]
    alerts = anomaly_alerts(ws)
    report = dispatch(ws, alerts + alerts[:1], now=NOW, sleep=lambda s: None, environ=ENV)

    assert report.count("sent") == 3  # an alert listed twice is sent once
    (req,) = webhook.requests
    body = json.loads(req.body)
    assert body["digest"] is True
    assert [a["amount"] for a in body["alerts"]] == ["900.00", "420.00", "150.00"]
    assert req.headers["Idempotency-Key"].startswith("digest:")
    assert len(_rows(ws)) == 3 and {r.subject_id for r in _rows(ws)} == {str(i) for i in ids}
    again = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV)
    assert again.count("skipped") == 3 and len(webhook.requests) == 1


def test_routing_follows_team_routes_then_the_org_channel_then_the_default(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  finops:
    type: slack
    url: {webhook.url}/finops
  "#checkout-costs":
    type: slack
    url: {webhook.url}/checkout
  catalog-mail:
    type: slack
    url: {webhook.url}/catalog
  audit:
    type: slack
    url: {webhook.url}/audit
    min_impact: 500
routes:
  default: finops
  always: [audit]
  teams:
    catalog: [catalog-mail]
""",
    )
    add_anomaly(ws, team="checkout", impact="300")  # org channel #checkout-costs
    add_anomaly(ws, team="catalog", impact="600")  # team route + audit (≥ 500)
    add_anomaly(ws, team="search", impact="200")  # org team without channel: default
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None)

    got = sorted((r.path, json.loads(r.body)["text"]) for r in webhook.requests)
    assert [p for p, _ in got] == ["/audit", "/catalog", "/checkout", "/finops"]
    assert "$600.00" in got[0][1] and "$600.00" in got[1][1]
    assert "$300.00" in got[2][1] and "$200.00" in got[3][1]


def test_slack_messages_carry_what_how_much_since_cause_owner_and_link(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(
        ws,
        f"channels:\n  s:\n    type: slack\n    url: {webhook.url}/x\nroutes:\n  default: [s]\n",
    )
    (ws.root / "costloop.toml").write_text('[server]\nurl = "https://cost.example"\n')
    ws = Workspace.open(ws.root)
    anomaly = add_anomaly(ws, impact="420")
    dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None)

    body = json.loads(webhook.requests[0].body)
    assert body["text"] == "Cost spike in ServiceName AWS Lambda (+140%): $420.00"
    text = body["blocks"][0]["text"]["text"]
    assert "*How much:* $420.00" in text and "*Since:* 2026-11-17" in text
    assert "ResourceId fn-resize +$386.40 (92%)" in text
    assert "checkout · checkout@shop.example" in text
    assert f"<https://cost.example/anomalies/{anomaly}|open in costloop>" in text


def test_a_missing_secret_fails_that_channel_only(ws: Workspace, webhook: WebhookServer) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  hooks:
    type: webhook
    url_env: NOT_SET_HOOK_URL
    secret: abc
  s:
    type: slack
    url: {webhook.url}/ok
routes:
  default: [hooks, s]
""",
    )
    add_anomaly(ws)
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ={})
    assert report.count("sent", "s") == 1
    (failed,) = [r for r in report.results if r.channel == "hooks"]
    assert failed.status == "failed" and "NOT_SET_HOOK_URL" in failed.error


def test_dry_run_sends_and_logs_nothing(ws: Workspace, webhook: WebhookServer) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    add_anomaly(ws)
    add_anomaly(ws, status="resolved")
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, dry_run=True, environ=ENV)
    assert [r.status for r in report.results] == ["pending"]
    assert webhook.requests == [] and delivery_log(ws) == []


def test_two_dispatches_at_the_same_moment_send_each_alert_once(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    for team in ("checkout", "catalog", "search"):
        add_anomaly(ws, team=team)
    webhook.script(200, 200, 200, 200, 200, 200, delays=(0.3,) * 6)  # slow receiver
    reports: list[DispatchReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        reports.append(dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=lambda s: None, environ=ENV))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(webhook.requests) == 3  # one per alert, whichever dispatch sent it
    statuses = sorted(r.status for report in reports for r in report.results)
    assert statuses == ["sent"] * 3 + ["skipped"] * 3
    assert [row.status for row in _rows(ws)] == ["sent"] * 3


def test_a_claim_left_by_a_dead_dispatch_is_taken_over_once_stale(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    add_anomaly(ws)
    (alert,) = anomaly_alerts(ws)
    with ws.state.session() as s:  # what a dispatch killed while sending leaves behind
        s.add(
            AlertDeliveryRow(
                idempotency_key=alert.key,
                channel="hooks",
                channel_type="webhook",
                subject=alert.subject,
                subject_id=alert.subject_id,
                title=alert.title,
                payload=alert.as_json(),
                status="sending",
                attempts=0,
                response_code=None,
                last_error="",
                created_at=NOW,
                updated_at=NOW,
                sent_at=None,
            )
        )
    soon = dispatch(ws, [alert], now=NOW + timedelta(seconds=30), sleep=lambda s: None, environ=ENV)
    assert [r.status for r in soon.results] == ["skipped"] and not webhook.requests
    later = dispatch(ws, [alert], now=NOW + timedelta(hours=1), sleep=lambda s: None, environ=ENV)
    assert [r.status for r in later.results] == ["sent"] and len(webhook.requests) == 1
    (row,) = _rows(ws)
    assert (row.status, row.sent_at) == ("sent", NOW + timedelta(hours=1))


def test_retry_after_is_honoured_and_a_long_one_ends_the_tries(
    ws: Workspace, webhook: WebhookServer
) -> None:
    write_alerts(ws, _webhook_yaml(webhook.url))
    add_anomaly(ws, team="checkout")
    webhook.script(429, 200, headers=({"Retry-After": "2"},))
    waits: list[float] = []
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append, environ=ENV)
    assert [r.status for r in report.results] == ["sent"]
    assert waits == [2.0]  # the server's 2 s, not the 0.5 s backoff

    add_anomaly(ws, team="catalog")
    webhook.script(503, headers=({"Retry-After": "3600"},))
    waits.clear()
    report = dispatch(ws, anomaly_alerts(ws), now=NOW, sleep=waits.append, environ=ENV)
    failed = [r for r in report.results if r.status == "failed"]
    assert len(failed) == 1 and waits == []  # not worth holding the dispatch for an hour
    assert "retry after 3600 s" in (failed[0].error or "")
