"""VoID description of the public dataset at /.well-known/void (VoID §6.2), linked from the service description.

It states what an anonymous caller can query: counts per public graph, class and property partitions
over their union, the vocabularies used, and the linkset into the UN SDG knowledge organisation system.
Computed with aggregate queries over the public graphs, so it is cached per store write generation.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request, Response
from pyoxigraph import BlankNode, Literal, NamedNode, Triple, serialize

from api import jsonld
from api.conneg import GRAPH_OFFERS, negotiate
from api.evaluate import GRAPH_FORMATS
from api.service_description import dataset_iri, endpoint_iri
from api.settings import Settings
from api.store import Store
from loaders.vocab import DCT, PREFIXES, RDF, SDG, SDG_SCHEME, SKOS, VOID, XSD

router = APIRouter(tags=["data"])

_VOID_PREFIXES = {k: PREFIXES[k] for k in ("void", "dct", "rdf", "skos", "xsd", "sd")}
_cache_lock = threading.Lock()


@router.get("/.well-known/void")
def void_description(request: Request) -> Response:
    """VoID description of the public dataset (Turtle by default; other RDF formats by Accept or `format`)."""
    offer = negotiate(request.headers.get("accept"), GRAPH_OFFERS, format_param=request.query_params.get("format"))
    triples = _cached(request.app.state, request.app.state.settings, request.app.state.store)
    if offer.key == "jsonld":
        body = jsonld.compact_document(triples)
    else:
        body = serialize(
            triples, format=GRAPH_FORMATS[offer.key], prefixes=_VOID_PREFIXES if offer.key == "turtle" else None
        )
    return Response(body, media_type=offer.content_type, headers={"Vary": "Accept"})


def _cached(state, settings: Settings, store: Store) -> list[Triple]:
    with _cache_lock:
        cached = getattr(state, "void_cache", None)
        if cached is not None and cached[0] == store.generation:
            return cached[1]
    triples = void_triples(settings, store)
    with _cache_lock:
        state.void_cache = (store.generation, triples)
    return triples


def _integer(n: int) -> Literal:
    return Literal(str(n), datatype=XSD.integer)


def void_triples(settings: Settings, store: Store) -> list[Triple]:
    """The VoID triples for the public graphs of `store`."""
    dataset = dataset_iri(settings)
    graphs = store.graphs(include_internal=False)
    triples = [
        Triple(dataset, RDF.type, VOID.Dataset),
        Triple(dataset, DCT["title"], Literal(f"Querschnitt – {settings.municipality_name}", language="de")),
        Triple(
            dataset,
            DCT.description,
            Literal(
                "Departments, projects, datasets and their links to the UN Sustainable Development Goals "
                "(public part).",
                language="en",
            ),
        ),
        Triple(dataset, VOID.sparqlEndpoint, endpoint_iri(settings)),
        Triple(dataset, VOID.uriSpace, Literal(settings.base_iri)),
        Triple(dataset, VOID.triples, _integer(sum(g.triples for g in graphs))),
    ]
    for info in graphs:
        graph = NamedNode(info.iri)
        triples += [
            Triple(dataset, VOID.subset, graph),
            Triple(graph, RDF.type, VOID.Dataset),
            Triple(graph, VOID.triples, _integer(info.triples)),
            Triple(graph, DCT.modified, Literal(info.modified.isoformat(), datatype=XSD.dateTime)),
            Triple(graph, DCT.source, Literal(info.source)),
        ]
    vocabularies: set[str] = set()
    for row in store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c ORDER BY ?c"):
        partition = BlankNode()
        triples += [
            Triple(dataset, VOID.classPartition, partition),
            Triple(partition, VOID["class"], row["c"]),
            Triple(partition, VOID.entities, _integer(int(row["n"].value))),
        ]
    for row in store.query("SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"):
        partition = BlankNode()
        triples += [
            Triple(dataset, VOID.propertyPartition, partition),
            Triple(partition, VOID.property, row["p"]),
            Triple(partition, VOID.triples, _integer(int(row["n"].value))),
        ]
        vocabularies.add(_namespace(row["p"].value))
    triples += [Triple(dataset, VOID.vocabulary, NamedNode(v)) for v in sorted(vocabularies) if v]
    # The links into the SDG KOS: dct:subject from our resources to UN goal/target/indicator IRIs.
    (row,) = store.query(
        f'SELECT (COUNT(*) AS ?n) {{ ?s <http://purl.org/dc/terms/subject> ?o FILTER(STRSTARTS(STR(?o), "{SDG}")) }}'
    )
    linkset = NamedNode(dataset.value.replace("#dataset", "#sdg-links"))
    triples += [
        Triple(dataset, VOID.subset, linkset),
        Triple(linkset, RDF.type, VOID.Linkset),
        Triple(linkset, VOID.subjectsTarget, dataset),
        Triple(linkset, VOID.objectsTarget, SDG_SCHEME),
        Triple(linkset, VOID.linkPredicate, DCT.subject),
        Triple(linkset, VOID.triples, _integer(int(row["n"].value))),
        Triple(SDG_SCHEME, RDF.type, VOID.Dataset),
        Triple(SDG_SCHEME, RDF.type, SKOS.ConceptScheme),
        Triple(SDG_SCHEME, DCT["title"], Literal("UN Sustainable Development Goals KOS", language="en")),
        Triple(SDG_SCHEME, VOID.uriSpace, Literal(str(SDG))),
    ]
    return triples


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut > len("http://") else ""
