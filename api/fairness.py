"""Fair shares of the query slots: one client (its token, else its address) holds at most a few of them.

The admission queue is first come, first served: 20 clients sending queries that run into the deadline
took every slot and every place in the queue, and a cheap ASK from someone else waited 10 s for a 503.
So each client may have at most `max_queries_per_client` queries in the executor at
once, waiting or running or streaming; one more gets 503 at once, and the slots left over stay free
for everyone else.

The client is a property of the request, not of the query job (which crosses a pipe to a worker and
keys the answer cache), and every caller of the executor — `/sparql`, `/queries`, `/api`, the pages,
the Graph Store — runs inside a request. So `ClientMiddleware` names the client of each request in a
context variable, which FastAPI's thread pool carries into the handlers, and `FairShare` wraps the
executor (like the answer cache does) and counts per client.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from contextvars import ContextVar

from api.evaluate import QueryJob
from api.executor import Answer, Busy, Executor

_client: ContextVar[str | None] = ContextVar("querschnitt_client", default=None)


def client_key(scope: dict, known_digests: set[str]) -> str | None:
    """Who sends the request in `scope`: its token if configured, else its address (None: unknown).

    Only a configured token names a client of its own: random tokens must not buy a fresh share each.
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                digest = hashlib.sha256(token.strip()).hexdigest()
                if digest in known_digests:
                    return "token:" + digest
    client = scope.get("client")
    return f"address:{client[0]}" if client else None


class ClientMiddleware:
    """Names the client of each HTTP request for `FairShare` (pure ASGI: streaming bodies keep it)."""

    def __init__(self, app, *, tokens: list[tuple[str, object]]):
        self.app = app
        self.digests = {digest for digest, _ in tokens}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _client.set(client_key(scope, self.digests))
        try:
            await self.app(scope, receive, send)
        finally:
            _client.reset(token)


class ClientBusy(Busy):
    """This client already has its share of the query slots; it should wait for one of its queries."""

    def __init__(self, share: int):
        self.share = share
        super().__init__(share)


class FairShare:
    """An executor that lets each client have at most `per_client` queries inside `inner` at once."""

    def __init__(self, inner: Executor, *, per_client: int):
        self.wrapped = inner
        self.per_client = per_client
        self.held: Counter[str] = Counter()
        self.lock = threading.Lock()

    def run(self, job: QueryJob) -> Answer:
        """Run `job` in `inner` unless the current client already holds its share (ClientBusy)."""
        client = _client.get()
        if client is None or self.per_client <= 0:
            return self.wrapped.run(job)
        with self.lock:
            if self.held[client] >= self.per_client:
                raise ClientBusy(self.per_client)
            self.held[client] += 1
        try:
            answer = self.wrapped.run(job)
        except BaseException:
            self._release(client)
            raise
        if answer.body is not None:
            # A whole answer holds no slot any more.
            self._release(client)
            return answer

        def release() -> None:  # Answer.close() calls it at most once
            try:
                answer.close()
            finally:
                self._release(client)

        return Answer(answer.head, chunks=answer.chunks(), release=release)

    def _release(self, client: str) -> None:
        with self.lock:
            self.held[client] -= 1
            if self.held[client] <= 0:
                del self.held[client]

    def __getattr__(self, name: str):
        return getattr(self.wrapped, name)

    def close(self) -> None:
        self.wrapped.close()
