"""The vocabulary online (issue 18 item 8): `/def` and `/derived` by content negotiation, a page per term,
and every derived `qsd:` term that the data holds declared, marked as derived and explained."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from html_tree import parse as parse_html
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from api import vocabulary
from api.app import create_app
from api.demo import load_demo
from api.derived import DERIVED_NS
from api.store import EmbeddedStore, open_store
from api.testing import READER, make_settings
from loaders.resources import ONTOLOGY_DIR

ROOT = Path(__file__).resolve().parents[1]
PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
DERIVED_ONTOLOGY = URIRef("https://w3id.org/querschnitt/derived")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
# media type → rdflib parser name
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
FILES = {"/def": ONTOLOGY_DIR / "querschnitt.ttl", "/derived": ONTOLOGY_DIR / "derived.ttl"}


@pytest.fixture(scope="module")
def demo() -> EmbeddedStore:
    store = open_store("memory")  # with the derived graphs, as a server keeps them
    load_demo(store, make_settings())
    return store


@pytest.fixture(scope="module")
def client(demo) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=demo)) as test_client:
        yield test_client


@cache
def derived_terms() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "derived.ttl", format="turtle")


def qsd_predicates(store: EmbeddedStore, *, staff: bool) -> set[str]:
    rows = store.query(
        f'SELECT DISTINCT ?p WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?p), "{DERIVED_NS}")) }}',
        include_internal=staff,
    )
    return {row["p"].value for row in rows}


# -- the derived terms are declared ------------------------------------------------------------------


def test_the_public_data_holds_derived_predicates_at_all(demo):
    assert len(qsd_predicates(demo, staff=False)) >= 5


@pytest.mark.parametrize("staff", [False, True], ids=["public", "staff"])
def test_every_derived_predicate_in_the_demo_data_is_declared_and_marked_derived(demo, staff):
    g = derived_terms()
    for predicate in sorted(qsd_predicates(demo, staff=staff)):
        term = URIRef(predicate)
        assert (term, RDFS.isDefinedBy, DERIVED_ONTOLOGY) in g, predicate
        assert {OWL.ObjectProperty, OWL.DatatypeProperty} & set(g.objects(term, RDF.type)), predicate
        assert list(g.objects(term, PROV_DERIVED)), f"{predicate} does not say what it is derived from"


def test_every_vocabulary_iri_in_the_demo_data_has_a_term_page(demo, client):
    """Wherever a qs: or qsd: IRI occurs (predicate, class, value), a researcher can look it up."""
    namespaces = [v.namespace for v in vocabulary.VOCABULARIES]
    found = set()
    for pattern in ("?x ?p ?o", "?s ?x ?o", "?s ?p ?x"):
        for row in demo.query(f"SELECT DISTINCT ?x WHERE {{ GRAPH ?g {{ {pattern} }} }}", include_internal=True):
            value = getattr(row["x"], "value", "")
            if value.startswith(tuple(namespaces)):
                found.add(value)
    assert len(found) > 10
    for iri in sorted(found):
        owner = next(v for v in vocabulary.VOCABULARIES if iri.startswith(v.namespace))
        path = f"{owner.path}/{iri.removeprefix(owner.namespace)}"
        assert client.get(path, headers={"Accept": BROWSER}).status_code == 200, iri


@pytest.mark.parametrize("prop", [RDFS.label, RDFS.comment, SKOS.definition], ids=["label", "comment", "definition"])
def test_every_derived_term_speaks_german_and_english(prop):
    g = derived_terms()
    for term in set(g.subjects(RDFS.isDefinedBy, DERIVED_ONTOLOGY)):
        languages = {o.language for o in g.objects(term, prop) if isinstance(o, Literal)}
        assert {"de", "en"} <= languages, (term, prop)


def test_every_derived_term_is_explained_in_the_model_document():
    model = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for term in set(derived_terms().subjects(RDFS.isDefinedBy, DERIVED_ONTOLOGY)):
        assert f"`qsd:{term.removeprefix(DERIVED_NS)}`" in model, term


def test_the_derived_terms_name_only_terms_that_are_declared_somewhere():
    """What a derived term is derived from is a standard term or one of ours that exists."""
    ours = Graph().parse(ONTOLOGY_DIR / "querschnitt.ttl") + derived_terms()
    for source in derived_terms().objects(None, PROV_DERIVED):
        if str(source).startswith(("https://w3id.org/querschnitt/def#", DERIVED_NS)):
            assert (source, None, None) in ours, source


# -- content negotiation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES)
@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_the_vocabulary_is_served_in_every_rdf_format_with_the_same_triples(client, path, media_type):
    response = client.get(path, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    served = Graph().parse(data=response.content, format=RDF_TYPES[media_type])
    assert isomorphic(served, Graph().parse(FILES[path], format="turtle"))


@pytest.mark.parametrize(
    ("accept", "expected"), [(BROWSER, "text/html"), ("*/*", "text/turtle"), (None, "text/turtle")]
)
def test_browsers_get_the_page_and_everyone_else_turtle(client, accept, expected):
    headers = {"Accept": accept} if accept else {}
    assert client.get("/def", headers=headers).headers["content-type"].split(";")[0] == expected


def test_json_ld_of_the_vocabulary_is_compact_with_the_projects_context(client):
    document = client.get("/def", headers={"Accept": "application/ld+json"}).json()
    assert document["@context"] == json.loads((ONTOLOGY_DIR / "context.jsonld").read_text())["@context"]
    ids = {node["id"] for node in document["@graph"]}
    assert "qs:Project" in ids


def test_a_client_holding_the_current_version_gets_304(client):
    etag = client.get("/derived", headers={"Accept": "text/turtle"}).headers["etag"]
    again = client.get("/derived", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")


def test_an_unsupported_type_is_406(client):
    assert client.get("/def", headers={"Accept": "image/png"}).status_code == 406


def test_the_context_is_served_beside_the_vocabulary(client):
    response = client.get("/def/context.jsonld")
    assert response.headers["content-type"] == "application/ld+json"
    assert response.json() == json.loads((ONTOLOGY_DIR / "context.jsonld").read_text())


# -- a page per term --------------------------------------------------------------------------------------


def term_paths() -> list[str]:
    return [f"{v.path}/{name}" for v in vocabulary.VOCABULARIES for name in vocabulary.terms(v)]


def test_every_class_and_property_of_the_files_has_a_term():
    g = Graph().parse(FILES["/def"]) + derived_terms()
    declared = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty))
    declared |= set(g.subjects(RDF.type, OWL.DatatypeProperty))
    served = {f"{v.namespace}{name}" for v in vocabulary.VOCABULARIES for name in vocabulary.terms(v)}
    assert {str(t) for t in declared} <= served


@pytest.mark.parametrize("path", FILES)
def test_the_index_page_anchors_every_term_so_that_hash_iris_land_on_it(client, path):
    page = parse_html(client.get(path, headers={"Accept": BROWSER}).text)
    anchors = {node.attrs.get("id") for node in page.find_all("div") if node.attrs.get("id")}
    owner = next(v for v in vocabulary.VOCABULARIES if v.path == path)
    assert set(vocabulary.terms(owner)) <= anchors


@pytest.mark.parametrize("path", term_paths())
def test_every_term_page_has_both_languages_and_links_that_resolve(client, path):
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    page = parse_html(response.text)
    langs = {node.attrs.get("lang") for node in page.find_all("dd")}
    assert {"de", "en"} <= langs
    for href in {a.attrs["href"] for a in page.find_all("a") if a.attrs.get("href")}:
        if re.match(r"^/(def|derived)(/|$|#)", href):
            target = href.split("#")[0]
            assert client.get(target, headers={"Accept": BROWSER}).status_code == 200, href


def test_a_derived_property_page_shows_its_definition_domain_range_and_sources(client):
    page = parse_html(client.get("/derived/worksOnTarget", headers={"Accept": BROWSER}).text)
    hrefs = {a.attrs.get("href") for a in page.find_all("a")}
    assert {"/derived/member", "/derived/target"} <= hrefs  # derived from
    assert {"http://www.w3.org/ns/org#OrganizationalUnit", "http://metadata.un.org/sdg/ontology#Target"} <= hrefs
    # Examples from the data: departments, linked to their pages.
    assert any(h and h.startswith("/page/department/") for h in hrefs)


def test_a_class_page_links_its_superclass_and_the_properties_that_use_it(client):
    page = parse_html(client.get("/def/Project", headers={"Accept": BROWSER}).text)
    hrefs = {a.attrs.get("href") for a in page.find_all("a")}
    assert "http://www.w3.org/ns/prov#Activity" in hrefs
    assert {"/def/status", "/def/implements", "/derived/member"} <= hrefs  # domain of


@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_a_term_in_rdf_is_its_own_description(client, media_type):
    response = client.get("/derived/worksOnTarget", headers={"Accept": media_type})
    served = Graph().parse(data=response.content, format=RDF_TYPES[media_type])
    term = URIRef(DERIVED_NS + "worksOnTarget")
    assert isomorphic(served, derived_terms().cbd(term))


@pytest.mark.parametrize("accept", [BROWSER, "text/turtle", "*/*"])
@pytest.mark.parametrize("path", ["/def/NoSuchTerm", "/derived/nothing", "/def/project"])
def test_an_unknown_term_is_404(client, path, accept):
    assert client.get(path, headers={"Accept": accept}).status_code == 404


def test_staff_see_examples_from_internal_data_that_the_public_does_not(client):
    public = client.get("/derived/staffLabel", headers={"Accept": BROWSER}).text
    staff = client.get("/derived/staffLabel", headers={"Accept": BROWSER, **READER}).text
    assert "/page/" not in public.split('id="used-heading"')[1]
    assert "/page/" in staff.split('id="used-heading"')[1]


def test_the_vocabulary_pages_send_the_uis_content_security_policy(client):
    for path in ("/def", "/def/Project"):
        assert "script-src 'self'" in client.get(path, headers={"Accept": BROWSER}).headers["content-security-policy"]
