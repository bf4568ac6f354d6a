"""Datasets harvested under their portal's own IRIs have the entity page a spreadsheet dataset has.

The real catalogs in ../shared/data/real are loaded as published (`querschnitt load --dcat --own`): Rostock's
dataset, enriched by the staff workbook with a department and SDG target 11.2 so that a gap report names it,
Hamburg's with a Musterdatenkatalog category, and a third harvested into an internal graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from html_tree import Node
from html_tree import parse as parse_html
from starlette.requests import Request

from api import ui
from api.app import create_app
from api.auth import ANONYMOUS
from api.store import open_store
from api.testing import READER_TOKEN, make_settings

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
GOOD = Path(__file__).resolve().parent / "data" / "staff" / "good"
ROSTOCK_ID = "c1be4007-d811-48fb-8818-2cb358b06a63"
ROSTOCK = f"https://www.opendata-hro.de/dataset/{ROSTOCK_ID}"
HAMBURG = "http://mtest6.gd.swe.seitenbau.net:5000/dataset/bd2d4fa6-e9ad-470d-888b-5eb1378d39e9"
INTERNAL = "https://example.org/dataset/0112cf32-bce0-4071-9504-923375f9f2ad"
CC_ZERO = "http://dcat-ap.de/def/licenses/cc-zero"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"shared real data missing: {REAL}")


def cli(*args):
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def workbook(folder: Path) -> Path:
    """The test workbook with a surveying office that enriches Rostock's dataset with SDG target 11.2."""
    folder.mkdir()
    for source in GOOD.glob("*.csv"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with (folder / "departments.csv").open("a", encoding="utf-8") as out:
        out.write("62;Vermessungs- und Katasteramt;dez-3;;\n")
    with (folder / "datasets.csv").open("a", encoding="utf-8") as out:
        out.write(f"{ROSTOCK_ID};;;62;11.2;;;;;;;ja;;\n")
    return folder


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """An anonymous browser on a store with the three harvests and the enriching workbook."""
    tmp = tmp_path_factory.mktemp("harvested")
    store = tmp / "store"
    categories = REAL / "musterdatenkatalog" / "musterdatenkatalog_v4.rdf"
    cli("load", categories, "--name", "musterdatenkatalog", "--store", store)
    cli("load", REAL / "dcat" / "ckanext-dcat-dataset_gov_de.rdf", "--dcat", "--own", "--name", "hro", "--store", store)
    hamburg = REAL / "dcat" / "govdata-ckanext-dcatde-metadata_max.rdf"
    cli("load", hamburg, "--dcat", "--own", "--name", "hh", "--store", store)
    internal = REAL / "dcat" / "ckanext-dcat-dataset_multilingual.ttl"
    cli("load", internal, "--dcat", "--internal", "--name", "intern", "--store", store)
    cli("load", workbook(tmp / "kleinstadt"), "--name", "kleinstadt", "--store", store)
    opened = open_store(str(store))
    with TestClient(create_app(make_settings(), store=opened), base_url="https://testserver") as test_client:
        yield test_client
    opened.close()


def html(client: TestClient, path: str, **params: str) -> Node:
    response = client.get(path, params=params, headers={"Accept-Language": "de"})
    assert response.status_code == 200, response.text[:300]
    return parse_html(response.text)


def section(tree: Node, key: str) -> Node:
    [found] = [s for s in tree.find_all("section") if s.attrs.get("aria-labelledby") == f"section-{key}"]
    return found


def links_to_page_of(tree: Node, iri: str) -> list[Node]:
    """The links whose target is the harvested-dataset page of `iri` (the query decoded as a browser sends it)."""
    found = []
    for a in tree.find_all("a"):
        target = urlsplit(a.attrs.get("href") or "")
        if target.path == "/page/dataset" and parse_qs(target.query).get("iri") == [iri]:
            found.append(a)
    return found


def test_a_harvested_dataset_page_shows_its_title_distributions_and_sdg_target(client):
    tree = html(client, "/page/dataset", iri=ROSTOCK)
    assert tree.find("h1").text().strip() == "Liefer- und Abholservices (Gastronomie)"
    rows = section(tree, "distributions").find("tbody").find_all("tr")
    assert len(rows) == 9  # as published: nine distributions
    assert [li.text().strip()[:4] for li in section(tree, "sdg").find_all("li")] == ["11.2"]


def test_a_harvested_dataset_page_shows_its_musterdatenkatalog_category(client):
    tree = html(client, "/page/dataset", iri=HAMBURG)
    assert tree.find("h1").text().strip() == "Naturräume Geest und Marsch"
    # Hamburg tags an older category IRI the loaded Musterdatenkatalog lacks: shown by its last part.
    assert [li.text().strip() for li in section(tree, "categories").find_all("li")] == ["abfallkalender"]


def test_search_results_link_a_harvested_dataset_to_its_page(client):
    tree = html(client, "/search", q="Gastronomie")
    assert links_to_page_of(tree, ROSTOCK)


def test_a_gap_report_row_naming_a_harvested_dataset_links_to_its_page(client):
    assert links_to_page_of(html(client, "/gaps/unused-datasets"), ROSTOCK)


def test_the_json_facade_gives_a_harvested_dataset_the_same_page(client):
    rows = client.get("/api/gaps/unused-datasets").json()["rows"]
    entities = [e for row in rows for e in row["first"] if e["iri"] == ROSTOCK]
    public = make_settings().public_url.rstrip("/")
    assert entities and {e["page"] for e in entities} == {public + ui.harvested_pages.href(ROSTOCK)}
    assert {e["type"] for e in entities} == {"dataset"}


def test_a_licence_outside_the_base_iri_is_not_linked_as_a_page(client):
    request = Request({"type": "http", "app": client.app, "headers": [], "query_string": b"", "path": "/"})
    assert ui.page_href(request, CC_ZERO, ANONYMOUS) is None
    assert ui.page_href(request, ROSTOCK, ANONYMOUS) == ui.harvested_pages.href(ROSTOCK)
    assert client.get("/page/dataset", params={"iri": CC_ZERO}).status_code == 404


def test_a_distribution_of_a_harvested_dataset_links_to_itself_not_to_a_page(client):
    distribution = f"{ROSTOCK}/resource/8fccc5c3-a9cd-47bc-861d-8d32182c0729"
    tree = html(client, "/page/dataset", iri=ROSTOCK)
    assert [a for a in tree.find_all("a") if a.attrs.get("href") == distribution]
    assert not links_to_page_of(tree, distribution)


@pytest.mark.parametrize("iri", ["https://www.opendata-hro.de/dataset/unbekannt", "", "kein iri"])
def test_an_unknown_iri_has_no_page(client, iri):
    assert client.get("/page/dataset", params={"iri": iri}).status_code == 404


def test_a_dataset_of_an_internal_harvest_is_404_for_anonymous_and_shown_to_staff(client):
    assert client.get("/page/dataset", params={"iri": INTERNAL}).status_code == 404
    staff = client.get("/page/dataset", params={"iri": INTERNAL}, headers={"Authorization": f"Bearer {READER_TOKEN}"})
    assert staff.status_code == 200
    assert parse_html(staff.text).find("h1").text().strip()


def test_a_harvested_dataset_page_offers_its_data_as_a_describe_query(client):
    response = client.get(
        "/page/dataset", params={"iri": ROSTOCK}, headers={"Accept": "text/turtle"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["query"] == [f"DESCRIBE <{ROSTOCK}>"]


def test_the_page_address_of_an_own_dataset_iri_leads_to_its_page(client):
    own = f"{make_settings().base_iri}dataset/radverkehrszaehlung"
    response = client.get("/page/dataset", params={"iri": own}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/page/dataset/radverkehrszaehlung")
