"""What a load would change, checked before anything is written.

A load replaces its source's graphs. Before it does, the CLI compares the new content with the old:
- **summary**: per kind of entity (rdf:type), how many are added, changed and removed;
- **removals**: a replacement that would remove more than a quarter of one kind is refused unless asked
  for (`--allow-removals`): a renamed column or a half-filled export must not silently delete data;
- **duplicates**: an entity IRI that another source already defines (a type or a title) is refused, naming
  that source and its graph; a source that only adds statements about it (enrichment) is welcome;
- **unchanged**: an identical reload writes nothing at all.

Entities are the IRI subjects with an rdf:type. Blank nodes are compared without their labels (a parser and a
store give them different ones), so their content counts towards the entity that points at them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, NamedNode, Quad

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# What "defines" an entity besides its type: the titles and names the pages and reports show.
NAMING = {
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
}
# Not entities of a source: the SDG concepts (the taxonomy's, enriched by sdg-texts) and the municipality
# itself, which every staff source of the town states from the settings.
SHARED_PREFIXES = ("http://metadata.un.org/sdg/",)
SHARED_TYPES = {"http://www.w3.org/ns/org#FormalOrganization"}
# Parts that mirror other entities' links (a project's lead and partners): not counted as kinds of their own,
# or dropping three partners of ten would count as removing "a quarter of the associations".
PART_TYPES = {"http://www.w3.org/ns/prov#Association"}
REMOVAL_LIMIT = 0.25


@dataclass
class Entities:
    """The typed IRI subjects of some quads: their types and an order-free digest of their statements."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    digests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    defines: set[str] = field(default_factory=set)
    triples: int = 0

    def add(self, s: Any, p: Any, o: Any) -> None:
        """Take one statement into account."""
        self.triples += 1
        if not isinstance(s, NamedNode):
            return
        subject, predicate = s.value, p.value
        obj = "_:" if isinstance(o, BlankNode) else str(o)
        # A sum of hashes: the same statements in any order give the same digest (within one process).
        self.digests[subject] = (self.digests[subject] + hash((predicate, obj))) & 0xFFFFFFFFFFFFFFFF
        if predicate == RDF_TYPE:
            self.types[subject].add(o.value if isinstance(o, NamedNode) else str(o))
        if predicate == RDF_TYPE or predicate in NAMING:
            self.defines.add(subject)

    def kinds(self) -> dict[str, set[str]]:
        """Entity IRIs per kind (the local name of the type), e.g. `Project` → {…}."""
        out: dict[str, set[str]] = defaultdict(set)
        for subject, types in self.types.items():
            for kind in types - PART_TYPES:
                out[_local(kind)].add(subject)
        return out

    def own(self) -> set[str]:
        """The entities this content defines, less the shared ones (SDG concepts, the municipality)."""
        return {
            s
            for s in self.defines
            if s in self.types and not s.startswith(SHARED_PREFIXES) and not (self.types[s] & SHARED_TYPES)
        }


def of_quads(quads: Iterable[Quad]) -> Entities:
    """The entities of a stream of quads (all graphs together)."""
    entities = Entities()
    for q in quads:
        entities.add(q.subject, q.predicate, q.object)
    return entities


def of_graphs(store: Any, graphs: Iterable[str]) -> Entities:
    """The entities the store holds in `graphs` now (as staff see them)."""
    entities = Entities()
    for graph in graphs:
        # Solutions are read as they come (no dicts in between): at 10^5 triples that halves the time.
        for row in store.query(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH {NamedNode(graph)} {{ ?s ?p ?o }} }}", include_internal=True
        ):
            entities.add(row["s"], row["p"], row["o"])
    return entities


@dataclass(frozen=True)
class Change:
    """Added, changed and removed entities of one kind, out of `before`."""

    kind: str
    before: int
    added: int
    changed: int
    removed: int


def changes(old: Entities, new: Entities) -> list[Change]:
    """Per kind, what replacing `old` with `new` adds, changes and removes (kinds in name order)."""
    before, after = old.kinds(), new.kinds()
    out = []
    for kind in sorted(set(before) | set(after)):
        was, will = before.get(kind, set()), after.get(kind, set())
        changed = sum(1 for s in was & will if old.digests[s] != new.digests[s])
        out.append(Change(kind, len(was), len(will - was), changed, len(was - will)))
    return out


def too_many_removals(summary: Iterable[Change]) -> list[Change]:
    """The kinds of which more than a quarter of the entities would go."""
    return [c for c in summary if c.before and c.removed / c.before > REMOVAL_LIMIT]


def unchanged(old: Entities, new: Entities) -> bool:
    """Whether the new content states exactly what the old did (same entities, same statements, same size)."""
    return old.triples == new.triples and dict(old.digests) == dict(new.digests)


@dataclass(frozen=True)
class Duplicate:
    """An entity that another source defines already."""

    entity: str
    graph: str
    source: str


def duplicates(store: Any, entities: set[str], *, own_graphs: set[str]) -> list[Duplicate]:
    """The `entities` that a registered source graph other than `own_graphs` types or names."""
    graphs = {info.iri: info.source for info in store.graphs(include_internal=True)}
    others = sorted(g for g in graphs if g not in own_graphs and not g.startswith("urn:querschnitt:"))
    if not entities:
        return []
    names = " ".join(f"<{p}>" for p in sorted(NAMING | {RDF_TYPE}))
    found: dict[str, Duplicate] = {}
    for graph in others:
        # What each other graph defines, read by predicate and intersected here: asking for the new entities
        # by VALUES took 11 s for 8,000 entities at 10^5 triples, this 0.2 s.
        query = f"SELECT DISTINCT ?s WHERE {{ GRAPH {NamedNode(graph)} {{ VALUES ?p {{ {names} }} ?s ?p ?o }} }}"
        for row in store.query(query, include_internal=True):
            entity = row["s"].value if isinstance(row["s"], NamedNode) else None
            # Name the public graph of a source rather than its internal one (the user knows that name).
            if entity in entities and (entity not in found or found[entity].graph.endswith("-internal")):
                found[entity] = Duplicate(entity, graph, graphs[graph])
    return sorted(found.values(), key=lambda d: d.entity)


def _local(iri: str) -> str:
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
