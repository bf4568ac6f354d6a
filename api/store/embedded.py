"""The store interface (ARCHITECTURE §5) and its embedded Oxigraph implementation.

Every source lives in its own named graph; `urn:querschnitt:meta` describes each one (origin, time,
loader, counts, checksum, visibility). Queries never run over "all graphs": the caller's dataset is
always passed explicitly, so an anonymous caller cannot reach internal graphs through `GRAPH ?g`,
`FROM`, `FROM NAMED` or the protocol's dataset parameters.
"""

from __future__ import annotations

import errno
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Variable,
    serialize,
)

from api.personal_data import (
    PersonalDataWatch,
    demote_holding_personal_data,
    holds_personal_data_query,
    refusal,
    typed_as_person_query,
)
from api.sparql_text import dataset_clauses, without_trailing_separator
from loaders.vocab import DCT, QS, RDF, SD, VOID, XSD

log = logging.getLogger(__name__)

META_GRAPH = NamedNode("urn:querschnitt:meta")
STAGING_PREFIX = "urn:querschnitt:staging:"

QueryResult = QuerySolutions | QueryBoolean | QueryTriples


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class StoreError(Exception):
    """A store problem a user can act on; the message says what to do."""


class StoreLocked(StoreError):
    """The on-disk store is held by another process (usually `querschnitt serve`)."""


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


class QuerySource(Protocol):
    """What the HTTP layer and the CLI need from a store; the remote store implements it too."""

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


class SingleGraphReplace:
    """What both stores (embedded and remote) build on their own primitives: `replace_graph` on
    `replace_graphs`, the personal-data check after an update on `graphs`."""

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


class EmbeddedStore(SingleGraphReplace):
    """pyoxigraph `Store` on disk (or in memory when `path` is None) behind the store interface."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self._oxigraph = _open_oxigraph(self.path, read_only=read_only)
        self._write_lock = threading.Lock()
        self._visible: dict[bool, list[NamedNode]] = {}
        # New graphs being bulk-loaded under their own name; hidden from every query until committed.
        self._loading: set[str] = set()
        # SPARQL updates that recompute derived graphs; appended to every write's transaction, so derived
        # data is never stale for any reader (see api/derived.py).
        self.derived_updates: list[str] = []
        # Bumped by every write, so that read-only snapshots elsewhere (query workers) know to reopen.
        self.generation = 0
        if not read_only:
            self._remove_partial_bulk_files()
            self._drop_leftover_staging_graphs()

    # -- reading -------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        include_internal: bool = False,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        substitutions: dict[str, NamedNode | Literal] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL query over the graphs the caller may see (the union by default).

        `default_graphs`/`named_graphs` narrow the dataset (SPARQL Protocol §2.1.4); without them the
        query's own `FROM`/`FROM NAMED` do (Query §13.2). Graphs the caller may not see are treated as
        empty, so their existence is not revealed.
        """
        visible = self.visible_graphs(include_internal=include_internal)
        if default_graphs is None and named_graphs is None:
            # The explicit dataset below overrides the query's own; honour FROM within the visible graphs.
            clauses = dataset_clauses(sparql, base_iri=base_iri)
            if clauses is not None:
                default_graphs, named_graphs = clauses.default, clauses.named
        return self._oxigraph.query(
            sparql,
            default_graph=_restrict(default_graphs, visible),
            named_graphs=[g for g in _restrict(named_graphs, visible) if isinstance(g, NamedNode)],
            substitutions={Variable(k): v for k, v in (substitutions or {}).items()} or None,
            base_iri=base_iri,
        )

    def visible_graphs(self, *, include_internal: bool) -> list[NamedNode | DefaultGraph]:
        """Source graphs the caller may see: registered public ones, or every source graph for staff."""
        cached = self._visible.get(include_internal)
        if cached is not None:
            return cached
        if include_internal:
            # Staff also see graphs written by raw updates, which have no metadata entry.
            graphs = [DefaultGraph()] + sorted(
                (g for g in self._oxigraph.named_graphs() if _is_source_graph(g) and g.value not in self._loading),
                key=lambda g: g.value,
            )
        else:
            graphs = [NamedNode(g.iri) for g in self.graphs(include_internal=False)]
        self._visible[include_internal] = graphs
        return graphs

    def graphs(self, *, include_internal: bool = True) -> list[GraphInfo]:
        """The registered source graphs with their metadata, sorted by IRI."""
        rows = self._oxigraph.query(
            """SELECT ?g ?visibility ?source ?loader ?modified ?triples ?checksum {
                 GRAPH ?meta { ?g a sd:NamedGraph ; qs:visibility ?visibility ; dct:source ?source ;
                     qs:loader ?loader ; dct:modified ?modified ; void:triples ?triples ;
                     qs:checksum ?checksum }
               } ORDER BY ?g""",
            prefixes={"sd": SD, "qs": QS, "dct": DCT, "void": VOID},
            default_graph=[],
            named_graphs=[META_GRAPH],
        )
        infos = [
            GraphInfo(
                iri=row["g"].value,
                visibility=Visibility.PUBLIC if row["visibility"] == QS.public else Visibility.INTERNAL,
                source=row["source"].value,
                loader=row["loader"].value,
                modified=datetime.fromisoformat(row["modified"].value),
                triples=int(row["triples"].value),
                checksum=row["checksum"].value,
            )
            for row in rows
        ]
        return [g for g in infos if include_internal or g.visibility is Visibility.PUBLIC]

    def dump(
        self,
        output: IO[bytes],
        *,
        rdf_format: RdfFormat = RdfFormat.N_QUADS,
        include_internal: bool = True,
        include_meta: bool = False,
    ) -> int:
        """Write the visible source graphs (and optionally the metadata graph) as quads; returns the count."""
        graphs = [g for g in self.visible_graphs(include_internal=include_internal) if isinstance(g, NamedNode)]
        if include_meta:
            graphs.append(META_GRAPH)
        counter = _Counter()
        quads = (q for g in graphs for q in counter.count(self._oxigraph.quads_for_pattern(None, None, None, g)))
        serialize(quads, output, rdf_format)
        return counter.n

    def __len__(self) -> int:
        return len(self._oxigraph)

    # -- writing -------------------------------------------------------------------------------

    def replace_graphs(
        self,
        quads: Iterable[Quad],
        *,
        visibility: dict[str, Visibility] | Visibility,
        source: str,
        loader: str,
        checksum: str,
        published_people: bool = False,
    ) -> list[GraphInfo]:
        """Atomically replace graphs with `quads` and record their metadata; returns one entry per graph.

        Each quad goes to the graph it names; a quad in the default graph is refused. `visibility` names
        the graphs to replace (each is emptied even if no quad names it), or gives one visibility for
        every graph the quads name. The new content of an existing graph is streamed into a staging graph
        that no query can see; one SPARQL update then writes the differences of all of them together with
        the metadata, so readers see the old graphs or the new ones, never a mix, and a failure at any
        point leaves the old graphs as they were. A graph that does not exist yet is loaded under its own
        name instead (hidden until its metadata is written). bench/bulk_load.py at 10^6 triples: a first
        load takes 1.45× raw `bulk_load`, replacing everything 5.9× (most of it deleting the staging graph).
        """
        self._require_writable()
        fixed = isinstance(visibility, dict)
        visibilities = dict(visibility) if fixed else {}
        for graph in visibilities:
            if not _is_source_graph(NamedNode(graph)):
                raise StoreError(f"{source}: graph {graph} is kept by the store itself and cannot be loaded")
        staging: dict[str, NamedNode] = {}
        counts: dict[str, int] = {}

        def stage(graph: str) -> None:
            if not self._oxigraph.contains_named_graph(NamedNode(graph)):
                # Loaded under its own name, hidden meanwhile; the marker lets a restart after a crash
                # remove the half graph (the final metadata update replaces the marker).
                staging[graph] = NamedNode(graph)
                self._loading.add(graph)
                self._oxigraph.update(
                    f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {NamedNode(graph)} {QS.loading} true }} }}"
                )
                self._changed()
            else:
                staging[graph] = NamedNode(f"{STAGING_PREFIX}{uuid.uuid4()}")
                # An empty staging graph must still exist, so that the swap empties the target.
                self._oxigraph.add_graph(staging[graph])
            counts[graph] = 0

        watch = PersonalDataWatch()
        stream = iter(watch.watch(quads))
        # The first quad of a graph not staged yet: it ends the current bulk_extend, because the store
        # must not be written to (the staging marker) while bulk_extend consumes a stream (it deadlocks).
        unstaged: list[Quad] = []

        def staged_until_new_graph() -> Iterator[Quad]:
            while True:
                q = unstaged.pop() if unstaged else next(stream, None)
                if q is None:
                    return
                graph = q.graph_name.value if isinstance(q.graph_name, NamedNode) else None
                target = staging.get(graph)
                if target is None:
                    if graph is None or fixed or graph == META_GRAPH.value or graph.startswith(STAGING_PREFIX):
                        raise StoreError(
                            f"{source}: a quad names graph {graph or 'DEFAULT'}, which this load may not write"
                        )
                    unstaged.append(q)
                    return
                counts[graph] += 1
                yield Quad(q.subject, q.predicate, q.object, target)

        committed = False
        with self._write_lock:
            try:
                for graph in visibilities:
                    stage(graph)
                while True:
                    self._oxigraph.bulk_extend(staged_until_new_graph())
                    if not unstaged:
                        break
                    graph = unstaged[0].graph_name.value
                    visibilities[graph] = visibility
                    stage(graph)
                public = [g for g in staging if visibilities[g] is Visibility.PUBLIC]
                problems = watch.problems(public, typed_as_person=self.typed_as_person)
                if problems and not published_people:
                    raise StoreError(refusal(problems, source=source))
                now = datetime.now(UTC)
                infos = [
                    GraphInfo(g, visibilities[g], source, loader, now, counts[g], checksum) for g in sorted(staging)
                ]
                swap = " ;\n".join(
                    _swap_in(staging[info.iri], NamedNode(info.iri)) + _meta_update(info) for info in infos
                )
                # The staging graphs are still there when the derived graphs are refreshed: marked for that
                # refresh only (api/derived.py leaves them out), in the same transaction.
                marks = " ".join(f"{s} {QS.staging} true ." for g, s in staging.items() if s.value != g)
                if marks:
                    swap += f" ;\nINSERT DATA {{ GRAPH {META_GRAPH} {{ {marks} }} }}"
                update = self._with_derived(swap)
                if marks:
                    update += f"\n;\nDELETE DATA {{ GRAPH {META_GRAPH} {{ {marks} }} }}"
                self._oxigraph.update(update)
                committed = True
            except OSError as error:
                raise self._write_error(error) from None
            finally:
                for graph, stage_graph in staging.items():
                    fresh = graph in self._loading
                    try:
                        if (not fresh or not committed) and self._oxigraph.contains_named_graph(stage_graph):
                            self._oxigraph.remove_graph(stage_graph)
                        if fresh and not committed:
                            self._oxigraph.update(
                                f"DELETE DATA {{ GRAPH {META_GRAPH} {{ {NamedNode(graph)} {QS.loading} true }} }}"
                            )
                    except OSError as error:
                        # A full disk can refuse the tidying up as well: the graph stays hidden here, and the
                        # next open removes it (staging prefix or loading marker).
                        log.warning("could not remove the staging data of %s: %s", graph, error)
                        continue
                    self._loading.discard(graph)
                if not committed:
                    self._remove_partial_bulk_files()
                self._changed()
        return infos

    def typed_as_person(self, subjects: list) -> set:
        """Those of `subjects` that any graph types as a `foaf:Person`."""
        # Every graph, hidden ones of this load included: a person typed in its internal graph counts.
        found: set = set()
        for start in range(0, len(subjects), 500):
            rows = self._oxigraph.query(typed_as_person_query(subjects[start : start + 500]))
            found.update(row["s"] for row in rows)
        return found

    def drop_graph(self, graph: str) -> bool:
        """Remove a source graph and its metadata; False if there was no such graph."""
        self._require_writable()
        target = NamedNode(graph)
        with self._write_lock:
            known = any(g.iri == graph for g in self.graphs())
            try:
                self._oxigraph.update(
                    self._with_derived(
                        f"DROP SILENT GRAPH {target} ; DELETE WHERE {{ GRAPH {META_GRAPH} {{ {target} ?p ?o }} }}"
                    )
                )
            except OSError as error:
                raise self._write_error(error) from None
            finally:
                self._changed()
        return known

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update as administrator (one transaction)."""
        self._require_writable()
        with self._write_lock:
            try:
                self._oxigraph.update(self._with_derived(sparql), base_iri=base_iri)
            except OSError as error:
                raise self._write_error(error) from None
            finally:
                self._changed()

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
            if not _is_source_graph(NamedNode(graph)):
                raise StoreError(f"graph {graph} is kept by the store itself and cannot be written")
        public_before = {g.iri for g in self.graphs(include_internal=False)}
        if visibility is Visibility.PUBLIC:
            # Making a graph public (or writing it as public) must not publish the people it already holds.
            query = holds_personal_data_query(targets)
            held = sorted(row["g"].value for row in self._oxigraph.query(query))
            if held:
                raise StoreError(refusal({held[0]: ["foaf:Person / org:Membership"]}, source=source))
        now = datetime.now(UTC)
        refresh = [_meta_refresh(NamedNode(g), visibility, source, loader, checksum, now) for g in targets]
        demote = [demote_holding_personal_data(targets, meta_graph=META_GRAPH.value)] if targets else []
        self.update("\n;\n".join([without_trailing_separator(sparql), *refresh, *demote]), base_iri=base_iri)
        if visibility is Visibility.PUBLIC:
            public_before.update(targets)
        self._refuse_demoted(targets, public_before)

    def _with_derived(self, update: str) -> str:
        # A newline first: the caller's text may end in a comment. A trailing `;` of its own would make two.
        if not self.derived_updates:
            return update
        return "\n;\n".join([without_trailing_separator(update), *self.derived_updates])

    def _changed(self) -> None:
        self._visible.clear()
        self.generation += 1

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the on-disk store to the new directory `target`."""
        if self.path is None:
            raise StoreError("An in-memory store has no backup; use `querschnitt export` to dump it.")
        if target.exists():
            raise StoreError(f"Backup target {target} exists already; name a new directory.")
        self._oxigraph.backup(str(target))

    def checkpoint(self, target: Path, *, wait: bool = True) -> int | None:
        """Write a consistent copy of the store to the new directory `target` between two writes and return
        the write generation it holds; None (nothing written) if `wait` is False and a write is running.

        Copies are hard links where possible (pyoxigraph `backup`: a RocksDB checkpoint), so they are cheap.
        Taken under the write lock, so a copy never holds part of a multi-step write (a load's staging).
        """
        if not self._write_lock.acquire(blocking=wait):
            return None
        try:
            self._oxigraph.backup(str(target))
            return self.generation
        finally:
            self._write_lock.release()

    def flush(self) -> None:
        if not self.read_only:
            self._oxigraph.flush()

    def close(self) -> None:
        """Flush and release the store (and with it the RocksDB lock); the object is unusable afterwards."""
        if self._oxigraph is not None:
            self.flush()
            # pyoxigraph has no close(): dropping the last reference closes the database.
            self._oxigraph = None

    def _write_error(self, error: OSError) -> StoreError:
        """The StoreError for a write that RocksDB refused (one transaction: nothing was written)."""
        text = str(error)
        # pyoxigraph's OSError carries RocksDB's message, not an errno: "No space left on device", or
        # "File too large" under a file size limit (EFBIG).
        if error.errno in (errno.ENOSPC, errno.EFBIG) or "No space left" in text or "File too large" in text:
            return StoreError(
                f"The disk of the store {self.path} is full; nothing was written. Free some space and try again. "
                f"({text})"
            )
        return StoreError(f"Writing to the store {self.path} failed; nothing was written. ({text})")

    def _remove_partial_bulk_files(self) -> None:
        # A bulk load that fails part-way (a full disk) leaves pyoxigraph's half-written bulk-*.sst file in
        # the store directory, and on a full disk that file keeps it full. Only the process holding the
        # RocksDB lock writes them, one load at a time (the write lock): any found now is garbage.
        if self.path is None:
            return
        for leftover in self.path.glob("bulk-*.sst"):
            try:
                leftover.unlink()
            except OSError as error:
                log.warning("could not remove %s: %s", leftover, error)

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"The store {self.path} is open read-only; writes need the server to be stopped.")

    def _drop_leftover_staging_graphs(self) -> None:
        # A process killed in the middle of a load leaves its staging graph, or a half first load, behind.
        for graph in list(self._oxigraph.named_graphs()):
            if isinstance(graph, NamedNode) and graph.value.startswith(STAGING_PREFIX):
                self._oxigraph.remove_graph(graph)
        half_loaded = [q.subject for q in self._oxigraph.quads_for_pattern(None, QS.loading, None, META_GRAPH)]
        for graph in half_loaded:
            if isinstance(graph, NamedNode) and self._oxigraph.contains_named_graph(graph):
                self._oxigraph.remove_graph(graph)
            self._oxigraph.remove(Quad(graph, QS.loading, Literal(True), META_GRAPH))


def open_store(location: str, *, read_only: bool = False, **remote_options) -> EmbeddedStore:
    """Open the store a setting or `--store` names (a directory, `memory`, or a SPARQL endpoint URL),
    derived graphs kept fresh."""
    from api import derived

    if location.startswith(("http://", "https://")):
        from api.remote_store import RemoteStore

        store = RemoteStore(location, **{k: v for k, v in remote_options.items() if v is not None})
    elif location == "memory":
        store = EmbeddedStore(None)
    else:
        store = EmbeddedStore(location, read_only=read_only)
    derived.install(store)
    return store


def backup_snapshot(path: Path, target: Path, *, attempts: int = 20) -> None:
    """Back up the on-disk store at `path` to the new directory `target` while a server holds and writes it.

    A read-only open of a store that another process writes can name files that the writer's flush or
    compaction removes a moment later ("No such file"; measured: 1 backup in 20 right after a write), so
    a failed copy is removed and taken again from a new read-only snapshot, and counts only once it opens.
    """
    if target.exists():
        raise StoreError(f"Backup target {target} exists already; name a new directory.")
    for attempt in range(attempts):
        try:
            EmbeddedStore(path, read_only=True).backup(target)
            EmbeddedStore(target, read_only=True).graphs()
            return
        except (OSError, RuntimeError) as error:
            shutil.rmtree(target, ignore_errors=True)
            vanished = "No such file" in str(error) or "Corruption" in str(error)
            if attempt == attempts - 1 or not vanished:
                raise StoreError(f"Could not back up {path} while it is in use: {error}") from None
            time.sleep(0.05 * (attempt + 1))


def restore_directory(backup: Path, path: Path, *, replace: bool = False) -> Path | None:
    """Put a backup directory (written by `EmbeddedStore.backup`) in place of the embedded store at `path`;
    returns where the store that held data there was moved (None if there was none).

    Refused while another process holds the store (StoreLocked: a server would keep serving, and writing
    into, the files being replaced), and over a store with data unless `replace`; that store is moved
    aside, never deleted. The copy is made beside `path` and renamed into place, so a failed copy leaves
    the old store where it was.
    """
    backup, path = Path(backup), Path(path)
    if not (backup / "CURRENT").is_file():
        raise StoreError(
            f"{backup} is not a backup of an embedded store (a directory written by `querschnitt backup`)."
        )
    EmbeddedStore(backup, read_only=True).graphs()  # a copy that does not open is refused before anything moves
    moved = None
    if path.exists() and any(path.iterdir()):
        current = EmbeddedStore(path)  # raises StoreLocked while a server holds it
        holds_data = len(current) > 0
        current.close()
        if holds_data and not replace:
            raise StoreError(
                f"The store {path} holds data; restore with --replace to put the backup in its place "
                "(the old store is moved aside, not deleted)."
            )
        if holds_data:
            moved = path.with_name(f"{path.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            path.rename(moved)
        else:
            shutil.rmtree(path)
    copy = path.with_name(f".{path.name}.restoring-{uuid.uuid4().hex}")
    try:
        shutil.copytree(backup, copy)
    except OSError:
        shutil.rmtree(copy, ignore_errors=True)
        raise
    copy.rename(path)
    return moved


def _open_oxigraph(path: Path | None, *, read_only: bool) -> Store:
    if path is None:
        return Store()
    if read_only:
        if not (path / "CURRENT").exists():
            raise StoreError(f"There is no store at {path}; create one with `querschnitt init --store {path}`.")
        return Store.read_only(str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        return Store(str(path))
    except OSError as error:
        if "LOCK" in str(error) or "lock" in str(error):
            raise StoreLocked(
                f"The store {path} is in use by another process (probably `querschnitt serve`). "
                "Stop that process, or send the data to the running server: "
                "`querschnitt load FILE --server URL --token TOKEN`."
            ) from None
        raise StoreError(f"Cannot open the store {path}: {error}") from None


def _is_source_graph(graph: NamedNode | object) -> bool:
    return isinstance(graph, NamedNode) and graph != META_GRAPH and not graph.value.startswith(STAGING_PREFIX)


def _restrict(requested: list[str] | None, visible: list) -> list:
    if requested is None:
        return visible
    allowed = {g.value for g in visible if isinstance(g, NamedNode)}
    return [NamedNode(g) for g in requested if g in allowed]


def _swap_in(staged: NamedNode, graph: NamedNode) -> str:
    """Update operations giving `graph` the content of `staged` (then dropped by the caller, outside the
    transaction). Only the difference is written: a reload changes little, and MOVE's copy and delete of
    every quad cost ~10× a bulk load. Blank nodes of a new load are fresh, so they are always replaced."""
    if staged == graph:
        return ""
    return (
        f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
        f"MINUS {{ GRAPH {staged} {{ ?s ?p ?o }} }} }} ;\n"
        f"INSERT {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {staged} {{ ?s ?p ?o }} "
        f"MINUS {{ GRAPH {graph} {{ ?s ?p ?o }} }} }} ;\n"
    )


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


def _meta_update(info: GraphInfo) -> str:
    g = NamedNode(info.iri)
    # Terms are written by pyoxigraph's own serialisation (str(term)), so values cannot break out.
    body = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in meta_quads(info))
    return f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {g} ?p ?o }} }} ;\nINSERT DATA {{ GRAPH {META_GRAPH} {{ {body} }} }}"


def _meta_refresh(
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
    return (
        f"DELETE {{ GRAPH {META_GRAPH} {{ {graph} ?p ?o }} }} INSERT {{ GRAPH {META_GRAPH} {{ {template} }} }} WHERE {{ "
        f"{{ SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?q ?x }} }} }} "
        f"OPTIONAL {{ GRAPH {META_GRAPH} {{ {graph} {QS.visibility} ?old }} }} "
        f"BIND({chosen} AS ?visibility) BIND(IF(?n > 0, {graph}, ?unbound) AS ?g) "
        f"OPTIONAL {{ GRAPH {META_GRAPH} {{ {graph} ?p ?o }} }} }}"
    )


class _Counter:
    """Counts items passing through a stream without holding them."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, items: Iterable) -> Iterator:
        for item in items:
            self.n += 1
            yield item
