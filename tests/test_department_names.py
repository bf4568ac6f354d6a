"""Department names as staff and portals write them, resolved to the organisation chart's departments."""

from __future__ import annotations

import pytest

from loaders.department_names import Department, DepartmentNames, key_words

BASE = "https://musterstadt.example/id/department/"
CHART = DepartmentNames(
    [
        Department(BASE + "stadtplanung", "stadtplanung", "Stadtplanung", number="61"),
        Department(BASE + "tiefbauamt", "tiefbauamt", "Tiefbauamt", number="66"),
        Department(BASE + "umweltamt", "umweltamt", "Umweltamt", aliases=("Amt für Umwelt- und Klimaschutz",)),
        Department(BASE + "gruenflaechen", "gruenflaechen", "Grünflächenamt"),
        Department(BASE + "verkehrsplanung", "verkehrsplanung", "Abteilung Verkehrsplanung"),
        Department(BASE + "ordnungsamt", "32", "Ordnungsamt"),
        Department(BASE + "schulen", "schulen", "Amt für Schulen und Bildung"),
    ]
)


def resolved(text: str) -> tuple[str | None, str]:
    found = CHART.resolve(text)
    return (found.iri.removeprefix(BASE) if found.iri else None), found.how


@pytest.mark.parametrize(
    ("text", "department", "how"),
    [
        ("stadtplanung", "stadtplanung", "id"),
        ("Grünflächenamt", "gruenflaechen", "name"),
        ("GRÜNFLÄCHENAMT", "gruenflaechen", "name"),
        ("amt für umwelt- und klimaschutz", "umweltamt", "alias"),
        ("61", "stadtplanung", "number"),
        ("Amt 66", "tiefbauamt", "number"),
        ("32", "ordnungsamt", "id"),
    ],
)
def test_exact_forms_and_kgst_numbers_resolve(text, department, how):
    assert resolved(text) == (department, how)


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("Stadtplanungsamt", "stadtplanung"),
        ("Amt für Stadtplanung", "stadtplanung"),
        ("Amt f. Stadtplanung", "stadtplanung"),
        ("Gruenflaechenamt", "gruenflaechen"),
        ("Amt für Grünflächen", "gruenflaechen"),
        ("Verkehrsplanungsamt", "verkehrsplanung"),
        ("Schul- und Bildungsamt", "schulen"),
    ],
)
def test_variants_of_a_name_resolve_to_the_one_department(text, department):
    found, how = resolved(text)
    assert found == department and how == "variant"


def test_a_long_name_with_the_short_form_in_parentheses_resolves_by_the_short_form():
    assert resolved("Amt für Natur-, Umwelt- und Klimaschutz (Umweltamt)") == ("umweltamt", "name")
    assert resolved("Amt für Natur-, Umwelt- und Klimaschutz (Amt für Umwelt)") == ("umweltamt", "short form")


def test_an_organisation_prefix_is_looked_through():
    assert resolved("Stadt Musterstadt – Tiefbauamt") == ("tiefbauamt", "name")
    assert resolved("Stadt Musterstadt – Amt für Tiefbau") == ("tiefbauamt", "after prefix")


def test_a_longer_official_name_containing_one_departments_words_resolves():
    assert resolved("Tiefbau- und Vermessungsamt") == ("tiefbauamt", "contained")


def test_a_name_containing_two_departments_is_ambiguous_and_lists_both():
    found = CHART.resolve("Amt für Tiefbau und Grünflächen")
    assert found.iri is None and found.how == "ambiguous"
    assert set(found.candidates) == {"Tiefbauamt", "Grünflächenamt"}


def test_a_misspelt_name_resolves_fuzzily_only_when_clearly_closest():
    assert resolved("Tiefbauammt") == ("tiefbauamt", "fuzzy")


def test_an_unknown_name_resolves_to_nothing_with_the_closest_candidates():
    found = CHART.resolve("Kämmerei")
    assert found.iri is None and found.how == "unknown" and len(found.candidates) >= 1


def test_key_words_drop_generic_words_and_linking_s():
    assert key_words("Amt für Stadtplanung") == key_words("Stadtplanungsamt") == key_words("Stadtplanung")
    assert key_words("Tiefbau- und Verkehrsamt") == key_words("Tiefbauamt") | key_words("Verkehrsamt")
    assert len(key_words("Tiefbau- und Verkehrsamt")) == 2
