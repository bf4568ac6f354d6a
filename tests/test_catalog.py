"""The DCAT-AP.de catalog: content from the public graphs, SHACL conformance, Hydra paging, formats.

Built from the demo on each backend (`shared_demo` in conftest.py); both backends give the same catalog.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, parse

import loaders.demo
import loaders.sdg
import loaders.staff
from api.app import create_app
from api.catalog import HYDRA, build_catalog, catalog_iri, publisher_iri
from api.catalog_check import CatalogCheckError, check_catalog, check_store, errors
from api.demo import load_demo
from api.publishing import router
from api.settings import Settings
from api.store import Visibility
from api.testing import make_settings
from loaders.vocab import DCAT, DCATDE, DCT, EU_FILE_TYPE, EU_THEME, FOAF, PROV, RDF, SDG, VCARD, XSD

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAPES, VOCAB = SHARED / "shapes", SHARED / "vocab"
needs_shapes = pytest.mark.skipif(
    not (SHAPES.is_dir() and VOCAB.is_dir()), reason=f"DCAT-AP shapes and vocabularies missing: {SHARED}"
)
# Behind a reverse proxy under a path: every paging link must start with this.
PUBLIC_URL = "https://daten.musterstadt.example/querschnitt"
FORMATS = {"ttl": RdfFormat.TURTLE, "rdf": RdfFormat.RDF_XML, "jsonld": RdfFormat.JSON_LD, "nt": RdfFormat.N_TRIPLES}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings(public_url=PUBLIC_URL)


@pytest.fixture
def store(shared_demo):
    """The demo on each backend (conftest.py), read only."""
    return shared_demo


@pytest.fixture(scope="module")
def rows() -> dict:
    """The demo's sheet rows (what `load_demo` wrote)."""
    return loaders.demo.generate_rows()


# The full catalog of each backend's demo, built once per module.
_catalogs: dict[str, list[Triple]] = {}


@pytest.fixture
def full(backend, store, settings: Settings) -> list[Triple]:
    if backend.name not in _catalogs:
        _catalogs[backend.name] = build_catalog(store, settings, page=None).triples
    return _catalogs[backend.name]


def test_the_catalog_is_the_same_on_both_backends(demo_pair, settings):
    def described(store) -> list[str]:
        # The catalog's own dct:modified is when each store was loaded: a second apart at most.
        triples = build_catalog(store, settings, page=None).triples
        return sorted(
            levelled(t) for t in triples if not (t.predicate == DCT.modified and t.subject.value.endswith("/catalog"))
        )

    embedded, remote = (described(store) for store in demo_pair)
    assert remote == embedded


def levelled(triple: Triple) -> str:
    """A triple in N-Triples, blank node labels levelled (each backend names them its own way)."""
    return re.sub(r"_:\S+", "_:b", str(triple))


def app_for(store, settings: Settings) -> FastAPI:
    app = create_app(settings, store=store)
    if not any(getattr(route, "path", None) == "/catalog" for route in app.routes):
        app.include_router(router)
    return app


@pytest.fixture
def client_for(store) -> Iterator:
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(app_for(store, make_settings(public_url=PUBLIC_URL, **overrides)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def objects(triples: list[Triple], subject, predicate) -> set:
    return {t.object for t in triples if t.subject == subject and t.predicate == predicate}


def public_dataset_iris(rows: dict, settings: Settings) -> set[NamedNode]:
    return {NamedNode(f"{settings.base_iri}dataset/{r['id']}") for r in rows["datasets"] if r["public"] == "yes"}


def catalog_datasets(triples: list[Triple]) -> set:
    return {t.subject for t in triples if t.predicate == RDF.type and t.object == DCAT.Dataset}


# --- conformance ----------------------------------------------------------------------------------------


@needs_shapes
def test_the_demo_catalog_conforms_to_dcat_ap_de_without_violations_or_warnings(store, settings):
    problems = check_store(store, settings, shapes_dir=SHAPES, vocab_dir=VOCAB)
    assert problems == [], "\n".join(str(p) for p in problems)


@needs_shapes
def test_a_distribution_without_licence_is_a_violation_reported_in_german_and_english(full):
    without = [t for t in full if t.predicate != DCT.license or "radwegenetz" not in t.subject.value]
    (problem,) = errors(check_catalog(without, SHAPES, VOCAB))
    assert problem.path == "dct:license"
    assert problem.datasets == (f"{make_settings().base_iri}dataset/radwegenetz",)
    assert "MUSS" in problem.message_de or "mindestens" in problem.message_de
    assert "at least 1" in problem.message_en


@needs_shapes
def test_an_sdg_target_in_dcat_theme_is_a_violation(full, settings):
    dataset = NamedNode(f"{settings.base_iri}dataset/radwegenetz")
    problems = errors(check_catalog([*full, Triple(dataset, DCAT.theme, SDG["11.2"])], SHAPES, VOCAB))
    assert any(p.path == "dcat:theme" and "sdg:11.2" in (p.value or "") for p in problems)


@needs_shapes
def test_a_second_publisher_is_a_violation(full, settings):
    dataset = NamedNode(f"{settings.base_iri}dataset/radwegenetz")
    other = NamedNode("https://kreis.example/id/kreis")
    extra = [
        Triple(dataset, DCT.publisher, other),
        Triple(other, RDF.type, FOAF.Agent),
        Triple(other, FOAF.name, Literal("Kreis")),
    ]
    problems = errors(check_catalog([*full, *extra], SHAPES, VOCAB))
    assert any(p.path == "dct:publisher" and dataset.value in p.datasets for p in problems)


def test_a_missing_shapes_folder_is_reported_by_name(full, tmp_path):
    with pytest.raises(CatalogCheckError, match="nowhere"):
        check_catalog(full, tmp_path / "nowhere", tmp_path)


# --- content --------------------------------------------------------------------------------------------


def test_the_catalog_lists_every_public_dataset_and_no_internal_one(full, rows, settings):
    assert catalog_datasets(full) == public_dataset_iris(rows, settings)
    assert objects(full, catalog_iri(settings), DCAT.dataset) == public_dataset_iris(rows, settings)


def test_the_municipality_is_the_one_publisher_an_agent_with_a_name(full, settings):
    municipality = publisher_iri(settings)
    assert {t.object for t in full if t.predicate == DCT.publisher} == {municipality}
    assert all(len(objects(full, d, DCT.publisher)) == 1 for d in catalog_datasets(full))
    assert FOAF.Agent in objects(full, municipality, RDF.type)
    assert objects(full, municipality, FOAF.name) == {Literal(settings.municipality_name)}


def test_the_creator_is_the_department_and_the_contact_its_functional_mailbox(full, rows, settings):
    mailbox = {r["id"]: r["email"] for r in rows["departments"]}
    for row in (r for r in rows["datasets"] if r["public"] == "yes"):
        dataset = NamedNode(f"{settings.base_iri}dataset/{row['id']}")
        (creator,) = objects(full, dataset, DCT.creator)
        assert creator == NamedNode(f"{settings.base_iri}department/{row['department']}")
        assert FOAF.Agent in objects(full, creator, RDF.type) and objects(full, creator, FOAF.name)
        (contact,) = objects(full, dataset, DCAT.contactPoint)
        assert objects(full, contact, VCARD.hasEmail) == {NamedNode(f"mailto:{mailbox[row['department']]}")}


def test_sdg_targets_are_subjects_with_an_sdg_keyword_and_never_themes(full, rows, settings):
    for row in (r for r in rows["datasets"] if r["public"] == "yes" and r["sdg"]):
        dataset = NamedNode(f"{settings.base_iri}dataset/{row['id']}")
        codes = {c.strip().removeprefix("SDG ").strip() for c in row["sdg"].split(";")}
        assert objects(full, dataset, DCT.subject) == {SDG[c] for c in codes}
        assert {Literal(f"SDG {c}") for c in codes} <= objects(full, dataset, DCAT.keyword)
    assert all(t.object.value.startswith(str(EU_THEME)) for t in full if t.predicate == DCAT.theme)


@pytest.mark.parametrize(
    ("predicate", "namespace"),
    [(DCAT.theme, str(EU_THEME)), (DCT["format"], str(EU_FILE_TYPE)), (DCT.license, "http://dcat-ap.de/def/licenses/")],
)
def test_controlled_values_come_from_their_vocabulary(full, predicate, namespace):
    values = {t.object for t in full if t.predicate == predicate}
    assert values and all(isinstance(v, NamedNode) and v.value.startswith(namespace) for v in values)


def test_every_dataset_has_the_political_geocoding_of_the_municipality(full):
    key = NamedNode(f"http://dcat-ap.de/def/politicalGeocoding/municipalityKey/{loaders.demo.MUSTERSTADT_KEY}")
    level = NamedNode("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
    for dataset in catalog_datasets(full):
        assert objects(full, dataset, DCT.spatial) == {key}
        assert objects(full, dataset, DCATDE.politicalGeocodingLevelURI) == {level}


def test_dates_are_typed_iso_8601(full):
    dates = [t.object for t in full if t.predicate in (DCT.modified, DCT.issued)]
    assert dates and all(d.datatype in (XSD.date, XSD.dateTime) for d in dates)


def test_the_contributor_id_is_added_only_when_configured(store, full):
    assert not any(t.predicate == DCATDE.contributorID for t in full)
    triples = build_catalog(store, make_settings(catalog_contributor_id="openNRW"), page=None).triples
    ids = {t.object for t in triples if t.predicate == DCATDE.contributorID}
    assert ids == {NamedNode("http://dcat-ap.de/def/contributors/openNRW")}


@needs_shapes
def test_a_configured_contributor_id_from_the_list_still_conforms(store):
    settings = make_settings(catalog_contributor_id="http://dcat-ap.de/def/contributors/openNRW")
    assert errors(check_store(store, settings, shapes_dir=SHAPES, vocab_dir=VOCAB)) == []


def test_no_dataset_of_the_demo_claims_a_generating_project(full):
    # Projects name the datasets they use (prov:used), not those they produce: nothing to say here.
    assert not any(t.predicate == PROV.wasGeneratedBy for t in full)


# --- paging ---------------------------------------------------------------------------------------------


def walk(client: TestClient, start: str) -> list[list[Triple]]:
    """Follow hydra:next from `start` to the end; fail on a loop or a link outside the public URL."""
    pages, seen, url = [], set(), start
    while url is not None:
        assert url.startswith(PUBLIC_URL + "/catalog"), url
        assert url not in seen, f"paging loops back to {url}"
        seen.add(url)
        response = client.get(url.removeprefix(PUBLIC_URL))
        assert response.status_code == 200, response.text
        triples = list(parse(response.content, format=RdfFormat.TURTLE))
        pages.append(triples)
        nexts = {t.object.value for t in triples if t.predicate in (HYDRA["next"], HYDRA.nextPage)}
        assert len(nexts) <= 1
        url = nexts.pop() if nexts else None
        assert len(pages) <= 1000
    return pages


def view(triples: list[Triple]) -> NamedNode:
    (node,) = {t.subject for t in triples if t.predicate == RDF.type and t.object == HYDRA.PartialCollectionView}
    return node


@pytest.mark.parametrize("size", [1, 7, 13])
def test_hydra_paging_walks_every_dataset_exactly_once_to_the_end(client_for, rows, settings, size):
    pages = walk(client_for(catalog_page_size=size), f"{PUBLIC_URL}/catalog.ttl")
    expected = public_dataset_iris(rows, settings)
    assert len(pages) == math.ceil(len(expected) / size)
    listed = [d for page in pages for d in catalog_datasets(page)]
    assert len(listed) == len(expected) and set(listed) == expected
    for number, page in enumerate(pages, start=1):
        node = view(page)
        assert node == NamedNode(f"{PUBLIC_URL}/catalog.ttl?page={number}")
        assert HYDRA.PagedCollection in objects(page, node, RDF.type)
        assert objects(page, node, HYDRA.totalItems) == {Literal(str(len(expected)), datatype=XSD.integer)}
        assert objects(page, node, HYDRA.itemsPerPage) == {Literal(str(size), datatype=XSD.integer)}
        assert (
            objects(page, node, HYDRA.first)
            == objects(page, node, HYDRA.firstPage)
            == {NamedNode(f"{PUBLIC_URL}/catalog.ttl?page=1")}
        )
        assert objects(page, node, HYDRA["last"]) == {NamedNode(f"{PUBLIC_URL}/catalog.ttl?page={len(pages)}")}
        previous = {NamedNode(f"{PUBLIC_URL}/catalog.ttl?page={number - 1}")} if number > 1 else set()
        assert objects(page, node, HYDRA.previous) == objects(page, node, HYDRA.previousPage) == previous


def test_pages_keep_a_stable_order(client_for):
    client = client_for(catalog_page_size=7)
    first = [sorted(catalog_datasets(p), key=str) for p in walk(client, f"{PUBLIC_URL}/catalog.ttl")]
    again = [sorted(catalog_datasets(p), key=str) for p in walk(client, f"{PUBLIC_URL}/catalog.ttl")]
    assert first == again
    flat = [d.value for page in first for d in page]
    assert flat == sorted(flat)


def test_the_negotiated_catalog_pages_link_to_the_negotiated_url(client_for):
    response = client_for(catalog_page_size=50).get("/catalog", headers={"Accept": "text/turtle"})
    triples = list(parse(response.content, format=RdfFormat.TURTLE))
    assert objects(triples, view(triples), HYDRA["next"]) == {NamedNode(f"{PUBLIC_URL}/catalog?page=2")}
    assert response.headers["vary"].startswith("Accept")
    assert f'<{PUBLIC_URL}/catalog?page=2>; rel="next"' in response.headers["link"]


def test_the_full_catalog_is_one_document_without_paging(client_for, rows, settings):
    response = client_for(catalog_page_size=5).get("/catalog.ttl?full=1")
    triples = list(parse(response.content, format=RdfFormat.TURTLE))
    assert catalog_datasets(triples) == public_dataset_iris(rows, settings)
    assert not any(t.predicate.value.startswith(str(HYDRA)) for t in triples)


@pytest.mark.parametrize(
    ("query", "status"), [("page=0", 400), ("page=x", 400), ("page=99", 404), ("page=1&full=1", 400)]
)
def test_bad_pages_are_refused(client_for, query, status):
    assert client_for().get(f"/catalog.ttl?{query}").status_code == status


def test_an_unknown_suffix_is_404(client_for):
    assert client_for().get("/catalog.csv").status_code == 404


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_every_format_carries_the_same_catalog(client_for, full, suffix):
    response = client_for().get(f"/catalog.{suffix}?full=1")
    assert response.status_code == 200
    # JSON-LD parses to quads in the default graph.
    triples = [t.triple if isinstance(t, Quad) else t for t in parse(response.content, format=FORMATS[suffix])]
    ground = {t for t in full if not isinstance(t.subject, BlankNode) and not isinstance(t.object, BlankNode)}
    assert {
        t for t in triples if not isinstance(t.subject, BlankNode) and not isinstance(t.object, BlankNode)
    } == ground
    assert len(triples) == len(full)


# --- written demos (last: on Virtuoso they replace the module's shared demo) ------------------------


def test_a_project_named_as_a_datasets_origin_becomes_prov_was_generated_by(backend, settings):
    store = backend.new(derived=True)
    load_demo(store, settings)
    dataset = NamedNode(f"{settings.base_iri}dataset/radwegenetz")
    project = NamedNode(f"{settings.base_iri}project/radverkehrskonzept")
    store.replace_graph(
        settings.graph_iri("origins"),
        [Quad(dataset, PROV.wasGeneratedBy, project)],
        visibility=Visibility.PUBLIC,
        source="test",
        loader="test",
        checksum="x",
    )
    triples = build_catalog(store, settings, page=None).triples
    assert objects(triples, dataset, PROV.wasGeneratedBy) == {project}
    assert PROV.Activity in objects(triples, project, RDF.type) and objects(triples, project, DCT["title"])


def test_datasets_of_other_publishers_are_not_republished(backend, settings):
    store = backend.new(derived=True)
    load_demo(store, settings)
    foreign = NamedNode("https://kreis.example/dataset/1")
    store.replace_graph(
        settings.graph_iri("kreis"),
        [
            Quad(foreign, RDF.type, DCAT.Dataset),
            Quad(foreign, DCT.publisher, NamedNode("https://kreis.example/org/kreis")),
        ],
        visibility=Visibility.PUBLIC,
        source="test",
        loader="test",
        checksum="x",
    )
    assert foreign not in catalog_datasets(build_catalog(store, settings, page=None).triples)
