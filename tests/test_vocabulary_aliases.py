"""Licence ids and data themes as real portals spell them."""

from __future__ import annotations

import pytest

from loaders.sheets import LICENSES, THEMES
from loaders.vocabulary_aliases import license_id, themes_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dl-zero-de/2_0", "dl-zero-de/2.0"),
        ("DL-ZERO-DE/2.0", "dl-zero-de/2.0"),
        ("http://dcat-ap.de/def/licenses/dl-zero-de/2.0", "dl-zero-de/2.0"),
        ("https://www.dcat-ap.de/def/licenses/dl-by-de/2.0/", "dl-by-de/2.0"),
        ("dl-de/by-2-0", "dl-by-de/2.0"),
        ("CC-BY-4.0", "cc-by/4.0"),
        ("officialwork", "officialWork"),
    ],
)
def test_licence_spellings_normalise_to_the_dcat_ap_de_id(text, expected):
    assert license_id(text) == expected


def test_every_known_licence_id_is_its_own_normal_form():
    assert {lic: license_id(lic) for lic in LICENSES} == {lic: lic for lic in LICENSES}


def test_an_unknown_licence_stays_unknown():
    assert license_id("meine-eigene-lizenz") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bevölkerung", ("SOCI",)),
        ("Umwelt und Klima", ("ENVI",)),
        ("umwelt_klima", ("ENVI",)),
        ("Bildung und Wissenschaft", ("EDUC", "TECH")),
        ("Verbraucherschutz", ()),
        ("TRAN", ("TRAN",)),
        ("http://publications.europa.eu/resource/authority/data-theme/ENVI", ("ENVI",)),
        ("Verkehr", ("TRAN",)),
    ],
)
def test_old_govdata_categories_and_eu_themes_give_eu_themes(text, expected):
    assert themes_for(text) == expected


def test_every_eu_theme_code_and_label_is_known():
    assert all(themes_for(code) == (code,) and themes_for(label) == (code,) for code, label in THEMES.items())


def test_an_unknown_category_is_none():
    assert themes_for("Zauberei") is None
