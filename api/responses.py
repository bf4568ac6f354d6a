"""Turning an executor `Answer` into an HTTP response: whole when small, streamed when large."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.conneg import GRAPH_OFFERS, RESULT_OFFERS
from api.executor import Answer

TRUNCATED_HEADER = "X-Querschnitt-Truncated"
MAX_ROWS_HEADER = "X-Querschnitt-Max-Rows"
_CONTENT_TYPES = {o.key: o.content_type for o in (*RESULT_OFFERS, *GRAPH_OFFERS)}


def answer_response(answer: Answer, *, max_rows: int, vary: str = "Accept, Authorization") -> Response:
    """The response for `answer`; its truncation is in a header (and, in SPARQL JSON, a `truncated` member)."""
    headers = {"Vary": vary}
    if answer.head.kind != "boolean" and max_rows > 0:
        headers[TRUNCATED_HEADER] = "true" if answer.head.truncated else "false"
        headers[MAX_ROWS_HEADER] = str(max_rows)
    media_type = _CONTENT_TYPES[answer.head.format]
    if answer.body is not None:
        answer.close()
        return Response(answer.body, media_type=media_type, headers=headers)
    return StreamingResponse(_stream(answer), media_type=media_type, headers=headers)


async def _stream(answer: Answer) -> AsyncIterator[bytes]:
    chunks = answer.chunks()
    try:
        while True:
            chunk = await run_in_threadpool(next, chunks, None)
            if chunk is None:
                return
            yield chunk
    finally:
        # Also on a client that went away: the slot (and a worker still sending) is freed now.
        answer.close()
