"""DCAT-AP.de conformance of the catalog: pyshacl with the SEMIC DCAT-AP 3.0.0 and DCAT-AP.de 3.0 shapes, offline.

The shapes check controlled vocabularies through `skos:inScheme` in the *data* graph, so the vocabulary
files are read and their concepts' scheme memberships added to the catalog before validation; the EU
authority tables (data theme, file type, frequency, language) lack those triples and get them here.
Only typing and scheme membership are taken from the
vocabularies: their other content (deprecated list nodes, labels) is not what is being checked.

Every SHACL result becomes a `CatalogProblem` in German and English, naming the focus node, the property
path and the datasets it concerns, so the staff UI can point at a dataset before any portal sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyshacl
from pyoxigraph import Quad, RdfFormat, Triple, serialize
from rdflib import RDF, SH, SKOS, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from api.catalog import build_catalog
from api.settings import Settings
from api.store import Store
from loaders.report import Severity
from loaders.vocab import PREFIXES

SEMIC_SHAPES = "dcat-ap-3.0.0"
GERMAN_SHAPES = "dcat-ap-de-3.0"
# dcat-ap-de-imports.ttl only lists owl:imports of web resources; the German overlay matches 3.0.0 IRIs.
SKIPPED_SHAPE_FILES = frozenset({"dcat-ap-de-imports.ttl"})
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DCAT = "http://www.w3.org/ns/dcat#"
_RDF_SUFFIXES = {".ttl": "turtle", ".rdf": "xml", ".owl": "xml", ".nt": "nt", ".jsonld": "json-ld"}
_NAMESPACES = sorted(
    ((ns, prefix) for prefix, ns in {**PREFIXES, "dcatap": "http://data.europa.eu/r5r/"}.items()),
    key=lambda item: -len(item[0]),
)
_lock = threading.Lock()
_cache: dict[tuple, Graph] = {}


class CatalogCheckError(Exception):
    """The shapes or vocabularies could not be read; the message says which file or folder."""


@dataclass(frozen=True)
class CatalogProblem:
    """One SHACL result about the catalog, with the datasets it concerns (same interface as `Problem`)."""

    message_de: str
    message_en: str
    focus: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    datasets: tuple[str, ...] = ()
    severity: Severity = Severity.ERROR

    def location(self) -> str:
        """Focus node and property path, e.g. `<…/dataset/radwegenetz>, dct:license`."""
        return f"{self.focus}, {self.path}" if self.path else self.focus

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity.value}: {self.message_de} / {self.message_en}"


def shape_files(shapes_dir: Path) -> list[Path]:
    """The shape files to use: `dcat-ap-3.0.0/` and `dcat-ap-de-3.0/` below `shapes_dir` if present,
    else every RDF file directly in it (but never the imports list)."""
    shapes_dir = Path(shapes_dir)
    if not shapes_dir.is_dir():
        raise CatalogCheckError(f"shapes folder not found: {shapes_dir}")
    folders = [shapes_dir / SEMIC_SHAPES, shapes_dir / GERMAN_SHAPES]
    if not all(f.is_dir() for f in folders):
        folders = [shapes_dir]
    files = sorted(
        f
        for folder in folders
        for f in folder.iterdir()
        if f.suffix in _RDF_SUFFIXES and f.name not in SKIPPED_SHAPE_FILES
    )
    if not files:
        raise CatalogCheckError(f"no shape files (.ttl, .rdf) in {shapes_dir}")
    return files


def vocabulary_files(vocab_dir: Path) -> list[Path]:
    """Every RDF file in `vocab_dir`."""
    vocab_dir = Path(vocab_dir)
    if not vocab_dir.is_dir():
        raise CatalogCheckError(f"vocabulary folder not found: {vocab_dir}")
    return sorted(f for f in vocab_dir.iterdir() if f.suffix in _RDF_SUFFIXES)


def load_shapes(shapes_dir: Path) -> Graph:
    """The shapes graph (parsed once per set of files and modification times)."""
    return _cached("shapes", shape_files(shapes_dir), _parse_all)


def load_vocabularies(vocab_dir: Path) -> Graph:
    """Concept typing and `skos:inScheme` from the vocabularies, with the scheme added for EU authority
    tables that lack it (`…/authority/file-type/CSV` → `…/authority/file-type`)."""
    return _cached("vocab", vocabulary_files(vocab_dir), _scheme_memberships)


def check_catalog(graph: Graph | Iterable[Triple | Quad], shapes_dir: Path, vocab_dir: Path) -> list[CatalogProblem]:
    """Validate a catalog (rdflib graph or pyoxigraph triples) against DCAT-AP 3.0.0 + DCAT-AP.de 3.0.

    Returns one problem per SHACL result, violations first; an empty list means the catalog conforms
    without even a warning.
    """
    catalog = graph if isinstance(graph, Graph) else _to_rdflib(graph)
    shapes = load_shapes(shapes_dir)
    data = Graph()
    for triple in catalog:
        data.add(triple)
    for triple in load_vocabularies(vocab_dir):
        data.add(triple)
    with _lock:
        # pyshacl may add to the shared shapes graph while it runs; one validation at a time.
        _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    mentioned = set(catalog.subjects()) | set(catalog.objects())
    problems: dict[tuple, CatalogProblem] = {}
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        if focus not in mentioned:
            # A node only the vocabularies describe: their own shape defects are not the catalog's.
            continue
        for problem in _problems(report, shapes, catalog, result):
            problems.setdefault((problem.focus, problem.path, problem.value, problem.message_de), problem)
    return sorted(
        problems.values(),
        key=lambda p: (p.severity is not Severity.ERROR, p.datasets, p.focus, p.path or "", p.value or ""),
    )


def check_store(store: Store, settings: Settings, *, shapes_dir: Path, vocab_dir: Path) -> list[CatalogProblem]:
    """Build the whole public catalog from `store` and check it; what `querschnitt catalog check` runs."""
    return check_catalog(build_catalog(store, settings, page=None).triples, shapes_dir, vocab_dir)


def errors(problems: Iterable[CatalogProblem]) -> list[CatalogProblem]:
    """The violations among `problems` (warnings left out)."""
    return [p for p in problems if p.severity is Severity.ERROR]


# --- loading ----------------------------------------------------------------------------------------------


def _cached(kind: str, files: list[Path], build) -> Graph:
    key = (kind, *((str(f), f.stat().st_mtime_ns) for f in files))
    with _lock:
        graph = _cache.get(key)
        if graph is None:
            graph = _cache[key] = build(files)
    return graph


def _parse_all(files: list[Path]) -> Graph:
    graph = Graph()
    for f in files:
        _parse_into(graph, f)
    return graph


def _parse_into(graph: Graph, path: Path) -> None:
    try:
        graph.parse(path, format=_RDF_SUFFIXES[path.suffix])
    except Exception as error:  # rdflib raises parser-specific types
        raise CatalogCheckError(f"{path}: cannot be read as RDF: {error}") from None


def _scheme_memberships(files: list[Path]) -> Graph:
    full = _parse_all(files)
    out = Graph()
    for concept in set(full.subjects(RDF.type, SKOS.Concept)):
        out.add((concept, RDF.type, SKOS.Concept))
        schemes = set(full.objects(concept, SKOS.inScheme))
        if not schemes and isinstance(concept, URIRef) and str(concept).startswith(EU_AUTHORITY):
            table, _, code = str(concept)[len(EU_AUTHORITY) :].partition("/")
            if table and code:
                schemes = {URIRef(EU_AUTHORITY + table)}
        for scheme in schemes:
            out.add((concept, SKOS.inScheme, scheme))
            out.add((scheme, RDF.type, SKOS.ConceptScheme))
    return out


def _to_rdflib(triples: Iterable[Triple | Quad]) -> Graph:
    plain = (t.triple if isinstance(t, Quad) else t for t in triples)
    return Graph().parse(data=serialize(plain, format=RdfFormat.N_TRIPLES) or b"", format="nt")


# --- messages ---------------------------------------------------------------------------------------------

# (German, English) per SHACL constraint component; {path}, {value} and the constraint's parameter.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "MinCountConstraintComponent": (
        "{path} braucht mindestens {minCount} Wert(e)",
        "{path} needs at least {minCount} value(s)",
    ),
    "MaxCountConstraintComponent": (
        "{path} erlaubt höchstens {maxCount} Wert(e)",
        "{path} allows at most {maxCount} value(s)",
    ),
    "ClassConstraintComponent": (
        "{path}: {value} muss vom Typ {class} sein",
        "{path}: {value} must be of type {class}",
    ),
    "DatatypeConstraintComponent": (
        "{path}: {value} muss den Datentyp {datatype} haben",
        "{path}: {value} must have the datatype {datatype}",
    ),
    "NodeKindConstraintComponent": (
        "{path}: {value} muss ein(e) {nodeKind} sein",
        "{path}: {value} must be a {nodeKind}",
    ),
    "HasValueConstraintComponent": (
        "{path} muss den Wert {hasValue} haben (kontrolliertes Vokabular)",
        "{path} must have the value {hasValue} (controlled vocabulary)",
    ),
    "InConstraintComponent": (
        "{path}: {value} ist keiner der erlaubten Werte",
        "{path}: {value} is not one of the allowed values",
    ),
    "Vocabulary": (
        "{path}: {value} gehört nicht zum Vokabular {hasValue}",
        "{path}: {value} is not in the vocabulary {hasValue}",
    ),
    "PatternConstraintComponent": (
        "{path}: {value} entspricht nicht dem Muster {pattern}",
        "{path}: {value} does not match the pattern {pattern}",
    ),
}
_FALLBACK = ("{path}: verletzt {component}", "{path}: violates {component}")


def _problems(report: Graph, shapes: Graph, catalog: Graph, result: Node) -> list[CatalogProblem]:
    """The problem(s) one SHACL result stands for.

    The German vocabulary shapes nest a `skos:inScheme` check inside the property shape of, say,
    `dcat:theme`; its result has the *value* as focus node. It is reported once for every resource that
    uses the value, under the outer property, which is what a person can go and fix.
    """
    focus = report.value(result, SH.focusNode)
    shape_node = report.value(result, SH.sourceShape)
    outer_paths = [
        path
        for outer in (shapes.subjects(SH.property, shape_node) if shape_node is not None else ())
        if isinstance(path := shapes.value(outer, SH.path), URIRef)
    ]
    holders = [(holder, path) for path in outer_paths for holder in catalog.subjects(path, focus)]
    if not holders:
        path_node, value_node = report.value(result, SH.resultPath), report.value(result, SH.value)
        path = _path(report, path_node) if path_node is not None else None
        return [_problem(report, shapes, catalog, result, focus=focus, path=path, value_node=value_node)]
    return [
        _problem(report, shapes, catalog, result, focus=holder, path=_term(path), value_node=focus, nested=True)
        for holder, path in holders
    ]


def _problem(
    report: Graph,
    shapes: Graph,
    catalog: Graph,
    result: Node,
    *,
    focus: Node,
    path: str | None,
    value_node: Node | None,
    nested: bool = False,
) -> CatalogProblem:
    value = _term(value_node) if value_node is not None else None
    component_node = report.value(result, SH.sourceConstraintComponent)
    component = str(component_node).rsplit("#", 1)[-1] if component_node is not None else "SHACL"
    if nested and component == "HasValueConstraintComponent":
        component = "Vocabulary"
    shape_node = report.value(result, SH.sourceShape)
    severity = Severity.ERROR if report.value(result, SH.resultSeverity) == SH.Violation else Severity.WARNING

    parameters = {"path": path or "–", "value": value or "–", "component": component}
    if shape_node is not None:
        for name in ("minCount", "maxCount", "class", "datatype", "nodeKind", "hasValue", "pattern"):
            parameter = shapes.value(shape_node, SH[name])
            if parameter is not None:
                parameters[name] = str(parameter) if isinstance(parameter, Literal) else _term(parameter)
    template_de, template_en = _TEMPLATES.get(component, _FALLBACK)
    messages = {m.language: str(m) for m in report.objects(result, SH.resultMessage) if isinstance(m, Literal)}
    # The German overlay's messages are tagged @de or untagged; SEMIC's shapes carry none.
    message_de = messages.get("de") or messages.get(None) or _fill(template_de, parameters)
    message_en = messages.get("en") or _fill(template_en, parameters)
    return CatalogProblem(
        message_de=message_de + (f" (Wert: {value})" if value else ""),
        message_en=message_en + (f" (value: {value})" if value else ""),
        focus=_term(focus),
        path=path,
        value=value,
        shape=str(shape_node) if isinstance(shape_node, URIRef) else None,
        datasets=_datasets_of(catalog, focus),
        severity=severity,
    )


def _fill(template: str, parameters: dict[str, str]) -> str:
    return template.format_map(_Missing(parameters))


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _datasets_of(catalog: Graph, node: Node) -> tuple[str, ...]:
    """The datasets a node belongs to: itself, the dataset of a distribution or contact point, or every
    dataset (or its distribution) that uses a vocabulary value."""
    dataset = URIRef(DCAT + "Dataset")
    found: set[str] = set()
    if (node, RDF.type, dataset) in catalog:
        found.add(str(node))
    for subject in catalog.subjects(None, node):
        if (subject, RDF.type, dataset) in catalog:
            found.add(str(subject))
        else:
            found.update(str(d) for d in catalog.subjects(URIRef(DCAT + "distribution"), subject))
    return tuple(sorted(found))


def _term(node: Node | None) -> str:
    """A readable term: prefixed name where a known prefix fits, else `<iri>`; literals with their tag."""
    if isinstance(node, URIRef):
        iri = str(node)
        for ns, prefix in _NAMESPACES:
            local = iri[len(ns) :]
            if iri.startswith(ns) and local and all(c.isalnum() or c in "_-." for c in local):
                return f"{prefix}:{local}"
        return f"<{iri}>"
    if isinstance(node, Literal):
        if node.language:
            return f'"{node}"@{node.language}'
        return f'"{node}"^^{_term(node.datatype)}' if node.datatype is not None else f'"{node}"'
    if isinstance(node, BNode):
        return "[]"
    return str(node)


def _path(graph: Graph, node: Node) -> str:
    """A SHACL property path in SPARQL notation (`a/b`, `^a`, `a|b`)."""
    if isinstance(node, URIRef):
        return _term(node)
    if (node, RDF.first, None) in graph:
        return "/".join(_path(graph, step) for step in graph.items(node))
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{_path(graph, inverse)}"
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path(graph, a) for a in graph.items(alternatives)) + ")"
    return _term(node)
