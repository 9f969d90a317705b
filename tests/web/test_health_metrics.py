"""``/healthz`` (open) and ``/metrics`` (Prometheus text, needs credentials)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC

from fastapi.testclient import TestClient

from costloop.opportunities.store import list_opportunities
from costloop.warehouse.engine import open_engine
from costloop.web.app import create_app
from costloop.web.users import create_token
from costloop.workspace import Workspace


def _value(text: str, sample: str) -> float:
    """The value of one sample line (``name{labels}``) of a scrape."""
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    assert found, f"{sample} missing from:\n{text}"
    return float(found.group(1))


def test_healthz_answers_without_credentials(anon_client: TestClient) -> None:
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_need_credentials(anon_client: TestClient) -> None:
    response = anon_client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_metrics_count_requests_by_route_template_and_status(web_ws: Workspace) -> None:
    app = create_app(web_ws)  # its own counters, untouched by other tests
    with TestClient(app) as anon:
        anon.get("/healthz")
        anon.get("/healthz")
        anon.get("/definitely/not/here")
    _, secret = create_token(web_ws.state, "viewer", "prometheus")
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as client:
        client.delete("/api/v1/tokens/999999")
        scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = scrape.text
    ok = 'method="GET",route="/healthz",status="200"'
    assert _value(text, f"costloop_http_requests_total{{{ok}}}") == 2
    # Path parameters stay templates (one series per route, not per id).
    missing = 'method="DELETE",route="/api/v1/tokens/{token_id}",status="404"'
    assert _value(text, f"costloop_http_requests_total{{{missing}}}") == 1
    assert (
        _value(text, 'costloop_http_requests_total{method="GET",route="unmatched",status="404"}')
        == 1
    )
    count = _value(text, f"costloop_http_request_duration_seconds_count{{{ok}}}")
    inf = _value(text, f'costloop_http_request_duration_seconds_bucket{{{ok},le="+Inf"}}')
    assert count == inf == 2
    assert _value(text, f"costloop_http_request_duration_seconds_sum{{{ok}}}") > 0
    for family in (
        "costloop_http_requests_total counter",
        "costloop_http_request_duration_seconds histogram",
        "costloop_last_ingest_timestamp_seconds gauge",
        "costloop_last_ingest_rows gauge",
        "costloop_warehouse_rows gauge",
        "costloop_open_anomalies gauge",
        "costloop_open_opportunities gauge",
    ):
        assert f"# TYPE {family}" in text


def test_metrics_report_the_data_as_the_stores_have_it(
    web_ws: Workspace, api_client_for: Callable[..., TestClient]
) -> None:
    text = api_client_for("viewer").get("/metrics").text
    with open_engine(web_ws.lake) as engine:
        loads = engine.table("loads")
        last = engine.rows(loads.order_by(loads.loaded_at.desc()).limit(1))[0]
        charges = engine.rows(engine.table("charges").count().name("n").as_table())[0]["n"]
    open_now = list_opportunities(web_ws.state, "open")
    assert open_now, "the demo workspace has open opportunities"
    assert _value(text, "costloop_open_opportunities") == len(open_now)
    assert _value(text, 'costloop_warehouse_rows{table="charges"}') == charges > 0
    assert _value(text, "costloop_last_ingest_rows") == last["rows"]
    stamp = last["loaded_at"].replace(tzinfo=UTC).timestamp()
    assert abs(_value(text, "costloop_last_ingest_timestamp_seconds") - stamp) < 1e-3
