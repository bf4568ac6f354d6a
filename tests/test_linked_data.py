"""Linked data: dereferenceable instance IRIs, content negotiation, the dump, conditional GET, no leaks."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from email.utils import format_datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from api.app import create_app
from api.demo import load_demo
from api.publishing import describe, router
from api.settings import Settings
from api.store import EmbeddedStore, Visibility, open_store
from api.testing import READER, make_settings

PUBLIC_URL = "https://daten.musterstadt.example/querschnitt"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
DATASET = "dataset/radwegenetz"
PROJECT = "project/radverkehrskonzept"
PERSON = "person/person-001"


def app_for(store: EmbeddedStore, settings: Settings) -> FastAPI:
    app = create_app(settings, store=store)
    if not any(getattr(route, "path", None) == "/catalog" for route in app.routes):
        app.include_router(router)
    return app


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings(public_url=PUBLIC_URL, catalog_page_size=10)


@pytest.fixture(scope="module")
def demo(settings: Settings) -> tuple[EmbeddedStore, dict]:
    store = open_store("memory")
    return store, load_demo(store, settings)


@pytest.fixture(scope="module")
def client(demo, settings: Settings) -> Iterator[TestClient]:
    with TestClient(app_for(demo[0], settings)) as test_client:
        yield test_client


@pytest.fixture
def fresh() -> Iterator[tuple[TestClient, EmbeddedStore, Settings]]:
    """A client over a store of its own, for tests that write."""
    settings = make_settings(public_url=PUBLIC_URL, catalog_page_size=10)
    store = open_store("memory")
    load_demo(store, settings)
    with TestClient(app_for(store, settings)) as test_client:
        yield test_client, store, settings


def graph_of(response) -> set:
    media = response.headers["content-type"].split(";")[0]
    fmt = RdfFormat.from_media_type(media)
    return {q.triple if isinstance(q, Quad) else q for q in parse(response.content, format=fmt)}


# --- content negotiation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [
        ("text/turtle", 200, "text/turtle"),
        ("application/n-triples", 200, "application/n-triples"),
        ("application/rdf+xml", 200, "application/rdf+xml"),
        ("application/ld+json", 200, "application/ld+json"),
        ("application/json", 200, "application/ld+json"),
        ("*/*", 200, "text/turtle"),
        (None, 200, "text/turtle"),
        ("text/turtle;q=0.5, application/ld+json", 200, "application/ld+json"),
        ("text/html", 303, None),
        (BROWSER, 303, None),
        ("text/turtle;q=0.5, text/html", 303, None),
        ("image/png", 406, None),
    ],
)
def test_content_negotiation_table_for_entities(client, accept, status, media_type):
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/id/{DATASET}", headers=headers, follow_redirects=False)
    assert response.status_code == status
    assert "Accept" in response.headers["vary"]
    if media_type:
        assert response.headers["content-type"].split(";")[0] == media_type
        assert NamedNode(f"{make_settings().base_iri}{DATASET}") in {t.subject for t in graph_of(response)}
    if status == 303:
        assert response.headers["location"] == f"{PUBLIC_URL}/page/{DATASET}"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("turtle", "text/turtle"), ("jsonld", "application/ld+json"), ("rdfxml", "application/rdf+xml")],
)
def test_the_format_parameter_wins_over_a_browsers_accept(client, name, media_type):
    response = client.get(f"/id/{DATASET}?format={name}", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)


def test_the_description_is_the_concise_bounded_description_with_hash_iris(client, demo, settings):
    triples = graph_of(client.get(f"/id/{PROJECT}", headers={"Accept": "application/n-triples"}))
    iri = NamedNode(settings.base_iri + PROJECT)
    assert set(demo[0].query(f"CONSTRUCT {{ {iri} ?p ?o }} WHERE {{ {iri} ?p ?o }}")) <= triples
    subjects = {t.subject for t in triples}
    assert NamedNode(f"{iri.value}#lead") in subjects
    assert all(s == iri or s.value.startswith(f"{iri.value}#") for s in subjects)


def test_blank_nodes_are_followed_into_the_description(fresh):
    client, store, settings = fresh
    store.update(
        f"INSERT DATA {{ GRAPH <{settings.graph_iri('demo')}> {{ <{settings.base_iri}{DATASET}> "
        '<http://purl.org/dc/terms/temporal> [ <http://www.w3.org/ns/dcat#startDate> "2020-01-01" ] } }'
    )
    triples = graph_of(client.get(f"/id/{DATASET}", headers={"Accept": "text/turtle"}))
    assert any(t.predicate.value == "http://www.w3.org/ns/dcat#startDate" for t in triples)


def test_link_header_names_the_page_every_format_and_the_void_description(client):
    link = client.get(f"/id/{DATASET}").headers["link"]
    assert f'<{PUBLIC_URL}/page/{DATASET}>; rel="alternate"; type="text/html"' in link
    assert f'<{PUBLIC_URL}/id/{DATASET}?format=jsonld>; rel="alternate"; type="application/ld+json"' in link
    assert f"<{PUBLIC_URL}/.well-known/void>" in link


def test_the_catalog_iri_redirects_to_the_catalog(client):
    response = client.get("/id/catalog", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{PUBLIC_URL}/catalog"


@pytest.mark.parametrize("path", ["dataset/does-not-exist", "nothing", "dataset/a b", "department/"])
def test_unknown_entities_are_404(client, path):
    assert client.get(f"/id/{path}", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 404


def test_a_person_is_404_for_anonymous_callers_and_described_for_staff(client):
    assert client.get(f"/id/{PERSON}", follow_redirects=False).status_code == 404
    response = client.get(f"/id/{PERSON}", headers={**READER, "Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["cache-control"].startswith("private")


def test_an_internal_dataset_is_404_for_anonymous_callers(client, demo, settings):
    internal = next(r["id"] for r in demo[1]["datasets"] if r["public"] != "yes")
    assert client.get(f"/id/dataset/{internal}", headers={"Accept": "text/turtle"}).status_code == 404


# --- the dump -------------------------------------------------------------------------------------------


def test_the_dump_holds_exactly_the_public_graphs(client, demo):
    response = client.get("/dump.nq.gz")
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    quads = list(parse(gzip.decompress(response.content), format=RdfFormat.N_QUADS))
    public = demo[0].graphs(include_internal=False)
    assert {q.graph_name.value for q in quads} == {g.iri for g in public}
    assert len(quads) == sum(g.triples for g in public)


# --- conditional GET ------------------------------------------------------------------------------------

DOCUMENTS = ["/catalog", "/catalog.ttl?page=2", "/catalog.jsonld?full=1", "/dump.nq.gz", f"/id/{DATASET}"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_documents_carry_validators_and_cache_control(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["etag"].startswith('W/"')
    assert response.headers["last-modified"].endswith("GMT")
    assert "max-age" in response.headers["cache-control"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_if_none_match_with_the_current_etag_is_304(client, path):
    etag = client.get(path).headers["etag"]
    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""
    assert response.headers["etag"] == etag


@pytest.mark.parametrize("path", DOCUMENTS)
def test_if_modified_since_the_last_change_is_304(client, path):
    modified = client.get(path).headers["last-modified"]
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304


def test_representations_of_one_entity_have_different_etags(client):
    tags = {
        client.get(f"/id/{DATASET}", headers={"Accept": a}).headers["etag"]
        for a in ("text/turtle", "application/ld+json")
    }
    assert len(tags) == 2


def test_an_old_etag_or_date_gets_the_new_document_after_a_write(fresh):
    client, store, settings = fresh
    before = {path: client.get(path).headers for path in DOCUMENTS}
    store.update(
        f"INSERT DATA {{ GRAPH <{settings.graph_iri('demo')}> {{ <{settings.base_iri}{DATASET}> "
        '<http://purl.org/dc/terms/issued> "2020-01-01" } }'
    )
    for path, headers in before.items():
        response = client.get(path, headers={"If-None-Match": headers["etag"]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != headers["etag"]


def test_an_if_modified_since_before_the_last_change_gets_the_document(client, demo):
    changed = max(g.modified for g in demo[0].graphs(include_internal=False))
    earlier = format_datetime(changed.replace(year=changed.year - 1), usegmt=True)
    assert client.get("/catalog.ttl", headers={"If-Modified-Since": earlier}).status_code == 200


# --- nothing internal leaves --------------------------------------------------------------------------


def secrets(store: EmbeddedStore, rows: dict, settings: Settings) -> set[str]:
    """What no public document may contain: the people's data as written and as stored, the IRIs of
    everything only internal graphs describe, and the internal graphs' names."""
    found = {settings.graph_iri("demo-internal")}
    for person in rows["people"]:
        found.update(v for v in (person["name"], person["email"], person["phone"]) if v)
    internal = [g.iri for g in store.graphs() if g.visibility is Visibility.INTERNAL]
    public = store.query("SELECT DISTINCT ?x { { ?x ?p ?o } UNION { ?s ?p ?x } FILTER(isIRI(?x)) }")
    public_iris = {row["x"].value for row in public}
    for row in store.query(
        "SELECT DISTINCT ?x { { ?x ?p ?o } UNION { ?s ?p ?x } FILTER(isIRI(?x)) }",
        include_internal=True,
        default_graphs=internal,
        named_graphs=[],
    ):
        # Subjects only internal graphs describe (people, memberships, internal datasets), and their
        # mailboxes and phone numbers.
        if row["x"].value not in public_iris:
            found.add(row["x"].value)
    return found


def next_link(response) -> str | None:
    """The path of the `rel="next"` link in the Link header, if any."""
    for link in response.headers["link"].split(", "):
        target, _, params = link.partition(">; ")
        if params == 'rel="next"':
            return target.removeprefix("<").removeprefix(PUBLIC_URL)
    return None


def public_documents(client: TestClient, store: EmbeddedStore, settings: Settings) -> Iterator[tuple[str, str]]:
    """(path, text with headers) of every public document: catalog pages in every format, the full
    catalog, the dump, VoID, and every public entity's description and redirect."""
    for suffix in ("ttl", "rdf", "jsonld", "nt"):
        url: str | None = f"/catalog.{suffix}?page=1"
        while url:
            response = client.get(url)
            yield url, str(response.headers) + response.text
            url = next_link(response)
        yield f"full {suffix}", client.get(f"/catalog.{suffix}?full=1").text
    yield "dump", gzip.decompress(client.get("/dump.nq.gz").content).decode()
    void = client.get("/.well-known/void")
    if void.status_code == 200:
        yield "void", void.text
    subjects = store.query(
        f'SELECT DISTINCT ?s {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{settings.base_iri}")) }} ORDER BY ?s'
    )
    for row in subjects:
        path = row["s"].value.removeprefix(settings.base_iri).split("#")[0]
        for accept in ("text/turtle", "text/html"):
            response = client.get(f"/id/{path}", headers={"Accept": accept}, follow_redirects=False)
            yield f"/id/{path} {accept}", str(response.headers) + response.text


def test_no_public_document_contains_internal_iris_or_personal_data(client, demo, settings):
    store, rows = demo
    hidden = secrets(store, rows, settings)
    assert any(p["name"] in hidden for p in rows["people"]) and len(hidden) > 40
    checked = 0
    for where, text in public_documents(client, store, settings):
        leaked = sorted(s for s in hidden if s in text)
        assert not leaked, f"{where} reveals {leaked[:5]}"
        checked += 1
    assert checked > 300


def test_describe_sees_only_public_graphs_unless_asked(demo, settings):
    person = NamedNode(settings.base_iri + PERSON)
    assert describe(demo[0], person) == []
    assert describe(demo[0], person, include_internal=True)
