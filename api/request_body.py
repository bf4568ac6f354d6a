"""Reading request bodies within a size limit, and their media types."""

from __future__ import annotations

from fastapi import Request

from api.errors import HttpProblem


def media_type(request: Request) -> tuple[str, dict[str, str]]:
    """The request's media type (lower case, no parameters) and its parameters."""
    header = request.headers.get("content-type", "")
    kind, *params = header.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parsed


def require_utf8(params: dict[str, str]) -> None:
    """Refuse a declared charset other than UTF-8 (SPARQL 1.1 Protocol §2.1.2–2.1.3 are UTF-8 only)."""
    charset = params.get("charset")
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise HttpProblem(415, f"charset={charset} is not supported; send UTF-8.")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes `limit` bytes (without reading the rest)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpProblem(413, f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpProblem(413, f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_utf8(body: bytes, what: str) -> str:
    """Decode a body as UTF-8, or 400 naming the first bad byte."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HttpProblem(400, f"The {what} is not valid UTF-8 (byte {error.start}).") from None
