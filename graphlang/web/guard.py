"""Slow or greedy clients may not hold the playground: the HTTP protocol the server runs.

uvicorn times out an idle kept-alive connection, but not a request whose headers or body never
finish: 520 sockets that each sent half a request held every slot of `limit_concurrency`, and the
page answered 503 to everyone (a red team's find). Here a request must arrive whole within
REQUEST_SECONDS of its connection (or of the previous response on it), and one client address holds
at most PER_CLIENT connections at a time (a browser opens six).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_SECONDS = 10.0
PER_CLIENT = 64  # (a lab behind one address: a few connections per student)


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline per request and a cap per client address."""

    request_seconds = REQUEST_SECONDS
    per_client = PER_CLIENT
    open_by_client: dict[str, int] = {}  # (one server per process: the event loop's thread alone)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        self._deadline: asyncio.TimerHandle | None = None
        count = self.open_by_client.get(self._address, 0)
        self._counted = count < self.per_client
        if not self._counted:
            transport.close()  # refused before it reads a byte
            return
        self.open_by_client[self._address] = count + 1
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if getattr(self, "_counted", False):
            self._counted = False
            left = self.open_by_client.get(self._address, 1) - 1
            if left > 0:
                self.open_by_client[self._address] = left
            else:
                self.open_by_client.pop(self._address, None)
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._disarm()  # the request is in: its handling has the pool's own time limit

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection: its own deadline

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_seconds, self._too_slow)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED) and not self.transport.is_closing():
            self.transport.close()


def protocol(request_seconds: float = REQUEST_SECONDS, per_client: int = PER_CLIENT) -> Any:
    """The protocol class for uvicorn.Config(http=...), with these limits (tests make them small)."""
    return type("GuardedH11", (GuardedH11,), {"request_seconds": request_seconds, "per_client": per_client,
                                               "open_by_client": {}})
