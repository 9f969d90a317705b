"""The HTTP protocol ``costloop serve`` runs: uvicorn's h11, with TCP_NODELAY.

With ``--workers N`` uvicorn binds the listening socket itself, without naming the TCP
protocol, and asyncio then leaves Nagle's algorithm on for the accepted connections.
Responses go out as two writes (head, then body), so the body waited for the client's
delayed acknowledgement: about 40 ms on every keep-alive request (measured with
``benchmarks/web_load.py``). Setting TCP_NODELAY on each connection removes the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["PROTOCOL", "NoDelayH11Protocol"]

PROTOCOL = "costloop.web.transport:NoDelayH11Protocol"
"""Import path uvicorn's ``http`` setting takes (worker processes import it)."""


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, sending small writes without delay."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # not a TCP socket after all
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
