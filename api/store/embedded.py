"""The embedded store: pyoxigraph on disk (RocksDB) or in memory, behind the store interface (`base.Store`)."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Variable,
    serialize,
)

from api.personal_data import PersonalDataWatch, refusal, typed_as_person_query
from api.sparql_text import dataset_clauses
from api.store.base import (
    META_GRAPH,
    STAGING_PREFIX,
    GraphInfo,
    IncrementalRefresh,
    QueryResult,
    SharedOperations,
    StoreError,
    StoreLocked,
    Visibility,
    is_source_graph,
    meta_update,
    restrict,
)
from loaders.vocab import DCT, QS, SD, VOID

log = logging.getLogger(__name__)


class EmbeddedStore(SharedOperations):
    """pyoxigraph `Store` on disk (or in memory when `path` is None) behind the store interface."""

    local_engine = True

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
        # Set by api/derived.py `install`: what a write that knows the graphs it changes runs instead.
        self.incremental_refresh: IncrementalRefresh | None = None
        # Bumped by every write, so that read-only snapshots elsewhere (query workers) know to reopen.
        self.generation = 0
        if not read_only:
            self._remove_partial_bulk_files()
            self._drop_leftover_staging_graphs()

    @property
    def has_local_path(self) -> bool:
        """On disk (not in memory): worker processes can open checkpoints of it, and a backup copies it."""
        return self.path is not None

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
            default_graph=restrict(default_graphs, visible),
            named_graphs=[g for g in restrict(named_graphs, visible) if isinstance(g, NamedNode)],
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
                (g for g in self._oxigraph.named_graphs() if is_source_graph(g) and g.value not in self._loading),
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
        name instead (hidden until its metadata is written). Its cost against a raw `bulk_load` is in
        docs/scaling.md (bench/bulk_load.py).
        """
        self._require_writable()
        fixed = isinstance(visibility, dict)
        visibilities = dict(visibility) if fixed else {}
        for graph in visibilities:
            if not is_source_graph(NamedNode(graph)):
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
                    _swap_in(staging[info.iri], NamedNode(info.iri)) + meta_update(info) for info in infos
                )
                # Before the swap: the old content is in the graph, the new in its staging graph.
                before = self._marks_for_replacing({g: s.value for g, s in staging.items()}, counts, visibilities)
                # The staging graphs are still there when the derived graphs are refreshed: marked for that
                # refresh only (api/derived.py leaves them out), in the same transaction.
                marks = " ".join(f"{s} {QS.staging} true ." for g, s in staging.items() if s.value != g)
                if marks:
                    swap += f" ;\nINSERT DATA {{ GRAPH {META_GRAPH} {{ {marks} }} }}"
                update = self._with_derived(swap, before=before)
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
            old = next((g for g in self.graphs() if g.iri == graph), None)
            incremental = self._incremental_for([graph], old.triples if old else None)
            try:
                self._oxigraph.update(
                    self._with_derived(
                        f"DROP SILENT GRAPH {target} ; DELETE WHERE {{ GRAPH {META_GRAPH} {{ {target} ?p ?o }} }}",
                        before=[incremental.mark_subjects(graph)] if incremental else None,
                    )
                )
            except OSError as error:
                raise self._write_error(error) from None
            finally:
                self._changed()
        return old is not None

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update as administrator (one transaction)."""
        self._require_writable()
        self._run_update(self._with_derived(sparql), base_iri)

    def _update_sources(self, sparql: str, graphs: list[str], *, base_iri: str | None) -> None:
        self._require_writable()
        old = {g.iri: g.triples for g in self.graphs()}
        incremental = self._incremental_for(graphs, sum(old.get(g, 0) for g in graphs))
        marks = [incremental.mark_subjects(g) for g in graphs] if incremental else None
        # The subjects of the graphs' old content before the update, of their new content after it.
        self._run_update(self._with_derived(sparql, before=marks, after=tuple(marks or ())), base_iri)

    def _run_update(self, update: str, base_iri: str | None) -> None:
        with self._write_lock:
            try:
                self._oxigraph.update(update, base_iri=base_iri)
            except OSError as error:
                raise self._write_error(error) from None
            finally:
                self._changed()

    def _marks_for_replacing(
        self, others: dict[str, str], counts: dict[str, int], visibilities: dict[str, Visibility]
    ) -> list[str] | None:
        """What the incremental refresh must recompute for a replace (None: the full refresh), given for each
        replaced graph the graph holding its other version (or itself, for a new graph holding its content):
        the subjects of the triples that differ, or of every triple of a graph that is new or changes its
        visibility. Reads the metadata as it is before the replace."""
        old = {g.iri: g for g in self.graphs()}
        changed = sum(counts.values()) + sum(old[g].triples for g in others if g in old)
        incremental = self._incremental_for(list(others), changed)
        if incremental is None:
            return None
        marks = []
        for graph, other in others.items():
            if other == graph:
                marks.append(incremental.mark_subjects(graph))
            elif graph not in old or old[graph].visibility is not visibilities[graph]:
                marks += [incremental.mark_subjects(graph), incremental.mark_subjects(other)]
            else:
                marks.append(incremental.mark_difference(graph, other))
        return marks

    def _incremental_for(self, graphs: list[str], changed_quads: int | None) -> IncrementalRefresh | None:
        """The incremental refresh if it may serve a write of `graphs` holding `changed_quads` (None: unknown)."""
        incremental = self._incremental_in_use()
        if incremental is None or changed_quads is None or changed_quads > incremental.limit:
            return None
        if next(self._oxigraph.quads_for_pattern(None, None, None, DefaultGraph()), None) is not None:
            return None  # it looks up named graphs only (api/derived.py `_Lookups`)
        return incremental if incremental.applies_to(graphs) else None

    def _select_everywhere(self, sparql: str) -> Iterable:
        return self._oxigraph.query(sparql)

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
            try:
                self.flush()
            except OSError as error:
                # Committed writes are in RocksDB's write-ahead log, which the next open replays: a full disk
                # that refuses the flush loses nothing, and must not hide the error that stopped the command.
                log.warning("could not flush the store to disk at closing (kept in its log): %s", error)
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


class _Counter:
    """Counts items passing through a stream without holding them."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, items: Iterable) -> Iterator:
        for item in items:
            self.n += 1
            yield item
