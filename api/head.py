"""`HEAD` on every `GET` route (HTTP Semantics, RFC 9110 §9.3.2), in one place.

FastAPI registers a route for exactly the methods it names, so a `GET` route answers `HEAD` with 405.
Rather than a `HEAD` twin beside every `GET` route, this middleware retries a `HEAD` that the router
refused with 405 as `GET` and sends its status and headers without the body. Routes with their own
`HEAD` handler (`/sparql`, `/graphs`, `/catalog`, `/dump.nq.gz`, `/id/…`) and the static files keep it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a `HEAD` refused with 405 is answered as the `GET` of the same URL, without body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def unless_refused(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, unless_refused)
        if not refused:
            return

        async def without_body(message: Message) -> None:
            # Headers (Content-Length included) stay as GET would send them; only the content goes.
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
