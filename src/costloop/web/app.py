"""The FastAPI application: routes, security headers, errors, static files and API docs.

``create_app(ws)`` builds one app serving one workspace; ``costloop serve`` runs it
under uvicorn, tests drive it with ``fastapi.testclient.TestClient``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from costloop.warehouse import LakeReader
from costloop.web import api, auth_pages, pages
from costloop.web.auth import AuthSettings, LoginLimiter
from costloop.web.deps import Principal, api_user, page_user
from costloop.web.errors import CatchAllMiddleware, install_error_handlers
from costloop.web.metrics import CONTENT_TYPE, RequestMetrics, RequestStats, render
from costloop.web.queries import reader_engine_for
from costloop.web.security import SecurityHeadersMiddleware
from costloop.web.warm import Warmer
from costloop.workspace import Workspace

__all__ = [
    "SERVE_ENV",
    "STATIC_DIR",
    "app_from_environment",
    "create_app",
    "openapi_30",
    "serve_environment",
]

STATIC_DIR = Path(__file__).parent / "static"
# The swagger-ui-bundle package ships Swagger UI's files (and no type information).
_SWAGGER_DIR = Path(str(importlib.import_module("swagger_ui_bundle").swagger_ui_path))

_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>costloop REST API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

# Loaded from its own URL because the Content-Security-Policy forbids inline scripts.
_DOCS_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/docs/openapi-3.0.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""

_DESCRIPTION = """The costloop REST API: the same services and numbers as the CLI and the web pages.

Authenticate with `Authorization: Bearer <token>` (create one with `costloop tokens create`
or `POST /api/v1/tokens`). Browser sessions work too; their changes must send the
session's CSRF token in `X-CSRF-Token`. Money is a decimal string; errors are
`application/problem+json`.
"""


def _version() -> str:
    try:
        return metadata.version("costloop")
    except metadata.PackageNotFoundError:
        return "0"


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document rewritten in 3.0 terms, for the bundled Swagger UI 4.

    Swagger UI 4 refuses 3.1 documents; FastAPI's differ from 3.0 almost only in how
    they say "or null" (``anyOf: [X, {type: null}]``), which becomes ``nullable: true``.
    """

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        options = node.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del node["anyOf"]
            if len(rest) == 1 and isinstance(rest[0], dict) and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            else:
                node["anyOf"] = rest
            node["nullable"] = True
        elif node.get("type") == "null":
            del node["type"]
            node["nullable"] = True
        return {key: convert(value) for key, value in node.items()}

    converted: dict[str, Any] = convert(document)
    converted["openapi"] = "3.0.3"
    return converted


SERVE_ENV = "COSTLOOP_SERVE_WORKSPACE"
"""Workspace folder that :func:`app_from_environment` serves (set by ``costloop serve``)."""
_SECURE_ENV = "COSTLOOP_SERVE_SECURE_COOKIES"


def app_from_environment() -> FastAPI:
    """The app of ``$COSTLOOP_SERVE_WORKSPACE``: the factory each uvicorn worker process
    calls when ``costloop serve --workers N`` runs several (uvicorn needs an import
    path then, not an app object)."""
    secure = os.environ.get(_SECURE_ENV, "")
    return create_app(
        Workspace.open(Path(os.environ[SERVE_ENV])),
        secure_cookies=None if secure == "" else secure == "1",
        warm=True,
    )


def serve_environment(ws: Workspace, secure_cookies: bool | None) -> dict[str, str]:
    """The variables :func:`app_from_environment` reads."""
    secure = "" if secure_cookies is None else ("1" if secure_cookies else "0")
    return {SERVE_ENV: str(ws.root), _SECURE_ENV: secure}


def create_app(
    ws: Workspace,
    *,
    secure_cookies: bool | None = None,
    auth: AuthSettings | None = None,
    warm: bool = False,
) -> FastAPI:
    """The web app and REST API of one workspace.

    Args:
        ws: the workspace to serve (its warehouse is read per request, read-only).
        secure_cookies: mark cookies Secure always (True), never (False), or when the
            request arrived over https (None, the default).
        auth: session lifetimes and login limits; the defaults of ``AuthSettings``
            when None.
        warm: while the app runs, compute the overview, explorer and team figures at
            start and after every data change, in a background thread (``costloop
            serve`` does; tests compute on demand).

    Returns:
        The FastAPI application.
    """
    settings = auth or AuthSettings()
    if secure_cookies is not None:
        settings = replace(settings, secure_cookies=secure_cookies)
    stats = RequestStats()
    reader = LakeReader(ws.lake)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmer = Warmer(ws, partial(reader_engine_for, ws, reader)) if warm else None
        app.state.warmer = warmer
        if warmer is not None:
            warmer.start()
        try:
            yield
        finally:
            if warmer is not None:
                warmer.stop()
            reader.close()

    app = FastAPI(
        title="costloop",
        version=_version(),
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.workspace = ws
    app.state.reader = reader
    app.state.warmer = None
    app.state.auth = settings
    app.state.login_limiter = LoginLimiter(settings)
    app.state.request_stats = stats

    install_error_handlers(app)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestMetrics, stats=stats, routes=lambda: app.routes)
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """Liveness: answers without authentication."""
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request, _: Principal = Depends(api_user)) -> PlainTextResponse:
        """Prometheus metrics (needs an API token or a session)."""
        warmer = request.app.state.warmer
        rounds = None if warmer is None else warmer.rounds
        connect = partial(reader_engine_for, ws, reader)
        body = await run_in_threadpool(render, ws, stats, rounds, connect)
        return PlainTextResponse(body, media_type=CONTENT_TYPE)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_json(_: Principal = Depends(api_user)) -> JSONResponse:
        """The OpenAPI document of the REST API (needs authentication, like every route)."""
        return JSONResponse(app.openapi())

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(_: Principal = Depends(page_user)) -> HTMLResponse:
        """Swagger UI over ``/api/openapi.json``, served from local files (signed-in users)."""
        return HTMLResponse(_DOCS_PAGE)

    @app.get("/api/docs/openapi-3.0.json", include_in_schema=False)
    def openapi_json_30(_: Principal = Depends(api_user)) -> JSONResponse:
        """The OpenAPI document in 3.0 terms, which the bundled Swagger UI reads."""
        return JSONResponse(openapi_30(app.openapi()))

    @app.get("/api/docs/init.js", include_in_schema=False)
    def api_docs_init() -> Response:
        """The script that starts Swagger UI."""
        return Response(_DOCS_INIT, media_type="text/javascript")

    app.include_router(auth_pages.router)
    app.include_router(auth_pages.api_router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static/swagger", StaticFiles(directory=_SWAGGER_DIR), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
