"""Every error the HTTP layer answers with, mapped to a status in one place.

Bodies are plain text: SPARQL clients (SPARQLWrapper, rdflib, YASGUI) show the body of a failed
request to the user as it is, and a parser's message with line and column is what helps them.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from api.conneg import NotAcceptable
from api.evaluate import EvaluationError
from api.executor import Busy, DeadlineExceeded, WorkerFailed
from api.fairness import ClientBusy
from api.store import StoreError

log = logging.getLogger(__name__)
# "The store at http://intranet:8890/sparql …": where the store lives is the operator's business, not the public's.
_STORE_ADDRESS = re.compile(r" at https?://\S+")


class HttpProblem(Exception):
    """A request the service refuses, with the status and message the client gets."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = headers or {}
        super().__init__(message)


def problem_for(error: Exception, *, timeout: float = 0) -> HttpProblem:
    """The HTTP answer for an exception raised while serving a request."""
    if isinstance(error, HttpProblem):
        return error
    if isinstance(error, NotAcceptable):
        return HttpProblem(406, str(error))
    if isinstance(error, EvaluationError):
        if error.kind == "syntax":
            return HttpProblem(400, f"SPARQL syntax error: {error}")
        if error.kind == "not-acceptable":
            return HttpProblem(406, f"Not acceptable: {error}")
        return HttpProblem(400, f"The query could not be evaluated: {error}")
    if isinstance(error, ClientBusy):
        return HttpProblem(
            503,
            f"You already have {error.share} queries running or waiting; try again when one of them has finished.",
            {"Retry-After": "1"},
        )
    if isinstance(error, Busy):
        # RFC 9110 §15.6.4: 503 with Retry-After for a temporary overload.
        return HttpProblem(503, "Too many queries are running; try again shortly.", {"Retry-After": "1"})
    if isinstance(error, DeadlineExceeded):
        return HttpProblem(
            504,
            f"The query was stopped after the {timeout:g} s deadline. Narrow it down (LIMIT, more specific "
            "patterns) or download the data dump and query it locally.",
        )
    if isinstance(error, WorkerFailed):
        return HttpProblem(503, f"The query could not be finished: {error}", {"Retry-After": "1"})
    from api.store import ResultTruncated, StoreTimeout, StoreUnavailable

    if isinstance(error, StoreUnavailable):
        # The details (address, cause) go to the log; a retry after a few seconds is all a client can do.
        log.warning("remote store unavailable: %s", error)
        return HttpProblem(
            503, "The store is unavailable at the moment; try again in a few seconds.", {"Retry-After": "5"}
        )
    if isinstance(error, StoreTimeout):
        return HttpProblem(504, _STORE_ADDRESS.sub("", str(error)))
    if isinstance(error, ResultTruncated):
        return HttpProblem(502, str(error))
    if isinstance(error, StoreError):
        return HttpProblem(400, str(error))
    raise error


def install_error_handlers(app: FastAPI) -> None:
    """Answer HttpProblem and the executor's, store's and negotiation's errors with their status."""

    async def handle(request: Request, error: Exception) -> PlainTextResponse:
        problem = problem_for(error, timeout=request.app.state.settings.query_timeout)
        return PlainTextResponse(problem.message + "\n", status_code=problem.status, headers=problem.headers)

    for kind in (HttpProblem, NotAcceptable, EvaluationError, Busy, DeadlineExceeded, WorkerFailed, StoreError):
        app.add_exception_handler(kind, handle)
