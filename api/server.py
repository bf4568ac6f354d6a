"""The HTTP server: uvicorn with a deadline for a request's headers and body and a bound on connections.

uvicorn (0.55) has neither: a connection that sends a header byte now and then is kept for ever (its
keep-alive timer only runs between requests and stops at the first byte), and it accepts connections
until the process runs out of file descriptors. 19,990 such connections stopped `/healthz`, queries
and writes alike. uvicorn's `limit_concurrency` does not help: it answers 503 only once the headers
are in. So the HTTP protocol is uvicorn's own, subclassed with four checks (nginx has the same ones:
`client_header_timeout`, `client_body_timeout`, `limit_conn`):

- the headers of a request must arrive within `header_timeout` seconds of the connection opening or the
  previous answer ending; otherwise 408 (or, if nothing came at all, a plain close);
- while the server reads a body, each `body_timeout` seconds must bring at least `body_min_rate` bytes
  per second (or the end of the body); time the app is not reading (flow control) does not count;
- the headers of a request may take at most `max_header_bytes` (431);
- at most `max_connections_per_client` connections are open from one address; one more gets 503 and is
  closed at once, before any work;
- at most `max_connections` are open in all; one more takes the place of the connection that has waited
  longest for a request's headers (a dribbler, or an idle keep-alive one), or gets 503 if none waits.

Plain uvicorn kept every dribbling connection open; what these checks hold instead is measured in
docs/reliability.md ("Hostile clients").
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import Settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Fastest
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is uvicorn's fallback too
    _Fastest = H11Protocol

_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)
_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\nretry-after: 5\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def _response(template: bytes, text: str) -> bytes:
    body = text.encode() + b"\n"
    return template % (len(body), body)


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may take: seconds for headers and body, and how many connections are open."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    body_min_rate: int = 1024
    max_connections: int = 1000
    max_connections_per_client: int = 100
    max_header_bytes: int = 65_536

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        """The limits configured in `settings`."""
        return cls(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            body_min_rate=settings.body_min_rate,
            max_connections=settings.max_connections,
            max_connections_per_client=settings.max_connections_per_client,
            max_header_bytes=settings.max_header_bytes,
        )


class _Deadlines:
    """The checks, mixed into uvicorn's protocol classes (they share `cycle`, `flow`, `transport`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = kwargs.get("config", args[0] if args else None)
        limits = getattr(config, "connection_limits", None)
        if limits is None:
            # `querschnitt serve --workers N` starts each process from the environment (factory mode).
            limits = ConnectionLimits.from_settings(Settings())
            config.connection_limits = limits
        self.limits: ConnectionLimits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._seen_cycle = None  # the request whose headers were last seen complete
        self._received = 0  # bytes received on this connection
        self._mark = 0  # `_received` when the current check period began
        self._address: str | None = None

    # Connections ---------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        per_client = self.server_state.__dict__.setdefault("querschnitt_clients", Counter())
        self._address = self.client[0] if self.client else None
        if self._address is not None:
            per_client[self._address] += 1
        limits = self.limits
        if len(self.connections) > limits.max_connections and not self._evict_oldest_waiting():
            self._refuse("The server has too many open connections; try again in a few seconds.")
        elif (
            self._address is not None
            and limits.max_connections_per_client
            and per_client[self._address] > limits.max_connections_per_client
        ):
            self._refuse("Too many open connections from your address; close some and try again.")
        else:
            self._wait_for_headers()

    def _evict_oldest_waiting(self) -> bool:
        """Close the connection that has waited longest for a request's headers; False if none waits.

        At the bound, a new connection takes the place of the one that has sent the least for the longest
        (a dribbler, or an idle keep-alive connection, which clients reopen anyway) instead of being
        refused: slow clients from many addresses cannot lock everyone else out for `header_timeout`.
        """
        waiting = self._waiting_table()
        if not waiting:
            return False
        next(iter(waiting))._close_late()
        return True

    def _waiting_table(self) -> dict:
        """The server's connections waiting for headers, oldest first (dicts keep insertion order)."""
        return self.server_state.__dict__.setdefault("querschnitt_waiting", {})

    def connection_lost(self, exc) -> None:
        self._cancel()
        if self._address is not None:
            per_client = self.server_state.__dict__["querschnitt_clients"]
            per_client[self._address] -= 1
            if per_client[self._address] <= 0:
                del per_client[self._address]
            self._address = None
        super().connection_lost(exc)

    def _refuse(self, text: str) -> None:
        self.transport.write(_response(_503, text))
        self.transport.close()

    # Reading -------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        super().data_received(data)
        self._follow()
        if self in self._waiting_table() and self._received - self._mark > self.limits.max_header_bytes:
            # httptools sets no bound of its own: 75 MB of one header line in 8 s took 69 MB of memory.
            self._cancel()
            limit = self.limits.max_header_bytes
            self.transport.write(_response(_431, f"The request headers are larger than {limit} bytes."))
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.response_complete:
            self._cancel()  # a body the app did not read no longer counts against the client
        self._follow()

    def _follow(self) -> None:
        """Start the check that fits what the connection is doing now."""
        if self.transport.is_closing():
            self._cancel()
            return
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen_cycle:
            # A request's headers are complete: its body (if any) is checked from now.
            self._seen_cycle = cycle
            self._cancel()
            if cycle.more_body and not cycle.response_complete:
                self._mark = self._received
                self._arm(self.limits.body_timeout, self._check_body)
        elif (cycle is None or cycle.response_complete) and self._timer is None:
            self._wait_for_headers()

    def _wait_for_headers(self) -> None:
        self._mark = self._received
        self._arm(self.limits.header_timeout, self._headers_late, self.cycle)
        self._waiting_table()[self] = None

    def _headers_late(self, cycle) -> None:
        self._cancel()
        if self.transport.is_closing() or self.cycle is not cycle:
            return
        if cycle is not None and not cycle.response_complete:
            return
        self._close_late()

    def _close_late(self) -> None:
        """Close a connection whose request headers are late: 408 if it sent part of them, else silently."""
        self._cancel()
        if self._received > self._mark:
            limit = self.limits.header_timeout
            self.transport.write(_response(_408, f"The request headers did not arrive within {limit:g} s."))
        self.transport.close()

    def _check_body(self) -> None:
        self._timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is not self._seen_cycle:
            return
        if not cycle.more_body or cycle.response_complete:
            self._follow()
            return
        period = self.limits.body_timeout
        if not self.flow.read_paused and self._received - self._mark < self.limits.body_min_rate * period:
            if not cycle.response_started:
                rate = self.limits.body_min_rate
                self.transport.write(
                    _response(_408, f"The request body arrived slower than {rate} bytes/s for {period:g} s.")
                )
            self.transport.close()
            return
        self._mark = self._received
        self._arm(period, self._check_body)

    def _arm(self, delay: float, callback, *args) -> None:
        self._cancel()
        self._timer = self.loop.call_later(delay, callback, *args)

    def _cancel(self) -> None:
        self._waiting_table().pop(self, None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class GuardedHttpToolsProtocol(_Deadlines, _Fastest):
    """uvicorn's httptools protocol with the deadlines and connection bounds of this module."""


class GuardedH11Protocol(_Deadlines, H11Protocol):
    """uvicorn's h11 protocol with the deadlines and connection bounds of this module."""


def server_config(app, settings: Settings | None, **options) -> uvicorn.Config:
    """A uvicorn configuration for `app` that enforces the connection limits of `settings` (or the defaults)."""
    options.setdefault("http", GuardedHttpToolsProtocol)
    config = uvicorn.Config(app, **options)
    config.connection_limits = ConnectionLimits.from_settings(settings) if settings else ConnectionLimits()
    return config
