"""The Musterdatenkatalog as a reference vocabulary: categories found as staff and portals write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse

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
