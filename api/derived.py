"""Derived "works on" relations, kept in two graphs of their own and recomputed in every write transaction.

The gap queries (`queries/*.rq`) join projects, their lead and partner departments and their SDG links
again and again; on disk at 10^6 triples those joins over the source graphs take seconds. This module
computes them once per write:

| triple | meaning |
|---|---|
| `?project qsd:member ?department` | the department is lead or partner of the project (`prov:qualifiedAssociation` with `qs:LeadRole`/`qs:PartnerRole`) |
| `?project qsd:target ?target` | the project (`qs:Project`) links the target (`dct:subject`, typed `sdgo:Target`) |
| `?project qsd:goal ?goal` | the project links the goal (typed `sdgo:Goal`), or one of its targets (`skos:broader`) |
| `?department qsd:worksOnTarget ?target` | the department is member of a project that links the target |
| `?a qsd:sharesProjectWith ?b` | both are members of one project (both directions, and `?a` with itself) |
| `?x qsd:label ?l` / `?x qsd:staffLabel ?l` | the German name of a project, dataset or department (the least of its `dct:title`s or `foaf:name`s tagged `de`): from the public graphs / from all graphs, for what internal graphs type or name |

**Visibility.** A derived fact must never make internal facts public. `PUBLIC_GRAPH` holds what follows
from the public source graphs alone (exactly those `EmbeddedStore.graphs(include_internal=False)` lists)
and is registered public in the metadata graph, so anonymous callers see it. `INTERNAL_GRAPH` holds
what follows from everything staff see (the default graph and every named graph) and is not already in
`PUBLIC_GRAPH`; it is registered internal. Anonymous callers thus get the relations of the public data,
staff the relations of all data, and no fact is stored twice (the union default graph would return it
twice). Labels are the exception: the least German name may differ between the two scopes, so
`qsd:staffLabel` in `INTERNAL_GRAPH` holds the label as staff see it of every entity that an internal graph
types or names, and a query takes `COALESCE(?staff_label, ?label)` (anonymous callers never see the former). Building a label table per query
decoded every title from disk (~200 ms per 24,000 datasets at 10^6 triples); these are scanned as stored.

**Freshness.** `install` appends `REFRESH` to `EmbeddedStore.derived_updates`, which the store runs at
the end of the transaction of every write (`replace_graphs`, `drop_graph`, `update`, `update_graphs`):
readers see the old sources with the old derived graphs or the new ones with the new (snapshot
isolation), and a failed write rolls back both. The refresh recomputes every relation but writes only
the difference (a write to RocksDB costs ~20 µs a quad; rewriting everything took 20 s at 10^6
triples). A write that names the graphs it changes (a replace, a drop, `update_graphs`) on the embedded
store takes `IncrementalRefresh` instead, in the same transaction: the subjects of the triples it adds or
removes are marked first, and only the projects, departments and named entities they reach are
recomputed, by index lookups (a small workbook's replace at 10^6 triples: ~0.14 s instead of ~1.7 s).
Both are measured in docs/scaling.md (bench/gaps.py, bench/writes.py); tests/test_incremental_refresh.py
holds the incremental result to the full one after every kind of write.

**Shapes.** On disk, Oxigraph joins triple patterns by one index lookup per row, and per graph of the
dataset; each pattern is therefore its own sub-select, which is scanned once and joined by hashing
(3–10× faster here). Expressions on IRIs (`STR`, `!=`, `FILTER(?g NOT IN …)`) decode every term from
disk, and Virtuoso 7 cannot compile `MINUS { VALUES … }`: graph and predicate sets are matched by
joining with the scratch graph instead. Every operation is plain SPARQL 1.1 Update with full IRIs.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable
from typing import Protocol

from pyoxigraph import NamedNode

from api.store.base import META_GRAPH

DERIVED_NS = "https://w3id.org/querschnitt/derived#"
PUBLIC_GRAPH = NamedNode("urn:querschnitt:derived:public")
INTERNAL_GRAPH = NamedNode("urn:querschnitt:derived:internal")
# Lives only inside the refresh's own transaction (dropped at its end), so no reader ever sees it.
SCRATCH_GRAPH = NamedNode("urn:querschnitt:derived:scratch")
DERIVED_GRAPHS = (PUBLIC_GRAPH, INTERNAL_GRAPH)

_META = str(META_GRAPH)
_PUB, _INT, _SCRATCH = str(PUBLIC_GRAPH), str(INTERNAL_GRAPH), str(SCRATCH_GRAPH)

# Oxigraph accepts no PREFIX after the first operation of an update request, and the refresh is appended
# to other updates: prefixed names are expanded here, once.
_NAMESPACES = {
    "qsd": DERIVED_NS,
    "qs": "https://w3id.org/querschnitt/def#",
    "prov": "http://www.w3.org/ns/prov#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sdgo": "http://metadata.un.org/sdg/ontology#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
_PREFIXED = re.compile(r"(?<![\w:/<#])(" + "|".join(_NAMESPACES) + r"):([A-Za-z][\w-]*)")


def _expand(text: str) -> str:
    return _PREFIXED.sub(lambda m: f"<{_NAMESPACES[m[1]]}{m[2]}>", text)


def _scan(variables: str, pattern: str, scope: str, *, values: tuple[str, str] | None = None) -> str:
    """One triple pattern matched in the graphs of `scope`, as a sub-select (so it is scanned once); `values`:
    (variable, terms) a VALUES block restricts it to."""
    if values:
        pattern = f"VALUES {values[0]} {{ {values[1]} }} {pattern}"
    if scope == "public":
        # The public source graphs, listed in the scratch graph by the refresh's first step.
        body = f"GRAPH {_SCRATCH} {{ ?_g qsd:publicSource true }} GRAPH ?_g {{ {pattern} }}"
    elif scope == "all":
        # What staff see: the default graph and every named graph (EmbeddedStore.visible_graphs) but the
        # store's own, staging graphs included (marked qs:staging in the metadata graph by the writer).
        body = (
            f"{{ {pattern} }} UNION {{ GRAPH ?_g {{ {pattern} }} "
            f"MINUS {{ GRAPH {_SCRATCH} {{ ?_g qsd:storeGraph true }} }} }}"
        )
    elif scope == "internal":
        # The graphs of "all" that are not public: what only staff see. (In an update on Virtuoso the default
        # graph is the union of all graphs: what a public graph holds too is taken out of it.)
        body = (
            f"{{ {pattern} MINUS {{ GRAPH {_SCRATCH} {{ ?_p qsd:publicSource true }} GRAPH ?_p {{ {pattern} }} }} }} "
            f"UNION {{ GRAPH ?_g {{ {pattern} }} "
            f"MINUS {{ GRAPH {_SCRATCH} {{ ?_g qsd:storeGraph true }} }} "
            f"MINUS {{ GRAPH {_SCRATCH} {{ ?_g qsd:publicSource true }} }} }}"
        )
    elif scope == "derived-public":
        body = f"GRAPH {_PUB} {{ {pattern} }}"
    else:  # "derived-all"
        body = f"VALUES ?_g {{ {_PUB} {_INT} }} GRAPH ?_g {{ {pattern} }}"
    return f"{{ SELECT {variables} WHERE {{ {body} }} }}"


# Each relation is a predicate and a function from a scope ("public" or "all") and a way to match one triple
# pattern in the graphs of a scope (`_scan` for the full refresh, `_Lookups` for the incremental one) to the
# pattern binding its ?s and ?o. member, target and goal read the source graphs of that scope; the others
# read the derived relations written before them in the same refresh (goal also the target relation).
def _member(scope: str, match=_scan) -> str:
    return (
        match("?s", "?s a qs:Project", scope)
        + match("?s ?a", "?s prov:qualifiedAssociation ?a", scope)
        + match("?a ?o", "?a prov:agent ?o", scope)
        + match("?a", "?a prov:hadRole ?role", scope, values=("?role", "qs:LeadRole qs:PartnerRole"))
    )


def _target(scope: str, match=_scan) -> str:
    return (
        match("?s", "?s a qs:Project", scope)
        + match("?s ?o", "?s dct:subject ?o", scope)
        + match("?o", "?o a sdgo:Target", scope)
    )


def _goal(scope: str, match=_scan) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    direct = match("?s", "?s a qs:Project", scope) + match("?s ?o", "?s dct:subject ?o", scope)
    via_target = match("?s ?t", "?s qsd:target ?t", links) + match("?t ?o", "?t skos:broader ?o", scope)
    return f"{{ {direct} }} UNION {{ {via_target} }} " + match("?o", "?o a sdgo:Goal", scope)


def _works_on_target(scope: str, match=_scan) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    return match("?p ?s", "?p qsd:member ?s", links) + match("?p ?o", "?p qsd:target ?o", links)


def _shares_project_with(scope: str, match=_scan) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    return match("?p ?s", "?p qsd:member ?s", links) + match("?p ?o", "?p qsd:member ?o", links)


_NAMED = (("qs:Project", "dct:title"), ("dcat:Dataset", "dct:title"), ("org:OrganizationalUnit", "foaf:name"))


def _names(scope: str, match=_scan) -> str:
    """?s ?name: the names of the labelled kinds, typed and named in the graphs of `scope`."""
    return " UNION ".join(
        "{ " + match("?s", f"?s a {kind}", scope) + match("?s ?name", f"?s {name} ?name", scope) + " }"
        for kind, name in _NAMED
    )


def _least_german_name(names: str, driver: str = "") -> str:
    """?s ?o: per ?s of `names`, the least of its German ?name by its text, tagged `de` (Virtuoso's MIN of
    stored literals follows its internal order, not the text)."""
    return (
        f'{{ SELECT ?s (STRLANG(MIN(STR(?name)), "de") AS ?o) WHERE {{ {driver + " " if driver else ""}{names} '
        'FILTER(LANGMATCHES(LANG(?name), "de")) } GROUP BY ?s }'
    )


def _public_label(match=_scan, driver: str = "") -> str:
    return _least_german_name(_names("public", match), driver)


def _staff_label(match=_scan, driver: str = "") -> str:
    # Only for what the internal graphs type or name: every other entity's label is its public one. Taking the
    # least name decodes each from disk, so this set is kept small (the internal share of the data).
    touched = " UNION ".join(
        f"{{ {match('?s', f'?s a {kind}', 'internal')} }} UNION {{ {match('?s', f'?s {name} ?any', 'internal')} }}"
        for kind, name in _NAMED
    )
    return _least_german_name(f"{{ {touched} }} {{ {_names('all', match)} }}", driver)


RELATIONS = (
    ("qsd:member", _member),
    ("qsd:target", _target),
    ("qsd:goal", _goal),
    ("qsd:worksOnTarget", _works_on_target),
    ("qsd:sharesProjectWith", _shares_project_with),
)
# (predicate, body, graph): each label relation lives in one graph only (see the module docstring).
LABELS = (("qsd:label", _public_label, _PUB), ("qsd:staffLabel", _staff_label, _INT))


def _sync(graph: str, predicate: str, body: str, *, minus_public: bool, drivers: list[str] | None = None) -> str:
    """One operation making `graph`'s `predicate` triples exactly the ?s ?o of `body`: deletes the stale
    ones and inserts the missing ones, leaving the rest untouched (both sides grouped once). With `drivers`
    (the incremental refresh: `body` starts with them), only the triples they bind are compared: the
    pattern binding the affected ?s (or ?o) comes first on both sides, so each side is a few index lookups
    per affected entity."""
    fresh = f"SELECT DISTINCT ?s ?o (true AS ?_new) WHERE {{ {body} "
    if minus_public and drivers:
        # Per row, not the anti-join's scan of every public triple of the predicate.
        fresh += f"FILTER NOT EXISTS {{ GRAPH {_PUB} {{ ?s {predicate} ?o }} }} }}"
    elif minus_public:
        fresh += f"MINUS {{ GRAPH {_PUB} {{ ?s {predicate} ?o }} }} }}"
    else:
        fresh += "}"
    held = f"GRAPH {graph} {{ ?s {predicate} ?o }}"
    if drivers:
        held = " UNION ".join(f"{{ {driver} {held} }}" for driver in drivers)
    return (
        f"DELETE {{ GRAPH {graph} {{ ?_stale {predicate} ?o }} }} INSERT {{ GRAPH {graph} {{ ?_missing {predicate} ?o }} }} "
        f"WHERE {{ {{ SELECT ?s ?o (COUNT(?_new) AS ?_n) (COUNT(?_old) AS ?_k) WHERE {{ "
        f"{{ {fresh} }} UNION {{ {held} BIND(true AS ?_old) }} }} GROUP BY ?s ?o "
        f"HAVING(COUNT(?_new) = 0 || COUNT(?_old) = 0) }} "
        f"BIND(IF(?_k = 0, ?s, ?_none) AS ?_missing) BIND(IF(?_n = 0, ?s, ?_none) AS ?_stale) }}"
    )


def _register(graph: str, visibility: str, what: str, version: str) -> list[str]:
    # The seven fields api/store/base.py `meta_update` writes; EmbeddedStore.graphs lists a graph only with all.
    # The checksum names the refresh that wrote them, so that `install` notices relations added since.
    return [
        f"DELETE WHERE {{ GRAPH {_META} {{ {graph} ?p ?o }} }}",
        f"INSERT {{ GRAPH {_META} {{ {graph} a sd:NamedGraph ; qs:visibility {visibility} ; "
        f'dct:source "{what}" ; qs:loader "api.derived" ; dct:modified ?now ; void:triples ?n ; '
        f'qs:checksum "{version}" }} }} WHERE {{ {{ SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?p ?o }} }} }} '
        "BIND(NOW() AS ?now) }",
    ]


def _scratch_setup() -> list[str]:
    """What both refreshes look up in the scratch graph (which the full refresh empties first)."""
    managed = " ".join(f"{predicate} qsd:managed true ." for predicate, _ in RELATIONS)
    managed += " " + " ".join(f"{predicate} qsd:managed true ." for predicate, _, _ in LABELS)
    store_graphs = " ".join(f"{g} qsd:storeGraph true ." for g in (_META, _PUB, _INT, _SCRATCH))
    return [
        # What the refresh looks up by joining (not by FILTER, which decodes every term from disk, and not
        # by MINUS over VALUES, which Virtuoso 7 cannot compile): the store's own graphs, the derived
        # predicates, and the public source graphs exactly as EmbeddedStore.graphs(include_internal=False)
        # lists them.
        f"INSERT DATA {{ GRAPH {_SCRATCH} {{ {store_graphs} {managed} }} }}",
        # Staging graphs that still exist in the writing transaction (a replaced graph's new content on the
        # embedded store, its old content set aside on a remote one) are the store's own too: counted in
        # "all", their statements gave every entity of a replaced public graph a staff label, so that
        # rewriting the same content changed the internal derived graph.
        f"INSERT {{ GRAPH {_SCRATCH} {{ ?g qsd:storeGraph true }} }} WHERE {{ GRAPH {_META} {{ ?g qs:staging true }} }}",
        f"INSERT {{ GRAPH {_SCRATCH} {{ ?g qsd:publicSource true }} }} WHERE {{ GRAPH {_META} {{ "
        "?g a sd:NamedGraph ; qs:visibility qs:public ; dct:source ?source ; qs:loader ?loader ; "
        "dct:modified ?modified ; void:triples ?triples ; qs:checksum ?checksum } "
        f"FILTER(?g != {_PUB} && ?g != {_INT}) }}",
    ]


def _recompute_operations() -> list[str]:
    """The operations that recompute both derived graphs (refresh_operations without the registration)."""
    operations = [f"DROP SILENT GRAPH {_SCRATCH}", *_scratch_setup()]
    for predicate, body in RELATIONS:
        operations.append(_sync(_PUB, predicate, body("public"), minus_public=False))
        operations.append(_sync(_INT, predicate, body("all"), minus_public=True))
    for predicate, body, graph in LABELS:
        operations.append(_sync(graph, predicate, body(), minus_public=False))
    # Anything else written into a derived graph (a load or update aimed at it) is not derived: out.
    for graph in (_PUB, _INT):
        operations.append(
            f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
            f"MINUS {{ GRAPH {_SCRATCH} {{ ?p qsd:managed true }} }} }}"
        )
    operations.append(f"DROP SILENT GRAPH {_SCRATCH}")
    return operations


class _Lookups:
    """Matches each triple pattern in the graphs of a scope without a sub-select (the incremental refresh):
    joined after the pattern binding the affected entities, each is an index lookup per row; each pattern
    gets a graph variable of its own. Only named graphs: the store takes the full refresh while its default
    graph holds anything."""

    # Oxigraph evaluates a VALUES block, or a UNION with a FILTER in a branch, on its own (every project,
    # every title) and joins afterwards: graphs are matched by joining with the marks of the scratch graph,
    # and `values` become a FILTER of the group.
    _MARKS = {"public": "publicSource", "all": "visibleSource", "internal": "internalSource"}

    def __init__(self) -> None:
        self._patterns = itertools.count()

    def __call__(self, variables: str, pattern: str, scope: str, *, values: tuple[str, str] | None = None) -> str:
        g = f"?_g{next(self._patterns)}"
        after = f"FILTER({values[0]} IN ({', '.join(values[1].split())})) " if values else ""
        if scope in self._MARKS:
            return f"GRAPH {g} {{ {pattern} }} GRAPH {_SCRATCH} {{ {g} qsd:{self._MARKS[scope]} true }} {after}"
        if scope == "derived-public":
            return f"GRAPH {_PUB} {{ {pattern} }} {after}"
        return (
            f"{{ {{ GRAPH {_PUB} {{ {pattern} }} }} UNION {{ GRAPH {_INT} {{ {pattern} }} }} }} {after}"  # derived-all
        )


def _marked(variable: str, mark: str) -> str:
    return f"GRAPH {_SCRATCH} {{ {variable} qsd:{mark} true }}"


def _any_graph(pattern: str, graph: str = "?_any") -> str:
    return f"{{ {{ {pattern} }} UNION {{ GRAPH {graph} {{ {pattern} }} }} }}"


def _incremental_operations() -> list[str]:
    """The refresh for writes that marked the subjects of the triples they change (`mark_subjects`,
    `mark_difference`) in the scratch graph: each relation is recomputed for the entities those subjects
    reach, by lookups, and compared with what the derived graphs held for them; the rest stays untouched.

    A derived triple changes only if a triple it is derived from changes, and the subject of each such triple
    is the project (member, target, goal), its association, the target or goal it links, or the named entity
    (labels): the projects to recompute are the marked subjects and the projects reaching one of them; the
    departments (worksOnTarget, sharesProjectWith) those projects had or have as members."""
    operations = _scratch_setup()
    operations += [
        # The named graphs of the scopes "all" and "internal" (see _scan), marked like the public ones.
        f"INSERT {{ {_marked('?g', 'visibleSource')} }} WHERE {{ GRAPH ?g {{ }} "
        f"FILTER NOT EXISTS {{ {_marked('?g', 'storeGraph')} }} }}",
        f"INSERT {{ {_marked('?g', 'internalSource')} }} WHERE {{ {_marked('?g', 'visibleSource')} "
        f"FILTER NOT EXISTS {{ {_marked('?g', 'publicSource')} }} }}",
        f"INSERT {{ {_marked('?p', 'affectedProject')} }} WHERE {{ {_marked('?x', 'affected')} "
        + _any_graph("?p prov:qualifiedAssociation|dct:subject ?x")
        + " }",
        f"INSERT {{ {_marked('?p', 'affectedProject')} }} WHERE {{ {_marked('?x', 'affected')} "
        + _any_graph("?t skos:broader ?x")
        + " "
        + _any_graph("?p dct:subject ?t", "?_any2")
        + " }",
    ]
    # The projects: the marked subjects themselves, and the projects reaching them (marked affectedProject).
    projects = [_marked("?s", "affected"), _marked("?s", "affectedProject")]
    departments = " ;\n".join(
        f"INSERT {{ {_marked('?d', 'affectedDepartment')} }} WHERE {{ {_marked('?p', mark)} "
        f"{{ GRAPH {_PUB} {{ ?p qsd:member ?d }} }} UNION {{ GRAPH {_INT} {{ ?p qsd:member ?d }} }} }}"
        for mark in ("affected", "affectedProject")
    )
    named = _marked("?s", "affected")
    operations.append(departments)  # their members before the refresh; again after member's, below
    for predicate, body in RELATIONS:
        drivers = projects
        if predicate == "qsd:worksOnTarget":
            operations.append(departments)
            drivers = [_marked("?s", "affectedDepartment")]
        elif predicate == "qsd:sharesProjectWith":
            # A UNION of drivers before the join would be evaluated on its own: one driven branch per end.
            drivers = [_marked("?s", "affectedDepartment"), _marked("?o", "affectedDepartment")]
        for graph, scope in ((_PUB, "public"), (_INT, "all")):
            relation = " UNION ".join(f"{{ {driver} {body(scope, _Lookups())} }}" for driver in drivers)
            operations.append(_sync(graph, predicate, relation, minus_public=graph == _INT, drivers=drivers))
    for predicate, body, graph in LABELS:
        operations.append(_sync(graph, predicate, body(_Lookups(), named), minus_public=False, drivers=[named]))
    operations.append(f"DROP SILENT GRAPH {_SCRATCH}")
    return operations


# Names the relations in the derived graphs' checksum, so that `install` notices a store written before a change.
VERSION = "derived:" + hashlib.sha256("\n".join(_recompute_operations()).encode()).hexdigest()[:16]


def _registrations() -> list[str]:
    return _register(_PUB, "qs:public", "derived from the public source graphs (api/derived.py)", VERSION) + _register(
        _INT, "qs:internal", "derived from all graphs, less the public derived facts (api/derived.py)", VERSION
    )


def refresh_operations() -> list[str]:
    """The SPARQL update operations that bring both derived graphs up to date with the sources, in order."""
    return [_expand(op) for op in _recompute_operations() + _registrations()]


REFRESH = " ;\n".join(refresh_operations())


# The predicates the relations read (RELATIONS, LABELS): a triple with another predicate changes no derived fact.
_READ = (
    "a",
    "prov:qualifiedAssociation",
    "prov:agent",
    "prov:hadRole",
    "dct:subject",
    "skos:broader",
    "dct:title",
    "foaf:name",
)


def _mark(patterns) -> str:
    # One branch per predicate: each reads that predicate's triples of the graph alone (its index range).
    branches = " UNION ".join(f"{{ {pattern} }}" for pattern in patterns)
    return _expand(
        f"INSERT {{ {_marked('?s', 'affected')} }} WHERE {{ {{ SELECT DISTINCT ?s WHERE {{ {branches} }} }} }}"
    )


class IncrementalRefresh:
    """The refresh of a write that says which graphs it changes: recomputes what their changed triples reach.

    The embedded store marks the subjects of those triples in the write's own transaction, before the write
    (so that the old content is still there to compare with, or after it for content it adds), and runs
    `operations` instead of `replaces` at its end. It leaves it to the full refresh when the changed graphs
    hold more than `limit` quads (old and new content; where the full refresh stays dearer is measured in
    docs/scaling.md). A write into a derived graph, or one that names no graphs (a SPARQL update), takes the
    full refresh; so does a remote store (docs/scaling.md says why).
    """

    replaces = REFRESH
    operations = " ;\n".join(_expand(op) for op in _incremental_operations() + _registrations())
    limit = 250_000

    @staticmethod
    def mark_subjects(graph: str) -> str:
        """An operation marking the subject of every triple of `graph` that a derived relation reads."""
        g = NamedNode(graph)
        return _mark(f"GRAPH {g} {{ ?s {p} ?o }}" for p in _READ)

    @staticmethod
    def mark_difference(graph: str, other: str) -> str:
        """An operation marking the subject of every triple that a derived relation reads and only one of
        `graph` and `other` holds."""
        a, b = NamedNode(graph), NamedNode(other)
        return _mark(
            f"GRAPH {x} {{ ?s {p} ?o }} MINUS {{ GRAPH {y} {{ ?s {p} ?o }} }}"
            for p in _READ
            for x, y in ((a, b), (b, a))
        )

    @staticmethod
    def applies_to(graphs: Iterable[str]) -> bool:
        """Whether a write of `graphs` may take this refresh (a write into a derived graph may not)."""
        return not any(graph in (PUBLIC_GRAPH.value, INTERNAL_GRAPH.value, SCRATCH_GRAPH.value) for graph in graphs)


INCREMENTAL = IncrementalRefresh()


class _Writable(Protocol):
    read_only: bool
    derived_updates: list[str]
    incremental_refresh: IncrementalRefresh | None

    def update(self, sparql: str) -> None: ...

    def graphs(self, *, include_internal: bool = True) -> list: ...


def install(store: _Writable) -> None:
    """Keep the derived graphs of `store` fresh: refresh them in every write, and now if they never were.

    Every write through the store refreshes them in its own transaction, so graphs that exist are
    current; only a store that has none yet, or has them from another version of this module (new, or
    written before), is refreshed here, so that opening a store for a read-only command writes nothing. A read-only store (a query worker's
    snapshot) is left alone: the process that writes keeps the derived graphs fresh.
    """
    if store.read_only:
        return
    if REFRESH not in store.derived_updates:
        store.derived_updates.append(REFRESH)
    if hasattr(store, "incremental_refresh"):
        store.incremental_refresh = INCREMENTAL
    checksums = {info.iri: info.checksum for info in store.graphs(include_internal=True)}
    if any(checksums.get(graph.value) != VERSION for graph in DERIVED_GRAPHS):
        # Any write runs the refresh; clearing the scratch graph (always empty outside it) writes nothing else.
        store.update(f"CLEAR SILENT GRAPH {_SCRATCH}")
