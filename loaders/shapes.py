"""SHACL validation of loader output against `ontology/shapes.ttl`, reported as `Problem`s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from threading import Lock

import pyoxigraph as ox
import pyshacl
from rdflib import RDF, SH, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from loaders.report import Problem, Severity
from loaders.resources import ONTOLOGY_DIR
from loaders.vocab import PREFIXES

SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"

# Longest namespace first so `sdmx-dimension:` wins over a shorter prefix of the same IRI.
_NAMESPACES = sorted(((ns, prefix) for prefix, ns in PREFIXES.items()), key=lambda p: -len(p[0]))

# pyshacl adds a few RDFS triples to the shapes graph on its first runs; serialising runs keeps the
# shared, cached graph from being changed under a concurrent reader. Validation holds the GIL anyway.
_SHACL_LOCK = Lock()


@dataclass(frozen=True)
class Finding:
    """One SHACL result: focus node and shape as plain IRIs (for mapping back to rows), path and value
    as shown in the messages, and the Problem."""

    focus: str
    path: str | None
    value: str | None
    shape: str | None
    problem: Problem


@cache
def shapes_graph() -> Graph:
    """The parsed shapes graph, loaded once per process and shared by all validations."""
    return Graph().parse(SHAPES_FILE, format="turtle")


def validate(
    quads: Iterable[ox.Quad],
    *,
    extra: Iterable[ox.Quad] = (),
    origins: Mapping[str, tuple[str | None, str | None, int | None]] | None = None,
    others: Iterable[str] = (),
) -> list[Problem]:
    """Validate `quads` (graph names ignored) with `extra` as context; one Problem per SHACL result,
    located at the file, sheet and row `origins` names for its focus node (or the entity it belongs to).
    `others` are entities another source describes (a workbook only adds statements to them): what their
    description lacks is that source's matter, not this load's."""
    problems = []
    skipped = set(others)
    for finding in check(quads, extra=extra):
        if finding.focus in skipped:
            continue
        origin = _origin(finding.focus, origins or {})
        problem = finding.problem
        if origin is not None and problem.file is None:
            file, sheet, row = origin
            problem = replace(problem, file=file, sheet=sheet, row=row)
        problems.append(problem)
    return problems


def _origin(focus: str, origins: Mapping[str, tuple[str | None, str | None, int | None]]):
    # A distribution (…/distribution/1), observation (…/observation/2023) or association (…#lead) comes from
    # the row of the entity its IRI extends.
    candidates = [focus, focus.split("#", 1)[0]]
    candidates += [focus.rsplit(part, 1)[0] for part in ("/distribution/", "/observation/") if part in focus]
    return next((origins[c] for c in candidates if c in origins), None)


def check(quads: Iterable[ox.Quad], *, extra: Iterable[ox.Quad] = ()) -> list[Finding]:
    """Like `validate`, but keeps focus node, path, value and shape so loaders can locate rows."""
    main = _ntriples(quads)
    context = _ntriples(extra)
    data = Graph()
    # One parse over both parts: N-Triples is line based, and rdflib's parser is far faster than
    # adding pyoxigraph terms one by one from Python.
    data.parse(data=main + b"\n" + context, format="nt")
    with _SHACL_LOCK:
        conforms, report, _ = pyshacl.validate(
            data,
            shacl_graph=shapes_graph(),
            inference="none",
            advanced=False,
            allow_warnings=True,
        )
    # Only top-level results: nested sh:detail results (from sh:node, sh:or, …) are also typed
    # sh:ValidationResult but only explain the top-level one, whose message is the one to show.
    results = [r for rep in report.subjects(RDF.type, SH.ValidationReport) for r in report.objects(rep, SH.result)]
    if conforms and not results:
        return []
    # The context (e.g. the SDG taxonomy) is validated along with the data because it is in the
    # same graph; its own defects are not the loader's problem, so results about nodes only the
    # context describes are dropped.
    own_subjects = _iri_subjects(main)
    context_only = _iri_subjects(context) - own_subjects
    findings = {}
    for result in results:
        focus = report.value(result, SH.focusNode)
        if isinstance(focus, URIRef) and str(focus) in context_only:
            continue
        finding = _finding(report, result)
        # One shape may fail a value on several constraints (sh:class and sh:node, say); its message
        # is the same each time, so report it once.
        findings.setdefault((finding.focus, finding.path, finding.value, finding.shape), finding)
    return sorted(
        findings.values(),
        key=lambda f: (f.problem.severity is not Severity.ERROR, f.focus, f.path or "", f.shape or ""),
    )


def _ntriples(quads: Iterable[ox.Quad | ox.Triple]) -> bytes:
    triples = (q.triple if isinstance(q, ox.Quad) else q for q in quads)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _iri_subjects(ntriples: bytes) -> set[str]:
    # Cheap scan of the N-Triples text instead of a second parse: an IRI subject is `<…>` at line start.
    return {line[1 : line.index(b">")].decode() for line in ntriples.splitlines() if line.startswith(b"<")}


def _finding(report: Graph, result: Node) -> Finding:
    focus_node = report.value(result, SH.focusNode)
    focus = f"_:{focus_node}" if isinstance(focus_node, BNode) else str(focus_node)
    path_node = report.value(result, SH.resultPath)
    path = _path(report, path_node) if path_node is not None else None
    value_node = report.value(result, SH.value)
    value = _term(value_node) if value_node is not None else None
    shape_node = report.value(result, SH.sourceShape)
    shape = str(shape_node) if isinstance(shape_node, URIRef) else None
    severity = Severity.ERROR if report.value(result, SH.resultSeverity) == SH.Violation else Severity.WARNING

    messages = {m.language: str(m) for m in report.objects(result, SH.resultMessage) if isinstance(m, Literal)}
    fallback = next(iter(messages.values()), "SHACL")
    message_de = messages.get("de", fallback)
    message_en = messages.get("en", fallback)

    where = f"{_term(focus_node)}, {path}" if path else _term(focus_node)
    problem = Problem(
        message_de=f"{where}: {message_de}" + (f" (Wert: {value})" if value is not None else ""),
        message_en=f"{where}: {message_en}" + (f" (value: {value})" if value is not None else ""),
        severity=severity,
    )
    return Finding(focus=focus, path=path, value=value, shape=shape, problem=problem)


def _term(node: Node | None) -> str:
    """A readable form of an RDF term: prefixed name where a known prefix fits, else `<iri>`."""
    if isinstance(node, URIRef):
        iri = str(node)
        for ns, prefix in _NAMESPACES:
            local = iri[len(ns) :]
            if iri.startswith(ns) and local and all(c.isalnum() or c in "_-." for c in local):
                return f"{prefix}:{local}"
        return f"<{iri}>"
    if isinstance(node, Literal):
        text = f'"{node}"'
        if node.language:
            return f"{text}@{node.language}"
        if node.datatype is not None:
            return f"{text}^^{_term(node.datatype)}"
        return text
    if isinstance(node, BNode):
        return "[]"
    return str(node)


def _path(graph: Graph, node: Node) -> str:
    """SHACL property path in SPARQL-like notation (`a/b`, `^a`, `a|b`, `a*`)."""
    if isinstance(node, URIRef):
        return _term(node)
    if (node, RDF.first, None) in graph:
        return "/".join(_path(graph, step) for step in graph.items(node))
    for predicate, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = graph.value(node, predicate)
        if inner is not None:
            return fmt.format(_path(graph, inner))
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path(graph, a) for a in graph.items(alternatives)) + ")"
    return _term(node)
