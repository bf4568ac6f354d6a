"""Running named queries (and the facade's small lookups) for one caller, under the endpoint's guard rails.

Everything `/queries/…` and `/api/…` evaluate goes through `run`: the caller's visibility (anonymous:
public graphs; a staff token: all), the row cap with its truncation signal and the serializers of
`api.evaluate`, and the SERVICE allow-list of `api.guard`. Each query is an executor job like any
`/sparql` request, so it also gets the deadline, a concurrency slot and the answer cache. Parameter values
are written into the text by `api.sparql_binding` (terms serialised by pyoxigraph, the one binding for both
engines), so the planner sees them as constants and the cache tells one value from another.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, QuerySolutions, Store, parse_query_results

from api.auth import Principal
from api.evaluate import QueryJob
from api.executor import Answer
from api.guard import check_query
from api.named_queries import NamedQuery, ParameterError
from api.service_description import endpoint_iri
from api.sparql_binding import Term as Bound
from api.sparql_binding import bind_text
from api.sparql_text import tokens

Term = NamedNode | Literal | BlankNode


def invalid(parameter: str, message: str, value: object, *, where: str = "query") -> RequestValidationError:
    """A 422 in the shape of FastAPI's own validation errors, naming `parameter`."""
    return RequestValidationError([{"type": "value_error", "loc": (where, parameter), "msg": message, "input": value}])


def bind(query: NamedQuery, values: Mapping[str, str]) -> dict[str, NamedNode | Literal]:
    """The registry's binding of raw parameter values; a bad or unknown one is a 422 naming it."""
    try:
        return query.bind(dict(values))
    except ParameterError as error:
        raise invalid(error.name, str(error), values.get(error.name)) from None


def run(
    app: FastAPI,
    principal: Principal,
    sparql: str,
    substitutions: Mapping[str, Bound | Sequence[Bound]] | None = None,
    *,
    results_format: str | None = "json",
    graph_format: str | None = None,
    max_rows: int,
) -> Answer:
    """Evaluate `sparql` for `principal`, at most `max_rows` rows (0: all); the caller must close the answer.

    Raises what the SPARQL endpoint's errors map to: EvaluationError, Busy, DeadlineExceeded, HttpProblem.
    """
    settings = app.state.settings
    sparql = bind_text(sparql, substitutions)
    check_query(sparql, app.state.allowlist, base_iri=endpoint_iri(settings).value)
    job = QueryJob(
        sparql=sparql,
        include_internal=principal.sees_internal,
        results_format=results_format,
        graph_format=graph_format,
        max_rows=max_rows,
    )
    return app.state.executor.run(job)


def tsv(
    app: FastAPI,
    principal: Principal,
    sparql: str,
    substitutions: Mapping[str, Bound | Sequence[Bound]] | None = None,
    *,
    max_rows: int,
) -> tuple[bytes, bool]:
    """SELECT results as SPARQL TSV (a header line, then one line per row) and whether the cap cut them."""
    answer = run(app, principal, sparql, substitutions, results_format="tsv", max_rows=max_rows)
    try:
        return b"".join(answer.chunks()), answer.head.truncated
    finally:
        answer.close()


def tsv_lines(body: bytes) -> tuple[bytes, list[bytes]]:
    """A SPARQL TSV answer's header line and its row lines (one per row: line breaks in values are escaped)."""
    header, _, rest = body.partition(b"\n")
    return header, rest.split(b"\n")[:-1] if rest else []


def rows_of(body: bytes) -> Rows:
    """The rows of a SPARQL TSV answer as Python terms."""
    solutions = parse_query_results(body, QueryResultsFormat.TSV)
    if not isinstance(solutions, QuerySolutions):
        raise TypeError("not a SELECT query")
    names = [v.value for v in solutions.variables]
    rows = [{n: row[n] for n in names if row[n] is not None} for row in solutions]
    return Rows(names, rows, False)


@dataclass(frozen=True)
class Rows:
    """SELECT results as Python terms: each row maps the bound variables' names to their values."""

    variables: list[str]
    rows: list[dict[str, Term]]
    truncated: bool

    def __iter__(self) -> Iterator[dict[str, Term]]:
        return iter(self.rows)


def select(
    app: FastAPI,
    principal: Principal,
    sparql: str,
    substitutions: Mapping[str, Bound | Sequence[Bound]] | None = None,
    *,
    max_rows: int | None = None,
) -> Rows:
    """The rows of a SELECT query for `principal`, capped at `max_rows` (default: the configured row cap)."""
    cap = app.state.settings.max_rows if max_rows is None else max_rows
    body, truncated = tsv(app, principal, sparql, substitutions, max_rows=cap)
    found = rows_of(body)
    return Rows(found.variables, found.rows, truncated)


def count(
    app: FastAPI, principal: Principal, sparql: str, substitutions: Mapping[str, Bound | Sequence[Bound]] | None = None
) -> int:
    """The exact number of rows of a SELECT query (not capped: only a count leaves the server)."""
    answer = run(app, principal, sparql, substitutions, results_format="tsv", max_rows=0)
    try:
        return sum(chunk.count(b"\n") for chunk in answer.chunks()) - 1
    finally:
        answer.close()


@cache
def result_variables(sparql: str) -> tuple[str, ...]:
    """The projected variables of a SELECT query (evaluated on an empty store: instant); () for other forms."""
    result = Store().query(sparql)
    return tuple(v.value for v in result.variables) if isinstance(result, QuerySolutions) else ()


def _modifiers(sparql: str) -> list | None:
    """The tokens after the query's WHERE group (its solution modifiers); None when it cannot be found."""
    stream = list(tokens(sparql))
    start = next((i for i, tok in enumerate(stream) if tok.text == "{"), None)
    if start is None:
        return None
    depth = 0
    for i in range(start, len(stream)):
        depth += {"{": 1, "}": -1}.get(stream[i].text, 0)
        if depth == 0:
            return stream[i + 1 :]
    return None


def has_own_order(sparql: str) -> bool:
    """Whether the query orders its rows itself (ORDER BY), as far as its text shows."""
    modifiers = _modifiers(sparql)
    return modifiers is None or any(t.is_word("ORDER") for t in modifiers)


@cache
def paging_text(sparql: str) -> str:
    """`sparql` with its projected variables appended to its ORDER BY (added if there is none): a total order.

    Only the query's own text and variable names are used. A query whose modifiers cannot be found, or
    whose rewritten text does not parse, is returned unchanged.
    """
    variables = result_variables(sparql)
    modifiers = _modifiers(sparql)
    if not variables or modifiers is None:
        return sparql
    ordered = any(t.is_word("ORDER") for t in modifiers)
    # LIMIT, OFFSET and a trailing VALUES follow ORDER BY (SPARQL 1.1 Query §19.8, SolutionModifier).
    after = next((t.start for t in modifiers if t.is_word("LIMIT", "OFFSET", "VALUES")), len(sparql))
    keys = " ".join(f"?{v}" for v in variables)
    rewritten = f"{sparql[:after]}\n{'' if ordered else 'ORDER BY '}{keys}\n{sparql[after:]}"
    try:
        Store().query(rewritten)
    except (SyntaxError, RuntimeError, ValueError):
        return sparql
    return rewritten


def iri_order(variables: Sequence[str], rows: Sequence[Mapping[str, Term]]) -> list[int] | None:
    """The order (row numbers) of `rows` by `variables`, when their leading variables are IRIs in every row and
    tell every row apart: the order an embedded store's ORDER BY over them gives (Oxigraph orders IRIs by their
    text; later keys then never matter). None otherwise."""
    width = 0
    while width < len(variables) and all(isinstance(row.get(variables[width]), NamedNode) for row in rows):
        width += 1
    keys = [tuple(row[v].value for v in variables[:width]) for row in rows]
    if not width or len(set(keys)) != len(keys):
        return None
    return sorted(range(len(rows)), key=keys.__getitem__)
