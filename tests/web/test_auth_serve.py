"""The real ``costloop serve``: first admin, health check, sign-in over HTTP, shutdown."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "no /healthz answer within 90 s"
        time.sleep(0.2)


def _stop(server: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a user would; killed if it does not exit within 20 s."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.mark.slow
@pytest.mark.parametrize("given", [None, "from-the-environment"])
def test_serve_creates_the_first_admin_and_signs_in_over_http(
    costloop_exe: Path, cli_environ: dict[str, str], workspace: Path, given: str | None
) -> None:
    port = _free_port()
    env = cli_environ if given is None else {**cli_environ, "COSTLOOP_ADMIN_PASSWORD": given}
    server = subprocess.Popen(
        [str(costloop_exe), "serve", "--port", str(port), "-w", str(workspace)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert "created the first user: admin" in first, first
        if given is None:
            password = server.stderr.readline().strip()
            assert len(password) >= 16
        else:
            assert "COSTLOOP_ADMIN_PASSWORD" in first
            password = given
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(server, base)
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/api/v1/me").status_code == 401
            form = client.get("/login")
            assert form.headers["x-frame-options"] == "DENY"
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token
            signed_in = client.post(
                "/login",
                data={"username": "admin", "password": password, "csrf_token": token.group(1)},
            )
            assert signed_in.status_code == 303
            me = client.get("/api/v1/me").json()
            assert (me["username"], me["role"], me["via"]) == ("admin", "admin", "session")
    finally:
        _stop(server)
    assert server.returncode in (0, -signal.SIGINT)


@pytest.mark.slow
def test_ingest_and_allocate_while_serving_show_on_the_next_request(
    costloop_exe: Path, cli_environ: dict[str, str], workspace: Path
) -> None:
    """Two worker processes hold the warehouse open; ingests in other processes commit
    (no "database is locked") and every worker answers with the new data."""
    from datetime import datetime

    from costloop.testing import charge, write_focus_csv
    from costloop.web.users import create_token, ensure_first_admin
    from costloop.workspace import Workspace

    def run(*args: str) -> None:
        done = subprocess.run(
            [str(costloop_exe), *args, "-w", str(workspace)],
            env=cli_environ,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

    day = datetime(2026, 10, 5)
    first = write_focus_csv(workspace / "oct.csv", [charge(day, "100.25", tags={"team": "a"})])
    second = write_focus_csv(
        workspace / "oct-b.csv",
        [charge(day, "7.50", billing_account="777777777777", tags={"team": "b"})],
    )
    run("ingest", str(first))
    run("allocate")
    ws = Workspace.open(workspace)
    ensure_first_admin(ws.state, "not-used-in-this-test")
    _, secret = create_token(ws.state, "admin", "test")
    port = _free_port()
    server = subprocess.Popen(
        [str(costloop_exe), "serve", "--port", str(port), "--workers", "2", "-w", str(workspace)],
        env=cli_environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {secret}"}

    def totals() -> set[str]:
        # A new connection each time, so both workers answer in turn.
        seen = set()
        for _ in range(6):
            r = httpx.get(f"{base}/api/v1/explorer", params={"group_by": "team"}, headers=headers)
            assert r.status_code == 200, r.text
            seen.add(r.json()["totals"][0]["total"])
        return seen

    try:
        _wait_healthy(server, base)
        assert totals() == {"100.25"}
        run("ingest", str(second))  # commits while both workers hold the catalog open
        run("allocate")
        deadline = time.monotonic() + 30
        while (seen := totals()) != {"107.75"}:
            assert time.monotonic() < deadline, seen
            time.sleep(0.5)
    finally:
        _stop(server)
