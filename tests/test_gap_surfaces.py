"""Every gap report gives the same rows on the staff pages (`/gaps/{kind}`, as its CSV export with IRIs) and
in the JSON facade (`/api/gaps/{kind}`): one definition in api/gaps.py, for every filter and both callers.

The demo gets one more statement: a project `prov:wasAssociatedWith` a department that is neither
its lead nor a partner. The reports' own relation (`qsd:member`) does not tie them, so neither surface may show
the project's rows under that department's filter (the staff page did, the facade did not).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad

import api.store
from api import gaps, i18n, search, ui
from api.app import create_app
from api.demo import load_demo
from api.named_queries import QueryRegistry
from api.store import Visibility
from api.testing import READER_TOKEN, make_settings
from loaders import demo
from loaders.vocab import PROV

SETTINGS = make_settings()
BASE = SETTINGS.base_iri
DEPARTMENTS = [d[0] for d in demo.DEPARTMENTS]
MEMBERS = "SELECT ?d WHERE { $p <https://w3id.org/querschnitt/derived#member> ?d }"
CREATORS = "SELECT DISTINCT ?d WHERE { ?dataset a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/creator> ?d }"


def loose_pair(store) -> tuple[NamedNode, str]:
    """A project with unused-datasets rows, and a demo department that is not its lead or partner and created
    no dataset: no row of that project involves the department."""
    creators = {r[0].value for r in store.query(CREATORS)}
    for row in store.query(QueryRegistry()["unused-datasets"].sparql):
        members = {r[0].value for r in store.query(MEMBERS.replace("$p", str(row["project"])))}
        for department in DEPARTMENTS:
            iri = f"{BASE}department/{department}"
            if members and iri not in members | creators:
                return row["project"], iri
    raise AssertionError("the demo has no such project and department")


@pytest.fixture(scope="module")
def loose() -> dict:
    return {}


@pytest.fixture(scope="module")
def client(loose) -> Iterator[TestClient]:
    store = api.store.open_store("memory")
    load_demo(store, SETTINGS)
    loose["project"], loose["department"] = project, department = loose_pair(store)
    store.replace_graph(
        f"{BASE}graph/loose",
        [Quad(project, PROV.wasAssociatedWith, NamedNode(department))],
        visibility=Visibility.PUBLIC,
        source="test",
        loader="test",
        checksum="-",
    )
    app = create_app(SETTINGS, store=store)
    for router in (ui.router, search.router):
        app.include_router(router)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def cases() -> Iterator[tuple[str, dict[str, str]]]:
    for kind, filters in gaps.KINDS.items():
        if kind == "unused-datasets":
            continue  # grouped: its own test below
        yield kind, {}
        if "department" in filters:
            for department in DEPARTMENTS:
                yield kind, {"department": f"{BASE}department/{department}"}
        if "goal" in filters:
            for goal in ("11", "15", "3"):
                yield kind, {"goal": goal}
        if filters == ("department", "goal"):
            yield kind, {"department": f"{BASE}department/tiefbauamt", "goal": "11"}


def csv_export(client: TestClient, path: str, params: dict[str, str], headers: dict[str, str]) -> list[dict[str, str]]:
    """The staff page's German CSV export as rows of column name → cell."""
    response = client.get(path, params={**params, "format": "csv", "lang": "de"}, headers=headers)
    assert response.status_code == 200, response.text[:300]
    table = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff")), delimiter=";"))
    return [dict(zip(table[0], line, strict=True)) for line in table[1:]]


def page_rows(client: TestClient, kind: str, params: dict[str, str], headers: dict[str, str]) -> set[tuple]:
    """The rows of the staff page's CSV export: each query column's IRI (numbers as numbers)."""
    rows = set()
    for cells in csv_export(client, f"/gaps/{kind}", params, headers):
        values = []
        for column in gaps.COLUMNS[kind]:
            name = i18n.translate("de", f"col.{column}")
            if column in gaps.NUMBERS:
                values.append(round(float(cells[name].replace(",", ".")), 6))
            else:
                values.append(cells[f"{name} (IRI)"])
        rows.add(tuple(values))
    return rows


def api_rows(client: TestClient, kind: str, params: dict[str, str], headers: dict[str, str]) -> set[tuple]:
    """The rows of the JSON report: each query column's IRI (numbers as numbers)."""
    response = client.get(f"/api/gaps/{kind}", params={**params, "limit": 100_000}, headers=headers)
    assert response.status_code == 200, response.text[:300]
    report = response.json()
    assert report["total"] == len(report["rows"]) and not report["truncated"]
    return {
        tuple(round(float(row[c]), 6) if c in gaps.NUMBERS else row[c]["iri"] for c in gaps.COLUMNS[kind])
        for row in report["rows"]
    }


@pytest.mark.parametrize("staff_caller", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize(("kind", "params"), list(cases()), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_the_staff_page_and_the_json_facade_give_the_same_rows(client, kind, params, staff_caller):
    headers = {"Authorization": f"Bearer {READER_TOKEN}"} if staff_caller else {}
    page, facade = page_rows(client, kind, params, headers), api_rows(client, kind, params, headers)
    assert page == facade
    if not params:
        assert page, f"the demo has no {kind} rows: the comparison would prove nothing"


# unused-datasets is read grouped: per project (how many datasets it could use), per dataset (how many projects
# could use it), and every row of one project or dataset. Column of the page → field of the JSON rows.
UNUSED_VIEWS = {
    "projects": {"project": "project", "could_use": "datasets"},
    "datasets": {"dataset": "dataset", "could_serve": "projects"},
    "rows": {"dataset": "dataset", "project": "project", "target": "target"},
}


def unused_page_rows(client: TestClient, view: str, params: dict[str, str], headers: dict[str, str]) -> set[tuple]:
    query = {**params, **({"view": view} if view != "rows" else {})}
    rows = set()
    for cells in csv_export(client, "/gaps/unused-datasets", query, headers):
        values: list = []
        for column, field in UNUSED_VIEWS[view].items():
            name = i18n.translate("de", f"col.{column}")
            values.append(int(cells[name]) if field in ("datasets", "projects") else cells[f"{name} (IRI)"])
        rows.add(tuple(values))
    return rows


def unused_api_rows(client: TestClient, view: str, params: dict[str, str], headers: dict[str, str]) -> set[tuple]:
    query = {**params, "limit": 100_000, **({"view": view} if view != "rows" else {})}
    response = client.get("/api/gaps/unused-datasets", params=query, headers=headers)
    assert response.status_code == 200, response.text[:300]
    report = response.json()
    assert report["total"] == len(report["rows"])
    return {
        tuple(row[f] if f in ("datasets", "projects") else row[f]["iri"] for f in UNUSED_VIEWS[view].values())
        for row in report["rows"]
    }


def unused_cases() -> Iterator[tuple[str, dict[str, str]]]:
    for view in ("projects", "datasets"):
        yield view, {}
        for department in ("tiefbauamt", "umweltamt", "schulamt", "stadtplanungsamt"):
            yield view, {"department": f"{BASE}department/{department}"}
        for goal in ("11", "15", "3"):
            yield view, {"goal": goal}
        yield view, {"department": f"{BASE}department/tiefbauamt", "goal": "11"}


@pytest.mark.parametrize("staff_caller", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize(("view", "params"), list(unused_cases()), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_unused_data_is_grouped_alike_on_the_staff_page_and_in_the_json_facade(client, view, params, staff_caller):
    headers = {"Authorization": f"Bearer {READER_TOKEN}"} if staff_caller else {}
    page, facade = unused_page_rows(client, view, params, headers), unused_api_rows(client, view, params, headers)
    assert page == facade
    if not params:
        assert page, "the demo has no unused data: the comparison would prove nothing"


@pytest.mark.parametrize("staff_caller", [False, True], ids=["anonymous", "staff"])
def test_every_row_of_one_project_or_dataset_is_the_same_on_both_surfaces_and_in_the_named_query(client, staff_caller):
    headers = {"Authorization": f"Bearer {READER_TOKEN}"} if staff_caller else {}
    solutions = client.app.state.store.query(QueryRegistry()["unused-datasets"].sparql, include_internal=staff_caller)
    pairs = {(r["dataset"].value, r["project"].value, r["target"].value) for r in solutions}
    groups = unused_api_rows(client, "projects", {}, headers)
    for project, count in sorted(groups)[:4]:
        rows = unused_page_rows(client, "rows", {"project": project}, headers)
        assert rows == unused_api_rows(client, "rows", {"project": project}, headers)
        assert rows == {p for p in pairs if p[1] == project}
        assert len({d for d, _, _ in rows}) == count
    for dataset, count in sorted(unused_api_rows(client, "datasets", {}, headers))[:4]:
        rows = unused_api_rows(client, "rows", {"dataset": dataset}, headers)
        assert rows == {p for p in pairs if p[0] == dataset}
        assert len({p for _, p, _ in rows}) == count


def test_a_department_only_associated_without_a_role_is_not_involved_on_either_surface(client, loose):
    project = loose["project"].value
    assert any(row[0] == project for row in unused_api_rows(client, "projects", {}, {}))
    params = {"department": loose["department"]}
    for rows in (
        unused_page_rows(client, "projects", params, {}),
        unused_api_rows(client, "projects", params, {}),
    ):
        assert all(row[0] != project for row in rows)


def test_a_name_is_chosen_in_the_asked_language_then_german_then_untagged_then_english():
    names = [Literal("Building Office", language="en"), Literal("Bauamt"), Literal("Bauverwaltung", language="de")]
    assert gaps.pick_label(names, "en") == "Building Office"
    assert gaps.pick_label(names, "de") == "Bauverwaltung"
    assert gaps.pick_label(names[:2], "de") == "Bauamt"
    assert gaps.pick_label(names[:1], "de") == "Building Office"
