"""The remote store: any SPARQL 1.1 Query + Update (+ Graph Store Protocol) endpoint behind the store interface.

`RemoteStore` offers the public methods of `EmbeddedStore` with the same meaning, so that the API can run
as several stateless processes in front of one shared store (docs/architecture.md, "The store"). Tested
against Virtuoso 7.2.5 (Debian `virtuoso-opensource`); what it does about that server's quirks, all measured
(the rewrites and repairs themselves are in `virtuoso_dialect.py`):

- **Dataset restriction.** Every query gets the caller's visible graphs as `default-graph-uri` *and*
  `named-graph-uri` (SPARQL 1.1 Protocol §2.1.4); an empty list becomes `urn:querschnitt:empty`, a graph
  nothing writes, because no parameter means "every graph". Virtuoso does not let the protocol's dataset
  override the query's own (the spec says it must): it *adds* `FROM`/`FROM NAMED` and `DEFINE
  input:default-graph-uri` pragmas to it. So the text is first parsed by pyoxigraph (standard SPARQL only:
  pragmas are a syntax error), then its `FROM`/`FROM NAMED` clauses are cut out and, intersected with the
  visible graphs, become the protocol parameters. A constant `GRAPH <g>` outside them is rewritten to the
  empty graph (always a named graph here): Virtuoso gave such a pattern one empty solution whenever none
  of its variables was projected (`ASK` true, `COUNT(*)` 1).
- **Server functions.** Virtuoso runs `bif:` and `sql:` functions written in a query: anonymously,
  `bif:http_get` fetches intranet URLs and `bif:exec` runs SQL. Queries and updates naming either are
  refused (`QueryRefused`).
- **Atomic replace.** Quads are spooled to temporary files first (a failing stream writes nothing
  remote), uploaded into staging graphs (Graph Store Protocol POSTs of ≤ 100,000 triples, those with blank
  nodes in one piece so each stays one node; or chunked `INSERT DATA`), counted, and swapped in by one
  update request. Virtuoso runs a
  request in one transaction that readers do not see until it ends, *but* when an operation fails at run
  time it commits the operations before it. The swap therefore moves the old graph aside instead of
  deleting it and writes a journal graph as it goes; after a failed swap the journal tells what to undo.
  `DROP GRAPH` is sent as `CLEAR GRAPH`, and a second removal of a graph in one request as `DELETE WHERE`:
  Virtuoso refuses to drop a graph it did not `CREATE`, and ignored the second removal.
- **Silent truncation and partial answers.** Virtuoso cuts SELECT answers at `ResultSetMaxRows` with HTTP
  200 (header `X-SPARQL-MaxRows`) and CONSTRUCT answers without any signal; a query past its `timeout`
  returns what it has with HTTP 200 (`X-SQL-State: S1TAT`). Reading a cut answer to its end raises
  `ResultTruncated` (a reader that stops earlier, like the API's row cap, is not disturbed); a partial
  answer raises `StoreTimeout`; dumps compare each graph's count.
- **Literals.** Virtuoso stores numbers as values (`"07"^^xsd:integer` comes back as `7`, `1.50` as `1.5`)
  and writes xsd:boolean as `1`/`0` and blank nodes as `nodeID://b1` in JSON results (repaired here).

Visibility is read from the metadata graph and cached per *generation stamp*, a value in the metadata
graph that every write through any process changes: each query costs one extra small request to check it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

import api.store.virtuoso_dialect as virtuoso_dialect
from api import sparql_binding
from api.personal_data import PersonalDataWatch, refusal, typed_as_person_query
from api.sparql_text import dataset_clauses, query_form, tokens, without_dataset_clauses
from api.store.base import (
    EMPTY_GRAPH,
    META_GRAPH,
    STAGING_PREFIX,
    GraphInfo,
    QueryRefused,
    RemoteError,
    ResultTruncated,
    SharedOperations,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    Visibility,
    is_source_graph,
    meta_update,
    restrict,
)
from loaders.vocab import DCT, QS, RDF, SD, VOID

log = logging.getLogger(__name__)

GENERATION = QS.generation
JOURNALED = QS.journaled
TARGET = QS.replaces
ASIDE_OF = QS.asideOf

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
# Virtuoso's SPARQL compiler runs out of memory at ~5,000 triples in one INSERT DATA.
_INSERT_CHUNK_LINES = 1000
_INSERT_CHUNK_BYTES = 256 * 1024
_GSP_CHUNK_LINES = 100_000
_GSP_CHUNK_BYTES = 16 * 1024 * 1024
_READ_CHUNK = 64 * 1024


class RemoteStore(SharedOperations):
    """A SPARQL 1.1 endpoint (query URL, optional update and Graph Store URLs) behind the store interface."""

    # A server evaluates the queries (it enforces the deadline, other processes write to it) and holds the data.
    local_engine = False
    has_local_path = False
    path = None
    read_only = False

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        gsp_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        query_timeout: float = 30.0,
        write_timeout: float = 3600.0,
        connect_timeout: float = 3.0,
        retries: int = 2,
        backoff: float = 0.1,
        max_connections: int = 20,
        transport: httpx.BaseTransport | None = None,
    ):
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.query_timeout = query_timeout
        self.write_timeout = write_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self.derived_updates: list[str] = []
        auth = _ChallengeAuth(user, password or "") if user else None
        self._client = httpx.Client(
            auth=auth,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            timeout=httpx.Timeout(query_timeout, connect=connect_timeout),
            headers={"User-Agent": "querschnitt-remote-store"},
        )
        self._parser = Store()  # empty: parses queries (standard SPARQL only) without evaluating anything
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._visible: dict[bool, list[NamedNode]] = {}
        self._generation = 0
        self._server_max_rows: int | None = None

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    def close(self) -> None:
        """Close the pooled connections (also done when the store is garbage-collected)."""
        self._client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        client = self.__dict__.get("_client")
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

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
        timeout: float | None = None,
    ) -> QuerySolutions | QueryBoolean | RemoteTriples:
        """Run a SPARQL query over the graphs the caller may see (the union by default); see EmbeddedStore.query."""
        virtuoso_dialect.check_server_functions(sparql)
        self._check_syntax(sparql, base_iri=base_iri, substitutions=substitutions)
        visible = self.visible_graphs(include_internal=include_internal)
        if default_graphs is None and named_graphs is None:
            clauses = dataset_clauses(sparql, base_iri=base_iri)
            if clauses is not None:
                default_graphs, named_graphs = clauses.default, clauses.named
        text = without_dataset_clauses(sparql)
        if substitutions:
            text = substitute(text, substitutions)
        if base_iri is not None:
            text = f"BASE {NamedNode(base_iri)}\n{text}"
        default, named = restrict(default_graphs, visible), restrict(named_graphs, visible)
        text = virtuoso_dialect.unlisted_graphs_emptied(text, {g.value for g in named})
        if text != sparql:
            self._check_syntax(text)  # what goes out must still be one valid query, and have no FROM left
            if dataset_clauses(text) is not None:
                raise QueryRefused("the query's FROM clauses could not be separated from it")
        return self._query(
            text,
            default=default,
            named=[*named, EMPTY_GRAPH],
            timeout=self.query_timeout if timeout is None else timeout,
        )

    def _check_syntax(
        self, text: str, *, base_iri: str | None = None, substitutions: dict[str, NamedNode | Literal] | None = None
    ) -> None:
        """Raise SyntaxError (as the embedded store would) unless `text` is standard SPARQL 1.1.

        pyoxigraph has no parse-only call, and its `query` on an empty store already sends SERVICE
        requests; so SERVICE is checked as GRAPH, which has the same grammar.
        """
        self._parser.query(
            _service_as_graph(text),
            base_iri=base_iri,
            substitutions={Variable(k): v for k, v in (substitutions or {}).items()} or None,
        )

    def visible_graphs(self, *, include_internal: bool) -> list[NamedNode]:
        """Registered graphs the caller may see: the public ones, or all of them for staff.

        Unlike the embedded store, staff do not see graphs that have no metadata entry (written by raw
        updates), nor a default graph: a shared store holds graphs of other tools and of the server itself.
        """
        stamp = self._read_stamp()
        with self._lock:
            if stamp == self._stamp and include_internal in self._visible:
                return self._visible[include_internal]
        infos = self.graphs()
        graphs = {
            True: [NamedNode(g.iri) for g in infos],
            False: [NamedNode(g.iri) for g in infos if g.visibility is Visibility.PUBLIC],
        }
        with self._lock:
            if stamp != self._stamp:
                self._generation += 1
            self._stamp = stamp
            self._visible = graphs
        return graphs[include_internal]

    @property
    def generation(self) -> int:
        """Changes whenever any process wrote through a RemoteStore (one small request to find out)."""
        stamp = self._read_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._generation += 1
                self._stamp = stamp
                self._visible = {}
            return self._generation

    def graphs(self, *, include_internal: bool = True) -> list[GraphInfo]:
        """The registered source graphs with their metadata, sorted by IRI.

        Read as plain `?g ?p ?o` and put together here: Virtuoso's optimizer estimated a seven-way star
        join over the small metadata graph at millions of seconds on a fresh database and refused it.
        """
        rows = self._select_paged(
            f"SELECT ?g ?p ?o {{ GRAPH {META_GRAPH} {{ ?g ?p ?o }} }} ORDER BY ?g ?p ?o", named=[META_GRAPH]
        )
        entries: dict[str, dict[str, object]] = {}
        for row in rows:
            entries.setdefault(row["g"].value, {}).setdefault(row["p"].value, row["o"])
        infos = []
        for iri, entry in sorted(entries.items()):
            fields = [entry.get(str(p)[1:-1]) for p in (RDF.type, QS.visibility, DCT.source, QS.loader, DCT.modified)]
            count, checksum = entry.get(VOID.triples.value), entry.get(QS.checksum.value)
            if fields[0] != SD.NamedGraph or None in fields or count is None or checksum is None:
                continue
            _, visibility, source, loader, modified = fields
            infos.append(
                GraphInfo(
                    iri=iri,
                    visibility=Visibility.PUBLIC if visibility == QS.public else Visibility.INTERNAL,
                    source=source.value,
                    loader=loader.value,
                    modified=virtuoso_dialect.aware(datetime.fromisoformat(modified.value.replace("Z", "+00:00"))),
                    triples=int(count.value),
                    checksum=checksum.value,
                )
            )
        return [g for g in infos if include_internal or g.visibility is Visibility.PUBLIC]

    def dump(
        self,
        output: IO[bytes],
        *,
        rdf_format: RdfFormat = RdfFormat.N_QUADS,
        include_internal: bool = True,
        include_meta: bool = False,
    ) -> int:
        """Write the visible source graphs (and optionally the metadata graph) as quads; returns the count.

        Graph by graph (each one is consistent; the whole is not one snapshot); each graph's count is
        checked against the server's, so a server-side row limit cannot shorten the dump unnoticed.
        """
        graphs = list(self.visible_graphs(include_internal=include_internal))
        if include_meta:
            graphs.append(META_GRAPH)
        total = 0

        def quads() -> Iterator[Quad]:
            nonlocal total
            for graph in graphs:
                expected = self._count(graph)
                n = 0
                body = self._request_query(
                    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}",
                    default=[EMPTY_GRAPH],
                    named=[graph],
                    accept=_NTRIPLES,
                    timeout=self.write_timeout,
                )
                for triple in parse(body, RdfFormat.N_TRIPLES, rename_blank_nodes=True):
                    n += 1
                    yield Quad(triple.subject, triple.predicate, triple.object, graph)
                if n != expected:
                    raise ResultTruncated(
                        f"The dump of {graph} got {n} of its {expected} triples from the store: its row limit "
                        "(Virtuoso: ResultSetMaxRows in [SPARQL]) must be above the largest graph."
                    )
                total += n

        serialize(quads(), output, rdf_format)
        return total

    def __len__(self) -> int:
        """Quads in the registered graphs and the metadata graph (not the server's own graphs)."""
        graphs = [*self.visible_graphs(include_internal=True), META_GRAPH]
        (row,) = self._select("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }", named=graphs)
        return int(row["n"].value)

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
        """Atomically replace graphs with `quads` and record their metadata (see EmbeddedStore.replace_graphs).

        The stream is read completely (into temporary files) before anything is sent, so an error in it
        changes nothing; the staging graphs are dropped whatever happens; the swap is one update request,
        undone from its journal if the server fails part-way (module docstring).
        """
        fixed = isinstance(visibility, dict)
        visibilities = dict(visibility) if fixed else {}
        for graph in visibilities:
            if not is_source_graph(NamedNode(graph)):
                raise StoreError(f"{source}: graph {graph} is kept by the store itself and cannot be loaded")
        with tempfile.TemporaryDirectory(prefix="querschnitt-upload-") as directory:
            spools: dict[str, _Spool] = {}

            def spool(graph: str) -> _Spool:
                spools[graph] = _Spool(Path(directory))
                return spools[graph]

            for graph in visibilities:
                spool(graph)
            watch = PersonalDataWatch()
            try:
                for q in watch.watch(quads):
                    graph = q.graph_name.value if isinstance(q.graph_name, NamedNode) else None
                    target = spools.get(graph)  # type: ignore[arg-type]
                    if target is None:
                        if graph is None or fixed or graph == META_GRAPH.value or graph.startswith(STAGING_PREFIX):
                            raise StoreError(
                                f"{source}: a quad names graph {graph or 'DEFAULT'}, which this load may not write"
                            )
                        visibilities[graph] = visibility  # type: ignore[assignment]
                        target = spool(graph)
                    target.write(q)
            finally:
                for s in spools.values():
                    s.close()
            public = [g for g in spools if visibilities[g] is Visibility.PUBLIC]
            problems = watch.problems(public, typed_as_person=self.typed_as_person)
            if problems and not published_people:
                raise StoreError(refusal(problems, source=source))
            return self._load_and_swap(spools, visibilities, source=source, loader=loader, checksum=checksum)

    def typed_as_person(self, subjects: list) -> set:
        """Those of `subjects` that any graph types as a `foaf:Person`."""
        found: set = set()
        for start in range(0, len(subjects), 200):
            rows = self._select(typed_as_person_query(subjects[start : start + 200]), named=None)
            found.update(row["s"] for row in rows)
        return found

    def drop_graph(self, graph: str) -> bool:
        """Remove a source graph and its metadata; False if there was no such graph."""
        target = NamedNode(graph)
        known = any(g.iri == graph for g in self.graphs())
        # The metadata first: if the server fails after it, the leftover content is invisible to everyone.
        self._update(
            self._with_derived(
                f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {target} ?p ?o }} }} ;\nDROP SILENT GRAPH {target}"
            )
        )
        return known

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update as administrator, in one request.

        On Virtuoso an operation that fails at run time leaves the operations before it applied (the
        server commits them): send updates that cannot fail half-way, or one operation per request.
        """
        virtuoso_dialect.check_server_functions(sparql)
        text = sparql if base_iri is None else f"BASE {NamedNode(base_iri)}\n{sparql}"
        self._update(self._with_derived(text))

    def backup(self, target: Path) -> None:
        """Write a dump of every graph and the metadata graph to `target`/querschnitt.nq (a new directory)."""
        target = Path(target)
        if target.exists():
            raise StoreError(f"Backup target {target} exists already; name a new directory.")
        target.mkdir(parents=True)
        with (target / "querschnitt.nq").open("wb") as handle:
            self.dump(handle, include_internal=True, include_meta=True)

    def restore(self, source: Path) -> int:
        """Load a backup written by `backup` (a directory, or its querschnitt.nq) into an empty store: every
        graph and its metadata as they were; returns the number of quads.

        Graph by graph, the metadata graph last: until it is written no graph is registered, so no reader
        sees a half restore (and a failed one leaves only unregistered graphs, emptied again by a new try).
        """
        path = Path(source)
        path = path / "querschnitt.nq" if path.is_dir() else path
        if self.graphs():
            raise StoreError("A backup is restored into an empty store only; this one has registered graphs.")
        with tempfile.TemporaryDirectory(prefix="querschnitt-restore-") as directory:
            spools: dict[str, _Spool] = {}
            try:
                with path.open("rb") as handle:
                    for q in parse(handle, RdfFormat.N_QUADS):
                        graph = q.graph_name.value if isinstance(q.graph_name, NamedNode) else None
                        if graph is None or graph.startswith(STAGING_PREFIX):
                            raise StoreError(
                                f"{path}: a quad in graph {graph or 'DEFAULT'}: not a backup of this store"
                            )
                        spool = spools.get(graph) or spools.setdefault(graph, _Spool(Path(directory)))
                        spool.write(q)
            finally:
                for spool in spools.values():
                    spool.close()
            if META_GRAPH.value not in spools:
                raise StoreError(f"{path} has no metadata graph ({META_GRAPH.value}): not a backup of this store")
            for graph in sorted(spools, key=lambda g: (g == META_GRAPH.value, g)):
                self._update(f"CLEAR SILENT GRAPH {NamedNode(graph)}", stamp=False)
                self._upload(NamedNode(graph), spools[graph])
            self._update(_stamp_update(), stamp=False)  # the backup's stamp is not this store's state
            return sum(spool.count for spool in spools.values())

    def flush(self) -> None:
        """Nothing to do: the server persists its own writes (Virtuoso: checkpoints)."""

    def recover(self) -> int:
        """Undo swaps whose process died before it could, then drop every staging graph; returns the undos.

        For an administrator while no load is running: the graphs of a load in flight look the same as
        stranded ones (a client that gave up on a Graph Store upload can also leave the server still
        filling a staging graph after it was dropped).
        """
        rows = self._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
        staging = [row["g"] for row in rows if row["g"].value.startswith(STAGING_PREFIX)]
        journals = [g for g in staging if g.value.endswith(":journal")]
        for journal in journals:
            self._undo(journal)
        leftovers = [g for g in staging if not g.value.endswith(":journal")]
        if leftovers:
            self._drop_quietly(leftovers)
        return len(journals)

    # -- internals: writing --------------------------------------------------------------------

    def _load_and_swap(
        self, spools: dict[str, _Spool], visibilities: dict, *, source: str, loader: str, checksum: str
    ) -> list[GraphInfo]:
        txn = uuid.uuid4().hex
        order = sorted(spools)
        stages = {g: NamedNode(f"{STAGING_PREFIX}{txn}:{i}") for i, g in enumerate(order)}
        aside = {g: NamedNode(f"{STAGING_PREFIX}{txn}:{i}:old") for i, g in enumerate(order)}
        journal = NamedNode(f"{STAGING_PREFIX}{txn}:journal")
        swapped = False
        try:
            counts: dict[str, int] = {}
            for graph in order:
                self._upload(stages[graph], spools[graph])
                counts[graph] = self._count(stages[graph])
                if spools[graph].count and not counts[graph]:
                    raise RemoteError(
                        f"{source}: the store accepted {spools[graph].count} triples for {graph} but holds none"
                    )
            now = datetime.now(UTC)
            infos = [GraphInfo(g, visibilities[g], source, loader, now, counts[g], checksum) for g in order]
            targets = " ".join(str(NamedNode(g)) for g in order)
            entries = " ".join(f"{journal} {TARGET} {NamedNode(g)} ." for g in order)
            ops = [
                # The journal: the targets and their metadata as they were.
                f'INSERT DATA {{ GRAPH {journal} {{ {journal} {JOURNALED} "{txn}" . {entries} }} }}',
                f"INSERT {{ GRAPH {journal} {{ ?g ?p ?o }} }} WHERE {{ GRAPH {META_GRAPH} {{ ?g ?p ?o }} "
                f"VALUES ?g {{ {targets} }} }}",
            ]
            for info in infos:
                target = NamedNode(info.iri)
                ops += [
                    # Aside, not deleted: the undo needs it. (MOVE onto an empty graph is also ~100× faster on
                    # Virtuoso than onto a full one.) The journal entry follows the MOVE, so it is there only
                    # when the MOVE was done.
                    f"MOVE SILENT GRAPH {target} TO GRAPH {aside[info.iri]}",
                    f"INSERT DATA {{ GRAPH {journal} {{ {aside[info.iri]} {ASIDE_OF} {target} }} }}",
                    f"MOVE SILENT GRAPH {stages[info.iri]} TO GRAPH {target}",
                    meta_update(info),
                ]
            ops.append(_stamp_update())
            # The old contents set aside and the journal still exist while the derived graphs are refreshed:
            # marked for that refresh only (api/derived.py leaves them out).
            marks = " ".join(f"{g} {QS.staging} true ." for g in [*aside.values(), journal])
            ops.append(f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {marks} }} }}")
            ops += self.derived_updates
            ops.append(f"DELETE DATA {{ GRAPH {META_GRAPH} {{ {marks} }} }}")
            ops += [f"DROP SILENT GRAPH {aside[g]}" for g in order]
            ops.append(f"DROP SILENT GRAPH {journal}")
            try:
                self._update(" ;\n".join(ops), stamp=False)
            except (RemoteError, SyntaxError):
                # The server answered, so it is done with the request: it may have kept a part of it.
                self._undo(journal)
                raise
            swapped = True
            return infos
        finally:
            if not swapped:
                self._drop_quietly([*stages.values()])

    def _undo(self, journal: NamedNode) -> None:
        """Put back what a failed swap changed, from its journal; nothing when it left no journal."""
        rows = self._select(
            f"SELECT ?target ?aside {{ GRAPH {journal} {{ {{ {journal} {TARGET} ?target }} "
            f"UNION {{ ?aside {ASIDE_OF} ?target }} }} }}",
            named=[journal],
        )
        if not rows:
            return
        targets = sorted({str(row["target"]) for row in rows})
        ops = [f"MOVE SILENT GRAPH {row['aside']} TO GRAPH {row['target']}" for row in rows if row["aside"] is not None]
        ops += [
            f"DELETE {{ GRAPH {META_GRAPH} {{ ?g ?p ?o }} }} WHERE {{ GRAPH {META_GRAPH} {{ ?g ?p ?o }} "
            f"VALUES ?g {{ {' '.join(targets)} }} }}",
            f"INSERT {{ GRAPH {META_GRAPH} {{ ?g ?p ?o }} }} WHERE {{ GRAPH {journal} {{ ?g ?p ?o }} "
            f"VALUES ?g {{ {' '.join(targets)} }} }}",
            _stamp_update(),
            f"DROP SILENT GRAPH {journal}",
        ]
        ops += [f"DROP SILENT GRAPH {row['aside']}" for row in rows if row["aside"] is not None]
        log.warning("undoing a failed swap of %s from its journal %s", ", ".join(targets), journal.value)
        self._update(" ;\n".join(ops), stamp=False)
        if self.derived_updates:
            # Apart, last: if they fail again, the source graphs and their metadata are back all the same.
            try:
                self._update(" ;\n".join(self.derived_updates))
            except StoreError as error:
                log.error("derived updates failed after undoing %s: %s", journal.value, error)

    def _upload(self, stage: NamedNode, spool: _Spool) -> None:
        """Fill a staging graph: Graph Store Protocol POSTs (merging) or SPARQL `INSERT DATA`, in chunks.

        Triples with blank nodes go in one request of their own, so that each blank node stays one node.
        GSP bodies are sent with a length: Virtuoso answers 201 to a chunked body and stores nothing.
        Chunks keep every transaction small: one 10^6-triple POST to Virtuoso with a raised
        TransactionAfterImageLimit sometimes never finished (a lock wait, no CPU).
        """
        if self.gsp_url is not None:
            bodies = [*_line_chunks(spool.path, _GSP_CHUNK_LINES, _GSP_CHUNK_BYTES)]
            if spool.blank_count:
                bodies.append(spool.blank_path.read_text(encoding="utf-8"))
            for body in bodies:
                data = body.encode("utf-8")
                self._send(
                    "POST",
                    self.gsp_url,
                    params={"graph": stage.value},
                    content=data,
                    headers={"Content-Type": _NTRIPLES},
                    timeout=self.write_timeout,
                    idempotent=False,
                ).close()
            return
        for chunk in _line_chunks(spool.path, _INSERT_CHUNK_LINES, _INSERT_CHUNK_BYTES):
            self._update(f"INSERT DATA {{ GRAPH {stage} {{\n{chunk}}} }}", stamp=False)
        if spool.blank_count:
            # Virtuoso refuses blank nodes in INSERT DATA; a template with an empty WHERE takes them.
            self._update(
                f"INSERT {{ GRAPH {stage} {{\n{spool.blank_path.read_text(encoding='utf-8')}}} }} WHERE {{}}",
                stamp=False,
            )

    def _drop_quietly(self, graphs: list[NamedNode]) -> None:
        try:
            self._update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs), stamp=False)
        except StoreError as error:
            log.warning("could not drop staging graphs %s: %s", ", ".join(g.value for g in graphs), error)

    def _update(self, sparql: str, *, stamp: bool = True) -> None:
        text = virtuoso_dialect.rewrite_graph_removals(f"{sparql}\n;\n{_stamp_update()}" if stamp else sparql)
        try:
            self._send(
                "POST",
                self.update_url,
                data={"update": text},
                timeout=self.write_timeout,
                idempotent=False,
            ).close()
        finally:
            with self._lock:
                self._stamp = None

    # -- internals: reading --------------------------------------------------------------------

    def _read_stamp(self) -> str:
        # Read before every query: within the query deadline, so a hung store costs a request no more than that.
        rows = self._select(
            f"SELECT ?v {{ GRAPH {META_GRAPH} {{ {META_GRAPH} {GENERATION} ?v }} }}",
            named=[META_GRAPH],
            timeout=self.query_timeout,
        )
        values = sorted(row["v"].value for row in rows)
        return values[0] if values else ""

    def _count(self, graph: NamedNode) -> int:
        (row,) = self._select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?p ?o }} }}", named=[graph])
        return int(row["n"].value)

    def _select_everywhere(self, sparql: str) -> list:
        return self._select(sparql, named=None)

    def _select(self, sparql: str, *, named: list[NamedNode] | None, timeout: float | None = None) -> list:
        """A query of the store itself (no caller, no dataset checks); `named=None` means every graph."""
        result = self._query(
            sparql,
            default=[EMPTY_GRAPH] if named is not None else None,
            named=named,
            timeout=max(self.query_timeout, 30.0) if timeout is None else timeout,
        )
        assert isinstance(result, QuerySolutions)
        return list(result)

    def _select_paged(self, sparql: str, *, named: list[NamedNode]) -> list:
        """All rows of an ORDER BY query of the store itself, in pages of the server's row limit if it cuts."""
        rows: list = []
        limit: int | None = None
        offset = 0
        while True:
            text = sparql if limit is None else f"{sparql} LIMIT {limit} OFFSET {offset}"
            body = self._request_query(
                text, default=[EMPTY_GRAPH], named=named, accept=_RESULTS_JSON, timeout=max(self.query_timeout, 30.0)
            )
            cut, body.truncated_at = body.truncated_at, None  # paged here instead
            page = list(parse_query_results(body, QueryResultsFormat.JSON))
            rows += page
            if limit is None:
                if cut is None:
                    return rows
                limit = offset = cut
            elif len(page) < limit:
                return rows
            else:
                offset += limit

    def _query(
        self, text: str, *, default: list[NamedNode] | None, named: list[NamedNode] | None, timeout: float
    ) -> QuerySolutions | QueryBoolean | RemoteTriples:
        form = query_form(text)
        graph_result = form in ("CONSTRUCT", "DESCRIBE")
        body = self._request_query(
            text, default=default, named=named, accept=_NTRIPLES if graph_result else _RESULTS_JSON, timeout=timeout
        )
        if graph_result:
            return RemoteTriples(parse(body, RdfFormat.N_TRIPLES, without_named_graphs=True))
        return parse_query_results(body, QueryResultsFormat.JSON)

    def _request_query(
        self,
        text: str,
        *,
        default: list[NamedNode] | None,
        named: list[NamedNode] | None,
        accept: str,
        timeout: float,
    ) -> _Body:
        data: dict[str, str | list[str]] = {"query": text, "timeout": str(int(timeout * 1000))}
        if default is not None:
            data["default-graph-uri"] = [g.value for g in default] or [EMPTY_GRAPH.value]
        if named is not None:
            data["named-graph-uri"] = [g.value for g in named] or [EMPTY_GRAPH.value]
        deadline = time.monotonic() + timeout
        response = self._send(
            "POST",
            self.query_url,
            data=data,
            headers={"Accept": accept},
            timeout=timeout,
            idempotent=True,
            stream=True,
        )
        state = response.headers.get("X-SQL-State")
        if state:
            response.close()
            raise StoreTimeout(
                f"The store stopped the query after {timeout:g} s and offered a partial answer "
                f"({state}: {response.headers.get('X-SQL-Message', '').strip()[:200]}). Narrow it down (LIMIT, "
                "more specific patterns) or download the data dump and query it locally."
            )
        virtuoso = "virtuoso" in response.headers.get("Server", "").lower()
        truncated = response.headers.get("X-SPARQL-MaxRows")
        max_lines = None
        if accept == _NTRIPLES and virtuoso:
            max_lines = self._virtuoso_max_rows()
        return _Body(
            response,
            deadline=deadline,
            fix_booleans=virtuoso and accept == _RESULTS_JSON,
            truncated_at=int(truncated) if truncated and truncated.isdigit() else None,
            max_lines=max_lines,
        )

    def _virtuoso_max_rows(self) -> int | None:
        """Virtuoso's ResultSetMaxRows (it cuts CONSTRUCT answers there without saying so), asked once."""
        if self._server_max_rows is None:
            try:
                (row,) = self._select(
                    "SELECT (<bif:virtuoso_ini_item_value>('SPARQL', 'ResultSetMaxRows') AS ?m) {}", named=[]
                )
                value = row["m"].value if row["m"] is not None else ""
                self._server_max_rows = int(value) if value.strip().isdigit() else 0
            except StoreError:
                self._server_max_rows = 0
        return self._server_max_rows or None

    def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        idempotent: bool,
        stream: bool = False,
        **kwargs,
    ) -> httpx.Response:
        """One request with the store's errors: retried with backoff when idempotent, never otherwise."""
        attempts = 1 + (self.retries if idempotent else 0)
        deadline = time.monotonic() + timeout
        for attempt in range(attempts):
            last = attempt == attempts - 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreTimeout(f"The store at {url} did not answer within {timeout:g} s.")
            request = self._client.build_request(
                method,
                url,
                timeout=httpx.Timeout(left, connect=min(self.connect_timeout, left), pool=min(5.0, left)),
                **kwargs,
            )
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as error:
                if isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout) and not last:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                if isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout):
                    raise StoreUnavailable(
                        f"The store at {url} is unavailable: {error or type(error).__name__}"
                    ) from None
                raise StoreTimeout(f"The store at {url} did not answer within {timeout:g} s.") from None
            except httpx.TransportError as error:
                if not last:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise StoreUnavailable(f"The store at {url} is unavailable: {error or type(error).__name__}") from None
            if response.status_code < 300:
                if not stream:
                    response.read()
                return response
            response.read()
            response.close()
            message = virtuoso_dialect.server_message(response)
            if response.status_code in (502, 503, 504):
                if not last:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise StoreUnavailable(f"The store at {url} is unavailable (HTTP {response.status_code}): {message}")
            if response.status_code in (401, 403):
                raise StoreError(
                    f"The store at {url} refused access (HTTP {response.status_code}); check "
                    "QUERSCHNITT_REMOTE_USER and QUERSCHNITT_REMOTE_PASSWORD and the user's rights."
                )
            refusal = virtuoso_dialect.server_refusal(message, response.status_code)
            if refusal is not None:
                raise refusal
            if response.status_code == 400 and virtuoso_dialect.is_syntax_error(message):
                raise SyntaxError(message)
            raise RemoteError(message, response.status_code)
        raise AssertionError("unreachable")


class RemoteTriples:
    """The triples of a CONSTRUCT or DESCRIBE answer, read as they arrive; iterate once, or `serialize`."""

    def __init__(self, quads: Iterator[Quad]):
        self._triples = (Triple(q.subject, q.predicate, q.object) for q in quads)

    def __iter__(self) -> Iterator[Triple]:
        return self._triples

    def serialize(self, output: IO[bytes] | str | None = None, format: RdfFormat | None = None) -> bytes | None:
        return serialize(self._triples, output, format)


def substitute(text: str, substitutions: dict[str, NamedNode | Literal]) -> str:
    """`text` with each substituted variable replaced by its term (api/sparql_binding.py); QueryRefused if not."""
    try:
        return sparql_binding.substitute(text, substitutions)
    except sparql_binding.BindingRefused as error:
        raise QueryRefused(str(error)) from None


def _service_as_graph(text: str) -> str:
    """`text` with every `SERVICE [SILENT]` keyword replaced by `GRAPH` (for a syntax check that calls nothing)."""
    if "service" not in text.lower():
        return text
    out = []
    last = 0
    previous = None
    for tok in tokens(text):
        if tok.is_word("SERVICE"):
            out += [text[last : tok.start], "GRAPH"]
            last = tok.start + len(tok.text)
        elif tok.is_word("SILENT") and previous is not None and previous.is_word("SERVICE"):
            out += [text[last : tok.start], " "]
            last = tok.start + len(tok.text)
        previous = tok
    out.append(text[last:])
    return "".join(out)


def _stamp_update() -> str:
    stamp = Literal(uuid.uuid4().hex)
    return (
        f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {META_GRAPH} {GENERATION} ?v }} }} ;\n"
        f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {META_GRAPH} {GENERATION} {stamp} }} }}"
    )


class _Body(io.RawIOBase):
    """A streamed response body for pyoxigraph's parsers, with the store's checks at the end of it."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        deadline: float,
        fix_booleans: bool,
        truncated_at: int | None,
        max_lines: int | None,
    ):
        self._response = response
        self._chunks = response.iter_bytes(_READ_CHUNK)
        self._deadline = deadline
        self._fix = fix_booleans
        self.truncated_at = truncated_at
        self._max_lines = max_lines
        self._lines = 0
        self._pending = b""
        self._held = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._eof:
            self._fill()
        if not self._pending:
            self._finish()
            return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _fill(self) -> None:
        if time.monotonic() > self._deadline:
            self.close()
            raise StoreTimeout("The store's answer did not arrive before the deadline.")
        try:
            chunk = next(self._chunks, None)
        except httpx.TimeoutException:
            self.close()
            raise StoreTimeout("The store's answer did not arrive before the deadline.") from None
        except httpx.HTTPError as error:
            self.close()
            raise StoreUnavailable(f"The store's answer broke off: {error or type(error).__name__}") from None
        if chunk is None:
            self._eof = True
            data, self._held = self._held, b""
        elif self._fix:
            # Virtuoso writes one binding per line: repair whole lines only, so a match is never split.
            data = self._held + chunk
            cut = data.rfind(b"\n") + 1
            data, self._held = data[:cut], data[cut:]
        else:
            data = chunk
        if self._fix and data:
            data = virtuoso_dialect.repaired_json_results(data)
        if self._max_lines is not None:
            self._lines += data.count(b"\n")
        self._pending = data

    def _finish(self) -> None:
        self.close()
        if self.truncated_at is not None:
            raise ResultTruncated(
                f"The store cut the answer at {self.truncated_at} rows (Virtuoso: ResultSetMaxRows in "
                "[SPARQL]); add LIMIT/OFFSET, or raise the server's limit."
            )
        if self._max_lines is not None and self._lines >= self._max_lines:
            raise ResultTruncated(
                f"The answer reached the store's row limit ({self._max_lines}); it may be cut (Virtuoso does "
                "not say so for CONSTRUCT). Add LIMIT/OFFSET, or raise ResultSetMaxRows."
            )

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class _Spool:
    """The N-Triples of one graph in temporary files: triples with blank nodes apart (sent in one piece)."""

    def __init__(self, directory: Path):
        fd, name = tempfile.mkstemp(dir=directory, suffix=".nt")
        self.path = Path(name)
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self.blank_path = self.path.with_suffix(".blank.nt")
        self._blank = self.blank_path.open("w", encoding="utf-8", newline="\n")
        self.count = 0
        self.blank_count = 0

    def write(self, q: Quad) -> None:
        line = f"{q.subject} {q.predicate} {q.object} .\n"
        self.count += 1
        if isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode):
            self.blank_count += 1
            self._blank.write(line)
        else:
            self._handle.write(line)

    def close(self) -> None:
        self._handle.close()
        self._blank.close()


def _line_chunks(path: Path, max_lines: int, max_bytes: int) -> Iterator[str]:
    lines: list[str] = []
    size = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            lines.append(line)
            size += len(line)
            if len(lines) >= max_lines or size >= max_bytes:
                yield "".join(lines)
                lines, size = [], 0
    if lines:
        yield "".join(lines)


class _ChallengeAuth(httpx.Auth):
    """HTTP Basic or Digest, whichever the server's challenge asks for; nothing is sent before it asks."""

    def __init__(self, user: str, password: str):
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._scheme: str | None = None

    def auth_flow(self, request: httpx.Request):
        if self._scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("WWW-Authenticate", "").strip().lower()
        if challenge.startswith("digest"):
            self._scheme = "digest"
            yield from self._digest.auth_flow(request)
        elif challenge.startswith("basic"):
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)


__all__ = [
    "EMPTY_GRAPH",
    "QueryRefused",
    "RemoteError",
    "RemoteStore",
    "RemoteTriples",
    "ResultTruncated",
    "StoreTimeout",
    "StoreUnavailable",
    "substitute",
    "without_dataset_clauses",
]
