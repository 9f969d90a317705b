"""Sign-in and sign-out pages, and the REST endpoints for API tokens and users.

``router`` serves ``/login`` and ``/logout``; ``api_router`` serves ``/api/v1/me``,
``/api/v1/tokens`` (each user manages their own; admins everyone's) and
``/api/v1/users`` (admins only).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Literal

import jinja2
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from costloop.web.auth import SESSION_COOKIE, LoginLimiter, end_session, start_session
from costloop.web.deps import (
    Principal,
    api_user,
    auth_settings,
    current_session,
    get_workspace,
    require_role,
    verify_csrf_form,
)
from costloop.web.errors import problem
from costloop.web.security import is_https, safe_next, same_secret
from costloop.web.users import (
    ApiToken,
    User,
    add_user,
    check_password,
    create_token,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    set_role,
)

__all__ = ["LOGIN_CSRF_COOKIE", "api_router", "router"]

LOGIN_CSRF_COOKIE = "costloop_login_csrf"
GENERIC_FAILURE = "Invalid username or password."
MAX_ID = 2**63 - 1  # the largest id the state DB can store

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1")

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("costloop.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _secure(request: Request) -> bool:
    setting = auth_settings(request).secure_cookies
    return is_https(request) if setting is None else setting


def _login_page(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    body = _templates.get_template("login.html.j2").render(
        csrf=token, next=next_url, username=username, error=error
    )
    response = HTMLResponse(body, status_code=status, headers=headers)
    # Double-submit token: the form must echo this cookie, which other sites cannot read.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in form (signed-in visitors go straight on to ``next``)."""
    target = safe_next(next)
    if current_session(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, next_url=target)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the credentials; on success open a session and redirect to ``next``."""
    target = safe_next(next)
    if not same_secret(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(
            request,
            next_url=target,
            username=username,
            error="The sign-in form expired. Please try again.",
            status=403,
        )
    limiter = request.app.state.login_limiter
    assert isinstance(limiter, LoginLimiter)
    address = _client(request)
    wait = limiter.retry_after(username, address)
    if wait is not None:
        minutes = max(1, (wait + 59) // 60)
        return _login_page(
            request,
            next_url=target,
            username=username,
            error=f"Too many failed attempts. Try again in {minutes} minute(s).",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    ws = get_workspace(request)
    user = check_password(ws.state, username, password)
    if user is None:
        limiter.failed(username, address)
        return _login_page(
            request, next_url=target, username=username, error=GENERIC_FAILURE, status=401
        )
    limiter.succeeded(username, address)
    settings = auth_settings(request)
    cookie, _csrf = start_session(ws.state, user.id, settings)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf_form)])
def logout(request: Request) -> Response:
    """End the session and return to the sign-in page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(get_workspace(request).state, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- REST: the caller, their tokens, and users --------------------------------------------

Role = Literal["viewer", "owner", "approver", "admin"]


class MeOut(BaseModel):
    """The authenticated caller."""

    username: str
    role: str
    team: str | None
    via: str
    csrf_token: str | None = Field(
        None, description="The session's CSRF token (browser sessions only)."
    )


class TokenIn(BaseModel):
    """A token to create."""

    name: str = Field("", max_length=100, description="A label, e.g. 'grafana'.")


class TokenOut(BaseModel):
    """An API token's public facts (never the secret)."""

    id: int
    username: str
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    created_at: datetime
    last_used: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    """A token just created: ``token`` is shown this once and never again."""

    token: str


class UserOut(BaseModel):
    """A user (never the password hash)."""

    username: str
    role: str
    team: str | None
    disabled: bool
    created_at: datetime
    last_login: datetime | None


class UserIn(BaseModel):
    """A user to create."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    team: str | None = Field(None, max_length=200)


class RoleIn(BaseModel):
    """A new role (and team, for owners)."""

    role: Role
    team: str | None = Field(None, max_length=200)


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        username=token.username,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used=token.last_used,
        revoked_at=token.revoked_at,
    )


def _user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role,
        team=user.team,
        disabled=user.disabled,
        created_at=user.created_at,
        last_login=user.last_login,
    )


Caller = Annotated[Principal, Depends(api_user)]
Username = Annotated[str, Path(min_length=1, max_length=100)]
Admin = Annotated[Principal, Depends(require_role("admin"))]


@api_router.get("/me", tags=["auth"])
def me(request: Request, p: Caller) -> MeOut:
    """Who the credentials belong to."""
    session = current_session(request) if p.via == "session" else None
    return MeOut(
        username=p.username,
        role=p.role,
        team=p.team,
        via=p.via,
        csrf_token=session.csrf_token if session else None,
    )


@api_router.get("/tokens", tags=["auth"])
def tokens(
    request: Request,
    p: Caller,
    all_users: Annotated[bool, Query(alias="all", description="Everyone's (admins).")] = False,
) -> list[TokenOut]:
    """The caller's API tokens, revoked ones included; ``all=true`` lists everyone's."""
    if all_users and p.role != "admin":
        raise problem(403, "only admins can list everyone's tokens")
    found = list_tokens(get_workspace(request).state, None if all_users else p.username)
    return [_token_out(t) for t in found]


@api_router.post("/tokens", status_code=201, tags=["auth"])
def new_token(request: Request, p: Caller, body: TokenIn) -> NewTokenOut:
    """Create an API token for the caller; the response is the only time it is shown."""
    token, secret = create_token(get_workspace(request).state, p.username, body.name)
    return NewTokenOut(**_token_out(token).model_dump(), token=secret)


@api_router.delete("/tokens/{token_id}", tags=["auth"])
def delete_token(
    request: Request, p: Caller, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> TokenOut:
    """Revoke one of the caller's tokens (admins: anyone's)."""
    owner = None if p.role == "admin" else p.username
    return _token_out(revoke_token(get_workspace(request).state, token_id, owner))


@api_router.get("/users", tags=["users"])
def users(request: Request, _: Admin) -> list[UserOut]:
    """Every user (admins only)."""
    return [_user_out(u) for u in list_users(get_workspace(request).state)]


@api_router.post("/users", status_code=201, tags=["users"])
def new_user(request: Request, _: Admin, body: UserIn) -> UserOut:
    """Create a user (admins only); an owner needs a team of the org file."""
    ws = get_workspace(request)
    return _user_out(add_user(ws.state, ws.org, body.username, body.password, body.role, body.team))


@api_router.patch("/users/{username}", tags=["users"])
def change_role(request: Request, _: Admin, username: Username, body: RoleIn) -> UserOut:
    """Change a user's role and team (admins only)."""
    ws = get_workspace(request)
    return _user_out(set_role(ws.state, ws.org, username, body.role, body.team))


@api_router.delete("/users/{username}", status_code=204, tags=["users"])
def delete_user(request: Request, _: Admin, username: Username) -> Response:
    """Remove a user with their tokens and sessions (admins only; not the last admin)."""
    remove_user(get_workspace(request).state, username)
    return Response(status_code=204)
