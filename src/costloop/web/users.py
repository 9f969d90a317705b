"""Users and API tokens of the web app: argon2id passwords, SHA-256 tokens, roles and teams.

The CLI (`costloop users`, `costloop tokens`) and the web app both call these functions;
they raise ``InputError`` (exit code 2) for bad names, roles and teams, and
``NotFoundError`` for unknown users and tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from costloop.core.errors import InputError, NotFoundError
from costloop.core.org import Org
from costloop.state import ApiTokenRow, StateDB, UserRow, WebSessionRow

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TOKEN_PREFIX",
    "ApiToken",
    "User",
    "add_user",
    "authenticate_token",
    "check_password",
    "count_users",
    "create_token",
    "ensure_first_admin",
    "get_user",
    "get_user_by_id",
    "list_tokens",
    "list_users",
    "new_password",
    "remove_user",
    "revoke_token",
    "set_disabled",
    "set_password",
    "set_role",
    "sha256_hex",
]

ROLES = ("viewer", "owner", "approver", "admin")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "cl_"
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as much time
    as a wrong password and response times do not reveal which names exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    """A user as the app sees it (never the password hash)."""

    id: int
    username: str
    role: str
    team: str | None
    disabled: bool
    created_at: datetime
    last_login: datetime | None


@dataclass(frozen=True)
class ApiToken:
    """An API token's public facts; the secret itself is shown once, at creation."""

    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used: datetime | None
    revoked_at: datetime | None


def sha256_hex(secret: str) -> str:
    """Hex SHA-256 of a secret (tokens and session ids are stored only this way)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_password() -> str:
    """A random password (about 128 bits) for a first admin."""
    return secrets.token_urlsafe(16)


def _now() -> datetime:
    return datetime.now(UTC)


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=row.role,
        team=row.team,
        disabled=row.disabled,
        created_at=row.created_at,
        last_login=row.last_login,
    )


def _check_username(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise InputError(
            f"invalid user name {username!r}: use 1-100 letters, digits, '.', '_', '@' or '-'",
            column="username",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters",
            column="password",
        )


def _check_role(role: str, team: str | None, org: Org) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}", column="role")
    if role == "owner":
        if not team:
            raise InputError("an owner needs a team (--team)", column="team")
        if org.team(team) is None:
            known = ", ".join(t.name for t in org.teams) or "none: the org file has no teams"
            raise InputError(
                f"unknown team {team!r} (teams of the org file: {known})", column="team"
            )
    elif team is not None:
        raise InputError(f"only owners have a team, not a {role}", column="team")


def _row(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user named {username!r}")
    return row


def count_users(db: StateDB) -> int:
    """How many users exist (disabled ones included)."""
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


def add_user(
    db: StateDB, org: Org, username: str, password: str, role: str, team: str | None = None
) -> User:
    """Create a user.

    Args:
        db: the state database.
        org: the organization (an owner's team must be one of its teams).
        username: unique login name.
        password: at least ``MIN_PASSWORD_LENGTH`` characters; stored as an argon2id hash.
        role: viewer, owner, approver or admin.
        team: the owner's team; must be None for the other roles.

    Raises:
        InputError: bad name, short password, unknown role or team, or the name is taken.
    """
    _check_username(username)
    _check_password(password)
    _check_role(role, team, org)
    row = UserRow(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        team=team,
        disabled=False,
        created_at=_now(),
        last_login=None,
    )
    try:
        with db.session() as session:
            session.add(row)
            session.flush()
            return _user(row)
    except IntegrityError:
        raise InputError(f"a user named {username!r} already exists", column="username") from None


def list_users(db: StateDB) -> list[User]:
    """Every user, by name."""
    with db.session() as session:
        return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def get_user(db: StateDB, username: str) -> User:
    """A user by name.

    Raises:
        NotFoundError: no such user.
    """
    with db.session() as session:
        return _user(_row(session, username))


def get_user_by_id(db: StateDB, user_id: int) -> User | None:
    """A user by id, or None."""
    with db.session() as session:
        row = session.get(UserRow, user_id)
        return None if row is None else _user(row)


def set_role(db: StateDB, org: Org, username: str, role: str, team: str | None = None) -> User:
    """Change a user's role (and team, for owners).

    Raises:
        NotFoundError: no such user.
        InputError: unknown role or team, or the last active admin would be lost.
    """
    _check_role(role, team, org)
    with db.session() as session:
        row = _row(session, username)
        if row.role == "admin" and role != "admin":
            _keep_an_admin(session, row)
        row.role = role
        row.team = team
        return _user(row)


def set_password(db: StateDB, username: str, password: str) -> None:
    """Replace a user's password; their browser sessions end.

    Raises:
        NotFoundError: no such user.
        InputError: the password is too short.
    """
    _check_password(password)
    with db.session() as session:
        row = _row(session, username)
        row.password_hash = _hasher.hash(password)
        for web_session in session.scalars(
            select(WebSessionRow).where(WebSessionRow.user_id == row.id)
        ):
            session.delete(web_session)


def set_disabled(db: StateDB, username: str, disabled: bool) -> User:
    """Disable a user (their sessions end, their tokens stop working) or enable them again.

    Raises:
        NotFoundError: no such user.
        InputError: disabling the last active admin.
    """
    with db.session() as session:
        row = _row(session, username)
        if disabled and row.role == "admin" and not row.disabled:
            _keep_an_admin(session, row)
        row.disabled = disabled
        if disabled:
            session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
        return _user(row)


def remove_user(db: StateDB, username: str) -> None:
    """Delete a user with their tokens and sessions.

    Raises:
        NotFoundError: no such user.
        InputError: they are the last active admin.
    """
    with db.session() as session:
        row = _row(session, username)
        if row.role == "admin":
            _keep_an_admin(session, row)
        session.delete(row)


def _keep_an_admin(session: Session, leaving: UserRow) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(UserRow)
        .where(UserRow.role == "admin", UserRow.id != leaving.id, UserRow.disabled.is_(False))
    )
    if not others:
        raise InputError(
            f"{leaving.username!r} is the last admin: make another user admin first",
            column="role",
        )


def check_password(db: StateDB, username: str, password: str) -> User | None:
    """The user when the name and password match an enabled account, else None.

    Takes the same time whether or not the user exists; records the login time and
    upgrades the hash when argon2's parameters have changed.
    """
    with db.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
        try:
            _hasher.verify(_dummy_hash() if row is None else row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        row.last_login = _now()
        return _user(row)


def ensure_first_admin(db: StateDB, password: str | None = None) -> str | None:
    """Create the user ``admin`` when there is no user at all.

    Args:
        db: the state database.
        password: the password to give (e.g. from ``COSTLOOP_ADMIN_PASSWORD``); a random
            one when None.

    Returns:
        The generated password (to show once), or None when no user was created or the
        password was given.
    """
    if count_users(db):
        return None
    generated = password is None
    secret = new_password() if password is None else password
    add_user(db, Org(), "admin", secret, "admin")
    return secret if generated else None


def _token(row: ApiTokenRow, username: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        username=username,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used=row.last_used,
        revoked_at=row.revoked_at,
    )


def create_token(db: StateDB, username: str, name: str = "") -> tuple[ApiToken, str]:
    """Create an API token for a user.

    Returns:
        The token's facts and the secret (``cl_`` + 43 URL-safe characters), which is not
        stored and cannot be shown again.

    Raises:
        NotFoundError: no such user.
        InputError: the label is longer than 100 characters.
    """
    if len(name) > 100:
        raise InputError("the token name is longer than 100 characters", column="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        user = _row(session, username)
        row = ApiTokenRow(
            user_id=user.id,
            name=name,
            token_hash=sha256_hex(secret),
            prefix=secret[:10],
            created_at=_now(),
            last_used=None,
            revoked_at=None,
        )
        session.add(row)
        session.flush()
        return _token(row, user.username), secret


def list_tokens(db: StateDB, username: str | None = None) -> list[ApiToken]:
    """API tokens (revoked ones included), of one user or of everyone, oldest first."""
    query = select(ApiTokenRow, UserRow.username).join(UserRow, UserRow.id == ApiTokenRow.user_id)
    if username is not None:
        query = query.where(UserRow.username == username)
    with db.session() as session:
        return [_token(t, name) for t, name in session.execute(query.order_by(ApiTokenRow.id))]


def revoke_token(db: StateDB, token_id: int, username: str | None = None) -> ApiToken:
    """Revoke a token (idempotent); with ``username``, only that user's token.

    Raises:
        NotFoundError: no such token (or it belongs to someone else).
    """
    with db.session() as session:
        found = session.execute(
            select(ApiTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.id == token_id)
        ).first()
        if found is None or (username is not None and found[1] != username):
            raise NotFoundError(f"no API token with id {token_id}")
        row, owner = found
        if row.revoked_at is None:
            row.revoked_at = _now()
        return _token(row, owner)


def authenticate_token(db: StateDB, secret: str) -> User | None:
    """The enabled user owning an unrevoked token, recording its use; else None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with db.session() as session:
        found = session.execute(
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_hash == sha256_hex(secret))
        ).first()
        if found is None:
            return None
        token, user = found
        if token.revoked_at is not None or user.disabled:
            return None
        now = _now()
        # One write a minute at most: every API call would otherwise write the state DB.
        if token.last_used is None or (now - token.last_used).total_seconds() >= 60:
            token.last_used = now
        return _user(user)
