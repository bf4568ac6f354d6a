"""The SPARQL 1.1 Protocol, Graph Store Protocol and Service Description, tried with real clients.

The `test_w3c_*` tests follow the rows of the W3C SPARQL 1.1 Protocol test list (manifest names in
the test names), adapted to this store's graphs; `CLEAR ALL` is refused here (it would wipe the
metadata graph), so the update rows clear named graphs instead.
"""

from __future__ import annotations

import io
import json
from xml.dom.minidom import Document

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results
from rdflib import Graph
from rdflib import URIRef as RdfUri
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from api.app import create_app
from api.store import EmbeddedStore, open_store
from api.testing import (
    ADMIN_TOKEN,
    DATASET,
    DEPARTMENT,
    EDITOR,
    PROJECT,
    PROJECTS_GRAPH,
    PUBLIC_GRAPH,
    READER,
    fill,
    make_settings,
)

RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
ASK_DEPARTMENT = f"ASK {{ <{DEPARTMENT}> ?p ?o }}"
ASK_PROJECT = f"ASK {{ <{PROJECT}> ?p ?o }}"


def boolean(response: httpx.Response) -> bool:
    """The boolean of an ASK response in SPARQL JSON or XML (parsed, never string-matched)."""
    fmt = QueryResultsFormat.JSON if "json" in response.headers["content-type"] else QueryResultsFormat.XML
    return bool(parse_query_results(response.content, fmt))


def rows(response: httpx.Response) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


@pytest.fixture
def writable(serve):
    """A live server over a fresh copy of the sample data, for tests that write."""
    return serve(create_app(make_settings(), store=fill(EmbeddedStore(None))))


# -- W3C SPARQL 1.1 Protocol rows: queries --------------------------------------------------------


def test_w3c_query_get_answers_ask(http):
    response = http.get("/sparql", params={"query": "ASK {}"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in RESULT_TYPES
    assert boolean(response) is True


def test_w3c_query_post_form_answers_ask(http):
    response = http.post("/sparql", data={"query": "ASK {}"})
    assert response.headers["content-type"].split(";")[0] in RESULT_TYPES
    assert boolean(response) is True


def test_w3c_query_post_direct_answers_ask(http):
    response = http.post("/sparql", content="ASK {}", headers={"Content-Type": "application/sparql-query"})
    assert boolean(response) is True


def test_w3c_query_dataset_default_graph_narrows_the_default_graph(http):
    direct = {"Content-Type": "application/sparql-query"}
    inside = http.post(f"/sparql?default-graph-uri={PUBLIC_GRAPH}", content=ASK_DEPARTMENT, headers=direct)
    outside = http.post(f"/sparql?default-graph-uri={PROJECTS_GRAPH}", content=ASK_DEPARTMENT, headers=direct)
    assert (boolean(inside), boolean(outside)) == (True, False)


def test_w3c_query_dataset_default_graphs_get_merges_both_graphs(http):
    query = f"ASK {{ <{DATASET}> a ?t . <{PROJECT}> a ?u }}"
    params = [("query", query), ("default-graph-uri", PUBLIC_GRAPH), ("default-graph-uri", PROJECTS_GRAPH)]
    assert boolean(http.get("/sparql", params=params)) is True


def test_w3c_query_dataset_default_graphs_post_merges_both_graphs(http):
    query = f"ASK {{ <{DATASET}> a ?t . <{PROJECT}> a ?u }}"
    data = {"query": query, "default-graph-uri": [PUBLIC_GRAPH, PROJECTS_GRAPH]}
    assert boolean(http.post("/sparql", data=data)) is True


def test_w3c_query_dataset_named_graphs_post_offers_the_named_graphs(http):
    url = f"/sparql?named-graph-uri={PUBLIC_GRAPH}&named-graph-uri={PROJECTS_GRAPH}"
    query = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"
    response = http.post(url, content=query, headers={"Content-Type": "application/sparql-query"})
    assert {row["g"] for row in rows(response)} == {PUBLIC_GRAPH, PROJECTS_GRAPH}


def test_w3c_query_dataset_named_graphs_get_offers_the_named_graphs(http):
    query = f"ASK {{ GRAPH ?g1 {{ <{DATASET}> a ?t }} GRAPH ?g2 {{ <{PROJECT}> a ?u }} }}"
    params = [("query", query), ("named-graph-uri", PUBLIC_GRAPH), ("named-graph-uri", PROJECTS_GRAPH)]
    assert boolean(http.get("/sparql", params=params)) is True


def test_w3c_query_dataset_full_separates_default_and_named_graphs(http):
    query = "SELECT DISTINCT ?g ?x { ?x a ?t GRAPH ?g { ?s ?p ?o } }"
    url = f"/sparql?default-graph-uri={PROJECTS_GRAPH}&named-graph-uri={PUBLIC_GRAPH}"
    response = http.post(url, content=query, headers={"Content-Type": "application/sparql-query"})
    assert {(row["g"], row["x"]) for row in rows(response)} == {(PUBLIC_GRAPH, PROJECT)}


def test_w3c_query_multiple_dataset_lets_the_protocol_win_over_from(http):
    query = f"ASK FROM <{PUBLIC_GRAPH}> {{ <{PROJECT}> ?p ?o }}"
    response = http.post(
        f"/sparql?default-graph-uri={PROJECTS_GRAPH}",
        content=query,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert boolean(response) is True


def test_from_clause_narrows_the_default_graph_without_protocol_parameters(http):
    query = f"ASK FROM <{PROJECTS_GRAPH}> {{ <{DEPARTMENT}> a ?t }}"
    assert boolean(http.get("/sparql", params={"query": query})) is False


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("SELECT (1 AS ?value) {}", RESULT_TYPES + ("text/tab-separated-values", "text/csv")),
        ("ASK {}", RESULT_TYPES),
        ("DESCRIBE <http://example.org/>", ("application/rdf+xml", "text/turtle")),
        (
            "CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } WHERE {}",
            ("application/rdf+xml", "text/turtle"),
        ),
    ],
    ids=["select", "ask", "describe", "construct"],
)
def test_w3c_query_content_type_fits_the_query_form(http, query, allowed):
    response = http.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.headers["content-type"].split(";")[0] in allowed


def test_w3c_bad_query_method_is_405(http):
    response = http.put("/sparql", params={"query": "ASK {}"})
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


def test_w3c_bad_multiple_queries_is_400(http):
    assert http.get("/sparql", params=[("query", "ASK {}"), ("query", "SELECT * {}")]).status_code == 400


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"ASK {}", {"Content-Type": "text/plain"}),
        (b"query=ASK%20%7B%7D", {}),
        (b"ASK {}", {}),
        ("ASK {}".encode("utf-16"), {"Content-Type": "application/sparql-query; charset=UTF-16"}),
    ],
    ids=["wrong-media-type", "missing-form-type", "missing-direct-type", "non-utf8"],
)
def test_w3c_bad_query_post_is_415(http, content, headers):
    assert http.post("/sparql", content=content, headers=headers).status_code == 415


def test_w3c_bad_query_syntax_is_400_with_line_and_column(http):
    response = http.get("/sparql", params={"query": "ASK {"})
    assert response.status_code == 400
    assert "1:6" in response.text


# -- W3C SPARQL 1.1 Protocol rows: updates --------------------------------------------------------


def test_w3c_bad_update_get_is_400(http):
    assert http.get("/sparql", params={"update": f"CLEAR GRAPH <{PUBLIC_GRAPH}>"}).status_code == 400


def test_w3c_bad_multiple_updates_is_400(http):
    body = "update=CLEAR%20DEFAULT&update=CLEAR%20DEFAULT"
    headers = {"Content-Type": "application/x-www-form-urlencoded", **EDITOR}
    assert http.post("/sparql", content=body, headers=headers).status_code == 400


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"CLEAR DEFAULT", {"Content-Type": "text/plain"}),
        (b"update=CLEAR%20DEFAULT", {}),
        ("CLEAR DEFAULT".encode("utf-16"), {"Content-Type": "application/sparql-update; charset=UTF-16"}),
    ],
    ids=["wrong-media-type", "missing-form-type", "non-utf8"],
)
def test_w3c_bad_update_post_is_415(http, content, headers):
    assert http.post("/sparql", content=content, headers={**headers, **EDITOR}).status_code == 415


def test_w3c_bad_update_syntax_is_400(http):
    assert http.post("/sparql", data={"update": "CLEAR XYZ"}, headers=EDITOR).status_code == 400


def test_w3c_bad_update_dataset_conflict_is_400(http):
    update = (
        "WITH <http://example/addresses> DELETE { ?p <http://xmlns.com/foaf/0.1/givenName> 'Bill' } WHERE { ?p ?q ?o }"
    )
    data = {"update": update, "using-named-graph-uri": "http://example/people"}
    assert http.post("/sparql", data=data, headers=EDITOR).status_code == 400


def test_w3c_update_post_form_runs_with_an_editor_token(writable):
    response = httpx.post(writable.sparql, data={"update": f"CLEAR GRAPH <{PROJECTS_GRAPH}>"}, headers=EDITOR)
    assert response.status_code == 204
    assert boolean(httpx.get(writable.sparql, params={"query": ASK_PROJECT})) is False


def test_w3c_update_post_direct_runs_with_an_editor_token(writable):
    headers = {"Content-Type": "application/sparql-update", **EDITOR}
    assert httpx.post(writable.sparql, content=f"DROP GRAPH <{PROJECTS_GRAPH}>", headers=headers).status_code == 204
    assert boolean(httpx.get(writable.sparql, params={"query": ASK_PROJECT})) is False


def test_w3c_update_base_uri_resolves_against_the_endpoint(writable):
    graph = "http://example.org/protocol-base-test/"
    update = f"CLEAR SILENT GRAPH <{graph}> ; INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> <http://example.org/p> <test> }} }}"
    assert httpx.post(writable.sparql, data={"update": update}, headers=EDITOR).status_code == 204
    query = f"SELECT ?o {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    (row,) = rows(httpx.get(writable.sparql, params={"query": query}, headers=READER))
    assert row["o"] == make_settings().public_url + "/test"


def test_w3c_update_dataset_default_graph_reads_only_using_graph(writable):
    target = "http://example.org/protocol-update-dataset-test/"
    update = f"INSERT {{ GRAPH <{target}> {{ ?s a <http://purl.org/dc/terms/BibliographicResource> }} }} WHERE {{ ?s a ?type }}"
    response = httpx.post(writable.sparql, data={"update": update, "using-graph-uri": PROJECTS_GRAPH}, headers=EDITOR)
    assert response.status_code == 204
    found = rows(
        httpx.get(writable.sparql, params={"query": f"SELECT ?s {{ GRAPH <{target}> {{ ?s a ?t }} }}"}, headers=READER)
    )
    assert [row["s"] for row in found] == [PROJECT]


def test_w3c_update_dataset_named_graphs_offers_using_named_graphs(writable):
    target = "http://example.org/protocol-update-dataset-named-graphs-test/"
    update = f"INSERT {{ GRAPH <{target}> {{ ?s <http://example.org/in> ?g }} }} WHERE {{ GRAPH ?g {{ ?s a ?t }} }}"
    data = {"update": update, "using-named-graph-uri": PUBLIC_GRAPH}
    assert httpx.post(writable.sparql, data=data, headers=EDITOR).status_code == 204
    found = rows(
        httpx.get(
            writable.sparql,
            params={"query": f"SELECT DISTINCT ?g {{ GRAPH <{target}> {{ ?s ?p ?g }} }}"},
            headers=READER,
        )
    )
    assert [row["g"] for row in found] == [PUBLIC_GRAPH]


def test_update_without_a_token_is_401(http):
    response = http.post("/sparql", data={"update": f"CLEAR GRAPH <{PUBLIC_GRAPH}>"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_update_with_a_reader_token_is_403(http):
    assert http.post("/sparql", data={"update": f"CLEAR GRAPH <{PUBLIC_GRAPH}>"}, headers=READER).status_code == 403


def test_query_request_never_runs_an_update(http):
    response = http.get("/sparql", params={"query": f"CLEAR GRAPH <{PUBLIC_GRAPH}>"}, headers=EDITOR)
    assert response.status_code == 400
    assert boolean(http.get("/sparql", params={"query": ASK_DEPARTMENT})) is True


def test_unknown_token_is_401_even_for_queries(http):
    assert http.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_clear_all_is_refused_because_it_would_wipe_the_metadata(http):
    response = http.post("/sparql", data={"update": "CLEAR ALL"}, headers=EDITOR)
    assert response.status_code == 400
    assert "metadata" in response.text


def test_update_into_a_new_graph_keeps_that_graph_internal(writable):
    update = 'INSERT DATA { GRAPH <http://example.org/new> { <http://example.org/s> <http://example.org/p> "x" } }'
    assert httpx.post(writable.sparql, data={"update": update}, headers=EDITOR).status_code == 204
    query = "ASK { <http://example.org/s> ?p ?o }"
    assert boolean(httpx.get(writable.sparql, params={"query": query})) is False
    assert boolean(httpx.get(writable.sparql, params={"query": query}, headers=READER)) is True


def test_update_may_not_write_the_metadata_graph(http):
    update = "INSERT DATA { GRAPH <urn:querschnitt:meta> { <http://x> <http://y> <http://z> } }"
    assert http.post("/sparql", data={"update": update}, headers=EDITOR).status_code == 403


# -- content negotiation --------------------------------------------------------------------------

SELECT_ALL = f"SELECT ?p ?o {{ <{DEPARTMENT}> ?p ?o }}"
CONSTRUCT_ALL = f"CONSTRUCT {{ <{DEPARTMENT}> ?p ?o }} WHERE {{ <{DEPARTMENT}> ?p ?o }}"


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/sparql-results+json", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", QueryResultsFormat.XML),
        ("text/tab-separated-values", QueryResultsFormat.TSV),
    ],
)
def test_select_answers_in_every_parseable_results_format(http, accept, fmt):
    response = http.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    assert len(list(parse_query_results(response.content, fmt))) == 2


def test_select_answers_in_csv(http):
    response = http.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.splitlines()[0] == "p,o"


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
    ],
)
def test_construct_answers_in_every_rdf_format(http, accept, fmt):
    response = http.get("/sparql", params={"query": CONSTRUCT_ALL}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    assert len(list(parse(response.content, fmt))) == 2


def test_accept_q_values_choose_the_preferred_format(http):
    accept = "application/sparql-results+json;q=0.2, text/csv;q=0.5, application/sparql-results+xml"
    response = http.get("/sparql", params={"query": SELECT_ALL}, headers={"Accept": accept})
    assert response.headers["content-type"] == "application/sparql-results+xml"


def test_format_parameter_wins_over_accept(http):
    response = http.get("/sparql", params={"query": SELECT_ALL, "format": "tsv"}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/tab-separated-values")


def test_unacceptable_accept_is_406_listing_the_offered_types(http):
    response = http.get(
        "/sparql", params={"query": CONSTRUCT_ALL}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_head_answers_headers_without_a_body(http):
    response = http.head("/sparql", params={"query": SELECT_ALL})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert response.content == b""


# -- real clients ---------------------------------------------------------------------------------


def wrapper(live, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(live.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_reads_json(live):
    result = wrapper(live, SELECT_ALL, JSON).query().convert()
    assert {b["p"]["value"] for b in result["results"]["bindings"]} == {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "http://xmlns.com/foaf/0.1/name",
    }


def test_sparqlwrapper_reads_xml(live):
    document = wrapper(live, SELECT_ALL, XML).query().convert()
    assert isinstance(document, Document)
    assert len(document.getElementsByTagName("result")) == 2


def test_sparqlwrapper_reads_csv(live):
    text = wrapper(live, SELECT_ALL, CSV).query().convert().decode()
    assert len(text.strip().splitlines()) == 3


def test_sparqlwrapper_reads_construct_as_turtle_for_rdflib(live):
    # SPARQLWrapper hands Turtle over as bytes; rdflib parses it.
    graph = Graph().parse(data=wrapper(live, CONSTRUCT_ALL, TURTLE).query().convert(), format="turtle")
    assert len(graph) == 2


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")  # inside SPARQLWrapper 2.0
def test_sparqlwrapper_reads_construct_as_rdfxml_into_an_rdflib_graph(live):
    graph = wrapper(live, CONSTRUCT_ALL, XML).query().convert()
    assert isinstance(graph, Graph)
    assert len(graph) == 2
    assert (RdfUri(DEPARTMENT), None, None) in graph


def test_rdflib_sparqlstore_queries_the_endpoint(live):
    graph = Graph(store=SPARQLStore(query_endpoint=live.sparql, returnFormat="json"))
    result = graph.query(f"SELECT ?title {{ <{DATASET}> <http://purl.org/dc/terms/title> ?title }}")
    assert [str(row.title) for row in result] == ["Radverkehrszählung"]


def test_rdflib_sparqlstore_lists_triples(live):
    graph = Graph(store=SPARQLStore(query_endpoint=live.sparql))
    assert len(list(graph.triples((RdfUri(PROJECT), None, None)))) == 4


# -- service description, VoID, YASGUI ------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"


def triples_of(response: httpx.Response, fmt: RdfFormat = RdfFormat.TURTLE) -> set[tuple[str, str, str]]:
    return {(t.subject.value, t.predicate.value, t.object.value) for t in parse(response.content, fmt)}


def test_bare_get_returns_the_service_description_in_turtle(http):
    response = http.get("/sparql")
    assert response.headers["content-type"].startswith("text/turtle")
    endpoint = make_settings().public_url + "/sparql"
    assert (endpoint + "#service", SD + "endpoint", endpoint) in triples_of(response)


def test_service_description_links_the_void_description(http):
    triples = triples_of(http.get("/sparql", headers={"Accept": "application/n-triples"}), RdfFormat.N_TRIPLES)
    void = make_settings().public_url + "/.well-known/void"
    assert any(p == "http://www.w3.org/2000/01/rdf-schema#seeAlso" and o == void for _, p, o in triples)


def test_service_description_lists_the_public_graphs(http):
    names = {o for _, p, o in triples_of(http.get("/sparql")) if p == SD + "name"}
    assert names == {PUBLIC_GRAPH, PROJECTS_GRAPH}


def test_browser_gets_the_yasgui_page_with_example_tabs(http):
    response = http.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.headers["content-type"].startswith("text/html")
    assert "/static/yasgui/yasgui.min.js" in response.text
    assert "SDG goals with their labels and colours" in response.text


def test_yasgui_is_served_from_the_app_itself(http):
    response = http.get("/static/yasgui/yasgui.min.js")
    assert response.status_code == 200
    assert len(response.content) > 100_000


def test_void_counts_the_public_graphs(http):
    triples = triples_of(http.get("/.well-known/void"))
    counts = {s: int(o) for s, p, o in triples if p == VOID + "triples" and s in (PUBLIC_GRAPH, PROJECTS_GRAPH)}
    assert counts == {PUBLIC_GRAPH: 6, PROJECTS_GRAPH: 4}


def test_void_describes_the_links_into_the_sdg_kos(http):
    triples = triples_of(http.get("/.well-known/void"))
    (linkset,) = [s for s, p, o in triples if o == VOID + "Linkset"]
    assert (linkset, VOID + "objectsTarget", "http://metadata.un.org/sdg") in triples
    assert (linkset, VOID + "triples", "2") in triples


# -- Graph Store Protocol -------------------------------------------------------------------------

NEW_GRAPH = "http://example.org/graphs/new"
TURTLE_BODY = b"<http://example.org/a> <http://example.org/b> 'c' , 'd' ."


def gsp(server, method: str, graph: str = NEW_GRAPH, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{server.url}/graphs", params={"graph": graph, **kwargs.pop("params", {})}, **kwargs)


def test_gsp_get_returns_a_public_graph(http):
    response = http.get("/graphs", params={"graph": PROJECTS_GRAPH}, headers={"Accept": "application/n-triples"})
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 4


def test_gsp_get_default_is_the_union_of_public_graphs(http):
    response = http.get("/graphs?default", headers={"Accept": "application/n-triples"})
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 10


def test_gsp_put_creates_then_replaces_a_graph(writable):
    turtle = {"Content-Type": "text/turtle", **EDITOR}
    assert gsp(writable, "PUT", content=TURTLE_BODY, headers=turtle).status_code == 201
    assert (
        gsp(writable, "PUT", content=b"<http://example.org/a> <http://example.org/b> 'e' .", headers=turtle).status_code
        == 204
    )
    response = gsp(writable, "GET", headers={"Accept": "application/n-triples", **READER})
    assert [t.object.value for t in parse(response.content, RdfFormat.N_TRIPLES)] == ["e"]


def test_gsp_put_makes_a_new_graph_internal_unless_asked(writable):
    gsp(writable, "PUT", content=TURTLE_BODY, headers={"Content-Type": "text/turtle", **EDITOR})
    assert gsp(writable, "GET").status_code == 404
    # Making the now internal graph public is an admin's decision.
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    gsp(
        writable,
        "PUT",
        content=TURTLE_BODY,
        params={"visibility": "public"},
        headers={"Content-Type": "text/turtle", **admin},
    )
    assert gsp(writable, "GET").status_code == 200


def test_gsp_post_merges_into_a_graph(writable):
    headers = {"Content-Type": "text/turtle", **EDITOR}
    gsp(writable, "PUT", content=TURTLE_BODY, headers=headers)
    assert (
        gsp(
            writable, "POST", content=b"<http://example.org/a> <http://example.org/b> 'z' .", headers=headers
        ).status_code
        == 204
    )
    response = gsp(writable, "GET", headers={"Accept": "application/n-triples", **READER})
    assert sorted(t.object.value for t in parse(response.content, RdfFormat.N_TRIPLES)) == ["c", "d", "z"]


def test_gsp_delete_removes_a_graph_then_answers_404(writable):
    gsp(writable, "PUT", content=TURTLE_BODY, headers={"Content-Type": "text/turtle", **EDITOR})
    assert gsp(writable, "DELETE", headers=EDITOR).status_code == 204
    assert gsp(writable, "DELETE", headers=EDITOR).status_code == 404


def test_gsp_put_with_bad_turtle_is_400_and_keeps_the_graph(writable):
    headers = {"Content-Type": "text/turtle", **EDITOR}
    response = gsp(writable, "PUT", graph=PROJECTS_GRAPH, content=b"<http://example.org/a> <b", headers=headers)
    assert response.status_code == 400
    assert boolean(httpx.get(writable.sparql, params={"query": ASK_PROJECT})) is True


def test_gsp_write_without_a_token_is_401(http):
    response = http.put(
        "/graphs", params={"graph": NEW_GRAPH}, content=TURTLE_BODY, headers={"Content-Type": "text/turtle"}
    )
    assert response.status_code == 401


def test_gsp_write_to_the_default_graph_is_405(http):
    response = http.put("/graphs?default", content=TURTLE_BODY, headers={"Content-Type": "text/turtle", **EDITOR})
    assert response.status_code == 405


def test_gsp_write_in_an_unknown_format_is_415(http):
    response = http.put(
        "/graphs", params={"graph": NEW_GRAPH}, content=b"a,b", headers={"Content-Type": "text/csv", **EDITOR}
    )
    assert response.status_code == 415


def test_gsp_without_graph_or_default_is_400(http):
    assert http.get("/graphs").status_code == 400


# -- the TestClient ladder -------------------------------------------------------------------------


def test_testclient_gets_json_results(client):
    response = client.get("/sparql", params={"query": SELECT_ALL})
    assert json.loads(response.content)["head"]["vars"] == ["p", "o"]


def test_body_larger_than_the_limit_is_413(serve):
    server = serve(create_app(make_settings(max_body_bytes=100), store=fill(EmbeddedStore(None))))
    query = "ASK {}" + " " * 200
    response = httpx.post(server.sparql, content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413


def test_csv_results_stream_as_text(client):
    response = client.get("/sparql", params={"query": SELECT_ALL, "format": "csv"})
    assert len(list(io.StringIO(response.text))) == 3


# -- valid update texts that do little (W3C syntax-update-38, -40), and failures that are not the client's


@pytest.fixture
def derived_client():
    """A client over the sample data with the derived graphs installed, as `querschnitt serve` has them."""
    store = fill(open_store("memory"))
    with TestClient(create_app(make_settings(), store=store)) as client:
        client.store = store
        yield client


def post_update(client, text: str):
    return client.post("/sparql", content=text, headers={"Content-Type": "application/sparql-update", **EDITOR})


def test_w3c_update_with_a_trailing_semicolon_into_the_default_graph_is_204(derived_client):
    assert post_update(derived_client, "INSERT DATA { <http://e/s> <http://e/p> 1 } ;").status_code == 204


@pytest.mark.parametrize("text", ["# only a comment", "PREFIX ex: <http://example.org/> # and nothing else", ""])
def test_w3c_update_of_only_a_prologue_or_comment_is_204(derived_client, text):
    assert post_update(derived_client, text).status_code == 204


def test_an_update_failing_on_the_server_is_a_500_not_the_clients_fault(derived_client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("IO error: the disk controller went away")

    monkeypatch.setattr(derived_client.store, "update_graphs", broken)
    response = post_update(derived_client, "INSERT DATA { GRAPH <http://e/g> { <http://e/s> <http://e/p> 1 } }")
    assert response.status_code == 500 and "changed nothing" in response.text
    assert "disk controller" not in response.text
