"""Security headers on every response: no sniffing, no framing, no referrer to other sites, and a CSP.

Pages that set their own Content-Security-Policy (the browser UI in `api/ui.py`) keep it. Any other
HTML page gets a policy built from its own body: each inline `<script>` is allowed by its SHA-256 hash
(CSP Level 3 §8.3), so no inline script runs that the server did not send. YASGUI creates `<style>`
elements and `style="…"` attributes at run time, so pages without their own policy allow inline
*styles* (never scripts). `/docs` serves a vendored Swagger UI (`api/docs_page.py`) and needs nothing
else; FastAPI's own pages (`/redoc`, and `/docs` where the vendored one is not installed) load their code
from a CDN, and that origin is allowed on those pages only, and only when the page names it.

`XmlEntityGuard` refuses XML uploads whose entities would expand without bound (see `loaders.xml_guard`).
SPARQL nested deeper than pyoxigraph's recursive parser survives is refused by `api.sparql_check`, which
parses in a child process: a bracket count here (on the event loop, 0.4 s for a 440 KB text) missed
`<< … >>`, unary operators and paths, and stalled every other request while it counted.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HttpProblem
from loaders.xml_guard import xml_entity_problem

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# For non-HTML answers (data, errors): nothing may be loaded or framed if a browser renders one.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_DOCS_CDN = "https://cdn.jsdelivr.net"
_DOCS_PATHS = ("/docs", "/redoc")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def html_csp(body: bytes, *, path: str = "", connect: str = "") -> str:
    """The policy for an HTML page: own origin, plus its inline scripts by hash."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(body)
    )
    # jsDelivr serves any npm package: allowing it lets any script published there run on the page.
    cdn = f" {_DOCS_CDN}" if path in _DOCS_PATHS and _DOCS_CDN.encode() in body else ""
    return (
        f"default-src 'none'; script-src 'self'{cdn} {hashes}; style-src 'self' 'unsafe-inline'{cdn}; "
        f"img-src 'self' data:{' https://fastapi.tiangolo.com' if cdn else ''}; font-src 'self' data:; "
        f"connect-src 'self'{(' ' + connect) if connect else ''}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ).replace("  ", " ")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, *, connect: str = ""):
        self.app = app
        # The SPARQL endpoint's public origin (from the base IRI), which YASGUI posts queries to.
        self.connect = connect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = bytearray()

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").startswith("text/html")
                if "content-security-policy" in headers:
                    await send(message)
                elif not html:
                    headers["Content-Security-Policy"] = DATA_CSP
                    await send(message)
                else:
                    held = message  # the policy depends on the body; HTML pages here are small
                return
            if held is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(scope=held)
            headers["Content-Security-Policy"] = html_csp(bytes(body), path=scope["path"], connect=self.connect)
            headers["Content-Length"] = str(len(body))
            await send(held)
            await send({"type": "http.response.body", "body": bytes(body), "more_body": False})

        await self.app(scope, receive, send_with_headers)


XML_TYPES = ("application/rdf+xml", "application/xml", "text/xml")
# The DOCTYPE comes before the root element (XML 1.0 §2.8); a prologue longer than this is refused.
XML_HEAD_BYTES = 1_000_000


class XmlEntityGuard:
    """ASGI middleware: refuse (400) XML request bodies with dangerous entity declarations, before parsing.

    The body is checked while the handler reads it, so the handler never gets to parse such a document
    and nothing is written. See `loaders.xml_guard` for why.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = MutableHeaders(scope=scope).get("content-type", "") if scope["type"] == "http" else ""
        if content_type.split(";")[0].strip().lower() not in XML_TYPES:
            await self.app(scope, receive, send)
            return
        head = bytearray()

        async def checked() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                head.extend(message.get("body", b"")[: XML_HEAD_BYTES + 1 - len(head)])
                problem = xml_entity_problem(bytes(head))
                if problem is None and len(head) > XML_HEAD_BYTES and b"<!ENTITY" in head:
                    problem = "The XML document's DOCTYPE is too long to check."
                if problem is not None:
                    raise HttpProblem(400, problem)
            return message

        await self.app(scope, checked, send)
