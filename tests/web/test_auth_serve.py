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
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "no /healthz answer within 60 s"
            time.sleep(0.2)
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
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode in (0, -signal.SIGINT)
