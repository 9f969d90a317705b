"""Property-based API tests: schemathesis generates requests from the API's OpenAPI
document; no generated input may make the server fail (5xx) or answer off-schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from costloop.web import api
from costloop.web.app import create_app
from costloop.web.users import create_token
from costloop.workspace import Workspace

pytestmark = pytest.mark.slow


SPEC = get_openapi(title="costloop", version="1", routes=api.router.routes)
"""The OpenAPI document of the ``/api/v1`` routes (no workspace needed to make it)."""

LABELS = sorted(r.ok().label for r in schemathesis.openapi.from_dict(SPEC).get_all_operations())


@pytest.fixture
def api_app(fresh_web_ws: Workspace) -> FastAPI:
    """An app over a private workspace: generated requests approve, snooze and resolve."""
    return create_app(fresh_web_ws)


@pytest.mark.parametrize("label", LABELS)
def test_no_server_errors(label: str, api_app: FastAPI) -> None:
    _token, secret = create_token(api_app.state.workspace.state, "admin", "schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_dict(SPEC)
    schema.app = api_app  # ASGI transport, in-process
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            (content_type,) = response.headers["content-type"]
            assert content_type == "application/problem+json"
        # Valid-looking values may still name no dimension, team, metric or day with
        # data: those answer 400 by design, so "schema-valid input is accepted" is off.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    check()
