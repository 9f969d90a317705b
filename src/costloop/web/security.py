"""Security headers on every response, and the small checks CSRF and cookies rely on.

The Content-Security-Policy allows scripts, styles and images from the app itself
only (no inline script or style), so pages and Swagger UI load their code from
``/static``. HSTS is sent when the request came over https.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "SecurityHeadersMiddleware",
    "is_https",
    "safe_next",
    "same_secret",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)
HSTS = ("strict-transport-security", "max-age=31536000; includeSubDomains")


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two secrets; False when either is missing or empty."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def is_https(request: Request) -> bool:
    """Whether the client reached the app over https (uvicorn applies proxy headers)."""
    return request.url.scheme == "https"


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after login; anything else (other hosts, schemes) gives ``default``.

    Example:
        >>> safe_next("/teams/checkout?month=2026-10")
        '/teams/checkout?month=2026-10'
        >>> safe_next("//evil.example/")
        '/'
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


class SecurityHeadersMiddleware:
    """ASGI middleware adding the security headers to every HTTP response.

    A header a route set itself is kept (e.g. a stricter policy); HSTS is added on https.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*SECURITY_HEADERS, HSTS] if https else SECURITY_HEADERS
                for name, value in extra:
                    key = name.encode("latin-1")
                    if key not in present:
                        headers.append((key, value.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
