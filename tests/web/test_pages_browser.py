"""The pages in real headless Chromium: sign in, open every page, act, sign out.

Runs ``costloop``'s app under uvicorn on a free loopback port and drives Debian's
``/usr/bin/chromium`` with Playwright. Screenshots go to ``$COSTLOOP_SCREENSHOTS`` when
set (``COSTLOOP_SCREENSHOTS=docs/screenshots`` refreshes the README's pictures), else
to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright
import pytest
import uvicorn

from costloop.analytics import anomaly_store
from costloop.core.anomalies import Anomaly, DayPoint, RootCause
from costloop.core.money import format_money
from costloop.opportunities.store import get, list_opportunities
from costloop.opportunities.workflow import Status
from costloop.web.app import create_app
from costloop.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
# Read at import: the cli_main fixture clears COSTLOOP_* variables during the test.
SCREENSHOTS = os.environ.get("COSTLOOP_SCREENSHOTS")
PASSWORD = "correct-horse-battery"  # the password of tests/web/conftest.py's users

# `make test` installs Chromium first (scripts/setup-browser.sh): a missing browser is a
# failure with that hint, not a skip.
pytestmark = [pytest.mark.slow]

PAGES = {
    "overview": "/",
    "explorer": "/explorer?group_by=team",
    "allocation": "/allocation",
    "team": "/teams/checkout",
    "anomalies": "/anomalies",
    "forecasts": "/forecasts",
    "budgets": "/budgets",
    "commitments": "/commitments",
    "unit-economics": "/unit-economics",
    "opportunities": "/opportunities",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(fresh_web_ws: Workspace) -> Iterator[str]:
    """The app over a private demo workspace, served on loopback; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(fresh_web_ws), host="127.0.0.1", port=port, log_level="warning"
    )
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    thread.join(timeout=10)


def _spike(team: str) -> Anomaly:
    start = date(2026, 11, 20)
    series = tuple(
        DayPoint(
            start + timedelta(days=i),
            Decimal("120") if i >= 0 else Decimal("40"),
            Decimal("40"),
            Decimal("34"),
            Decimal("46"),
        )
        for i in range(-10, 3)
    )
    return Anomaly(
        scope={"team": team, "ServiceName": "AWS Lambda"},
        start=start,
        end=start + timedelta(days=2),
        kind="spike",
        currency="USD",
        expected_cost=Decimal("120"),
        actual_cost=Decimal("360"),
        impact=Decimal("240"),
        impact_pct=Decimal("200"),
        max_daily_impact=Decimal("80"),
        score=8.0,
        root_cause=(RootCause("ServiceName", "AWS Lambda", Decimal("240"), Decimal("1")),),
        team=team,
        series=series,
    )


def _shots(tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_browser_session_end_to_end(
    server: str, fresh_web_ws: Workspace, cli_main: Any, tmp_path: Path
) -> None:
    ws = fresh_web_ws
    (spike,) = anomaly_store.record(ws.state, ws.org, [_spike("checkout")]).anomalies
    showback = cli_main("report", "showback", "--json", "--workspace", ws.root)
    total = format_money(Decimal(json.loads(showback.stdout)["groups"][0]["total"]))
    shots = _shots(tmp_path)
    assert CHROMIUM.exists(), "Chromium is missing: run `sh scripts/setup-browser.sh`"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            # The machine's closed network refuses Chromium's background connections.
            args=[
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        blocked: list[str] = []
        page.on(
            "console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None
        )

        page.goto(server + "/explorer")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/explorer")

        for name, path in PAGES.items():
            response = page.goto(server + path)
            assert response is not None and response.status == 200, path
            page.screenshot(path=str(shots / f"web-{name}.png"), full_page=True)
            if name == "overview":
                assert page.inner_text("#spend-current-USD") == total

        # Acknowledge the anomaly from its page; the status shown changes.
        page.goto(f"{server}/anomalies/{spike.id}")
        page.fill(f"form[action='/anomalies/{spike.id}/ack'] input[name=note]", "on it")
        page.click(f"form[action='/anomalies/{spike.id}/ack'] button")
        page.wait_for_load_state()
        assert page.inner_text("#anomaly-status") == "acknowledged"
        page.screenshot(path=str(shots / "web-anomaly.png"), full_page=True)
        assert anomaly_store.get(ws.state, spike.id).status == "acknowledged"

        # Approve the top open opportunity with a comment.
        top = list_opportunities(ws.state, status=Status.OPEN, limit=1)[0]
        page.goto(f"{server}/opportunities/{top.id}")
        page.fill("#review-note", "worth it")
        page.click("button:has-text('Approve')")
        page.wait_for_load_state()
        assert page.inner_text("#opportunity-status") == "approved"
        assert get(ws.state, top.id).status is Status.APPROVED
        page.screenshot(path=str(shots / "web-opportunity.png"), full_page=True)

        # On a phone the menu folds behind a button; tables scroll inside their box.
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(server + "/")
        assert not page.is_visible("#nav")
        page.click(".nav-toggle")
        assert page.is_visible("#nav")
        page.screenshot(path=str(shots / "web-overview-phone.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "the page itself must not scroll sideways"

        page.click("text=Log out")
        page.wait_for_load_state()
        assert "/login" in page.url
        page.goto(server + "/")
        assert "/login" in page.url
        assert blocked == [], blocked
        browser.close()
