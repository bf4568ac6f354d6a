"""Kleinstadt, the hand-made town whose every gap is known (tests/data/gaps), for the test modules.

A helper module, not a conftest: tests import it by name (`pythonpath = ["tests"]` in pyproject.toml).
"""

from __future__ import annotations

import functools
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from api.store import Visibility
from loaders import staff
from loaders.sdg import taxonomy_quads

KLEINSTADT = "https://kleinstadt.example/id/"
KLEINSTADT_GRAPH = f"{KLEINSTADT}graph/kleinstadt"
KLEINSTADT_INTERNAL_GRAPH = f"{KLEINSTADT}graph/kleinstadt-internal"
KLEINSTADT_SDG_GRAPH = f"{KLEINSTADT}graph/sdg"


@functools.cache
def kleinstadt_graphs() -> dict[str, list[Quad]]:
    """The staff loader's graphs of Kleinstadt (public and internal)."""
    result = staff.load(
        [Path(__file__).parent / "data" / "gaps" / "kleinstadt"],
        base=KLEINSTADT,
        municipality=staff.Municipality("Kleinstadt", "05999002"),
        graph=KLEINSTADT_GRAPH,
        internal_graph=KLEINSTADT_INTERNAL_GRAPH,
    )
    assert result.ok, result.errors
    return result.graphs


def fill_kleinstadt(store) -> None:
    """The SDG taxonomy and Kleinstadt (public and internal graph), in one load."""
    graphs = kleinstadt_graphs()
    store.replace_graphs(
        [
            *taxonomy_quads(NamedNode(KLEINSTADT_SDG_GRAPH)),
            *graphs[KLEINSTADT_GRAPH],
            *graphs[KLEINSTADT_INTERNAL_GRAPH],
        ],
        visibility={
            KLEINSTADT_SDG_GRAPH: Visibility.PUBLIC,
            KLEINSTADT_GRAPH: Visibility.PUBLIC,
            KLEINSTADT_INTERNAL_GRAPH: Visibility.INTERNAL,
        },
        source="tests",
        loader="tests",
        checksum="sha256:0",
    )
