"""Errors as RFC 9457 problem+json under /api, as a small HTML page elsewhere.

Routes and dependencies raise ``fastapi.HTTPException`` (or a costloop error); the
handlers installed by ``install_error_handlers`` turn it into the response the client
understands. ``LoginRequired`` sends a browser to the login page instead.
"""

from __future__ import annotations

import html
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from costloop.core.errors import ConfigError, CostloopError, InputError, NotFoundError

__all__ = [
    "PROBLEM_JSON",
    "CatchAllMiddleware",
    "LoginRequired",
    "install_error_handlers",
    "is_api",
    "problem",
    "problem_response",
]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("costloop.web")


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is signed in: redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def is_api(request: Request) -> bool:
    """Whether a request is for the JSON API (errors as problem+json)."""
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/metrics"


def problem(
    status: int, detail: str | None = None, *, headers: dict[str, str] | None = None
) -> HTTPException:
    """An ``HTTPException`` to raise; rendered as problem+json or HTML by the handlers."""
    return HTTPException(status_code=status, detail=detail, headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response: ``type``, ``title``, ``status``, ``detail`` and extras."""
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _html_error(status: int, detail: str | None, headers: dict[str, str] | None) -> HTMLResponse:
    title = html.escape(f"{status} {_title(status)}")
    text = html.escape(detail or _title(status))
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title} · costloop</title><link rel="stylesheet" href="/static/auth.css">'
        f'</head><body><main class="auth-box"><h1>{title}</h1><p>{text}</p>'
        '<p><a href="/">Back to the overview</a></p></main></body></html>'
    )
    return HTMLResponse(page, status_code=status, headers=headers)


def _respond(
    request: Request,
    status: int,
    detail: str | None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    if is_api(request):
        return problem_response(status, detail, headers=headers, **extra)
    return _html_error(status, detail, headers)


def _costloop_status(exc: CostloopError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InputError | ConfigError):
        return 422 if isinstance(exc, InputError) else 400
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that shape every error response of ``app``."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        return _respond(request, exc.status_code, detail, dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
            for error in exc.errors()
        ]
        where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return _respond(request, 422, f"invalid request: {where}", errors=errors)

    async def costloop_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CostloopError)
        status = _costloop_status(exc)
        if status == 500:
            _log.error("request failed: %s", exc)
            return _respond(request, 500, "the server could not complete the request")
        extra: dict[str, Any] = {}
        if isinstance(exc, InputError):
            extra = {k: v for k, v in (("file", exc.file), ("row", exc.row)) if v is not None}
            if exc.column is not None:
                extra["column"] = exc.column
        return _respond(request, status, str(exc), **extra)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CostloopError, costloop_error)
    app.add_exception_handler(LoginRequired, login_required)


class CatchAllMiddleware:
    """Answer an unhandled exception with a generic 500 (problem+json under /api).

    Installed inside the security-header middleware, so error pages carry the same
    headers as any other response. The exception is raised on, as Starlette does, so
    the server logs it and test clients still see it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not started:
                request = Request(scope)
                response = _respond(request, 500, "the server could not complete the request")
                await response(scope, receive, send)
            raise
