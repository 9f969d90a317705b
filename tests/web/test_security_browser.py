"""In real headless Chromium: the sign-in form and Swagger UI work under the strict CSP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from costloop.web.app import create_app
from costloop.workspace import Workspace

from .conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def base_url(fresh_web_ws: Workspace) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(fresh_web_ws), host="127.0.0.1", port=port)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sign_in_then_swagger_ui_renders_without_csp_violations(base_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"{base_url}/api/docs")
        assert page.url == f"{base_url}/login?next=/api/docs"
        page.fill("#username", "viewer")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        assert page.locator("#login-error").inner_text() == "Invalid username or password."
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.url == f"{base_url}/api/docs"
        assert page.locator(".opblock-summary-path", has_text="/api/v1/tokens").count() >= 1
        assert page.locator("button.authorize").count() == 1
        browser.close()
    assert problems == []
