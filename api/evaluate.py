"""Evaluate one query job into serialized bytes: the same code runs in a worker process and in a thread.

Results are serialized by pyoxigraph (native code, 4–5× faster than building Python objects per row).
The row cap needs the row count *before* the first byte goes out, because the truncation signal is a
response header: capped results are first written as TSV/N-Triples (one row per line, so a line
counter can stop the serializer — and with it the lazy evaluation — after `max_rows + 1` rows), then
re-serialized natively into the requested format. That intermediate is the only full copy held.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import BinaryIO

from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    parse,
    parse_query_results,
    serialize,
)

from api import jsonld
from api.store import Store
from loaders.vocab import PREFIXES

RESULT_FORMATS = {
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
}
_WITH_PREFIXES = {"turtle", "trig"}


@dataclass(frozen=True)
class QueryJob:
    """Everything a worker needs to answer one query; plain data so that it crosses a pipe as JSON."""

    sparql: str
    include_internal: bool = False
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    base_iri: str | None = None
    results_format: str | None = "json"
    graph_format: str | None = "turtle"
    max_rows: int = 0

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> QueryJob:
        return cls(**json.loads(data))


@dataclass(frozen=True)
class Head:
    """What the response headers need: the result kind, the format it is written in, and truncation."""

    kind: str  # "boolean", "solutions" or "triples"
    format: str
    truncated: bool = False


class EvaluationError(Exception):
    """The query cannot be answered; `kind` is "syntax", "not-acceptable" or "failed"."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


@dataclass
class Prepared:
    """An evaluated query whose body is still to be written; `size` is known when the body is buffered."""

    head: Head
    write: Callable[[BinaryIO], None]
    size: int | None


def prepare(store: Store, job: QueryJob) -> Prepared:
    """Evaluate `job` far enough to know its head (and, when capped, its rows); raise EvaluationError."""
    try:
        result = store.query(
            job.sparql,
            include_internal=job.include_internal,
            default_graphs=job.default_graphs,
            named_graphs=job.named_graphs,
            base_iri=job.base_iri,
        )
        if isinstance(result, QueryBoolean):
            fmt = _results_format(job)
            return Prepared(Head("boolean", job.results_format), lambda out: result.serialize(out, fmt), 0)
        if isinstance(result, QuerySolutions):
            return _solutions(result, job)
        return _triples(result, job)
    except SyntaxError as error:
        raise EvaluationError("syntax", str(error)) from None
    except (OSError, RuntimeError, ValueError) as error:
        raise EvaluationError("failed", str(error)) from None


def _results_format(job: QueryJob) -> QueryResultsFormat:
    if job.results_format is None:
        raise EvaluationError(
            "not-acceptable", "this query gives results (SELECT/ASK), but no results format was acceptable"
        )
    return RESULT_FORMATS[job.results_format]


def _solutions(solutions: QuerySolutions, job: QueryJob) -> Prepared:
    fmt = _results_format(job)
    if job.max_rows <= 0:
        return Prepared(Head("solutions", job.results_format), lambda out: solutions.serialize(out, fmt), None)
    # TSV: a header line, then exactly one line per solution (line breaks in values are escaped).
    tsv, truncated = _capped_lines(lambda sink: solutions.serialize(sink, QueryResultsFormat.TSV), job.max_rows + 1)
    head = Head("solutions", job.results_format, truncated)
    if job.results_format == "tsv":
        return Prepared(head, lambda out: out.write(tsv), len(tsv))

    def write(out: BinaryIO) -> None:
        parsed = parse_query_results(tsv, QueryResultsFormat.TSV)
        if job.results_format == "json" and truncated:
            tail = _JsonTail(out)
            parsed.serialize(tail, fmt)
            tail.close_object(f'"truncated":true,"maxRows":{job.max_rows}'.encode())
        else:
            parsed.serialize(out, fmt)

    return Prepared(head, write, len(tsv))


def _triples(triples, job: QueryJob) -> Prepared:
    if job.graph_format is None:
        raise EvaluationError(
            "not-acceptable", "this query gives a graph (CONSTRUCT/DESCRIBE), but no RDF format was acceptable"
        )
    fmt = GRAPH_FORMATS[job.graph_format]
    prefixes = PREFIXES if job.graph_format in _WITH_PREFIXES else None
    if job.max_rows <= 0:
        head = Head("triples", job.graph_format)
        if job.graph_format == "jsonld":
            return Prepared(head, lambda out: jsonld.write_compact(triples, out), None)
        return Prepared(head, lambda out: serialize(triples, out, fmt, prefixes=prefixes), None)
    # N-Triples: exactly one line per triple.
    nt, truncated = _capped_lines(lambda sink: triples.serialize(sink, RdfFormat.N_TRIPLES), job.max_rows)
    head = Head("triples", job.graph_format, truncated)
    if job.graph_format == "ntriples":
        return Prepared(head, lambda out: out.write(nt), len(nt))
    if job.graph_format == "jsonld":
        return Prepared(head, lambda out: jsonld.write_compact(parse(nt, RdfFormat.N_TRIPLES), out), len(nt))
    return Prepared(head, lambda out: serialize(parse(nt, RdfFormat.N_TRIPLES), out, fmt, prefixes=prefixes), len(nt))


class _Enough(Exception):
    """Raised from a sink's write() to stop pyoxigraph's serializer (and the lazy evaluation behind it)."""


class _LineSink(io.RawIOBase):
    def __init__(self, limit: int):
        self.limit = limit
        self.lines = 0
        self.parts: list[bytes] = []
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        count = data.count(b"\n")
        if self.lines + count <= self.limit:
            self.parts.append(data)
            self.lines += count
            return len(data)
        cut = -1
        for _ in range(self.limit - self.lines):
            cut = data.index(b"\n", cut + 1)
        self.parts.append(data[: cut + 1])
        self.lines = self.limit
        self.truncated = True
        raise _Enough


def _capped_lines(produce: Callable[[BinaryIO], None], limit: int) -> tuple[bytes, bool]:
    sink = _LineSink(limit)
    with contextlib.suppress(_Enough):
        produce(sink)
    return b"".join(sink.parts), sink.truncated


class _JsonTail(io.RawIOBase):
    """Passes a JSON document through, holding back its closing `}` so that members can be added."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.held = b""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if data:
            self.out.write(self.held + data[:-1])
            self.held = data[-1:]
        return len(data)

    def close_object(self, members: bytes) -> None:
        if self.held != b"}":
            raise EvaluationError("failed", "unexpected end of the JSON results")
        self.out.write(b"," + members + b"}")
