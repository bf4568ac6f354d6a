"""Parse untrusted RDF in a child process with memory, stack and nesting limits, streaming back flat N-Quads.

pyoxigraph's parsers are recursive (triple terms, collections, blank-node property lists, JSON-LD
nesting) and expand XML entities: 20,000 nested `<<( … )>>` overflow the stack (SIGSEGV), a
billion-laughs DOCTYPE makes the allocator abort. Neither is a Python exception, so in the server or
the CLI the whole process dies. Counting brackets in the text cannot keep up with every construct
that recurses; running the parser where a crash costs only this document does.

The child (`python -m loaders.isolated_parse`) sets its own address-space limit, parses on a thread
with a stack much smaller than the server's threads (8 MB by default on Linux), refuses triple terms
nested deeper than `MAX_TRIPLE_TERM_DEPTH`, and writes N-Quads to its stdout. N-Quads has only one
construct that recurses (triple terms), and the depth check bounds it, so the parent's own parse of
that stream is safe. A child that dies by a signal or runs out of memory becomes `ParseLimitError`,
a `SyntaxError`, so every caller that already reports syntax errors reports this one too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, parse, serialize

# Triple terms of RDF 1.2 nest one or two levels in real data (a statement about a statement).
MAX_TRIPLE_TERM_DEPTH = 32
# A parse streams: memory stays small whatever the file size, unless entities expand or a format
# holds a whole document (JSON-LD contexts). A few GB is far above both, and far below a server's RAM.
MEMORY_BYTES = 3 << 30
# One eighth of a server thread's default stack: a document that nests shallowly enough for the
# child nests shallowly enough for any thread of the parent.
STACK_BYTES = 1 << 20
# Entities can make a small document expand into gigabytes of literals, which the parent would then
# hold. N-Quads spells out every IRI, so a Turtle file with prefixes grows about 3–20× on the way;
# more than 100× (past a first 64 MB) is an expansion, not data.
MAX_EXPANSION = 100
EXPANSION_FLOOR = 64 << 20
_BLOCK = 1 << 20
_LINE_FORMATS = (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS)
_SYNTAX, _LIMIT = 2, 3


def parse_deadline(size: int, *, base: float) -> float:
    """Seconds to allow for parsing `size` bytes: `base`, plus one per MB (pyoxigraph reads 30–50 MB/s)."""
    return base + size / 1e6


class ParseLimitError(SyntaxError):
    """The document nests deeper or expands further than the parser's limits allow."""


def parse_isolated(
    source: bytes | IO[bytes] | Path,
    rdf_format: RdfFormat,
    *,
    base_iri: str | None = None,
    memory_bytes: int = MEMORY_BYTES,
    stack_bytes: int = STACK_BYTES,
    max_depth: int = MAX_TRIPLE_TERM_DEPTH,
    timeout: float | None = None,
    lenient: bool = False,
) -> Iterator[Quad]:
    """Quads of an untrusted document, parsed in a child process; raise SyntaxError or ParseLimitError.

    `lenient`: invalid IRIs (a space or `[` in a published URL) do not stop the parse. One whose repair is
    unambiguous (percent-encoding the characters IRIs may not hold) is repaired, else its statement is
    dropped; each repair or drop comes as a quad in the graph `REPAIRS` (`repair_notes` reads them).

    `source` is the document's bytes, a binary file (read from this process, so a progress-reporting
    wrapper sees every block), or a path. The quads come out as `pyoxigraph.parse` gives them (triples
    in the default graph, blank node labels kept). `timeout` (seconds) stops a parse that takes longer,
    such as the quadratic expansion of entities referenced many times.
    """
    if rdf_format in _LINE_FORMATS and isinstance(source, bytes) and b"<<" not in source and not lenient:
        # N-Triples and N-Quads have one recursive production, the triple term `<<( … )>>`, and no
        # entities: without `<<` nothing nests or expands, and the child (~0.1 s) is not needed.
        yield from parse(source, rdf_format, base_iri=base_iri)
        return
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    args = [str(memory_bytes), str(stack_bytes), str(max_depth), rdf_format.media_type, base_iri or "", str(lenient)]
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "loaders.isolated_parse", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            start_new_session=True,  # a Ctrl-C for the CLI reaches it through the parent, not twice
        )
        failures: list[BaseException] = []
        feeder = threading.Thread(target=_feed, args=(source, child.stdin, failures), daemon=True)
        feeder.start()
        timer = threading.Timer(timeout, child.kill) if timeout is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            try:
                yield from parse(child.stdout, RdfFormat.N_QUADS)
            except SyntaxError:
                # The stream was cut: the child's own verdict (or a failure to read the source) says why.
                _raise_for(child, errors, feeder, failures, memory_bytes, stack_bytes, timeout)
                raise
            _raise_for(child, errors, feeder, failures, memory_bytes, stack_bytes, timeout)
        finally:
            if timer is not None:
                timer.cancel()
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
            feeder.join()


def _feed(source: bytes | IO[bytes] | Path, pipe: IO[bytes], failures: list[BaseException]) -> None:
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            pipe.write(source)
            return
        handle = source.open("rb") if isinstance(source, Path) else contextlib.nullcontext(source)
        with handle as reader:
            for block in iter(lambda: reader.read(_BLOCK), b""):
                pipe.write(block)
    except BrokenPipeError:
        pass  # a child that died stops reading: its verdict matters, not the broken pipe
    except Exception as error:  # reading the source failed (unreadable file, broken gzip): the caller's error
        failures.append(error)
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


def _raise_for(
    child: subprocess.Popen,
    errors: IO[bytes],
    feeder: threading.Thread,
    failures: list[BaseException],
    memory: int,
    stack: int,
    timeout: float | None,
) -> None:
    code = child.wait()
    feeder.join()
    if failures:
        raise failures[0]
    if code == 0:
        return
    errors.seek(0)
    report = errors.read()[-10_000:]
    if code in (_SYNTAX, _LIMIT):
        verdict = json.loads(report.splitlines()[-1])
        if code == _SYNTAX:
            message, position = verdict["args"]
            raise SyntaxError(message, tuple(position)) if position else SyntaxError(message)
        raise ParseLimitError(verdict["message"])
    if code == -signal.SIGKILL and timeout is not None:
        raise ParseLimitError(
            f"The document took longer than {timeout:.0f} s to parse (XML entities?); that is the limit."
        )
    raise ParseLimitError(
        f"The document nests deeper or expands further than the parser's limits allow "
        f"({memory >> 20} MB of memory, a {stack >> 10} KB stack); the document is refused."
    )


def _depth(term, limit: int) -> int:
    """How deep triple terms nest in `term`, counted up to `limit + 1` (iteratively: no Python recursion)."""
    deepest, pending = 0, [(term, 0)]
    while pending and deepest <= limit:
        term, depth = pending.pop()
        if type(term) is Triple:
            deepest = max(deepest, depth + 1)
            pending += ((term.subject, depth + 1), (term.object, depth + 1))
    return deepest


class _DepthCheckedSink:
    """Passes N-Quads lines on to `out`, refusing any whose triple terms nest deeper than `max_depth`.

    Only complete lines are passed on, so the parent never reads a line that was not checked. Lines
    without `<<(` (nearly all) cost a substring search; the rare others are parsed once more here,
    where a crash still costs only this child.
    """

    def __init__(self, out: IO[bytes], max_depth: int, source: _CountingReader):
        self.out = out
        self.max_depth = max_depth
        self.source = source
        self.written = 0
        self.partial = b""

    def write(self, data) -> int:
        self.written += len(data)
        if self.written > EXPANSION_FLOOR + MAX_EXPANSION * self.source.count:
            raise _TooDeep(
                f"The document expands to more than {MAX_EXPANSION} times its size (XML entities?); that is the limit."
            )
        chunk = self.partial + bytes(data)
        end = chunk.rfind(b"\n") + 1
        self.partial = chunk[end:]
        lines = chunk[:end]
        if b"<<(" in lines:
            for quad in parse(lines, RdfFormat.N_QUADS):
                if max(_depth(quad.subject, self.max_depth), _depth(quad.object, self.max_depth)) > self.max_depth:
                    raise _TooDeep(
                        f"The document nests triple terms more than {self.max_depth} levels deep; that is the limit."
                    )
        self.out.write(lines)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class _TooDeep(Exception):
    pass


# Repairs and drops of a lenient parse travel in the quad stream, in a graph of their own.
REPAIRS = NamedNode("urn:querschnitt:parse-repairs")
_REPAIRED, _DROPPED = NamedNode("urn:querschnitt:repaired"), NamedNode("urn:querschnitt:dropped")
# RFC 3987: characters an IRI may not hold; percent-encoding them is the one repair that keeps the address.
_NOT_IN_IRIS = re.compile(r'[\x00-\x20<>"{}|\\^`\[\]\x7f]')


@dataclass(frozen=True)
class Repair:
    """One statement of a lenient parse that was repaired (`new` IRI) or dropped (`new` None)."""

    subject: str
    predicate: str
    old: str
    new: str | None


def repair_notes(quads: Iterator[Quad], notes: list[Repair]) -> Iterator[Quad]:
    """The quads of a lenient parse without its repair notes, which are appended to `notes`."""
    for quad in quads:
        if quad.graph_name == REPAIRS:
            subject, predicate, old, new = json.loads(quad.object.value)
            notes.append(Repair(subject, predicate, old, new))
        else:
            yield quad


_SUSPECT = re.compile(r'[\x00-\x20<>"{}|\\^`\[\]\x7f]|^(?![A-Za-z][A-Za-z0-9+.-]*:)')


def _repaired(quads: Iterator[Quad]) -> Iterator[Quad]:
    for quad in quads:
        terms = [quad.subject, quad.predicate, quad.object, quad.graph_name]
        # A regular expression finds the rare suspect IRI; only those are checked by building a term.
        if not any(type(t) is NamedNode and _SUSPECT.search(t.value) for t in terms):
            yield quad
            continue
        fixed = [_repair(t) if type(t) is NamedNode else t for t in terms]
        if fixed == terms:
            yield quad
            continue
        broken = next(t for t, f in zip(terms, fixed, strict=True) if f is not t)
        replacement = next((f for t, f in zip(terms, fixed, strict=True) if f is not t), None)
        note = [str(quad.subject), str(quad.predicate), broken.value, replacement.value if replacement else None]
        yield Quad(REPAIRS, _DROPPED if replacement is None else _REPAIRED, Literal(json.dumps(note)), REPAIRS)
        if all(f is not None for f in fixed):
            yield Quad(*fixed[:3], fixed[3])


def _repair(term: NamedNode) -> NamedNode | None:
    """The term itself when valid; else its percent-encoded form when that is a valid IRI; else None."""
    try:
        NamedNode(term.value)
        return term
    except ValueError:
        pass
    repaired = repair_iri(term.value)
    return NamedNode(repaired) if repaired is not None else None


def repair_iri(value: str) -> str | None:
    """`value` with the characters IRIs may not hold percent-encoded, if that makes a valid IRI; else None."""
    encoded = _NOT_IN_IRIS.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), value)
    try:
        NamedNode(encoded)
    except ValueError:
        return None
    return encoded


class _CountingReader:
    """The child's stdin, counting the bytes the parser has read (for the expansion limit)."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _child() -> None:
    memory, stack, max_depth, media_type, base_iri, lenient = sys.argv[1:7]
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    # A crash is expected here now and then; a core dump of it would cost the machine seconds of I/O.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    threading.stack_size(int(stack))
    verdict: list[tuple[int, dict]] = []

    def work() -> None:
        out = os.fdopen(1, "wb", buffering=_BLOCK)
        try:
            source = _CountingReader(sys.stdin.buffer)
            fmt = RdfFormat.from_media_type(media_type)
            if lenient == "True":
                quads = _repaired(parse(source, fmt, base_iri=base_iri or None, lenient=True))
            else:
                quads = parse(source, fmt, base_iri=base_iri or None)
            sink = _DepthCheckedSink(out, int(max_depth), source)
            serialize(quads, sink, RdfFormat.N_QUADS)
            sink.write(b"\n")  # the serializer ends every line with one; this passes on nothing new
            out.flush()
        except SyntaxError as error:
            verdict.append(
                (_SYNTAX, {"args": [str(error.args[0]), list(error.args[1]) if len(error.args) > 1 else []]})
            )
        except _TooDeep as error:
            verdict.append((_LIMIT, {"message": str(error)}))
        except MemoryError:
            verdict.append((_LIMIT, {"message": f"The document needs more than {int(memory) >> 20} MB to parse."}))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if verdict:
        code, payload = verdict[0]
        sys.stderr.write(json.dumps(payload) + "\n")
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _child()
