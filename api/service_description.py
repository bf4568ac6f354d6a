"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/)."""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from api.settings import Settings
from api.store import Store
from loaders.vocab import DCT, RDF, RDFS, SD, VOID, Namespace

FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV")
GRAPH_FORMATS = ("Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N-Quads", "TriG")


def endpoint_iri(settings: Settings) -> NamedNode:
    return NamedNode(settings.public_url.rstrip("/") + "/sparql")


def void_iri(settings: Settings) -> NamedNode:
    """The VoID document (VoID §6.2 well-known location)."""
    return NamedNode(settings.public_url.rstrip("/") + "/.well-known/void")


def dataset_iri(settings: Settings) -> NamedNode:
    return NamedNode(void_iri(settings).value + "#dataset")


def service_description(settings: Settings, store: Store, *, include_internal: bool) -> list[Triple]:
    """Triples describing the endpoint and the dataset the caller sees (SD §3)."""
    endpoint = endpoint_iri(settings)
    service = NamedNode(endpoint.value + "#service")
    dataset = dataset_iri(settings)
    default_graph = BlankNode()
    triples = [
        Triple(service, RDF.type, SD.Service),
        Triple(service, SD.endpoint, endpoint),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Query),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Update),
        Triple(service, SD.feature, SD.UnionDefaultGraph),
        Triple(service, SD.defaultEntailmentRegime, NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, DCT["title"], Literal(f"Querschnitt SPARQL endpoint – {settings.municipality_name}")),
        Triple(
            service,
            RDFS.comment,
            Literal(
                f"Queries stop after {settings.query_timeout:g} s and return at most {settings.max_rows} rows "
                "(a truncated result says so in the X-Querschnitt-Truncated header and, in SPARQL JSON, "
                "in a top-level `truncated` member). Updates need a staff token. SERVICE and LOAD reach only "
                "allow-listed IRIs.",
                language="en",
            ),
        ),
        Triple(service, SD.defaultDataset, dataset),
        Triple(dataset, RDF.type, SD.Dataset),
        Triple(dataset, RDF.type, VOID.Dataset),
        Triple(dataset, RDFS.seeAlso, void_iri(settings)),
        Triple(dataset, SD.defaultGraph, default_graph),
        Triple(default_graph, RDF.type, SD.Graph),
    ]
    triples += [Triple(service, SD.resultFormat, FORMATS[name]) for name in RESULT_FORMATS + GRAPH_FORMATS]
    total = 0
    for info in store.graphs(include_internal=include_internal):
        named, graph = BlankNode(), BlankNode()
        total += info.triples
        triples += [
            Triple(dataset, SD.namedGraph, named),
            Triple(named, RDF.type, SD.NamedGraph),
            Triple(named, SD.name, NamedNode(info.iri)),
            Triple(named, SD.graph, graph),
            Triple(graph, RDF.type, SD.Graph),
            Triple(graph, VOID.triples, Literal(str(info.triples), datatype=NamedNode(str(_XSD_INTEGER)))),
        ]
    # The default graph is the union of the named graphs listed here (sd:UnionDefaultGraph).
    triples.append(Triple(default_graph, VOID.triples, Literal(str(total), datatype=NamedNode(str(_XSD_INTEGER)))))
    return triples


_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
