"""FastAPI dependencies: the workspace, the signed-in principal, roles, team scope, CSRF.

API routes depend on ``api_user`` (a Bearer token or the session cookie; a mutation
made with the cookie must carry the session's CSRF token in ``X-CSRF-Token``), pages
on ``page_user`` (the session cookie; otherwise a redirect to the login page), and
HTML forms on ``verify_csrf_form`` (hidden field ``csrf_token``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from costloop.warehouse.engine import Engine
from costloop.web.auth import SESSION_COOKIE, AuthSettings, WebSession, find_session
from costloop.web.errors import LoginRequired, is_api, problem
from costloop.web.queries import reader_engine_for
from costloop.web.security import same_secret
from costloop.web.users import User, authenticate_token
from costloop.workspace import Workspace

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "ROLES",
    "Principal",
    "api_user",
    "auth_settings",
    "can_act_on_team",
    "csrf_token",
    "current_session",
    "engine_for",
    "get_workspace",
    "page_user",
    "require_role",
    "verify_csrf_form",
]

ROLES = ("viewer", "owner", "approver", "admin")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Declares the Bearer scheme in the OpenAPI document (Swagger UI's "Authorize" button);
# the header itself is checked in ``api_user``, which also accepts the session cookie.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token (`costloop tokens create`); browser sessions work too.",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    Attributes:
        user_id: the user's id in the state DB.
        username: their login name (recorded as the actor in audit logs).
        role: viewer, owner, approver or admin.
        team: an owner's team (an org-file team name); None for the other roles.
        via: ``"session"`` (browser cookie) or ``"token"`` (API token).
    """

    user_id: int
    username: str
    role: str
    team: str | None
    via: str

    @classmethod
    def of(cls, user: User, via: str) -> Principal:
        """The principal of a user signed in ``via`` a session or a token."""
        return cls(user.id, user.username, user.role, user.team, via)


def get_workspace(request: Request) -> Workspace:
    """The workspace the app serves (``app.state.workspace``)."""
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


def auth_settings(request: Request) -> AuthSettings:
    """The app's session and login settings (``app.state.auth``)."""
    settings = request.app.state.auth
    assert isinstance(settings, AuthSettings)
    return settings


@contextmanager
def engine_for(request: Request) -> Iterator[Engine]:
    """A read-only warehouse engine for one request, on a cursor of the app's shared
    :class:`~costloop.warehouse.LakeReader` (each query reads the latest snapshot).

    Example:
        >>> with engine_for(request) as engine:  # doctest: +SKIP
        ...     rows = engine.rows(engine.table("charges").count())
    """
    with reader_engine_for(get_workspace(request), request.app.state.reader) as engine:
        yield engine


def current_session(request: Request) -> WebSession | None:
    """The live session of the request's cookie, or None (looked up once per request)."""
    if hasattr(request.state, "web_session"):
        cached = request.state.web_session
        return cached if isinstance(cached, WebSession) else None
    cookie = request.cookies.get(SESSION_COOKIE)
    found = None
    if cookie:
        found = find_session(get_workspace(request).state, cookie, auth_settings(request))
    request.state.web_session = found
    return found


def _remember(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal
    return principal


def _unauthorized(detail: str) -> Exception:
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="costloop"'})


def api_user(request: Request, bearer: BearerCredentials = None) -> Principal:
    """The caller of an API route.

    A ``Authorization: Bearer`` token wins over the session cookie; a cookie-signed call
    that changes something (not GET/HEAD/OPTIONS) must send ``X-CSRF-Token``.

    Args:
        request: the request (its headers and cookies are what is checked).
        bearer: filled by FastAPI only to declare the Bearer scheme in the OpenAPI
            document; callers may leave it out.

    Raises:
        HTTPException: 401 without valid credentials, 403 on a missing or wrong CSRF token.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized("use 'Authorization: Bearer <token>'")
        user = authenticate_token(get_workspace(request).state, secret.strip())
        if user is None:
            raise _unauthorized("the API token is invalid or revoked")
        return _remember(request, Principal.of(user, "token"))
    session = current_session(request)
    if session is None:
        raise _unauthorized("sign in or send an API token")
    if request.method not in _SAFE_METHODS and not same_secret(
        request.headers.get(CSRF_HEADER), session.csrf_token
    ):
        raise problem(403, f"missing or wrong {CSRF_HEADER} header")
    return _remember(request, Principal.of(session.user, "session"))


def page_user(request: Request) -> Principal:
    """The signed-in user of a page.

    Raises:
        LoginRequired: nobody is signed in (the app redirects to ``/login?next=...``).
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    session = current_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return _remember(request, Principal.of(session.user, "session"))


def require_role(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only the given roles (admin is always admitted).

    Under ``/api`` it authenticates like ``api_user`` and answers 403 problem+json;
    on pages like ``page_user`` with a 403 page.

    Example:
        >>> @router.post("/users", dependencies=[Depends(require_role("admin"))])  # doctest: +SKIP
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    allowed = frozenset((*roles, "admin"))

    def dependency(request: Request, bearer: BearerCredentials = None) -> Principal:
        principal = api_user(request, bearer) if is_api(request) else page_user(request)
        if principal.role not in allowed:
            needed = " or ".join(sorted(allowed))
            raise problem(403, f"this needs the role {needed}; you are a {principal.role}")
        return principal

    dependency.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dependency


def can_act_on_team(p: Principal, team: str | None, *, opportunity: bool = False) -> bool:
    """Whether ``p`` may change an item (anomaly, budget, opportunity) owned by ``team``.

    Admins act on everything; an owner on their own team's items only; an approver on
    opportunities (approve / reject) of any team, passing ``opportunity=True``; a viewer
    never.
    """
    if p.role == "admin":
        return True
    if p.role == "owner":
        return team is not None and p.team == team
    if p.role == "approver":
        return opportunity
    return False


def csrf_token(request: Request) -> str:
    """The CSRF token of the signed-in session, for a form's hidden ``csrf_token`` field.

    Raises:
        LoginRequired: nobody is signed in.
    """
    session = current_session(request)
    if session is None:
        raise LoginRequired(request.url.path)
    return session.csrf_token


async def verify_csrf_form(request: Request) -> None:
    """Dependency of HTML form POSTs: the ``csrf_token`` field must match the session's.

    Raises:
        LoginRequired: nobody is signed in.
        HTTPException: 403 when the token is missing or wrong.
    """
    session = await run_in_threadpool(current_session, request)
    if session is None:
        raise LoginRequired(request.url.path)
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not same_secret(given if isinstance(given, str) else None, session.csrf_token):
        raise problem(403, "the form has expired or did not come from this site; reload the page")
