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
        yield kind, {}
        if "department" in filters:
            for department in DEPARTMENTS:
                yield kind, {"department": f"{BASE}department/{department}"}
        if "goal" in filters:
            for goal in ("11", "15", "3"):
                yield kind, {"goal": goal}
        if filters == ("department", "goal"):
            yield kind, {"department": f"{BASE}department/tiefbauamt", "goal": "11"}


def page_rows(client: TestClient, kind: str, params: dict[str, str], headers: dict[str, str]) -> set[tuple]:
    """The rows of the staff page's CSV export: each query column's IRI (numbers as numbers)."""
    response = client.get(f"/gaps/{kind}", params={**params, "format": "csv", "lang": "de"}, headers=headers)
    assert response.status_code == 200, response.text[:300]
    table = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff")), delimiter=";"))
    header, body = table[0], table[1:]
    rows = set()
    for line in body:
        cells = dict(zip(header, line, strict=True))
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


def test_a_department_only_associated_without_a_role_is_not_involved_on_either_surface(client, loose):
    project = loose["project"].value
    assert any(row[1] == project for row in api_rows(client, "unused-datasets", {}, {}))
    params = {"department": loose["department"]}
    for rows in (page_rows(client, "unused-datasets", params, {}), api_rows(client, "unused-datasets", params, {})):
        assert all(row[1] != project for row in rows)


def test_a_name_is_chosen_in_the_asked_language_then_german_then_untagged_then_english():
    names = [Literal("Building Office", language="en"), Literal("Bauamt"), Literal("Bauverwaltung", language="de")]
    assert gaps.pick_label(names, "en") == "Building Office"
    assert gaps.pick_label(names, "de") == "Bauverwaltung"
    assert gaps.pick_label(names[:2], "de") == "Bauamt"
    assert gaps.pick_label(names[:1], "de") == "Building Office"
