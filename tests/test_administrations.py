"""Departments belong to the nearest administration above them (api/administrations.py)."""

from __future__ import annotations

from api.administrations import UNITS, administrations, same_administration
from api.demo import load_demo
from api.store import open_store
from api.testing import make_settings
from loaders import demo


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
