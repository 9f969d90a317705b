"""Real local servers for alert delivery: an HTTP server on loopback and an SMTP server.

``webhook`` answers each POST with the next status of its script (then 200), records
the request (path, headers, raw body) and may sleep before answering to force a client
timeout. ``smtp`` is an aiosmtpd server keeping every message it accepts.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from costloop.state.models import AnomalyRow
from costloop.workspace import Workspace

ORG = """\
company: Test Shop
teams:
  - name: checkout
    owner: ana@shop.example
    channel: "#checkout-costs"
  - name: catalog
    owner: ben@shop.example
    channel: "#catalog-costs"
  - name: search
    owner: elif@shop.example
"""


@dataclass
class Recorded:
    """One request the webhook server received."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class WebhookServer:
    """A loopback HTTP server with a programmable list of answers."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(
        self,
        *statuses: int,
        delays: tuple[float, ...] = (),
        headers: tuple[dict[str, str], ...] = (),
    ) -> None:
        """Answer the next requests with these statuses (then 200), after these delays,
        with these extra response headers."""
        with self.lock:
            self.statuses[:] = list(statuses)
            self.delays[:] = list(delays)
            self.headers[:] = list(headers)

    def next_answer(self) -> tuple[int, float, dict[str, str]]:
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            delay = self.delays.pop(0) if self.delays else 0.0
            extra = self.headers.pop(0) if self.headers else {}
        return status, delay, extra


def _handler(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with server.lock:
                server.requests.append(
                    Recorded(self.path, dict(self.headers.items()), body, time.monotonic())
                )
            status, delay, extra = server.next_answer()
            if delay:
                time.sleep(delay)
            payload = b"ok" if status < 400 else b"invalid_payload"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    return Handler


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    """An HTTP server on 127.0.0.1 (free port) in a thread; ``url`` is its base URL."""
    state = WebhookServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def free_port() -> int:
    """A TCP port nobody listens on right now (also the 'dead endpoint' of tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    """A local SMTP server: ``messages`` are (envelope recipients, raw message bytes)."""

    host: str
    port: int
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class _Keep:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        del smtp, session
        data = envelope.original_content or b""
        self.server.messages.append((list(envelope.rcpt_tos), bytes(data)))
        return "250 Message accepted"


def _start_smtp(**kwargs: Any) -> tuple[Controller, SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port())

    def authenticate(
        smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        del smtp, session, envelope, mechanism
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            server.logins.append((login, password))
            ok = login == "bot" and password == "s3cret-pw"
            return AuthResult(success=ok, handled=False)  # the server answers 535 itself
        return AuthResult(success=False, handled=False)

    controller = Controller(
        _Keep(server), hostname=server.host, port=server.port, authenticator=authenticate, **kwargs
    )
    controller.start()
    return controller, server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain local SMTP server (no TLS; login refused since it would be in clear)."""
    controller, server = _start_smtp()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made with ``openssl``)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("STARTTLS test needs a certificate: neither `cryptography` nor openssl found")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_tls(tls_cert: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """A local SMTP server that requires STARTTLS (self-signed certificate) and login."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, tls_cert))
    controller, server = _start_smtp(tls_context=context, require_starttls=True, auth_required=True)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def _template_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    ws = Workspace.init(root)
    (root / "org.yaml").write_text(ORG, encoding="utf-8")
    ws.state.dispose()
    return root


@pytest.fixture
def ws(_template_ws: Path, tmp_path: Path) -> Workspace:
    """A fresh workspace with a three-team org file (copied from a session template).

    Its state DB is usable; its warehouse is not (DuckLake records its data path), so
    tests that load charges make their own workspace.
    """
    root = tmp_path / "ws"
    shutil.copytree(_template_ws, root)
    return Workspace.open(root)


def write_alerts(ws: Workspace, text: str) -> None:
    """Write the workspace's alerts.yaml."""
    (ws.root / "alerts.yaml").write_text(text, encoding="utf-8")


NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def add_anomaly(
    ws: Workspace,
    *,
    team: str = "checkout",
    impact: str = "420.00",
    status: str = "new",
    scope: dict[str, str] | None = None,
    start: datetime = datetime(2026, 11, 17, tzinfo=UTC),
) -> int:
    """Store an anomaly row as the anomaly store would; returns its id."""
    value = Decimal(impact)
    expected = Decimal("300.00")
    with ws.state.session() as s:
        row = AnomalyRow(
            scope_key="ServiceName=AWS Lambda",
            scope=scope if scope is not None else {"ServiceName": "AWS Lambda"},
            kind="spike",
            start=start,
            end=datetime(2026, 11, 19, tzinfo=UTC),
            currency="USD",
            expected_cost=expected,
            actual_cost=expected + value,
            impact=value,
            impact_pct=value / expected * 100,
            max_daily_impact=value / 3,
            score=Decimal("7.5"),
            root_cause=[
                {
                    "dimension": "ResourceId",
                    "value": "fn-resize",
                    "impact": str(value * Decimal("0.92")),
                    "share": "0.92",
                }
            ],
            series=[],
            owner_team=team,
            owner_email=f"{team}@shop.example",
            owner_source="allocation",
            status=status,
            first_detected=NOW,
            last_detected=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(row)
        s.flush()
        return row.id
