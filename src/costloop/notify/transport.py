"""Sending one message: HTTP POST (Slack, signed webhook) and SMTP, each with a timeout.

Every send returns an ``Attempt`` instead of raising: whether it worked, the response
code, an error text without secrets, and whether trying again may help (5xx, 429,
timeouts and connection errors may; other 4xx answers and SMTP 5xx replies do not).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from costloop import __version__

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attempt",
    "post_json",
    "send_email",
    "sign",
]

SIGNATURE_HEADER = "X-Costloop-Signature"
TIMESTAMP_HEADER = "X-Costloop-Timestamp"
_USER_AGENT = f"costloop/{__version__}"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one try.

    Attributes:
        ok: the server accepted the message.
        code: HTTP status or SMTP reply code, None when there was no answer.
        error: what went wrong ("" when ok), with secrets removed.
        retryable: another try may succeed.
        unreachable: no answer at all (connection refused, timeout, DNS).
        retry_after: seconds the server asked to wait (``Retry-After`` of a 429 or
            503 answer), None when it did not say.
    """

    ok: bool
    code: int | None = None
    error: str = ""
    retryable: bool = False
    unreachable: bool = False
    retry_after: float | None = None


def sign(secret: str, body: bytes) -> str:
    """The ``X-Costloop-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text[:500]


def _retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _failure(exc: BaseException, secrets: Sequence[str]) -> Attempt:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            detail = exc.read(200).decode("utf-8", "replace").strip()
        except OSError:
            detail = ""
        text = f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
        retry = exc.code >= 500 or exc.code in (408, 429)
        wait = _retry_after(exc.headers.get("Retry-After")) if exc.code in (429, 503) else None
        return Attempt(False, exc.code, _scrub(text, secrets), retryable=retry, retry_after=wait)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return Attempt(False, None, "timed out", retryable=True, unreachable=True)
    text = f"{type(reason).__name__}: {reason}"
    return Attempt(False, None, _scrub(text, secrets), retryable=True, unreachable=True)


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float,
    idempotency_key: str,
    secret: str | None = None,
    sent_at: datetime | None = None,
) -> Attempt:
    """POST a JSON body; with ``secret``, sign it (HMAC-SHA256 of the raw body).

    Args:
        url: the endpoint (may contain a token: it never appears in errors).
        payload: the JSON body.
        timeout: seconds for connecting and for each read.
        idempotency_key: sent as the ``Idempotency-Key`` header.
        secret: HMAC key; adds ``X-Costloop-Signature`` and ``X-Costloop-Timestamp``.
        sent_at: the timestamp header's time (Unix seconds).
    """
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": _USER_AGENT,
        "Idempotency-Key": idempotency_key,
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, body)
        if sent_at is not None:
            headers[TIMESTAMP_HEADER] = str(int(sent_at.timestamp()))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    secrets = [url, secret or ""]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
            return Attempt(True, response.status)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        return _failure(exc, secrets)


def send_email(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    timeout: float,
    starttls: bool = False,
    ca_file: Path | None = None,
    username: str = "",
    password: str = "",
) -> Attempt:
    """Send an e-mail over SMTP: STARTTLS (certificate verified) and login when configured.

    SMTP 4xx replies are temporary (retryable), 5xx permanent, the reverse of HTTP.
    """
    secrets = [password]
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.ehlo()
            if starttls:
                context = ssl.create_default_context(
                    cafile=None if ca_file is None else str(ca_file)
                )
                smtp.starttls(context=context)
                smtp.ehlo()
            if username:
                smtp.login(username, password)
            refused = smtp.send_message(message)
            if refused:
                addr, (code, reply) = sorted(refused.items())[0]
                detail = reply.decode("utf-8", "replace")
                return Attempt(
                    False,
                    code,
                    _scrub(f"recipient {addr} refused: {code} {detail}", secrets),
                    retryable=400 <= code < 500,
                )
            return Attempt(True, 250)
    except smtplib.SMTPRecipientsRefused as exc:
        addr, (code, reply) = sorted(exc.recipients.items())[0]
        error = f"recipient {addr} refused: {code} {reply.decode('utf-8', 'replace')}"
        return Attempt(False, code, _scrub(error, secrets), retryable=400 <= code < 500)
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        error = f"SMTP {exc.smtp_code}: {detail}"
        return Attempt(
            False, exc.smtp_code, _scrub(error, secrets), retryable=400 <= exc.smtp_code < 500
        )
    except ssl.SSLError as exc:
        return Attempt(False, None, _scrub(f"TLS: {exc}", secrets))
    except smtplib.SMTPNotSupportedError as exc:
        return Attempt(False, None, _scrub(f"SMTP server: {exc}", secrets))
    except TimeoutError:
        return Attempt(False, None, "timed out", retryable=True, unreachable=True)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        return Attempt(False, None, _scrub(error, secrets), retryable=True, unreachable=True)
