"""Browser sessions (server-side rows) and login rate limiting.

A session cookie holds 256 random bits; the state DB keeps only their SHA-256, the
user, a per-session CSRF token, and the times that bound the session: it ends after
``idle`` without a request or ``lifetime`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from costloop.state import StateDB, UserRow, WebSessionRow
from costloop.web.users import User, sha256_hex

__all__ = [
    "SESSION_COOKIE",
    "AuthSettings",
    "LoginLimiter",
    "WebSession",
    "end_session",
    "find_session",
    "start_session",
]

SESSION_COOKIE = "costloop_session"
_SWEEP_AT = 10_000


@dataclass
class AuthSettings:
    """Session and login limits of one app (tests shorten them).

    Attributes:
        idle: a session ends after this long without a request.
        lifetime: a session ends this long after sign-in, however active.
        max_failures: failed logins allowed per user name and client address ...
        window: ... within this sliding window; the next attempt gets 429.
        secure_cookies: mark cookies Secure always (True), never (False), or when the
            request came over https (None).
    """

    idle: timedelta = timedelta(hours=8)
    lifetime: timedelta = timedelta(hours=24)
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    secure_cookies: bool | None = None


@dataclass(frozen=True)
class WebSession:
    """A live session: whose it is and the CSRF token its forms must carry."""

    id: int
    user: User
    csrf_token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def start_session(db: StateDB, user_id: int, settings: AuthSettings) -> tuple[str, str]:
    """Open a session for a user.

    Returns:
        The cookie value (shown to the browser only) and the session's CSRF token.
    """
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    with db.session() as session:
        session.add(
            WebSessionRow(
                id_hash=sha256_hex(cookie),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now,
                last_seen=now,
                expires_at=now + settings.lifetime,
            )
        )
        # Expired sessions of everyone are dropped here, so the table stays small.
        session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
    return cookie, csrf


def find_session(db: StateDB, cookie: str, settings: AuthSettings) -> WebSession | None:
    """The live session of a cookie value, or None (unknown, expired, idle or disabled).

    Records activity at most once a minute, which is what the idle timeout counts from.
    """
    now = _now()
    with db.session() as session:
        found = session.execute(
            select(WebSessionRow, UserRow)
            .join(UserRow, UserRow.id == WebSessionRow.user_id)
            .where(WebSessionRow.id_hash == sha256_hex(cookie))
        ).first()
        if found is None:
            return None
        row, user = found
        if user.disabled or now >= row.expires_at or now - row.last_seen >= settings.idle:
            session.delete(row)
            return None
        if (now - row.last_seen).total_seconds() >= 60:
            row.last_seen = now
        return WebSession(
            id=row.id,
            user=User(
                id=user.id,
                username=user.username,
                role=user.role,
                team=user.team,
                disabled=user.disabled,
                created_at=user.created_at,
                last_login=user.last_login,
            ),
            csrf_token=row.csrf_token,
            expires_at=row.expires_at,
        )


def end_session(db: StateDB, cookie: str) -> None:
    """Delete the session of a cookie value (signing out); unknown cookies are ignored."""
    with db.session() as session:
        session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == sha256_hex(cookie)))


class LoginLimiter:
    """Failed-login counter per (user name, client address), kept in memory.

    After ``max_failures`` failures within ``window`` further attempts are refused until
    the oldest failure leaves the window. The counts live in the server process: a
    restart forgets them, and several server processes count apart.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        window = self.settings.window.total_seconds()
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= window:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait before the next attempt is allowed, or None when allowed."""
        key = (username.casefold(), address)
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.settings.max_failures:
                if not times:
                    self._failures.pop(key, None)
                return None
            wait = self.settings.window.total_seconds() - (now - times[0])
            return max(1, int(wait + 0.999))

    def failed(self, username: str, address: str) -> None:
        """Count a failed attempt."""
        key = (username.casefold(), address)
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= _SWEEP_AT:
                self._sweep(now)
            self._recent(key, now).append(now)

    def _sweep(self, now: float) -> None:
        # Attempts spread over many names would otherwise grow the table without bound.
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]

    def succeeded(self, username: str, address: str) -> None:
        """Forget the failures of a pair after a successful login."""
        with self._lock:
            self._failures.pop((username.casefold(), address), None)
