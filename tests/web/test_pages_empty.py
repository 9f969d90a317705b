"""A new, empty workspace: every page answers 200 and says what to do next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from costloop.web.users import add_user
from costloop.workspace import Workspace

EMPTY_STATES = {
    "/": "No billing data yet.",
    "/explorer": "No cost matches this query.",
    "/allocation": "No allocated cost yet.",
    "/teams": "No teams yet.",
    "/anomalies": "No anomalies match.",
    "/forecasts": "No forecast yet",
    "/budgets": "No budgets defined.",
    "/commitments": "No billing data yet.",
    "/unit-economics": "No business metrics loaded.",
    "/opportunities": "No opportunities yet.",
}


def test_empty_workspace_shows_empty_states(tmp_path: Path, client_for: Any) -> None:
    ws = Workspace.init(tmp_path / "empty")
    add_user(ws.state, ws.org, "viewer", "correct-horse-battery", "viewer", None)
    client = client_for("viewer", ws)
    for path, text in EMPTY_STATES.items():
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[-800:])
        assert text in response.text, path
    assert client.get("/teams/checkout").status_code == 404
    assert client.get("/opportunities/1").status_code == 404
    assert client.get("/anomalies/1").status_code == 404
