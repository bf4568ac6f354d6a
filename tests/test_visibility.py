"""Anonymous callers see only public graphs: every way of reaching the internal graph finds nothing.

The sample store's internal graph holds a person with name, e-mail and phone (`api.testing`). Each
test tries one route anonymously; a staff token finding the same data shows the test can see a leak.
Every test runs against a live server over each store backend (embedded, and a RemoteStore on Virtuoso).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from api.app import create_app
from api.testing import (
    INTERNAL_GRAPH,
    PERSON,
    PERSON_EMAIL,
    PERSON_NAME,
    PERSON_PHONE,
    PUBLIC_GRAPH,
    READER,
    SECRETS,
    LiveServer,
    fill,
    make_settings,
)

FOAF_NAME = "http://xmlns.com/foaf/0.1/name"
META = "urn:querschnitt:meta"


@pytest.fixture(scope="module")
def live(backend) -> Iterator[LiveServer]:
    """A live server over the sample data on each backend, shared by the module's read-only tests."""
    with LiveServer(create_app(make_settings(), store=backend.shared("sample", fill))) as server:
        server.backend = backend
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client for the shared live server; the sample data is (re)written first if anything wrote since."""
    assert live.backend.shared("sample", fill) is live.app.state.store
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def values(response: httpx.Response) -> set[str]:
    """Every term value in a SPARQL JSON result."""
    assert response.status_code == 200, response.text
    return {v["value"] for b in response.json()["results"]["bindings"] for v in b.values()}


def ask(http: httpx.Client, query: str, **kwargs) -> bool:
    response = http.get("/sparql", params={"query": query, **kwargs.pop("params", {})}, **kwargs)
    return bool(parse_query_results(response.content, QueryResultsFormat.JSON))


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_default_graph_holds_no_person(http):
    assert not values(http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})) & {PERSON, PERSON_NAME}


def test_staff_token_does_see_the_person(http):
    response = http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers=READER)
    assert {PERSON, PERSON_NAME, PERSON_EMAIL, PERSON_PHONE} <= values(response)


def test_graph_variable_never_binds_the_internal_graph(http):
    found = values(http.get("/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"}))
    assert INTERNAL_GRAPH not in found
    assert PUBLIC_GRAPH in found


def test_graph_with_the_internal_iri_is_empty(http):
    assert not ask(http, f"ASK {{ GRAPH <{INTERNAL_GRAPH}> {{ ?s ?p ?o }} }}")


def test_from_the_internal_graph_is_empty(http):
    assert not ask(http, f"ASK FROM <{INTERNAL_GRAPH}> {{ ?s ?p ?o }}")


def test_from_named_the_internal_graph_is_empty(http):
    assert not ask(http, f"ASK FROM NAMED <{INTERNAL_GRAPH}> {{ GRAPH ?g {{ ?s ?p ?o }} }}")


def test_default_graph_uri_of_the_internal_graph_is_empty(http):
    assert not ask(http, "ASK { ?s ?p ?o }", params={"default-graph-uri": INTERNAL_GRAPH})


def test_named_graph_uri_of_the_internal_graph_is_empty(http):
    assert not ask(http, "ASK { GRAPH ?g { ?s ?p ?o } }", params={"named-graph-uri": INTERNAL_GRAPH})


def test_metadata_graph_is_not_queryable(http):
    assert not ask(http, f"ASK {{ GRAPH <{META}> {{ ?s ?p ?o }} }}")
    assert not ask(http, f"ASK FROM <{META}> {{ ?s ?p ?o }}")


def test_describe_of_the_person_is_empty(http):
    response = http.get(
        "/sparql", params={"query": f"DESCRIBE <{PERSON}>"}, headers={"Accept": "application/n-triples"}
    )
    assert list(parse(response.content, RdfFormat.N_TRIPLES)) == []


def test_search_by_name_finds_nothing(http):
    assert not ask(http, f'ASK {{ ?s <{FOAF_NAME}> "{PERSON_NAME}" }}')


def test_counting_reveals_only_public_triples(http):
    (row,) = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}).json()["results"]["bindings"]
    assert int(row["n"]["value"]) == 10


def test_gsp_get_of_the_internal_graph_is_404_like_an_unknown_graph(http):
    internal = http.get("/graphs", params={"graph": INTERNAL_GRAPH})
    unknown = http.get("/graphs", params={"graph": INTERNAL_GRAPH + "-does-not-exist"})
    assert internal.status_code == unknown.status_code == 404
    assert internal.text.replace(INTERNAL_GRAPH, "G") == unknown.text.replace(INTERNAL_GRAPH + "-does-not-exist", "G")


def test_gsp_get_of_the_metadata_graph_is_404(http):
    assert http.get("/graphs", params={"graph": META}).status_code == 404


def test_staff_gsp_get_of_the_internal_graph_works(http):
    response = http.get(
        "/graphs", params={"graph": INTERNAL_GRAPH}, headers={"Accept": "application/n-triples", **READER}
    )
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 5


def test_service_description_and_void_do_not_name_the_internal_graph(http):
    for path in ("/sparql", "/.well-known/void", "/api/graphs"):
        assert INTERNAL_GRAPH not in http.get(path).text, path


# Every public route, and the query routes with queries aimed at the person in every format.
QUERIES = [
    "SELECT * { ?s ?p ?o }",
    "SELECT * { GRAPH ?g { ?s ?p ?o } }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    f"DESCRIBE <{PERSON}>",
    f"SELECT * FROM <{INTERNAL_GRAPH}> {{ ?s ?p ?o }}",
    f"SELECT * FROM NAMED <{INTERNAL_GRAPH}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    f"SELECT * {{ GRAPH <{META}> {{ ?s ?p ?o }} }}",
    "SELECT ?o { ?s <http://xmlns.com/foaf/0.1/mbox> ?o }",
]
FORMATS = ["json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld", "nquads", "trig"]


@pytest.mark.parametrize("query", QUERIES)
def test_no_query_in_any_format_returns_personal_data(http, query):
    for fmt in FORMATS:
        response = http.get("/sparql", params={"query": query, "format": fmt})
        assert response.status_code in (200, 406), response.text
        assert not leaks(response.text), (fmt, response.text)


def test_no_public_get_route_returns_personal_data(live, http):
    paths = {route.path for route in live.app.routes if "GET" in getattr(route, "methods", set())}
    paths -= {"/graphs"}  # needs ?graph or ?default: tried below
    urls = sorted(paths - {"/static"}) + ["/graphs?default", f"/graphs?graph={INTERNAL_GRAPH}", "/sparql?format=turtle"]
    for url in urls:
        response = http.get(url, headers={"Accept": "text/html,*/*;q=0.5"})
        assert not leaks(response.text), (url, leaks(response.text))
