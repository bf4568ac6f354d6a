"""Entity and catalog pages shaped for big stores: each section of an entity page says what its gap report
says about the entity, a long list shows one page at a time with its count and links to the others,
visibility holds on every page, and catalog pages keep the order and content of the catalog."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from html_tree import Node
from html_tree import parse as parse_html
from pyoxigraph import NamedNode

import api.store
from api import ui
from api.app import create_app
from api.catalog import build_catalog, published_datasets
from api.demo import load_demo
from api.store import EmbeddedStore, Visibility
from api.testing import READER, make_settings

BASE = "https://musterstadt.example/id/"
SDG = "http://metadata.un.org/sdg/"


# -- fixtures and a small HTML tree ---------------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    """The demo at scale 2, with the derived relations, as `querschnitt demo` loads it."""
    built = api.store.open_store("memory")
    load_demo(built, make_settings(), scale=2)
    return built


@pytest.fixture(scope="module")
def app(store) -> FastAPI:
    return create_app(make_settings(), store=store)


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", headers={"Accept-Language": "de"}) as test_client:
        yield test_client


def page(client: TestClient, path: str, **headers: str) -> Node:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return parse_html(response.text)


def section(root: Node, key: str) -> Node | None:
    found = root.find_all("section", **{"aria-labelledby": f"section-{key}"})
    return found[0] if found else None


def iri_of(href: str) -> str:
    path = href.removeprefix("/page/")
    return SDG + path.removeprefix("sdg/") if path.startswith("sdg/") else BASE + path


def table(node: Node) -> list[list[set[str]]]:
    """Per body row, per cell: the entities it links to."""
    return [
        [
            {iri_of(a.attrs["href"]) for a in td.find_all("a") if a.attrs["href"].startswith("/page/")}
            for td in tr.find_all("td")
        ]
        for body in node.find_all("tbody")
        for tr in body.find_all("tr")
    ]


def links(node: Node) -> list[str]:
    return [iri_of(a.attrs["href"]) for ul in node.find_all("ul", **{"class": "links"}) for a in ul.find_all("a")]


def select(store: EmbeddedStore, sparql: str, *, staff: bool = False) -> list[dict]:
    result = store.query(sparql, include_internal=staff)
    return [{v.value: row[v.value] for v in result.variables if row[v.value] is not None} for row in result]


def report(app: FastAPI, store: EmbeddedStore, name: str, **params: str) -> list[dict]:
    """Rows of a named gap query, as the gap pages run it."""
    query = app.state.queries[name]
    return [
        {k: v.value for k, v in row.items()} for row in select_bound(store, query.sparql, query.bind(params) or None)
    ]


def select_bound(store: EmbeddedStore, sparql: str, substitutions) -> list[dict]:
    result = store.query(sparql, substitutions=substitutions)
    return [{v.value: row[v.value] for v in result.variables if row[v.value] is not None} for row in result]


def instances(store: EmbeddedStore, cls: str) -> list[str]:
    return sorted(r["s"].value for r in select(store, f"SELECT DISTINCT ?s {{ ?s a <{cls}> }}"))


# -- sections say what the gap reports say ---------------------------------------------------------


def test_every_department_page_lists_the_missing_bridges_of_its_gap_report(app, store, client):
    for department in instances(store, "http://www.w3.org/ns/org#OrganizationalUnit"):
        expected: dict[str, set[str]] = defaultdict(set)
        for row in report(app, store, "missing-bridges", department=department):
            a, b = row["department_a"], row["department_b"]
            expected[b if a == department else a].add(row["target"])
        rows = table(section(page(client, "/page/" + department.removeprefix(BASE)), "bridges"))
        assert {next(iter(cells[0])): cells[1] for cells in rows} == expected, department
        shared = [len(cells[1]) for cells in rows]
        assert shared == sorted(shared, reverse=True)


def test_every_project_page_lists_the_unused_datasets_of_its_gap_report(app, store, client):
    expected: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in report(app, store, "unused-datasets"):
        expected[row["project"]].add((row["dataset"], row["target"]))
    for project in instances(store, "https://w3id.org/querschnitt/def#Project"):
        rows = table(section(page(client, "/page/" + project.removeprefix(BASE)), "unused"))
        assert {(next(iter(d)), next(iter(t))) for d, t in rows} == expected[project], project


def test_every_dataset_page_lists_the_projects_its_gap_report_pairs_it_with(app, store, client):
    public = {r["s"].value for r in select(store, "SELECT ?s { ?s a <http://www.w3.org/ns/dcat#Dataset> }")}
    expected: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in report(app, store, "unused-datasets"):
        expected[row["dataset"]].add((row["project"], row["target"]))
    for dataset in sorted(public):
        rows = table(section(page(client, "/page/" + dataset.removeprefix(BASE)), "could-serve"))
        assert {(next(iter(p)), next(iter(t))) for p, t in rows} == expected[dataset], dataset


@pytest.mark.parametrize("code", ["11", "11.2", "13.2", "3", "16.6"])
def test_sdg_pages_list_who_works_on_it_as_the_named_query_does(app, store, client, code):
    expected: dict[str, set[str]] = defaultdict(set)
    for row in report(app, store, "who-works-on", sdg=code):
        expected[row["department"]].add(row["project"])
    rows = table(section(page(client, f"/page/sdg/{code}"), "who"))
    assert {next(iter(d)): p for d, p in rows} == expected


# -- long lists ------------------------------------------------------------------------------------


def walk(client: TestClient, path: str, key: str, **headers: str) -> tuple[list[list[str]], list[str]]:
    """Every page of a section's list, following its "next" links: the entries of each page, and the
    status lines."""
    entries, statuses = [], []
    while path:
        root = page(client, path, **headers)
        node = section(root, key)
        entries.append(links(node) or [next(iter(cells[0])) for cells in table(node)])
        statuses += [p.text() for p in node.find_all("p", role="status")]
        nexts = [a.attrs["href"] for a in node.find_all("a", rel="next")]
        path = nexts[0] if nexts else ""
    return entries, statuses


def sdg_projects(store: EmbeddedStore, code: str, *, staff: bool = False) -> set[str]:
    rows = select(
        store,
        f"SELECT ?p {{ ?p a <https://w3id.org/querschnitt/def#Project> . "
        f"{{ ?p <https://w3id.org/querschnitt/def#contributesTo> <{SDG}{code}> }} UNION "
        f"{{ ?t <http://www.w3.org/2004/02/skos/core#broader> <{SDG}{code}> . "
        f"?p <https://w3id.org/querschnitt/def#contributesTo> ?t }} }}",
        staff=staff,
    )
    return {r["p"].value for r in rows}


def test_a_long_list_shows_one_page_at_a_time_and_says_how_many_there_are(client, store, monkeypatch):
    monkeypatch.setattr(ui, "SHOWN", 4)
    expected = sdg_projects(store, "11.2")
    assert len(expected) > 8
    pages, statuses = walk(client, "/page/sdg/11.2", "projects")
    assert all(len(entries) <= 4 for entries in pages)
    assert [e for entries in pages for e in entries] == sorted(expected)
    total = len(expected)
    assert statuses[0] == f"Einträge 1–4 von {total}"
    assert statuses[-1] == f"Einträge {4 * (len(pages) - 1) + 1}–{total} von {total}"


def test_a_short_list_is_shown_whole_without_paging(client, store):
    root = page(client, "/page/sdg/11.2")
    node = section(root, "projects")
    assert len(links(node)) == len(sdg_projects(store, "11.2")) <= ui.SHOWN
    assert not node.find_all("nav")


def test_a_long_table_is_paged_in_the_same_order_on_every_page(client, monkeypatch, app, store):
    monkeypatch.setattr(ui, "SHOWN", 3)
    department = f"{BASE}department/tiefbauamt"
    partners = {
        (r["department_b"] if r["department_a"] == department else r["department_a"])
        for r in report(app, store, "missing-bridges", department=department)
    }
    assert len(partners) > 3
    pages, statuses = walk(client, "/page/department/tiefbauamt", "bridges")
    shown = [e for entries in pages for e in entries]
    assert sorted(shown) == sorted(partners) and len(shown) == len(partners)
    assert statuses[0] == f"Einträge 1–3 von {len(partners)}"


def test_a_page_number_out_of_range_shows_the_nearest_page(client, monkeypatch):
    monkeypatch.setattr(ui, "SHOWN", 4)
    first = links(section(page(client, "/page/sdg/11.2?projects=abc"), "projects"))
    assert first == links(section(page(client, "/page/sdg/11.2?projects=0"), "projects"))
    last = section(page(client, "/page/sdg/11.2?projects=9999"), "projects")
    assert last.find_all("a", rel="prev") and not last.find_all("a", rel="next")


def test_the_paging_links_keep_the_language_and_the_other_lists_pages(client, monkeypatch):
    monkeypatch.setattr(ui, "SHOWN", 4)
    root = page(client, "/page/sdg/11.2?lang=en&who=2")
    href = section(root, "projects").find_all("a", rel="next")[0].attrs["href"]
    assert re.fullmatch(r"/page/sdg/11\.2\?lang=en&who=2&projects=2#section-projects", href.replace("&amp;", "&"))


def test_no_page_of_a_long_list_shows_an_internal_project_anonymously(monkeypatch):
    monkeypatch.setattr(ui, "SHOWN", 4)
    built = api.store.open_store("memory")
    load_demo(built, make_settings())
    secret = f"{BASE}project/geheimprojekt"
    graph = f"{BASE}graph/secret-internal"
    built.update_graphs(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{secret}> a <https://w3id.org/querschnitt/def#Project> ; "
        f'<http://purl.org/dc/terms/title> "Geheimprojekt"@de ; '
        f"<https://w3id.org/querschnitt/def#contributesTo> <{SDG}11.2> }} }}",
        [graph],
        source="test",
        loader="test",
        checksum="sha256:test",
        visibility=Visibility.INTERNAL,
    )
    with TestClient(create_app(make_settings(), store=built), base_url="https://testserver") as client:
        anonymous, _ = walk(client, "/page/sdg/11.2", "projects")
        staff, _ = walk(client, "/page/sdg/11.2", "projects", **READER)
        assert secret not in {e for entries in anonymous for e in entries}
        assert secret in {e for entries in staff for e in entries}


def test_a_staff_page_of_an_sdg_with_people_renders(client):
    root = page(client, "/page/sdg/11.2", **READER)
    assert section(root, "who") is not None


# -- catalog pages ---------------------------------------------------------------------------------


def test_the_catalog_lists_its_datasets_in_the_order_sparql_sorts_them(store):
    settings = make_settings()
    rows = select(
        store,
        "SELECT DISTINCT ?d { ?d a <http://www.w3.org/ns/dcat#Dataset> ; "
        f"<http://purl.org/dc/terms/publisher> <{BASE}municipality/municipality> FILTER(isIRI(?d)) }} ORDER BY STR(?d)",
    )
    assert [d.value for d in published_datasets(store, settings)] == [r["d"].value for r in rows]


def test_catalog_pages_together_hold_every_dataset_once(store):
    settings = make_settings(catalog_page_size=7)
    every = published_datasets(store, settings)
    first = build_catalog(store, settings, page=1)
    paged = [d for n in range(1, first.last + 1) for d in build_catalog(store, settings, page=n).datasets]
    assert paged == every and len(every) > 7


def test_a_catalog_page_from_the_kept_dataset_list_equals_one_built_alone(store):
    settings = make_settings(catalog_page_size=7)
    every = published_datasets(store, settings)
    for n in (1, 2):
        alone = build_catalog(store, settings, page=n)
        kept = build_catalog(store, settings, page=n, datasets=every)
        assert _without_blank_nodes(kept.triples) == _without_blank_nodes(alone.triples)


def _without_blank_nodes(triples) -> set[tuple[str, str, str]]:
    # The contact points are blank nodes, labelled anew in every build.
    return {
        tuple("_" if not isinstance(term, NamedNode) and str(term).startswith("_:") else str(term) for term in t)
        for t in triples
    }
