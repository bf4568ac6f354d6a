"""What every store shares: the interface (`Store`), its exceptions, and the metadata graph's terms and updates.

Every source lives in its own named graph; `urn:querschnitt:meta` describes each one (origin, time,
loader, counts, checksum, visibility). Queries never run over "all graphs": the caller's dataset is
always passed explicitly, so an anonymous caller cannot reach internal graphs through `GRAPH ?g`,
`FROM`, `FROM NAMED` or the protocol's dataset parameters (docs/architecture.md, "The store").

This module imports neither implementation; both import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

from pyoxigraph import Literal, NamedNode, Quad, QueryBoolean, QuerySolutions, QueryTriples, RdfFormat

from api.personal_data import demote_holding_personal_data, holds_personal_data_query, refusal
from api.sparql_text import prologue_end, without_trailing_separator
from loaders.vocab import DCT, QS, RDF, SD, VOID, XSD

META_GRAPH = NamedNode("urn:querschnitt:meta")
STAGING_PREFIX = "urn:querschnitt:staging:"
# A graph nothing writes: a remote store's stand-in for "no graph", because no dataset parameter means "every graph".
EMPTY_GRAPH = NamedNode("urn:querschnitt:empty")

QueryResult = QuerySolutions | QueryBoolean | QueryTriples


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


@dataclass(frozen=True)
class GraphInfo:
    """What the metadata graph records about one source graph."""

    iri: str
    visibility: Visibility
    source: str
    loader: str
    modified: datetime
    triples: int
    checksum: str


class IncrementalRefresh(Protocol):
    """What a store runs, instead of the full refresh `replaces`, for a write that marks what it changes
    (implemented by api/derived.py, which the store does not import)."""

    replaces: str
    operations: str
    limit: int

    def mark_subjects(self, graph: str) -> str: ...

    def mark_difference(self, graph: str, other: str) -> str: ...

    def applies_to(self, graphs: Iterable[str]) -> bool: ...


# -- exceptions ------------------------------------------------------------------------------------


class StoreError(Exception):
    """A store problem a user can act on; the message says what to do."""


class StoreLocked(StoreError):
    """The on-disk store is held by another process (usually `querschnitt serve`)."""


class StoreUnavailable(StoreError):
    """The remote store cannot be reached or is overloaded; the API answers 503, the CLI exits 3."""


class StoreTimeout(StoreError):
    """The query passed its deadline (on the server or here), or the server refused it as too expensive."""


class ResultTruncated(StoreError):
    """The server cut the answer at its row limit (Virtuoso: `ResultSetMaxRows`) and the reader wanted more."""


class QueryRefused(StoreError):
    """The text asks for something the store must not run for this service (server functions, bad dataset)."""


class RemoteError(StoreError, ValueError):
    """The server could not evaluate a valid request; the message is the server's."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


# -- the interface ---------------------------------------------------------------------------------


class QuerySource(Protocol):
    """The reading half of `Store`: what search, suggestions and the pages need."""

    def query(
        self,
        sparql: str,
        *,
        include_internal: bool = False,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        substitutions: dict[str, NamedNode | Literal] | None = None,
    ) -> QueryResult: ...

    def graphs(self, *, include_internal: bool = True) -> list[GraphInfo]: ...


class Store(QuerySource, Protocol):
    """What the HTTP layer and the CLI may use of a store; `EmbeddedStore` and `RemoteStore` implement it.

    Where the two really differ, callers ask a capability flag, never which class they hold:
    `local_engine` (pyoxigraph evaluates queries in this process, so a parse here is the engine's parse,
    and results may be cached: no other process writes), `has_local_path` (a directory on this machine:
    worker processes open checkpoints of it, backups are directory copies, a server may hold its lock).
    """

    local_engine: bool
    has_local_path: bool
    path: Path | None
    read_only: bool
    derived_updates: list[str]

    @property
    def generation(self) -> int: ...

    def visible_graphs(self, *, include_internal: bool) -> list: ...

    def dump(
        self,
        output: IO[bytes],
        *,
        rdf_format: RdfFormat = RdfFormat.N_QUADS,
        include_internal: bool = True,
        include_meta: bool = False,
    ) -> int: ...

    def __len__(self) -> int: ...

    def replace_graphs(
        self,
        quads: Iterable[Quad],
        *,
        visibility: dict[str, Visibility] | Visibility,
        source: str,
        loader: str,
        checksum: str,
        published_people: bool = False,
    ) -> list[GraphInfo]: ...

    def replace_graph(
        self, graph: str, quads: Iterable[Quad], *, visibility: Visibility, source: str, loader: str, checksum: str
    ) -> GraphInfo: ...

    def update_graphs(
        self,
        sparql: str,
        graphs: Iterable[str],
        *,
        source: str,
        loader: str,
        checksum: str,
        visibility: Visibility | None = None,
        base_iri: str | None = None,
    ) -> None: ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None: ...

    def drop_graph(self, graph: str) -> bool: ...

    def typed_as_person(self, subjects: list) -> set: ...

    def backup(self, target: Path) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class SharedOperations:
    """What both stores build the same way on their own primitives (`replace_graphs`, `update`, `graphs`,
    `_select_everywhere`): single-graph replace, metadata-keeping updates, the derived refresh."""

    derived_updates: list[str]

    def replace_graph(
        self, graph: str, quads: Iterable[Quad], *, visibility: Visibility, source: str, loader: str, checksum: str
    ) -> GraphInfo:
        """Atomically replace one graph with `quads` (their own graph names are ignored)."""
        target = NamedNode(graph)
        (info,) = self.replace_graphs(  # type: ignore[attr-defined]
            (Quad(q.subject, q.predicate, q.object, target) for q in quads),
            visibility={graph: visibility},
            source=source,
            loader=loader,
            checksum=checksum,
        )
        return info

    def update_graphs(
        self,
        sparql: str,
        graphs: Iterable[str],
        *,
        source: str,
        loader: str,
        checksum: str,
        visibility: Visibility | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Run an update that writes `graphs` and bring their metadata up to date in the same transaction.

        Counts and times are recomputed; a graph left empty loses its entry; a new graph gets
        `visibility` (internal when None: nothing becomes public by accident), an existing one keeps its
        own unless `visibility` is given. The caller vouches that `sparql` writes no other source graph
        and never the metadata graph (the HTTP layer checks this with a parser, `api.guard`).
        """
        self._require_writable()
        targets = sorted(set(graphs))
        for graph in targets:
            if not is_source_graph(NamedNode(graph)):
                raise StoreError(f"graph {graph} is kept by the store itself and cannot be written")
        public_before = {g.iri for g in self.graphs(include_internal=False)}  # type: ignore[attr-defined]
        if visibility is Visibility.PUBLIC:
            # Making a graph public (or writing it as public) must not publish the people it already holds.
            held = sorted(row["g"].value for row in self._select_everywhere(holds_personal_data_query(targets)))
            if held:
                raise StoreError(refusal({held[0]: ["foaf:Person / org:Membership"]}, source=source))
        now = datetime.now(UTC)
        refresh = [meta_refresh(NamedNode(g), visibility, source, loader, checksum, now) for g in targets]
        demote = [demote_holding_personal_data(targets, meta_graph=META_GRAPH.value)] if targets else []
        self._update_sources(
            "\n;\n".join([without_trailing_separator(sparql), *refresh, *demote]), targets, base_iri=base_iri
        )
        if visibility is Visibility.PUBLIC:
            public_before.update(targets)
        self._refuse_demoted(targets, public_before)

    def _require_writable(self) -> None:
        """Raise StoreError when this store may not be written (an embedded store opened read-only)."""

    def _update_sources(self, sparql: str, graphs: list[str], *, base_iri: str | None) -> None:
        """Run an update that writes only the source graphs `graphs` (a store may refresh less for it)."""
        self.update(sparql, base_iri=base_iri)  # type: ignore[attr-defined]

    def _select_everywhere(self, sparql: str) -> Iterable:
        """The rows of a SELECT of the store itself over every graph (no caller, no dataset restriction)."""
        raise NotImplementedError

    def _with_derived(self, update: str, *, before: list[str] | None = None, after: tuple[str, ...] = ()) -> str:
        """`update` followed by the derived updates. `before` and `after` mark what the update changes for the
        incremental refresh (api/derived.py `IncrementalRefresh`), which then replaces the full one; None:
        unknown, the full refresh."""
        if not self.derived_updates:
            return update
        # A newline first: the caller's text may end in a comment. A trailing `;` of its own would make two.
        update = without_trailing_separator(update)
        incremental = self._incremental_in_use()
        if before is None or incremental is None:
            return "\n;\n".join([update, *self.derived_updates])
        others = [u for u in self.derived_updates if u != incremental.replaces]
        start = prologue_end(update)
        operations = "\n;\n".join([*before, update[start:], *after, incremental.operations, *others])
        return f"{update[:start]}\n{operations}" if start else operations

    def _incremental_in_use(self) -> IncrementalRefresh | None:
        incremental: IncrementalRefresh | None = getattr(self, "incremental_refresh", None)
        return incremental if incremental is not None and incremental.replaces in self.derived_updates else None

    def _refuse_demoted(self, targets: list[str], public_before: set[str]) -> None:
        # The update's own transaction made these graphs internal: they hold people now (see personal_data).
        now = {g.iri: g.visibility for g in self.graphs()}  # type: ignore[attr-defined]
        demoted = [g for g in targets if g in public_before and now.get(g) is Visibility.INTERNAL]
        if demoted:
            raise StoreError(
                f"Der Graph {demoted[0]} enthält nach der Änderung personenbezogene Daten und ist jetzt intern. / "
                f"The graph {demoted[0]} holds personal data after the update and was made internal; the update "
                "was applied. Remove the people and ask an administrator to make it public again."
            )


# -- the metadata graph ----------------------------------------------------------------------------


def is_source_graph(graph: NamedNode | object) -> bool:
    """Whether `graph` may hold a source's data (not the metadata graph, not a staging graph)."""
    return isinstance(graph, NamedNode) and graph != META_GRAPH and not graph.value.startswith(STAGING_PREFIX)


def restrict(requested: list[str] | None, visible: list) -> list:
    """The requested graphs the caller may see (all visible ones when nothing was requested)."""
    if requested is None:
        return list(visible)
    allowed = {g.value for g in visible if isinstance(g, NamedNode)}
    return [NamedNode(g) for g in requested if g in allowed]


def meta_quads(info: GraphInfo) -> list[Quad]:
    """The metadata graph's entry for one source graph, as quads (also what `export` writes beside the data)."""
    g = NamedNode(info.iri)
    return [
        Quad(g, p, o, META_GRAPH)
        for p, o in [
            (RDF.type, SD.NamedGraph),
            (QS.visibility, QS.public if info.visibility is Visibility.PUBLIC else QS.internal),
            (DCT.source, Literal(info.source)),
            (QS.loader, Literal(info.loader)),
            (DCT.modified, Literal(info.modified.isoformat(), datatype=XSD.dateTime)),
            (VOID.triples, Literal(str(info.triples), datatype=XSD.integer)),
            (QS.checksum, Literal(info.checksum)),
        ]
    ]


def meta_update(info: GraphInfo) -> str:
    """Update operations that replace the metadata entry of one graph with `info`."""
    g = NamedNode(info.iri)
    # Terms are written by pyoxigraph's own serialisation (str(term)), so values cannot break out.
    body = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in meta_quads(info))
    return f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {g} ?p ?o }} }} ;\nINSERT DATA {{ GRAPH {META_GRAPH} {{ {body} }} }}"


def meta_refresh(
    graph: NamedNode, visibility: Visibility | None, source: str, loader: str, checksum: str, now: datetime
) -> str:
    """One update operation that rewrites the metadata entry of `graph` from its current content."""
    keep = "COALESCE(?old, " + str(QS.internal) + ")"
    chosen = keep if visibility is None else str(QS.public if visibility is Visibility.PUBLIC else QS.internal)
    template = " ".join(
        f"?g {p} {o} ."
        for p, o in [
            (RDF.type, SD.NamedGraph),
            (QS.visibility, "?visibility"),
            (DCT.source, Literal(source)),
            (QS.loader, Literal(loader)),
            (DCT.modified, Literal(now.isoformat(), datatype=XSD.dateTime)),
            (VOID.triples, "?n"),
            (QS.checksum, Literal(checksum)),
        ]
    )
    # ?g stays unbound when the graph is empty, so the entry is only deleted (templates skip unbound terms).
    # The old entry's triples come as `{ … } UNION {}`, not OPTIONAL: the same effect (the extra row with ?p ?o
    # unbound deletes nothing and inserts the entry again), but Virtuoso 7.2 gave no row at all for this
    # WHERE when the OPTIONAL matched nothing, so a graph without an entry was never registered.
    return (
        f"DELETE {{ GRAPH {META_GRAPH} {{ {graph} ?p ?o }} }} INSERT {{ GRAPH {META_GRAPH} {{ {template} }} }} WHERE {{ "
        f"{{ SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?q ?x }} }} }} "
        f"OPTIONAL {{ GRAPH {META_GRAPH} {{ {graph} {QS.visibility} ?old }} }} "
        f"BIND({chosen} AS ?visibility) BIND(IF(?n > 0, {graph}, ?unbound) AS ?g) "
        f"{{ GRAPH {META_GRAPH} {{ {graph} ?p ?o }} }} UNION {{}} }}"
    )
