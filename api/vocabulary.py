"""The vocabulary online: `/def` (the `qs:` terms) and `/derived` (the `qsd:` terms), by content negotiation.

The term IRIs are hash IRIs (`https://w3id.org/querschnitt/def#Project`); a client fetching one asks for the
document without the fragment, which w3id.org redirects to `{public_url}/def` (docs/model.md). That
document is the ontology file in Turtle, N-Triples, RDF/XML or compact JSON-LD, or for a browser a page
listing every term under an anchor named like the term, so that the hash IRI lands on it. Each term also has
a page of its own, `/def/{name}` (labels and comments in German and English, domain, range, super- and
subclasses, what it is derived from, and examples from the visible data), and the same URL gives its
description in RDF.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import rdflib
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pyoxigraph import NamedNode, RdfFormat, Triple, parse, serialize
from rdflib import OWL, RDF, RDFS, SKOS, URIRef
from rdflib import Literal as RdfLiteral

from api import jsonld
from api.conneg import GRAPH_OFFERS, HTML_OFFER, NotAcceptable, Offer, negotiate
from api.ui import PAGE_KINDS, Page, not_found, page_for, render
from loaders.resources import ONTOLOGY_DIR
from loaders.vocab import PREFIXES

router = APIRouter(tags=["open data"])

PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
_OFFERS = {o.key: o for o in GRAPH_OFFERS}
RDF_OFFERS = tuple(_OFFERS[k] for k in ("turtle", "ntriples", "rdfxml", "jsonld"))
_FORMATS = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES, "rdfxml": RdfFormat.RDF_XML}
CACHE = "public, max-age=3600"
EXAMPLES = 5


@dataclass(frozen=True)
class Vocabulary:
    """One ontology file and where it is served."""

    key: str
    prefix: str
    iri: str
    file: Path

    @property
    def namespace(self) -> str:
        return self.iri + "#"

    @property
    def path(self) -> str:
        return "/" + self.key


VOCABULARIES = (
    Vocabulary("def", "qs", "https://w3id.org/querschnitt/def", ONTOLOGY_DIR / "querschnitt.ttl"),
    Vocabulary("derived", "qsd", "https://w3id.org/querschnitt/derived", ONTOLOGY_DIR / "derived.ttl"),
)


@functools.cache
def prefixes() -> dict[str, str]:
    """The prefixes documents and pages use: the project's, and those of the JSON-LD context."""
    context = jsonld.context()
    return {**PREFIXES, **{k: v for k, v in context.items() if isinstance(v, str) and v[-1] in "#/"}}


@functools.cache
def graph(vocabulary: Vocabulary) -> rdflib.Graph:
    """The ontology file as an rdflib graph (for walking it)."""
    return rdflib.Graph().parse(vocabulary.file, format="turtle")


@functools.cache
def terms(vocabulary: Vocabulary) -> tuple[str, ...]:
    """The local names of the terms the file describes, sorted."""
    names = {
        str(s)[len(vocabulary.namespace) :]
        for s in graph(vocabulary).subjects()
        if str(s).startswith(vocabulary.namespace)
    }
    return tuple(sorted(names, key=str.lower))


@functools.cache
def _document(vocabulary: Vocabulary, key: str) -> bytes:
    """The whole vocabulary in one format; Turtle is the file itself, comments and all."""
    if key == "turtle":
        return vocabulary.file.read_bytes()
    return _serialize(list(parse(vocabulary.file.read_bytes(), RdfFormat.TURTLE)), key)


def _serialize(triples: list[Triple], key: str) -> bytes:
    if key == "jsonld":
        return jsonld.compact_document(triples)
    chosen = prefixes() if key in ("turtle", "rdfxml") else None
    return serialize(triples, format=_FORMATS[key], prefixes=chosen) or b""


def _term_triples(vocabulary: Vocabulary, iri: URIRef) -> list[Triple]:
    """The term's concise bounded description (its triples and those of the blank nodes they reach)."""
    description = graph(vocabulary).cbd(iri)
    return list(parse(description.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES))


# --- routes -----------------------------------------------------------------------------------------------


@router.get("/def/context.jsonld")
def context_file() -> Response:
    """The project's JSON-LD context (ontology/context.jsonld), the one every JSON-LD answer embeds."""
    body = jsonld.CONTEXT_FILE.read_bytes()
    return Response(body, media_type=jsonld.MEDIA_TYPE, headers={"Cache-Control": CACHE, "ETag": _etag(body)})


def _index(vocabulary: Vocabulary):
    def handler(request: Request) -> Response:
        try:
            offer = _negotiate(request)
        except NotAcceptable as error:
            return PlainTextResponse(f"{error}\n", 406, headers={"Vary": "Accept"})
        if offer is HTML_OFFER:
            return _index_page(request, vocabulary)
        return _rdf(request, _document(vocabulary, offer.key), offer, vocabulary.path)

    handler.__doc__ = f"The vocabulary <{vocabulary.iri}> by content negotiation (RDF formats; HTML for browsers)."
    return handler


def _term(vocabulary: Vocabulary):
    def handler(request: Request, name: str) -> Response:
        if name not in terms(vocabulary):
            page = page_for(request)
            accept = request.headers.get("accept") or ""
            if "text/html" in accept:
                return not_found(page)
            return PlainTextResponse(f"There is no term {vocabulary.namespace}{name}.\n", 404)
        try:
            offer = _negotiate(request)
        except NotAcceptable as error:
            return PlainTextResponse(f"{error}\n", 406, headers={"Vary": "Accept"})
        iri = URIRef(vocabulary.namespace + name)
        if offer is HTML_OFFER:
            return _term_page(request, vocabulary, iri)
        body = _serialize(_term_triples(vocabulary, iri), offer.key)
        return _rdf(request, body, offer, f"{vocabulary.path}/{quote(name)}")

    handler.__doc__ = f"One term of <{vocabulary.iri}>: a page for people, its description in RDF for machines."
    return handler


for _vocabulary in VOCABULARIES:
    router.add_api_route(
        _vocabulary.path,
        _index(_vocabulary),
        methods=["GET"],
        operation_id=f"vocabulary_{_vocabulary.key}",
        summary=f"The vocabulary {_vocabulary.iri}",
    )
    router.add_api_route(
        _vocabulary.path + "/{name}",
        _term(_vocabulary),
        methods=["GET"],
        operation_id=f"vocabulary_{_vocabulary.key}_term",
        summary=f"One term of {_vocabulary.iri}",
    )


def _negotiate(request: Request) -> Offer:
    # HTML last: it wins only where a client ranks text/html above every RDF type (browsers); `*/*` gets Turtle.
    return negotiate(
        request.headers.get("accept"), (*RDF_OFFERS, HTML_OFFER), format_param=request.query_params.get("format")
    )


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _rdf(request: Request, body: bytes, offer: Offer, path: str) -> Response:
    etag = _etag(body)
    base = request.app.state.settings.public_url.rstrip("/")
    links = [f'<{base}{path}?format={o.names[0]}>; rel="alternate"; type="{o.media_type}"' for o in RDF_OFFERS]
    headers = {"Vary": "Accept", "Cache-Control": CACHE, "ETag": etag, "Link": ", ".join(links)}
    if etag in [tag.strip() for tag in (request.headers.get("if-none-match") or "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=offer.content_type, headers=headers)


# --- pages ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """An IRI as the pages show it: our terms link to their page, other IRIs to themselves."""

    href: str
    text: str
    ours: bool


@dataclass(frozen=True)
class TermView:
    name: str
    iri: str
    kind: str
    label: str
    other_label: str
    comments: list[tuple[str, str]]
    definitions: list[tuple[str, str]]
    derived: bool
    relations: list[tuple[str, list[Link]]]


_KINDS = (
    (OWL.Class, "class"),
    (OWL.ObjectProperty, "objectproperty"),
    (OWL.DatatypeProperty, "datatypeproperty"),
    (SKOS.ConceptScheme, "conceptscheme"),
    (SKOS.Concept, "concept"),
)
_GROUPS = (("classes", ("class",)), ("properties", ("objectproperty", "datatypeproperty")))


def _owner(iri: str) -> Vocabulary | None:
    return next((v for v in VOCABULARIES if iri.startswith(v.namespace)), None)


def _text(values, lang: str) -> str:
    """The literal in `lang`, else any."""
    values = [v for v in values if isinstance(v, RdfLiteral)]
    for value in values:
        if value.language == lang:
            return str(value)
    return str(values[0]) if values else ""


def _curie(iri: str) -> str:
    for prefix, namespace in sorted(prefixes().items(), key=lambda item: -len(item[1])):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def link(iri: str, lang: str) -> Link:
    """How the pages show and link `iri`."""
    owner = _owner(iri)
    if owner is not None:
        name = iri[len(owner.namespace) :]
        label = _text(graph(owner).objects(URIRef(iri), RDFS.label), lang)
        return Link(f"{owner.path}/{quote(name)}", f"{_curie(iri)}" + (f" ({label})" if label else ""), True)
    return Link(iri, _curie(iri), False)


def kind_of(vocabulary: Vocabulary, iri: URIRef) -> str:
    types = set(graph(vocabulary).objects(iri, RDF.type))
    return next((kind for cls, kind in _KINDS if cls in types), "individual")


def _view(vocabulary: Vocabulary, iri: URIRef, lang: str) -> TermView:
    g = graph(vocabulary)
    other = "en" if lang == "de" else "de"
    labels = list(g.objects(iri, RDFS.label)) or list(g.objects(iri, SKOS.prefLabel))

    def texts(predicate) -> list[tuple[str, str]]:
        # Both languages, the page's first: researchers compare them.
        found = [(v.language or "", str(v)) for v in g.objects(iri, predicate) if isinstance(v, RdfLiteral)]
        return sorted(found, key=lambda pair: (pair[0] != lang, pair[0]))

    def links(values) -> list[Link]:
        return sorted((link(str(v), lang) for v in values if isinstance(v, URIRef)), key=lambda x: x.text.lower())

    # Inverse relations over both vocabularies: a derived property's domain may be a `qs:` class.
    def inverse(predicate) -> list:
        return [s for v in VOCABULARIES for s in graph(v).subjects(predicate, iri)]

    relations = [
        ("type", links(t for t in g.objects(iri, RDF.type))),
        ("subClassOf", links(g.objects(iri, RDFS.subClassOf))),
        ("subClasses", links(inverse(RDFS.subClassOf))),
        ("subPropertyOf", links(g.objects(iri, RDFS.subPropertyOf))),
        ("domain", links(g.objects(iri, RDFS.domain))),
        ("range", links(g.objects(iri, RDFS.range))),
        ("domainOf", links(inverse(RDFS.domain))),
        ("rangeOf", links(inverse(RDFS.range))),
        ("inScheme", links(g.objects(iri, SKOS.inScheme))),
        ("concepts", links(inverse(SKOS.inScheme))),
        ("wasDerivedFrom", links(g.objects(iri, PROV_DERIVED))),
        ("isDefinedBy", [Link(vocabulary.path, vocabulary.iri, True)]),
    ]
    return TermView(
        name=str(iri)[len(vocabulary.namespace) :],
        iri=str(iri),
        kind=kind_of(vocabulary, iri),
        label=_text(labels, lang),
        other_label=_text([v for v in labels if isinstance(v, RdfLiteral) and v.language == other], other),
        comments=texts(RDFS.comment),
        definitions=texts(SKOS.definition),
        derived=any(True for _ in g.objects(iri, PROV_DERIVED)),
        relations=[(key, values) for key, values in relations if values],
    )


def _formats(path: str) -> list[tuple[str, str, str]]:
    names = {"turtle": "Turtle", "ntriples": "N-Triples", "rdfxml": "RDF/XML", "jsonld": "JSON-LD"}
    return [(names[o.key], f"{path}?format={o.names[0]}", o.media_type) for o in RDF_OFFERS]


def _index_page(request: Request, vocabulary: Vocabulary) -> Response:
    page = page_for(request)
    g = graph(vocabulary)
    views = [_view(vocabulary, URIRef(vocabulary.namespace + name), page.lang) for name in terms(vocabulary)]
    grouped = [(group, [v for v in views if v.kind in kinds]) for group, kinds in _GROUPS]
    grouped.append(("individuals", [v for v in views if not any(v.kind in kinds for _, kinds in _GROUPS)]))
    ontology = URIRef(vocabulary.iri)
    return render(
        page,
        "vocabulary.html",
        {
            "title": page.t(f"vocab.{vocabulary.key}.title"),
            "description": _text(g.objects(ontology, URIRef("http://purl.org/dc/terms/description")), page.lang),
            "version": str(g.value(ontology, OWL.versionInfo) or ""),
            "vocabulary": vocabulary,
            "groups": [(group, entries) for group, entries in grouped if entries],
            "formats": _formats(vocabulary.path),
            "others": [v for v in VOCABULARIES if v is not vocabulary],
        },
    )


def _term_page(request: Request, vocabulary: Vocabulary, iri: URIRef) -> Response:
    page = page_for(request)
    view = _view(vocabulary, iri, page.lang)
    examples, query = _examples(request, page, view)
    return render(
        page,
        "term.html",
        {
            "title": f"{_curie(view.iri)} – {view.label}" if view.label else _curie(view.iri),
            "term": view,
            "curie": _curie(view.iri),
            "vocabulary": vocabulary,
            "formats": _formats(f"{vocabulary.path}/{quote(view.name)}"),
            "examples": examples,
            "sparql": "/sparql?" + urlencode({"query": query}),
        },
    )


def _examples(request: Request, page: Page, view: TermView) -> tuple[list[Link], str]:
    """A few subjects of the visible data that use the term, and the query listing them all."""
    if view.kind in ("objectproperty", "datatypeproperty"):
        pattern = f"?s <{view.iri}> ?o"
    elif view.kind == "class":
        pattern = f"?s a <{view.iri}>"
    else:
        pattern = f"?s ?p <{view.iri}>"
    query = f"SELECT DISTINCT ?s WHERE {{ {pattern} }}"
    store = request.app.state.store
    rows = store.query(f"{query} LIMIT {EXAMPLES}", include_internal=page.staff)
    base = request.app.state.settings.base_iri
    found = []
    for row in rows:
        subject = row["s"]
        if not isinstance(subject, NamedNode):
            continue
        iri = subject.value
        if iri.startswith(base):
            path = iri[len(base) :]
            # Only the kinds with a page get a link; a distribution or a graph IRI would land on a 404.
            href = "/page/" + quote(path, safe="/") if path.split("/", 1)[0] in PAGE_KINDS else ""
            found.append(Link(href, path, False))
        else:
            found.append(Link(iri, _curie(iri), False))
    return found, query
