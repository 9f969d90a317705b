"""The alerts file: validation errors name file, line and key; secrets; routing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from costloop.core.errors import ConfigError, InputError
from costloop.core.org import Org, Team
from costloop.notify.config import Secret, mask_url, parse_alerts

ORG = Org(
    teams=(
        Team("checkout", owner="ana@shop.example", channel="#checkout-costs"),
        Team("catalog", owner="ben@shop.example", channel="#nowhere"),
        Team("search"),
    )
)

GOOD = """\
channels:
  finops:
    type: slack
    url_env: SLACK_FINOPS
    digest: true
  "#checkout-costs":
    type: slack
    url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
    min_impact: 250.50
  hooks:
    type: webhook
    url: https://hooks.example.com:8443/costloop?token=abc
    secret_env: HOOK_SECRET
  mail:
    type: email
    host: smtp.example.com
    starttls: true
    username: bot
    password_env: SMTP_PASSWORD
    from: costloop@example.com
    to: [finops@example.com]
routes:
  default: [finops]
  always: hooks
  teams:
    search: [mail]
delivery:
  attempts: 4
  backoff_seconds: 0.25
  timeout_seconds: 5
"""


def test_a_full_file_parses_with_defaults_filled_in() -> None:
    config = parse_alerts(GOOD, "alerts.yaml", ORG)
    assert list(config.channels) == ["finops", "#checkout-costs", "hooks", "mail"]
    mail = config.channels["mail"]
    assert (mail.host, mail.port, mail.starttls, mail.to) == (
        "smtp.example.com",
        587,
        True,
        ("finops@example.com",),
    )
    assert config.channels["#checkout-costs"].min_impact == Decimal("250.50")
    assert config.channels["finops"].digest is True
    assert config.delivery.attempts == 4
    assert config.delivery.waits() == [0.25, 0.5, 1.0]
    assert config.delivery.timeout_seconds == Decimal(5)


def test_routing_team_route_then_org_channel_then_default_plus_always() -> None:
    config = parse_alerts(GOOD, "alerts.yaml", ORG)
    assert config.channels_for("search", ORG) == ["mail", "hooks"]
    assert config.channels_for("checkout", ORG) == ["#checkout-costs", "hooks"]
    assert config.channels_for("catalog", ORG) == ["finops", "hooks"]  # #nowhere undefined
    assert config.channels_for(None, ORG) == ["finops", "hooks"]


def test_targets_are_masked_and_secrets_read_from_the_environment() -> None:
    config = parse_alerts(GOOD, "alerts.yaml", ORG)
    assert config.channels["#checkout-costs"].target == "https://hooks.slack.com/…"
    assert config.channels["hooks"].target == "https://hooks.example.com:8443/…"
    assert config.channels["finops"].target == "$SLACK_FINOPS"
    assert config.channels["mail"].target == "smtp://smtp.example.com:587 → finops@example.com"
    assert mask_url("http://127.0.0.1:9/a/b?c=d") == "http://127.0.0.1:9/…"
    secret = config.channels["hooks"].secret
    assert secret.resolve({"HOOK_SECRET": "k"}) == "k"
    with pytest.raises(ConfigError, match="HOOK_SECRET"):
        secret.resolve({}, what="HMAC secret")
    assert Secret(value="inline").resolve({}) == "inline"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("channels:\n  a:\n    type: pager\n", 3, "channels.a.type: type is one of"),
        ("channels:\n  a:\n    url: https://x\n", 2, "channels.a: a channel needs a type"),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\n    colour: red\n",
            5,
            "channels.a.colour: unknown key",
        ),
        ("channels:\n  a:\n    type: slack\n", 2, "channels.a: needs url or url_env"),
        (
            "channels:\n  a:\n    type: slack\n    url: ftp://x/y\n",
            4,
            "channels.a.url: expected an http(s):// URL",
        ),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\n    url_env: X\n",
            5,
            "give url or url_env, not both",
        ),
        (
            "channels:\n  a:\n    type: webhook\n    url: https://x\n",
            2,
            "needs secret or secret_env",
        ),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    from: a@b\n"
            "    to: [x@y]\n    port: 70000\n",
            7,
            "channels.m.port: expected a number from 1 to 65535",
        ),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    from: nobody\n    to: x@y\n",
            5,
            "channels.m.from: 'nobody' is no address",
        ),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    from: a@b\n",
            2,
            "needs to (or include_owner: true)",
        ),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\n    digest: yes please\n",
            5,
            "channels.a.digest: expected true or false",
        ),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\n    min_impact: -5\n",
            5,
            "channels.a.min_impact: expected a number of 0 or more",
        ),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\nroutes:\n  default: [b]\n",
            6,
            "routes.default: unknown channel 'b' (defined: a)",
        ),
        (
            "channels:\n  a:\n    type: slack\n    url: https://x\nroutes:\n  teams:\n"
            "    billing: [a]\n",
            7,
            "routes.teams.billing: unknown team",
        ),
        ("delivery:\n  attempts: 0\n", 2, "delivery.attempts: expected a number from 1 to 10"),
        ("delivery:\n  timeout_seconds: 0\n", 2, "delivery.timeout_seconds: must be above 0"),
        ("channels:\n  a: 1\n  a: 2\n", 3, "a: duplicate key (first on line 2)"),
        ("routes: [\n", 2, "invalid YAML"),
        ("alerts: {}\n", 1, "alerts.alerts: unknown key"),
    ],
)
def test_errors_name_the_file_the_line_and_the_key(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_alerts(text, "ws/alerts.yaml", ORG)
    assert info.value.file == "ws/alerts.yaml"
    assert info.value.row == line
    assert message in str(info.value)


def test_no_file_or_an_empty_file_means_no_channels() -> None:
    assert parse_alerts(None, "alerts.yaml", ORG).channels == {}
    assert parse_alerts("", "alerts.yaml", ORG).channels == {}


def test_a_relative_ca_file_is_read_from_the_workspace(tmp_path: Path) -> None:
    text = (
        "channels:\n  m:\n    type: email\n    host: h\n    from: a@b\n    to: x@y\n"
        "    ca_file: certs/ca.pem\n"
    )
    config = parse_alerts(text, "alerts.yaml", ORG, base=tmp_path)
    assert config.channels["m"].ca_file == tmp_path / "certs" / "ca.pem"
    assert config.channels["m"].port == 25


def _yaml_blocks(path: Path, heading: str) -> list[str]:
    text = path.read_text(encoding="utf-8").split(heading, 1)[1]
    return [part.split("```", 1)[0] for part in text.split("```yaml\n")[1:]]


@pytest.mark.parametrize(
    ("doc", "heading"),
    [("alerts.md", "## Configuration"), ("formats.md", "## Alerts file")],
)
def test_the_documented_examples_load(doc: str, heading: str) -> None:
    path = Path(__file__).parents[2] / "docs" / doc
    org = Org(teams=(Team("platform"), Team("checkout", channel="#checkout-costs")))
    (block, *_) = _yaml_blocks(path, heading)
    config = parse_alerts(block, str(path), org)
    assert "finops" in config.channels and config.routes.always == ("incidents",)
    assert config.channels_for("platform", org) == ["finance-mail", "incidents"]
    assert config.channels["finance-mail"].port == 587
