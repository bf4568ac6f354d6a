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
triples). What every write pays for the refresh, and what the labels save a report's page, is measured in
docs/scaling.md (bench/gaps.py).

**Shapes.** On disk, Oxigraph joins triple patterns by one index lookup per row, and per graph of the
dataset; each pattern is therefore its own sub-select, which is scanned once and joined by hashing
(3–10× faster here). Expressions on IRIs (`STR`, `!=`, `FILTER(?g NOT IN …)`) decode every term from
disk, and Virtuoso 7 cannot compile `MINUS { VALUES … }`: graph and predicate sets are matched by
joining with the scratch graph instead. Every operation is plain SPARQL 1.1 Update with full IRIs.
"""

from __future__ import annotations

import hashlib
import re
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


def _scan(variables: str, pattern: str, scope: str) -> str:
    """One triple pattern matched in the graphs of `scope`, as a sub-select (so it is scanned once)."""
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


# Each relation is a predicate and a function from a scope ("public" or "all") to the pattern binding its
# ?s and ?o. member, target and goal read the source graphs of that scope; the others read the derived
# relations written before them in the same refresh (goal also the target relation).
def _member(scope: str) -> str:
    return (
        _scan("?s", "?s a qs:Project", scope)
        + _scan("?s ?a", "?s prov:qualifiedAssociation ?a", scope)
        + _scan("?a ?o", "?a prov:agent ?o", scope)
        + _scan("?a", "VALUES ?role { qs:LeadRole qs:PartnerRole } ?a prov:hadRole ?role", scope)
    )


def _target(scope: str) -> str:
    return (
        _scan("?s", "?s a qs:Project", scope)
        + _scan("?s ?o", "?s dct:subject ?o", scope)
        + _scan("?o", "?o a sdgo:Target", scope)
    )


def _goal(scope: str) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    direct = _scan("?s", "?s a qs:Project", scope) + _scan("?s ?o", "?s dct:subject ?o", scope)
    via_target = _scan("?s ?t", "?s qsd:target ?t", links) + _scan("?t ?o", "?t skos:broader ?o", scope)
    return f"{{ {direct} }} UNION {{ {via_target} }} " + _scan("?o", "?o a sdgo:Goal", scope)


def _works_on_target(scope: str) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    return _scan("?p ?s", "?p qsd:member ?s", links) + _scan("?p ?o", "?p qsd:target ?o", links)


def _shares_project_with(scope: str) -> str:
    links = "derived-public" if scope == "public" else "derived-all"
    return _scan("?p ?s", "?p qsd:member ?s", links) + _scan("?p ?o", "?p qsd:member ?o", links)


_NAMED = (("qs:Project", "dct:title"), ("dcat:Dataset", "dct:title"), ("org:OrganizationalUnit", "foaf:name"))


def _names(scope: str) -> str:
    """?s ?name: the names of the labelled kinds, typed and named in the graphs of `scope`."""
    return " UNION ".join(
        "{ " + _scan("?s", f"?s a {kind}", scope) + _scan("?s ?name", f"?s {name} ?name", scope) + " }"
        for kind, name in _NAMED
    )


def _least_german_name(names: str) -> str:
    """?s ?o: per ?s of `names`, the least of its German ?name by its text, tagged `de` (Virtuoso's MIN of
    stored literals follows its internal order, not the text)."""
    return (
        f'{{ SELECT ?s (STRLANG(MIN(STR(?name)), "de") AS ?o) WHERE {{ {names} '
        'FILTER(LANGMATCHES(LANG(?name), "de")) } GROUP BY ?s }'
    )


def _public_label() -> str:
    return _least_german_name(_names("public"))


def _staff_label() -> str:
    # Only for what the internal graphs type or name: every other entity's label is its public one. Taking the
    # least name decodes each from disk, so this set is kept small (the internal share of the data).
    touched = " UNION ".join(
        f"{{ {_scan('?s', f'?s a {kind}', 'internal')} }} UNION {{ {_scan('?s', f'?s {name} ?any', 'internal')} }}"
        for kind, name in _NAMED
    )
    return _least_german_name(f"{{ {touched} }} {{ {_names('all')} }}")


RELATIONS = (
    ("qsd:member", _member),
    ("qsd:target", _target),
    ("qsd:goal", _goal),
    ("qsd:worksOnTarget", _works_on_target),
    ("qsd:sharesProjectWith", _shares_project_with),
)
# (predicate, body, graph): each label relation lives in one graph only (see the module docstring).
LABELS = (("qsd:label", _public_label, _PUB), ("qsd:staffLabel", _staff_label, _INT))


def _sync(graph: str, predicate: str, body: str, *, minus_public: bool) -> str:
    """One operation making `graph`'s `predicate` triples exactly the ?s ?o of `body`: deletes the stale
    ones and inserts the missing ones, leaving the rest untouched (both sides grouped once)."""
    fresh = f"SELECT DISTINCT ?s ?o (true AS ?_new) WHERE {{ {body} "
    fresh += f"MINUS {{ GRAPH {_PUB} {{ ?s {predicate} ?o }} }} }}" if minus_public else "}"
    return (
        f"DELETE {{ GRAPH {graph} {{ ?_stale {predicate} ?o }} }} INSERT {{ GRAPH {graph} {{ ?_missing {predicate} ?o }} }} "
        f"WHERE {{ {{ SELECT ?s ?o (COUNT(?_new) AS ?_n) (COUNT(?_old) AS ?_k) WHERE {{ "
        f"{{ {fresh} }} UNION {{ GRAPH {graph} {{ ?s {predicate} ?o }} BIND(true AS ?_old) }} }} GROUP BY ?s ?o "
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


def _recompute_operations() -> list[str]:
    """The operations that recompute both derived graphs (refresh_operations without the registration)."""
    managed = " ".join(f"{predicate} qsd:managed true ." for predicate, _ in RELATIONS)
    managed += " " + " ".join(f"{predicate} qsd:managed true ." for predicate, _, _ in LABELS)
    store_graphs = " ".join(f"{g} qsd:storeGraph true ." for g in (_META, _PUB, _INT, _SCRATCH))
    operations = [
        f"DROP SILENT GRAPH {_SCRATCH}",
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


# Names the relations in the derived graphs' checksum, so that `install` notices a store written before a change.
VERSION = "derived:" + hashlib.sha256("\n".join(_recompute_operations()).encode()).hexdigest()[:16]


def refresh_operations() -> list[str]:
    """The SPARQL update operations that bring both derived graphs up to date with the sources, in order."""
    operations = _recompute_operations()
    operations += _register(_PUB, "qs:public", "derived from the public source graphs (api/derived.py)", VERSION)
    operations += _register(
        _INT, "qs:internal", "derived from all graphs, less the public derived facts (api/derived.py)", VERSION
    )
    return [_expand(op) for op in operations]


REFRESH = " ;\n".join(refresh_operations())


class _Writable(Protocol):
    read_only: bool
    derived_updates: list[str]

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
    checksums = {info.iri: info.checksum for info in store.graphs(include_internal=True)}
    if any(checksums.get(graph.value) != VERSION for graph in DERIVED_GRAPHS):
        # Any write runs the refresh; clearing the scratch graph (always empty outside it) writes nothing else.
        store.update(f"CLEAR SILENT GRAPH {_SCRATCH}")
