"""JSON-LD is compact with the project's context wherever it is served (issue 18 item 9).

Each surface is asked for JSON-LD and for Turtle; the JSON-LD must parse as JSON, embed the context of
ontology/context.jsonld, use its terms (no absolute IRI where the context has a prefix for it) and give
the same triples as the Turtle (isomorphic: blank nodes may be named differently).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.compare import isomorphic

from api import jsonld
from api.app import create_app
from api.demo import load_demo
from api.responses import TRUNCATED_HEADER
from api.store import EmbeddedStore, open_store
from api.testing import make_settings
from loaders.resources import ONTOLOGY_DIR

BASE = "https://musterstadt.example/id/"
CONSTRUCT_PROJECTS = "CONSTRUCT { ?p ?q ?o } WHERE { ?p a <https://w3id.org/querschnitt/def#Project> ; ?q ?o }"
CONTEXT = json.loads((ONTOLOGY_DIR / "context.jsonld").read_text(encoding="utf-8"))["@context"]
NAMESPACES = tuple(v for v in CONTEXT.values() if isinstance(v, str) and v.startswith("http") and v[-1] in "#/")


@pytest.fixture(scope="module")
def demo() -> EmbeddedStore:
    store = open_store("memory")
    load_demo(store, make_settings())
    return store


@pytest.fixture(scope="module")
def client(demo) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=demo)) as test_client:
        yield test_client


def keys(value) -> Iterator[str]:
    """Every key of every object in a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys(inner)


def assert_compact(body: bytes) -> dict:
    document = json.loads(body)
    assert document["@context"] == CONTEXT
    properties = set(keys(document["@graph"]))
    assert [k for k in properties if k.startswith(NAMESPACES)] == []
    assert "id" in properties and "@id" not in properties
    return document


def types(node: dict) -> list[str]:
    value = node.get("type", [])
    return value if isinstance(value, list) else [value]


def assert_same_triples(json_ld: bytes, turtle: bytes) -> None:
    served = Graph().parse(data=json_ld, format="json-ld")
    assert len(served) > 0
    assert isomorphic(served, Graph().parse(data=turtle, format="turtle"))


def both(client: TestClient, url: str, **params) -> tuple[bytes, bytes]:
    answers = []
    for media_type in ("application/ld+json", "text/turtle"):
        response = client.get(url, params=params, headers={"Accept": media_type})
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"].split(";")[0] == media_type
        answers.append(response.content)
    return answers[0], answers[1]


def test_the_catalog_is_compact_json_ld_with_the_same_triples_as_turtle(client):
    json_ld, turtle = both(client, "/catalog", full="1")
    document = assert_compact(json_ld)
    datasets = [n for n in document["@graph"] if "Dataset" in types(n)]
    assert datasets and all(isinstance(d["title"], dict) and "de" in d["title"] for d in datasets)
    assert_same_triples(json_ld, turtle)


def test_the_catalog_file_in_json_ld_is_compact_too(client):
    assert_compact(client.get("/catalog.jsonld", params={"page": "1"}).content)


@pytest.mark.parametrize("path", ["project/radverkehrskonzept", "dataset/radwegenetz", "department/tiefbauamt"])
def test_an_entity_description_is_compact_json_ld(client, path):
    json_ld, turtle = both(client, f"/id/{path}")
    document = assert_compact(json_ld)
    assert any(node["id"] == BASE + path for node in document["@graph"])
    assert_same_triples(json_ld, turtle)


def test_a_project_reads_with_the_contexts_terms(client):
    document = assert_compact(
        client.get("/id/project/radverkehrskonzept", headers={"Accept": "application/ld+json"}).content
    )
    (project,) = [n for n in document["@graph"] if n["id"] == BASE + "project/radverkehrskonzept"]
    assert project["type"] == "Project"
    assert "de" in project["title"]
    assert project["status"] in ("planned", "running", "completed")


def test_a_sparql_construct_answer_is_compact_json_ld(client):
    json_ld, turtle = both(client, "/sparql", query=CONSTRUCT_PROJECTS)
    assert_compact(json_ld)
    assert_same_triples(json_ld, turtle)


def test_a_sparql_describe_answer_is_compact_json_ld(client):
    json_ld, turtle = both(client, "/sparql", query=f"DESCRIBE <{BASE}dataset/radwegenetz>")
    assert_compact(json_ld)
    assert_same_triples(json_ld, turtle)


def test_a_construct_answer_is_compact_json_ld_on_each_backend(shared_demo):
    with TestClient(create_app(make_settings(), store=shared_demo)) as on_backend:
        json_ld, turtle = both(on_backend, "/sparql", query=CONSTRUCT_PROJECTS)
    assert_compact(json_ld)
    assert_same_triples(json_ld, turtle)


def test_a_truncated_construct_answer_is_still_one_compact_document(demo):
    with TestClient(create_app(make_settings(max_rows=7), store=demo)) as capped:
        response = capped.get(
            "/sparql", params={"query": CONSTRUCT_PROJECTS}, headers={"Accept": "application/ld+json"}
        )
    assert response.headers[TRUNCATED_HEADER] == "true"
    assert_compact(response.content)
    assert len(Graph().parse(data=response.content, format="json-ld")) == 7


def test_the_graph_store_answers_compact_json_ld(client, demo):
    graph = next(g.iri for g in demo.graphs(include_internal=False) if "sdg" not in g.iri)
    json_ld, turtle = both(client, "/graphs", graph=graph)
    assert_compact(json_ld)
    assert_same_triples(json_ld, turtle)


@pytest.mark.parametrize("path", ["/.well-known/void", "/sparql"], ids=["void", "service-description"])
def test_the_void_and_service_descriptions_are_compact_json_ld(client, path):
    json_ld, turtle = both(client, path)
    assert_compact(json_ld)
    assert_same_triples(json_ld, turtle)


def test_a_streamed_answer_split_into_batches_keeps_every_triple(demo):
    """Batches smaller than a subject's triples: its node objects repeat its id, and readers merge them."""
    triples = list(demo.query(CONSTRUCT_PROJECTS))
    out = io.BytesIO()
    jsonld.write_compact(triples, out, batch=5)
    document = assert_compact(out.getvalue())
    ids = [node["id"] for node in document["@graph"]]
    assert len(ids) > len(set(ids))  # split subjects, as the test intends
    expected = Graph().parse(data=b"".join(f"{t} .\n".encode() for t in triples), format="nt")
    assert isomorphic(Graph().parse(data=out.getvalue(), format="json-ld"), expected)


def test_an_empty_answer_is_an_empty_graph_with_the_context():
    out = io.BytesIO()
    jsonld.write_compact([], out)
    assert json.loads(out.getvalue()) == {"@context": CONTEXT, "@graph": []}
