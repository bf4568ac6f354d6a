"""The SPARQL 1.1 endpoint at /sparql: query, update and the service description (SPARQL 1.1 Protocol).

Handlers read the request on the event loop and move every store call to the thread pool
(`run_in_threadpool`): an `async def` that evaluated a query inline would stall every other request.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from pyoxigraph import serialize
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict

from api import jsonld
from api.auth import Principal, Role, authenticate, require
from api.conneg import GRAPH_OFFERS, HTML_OFFER, RESULT_OFFERS, NotAcceptable, negotiate, negotiate_optional
from api.errors import HttpProblem
from api.evaluate import GRAPH_FORMATS, EvaluationError, QueryJob
from api.executor import Answer
from api.request_body import decode_utf8, media_type, read_body, require_utf8
from api.responses import answer_response
from api.service_description import endpoint_iri, service_description
from api.sparql_errors import explain as explain_syntax_error
from api.sparql_text import (
    UPDATE_FORMS,
    add_using_clauses,
    is_absolute_iri,
    is_single_pattern,
    query_form,
    update_has_dataset_clause,
)
from api.yasgui import yasgui_page
from loaders.vocab import PREFIXES

log = logging.getLogger(__name__)
router = APIRouter(tags=["sparql"])

_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"
_ALLOW = {"Allow": "GET, HEAD, POST"}


@router.get("/sparql")
@router.head("/sparql", include_in_schema=False)
async def sparql_get(request: Request) -> Response:
    """Query via GET (Protocol §2.1.1); without `query`, the service description — or YASGUI for browsers."""
    principal = authenticate(request)
    params = request.query_params
    if "update" in params:
        raise HttpProblem(400, "An update must be sent with POST (SPARQL 1.1 Protocol §2.2), with a staff token.")
    queries = params.getlist("query")
    if not queries:
        return await run_in_threadpool(_describe, request, principal)
    return await _query(request, principal, _single(queries, "query"), params, params)


@router.post("/sparql")
async def sparql_post(request: Request) -> Response:
    """Query or update via POST: URL-encoded form (§2.1.2, §2.2.1) or the SPARQL text as body (§2.1.3, §2.2.2)."""
    principal = authenticate(request)
    kind, content_params = media_type(request)
    if kind not in (_FORM, _QUERY, _UPDATE):
        raise HttpProblem(
            415,
            f"Content-Type {kind or '(none)'} is not accepted here; send {_FORM}, {_QUERY} or {_UPDATE} "
            "(SPARQL 1.1 Protocol §2.1, §2.2).",
        )
    require_utf8(content_params)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    url_params = request.query_params
    if kind == _QUERY:
        return await _query(request, principal, decode_utf8(body, "query"), url_params, url_params)
    if kind == _UPDATE:
        return await _update(request, principal, decode_utf8(body, "update"), url_params)
    fields = MultiDict(parse_qsl(decode_utf8(body, "form"), keep_blank_values=True))
    queries, updates = fields.getlist("query"), fields.getlist("update")
    if queries and updates:
        raise HttpProblem(400, "Send either `query` or `update`, not both.")
    if updates:
        return await _update(request, principal, _single(updates, "update"), _merged(fields, url_params))
    if not queries:
        raise HttpProblem(400, "The form has neither `query` nor `update` (SPARQL 1.1 Protocol §2.1.2).")
    return await _query(request, principal, _single(queries, "query"), _merged(fields, url_params), url_params)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other(request: Request) -> Response:
    """Other methods are not part of the protocol (§2.1: GET and POST only)."""
    raise HttpProblem(405, f"{request.method} is not allowed on /sparql; use GET or POST.", _ALLOW)


async def _query(request: Request, principal: Principal, sparql: str, params, url_params) -> Response:
    settings = request.app.state.settings
    form = query_form(sparql)
    if form in UPDATE_FORMS:
        raise HttpProblem(
            400,
            "This is a SPARQL update; a query request never runs one (SPARQL 1.1 Protocol §2.1). "
            "POST it as `update=` or application/sparql-update, with a staff token.",
        )
    accept = request.headers.get("accept")
    fmt = url_params.get("format") or params.get("format")
    results = negotiate_optional(accept, RESULT_OFFERS, format_param=fmt)
    graphs = negotiate_optional(accept, GRAPH_OFFERS, format_param=fmt)
    if form in ("SELECT", "ASK") and results is None:
        raise NotAcceptable(RESULT_OFFERS)
    if form in ("CONSTRUCT", "DESCRIBE") and graphs is None:
        raise NotAcceptable(GRAPH_OFFERS)
    default_graphs, named_graphs = _dataset(params.getlist("default-graph-uri"), params.getlist("named-graph-uri"))
    job = QueryJob(
        sparql=sparql,
        include_internal=principal.sees_internal,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        base_iri=endpoint_iri(settings).value,
        results_format=results.key if results else None,
        graph_format=graphs.key if graphs else None,
        max_rows=settings.max_rows,
    )
    try:
        answer = await run_in_threadpool(_run_checked, request.app, job)
    except EvaluationError as error:
        if error.kind != "syntax":
            raise
        raise HttpProblem(400, explain_syntax_error(sparql, str(error))) from None
    return answer_response(answer, max_rows=settings.max_rows)


def _run_checked(app, job: QueryJob) -> Answer:
    # The text is checked in a child process, under the deadline and a bounded queue: pyoxigraph's parser
    # can crash on deep nesting and rdflib's can take minutes (api.sparql_check). A single triple pattern
    # (a regular expression proves the shape) has nothing to nest and needs neither.
    if not is_single_pattern(job.sparql):
        app.state.checker.check_query(
            job.sparql, base_iri=job.base_iri, allowlist=app.state.allowlist, parse=_parses_here(app)
        )
    return app.state.executor.run(job)


def _parses_here(app) -> bool:
    # A remote store parses its queries itself, in its own dialect (Virtuoso's extensions): only the
    # SERVICE/LOAD guard applies there.
    return app.state.store.local_engine


def _dataset(default_graphs: list[str], named_graphs: list[str]) -> tuple[list[str] | None, list[str] | None]:
    """The protocol's dataset (§2.1.4): when either list is given, the other is empty, not "everything"."""
    for iri in default_graphs + named_graphs:
        if not is_absolute_iri(iri):
            raise HttpProblem(400, f"{iri!r} is not an absolute IRI (default-graph-uri / named-graph-uri).")
    if not default_graphs and not named_graphs:
        return None, None
    return default_graphs, named_graphs


async def _update(request: Request, principal: Principal, sparql: str, params) -> Response:
    require(principal, Role.EDITOR)
    settings = request.app.state.settings
    using, using_named = params.getlist("using-graph-uri"), params.getlist("using-named-graph-uri")
    for iri in using + using_named:
        if not is_absolute_iri(iri):
            raise HttpProblem(400, f"{iri!r} is not an absolute IRI (using-graph-uri / using-named-graph-uri).")
    if using or using_named:
        if update_has_dataset_clause(sparql):
            raise HttpProblem(
                400,
                "The update names its own dataset (USING/WITH); using-graph-uri parameters would conflict (§2.2.3).",
            )
        sparql = add_using_clauses(sparql, using, using_named)
    base = endpoint_iri(settings).value

    def run() -> None:
        plan = request.app.state.checker.check_update(
            sparql, base_iri=base, allowlist=request.app.state.allowlist, parse=_parses_here(request.app)
        )
        if plan.empty:
            return  # only a prologue or comments: valid, and nothing to do (W3C syntax-update-38/-40)
        request.app.state.store.update_graphs(
            sparql,
            plan.graphs,
            source=f"SPARQL update ({principal.role.name.lower()})",
            loader="sparql-update",
            checksum="sha256:" + hashlib.sha256(sparql.encode()).hexdigest(),
            base_iri=base,
        )

    try:
        await run_in_threadpool(run)
    except SyntaxError as error:
        raise HttpProblem(400, explain_syntax_error(sparql, str(error))) from None
    except ValueError as error:  # pyoxigraph's word for input it refuses (an invalid IRI, a bad literal)
        raise HttpProblem(400, f"The update was refused and changed nothing: {error}") from None
    except (OSError, RuntimeError) as error:
        # The text parsed and passed the checks: a failure now is the server's (I/O, the engine), not the client's.
        log.error("SPARQL update failed: %s", error)
        raise HttpProblem(500, "The update failed on the server and changed nothing; the error is logged.") from None
    return Response(status_code=204)


def _describe(request: Request, principal: Principal) -> Response:
    """Service description in an RDF format, or the YASGUI page when the client prefers HTML."""
    offer = negotiate(
        request.headers.get("accept"), (*GRAPH_OFFERS, HTML_OFFER), format_param=request.query_params.get("format")
    )
    if offer is HTML_OFFER:
        return yasgui_page(request)
    triples = service_description(
        request.app.state.settings, request.app.state.store, include_internal=principal.sees_internal
    )
    if offer.key == "jsonld":
        body = jsonld.compact_document(triples)
    else:
        prefixes = _SD_PREFIXES if offer.key == "turtle" else None
        body = serialize(triples, format=GRAPH_FORMATS[offer.key], prefixes=prefixes)
    return Response(body, media_type=offer.content_type, headers={"Vary": "Accept, Authorization"})


_SD_PREFIXES = {k: PREFIXES[k] for k in ("sd", "void", "dct", "rdfs", "rdf")} | {
    "formats": "http://www.w3.org/ns/formats/"
}


def _single(values: list[str], name: str) -> str:
    if len(values) > 1:
        raise HttpProblem(
            400, f"Exactly one `{name}` parameter is allowed; got {len(values)} (SPARQL 1.1 Protocol §2.1)."
        )
    return values[0]


def _merged(fields: MultiDict, url_params) -> MultiDict:
    """Form fields plus URL parameters: clients put the dataset parameters in either place."""
    merged = MultiDict(list(fields.multi_items()) + [(k, v) for k, v in url_params.multi_items() if k not in fields])
    return merged
