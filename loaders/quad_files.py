"""Quad files (N-Quads, TriG) as a source: their graphs renamed under the source's own name, visibility as recorded.

A quad file names its graphs itself, so loading one as it is would let any file replace any graph of the
store — a foreign municipality's dump replaced the local `-internal` graph. Instead every graph of the
file becomes `{source graph}/{last segment of its name}` (the default graph: the source graph itself),
so a quad file only ever writes under its own name, and loading it again replaces just those graphs.

Visibility travels with the data: `querschnitt export` writes each graph's metadata entry
(`urn:querschnitt:meta`, `qs:visibility`) beside the graphs, and it is read back here. A graph whose
visibility the file does not record, or whose name ends in `-internal`, is internal unless the caller
explicitly asks otherwise: nothing becomes public by accident (personal data lives in such graphs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from loaders.rdf_files import RdfSyntaxError, read_rdf
from loaders.sdg import TAXONOMY_LOADER
from loaders.vocab import QS

META_GRAPH = NamedNode("urn:querschnitt:meta")
# The store's own graphs (metadata, derived relations, staging): recomputed or kept by the store, never loaded.
STORE_GRAPHS = "urn:querschnitt:"
INTERNAL_SUFFIX = "-internal"


@dataclass
class QuadFilePlan:
    """What loading quad files writes: the file's graph → the store's graph, and what each file recorded."""

    renamed: dict[str, str] = field(default_factory=dict)
    # The visibility the file's metadata records per original graph name ("public" / "internal").
    recorded: dict[str, str] = field(default_factory=dict)
    # Graphs of the file that the store installs itself (the SDG taxonomy): left out, every store has them.
    built_in: set[str] = field(default_factory=set)

    def internal_by_name(self, graph: str) -> bool:
        """A graph named like an internal one (the staff loader's convention) stays internal."""
        return graph.endswith(INTERNAL_SUFFIX)


def plan(paths: list[Path], *, graph: str) -> QuadFilePlan:
    """First pass over the files: which graphs they hold (renamed under `graph`) and their recorded visibility."""
    result = QuadFilePlan()
    owners: dict[str, str] = {}
    for path in paths:
        for quad in read_rdf(path, graph=graph):
            name = quad.graph_name.value
            if name == META_GRAPH.value:
                if quad.predicate == QS.visibility and isinstance(quad.subject, NamedNode):
                    result.recorded[quad.subject.value] = "public" if quad.object == QS.public else "internal"
                elif quad.predicate == QS.loader and quad.object.value == TAXONOMY_LOADER:
                    result.built_in.add(quad.subject.value)
                continue
            if name in result.renamed or name.startswith(STORE_GRAPHS):
                continue
            target = graph if name == graph else f"{graph}/{_segment(name)}"
            if target in owners and owners[target] != name:
                raise RdfSyntaxError(
                    f"{path}: die Graphen {owners[target]} und {name} bekämen beide den Namen {target}; "
                    f"laden Sie sie getrennt. / the graphs {owners[target]} and {name} would both become {target}; "
                    "load them separately."
                )
            owners[target] = name
            result.renamed[name] = target
    for graph in result.built_in:
        result.renamed.pop(graph, None)
    return result


def read_renamed(
    paths: list[Path], file_plan: QuadFilePlan, *, graph: str, progress: Callable[[int], None] | None = None
) -> Iterator[Quad]:
    """Second pass: the files' quads in their renamed graphs; the store's own graphs are left out."""
    targets = {name: NamedNode(target) for name, target in file_plan.renamed.items()}
    for path in paths:
        for quad in read_rdf(path, graph=graph, progress=progress):
            target = targets.get(quad.graph_name.value)
            if target is not None:
                yield Quad(quad.subject, quad.predicate, quad.object, target)


def _segment(iri: str) -> str:
    tail = re.split(r"[/#:]", iri.rstrip("/#"))[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-") or "graph"
