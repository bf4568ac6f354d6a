"""The demo municipality and the built-in SDG taxonomy into a store: what `querschnitt demo` does,
and what tests and benchmarks build on."""

from __future__ import annotations

import hashlib
import json

from pyoxigraph import NamedNode, Quad

from api.settings import Settings
from api.store import GraphInfo, Store, Visibility
from loaders import demo, staff
from loaders.rdf_files import sha256_of
from loaders.report import LoadError, LoadResult
from loaders.resources import ONTOLOGY_DIR
from loaders.sdg import TAXONOMY_LOADER, taxonomy_quads


def install_sdg_taxonomy(store: Store, settings: Settings) -> GraphInfo:
    """Load the built-in SDG taxonomy into its public graph."""
    graph = settings.graph_iri("sdg")
    return store.replace_graph(
        graph,
        taxonomy_quads(NamedNode(graph)),
        visibility=Visibility.PUBLIC,
        source="querschnitt:ontology/sdg.ttl",
        loader=TAXONOMY_LOADER,
        checksum=sha256_of(ONTOLOGY_DIR / "sdg.ttl"),
    )


def ensure_sdg_taxonomy(store: Store, settings: Settings) -> GraphInfo | None:
    """Install the built-in SDG taxonomy unless the store holds this very version; None when it does.

    Every gap report joins on the taxonomy (`sdgo:Target`, `skos:broader`): a store without it answers
    every report with nothing, which looks like "no gaps". So every store a command opens gets it.
    """
    if store.read_only:
        return None
    graph = settings.graph_iri("sdg")
    checksum = sha256_of(ONTOLOGY_DIR / "sdg.ttl")
    if any(info.iri == graph and info.checksum == checksum for info in store.graphs(include_internal=False)):
        return None
    return install_sdg_taxonomy(store, settings)


def demo_result(rows: dict[str, list[dict[str, str]]], settings: Settings, *, source: str) -> LoadResult:
    """The staff loader's output for generated demo rows."""
    return staff.build(
        staff.sheets_from_rows(rows, source=source),
        base=settings.base_iri,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=settings.graph_iri("demo"),
        internal_graph=settings.graph_iri("demo-internal"),
    )


def visibility_of(graph: str) -> Visibility:
    """Loaders put personal and non-public data in graphs whose IRI ends with `-internal`."""
    return Visibility.INTERNAL if graph.endswith("-internal") else Visibility.PUBLIC


def write_result(
    store: Store, result: LoadResult, *, source: str, loader: str, checksum: str, published_people: bool = False
) -> None:
    """Replace every graph of a load result in one step (public and internal together)."""
    store.replace_graphs(
        (Quad(q.subject, q.predicate, q.object, NamedNode(g)) for g, quads in result.graphs.items() for q in quads),
        visibility={g: visibility_of(g) for g in result.graphs},
        source=source,
        loader=loader,
        checksum=checksum,
        published_people=published_people,
    )


def rows_checksum(rows: dict[str, list[dict[str, str]]]) -> str:
    """Checksum of generated rows (the demo has no source file)."""
    return "sha256:" + hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def load_demo(store: Store, settings: Settings, *, seed: int = 2030, scale: int = 1) -> dict:
    """Musterstadt and the SDG taxonomy into `store`; returns the generated sheet rows."""
    rows = demo.generate_rows(seed=seed, scale=scale)
    result = demo_result(rows, settings, source=f"demo(seed={seed}, scale={scale})")
    if not result.ok:
        raise LoadError(result.errors)
    install_sdg_taxonomy(store, settings)
    write_result(store, result, source=f"demo seed={seed} scale={scale}", loader="demo", checksum=rows_checksum(rows))
    return rows
