"""Departments belong to the nearest administration above them (api/administrations.py)."""

from __future__ import annotations

import re

import pytest

from api.administrations import UNITS, administrations, same_administration
from api.demo import load_demo
from api.named_queries import QueryRegistry
from api.store import open_store
from api.testing import make_settings
from loaders import demo

COLUMNS = ("department", "parent", "organisation", "administration")


def test_a_department_belongs_to_the_nearest_marked_unit_above_it_else_to_its_municipality():
    rows = [
        {"department": "town-amt", "organisation": "town"},
        {"department": "fb", "organisation": "town"},
        {"department": "fb-amt", "parent": "fb"},
        {"department": "bezirk", "organisation": "town", "administration": "true"},
        {"department": "bezirk-fb", "parent": "bezirk"},
        {"department": "bezirk-amt", "parent": "bezirk-fb"},
        {"department": "other-amt", "organisation": "other-town"},
    ]
    found = administrations(rows)
    assert found == {
        "town-amt": "town",
        "fb": "town",
        "fb-amt": "town",
        "bezirk": "bezirk",
        "bezirk-fb": "bezirk",
        "bezirk-amt": "bezirk",
        "other-amt": "other-town",
    }
    assert same_administration(found, "fb-amt", "town-amt")
    assert not same_administration(found, "fb-amt", "bezirk-amt")
    assert not same_administration(found, "town-amt", "other-amt")


def test_a_cycle_of_parents_does_not_hang_and_stays_apart():
    found = administrations([{"department": "a", "parent": "b"}, {"department": "b", "parent": "a"}])
    assert set(found) == {"a", "b"}


def test_the_demos_districts_are_administrations_of_their_own():
    store = open_store("memory")
    settings = make_settings()
    load_demo(store, settings, scale=4)  # ⌈√4⌉ = 2 administrations: the town and one district
    rows = [
        {
            k: (v.value if v is not None else None)
            for k, v in zip(
                ("department", "parent", "organisation", "administration"),
                (r["department"], r["parent"], r["organisation"], r["administration"]),
                strict=True,
            )
        }
        for r in store.query(UNITS, include_internal=True)
    ]
    found = administrations(rows)
    base = settings.base_iri
    district = f"{base}department/{demo.scaled_id('bezirksverwaltung', 2)}"
    assert found[f"{base}department/{demo.scaled_id('umweltamt', 2)}"] == district
    assert found[f"{base}department/umweltamt"] == f"{base}municipality/municipality"
    assert len(set(found.values())) == demo.administrations(4) == 2


@pytest.fixture(scope="module")
def region():
    """The demo at scale 4: the town and one district administration, each with its departments."""
    from fastapi.testclient import TestClient

    from api import search, ui
    from api.app import create_app

    store = open_store("memory")
    settings = make_settings()
    load_demo(store, settings, scale=4)
    app = create_app(settings, store=store)
    for router in (ui.router, search.router):
        app.include_router(router)
    with TestClient(app) as client:
        yield client, store, settings


def test_missing_bridges_pair_departments_within_one_administration_unless_all_are_asked(region):
    client, store, settings = region
    rows = [
        (r["department_a"].value, r["department_b"].value, r["target"].value)
        for r in store.query(QueryRegistry()["missing-bridges"].sparql)
    ]
    found = administrations(
        {k: (v.value if v is not None else None) for k, v in zip(COLUMNS, (r[c] for c in COLUMNS), strict=True)}
        for r in store.query(UNITS)
    )
    within = {r for r in rows if same_administration(found, r[0], r[1])}
    assert within and len(within) < len(rows), "the demo must have pairs across its administrations"

    def api(**params) -> set[tuple[str, str, str]]:
        report = client.get("/api/gaps/missing-bridges", params={"limit": 100_000, **params}).json()
        assert report["total"] == len(report["rows"])
        return {(r["department_a"]["iri"], r["department_b"]["iri"], r["target"]["iri"]) for r in report["rows"]}

    assert api() == within
    assert api(scope="all") == set(rows)
    overview = {g["kind"]: g["count"] for g in client.get("/api/gaps").json()["gaps"]}
    assert overview["missing-bridges"] == len(within)
    district = f"{settings.base_iri}department/{demo.scaled_id('bezirksverwaltung', 2)}"
    assert api(administration=district) == {r for r in within if found[r[0]] == district}


def test_the_staff_page_offers_the_administrations_and_pairs_across_them_only_when_asked(region):
    client, _, settings = region
    page = client.get("/gaps/missing-bridges").text
    assert 'id="filter-administration"' in page and 'name="scope"' in page
    default = client.get("/gaps/missing-bridges", params={"format": "csv"}).text.count("\n")
    everything = client.get("/gaps/missing-bridges", params={"format": "csv", "scope": "all"}).text.count("\n")
    assert everything > default > 1
    town = client.get(
        "/gaps/missing-bridges",
        params={"format": "csv", "administration": f"{settings.base_iri}municipality/municipality"},
    )
    assert 1 < town.text.count("\n") < default


def test_the_dashboard_shows_one_administration_when_asked(region):
    client, store, settings = region
    everything = client.get("/").text
    assert 'id="filter-administration"' in everything
    district = f"{settings.base_iri}department/{demo.scaled_id('bezirksverwaltung', 2)}"
    one = client.get("/", params={"administration": district}).text
    # The heatmap keeps the district's departments: its rows are links to their pages, all of the district.
    rows = re.findall(r'<th scope="row"><a href="/page/department/([^"]+)"', one)
    assert rows and all(r.endswith("-2") or r == demo.scaled_id("bezirksverwaltung", 2) for r in rows)
    assert len(rows) < len(re.findall(r'<th scope="row"><a href="/page/department/', everything))
    projects = [int(n) for n in re.findall(r'<span class="count-number">(\d+)</span>', one)[:1]]
    total = [int(n) for n in re.findall(r'<span class="count-number">(\d+)</span>', everything)[:1]]
    assert 0 < projects[0] < total[0]
