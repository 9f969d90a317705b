"""Every page renders for a viewer on the demo workspace and shows the services' numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from costloop.allocation.coverage import coverage_report, latest_coverage
from costloop.analytics.anomaly_store import list_anomalies
from costloop.analytics.budgets import evaluate
from costloop.analytics.forecast import forecast_scope
from costloop.analytics.showback import showback_by
from costloop.core.money import format_money
from costloop.core.periods import Month
from costloop.opportunities.records import executed_opportunities
from costloop.opportunities.store import list_opportunities
from costloop.opportunities.workflow import Status
from costloop.report.team import team_report
from costloop.warehouse.engine import open_engine
from costloop.web.auth import SESSION_COOKIE, start_session
from costloop.web.pages.forecasts import HORIZON_MONTHS
from costloop.web.users import get_user
from costloop.workspace import Workspace

PAGES = (
    "/",
    "/explorer",
    "/explorer?grain=day&group_by=team&from=2026-11-01&to=2026-11-30",
    "/allocation",
    "/teams",
    "/teams/checkout",
    "/anomalies",
    "/forecasts",
    "/forecasts?team=checkout",
    "/budgets",
    "/commitments",
    "/unit-economics",
    "/opportunities",
    "/opportunities/1",
)


class _Page(HTMLParser):
    """Collects text by element id, ``style`` attributes and inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.styled: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.unlabelled: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if "style" in names:
            self.styled.append(tag)
        self.handlers += [k for k in names if k.startswith("on")]
        control = tag in ("select", "textarea") or (
            tag == "input" and names.get("type") != "hidden"
        )
        if control and not any(name == "label" for name, _ in self._open):
            self.unlabelled.append(str(names.get("name")))
        if tag == "script":
            self._in_script = "src" not in names
        if tag not in ("input", "meta", "link", "br", "img", "rect", "line", "circle"):
            self._open.append((tag, names.get("id")))
            if names.get("id"):
                self.by_id[str(names["id"])] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        while self._open:
            name, _ = self._open.pop()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1
        for _, ident in self._open:
            if ident:
                self.by_id[ident] += data


def parse(html: str) -> _Page:
    """The parsed page."""
    found = _Page()
    found.feed(html)
    return found


def text_of(html: str, ident: str) -> str:
    """Whitespace-normalized text of the element with id ``ident``."""
    return " ".join(parse(html).by_id[ident].split())


@pytest.fixture(scope="module")
def viewer(web_app: FastAPI, web_ws: Workspace) -> Iterator[TestClient]:
    """A viewer's browser session, shared by this module's tests."""
    user = get_user(web_ws.state, "viewer")
    cookie, _ = start_session(web_ws.state, user.id, web_app.state.auth)
    with TestClient(web_app) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        yield client


@pytest.fixture(scope="module")
def pages(viewer: TestClient) -> dict[str, Any]:
    """Each page of ``PAGES`` fetched once by the viewer."""
    return {path: viewer.get(path) for path in PAGES}


def test_every_page_renders_for_a_viewer(pages: dict[str, Any]) -> None:
    for path, response in pages.items():
        assert response.status_code == 200, (path, response.text[-500:])
        assert response.headers["content-type"].startswith("text/html")
        assert '<main id="main"' in response.text


def test_pages_have_no_inline_style_or_script(pages: dict[str, Any]) -> None:
    for path, response in pages.items():
        found = parse(response.text)
        assert found.styled == [], f"{path}: style= on {found.styled}"
        assert found.inline_scripts == 0, f"{path}: inline <script>"
        assert found.handlers == [], f"{path}: inline event handlers {found.handlers}"
        assert '<script src="/static/app.js" defer></script>' in response.text


def test_layout_is_keyboard_and_screen_reader_friendly(pages: dict[str, Any]) -> None:
    html = pages["/explorer"].text
    assert '<a class="skip-link" href="#main">' in html
    assert '<a href="/explorer" aria-current="page">Cost explorer</a>' in html
    assert 'action="/logout"' in html and 'name="csrf_token"' in html
    for path, response in pages.items():
        assert parse(response.text).unlabelled == [], f"{path}: form controls without a label"


def test_pages_redirect_to_login_without_a_session(anon_client: TestClient) -> None:
    for path in ("/", "/explorer?group_by=team", "/teams/checkout", "/opportunities/1"):
        response = anon_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_static_assets_are_served(viewer: TestClient) -> None:
    css = viewer.get("/static/app.css")
    assert css.status_code == 200 and "@media (max-width: 760px)" in css.text
    js = viewer.get("/static/app.js")
    assert js.status_code == 200 and "aria-expanded" in js.text


def test_overview_matches_showback_and_kpis_json(
    pages: dict[str, Any], web_ws: Workspace, cli_main: Any
) -> None:
    html = pages["/"].text
    done = cli_main("report", "showback", "--json", "--workspace", web_ws.root)
    assert done.returncode == 0, done.stderr
    group = json.loads(done.stdout)["groups"][0]
    assert text_of(html, "spend-current-USD") == format_money(Decimal(group["total"]))
    assert text_of(html, "spend-previous-USD") == format_money(Decimal(group["previous_total"]))
    kpis = cli_main("kpis", "--json", "--workspace", web_ws.root)
    assert kpis.returncode == 0, kpis.stderr
    values = {k["id"]: k["value"] for k in json.loads(kpis.stdout)["kpis"]}
    assert text_of(html, "esr-USD") == f"{Decimal(values['esr']) * 100:.1f}%"
    assert text_of(html, "coverage") == f"{Decimal(values['allocation_coverage']) * 100:.1f}%"
    commitments = pages["/commitments"].text
    assert text_of(commitments, "esr") == f"{Decimal(values['esr']) * 100:.1f}%"
    assert text_of(commitments, "utilization") == (
        f"{Decimal(values['commitment_utilization']) * 100:.1f}%"
    )
    assert text_of(commitments, "commitment-coverage") == (
        f"{Decimal(values['commitment_coverage']) * 100:.1f}%"
    )


def test_overview_month_to_date_and_opportunities(pages: dict[str, Any], web_ws: Workspace) -> None:
    html = pages["/"].text
    with open_engine(web_ws.lake) as engine:
        t = engine.table("allocated_charges")
        last = engine.rows(t.aggregate(d=t.ChargePeriodStart.max()))[0]["d"].date()
        month = Month.of(last)
        until = last + timedelta(days=1)
        window = t.filter((t.ChargePeriodStart >= month.start) & (t.ChargePeriodStart < until))
        mtd = engine.rows(window.aggregate(c=window.EffectiveCost.sum()))[0]["c"]
    assert text_of(html, "mtd-USD") == format_money(mtd)
    active = [Status.OPEN, Status.SNOOZED, Status.APPROVED, Status.IN_PROGRESS]
    top = list_opportunities(web_ws.state, status=active, limit=5)
    assert top, "the demo workspace has opportunities"
    for o in top:
        assert f'<a href="/opportunities/{o.id}">{o.id}</a>' in html
    open_anomalies = list_anomalies(web_ws.state, status=("new", "acknowledged"))
    assert open_anomalies, "the demo run records its detected anomalies"
    assert text_of(html, "open-anomalies") == str(len(open_anomalies))


def test_explorer_total_and_csv(
    pages: dict[str, Any], viewer: TestClient, web_ws: Workspace
) -> None:
    with open_engine(web_ws.lake) as engine:
        t = engine.table("allocated_charges")
        everything = engine.rows(t.aggregate(c=t.EffectiveCost.sum()))[0]["c"]
        report = showback_by(engine, ["ServiceName"], first=None, last=None)
    assert text_of(pages["/explorer"].text, "explorer-total-USD") == format_money(everything)
    top = report.rows_of(report.totals[-1])[0]
    assert f'<th scope="row">{top.values[0]}</th>' in pages["/explorer"].text
    daily = pages["/explorer?grain=day&group_by=team&from=2026-11-01&to=2026-11-30"].text
    assert "line-chart" in daily and "2026-11-30" in daily
    csv = viewer.get("/explorer.csv?group_by=team&metric=billed&from=2026-11-01&to=2026-11-30")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "period,team,currency,billed_cost"
    assert all(line.startswith("2026-11-01,") for line in lines[1:])
    billed = sum(Decimal(line.rsplit(",", 1)[1]) for line in lines[1:])
    with open_engine(web_ws.lake) as engine:
        t = engine.table("allocated_charges")
        nov = t.filter(t.BillingPeriodStart == Month(2026, 11).start)
        expected = engine.rows(nov.aggregate(c=nov.BilledCost.sum()))[0]["c"]
    assert billed == expected


def test_explorer_rejects_an_unknown_dimension(viewer: TestClient) -> None:
    response = viewer.get("/explorer?group_by=Nope")
    assert response.status_code == 400
    assert "unknown dimension &#39;Nope&#39;" in response.text
    assert viewer.get("/explorer.csv?group_by=Nope").status_code == 400


def test_allocation_coverage_and_rules(pages: dict[str, Any], web_ws: Workspace) -> None:
    html = pages["/allocation"].text
    with open_engine(web_ws.lake) as engine:
        report = coverage_report(engine, web_ws.allocation, limit=20)
    team = latest_coverage(report, "team")
    assert team is not None and team.coverage is not None
    assert text_of(html, "coverage-team") == f"{team.coverage * 100:.1f}%"
    assert "Allocation coverage per month" in html
    for dim in web_ws.allocation.dimensions:
        assert f"<td>{dim.name}</td>" in html


def test_team_page_numbers(pages: dict[str, Any], web_ws: Workspace) -> None:
    with open_engine(web_ws.lake) as engine:
        report = team_report(engine, web_ws.org, "checkout")
    html = pages["/teams/checkout"].text
    assert text_of(html, "team-effective-USD") == format_money(report.current["USD"].effective)
    assert report.services[0].name is not None and report.services[0].name in html
    assert '<a href="/teams/checkout">checkout</a>' in pages["/teams"].text
    assert 'href="/forecasts?team=checkout"' in html


def test_unknown_team_is_404(viewer: TestClient) -> None:
    assert viewer.get("/teams/no-such-team").status_code == 404


def test_budgets_page_matches_evaluate(pages: dict[str, Any], web_ws: Workspace) -> None:
    html = pages["/budgets"].text
    with open_engine(web_ws.lake) as engine:
        statuses = evaluate(engine, web_ws.budgets)
    assert statuses
    for s in statuses:
        assert f"<td>{s.budget.name}</td>" in html
        assert format_money(s.actual, s.budget.currency) in html
    assert 'class="status status-breached"' in html


def test_forecast_page_months(pages: dict[str, Any], web_ws: Workspace) -> None:
    with open_engine(web_ws.lake) as engine:
        f = forecast_scope(
            engine,
            {"team": "checkout"},
            horizon_days=31 * (HORIZON_MONTHS + 1),
            min_history_days=web_ws.config.int_("forecast.min_history_days"),
        )
    html = pages["/forecasts?team=checkout"].text
    future = next(m for m in f.monthly() if m.is_forecast and not m.is_partial)
    row = text_of(html, f"month-{future.month}")
    assert format_money(future.mean) in row
    assert f"{format_money(future.lo80)} – {format_money(future.hi80)}" in row
    assert "interval-chart" in html and "Backtest" in html


def test_opportunity_board_and_detail(pages: dict[str, Any], web_ws: Workspace) -> None:
    board = pages["/opportunities"].text
    opps = list_opportunities(web_ws.state)
    for status in Status:
        count = sum(1 for o in opps if o.status is status)
        assert text_of(board, f"count-{status.value}") == str(count)
    detail = pages["/opportunities/1"].text
    first = next(o for o in opps if o.id == 1)
    assert text_of(detail, "opportunity-savings") == format_money(first.monthly_savings)
    rev = f"{first.risk_score}/{first.effort_score}/{first.value_score}"
    assert text_of(detail, "opportunity-rev").startswith(rev)
    # A viewer sees no review buttons.
    assert "/opportunities/1/approve" not in detail and "Snooze" not in detail


def test_unit_economics_and_charts(pages: dict[str, Any]) -> None:
    html = pages["/unit-economics"].text
    assert "Cost per" in html and "line-chart" in html
    assert 'id="unit-table"' in html


def test_executed_opportunity_shows_pr_body_and_diff(viewer: TestClient, web_ws: Workspace) -> None:
    executed = executed_opportunities(web_ws.state)
    assert executed, "the demo workspace has an executed opportunity"
    opp, run = executed[0]
    html = viewer.get(f"/opportunities/{opp.id}").text
    assert f"on {run.branch}" in html
    assert '<pre class="diff">diff --git' in html
    assert '<pre class="pr-body">' in html
