"""The alerts file: channels (Slack, webhook, e-mail), routing and delivery settings.

The file is YAML (``alerts.yaml`` in the workspace, setting ``alerts.file``; documented
in docs/alerts.md). Every error names the file, the line and the key::

    channels:
      finops:
        type: slack
        url_env: SLACK_FINOPS_WEBHOOK      # the incoming-webhook URL, from the environment
        digest: true
      "#checkout-costs":                   # the channel the org file gives team checkout
        type: slack
        url_env: SLACK_CHECKOUT_WEBHOOK
        min_impact: 250
      incidents:
        type: webhook
        url: https://hooks.example.com/costloop
        secret_env: COSTLOOP_WEBHOOK_SECRET
      finance-mail:
        type: email
        host: smtp.example.com
        port: 587
        starttls: true
        username: costloop@example.com
        password_env: SMTP_PASSWORD
        from: costloop@example.com
        to: [finops@example.com]
    routes:
      default: [finops]
      always: [incidents]
      teams:
        platform: [finance-mail]
    delivery:
      attempts: 3
      backoff_seconds: 0.5
      timeout_seconds: 10

Secrets stay out of the file when given as ``*_env`` names; they are read when a
message is sent, and never printed (``Channel.target`` is the masked form).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from costloop.core.errors import ConfigError
from costloop.core.org import Org
from costloop.core.yamlnodes import Node, Reader, load_nodes

__all__ = [
    "CHANNEL_TYPES",
    "AlertsConfig",
    "Channel",
    "Delivery",
    "Routes",
    "Secret",
    "mask_url",
    "parse_alerts",
]

CHANNEL_TYPES = ("slack", "webhook", "email")
_COMMON = ("type", "digest", "min_impact")
_KEYS: Mapping[str, tuple[str, ...]] = {
    "slack": (*_COMMON, "url", "url_env"),
    "webhook": (*_COMMON, "url", "url_env", "secret", "secret_env"),
    "email": (
        *_COMMON,
        "host",
        "port",
        "starttls",
        "ca_file",
        "username",
        "password",
        "password_env",
        "from",
        "to",
        "include_owner",
    ),
}


def mask_url(url: str) -> str:
    """A URL reduced to scheme, host and port: webhook paths carry the secret token."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


@dataclass(frozen=True)
class Secret:
    """A secret given inline or by the name of an environment variable."""

    value: str | None = None
    env: str | None = None

    def resolve(self, environ: Mapping[str, str] | None = None, *, what: str = "secret") -> str:
        """The secret's text.

        Raises:
            ConfigError: the environment variable is not set (or empty).
        """
        if self.env is None:
            return self.value or ""
        found = (os.environ if environ is None else environ).get(self.env, "")
        if not found:
            raise ConfigError(f"environment variable {self.env} ({what}) is not set")
        return found

    @property
    def given(self) -> bool:
        """Whether the file gives this secret at all."""
        return self.value is not None or self.env is not None


@dataclass(frozen=True)
class Channel:
    """One destination for alerts.

    Attributes:
        name: the name in ``channels:`` (routes and the org file refer to it).
        type: ``slack``, ``webhook`` or ``email``.
        digest: one message per dispatch listing all of the channel's alerts.
        min_impact: alerts whose amount is below this are not sent here.
        url: webhook URL (``slack`` and ``webhook``).
        secret: HMAC key of a ``webhook`` channel.
        host, port, starttls, ca_file, username, password, sender, to, include_owner:
            SMTP settings of an ``email`` channel; ``ca_file`` trusts a private CA for
            STARTTLS; ``include_owner`` adds each alert's owner to the recipients.
    """

    name: str
    type: str
    digest: bool = False
    min_impact: Decimal | None = None
    url: Secret = field(default_factory=Secret)
    secret: Secret = field(default_factory=Secret)
    host: str = ""
    port: int = 0
    starttls: bool = False
    ca_file: Path | None = None
    username: str = ""
    password: Secret = field(default_factory=Secret)
    sender: str = ""
    to: tuple[str, ...] = ()
    include_owner: bool = False
    line: int = 0

    @property
    def target(self) -> str:
        """Where messages go, safe to print: a masked URL or the SMTP server and recipients."""
        if self.type == "email":
            rcpt = ", ".join(self.to) + (" + owner" if self.include_owner else "")
            return f"smtp://{self.host}:{self.port} → {rcpt}"
        if self.url.env is not None:
            return f"${self.url.env}"
        return mask_url(self.url.value or "")


@dataclass(frozen=True)
class Routes:
    """Which channels an alert goes to.

    An alert of team T goes to ``teams[T]`` if given, else to the channel the org file
    names for T when ``channels:`` defines it, else to ``default``; ``always`` channels
    get every alert as well.
    """

    default: tuple[str, ...] = ()
    always: tuple[str, ...] = ()
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """Retry and timeout settings of every send.

    Attributes:
        attempts: tries per message (1 = no retry).
        backoff_seconds: wait before the 2nd try; it doubles for each further try.
        timeout_seconds: limit of every network call (connect, send, read).
    """

    attempts: int = 3
    backoff_seconds: Decimal = Decimal("0.5")
    timeout_seconds: Decimal = Decimal("10")

    def waits(self) -> list[float]:
        """Seconds to wait before each retry (``attempts - 1`` of them)."""
        return [float(self.backoff_seconds * 2**i) for i in range(self.attempts - 1)]


@dataclass(frozen=True)
class AlertsConfig:
    """Channels, routes and delivery settings in force."""

    channels: Mapping[str, Channel] = field(default_factory=dict)
    routes: Routes = field(default_factory=Routes)
    delivery: Delivery = field(default_factory=Delivery)
    source: str = "none"

    def channel(self, name: str) -> Channel:
        """A channel by name.

        Raises:
            ConfigError: no channel of that name.
        """
        if name not in self.channels:
            known = ", ".join(sorted(self.channels)) or "none"
            raise ConfigError(f"unknown alert channel {name!r} in {self.source} (known: {known})")
        return self.channels[name]

    def channels_for(self, team: str | None, org: Org) -> list[str]:
        """Channel names an alert of ``team`` is routed to (no duplicates, routing order)."""
        names: tuple[str, ...] = ()
        if team is not None and team in self.routes.teams:
            names = self.routes.teams[team]
        else:
            found = org.team(team) if team is not None else None
            if found is not None and found.channel in self.channels:
                names = (found.channel,)
            else:
                names = self.routes.default
        return list(dict.fromkeys((*names, *self.routes.always)))


def _secret(r: Reader, body: dict[str, Node], key: str, path: str, required: bool) -> Secret:
    env_key = f"{key}_env"
    if key in body and env_key in body:
        raise r.fail(body[env_key], f"{path}.{env_key}", f"give {key} or {env_key}, not both")
    if env_key in body:
        return Secret(env=r.text(body[env_key], f"{path}.{env_key}"))
    if key in body:
        return Secret(value=r.text(body[key], f"{path}.{key}"))
    if required:
        raise r.fail(Node(None, 0), path, f"needs {key} or {env_key}")
    return Secret()


def _url(r: Reader, body: dict[str, Node], path: str, node: Node) -> Secret:
    if "url" not in body and "url_env" not in body:
        raise r.fail(node, path, "needs url or url_env")
    url = _secret(r, body, "url", path, required=True)
    if url.value is not None:
        parts = urlsplit(url.value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise r.fail(body["url"], f"{path}.url", "expected an http(s):// URL")
    return url


def _email(r: Reader, body: dict[str, Node], path: str, node: Node) -> dict[str, object]:
    for key in ("host", "from"):
        if key not in body:
            raise r.fail(node, path, f"an email channel needs {key}")
    include_owner = (
        r.flag(body["include_owner"], path + ".include_owner") if "include_owner" in body else False
    )
    if "to" not in body and not include_owner:
        raise r.fail(node, path, "an email channel needs to (or include_owner: true)")
    to = r.texts(body["to"], path + ".to") if "to" in body else ()
    for i, addr in enumerate((r.text(body["from"], path + ".from"), *to)):
        if "@" not in addr:
            where = path + (".from" if i == 0 else f".to[{i - 1}]")
            raise r.fail(body["from"] if i == 0 else body["to"], where, f"{addr!r} is no address")
    starttls = r.flag(body["starttls"], path + ".starttls") if "starttls" in body else False
    if ("password" in body or "password_env" in body) and "username" not in body:
        raise r.fail(node, path, "a password needs a username")
    return {
        "host": r.text(body["host"], path + ".host"),
        "port": r.integer(body["port"], path + ".port", 1, 65535)
        if "port" in body
        else (587 if starttls else 25),
        "starttls": starttls,
        "ca_file": Path(r.text(body["ca_file"], path + ".ca_file")) if "ca_file" in body else None,
        "username": r.text(body["username"], path + ".username") if "username" in body else "",
        "password": _secret(r, body, "password", path, required=False),
        "sender": r.text(body["from"], path + ".from"),
        "to": to,
        "include_owner": include_owner,
    }


def _channel(r: Reader, name: str, node: Node, base: Path | None) -> Channel:
    path = f"channels.{name}"
    if not isinstance(node.value, dict) or "type" not in node.value:
        raise r.fail(node, path, f"a channel needs a type ({', '.join(CHANNEL_TYPES)})")
    kind = r.text(node.value["type"], path + ".type")
    if kind not in CHANNEL_TYPES:
        raise r.fail(
            node.value["type"], path + ".type", f"type is one of {', '.join(CHANNEL_TYPES)}"
        )
    body = r.mapping(node, path, _KEYS[kind])
    extra: dict[str, object] = {}
    if kind == "email":
        extra = _email(r, body, path, node)
        ca_file = extra["ca_file"]
        if isinstance(ca_file, Path) and base is not None and not ca_file.is_absolute():
            extra["ca_file"] = base / ca_file
    else:
        extra["url"] = _url(r, body, path, node)
        if kind == "webhook":
            if "secret" not in body and "secret_env" not in body:
                raise r.fail(node, path, "a webhook channel needs secret or secret_env (HMAC key)")
            extra["secret"] = _secret(r, body, "secret", path, required=True)
    return Channel(
        name=name,
        type=kind,
        digest=r.flag(body["digest"], path + ".digest") if "digest" in body else False,
        min_impact=r.amount(body["min_impact"], path + ".min_impact")
        if "min_impact" in body
        else None,
        line=node.line,
        **extra,  # type: ignore[arg-type]
    )


def _names(r: Reader, node: Node, path: str, channels: Mapping[str, Channel]) -> tuple[str, ...]:
    names = r.texts(node, path)
    for name in names:
        if name not in channels:
            known = ", ".join(sorted(channels)) or "none"
            raise r.fail(node, path, f"unknown channel {name!r} (defined: {known})")
    return names


def _routes(r: Reader, node: Node, channels: Mapping[str, Channel], org: Org) -> Routes:
    body = r.mapping(node, "routes", ("default", "always", "teams"))
    teams: dict[str, tuple[str, ...]] = {}
    if "teams" in body:
        for team, names in r.mapping(body["teams"], "routes.teams").items():
            if org.teams and org.team(team) is None:
                known = ", ".join(t.name for t in org.teams)
                raise r.fail(names, f"routes.teams.{team}", f"unknown team (org file: {known})")
            teams[team] = _names(r, names, f"routes.teams.{team}", channels)
    return Routes(
        default=_names(r, body["default"], "routes.default", channels) if "default" in body else (),
        always=_names(r, body["always"], "routes.always", channels) if "always" in body else (),
        teams=teams,
    )


def _delivery(r: Reader, node: Node) -> Delivery:
    body = r.mapping(node, "delivery", ("attempts", "backoff_seconds", "timeout_seconds"))
    out = Delivery()
    if "attempts" in body:
        out = Delivery(r.integer(body["attempts"], "delivery.attempts", 1, 10))
    backoff = out.backoff_seconds
    if "backoff_seconds" in body:
        backoff = r.amount(body["backoff_seconds"], "delivery.backoff_seconds")
    timeout = out.timeout_seconds
    if "timeout_seconds" in body:
        timeout = r.amount(body["timeout_seconds"], "delivery.timeout_seconds")
        if timeout == 0:
            raise r.fail(body["timeout_seconds"], "delivery.timeout_seconds", "must be above 0")
    return Delivery(out.attempts, backoff, timeout)


def parse_alerts(text: str | None, source: str, org: Org, base: Path | None = None) -> AlertsConfig:
    """Parse and validate the alerts file; ``None`` (no file) gives no channels.

    Args:
        text: the file's text, or None when there is no file.
        source: the file name used in errors.
        org: the organization (team names in ``routes.teams`` are checked against it).
        base: folder relative ``ca_file`` paths are read from.

    Raises:
        InputError: the file is invalid (file, line and key named).
    """
    r = Reader(source)
    root = None if text is None else load_nodes(text, source)
    if root is None:
        return AlertsConfig(source=source if text is not None else "none")
    body = r.mapping(root, "alerts", ("channels", "routes", "delivery"))
    channels: dict[str, Channel] = {}
    if "channels" in body:
        for name, node in r.mapping(body["channels"], "channels").items():
            channels[name] = _channel(r, name, node, base)
    routes = _routes(r, body["routes"], channels, org) if "routes" in body else Routes()
    delivery = _delivery(r, body["delivery"]) if "delivery" in body else Delivery()
    return AlertsConfig(channels, routes, delivery, source)
