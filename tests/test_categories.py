"""The Musterdatenkatalog as a reference vocabulary: categories found as staff and portals write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, parse

from loaders.categories import CategoryIndex

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CATALOG = SHARED / "real" / "musterdatenkatalog" / "musterdatenkatalog_v4.rdf"
GREEN = "https://musterdatenkatalog.de/def/musterdatensatz/floraUndFauna/flaeche/gruenflaecheUndGruenflaechenkataster"

pytestmark = pytest.mark.skipif(not CATALOG.is_file(), reason=f"shared data missing: {CATALOG}")


@pytest.fixture(scope="module")
def index() -> CategoryIndex:
    return CategoryIndex.from_quads(parse(path=str(CATALOG), format=RdfFormat.RDF_XML))


def test_every_concept_of_the_published_file_is_indexed(index):
    assert len(index) >= 250


@pytest.mark.parametrize(
    "text",
    [
        GREEN,
        "Fläche - Grünfläche und Grünflächenkataster",
        "fläche – grünfläche und grünflächenkataster".replace("–", "-"),
        "Grünfläche und Grünflächenkataster",
        "floraUndFauna/flaeche/gruenflaecheUndGruenflaechenkataster",
    ],
)
def test_a_category_is_found_by_iri_label_last_part_or_path(index, text):
    assert index.resolve(text) == GREEN


def test_an_unknown_category_is_none(index):
    assert index.resolve("Zauberei - Besen") is None


def test_german_label_is_the_display_label(index):
    assert index.labels[GREEN] == "Fläche - Grünfläche und Grünflächenkataster"


# -- the datasets sheet's `category` column, the store, the pages and the search ------------------------

GOOD = Path(__file__).resolve().parent / "data" / "staff" / "good"
PLAY = "https://musterdatenkatalog.de/def/musterdatensatz/freizeit/spielplatzUndSpielstaette"
BASE = "https://musterstadt.example/id/"


def workbook(tmp_path: Path, category: str) -> Path:
    """The test workbook (CSV files) whose datasets sheet has a `category` column, set on its first dataset."""
    folder = tmp_path / "kleinstadt"
    folder.mkdir(exist_ok=True)
    for source in GOOD.glob("*.csv"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    lines = (GOOD / "datasets.csv").read_text(encoding="utf-8").splitlines()
    quoted = f'"{category}"' if ";" in category else category
    lines = [lines[0] + ";category", lines[1] + ";" + quoted, *(line + ";" for line in lines[2:])]
    (folder / "datasets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def built(tmp_path: Path, category: str, categories: CategoryIndex | None):
    from loaders import staff

    return staff.load(
        [workbook(tmp_path, category)],
        base=BASE,
        municipality=staff.Municipality("Musterstadt", "09162000"),
        graph=f"{BASE}graph/kleinstadt",
        internal_graph=f"{BASE}graph/kleinstadt-internal",
        categories=categories,
    )


def references(result) -> set[str]:
    from loaders.vocab import DCT

    dataset = NamedNode(f"{BASE}dataset/radverkehrszaehlung")
    return {
        q.object.value
        for g in result.graphs.values()
        for q in g
        if q.subject == dataset and q.predicate == DCT.references
    }


def test_a_category_cell_becomes_dct_references_to_the_concept(tmp_path, index):
    result = built(tmp_path, "Grünfläche und Grünflächenkataster", index)
    assert result.ok, [p.message_en for p in result.errors]
    assert references(result) == {GREEN}


def test_a_category_cell_takes_a_list_of_label_path_and_iri(tmp_path, index):
    result = built(
        tmp_path, f"Fläche - Grünfläche und Grünflächenkataster; freizeit/spielplatzUndSpielstaette; {GREEN}", index
    )
    assert result.ok, [p.message_en for p in result.errors]
    assert references(result) == {GREEN, PLAY}


def test_an_unknown_category_is_an_error_naming_sheet_row_column_and_the_closest_categories(tmp_path, index):
    result = built(tmp_path, "Grünflächenkatast", index)
    [error] = result.errors
    assert (Path(error.file).name, error.sheet, error.row, error.column) == (
        "datasets.csv",
        "datasets",
        2,
        "O (category)",
    )
    assert "Grünflächenkatast" in error.message_de and "Fläche - Grünfläche und Grünflächenkataster" in error.message_de


def test_a_category_while_the_musterdatenkatalog_is_not_loaded_is_an_error_saying_to_load_it(tmp_path):
    result = built(tmp_path, "Grünfläche und Grünflächenkataster", None)
    [error] = result.errors
    assert error.column == "O (category)" and "musterdatenkatalog_v4.rdf" in error.message_en


def test_the_template_documents_the_category_column(tmp_path):
    import openpyxl

    from loaders.staff import write_template

    write_template(tmp_path / "vorlage.xlsx")
    book = openpyxl.load_workbook(tmp_path / "vorlage.xlsx")
    headers = [c.value for c in book["Datensätze"][1]]
    help_rows = [r for r in book["Hilfe"].iter_rows(values_only=True) if r[0] == "Datensätze" and r[2] == "category"]
    assert "Musterdatenkatalog" in headers and len(help_rows) == 1 and "Musterdatenkatalog" in help_rows[0][4]


def cli(*args):
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A store holding the Musterdatenkatalog (loaded as published) and a workbook naming one category."""
    tmp_path = tmp_path_factory.mktemp("categories")
    store = tmp_path / "store"
    loading = cli("load", CATALOG, "--name", "musterdatenkatalog", "--store", store)
    cli("load", workbook(tmp_path, "Grünfläche und Grünflächenkataster"), "--name", "kleinstadt", "--store", store)
    return store, loading.output


def test_loading_the_musterdatenkatalog_file_says_it_is_the_reference_vocabulary(loaded):
    assert "Musterdatenkatalog, 268 categories" in loaded[1]


@pytest.fixture(scope="module")
def client(loaded):
    """An anonymous browser on the app (pages and search) over that store."""
    from fastapi.testclient import TestClient

    from api import search, ui
    from api.app import create_app
    from api.store import open_store
    from api.testing import make_settings

    store = open_store(str(loaded[0]))
    app = create_app(make_settings(), store=store)
    for router in (ui.router, search.router):
        app.include_router(router)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
    store.close()


def category_items(client, path: str) -> list[str]:
    from html_tree import parse as parse_html

    response = client.get(path, headers={"Accept-Language": "de"})
    assert response.status_code == 200, response.text[:300]
    sections = parse_html(response.text).find_all("section")
    [section] = [s for s in sections if s.attrs.get("aria-labelledby") == "section-categories"]
    return [li.text().strip() for li in section.find_all("li")]


def test_a_dataset_page_shows_its_category_by_the_german_label(client):
    assert category_items(client, "/page/dataset/radverkehrszaehlung") == [
        "Fläche - Grünfläche und Grünflächenkataster"
    ]


def test_search_finds_a_dataset_by_its_category_label(client):
    hits = client.get("/api/search", params={"q": "Grünflächenkataster", "type": "dataset"}).json()["hits"]
    assert [h["iri"] for h in hits] == [f"{BASE}dataset/radverkehrszaehlung"]


# -- harvested categories: kept as published, recognised ------------------------------------------------

HAMBURG = SHARED / "real" / "dcat" / "govdata-ckanext-dcatde-metadata_max.rdf"
PORTAL = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://portal.example/catalog> a dcat:Catalog ; dct:title "Portal"@de ; dcat:dataset <https://portal.example/dataset/baeume> .
<https://portal.example/dataset/baeume> a dcat:Dataset ; dct:title "Baumkataster"@de ; dct:description "Bäume."@de ;
  dcat:theme <{green}> ; dct:subject <{play}> ;
  dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://portal.example/baeume.csv> ] .
"""


def stored_objects(store_path: Path, subject: str, predicate: str) -> set[str]:
    from api.store import open_store

    store = open_store(str(store_path))
    try:
        rows = store.query(f"SELECT ?o {{ <{subject}> <{predicate}> ?o }}", include_internal=True)
        return {row["o"].value for row in rows}
    finally:
        store.close()


def test_a_harvest_naming_an_older_category_keeps_it_and_names_the_current_one(tmp_path):
    store = tmp_path / "store"
    cli("load", CATALOG, "--name", "musterdatenkatalog", "--store", store)
    output = cli("load", HAMBURG, "--dcat", "--name", "hh", "--store", store).output
    old = "https://musterdatenkatalog.de/def/musterdatensatz/abfallwirtschaft/abfallkalender"
    assert old in output and "musterdatensatz/abfallentsorgung/abfallkalender" in output
    dataset = "http://mtest6.gd.swe.seitenbau.net:5000/dataset/bd2d4fa6-e9ad-470d-888b-5eb1378d39e9"
    assert old in stored_objects(store, dataset, "http://purl.org/dc/terms/references")


def test_a_harvested_theme_or_subject_that_is_a_category_is_kept_and_found_by_its_label(tmp_path):
    from api.search import SearchIndex
    from api.store import open_store

    source = tmp_path / "portal.ttl"
    source.write_text(PORTAL.format(green=GREEN, play=PLAY), encoding="utf-8")
    store_path = tmp_path / "store"
    cli("load", CATALOG, "--name", "musterdatenkatalog", "--store", store_path)
    cli("load", source, "--dcat", "--name", "portal", "--store", store_path)
    dataset = "https://portal.example/dataset/baeume"
    assert GREEN in stored_objects(store_path, dataset, "http://www.w3.org/ns/dcat#theme")
    store = open_store(str(store_path))
    try:
        index = SearchIndex(store)
        for words in ("Grünflächenkataster", "Spielplatz Spielstätte"):
            hits = index.search(words, include_internal=False, types=["dataset"]).hits
            assert [h.iri for h in hits] == [dataset], words
        index.close()
    finally:
        store.close()


def test_the_catalog_republishes_a_datasets_category(client):
    from pyoxigraph import RdfFormat, parse

    response = client.get("/catalog", params={"full": 1}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text[:300]
    triples = parse(response.content, format=RdfFormat.TURTLE)
    references = {
        t.object.value
        for t in triples
        if t.subject.value == f"{BASE}dataset/radverkehrszaehlung" and t.predicate.value.endswith("/terms/references")
    }
    assert references == {GREEN}


def test_a_workbook_sent_to_a_server_resolves_its_categories_against_the_servers_musterdatenkatalog(tmp_path):
    from api.app import create_app
    from api.store import open_store
    from api.testing import EDITOR_TOKEN, LiveServer, make_settings

    store = open_store("memory")
    with LiveServer(create_app(make_settings(), store=store)) as server:
        remote = ("--server", server.url, "--token", EDITOR_TOKEN)
        cli("load", CATALOG, "--name", "musterdatenkatalog", *remote)
        cli("load", workbook(tmp_path, "Grünfläche und Grünflächenkataster"), "--name", "kleinstadt", *remote)
    rows = store.query(f"SELECT ?o {{ <{BASE}dataset/radverkehrszaehlung> <http://purl.org/dc/terms/references> ?o }}")
    assert [row["o"].value for row in rows] == [GREEN]
