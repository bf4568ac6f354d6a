"""Named queries over HTTP: `/queries` lists them, `/queries/{name}` runs one, `…/sparql` gives its text.

Built from the registry when the app is created (`router_for(registry)`): each query is an operation of
its own in the OpenAPI document, with the parameters of its `#+` header. Parameter values are checked
and bound by the registry (a bad one is a 422 naming it); the answer is negotiated exactly as on
`/sparql` (SPARQL 1.1 Protocol §2.1; `format=` wins over Accept) and evaluated by `api.query_runs`.

Paging (`limit`, `offset`) puts nothing a client sends into the query text: the first `offset + limit`
rows are evaluated and the page is cut from them, so a page is exactly that slice of the full result.
For that slice to mean the same on every request, the order must be total: a query without ORDER BY
(hash joins give another order each time) or with ties gets the projected variables appended to its
ORDER BY as tie-breakers, the query's own keys still first (`paging_text`). `limit` is capped by the
row cap (setting `max_rows`); when the cap is what cut the page, the truncation header (and in SPARQL
JSON, `truncated`) says so. A `Link: rel="next"` header points to the next page whenever there is one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from pyoxigraph import NamedNode, QueryResultsFormat, parse_query_results

from api import gaps, query_runs
from api.auth import Principal, authenticate
from api.conneg import GRAPH_OFFERS, RESULT_OFFERS, NotAcceptable, negotiate_optional
from api.errors import HttpProblem
from api.evaluate import RESULT_FORMATS, Head
from api.executor import Answer
from api.named_queries import NamedQuery, NamedQueryError, QueryRegistry
from api.responses import answer_response
from api.sparql_text import query_form

TAG = "named queries"
_CHUNK_ROWS = 5_000
# Query-string names the route itself reads; a query may not declare a parameter of the same name.
RESERVED = ("limit", "offset", "format")
SPARQL_QUERY = "application/sparql-query"
_SCHEMA_TYPES = {
    "iri": {"type": "string", "format": "iri"},
    "sdg": {"type": "string"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "boolean": {"type": "boolean"},
}
_TYPE_NOTES = {
    "iri": "An absolute IRI.",
    "sdg": "An SDG goal, target or indicator: a code such as `11`, `11.2` or `11.2.1`, or its IRI.",
}
_RESULTS = {
    o.media_type: {"schema": {"type": "object" if o.key in ("json", "xml") else "string"}} for o in RESULT_OFFERS
}


# -- the list ------------------------------------------------------------------------------------


class ParameterInfo(BaseModel):
    """One parameter of a named query, as its `#+` header declares it."""

    name: str
    type: Literal["iri", "sdg", "string", "integer", "decimal", "boolean"]
    description: str
    default: str | None = None
    example: str | None = None
    required: bool


class Descriptions(BaseModel):
    """A description in German and English."""

    de: str | None = None
    en: str | None = None


class QueryLinks(BaseModel):
    """Where to run a query and where to read its text."""

    run: str = Field(description="Runs the query (parameters as query-string parameters).")
    example: str | None = Field(None, description="Runs the query with the example value of every parameter.")
    sparql: str = Field(description="The SPARQL text (`application/sparql-query`).")
    definition: str | None = Field(
        None, description="Its plain definition, where the query is tuned for the engines (queries/README.md)."
    )


class QueryInfo(BaseModel):
    """A named query: what it answers, its parameters and result columns, and its links."""

    name: str
    summary: str
    title: Descriptions = Field(description="A short title in German and English, where the query has one.")
    description: Descriptions
    tags: list[str]
    parameters: list[ParameterInfo]
    variables: list[str] = Field(description="The result columns, in order.")
    links: QueryLinks


class QueryList(BaseModel):
    """Every named query of this service."""

    queries: list[QueryInfo]


def _base(request: Request) -> str:
    return request.app.state.settings.public_url.rstrip("/")


def query_info(request: Request, query: NamedQuery) -> QueryInfo:
    """The list entry of `query`, with absolute links under the service's public URL."""
    run = f"{_base(request)}/queries/{quote(query.name)}"
    examples = {p.name: p.example for p in query.parameters if p.example is not None}
    return QueryInfo(
        name=query.name,
        summary=query.summary,
        title=Descriptions(de=query.title.get("de"), en=query.title.get("en")),
        description=Descriptions(de=query.description.get("de"), en=query.description.get("en")),
        tags=list(query.tags),
        parameters=[ParameterInfo(**vars(p)) for p in query.parameters],
        variables=list(query_runs.result_variables(query.sparql)),
        links=QueryLinks(
            run=run,
            example=f"{run}?{urlencode(examples)}" if examples else None,
            sparql=f"{run}/sparql",
            definition=f"{run}/definition" if definition_path(query).is_file() else None,
        ),
    )


def list_queries(request: Request) -> QueryList:
    """The named queries: summary, description (de/en), tags, typed parameters, result columns and links."""
    return QueryList(queries=[query_info(request, q) for q in request.app.state.queries])


def query_text(request: Request, name: str) -> Response:
    """The SPARQL text of a named query, its `#+` header included (comments to a SPARQL parser)."""
    query = _named(request, name)
    return Response(query.sparql, media_type=SPARQL_QUERY, headers={"Cache-Control": "public, max-age=300"})


def definition_path(query: NamedQuery) -> Path:
    """Where the plain definition of a tuned query lives: `definitions/NAME.rq` beside it."""
    return query.path.parent / "definitions" / f"{query.name}.rq"


def query_definition(request: Request, name: str) -> Response:
    """The plain definition of a named query: the same question asked directly of the source graphs."""
    path = definition_path(_named(request, name))
    if not path.is_file():
        raise HttpProblem(404, f"The named query {name!r} has no separate definition; its text is its definition.")
    text = path.read_text(encoding="utf-8")
    return Response(text, media_type=SPARQL_QUERY, headers={"Cache-Control": "public, max-age=300"})


# -- running one ---------------------------------------------------------------------------------

Limit = Annotated[
    int | None,
    Query(
        ge=0,
        description="At most this many rows (default and maximum: the row cap, setting `max_rows`; a larger "
        "value is capped).",
    ),
]
Offset = Annotated[int, Query(ge=0, description="Skip this many rows of the ordered result first.")]
Format = Annotated[
    str | None,
    Query(
        alias="format",
        description="Result format, overriding Accept: `json`, `xml`, `csv`, `tsv` or a media type.",
    ),
]


def _named(request: Request, name: str) -> NamedQuery:
    registry: QueryRegistry = request.app.state.queries
    if name not in registry:
        raise HttpProblem(404, f"There is no named query {name!r}; GET /queries lists them.")
    return registry[name]


def _values(request: Request) -> dict[str, str]:
    """The query's parameter values from the query string (everything but the route's own parameters)."""
    values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in RESERVED:
            continue
        if key in values:
            raise query_runs.invalid(key, f"parameter {key!r}: give it once", request.query_params.getlist(key))
        values[key] = value
    return values


def run_named(request: Request, name: str, limit: int | None, offset: int, fmt: str | None) -> Response:
    """Run named query `name` for the caller with the query string's parameters, negotiated and paged."""
    principal = authenticate(request)
    query = _named(request, name)
    bound = query_runs.bind(query, _values(request))
    form = query_form(query.sparql)
    accept = request.headers.get("accept")
    results = negotiate_optional(accept, RESULT_OFFERS, format_param=fmt)
    graphs = negotiate_optional(accept, GRAPH_OFFERS, format_param=fmt)
    if form in ("SELECT", "ASK") and results is None:
        raise NotAcceptable(RESULT_OFFERS)
    if form in ("CONSTRUCT", "DESCRIBE") and graphs is None:
        raise NotAcceptable(GRAPH_OFFERS)
    app, cap = request.app, request.app.state.settings.max_rows
    if limit is None and not offset:
        # A report's table holds its complete answer; TSV and CSV (a line per row) stream from it.
        streams = not bound and results is not None and results.key in ("tsv", "csv")
        kept = gaps.answer_lines(app, principal, query.name) if streams else None
        if kept is not None:
            return answer_response(_kept_answer(*kept, results.key, cap), max_rows=cap)
        answer = query_runs.run(
            app,
            principal,
            query.sparql,
            bound,
            results_format=results.key if results else None,
            graph_format=graphs.key if graphs else None,
            max_rows=cap,
        )
        # No "next" link for a capped answer: its order need not be the total order pages use.
        return answer_response(answer, max_rows=cap)
    if form != "SELECT" or results is None:
        raise query_runs.invalid("limit" if limit is not None else "offset", "paging applies to SELECT queries", limit)
    return _page(request, principal, query, bound, results.key, limit=limit, offset=offset)


def _kept_answer(header: bytes, lines: Sequence[bytes], fmt: str, cap: int) -> Answer:
    """A report's complete answer from its table, streamed as TSV or CSV (both a line per row) in chunks."""
    truncated = 0 < cap < len(lines)
    shown = lines[:cap] if truncated else lines

    def chunks() -> Iterator[bytes]:
        for start in range(0, max(len(shown), 1), _CHUNK_ROWS):
            tsv = b"".join(line + b"\n" for line in (header, *shown[start : start + _CHUNK_ROWS]))
            if fmt == "tsv":
                yield tsv if start == 0 else tsv[len(header) + 1 :]
                continue
            buffer = io.BytesIO()
            parse_query_results(tsv, QueryResultsFormat.TSV).serialize(buffer, QueryResultsFormat.CSV)
            csv = buffer.getvalue()
            yield csv if start == 0 else csv[csv.index(b"\r\n") + 2 :]  # one header line, the first chunk's

    return Answer(Head("solutions", fmt, truncated), chunks=chunks())


def _page(
    request: Request, principal: Principal, query: NamedQuery, bound: dict, fmt: str, *, limit: int | None, offset: int
) -> Response:
    """Rows `offset` … `offset + limit` of the full result in its total order, cut from its first rows."""
    cap = request.app.state.settings.max_rows
    size = limit if cap <= 0 else min(limit if limit is not None else cap, cap)
    # One row more than the page shows whether another page follows; 0 (no cap, no limit) means all rows.
    wanted = 0 if size is None else offset + size + 1
    app, sparql = request.app, query_runs.paging_text(query.sparql)
    # The page's rows are window[offset - start …]; total: how many rows there are (at least), to say "more".
    kept = None if bound else gaps.answer_lines(app, principal, query.name)
    grouped = (
        None if bound or query.name != "unused-datasets" else gaps.unused_page_datasets(app, principal, offset, size)
    )
    if kept is not None:  # a report's table of this data version holds its whole answer in this order
        header, window = kept
        start, total = 0, len(window)
    elif grouped is not None:  # its table counts each dataset's rows: the page's datasets alone are evaluated
        datasets, start, total = grouped
        body, _ = query_runs.tsv(app, principal, sparql, {"dataset": [NamedNode(d) for d in datasets]}, max_rows=0)
        header, window = query_runs.tsv_lines(body)
    else:
        header, window = query_runs.tsv_lines(query_runs.tsv(app, principal, sparql, bound, max_rows=wanted)[0])
        start, total = 0, len(window)
    page = window[offset - start : None if size is None else offset - start + size]
    more = size is not None and total > offset + size
    # Truncated: the row cap, not the client's own limit, cut the page short.
    truncated = more and cap > 0 and (limit is None or limit > cap)
    tsv = b"".join(line + b"\n" for line in (header, *page))
    if fmt == "tsv":
        out = tsv
    else:
        buffer = io.BytesIO()
        parse_query_results(tsv, QueryResultsFormat.TSV).serialize(buffer, RESULT_FORMATS[fmt])
        out = buffer.getvalue()
        if fmt == "json" and truncated:
            # The same members a capped /sparql answer carries (api.evaluate).
            out = out.rstrip()[:-1] + f',"truncated":true,"maxRows":{cap}}}'.encode()
    response = answer_response(Answer(Head("solutions", fmt, truncated), body=out), max_rows=cap)
    if more:
        response.headers["Link"] = _next_link(request, offset + size, size)
    return response


def _next_link(request: Request, offset: int, limit: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    params += [("offset", str(offset)), ("limit", str(limit))]
    return f'<{_base(request)}{request.url.path}?{urlencode(params)}>; rel="next"'


# -- the router ----------------------------------------------------------------------------------


def _parameter_doc(param: Any) -> dict[str, Any]:
    schema = dict(_SCHEMA_TYPES[param.type])
    if param.default is not None:
        schema["default"] = param.default
    note = _TYPE_NOTES.get(param.type)
    doc: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": " ".join(_sentence(t) for t in (param.description, note) if t),
        "schema": schema,
    }
    if param.example is not None:
        doc["example"] = param.example
    return doc


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _description(query: NamedQuery) -> str:
    parts = [text for text in (query.description.get("en"), query.description.get("de")) if text]
    variables = query_runs.result_variables(query.sparql)
    if variables:
        parts.append("Result columns: " + ", ".join(f"`{v}`" for v in variables) + ".")
    if query.tags:
        parts.append("Tags: " + ", ".join(query.tags) + ".")
    return "\n\n".join(parts)


def _operation(name: str):
    def run_query(request: Request, limit: Limit = None, offset: Offset = 0, fmt: Format = None) -> Response:
        return run_named(request, name, limit, offset, fmt)

    run_query.__doc__ = f"Run the named query {name}."
    return run_query


_RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "SPARQL query results (JSON, XML, CSV or TSV).", "content": _RESULTS},
    406: {"description": "None of the offered result formats is acceptable; the message lists them."},
}


def router_for(registry: QueryRegistry) -> APIRouter:
    """The `/queries` routes, with one documented operation per named query of `registry`."""
    router = APIRouter(tags=[TAG])
    router.add_api_route("/queries", list_queries, methods=["GET"], response_model=QueryList, summary="Named queries")
    for query in registry:
        reserved = [p.name for p in query.parameters if p.name in RESERVED]
        if reserved:
            raise NamedQueryError(f"{query.path}: parameter {reserved[0]!r} is reserved for the /queries routes")
        router.add_api_route(
            f"/queries/{query.name}",
            _operation(query.name),
            methods=["GET"],
            name=f"query:{query.name}",
            operation_id=f"query_{query.name.replace('-', '_')}",
            summary=query.summary or query.name,
            description=_description(query),
            response_class=Response,
            responses=_RUN_RESPONSES,
            openapi_extra={"parameters": [_parameter_doc(p) for p in query.parameters]},
        )

    # Every query has its own operation above; this one answers names that are not (yet) routed: 404.
    @router.get("/queries/{name}", include_in_schema=False)
    def run_any(request: Request, name: str, limit: Limit = None, offset: Offset = 0, fmt: Format = None) -> Response:
        """Run a named query by name."""
        return run_named(request, name, limit, offset, fmt)

    router.add_api_route(
        "/queries/{name}/sparql",
        query_text,
        methods=["GET"],
        summary="The SPARQL text of a named query",
        response_class=Response,
        responses={
            200: {"description": "The query text.", "content": {SPARQL_QUERY: {"schema": {"type": "string"}}}},
            404: {"description": "There is no such named query."},
        },
    )
    router.add_api_route(
        "/queries/{name}/definition",
        query_definition,
        methods=["GET"],
        summary="The plain definition of a named query",
        description="The straightforward SPARQL for the question a tuned query answers (queries/README.md).",
        response_class=Response,
        responses={
            200: {"description": "The definition.", "content": {SPARQL_QUERY: {"schema": {"type": "string"}}}},
            404: {"description": "There is no such named query, or it has no separate definition."},
        },
    )
    return router
