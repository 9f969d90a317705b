"""``costloop alerts test|send|log|channels`` end to end, against a loopback HTTP server."""

from __future__ import annotations

import json

from tests.conftest import Cli
from tests.notify.conftest import WebhookServer, add_anomaly, write_alerts

from costloop.workspace import Workspace

SECRET_PATH = "/services/T0/B0/tok3n-SECRET"


def _setup(ws: Workspace, webhook: WebhookServer, attempts: int = 2) -> None:
    write_alerts(
        ws,
        f"""\
channels:
  team-slack:
    type: slack
    url: {webhook.url}{SECRET_PATH}
  hooks:
    type: webhook
    url: {webhook.url}/hook
    secret_env: TEST_HOOK_SECRET
    digest: true
routes:
  default: [hooks]
  teams:
    checkout: [team-slack]
delivery:
  attempts: {attempts}
  backoff_seconds: 0.01
  timeout_seconds: 2
""",
    )


def test_alerts_test_sends_a_message_and_logs_it(
    ws: Workspace, webhook: WebhookServer, cli_main: Cli
) -> None:
    _setup(ws, webhook)
    proc = cli_main("alerts", "test", "--channel", "team-slack", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    assert "Test message sent to team-slack (slack, http://127.0.0.1:" in proc.stdout
    assert "after 1 attempt(s)" in proc.stdout and "tok3n" not in proc.stdout
    (req,) = webhook.requests
    assert req.path == SECRET_PATH
    assert json.loads(req.body)["text"].startswith("costloop test message for channel team-slack")

    log = cli_main("alerts", "log", "--json", "-w", ws.root)
    (entry,) = json.loads(log.stdout)["deliveries"]
    assert (entry["channel"], entry["subject"], entry["status"], entry["attempts"]) == (
        "team-slack",
        "test",
        "sent",
        1,
    )


def test_alerts_test_exit_codes_failure_unknown_channel_missing_secret_bad_file(
    ws: Workspace, webhook: WebhookServer, cli_main: Cli
) -> None:
    _setup(ws, webhook)
    webhook.script(503, 503)
    failed = cli_main("alerts", "test", "--channel", "team-slack", "-w", ws.root)
    assert failed.returncode == 1
    assert "failed after 2 attempt(s): HTTP 503" in failed.stderr
    assert "tok3n" not in failed.stderr + failed.stdout

    unknown = cli_main("alerts", "test", "--channel", "nope", "-w", ws.root)
    assert unknown.returncode == 2
    assert "unknown alert channel 'nope'" in unknown.stderr and "team-slack" in unknown.stderr

    no_secret = cli_main("alerts", "test", "-c", "hooks", "-w", ws.root)
    assert no_secret.returncode == 2 and "TEST_HOOK_SECRET" in no_secret.stderr

    with_secret = cli_main(
        "alerts", "test", "-c", "hooks", "-w", ws.root, env={"TEST_HOOK_SECRET": "k"}
    )
    assert with_secret.returncode == 0, with_secret.stderr
    assert webhook.requests[-1].headers["X-Costloop-Signature"].startswith("sha256=")

    write_alerts(ws, "channels:\n  x:\n    type: slack\n    url: https://h/x\n    oops: 1\n")
    bad = cli_main("alerts", "test", "-c", "x", "-w", ws.root)
    assert bad.returncode == 2
    assert "alerts.yaml" in bad.stderr and "row 5" in bad.stderr
    assert "channels.x.oops: unknown key" in bad.stderr


def test_alerts_send_routes_dispatches_once_and_reports_per_channel(
    ws: Workspace, webhook: WebhookServer, cli_main: Cli
) -> None:
    _setup(ws, webhook)
    add_anomaly(ws, team="checkout", impact="420")
    add_anomaly(ws, team="search", impact="150")
    add_anomaly(ws, team="catalog", impact="900")
    env = {"TEST_HOOK_SECRET": "k"}

    dry = cli_main("alerts", "send", "--dry-run", "--json", "-w", ws.root, env=env)
    assert dry.returncode == 0 and webhook.requests == []
    assert {c["name"]: c["pending"] for c in json.loads(dry.stdout)["channels"]} == {
        "hooks": 2,
        "team-slack": 1,
    }

    proc = cli_main("alerts", "send", "--json", "-w", ws.root, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    by_name = {c["name"]: c for c in out["channels"]}
    assert (by_name["hooks"]["sent"], by_name["team-slack"]["sent"]) == (2, 1)
    assert len(webhook.requests) == 2  # one digest to hooks, one Slack message
    amounts = sorted(d["amount"] for d in out["deliveries"])
    assert amounts == ["150.00", "420.00", "900.00"]

    again = cli_main("alerts", "send", "-w", ws.root, env=env)
    assert again.returncode == 0
    assert "0 sent, 3 skipped, 0 failed" in again.stdout
    assert len(webhook.requests) == 2

    log = json.loads(cli_main("alerts", "log", "--json", "-w", ws.root).stdout)["deliveries"]
    assert sorted((e["channel"], e["status"]) for e in log) == [
        ("hooks", "sent"),
        ("hooks", "sent"),
        ("team-slack", "sent"),
    ]
    short = cli_main("alerts", "log", "--json", "--limit", "1", "-w", ws.root)
    assert len(json.loads(short.stdout)["deliveries"]) == 1


def test_alerts_send_exits_1_when_a_delivery_failed(
    ws: Workspace, webhook: WebhookServer, cli_main: Cli
) -> None:
    _setup(ws, webhook, attempts=1)
    add_anomaly(ws, team="checkout", impact="420")
    webhook.script(500)
    proc = cli_main("alerts", "send", "-w", ws.root)
    assert proc.returncode == 1
    assert "HTTP 500" in proc.stdout and "0 sent, 1 failed" in proc.stdout
    assert "1 delivery failed" in proc.stderr
    log = cli_main("alerts", "log", "-w", ws.root)
    assert "failed" in log.stdout and "HTTP 500" in log.stdout


def test_alerts_channels_masks_targets_and_shows_routing(
    ws: Workspace, webhook: WebhookServer, cli_main: Cli
) -> None:
    _setup(ws, webhook)
    proc = cli_main("alerts", "channels", "-w", ws.root)
    assert proc.returncode == 0, proc.stderr
    assert "tok3n" not in proc.stdout and "$TEST_HOOK_SECRET" not in proc.stdout
    data = json.loads(cli_main("alerts", "channels", "--json", "-w", ws.root).stdout)
    got = {c["name"]: (c["target"], c["teams"], c["default"]) for c in data["channels"]}
    port = webhook.url.rsplit(":", 1)[1]
    assert got["team-slack"] == (f"http://127.0.0.1:{port}/…", ["checkout"], False)
    assert got["hooks"] == (f"http://127.0.0.1:{port}/…", ["catalog", "search"], True)


def test_alerts_send_without_channels_says_how_to_configure(ws: Workspace, cli_main: Cli) -> None:
    proc = cli_main("alerts", "send", "-w", ws.root)
    assert proc.returncode == 2
    assert "no alert channels" in proc.stderr and "docs/alerts.md" in proc.stderr
    listing = cli_main("alerts", "channels", "-w", ws.root)
    assert listing.returncode == 0 and "No alert channels" in listing.stdout
