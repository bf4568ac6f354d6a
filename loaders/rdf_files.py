"""RDF files (Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD, optionally gzipped) as a stream of quads.

Parsing is pyoxigraph's streaming parser, so a file of any size passes through without being held
in memory; a syntax error surfaces as `RdfSyntaxError` with file, line and column while the stream
is consumed, and the store's atomic replace then leaves the old graph untouched. Files come from
outside (a colleague's export, a download), so the parser runs in a child process
(`loaders.isolated_parse`): a document that nests too deep or expands without bound is an
`RdfSyntaxError` naming the limit, not the end of the `querschnitt load` process.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse

from loaders.isolated_parse import ParseLimitError, parse_isolated
from loaders.xml_guard import xml_entity_problem

SUFFIXES = {
    ".ttl": RdfFormat.TURTLE,
    ".turtle": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".rdf": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
    ".xml": RdfFormat.RDF_XML,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
    ".n3": RdfFormat.N3,
}


class RdfSyntaxError(ValueError):
    """A file is not valid RDF in its format; the message names file, line and column."""


def rdf_format_of(path: Path) -> RdfFormat:
    """The RDF format a file name implies (a trailing `.gz` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if not suffixes or suffixes[-1] not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise RdfSyntaxError(f"{path}: unknown RDF file type; use one of {known} (optionally .gz)")
    return SUFFIXES[suffixes[-1]]


def is_rdf_file(path: Path) -> bool:
    """True for file names that `read_rdf` understands."""
    try:
        rdf_format_of(path)
    except RdfSyntaxError:
        return False
    return True


def read_rdf(
    path: Path, *, graph: str, base_iri: str | None = None, progress: Callable[[int], None] | None = None
) -> Iterator[Quad]:
    """Stream the quads of one file: triples into `graph`; named graphs of quad formats keep their names.

    `progress` is called with the number of file bytes consumed since its last call.
    """
    rdf_format = rdf_format_of(path)
    target = NamedNode(graph)
    if rdf_format == RdfFormat.RDF_XML:
        # The child survives entity expansion, but an early, specific refusal reads better than a limit.
        with _open(path, None) as head:
            problem = xml_entity_problem(head.read(1 << 20))
        if problem is not None:
            raise RdfSyntaxError(f"{path}: {problem}")
    with _open(path, progress) as handle:
        try:
            for quad in parse_isolated(handle, rdf_format, base_iri=base_iri or path.resolve().as_uri()):
                if isinstance(quad.graph_name, DefaultGraph):
                    yield Quad(quad.subject, quad.predicate, quad.object, target)
                else:
                    yield quad
        except SyntaxError as error:
            if error.lineno is None and not isinstance(error, ParseLimitError):
                # RDF/XML and JSON-LD structure errors come without a position: find it by parsing again (in
                # this process: the child got that far without meeting a limit, and parsing stops there).
                line, column = locate_syntax_error(path, rdf_format, base_iri=base_iri or path.resolve().as_uri())
                if line is not None:
                    raise RdfSyntaxError(f"{path}: line {line}, column {column}: {error}") from None
            raise RdfSyntaxError(f"{path}: {error}") from None
        except (OSError, EOFError) as error:
            raise RdfSyntaxError(f"{path}: cannot read: {error}") from None


def locate_syntax_error(path: Path, rdf_format: RdfFormat, *, base_iri: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) at which parsing `path` fails, for parser errors that carry no position.

    The parsers are streaming: fed the file one line per read, they fail while holding the line with the
    error; fed that line one byte per read, while holding the byte that completes the faulty token. Only
    run after a failure, so the slow feeding costs nothing on good files.
    """
    line = _failing_read(path, rdf_format, base_iri, bytewise_from=None)
    if line is None:
        return None, None
    column = _failing_read(path, rdf_format, base_iri, bytewise_from=line)
    return line, column


def _failing_read(path: Path, rdf_format: RdfFormat, base_iri: str, *, bytewise_from: int | None) -> int | None:
    """The number of lines (or, from line `bytewise_from` on, of bytes of that line) read when parsing fails."""
    with _open(path, None) as handle:
        feeder = _Feeder(handle, bytewise_from)
        try:
            for _ in parse(feeder, rdf_format, base_iri=base_iri):
                pass
        except SyntaxError:
            return feeder.bytes_of_line if bytewise_from is not None else feeder.lines
        except (OSError, EOFError):
            return None
    return None


class _Feeder(io.RawIOBase):
    """A file given to the parser one line per read, or byte by byte from line `bytewise_from` on."""

    def __init__(self, inner: IO[bytes], bytewise_from: int | None):
        self.inner = inner
        self.bytewise_from = bytewise_from
        self.lines = 0
        self.bytes_of_line = 0
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.pending:
            self.pending = self.inner.readline()
            if not self.pending:
                return 0
            self.lines += 1
            self.bytes_of_line = 0
        bytewise = self.bytewise_from is not None and self.lines >= self.bytewise_from
        size = min(1 if bytewise else len(self.pending), len(buffer))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        self.bytes_of_line += size
        return size


def sha256_of(path: Path) -> str:
    """Checksum of a source file, recorded in the metadata graph."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _open(path: Path, progress: Callable[[int], None] | None) -> IO[bytes]:
    raw: IO[bytes] = path.open("rb")
    if progress is not None:
        raw = _ReportingReader(raw, progress)
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


class _ReportingReader(io.RawIOBase):
    """A file that tells how many bytes were read from it, for progress bars over compressed input too."""

    def __init__(self, inner: IO[bytes], progress: Callable[[int], None]):
        self.inner = inner
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.progress(len(data))
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()
