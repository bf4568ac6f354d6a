"""The `querschnitt` command line: a thin layer over the same functions the HTTP layer uses.

Data goes to stdout, reports and progress to stderr. Exit codes: 0 success, 1 invalid input or
validation errors (nothing written), 2 usage error, 3 store unavailable (locked, missing).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pyoxigraph import (
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    parse,
    serialize,
)
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from api import gap_notes, jsonld, load_guard
from api.demo import ensure_sdg_taxonomy, install_sdg_taxonomy, write_result
from api.named_queries import NamedQueryError, ParameterError, QueryRegistry
from api.server_target import ServerTarget
from api.settings import Settings
from api.store import Store, StoreError, StoreLocked, Visibility, backup_snapshot, meta_quads, open_store
from loaders.rdf_files import RdfSyntaxError, is_rdf_file, rdf_format_of, read_rdf, sha256_of
from loaders.report import LoadResult, Problem

app = typer.Typer(
    help="Querschnitt: the linked-data backbone for a municipality's departments, projects, data and SDGs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# soft_wrap: a message stays one line however narrow the terminal (scripts grep it).
# markup=False: messages hold file names, IRIs and cell texts, which are never console markup.
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def say(style: str, label: str, text: str = "") -> None:
    """One line to stderr: `label` in `style`, then `text` as it is (file names, IRIs and loaders' messages
    hold brackets, which console markup would read as tags: `LAYER[zoom]=1` printed as `LAYER=1`)."""
    err.print(Text.assemble((label, style), text), highlight=False)


EXIT_INVALID = 1
EXIT_STORE = 3

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store directory, `memory`, or a SPARQL endpoint URL; default QUERSCHNITT_STORE."),
]


def _settings() -> Settings:
    return Settings()


_opened: list[Store] = []
# Copies of a store a server holds, taken for reading commands; removed when the command ends.
_snapshots: list[Path] = []


def _remember_server(target: ServerTarget) -> ServerTarget:
    _opened.append(target)
    return target


def _remember(store: Store) -> Store:
    _opened.append(store)
    return store


def command(*args, group: typer.Typer = app, **kwargs):
    """`app.command` that releases every store the command opened, also when it fails.

    A failed command's traceback keeps its frames (and so the store) alive, which would hold the
    RocksDB lock for as long as the exception is referenced (in-process runners keep it).
    """

    def decorate(function):
        @functools.wraps(function)
        def run(*call_args, **call_kwargs):
            try:
                return function(*call_args, **call_kwargs)
            finally:
                while _opened:
                    _opened.pop().close()
                while _snapshots:
                    shutil.rmtree(_snapshots.pop(), ignore_errors=True)

        return group.command(*args, **kwargs)(run)

    return decorate


def _open(store, *, read_only_fallback: bool = False, taxonomy: bool = True) -> Store:
    """Open the store (with the SDG taxonomy) or exit with one clear line; readers fall back to a snapshot."""
    if isinstance(store, ServerTarget):
        return store
    settings = _settings()
    location = store or settings.store
    try:
        opened = _remember(open_store(location, **settings.remote_options()))
        if not opened.local_engine:
            opened.graphs()  # a remote store that is down: say so now, in one line
        # Every store a command creates or opens holds the SDG taxonomy (what `init` loads), so that a
        # first `load` into a new store already gives gap reports that can be right.
        if taxonomy:
            ensure_sdg_taxonomy(opened, settings)
        return opened
    except StoreError as error:
        if read_only_fallback and isinstance(error, StoreLocked):
            say("yellow", "note:", f" {location} is held by a running server; reading a snapshot of it.")
            try:
                return _remember(open_store(_snapshot_of(Path(location)), read_only=True))
            except StoreError as inner:
                error = inner
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_STORE) from None


def _snapshot_of(path: Path) -> str:
    """A consistent copy (hard links) of the store a server holds and writes: a read-only handle on the live
    directory can name files the server's compaction removes a moment later, during the read."""
    directory = Path(tempfile.mkdtemp(prefix="querschnitt-snapshot-"))
    _snapshots.append(directory)
    backup_snapshot(path, directory / "store")
    return str(directory / "store")


def _report(result: LoadResult, *, label: str, problems: bool = True) -> None:
    for problem in result.problems if problems else ():
        _print_problem(problem)
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
    if result.ok:
        say("green", label, f" {counts}")


def _print_problem(problem: Problem) -> None:
    colour = "red" if problem.severity.value == "error" else "yellow"
    # Loaders quote cells, file names and IRIs, which may hold brackets: never read them as markup.
    text = f" {problem.location()}: {problem.message_de} / {problem.message_en}"
    err.print(Text.assemble((problem.severity.value, colour), text), highlight=False)


@command()
def init(store: StoreOption = None) -> None:
    """Create the store and load the built-in SDG taxonomy.

    Example: querschnitt init --store ./data/store
    """
    settings = _settings()
    target = _open(store, taxonomy=False)
    triples = install_sdg_taxonomy(target, settings).triples
    target.flush()
    say("green", "ready", f" {store or settings.store}: SDG taxonomy with {triples} triples")


@command()
def demo(
    store: StoreOption = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical data.")] = 2030,
    scale: Annotated[
        int,
        typer.Option(
            min=1,
            help="N× the projects, datasets, people and indicators, run by ⌈√N⌉ administrations "
            "(benchmarks: 20 ≈ 10^5, 230 ≈ 10^6 triples).",
        ),
    ] = 1,
    sheets: Annotated[
        Path | None, typer.Option(help="Also write the demo as a workbook (.xlsx) or CSV folder.")
    ] = None,
) -> None:
    """Generate the demo municipality "Musterstadt" and load it (with the SDG taxonomy).

    Example: querschnitt demo --store ./data/store --scale 1
    """
    from api.demo import demo_result, rows_checksum
    from loaders import demo as demo_data
    from loaders import staff

    settings = _settings()
    rows = demo_data.generate_rows(seed=seed, scale=scale)
    if sheets is not None:
        staff.write_sheets(rows, sheets)
        err.print(f"wrote the demo workbook to {sheets}")
    result = demo_result(rows, settings, source=f"demo(seed={seed}, scale={scale})")
    if scale == 1:
        # Larger scales repeat the same rows; checking one copy keeps big benchmark loads fast.
        _validate_shapes(result)
    target = _open(store, taxonomy=False)
    install_sdg_taxonomy(target, settings)
    _commit(
        target,
        result,
        source=f"demo seed={seed} scale={scale}",
        loader="demo",
        checksum=rows_checksum(rows),
        label="demo loaded",
    )


def _commit(
    target: Store,
    result: LoadResult,
    *,
    source: str,
    loader: str,
    checksum: str,
    label: str,
    checks: LoadChecks | None = None,
) -> None:
    """Write every graph of a load result, or nothing when it has errors (or `checks` say so)."""
    if not result.ok:
        _report(result, label=label)
        say("red", "nothing written", f": {len(result.errors)} error(s)")
        raise typer.Exit(EXIT_INVALID)
    if checks is not None:
        new = load_guard.of_quads(q for quads in result.graphs.values() for q in quads)
        visibility = {g: Visibility.INTERNAL if g.endswith("-internal") else Visibility.PUBLIC for g in result.graphs}
        for problem in result.problems:  # first: the verdict of the checks is the last word
            _print_problem(problem)
        if not checks.passed(target, new, visibility, checksum=checksum, loader=loader, entities_required=True):
            return
    try:
        # A harvested catalog publishes its datasets' agents itself (DCAT-AP.de maintainer, originator,
        # contact): people it names there are public already, and republishing them is faithful.
        write_result(
            target, result, source=source, loader=loader, checksum=checksum, published_people=loader == "dcat-harvest"
        )
    except StoreError as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_STORE) from None
    target.flush()
    _report(result, label=label, problems=checks is None)


def _validate_shapes(result: LoadResult, *, external_datasets: Iterable[NamedNode] = ()) -> None:
    """SHACL check of a load's output before anything is written, with the SDG taxonomy and the datasets
    other sources define (which the workbook may enrich or use) as context."""
    from loaders.sdg import taxonomy_quads
    from loaders.shapes import validate as shacl_validate
    from loaders.vocab import DCAT, RDF

    quads = [q for graph in result.graphs.values() for q in graph]
    graph = NamedNode("urn:querschnitt:context")
    context = [*taxonomy_quads(graph), *(Quad(d, RDF.type, DCAT.Dataset, graph) for d in set(external_datasets))]
    others = {d.value for d in external_datasets}
    result.problems.extend(shacl_validate(quads, extra=context, origins=result.origins, others=others))


@dataclass
class LoadChecks:
    """What `load` checks before it writes (api/load_guard.py); `passed` says whether to write."""

    settings: Settings
    dry_run: bool = False
    allow_removals: bool = False

    def passed(
        self,
        target: Store,
        new: load_guard.Entities,
        visibility: dict[str, Visibility],
        *,
        checksum: str,
        loader: str,
        entities_required: bool,
    ) -> bool:
        """Refuse (exit 1) a load that is empty, duplicates another source or removes too much; False when
        nothing is to be written (a dry run, an identical reload)."""
        if isinstance(target, ServerTarget):
            return not self.dry_run  # the server checks what it receives
        if entities_required and not new.own():
            _refuse(
                "Die Quelle enthält keine einzige Entität (Projekt, Datensatz, Amt …); eine leere Ersetzung würde "
                "alle bisherigen Daten der Quelle löschen.",
                "The source yields no entity at all (project, dataset, department …); an empty replacement would "
                "delete all the source's previous data.",
            )
        graphs = set(visibility)
        existing = {info.iri: info for info in target.graphs(include_internal=True)}
        old = load_guard.of_graphs(target, sorted(g for g in graphs if g in existing))
        duplicates = load_guard.duplicates(target, new.own(), own_graphs=graphs)
        if duplicates:
            first = duplicates[0]
            name = first.graph.removeprefix(self.settings.graph_iri("")).removesuffix("-internal")
            shown = ", ".join(d.entity for d in duplicates[:3]) + (" …" if len(duplicates) > 3 else "")
            _refuse(
                f"Die Quelle „{first.source}“ (Graph {first.graph}) definiert schon {len(duplicates)} dieser "
                f"Entitäten: {shown}. Dieselbe Quelle unter anderem Namen? `--name {name}` ersetzt sie.",
                f"The source '{first.source}' (graph {first.graph}) already defines {len(duplicates)} of these "
                f"entities: {shown}. The same source under another name? `--name {name}` replaces it.",
            )
        summary = load_guard.changes(old, new)
        too_many = load_guard.too_many_removals(summary)
        if self.dry_run or (too_many and not self.allow_removals):
            for change in summary:
                err.print(
                    f"  {change.kind}: {change.before} → +{change.added} added / ~{change.changed} changed / "
                    f"-{change.removed} removed",
                    markup=False,
                    highlight=False,
                )
        if too_many and not self.allow_removals:
            kinds = ", ".join(f"{c.kind} {c.removed}/{c.before}" for c in too_many)
            _refuse(
                f"Die Ersetzung würde mehr als ein Viertel einer Art entfernen ({kinds}); mit --allow-removals "
                "ist das gewollt.",
                f"The replacement would remove more than a quarter of one kind ({kinds}); --allow-removals "
                "if that is intended.",
            )
        if self.dry_run:
            say("yellow", "dry run", ": nothing written / Probelauf: nichts geschrieben")
            return False
        same = all(
            g in existing
            and existing[g].checksum == checksum
            and existing[g].loader == loader
            and existing[g].visibility == visibility[g]
            for g in graphs
        )
        if same and load_guard.unchanged(old, new):
            # An identical reload writes nothing at all: no new modification time, no derived refresh.
            say("green", "unchanged", ": nothing written / unverändert: nichts geschrieben")
            return False
        return True


def _refuse(message_de: str, message_en: str) -> None:
    say("red", "error:", f" {message_de} / {message_en}")
    say("red", "nothing written", "")
    raise typer.Exit(EXIT_INVALID)


@command()
def load(
    sources: Annotated[
        list[str],
        typer.Argument(help="Workbook (.xlsx, .ods), CSV files or their folder; RDF files; or a DCAT catalog URL."),
    ],
    name: Annotated[
        str | None, typer.Option(help="Source name: the graph becomes {base}graph/NAME (default: file or folder name).")
    ] = None,
    internal: Annotated[bool, typer.Option("--internal", help="Mark RDF/DCAT graphs internal (staff only).")] = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Quad files: make graphs whose visibility the file does not record public (never *-internal ones).",
        ),
    ] = False,
    dcat: Annotated[
        bool, typer.Option("--dcat", help="Treat the source as a DCAT catalog (implied for URLs).")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="DCAT harvest: an invalid IRI is an error (nothing written) instead of repaired or left out.",
        ),
    ] = False,
    own: Annotated[
        bool,
        typer.Option(
            "--own", help="The DCAT catalog is the municipality's own portal: its datasets are republished at /catalog."
        ),
    ] = False,
    skip_validation: Annotated[
        bool, typer.Option("--skip-validation", help="Skip the SHACL check of spreadsheet loads (large bulk loads).")
    ] = False,
    server: Annotated[
        str | None, typer.Option(help="Send the result to a running server (Graph Store Protocol) instead of a store.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="QUERSCHNITT_TOKEN", help="Editor token for --server (or QUERSCHNITT_TOKEN).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what the load would add, change and remove; write nothing.")
    ] = False,
    allow_removals: Annotated[
        bool,
        typer.Option("--allow-removals", help="Allow a replacement to remove more than a quarter of one kind."),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Load a source into its own named graph, replacing the previous version atomically.

    Spreadsheets write two graphs, NAME (public) and NAME-internal (people, contacts, non-public datasets).
    Any error: nothing is written and the exit code is 1. So is a load that yields no entity, defines an
    entity another source defines (`--name` of that source replaces it), or removes more than a quarter of
    one kind (unless --allow-removals). An identical reload writes nothing.

    Example: querschnitt load kleinstadt.xlsx
    Example: querschnitt load kleinstadt/ --name kleinstadt
    Example: querschnitt load extra.ttl --internal
    Example: querschnitt load all.nq --name archiv   (graphs become {base}graph/archiv/…, visibility as exported)
    Example: querschnitt load https://ckan.example.org/catalog.ttl --name ckan
    Example: querschnitt load kleinstadt.xlsx --server http://127.0.0.1:8000 --token $TOKEN
    Example: querschnitt load kleinstadt.xlsx --dry-run
    """
    settings = _settings()
    if internal and public:
        say("red", "error:", " --internal and --public exclude each other")
        raise typer.Exit(2)
    checks = LoadChecks(settings, dry_run=dry_run, allow_removals=allow_removals)
    if server is not None:
        if not token:
            say("red", "error:", " --server needs an editor token: --token or QUERSCHNITT_TOKEN")
            raise typer.Exit(2)
        target = _remember_server(
            ServerTarget(server, token, on_sent=lambda graph, url: say("green", "sent", f" {graph} to {url}"))
        )
        try:
            settings = target.settings(settings)
        except StoreError as error:
            _print_text(f"error: {error}")
            raise typer.Exit(EXIT_STORE) from None
        store = target
    paths = [Path(s) for s in sources]
    is_url = any(s.startswith(("http://", "https://")) for s in sources)
    if is_url or dcat:
        _load_dcat(
            sources, name=name, internal=internal, own=own, strict=strict, store=store, settings=settings, checks=checks
        )
    elif all(_is_sheet_source(p) for p in paths):
        _load_sheets(paths, name=name, skip_validation=skip_validation, store=store, settings=settings, checks=checks)
    elif all(is_rdf_file(p) for p in paths) and any(rdf_format_of(p).supports_datasets for p in paths):
        _load_quad_files(
            paths, name=name, internal=internal, public=public, store=store, settings=settings, checks=checks
        )
    elif all(is_rdf_file(p) for p in paths):
        _load_rdf(paths, name=name, internal=internal, store=store, settings=settings, checks=checks)
    else:
        say(
            "red", "error:", " give spreadsheets (.xlsx, .ods, .csv or a folder of them), RDF files, or one catalog URL"
        )
        raise typer.Exit(2)


def _is_sheet_source(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in (".xlsx", ".ods", ".csv", ".xlsm")


def _load_sheets(
    paths: list[Path],
    *,
    name: str | None,
    skip_validation: bool,
    store: str | None,
    settings: Settings,
    checks: LoadChecks,
) -> None:
    from loaders import staff

    missing = [p for p in paths if not p.exists()]
    if missing:
        say("red", "error:", f" {missing[0]}: no such file or folder")
        raise typer.Exit(EXIT_INVALID)
    name = name or _source_name(paths[0])
    target = _open(store, taxonomy=not checks.dry_run)
    external = _external_datasets(target, settings, own_graphs={name, f"{name}-internal"})
    result = staff.load(
        paths,
        base=settings.base_iri,
        municipality=staff.Municipality(settings.municipality_name, settings.municipality_key),
        graph=settings.graph_iri(name),
        internal_graph=settings.graph_iri(f"{name}-internal"),
        external_datasets=external,
        categories=_categories(target),
    )
    if result.ok and not skip_validation:
        _validate_shapes(result, external_datasets=external.values())
    checksum = _checksum_files(paths)
    _commit(
        target,
        result,
        source=", ".join(str(p) for p in paths),
        loader="staff-sheets",
        checksum=checksum,
        label="loaded",
        checks=checks,
    )


def _departments(target) -> list:
    """The store's departments with their names, further names (`skos:altLabel`) and ids (KGSt numbers)."""
    from loaders.department_names import Department

    rows = target.query(
        "PREFIX org: <http://www.w3.org/ns/org#> PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?d (SAMPLE(?n) AS ?name) (SAMPLE(?i) AS ?id) (GROUP_CONCAT(DISTINCT ?a; SEPARATOR='|') AS ?aliases) "
        "{ ?d a org:OrganizationalUnit ; foaf:name ?n OPTIONAL { ?d org:identifier ?i } OPTIONAL { ?d skos:altLabel ?a } } "
        "GROUP BY ?d",
        include_internal=True,
    )
    return [
        Department(
            row["d"].value,
            _cell(row, "id") or row["d"].value.rsplit("/", 1)[-1],
            row["name"].value,
            tuple(a for a in (_cell(row, "aliases") or "").split("|") if a),
        )
        for row in rows
    ]


def _categories(target, *, graph: str | None = None):
    """The Musterdatenkatalog as the store (or its `graph`) holds it: any graph that loaded its SKOS file."""
    from loaders.categories import MUSTERDATENKATALOG, CategoryIndex

    pattern = f"?c a skos:Concept ; skos:inScheme {MUSTERDATENKATALOG} OPTIONAL {{ ?c skos:prefLabel ?label }}"
    rows = target.query(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?c ?label (LANG(?label) AS ?lang) "
        + (f"{{ GRAPH <{graph}> {{ {pattern} }} }}" if graph else f"{{ {pattern} }}"),
        include_internal=True,
    )
    concepts: dict[str, list[str]] = {}
    for row in rows:
        labels = concepts.setdefault(row["c"].value, [])
        label = _cell(row, "label")
        if label is not None and label not in labels:
            # German first: staff write the German label, the one the pages show.
            labels.insert(0 if _cell(row, "lang") == "de" else len(labels), label)
    return CategoryIndex(concepts) if concepts else None


def _cell(row, name: str) -> str | None:
    """A result cell's text, None when unbound (a pyoxigraph solution gives None, a server's JSON leaves it out)."""
    try:
        term = row[name]
    except KeyError:
        return None
    return term.value if term is not None else None


def _external_datasets(target, settings: Settings, *, own_graphs: set[str]) -> dict:
    """The datasets other sources of the store define (harvested portals), by identifier, IRI and landing
    page: what a workbook's `datasets` sheet may enrich and `uses_datasets` may name."""
    from loaders.staff import external_dataset_keys

    if isinstance(target, ServerTarget):
        return {}  # the server's own datasets are not read over the wire; ids of the workbook still work
    graphs = [
        g.iri
        for g in target.graphs(include_internal=True)
        if g.iri.removeprefix(settings.graph_iri("")) not in own_graphs
    ]
    if not graphs:
        return {}
    rows = target.query(
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/> "
        "SELECT ?d (SAMPLE(?i) AS ?id) (SAMPLE(?l) AS ?landing) { GRAPH ?g { ?d a dcat:Dataset FILTER(isIRI(?d)) "
        "OPTIONAL { ?d dct:identifier ?i } OPTIONAL { ?d dcat:landingPage ?l } } } GROUP BY ?d",
        include_internal=True,
        named_graphs=graphs,
        default_graphs=[],
    )
    own = f"{settings.base_iri}dataset/"
    return external_dataset_keys(
        (row["d"], _cell(row, "id"), _cell(row, "landing")) for row in rows if not row["d"].value.startswith(own)
    )


def _load_rdf(
    paths: list[Path], *, name: str | None, internal: bool, store: str | None, settings: Settings, checks: LoadChecks
) -> None:
    _require_files(paths)
    graph = settings.graph_iri(name or _source_name(paths[0]))
    visibility = {graph: Visibility.INTERNAL if internal else Visibility.PUBLIC}
    target = _open(store, taxonomy=not checks.dry_run)

    def quads(advance=None):
        return (q for path in paths for q in read_rdf(path, graph=graph, progress=advance))

    if not _checked(target, paths, quads(), visibility, checks):
        return
    infos = _write_rdf(target, paths, quads, visibility=visibility)
    for info in infos:
        say("green", "loaded", f" {info.iri}: {info.triples} triples ({info.visibility.value})")
    if not isinstance(target, ServerTarget) and (categories := _categories(target, graph=graph)) is not None:
        _print_text(
            f"reference vocabulary: Musterdatenkatalog, {len(categories)} categories (the datasets sheet's "
            "`category` column) / Referenzvokabular: Musterdatenkatalog"
        )


def _load_quad_files(
    paths: list[Path],
    *,
    name: str | None,
    internal: bool,
    public: bool,
    store: str | None,
    settings: Settings,
    checks: LoadChecks,
) -> None:
    """Quad files: every graph renamed under the source's name, each with the visibility the file records."""
    from loaders.quad_files import plan, read_renamed

    _require_files(paths)
    graph = settings.graph_iri(name or _source_name(paths[0]))
    try:
        file_plan = plan(paths, graph=graph)
    except RdfSyntaxError as error:
        _print_text(f"error: {error}\nnothing written")
        raise typer.Exit(EXIT_INVALID) from None
    for graph in sorted(file_plan.built_in):
        _print_text(f"left out {graph}: the built-in SDG taxonomy, which every store installs itself")
    visibility: dict[str, Visibility] = {}
    reasons: dict[str, str] = {}
    for original, renamed in file_plan.renamed.items():
        recorded = file_plan.recorded.get(original)
        if internal:
            visibility[renamed], reasons[renamed] = Visibility.INTERNAL, "--internal"
        elif file_plan.internal_by_name(original) or file_plan.internal_by_name(renamed):
            visibility[renamed], reasons[renamed] = Visibility.INTERNAL, "named *-internal"
        elif recorded is not None:
            visibility[renamed], reasons[renamed] = Visibility(recorded), "as recorded in the file"
        elif public:
            visibility[renamed], reasons[renamed] = Visibility.PUBLIC, "--public"
        else:
            visibility[renamed], reasons[renamed] = (
                Visibility.INTERNAL,
                "not recorded in the file; --public publishes it",
            )
    target = _open(store, taxonomy=not checks.dry_run)

    def quads(advance=None):
        return read_renamed(paths, file_plan, graph=graph, progress=advance)

    if not _checked(target, paths, quads(), visibility, checks):
        return
    infos = _write_rdf(target, paths, quads, visibility=visibility)
    originals = {renamed: original for original, renamed in file_plan.renamed.items()}
    for info in infos:
        _print_text(
            f"loaded {info.iri} (from {originals[info.iri]}): {info.triples} triples "
            f"({info.visibility.value}: {reasons[info.iri]})"
        )


def _require_files(paths: list[Path]) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        say("red", "error:", f" {missing[0]}: no such file")
        raise typer.Exit(EXIT_INVALID)


def _checked(target, paths: list[Path], quads, visibility: dict[str, Visibility], checks: LoadChecks) -> bool:
    """A first pass over the files (parsing is streamed: twice costs time, not memory) finds what the load
    would change before anything is written; False when nothing is to be written."""
    try:
        new = load_guard.of_quads(quads)
    except RdfSyntaxError as error:
        _print_text(f"error: {error}\nnothing written")
        raise typer.Exit(EXIT_INVALID) from None
    if not new.triples and any(p.stat().st_size for p in paths):
        _refuse(
            "Die Datei enthält keine einzige RDF-Aussage (kein RDF? reines JSON ist kein JSON-LD).",
            "The file yields no RDF statement at all (not RDF? plain JSON is no JSON-LD).",
        )
    return checks.passed(
        target, new, visibility, checksum=_checksum_files(paths), loader="rdf-file", entities_required=False
    )


def _write_rdf(target, paths: list[Path], quads, *, visibility: dict[str, Visibility]) -> list:
    """Replace the graphs `visibility` names with the stream `quads(progress)`; exit 1 naming the problem."""
    try:
        with Progress(transient=True, console=err) as progress:
            task = progress.add_task("loading", total=sum(p.stat().st_size for p in paths))
            infos = target.replace_graphs(
                quads(functools.partial(progress.advance, task)),
                visibility=visibility,
                source=", ".join(str(p) for p in paths),
                loader="rdf-file",
                checksum=_checksum_files(paths),
            )
    except (RdfSyntaxError, StoreError) as error:
        _print_text(f"error: {error}\nnothing written")
        raise typer.Exit(EXIT_INVALID) from None
    target.flush()
    return infos


def _print_text(text: str) -> None:
    """Print a message as it is: file names, IRIs and loaders' texts hold brackets that are not markup."""
    err.print(text)


def _load_dcat(
    sources: list[str],
    *,
    name: str | None,
    internal: bool,
    own: bool,
    store: str | None,
    settings: Settings,
    checks: LoadChecks,
    strict: bool = False,
) -> None:
    from urllib.parse import urlsplit

    from loaders.dcat import harvest

    if len(sources) != 1:
        say("red", "error:", " harvest one catalog at a time")
        raise typer.Exit(2)
    source = sources[0]
    name = name or (urlsplit(source).hostname or Path(source).stem).replace(".", "-")
    target = _open(store)
    departments = _departments(target)
    graph = settings.graph_iri(name)
    with Progress(transient=True, console=err) as progress:
        task = progress.add_task("harvesting", total=None)

        def report(pages: int, triples: int) -> None:
            progress.update(task, description=f"harvesting: {pages} page(s), {triples} triples")

        result = harvest(source, graph=graph, departments=departments, progress=report, strict=strict)
    checksum = (
        "sha256:"
        + hashlib.sha256(b"".join(str(q).encode() for quads in result.graphs.values() for q in quads)).hexdigest()
    )
    _report_categories(target, result, source=source)
    if own and graph in result.graphs:
        from api.catalog import publisher_iri
        from loaders.own_portal import own_portal_links

        result.graphs[graph] = [*result.graphs[graph], *own_portal_links(result.graphs[graph], publisher_iri(settings))]
    if internal:
        result.graphs = {f"{graph}-internal": result.graphs.pop(graph, [])}
    _commit(target, result, source=source, loader="dcat-harvest", checksum=checksum, label="harvested", checks=checks)


def _report_categories(target, result: LoadResult, *, source: str) -> None:
    """Warn of Musterdatenkatalog categories a harvest names that the loaded taxonomy lacks (kept as
    published), with the current category of the same name."""
    from loaders.categories import unknown_categories

    categories = _categories(target)
    if categories is None:
        return
    for iri, (count, current) in unknown_categories(
        (q for quads in result.graphs.values() for q in quads), categories
    ).items():
        label = categories.labels[current] if current else None
        result.warn(
            f"Musterdatenkatalog-Kategorie {iri} ({count}×) ist nicht im geladenen Musterdatenkatalog; "
            "wie veröffentlicht übernommen" + (f"; gemeint ist wohl „{label}“ ({current})." if current else "."),
            f"Musterdatenkatalog category {iri} ({count}×) is not in the loaded Musterdatenkatalog; kept as "
            "published" + (f"; probably '{label}' ({current})." if current else "."),
            file=source,
        )


def _source_name(path: Path) -> str:
    stem = path.name.split(".")[0] if path.is_file() else path.resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-").lower() or "source"


def _checksum_files(paths: list[Path]) -> str:
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
    digest = hashlib.sha256()
    for f in files:
        digest.update(sha256_of(f).encode())
    return "sha256:" + digest.hexdigest()


@command("sdg-texts")
def sdg_texts(
    kos: Annotated[
        Path | None, typer.Option(help="UN SDG KOS Turtle file (sdg-kos-goals-targets-indicators.ttl).")
    ] = None,
    translations: Annotated[
        Path | None, typer.Option(help="Open SDG translations folder holding de/ and en/ global_*.yml.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Add the official SDG texts (definitions in German and English) to their own public graph.

    Example: querschnitt sdg-texts --kos ../shared/data/sdg/un-sdg-kos/sdg-kos-goals-targets-indicators.ttl --translations ../shared/data/sdg/open-sdg-translations
    """
    from loaders.sdg import load_official_texts

    if kos is None and translations is None:
        say("red", "error:", " give --kos, --translations or both")
        raise typer.Exit(2)
    settings = _settings()
    graph = settings.graph_iri("sdg-texts")
    result = load_official_texts(kos, translations, graph=NamedNode(graph))
    target = _open(store)
    paths = [p for p in (kos, translations) if p is not None]
    _commit(
        target,
        result,
        source=", ".join(str(p) for p in paths),
        loader="sdg-texts",
        checksum=_checksum_files(paths),
        label="loaded",
    )


@command()
def template(path: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")]) -> None:
    """Write an empty, documented staff workbook with German headers, help sheet and drop-downs.

    Example: querschnitt template vorlage.xlsx
    """
    from loaders.staff import write_template

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        # Anything else would be taken for a folder of CSV files, and a folder cannot hold the drop-downs.
        say("red", "error:", f" {path.name}: the template is an .xlsx workbook (LibreOffice opens it and saves .ods)")
        raise typer.Exit(2)
    write_template(path)
    say("green", "wrote", f" {path}")


catalog_app = typer.Typer(help="The DCAT-AP.de catalog of the public datasets.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@command("check", group=catalog_app)
def catalog_check(
    shapes: Annotated[Path, typer.Option(help="Folder with the DCAT-AP 3.0.0 and DCAT-AP.de 3.0 shapes.")],
    vocab: Annotated[
        Path, typer.Option(help="Folder with the controlled vocabularies (EU tables, dcat-ap.de licences).")
    ],
    store: StoreOption = None,
) -> None:
    """Check the public DCAT-AP.de catalog with pyshacl; exit 1 on violations.

    Example: querschnitt catalog check --shapes ../shared/data/shapes --vocab ../shared/data/vocab
    """
    from api.catalog_check import CatalogCheckError, check_store, errors

    target = _open(store, read_only_fallback=True)
    try:
        problems = check_store(target, _settings(), shapes_dir=shapes, vocab_dir=vocab)
    except CatalogCheckError as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(2) from None
    for problem in problems:
        _print_problem(problem)
    violations = errors(problems)
    if violations:
        say("red", "{len(violations)} violation(s)", " in the catalog")
        raise typer.Exit(EXIT_INVALID)
    say("green", "valid", f": the catalog conforms to DCAT-AP.de 3.0 ({len(problems)} warning(s))")


RESULT_FORMATS = {
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
}
GRAPH_FORMATS = {
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
    "nq": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "jsonld": RdfFormat.JSON_LD,
    "rdf": RdfFormat.RDF_XML,
}


@command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def query(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="SPARQL text, a .rq/.sparql file, or the name of a query in queries/.")],
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="table, csv, tsv, json, xml (SELECT/ASK); ttl, nt, nq, trig, jsonld, rdf (CONSTRUCT/DESCRIBE).",
        ),
    ] = "table",
    store: StoreOption = None,
) -> None:
    """Run a SPARQL query as administrator (internal graphs included) and print the result.

    Parameters of a named query: -p NAME VALUE (repeatable).

    Example: querschnitt query "SELECT ?goal ?label { ?goal a <http://metadata.un.org/sdg/ontology#Goal> ; skos:prefLabel ?label }"
    Example: querschnitt query who-works-on -p sdg 11.2 --format csv
    """
    try:
        pairs = _param_pairs(ctx.args)
        sparql, substitutions = _resolve_query(text, pairs)
    except (ParameterError, NamedQueryError) as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_INVALID) from None
    target = _open(store, read_only_fallback=True)
    if text in gap_notes.REPORT_LEVELS:
        _say_what_the_report_cannot_show(target, gap_notes.level(text, dict(pairs)))
    try:
        result = target.query(sparql, include_internal=True, substitutions=substitutions)
    except SyntaxError as error:
        say("red", "error:", f" invalid SPARQL: {error}")
        raise typer.Exit(EXIT_INVALID) from None
    _print_result(result, output_format)


def _say_what_the_report_cannot_show(target: Store, report_level: str | None) -> None:
    """Print the report's notes; exit 1 when one says the report cannot be right (never an empty answer)."""

    def select(sparql: str) -> list[dict]:
        result = target.query(sparql, include_internal=True)
        if isinstance(result, list):
            return result
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    found = gap_notes.notes(report_level, select)
    for note in found:
        style, label = ("red", "error:") if note.blocking else ("yellow", "note:")
        say(style, label, f" {note.message_de} / {note.message_en}")
    if any(note.blocking for note in found):
        raise typer.Exit(EXIT_INVALID)


def _param_pairs(args: list[str]) -> list[tuple[str, str]]:
    # click has no repeatable two-value option through typer, so `-p NAME VALUE` is read from the extra args.
    pairs = []
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--param") or len(rest) < 2:
            raise ParameterError(flag, "write parameters as -p NAME VALUE")
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


def _resolve_query(text: str, params: list[tuple[str, str]]) -> tuple[str, dict]:
    values = dict(params)
    registry = QueryRegistry()
    if text in registry:
        named = registry[text]
        return named.sparql, named.bind(values)
    path = Path(text)
    if text.endswith((".rq", ".sparql")) and path.is_file():
        text = path.read_text(encoding="utf-8")
    if values:
        raise ParameterError(next(iter(values)), "parameters are only for named queries")
    return text, {}


def _print_result(result, output_format: str) -> None:
    out = sys.stdout.buffer
    if isinstance(result, QueryBoolean):
        if output_format in RESULT_FORMATS:
            result.serialize(out, RESULT_FORMATS[output_format])
        else:
            print("true" if result else "false")
        return
    if isinstance(result, QuerySolutions):
        if output_format == "table":
            variables = [v.value for v in result.variables]
            table = Table(*variables)
            for row in result:
                table.add_row(*("" if row[v] is None else _short(row[v]) for v in variables))
            Console().print(table)
        elif output_format in RESULT_FORMATS:
            result.serialize(out, RESULT_FORMATS[output_format])
        else:
            say("red", "error:", f" --format {output_format} is not for SELECT results; use table, csv, tsv, json, xml")
            raise typer.Exit(2)
        return
    rdf_format = GRAPH_FORMATS.get("nt" if output_format == "table" else output_format)
    if rdf_format is None:
        say("red", "error:", f" --format {output_format} is not for graph results; use ttl, nt, nq, trig, jsonld, rdf")
        raise typer.Exit(2)
    if rdf_format == RdfFormat.JSON_LD:
        # Compact with the project's context, as the server writes it.
        jsonld.write_compact(result, out)
        return
    result.serialize(out, rdf_format)


def _short(term) -> str:
    return term.value if hasattr(term, "value") else str(term)


@command()
def graphs(store: StoreOption = None) -> None:
    """List the source graphs with their metadata.

    Example: querschnitt graphs --store ./data/store
    """
    target = _open(store, read_only_fallback=True)
    table = Table("graph", "visibility", "triples", "loader", "modified", "source")
    for info in target.graphs():
        table.add_row(
            info.iri,
            info.visibility.value,
            str(info.triples),
            info.loader,
            info.modified.isoformat(timespec="seconds"),
            info.source,
        )
    Console().print(table)


@command()
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="nq or trig.")] = "nq",
    public_only: Annotated[bool, typer.Option("--public-only", help="Leave out internal graphs.")] = False,
    sheets: Annotated[
        Path | None, typer.Option(help="Write the staff data back as a workbook (.xlsx) or a CSV folder instead.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Dump the source graphs as N-Quads or TriG, or the staff data as the spreadsheet layout.

    Example: querschnitt export --public-only -o public.nq
    Example: querschnitt export --sheets musterstadt.xlsx
    """
    if sheets is not None:
        from loaders.staff import export_rows, write_sheets

        target = _open(store, read_only_fallback=True)
        buffer = io.BytesIO()
        target.dump(buffer, include_internal=not public_only)
        buffer.seek(0)
        rows = export_rows(parse(buffer, RdfFormat.N_QUADS), base=_settings().base_iri)
        write_sheets(rows, sheets)
        err.print(f"exported {', '.join(f'{len(r)} {name}' for name, r in rows.items())} to {sheets}")
        return
    formats = {"nq": RdfFormat.N_QUADS, "trig": RdfFormat.TRIG}
    if output_format not in formats:
        say("red", "error:", " --format must be nq or trig")
        raise typer.Exit(2)
    target = _open(store, read_only_fallback=True)
    with contextlib.ExitStack() as stack:
        handle = sys.stdout.buffer if output is None else stack.enter_context(output.open("wb"))
        count = target.dump(handle, rdf_format=formats[output_format], include_internal=not public_only)
        # Each graph's metadata entry (visibility first of all) travels with it, so that `load` restores it.
        infos = target.graphs(include_internal=not public_only)
        serialize([q for info in infos for q in meta_quads(info)], handle, formats[output_format])
    err.print(f"exported {count} quads and the metadata of {len(infos)} graphs")


@command()
def validate(store: StoreOption = None) -> None:
    """Check the store's content against the SHACL shapes in ontology/; exit 1 on violations.

    Example: querschnitt validate --store ./data/store
    """
    from loaders.shapes import validate as shacl_validate

    target = _open(store, read_only_fallback=True)
    quads = target.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", include_internal=True)
    problems = shacl_validate(quads)
    for problem in problems:
        _print_problem(problem)
    errors = [p for p in problems if p.severity.value == "error"]
    if errors:
        say("red", "{len(errors)} violation(s)", "")
        raise typer.Exit(EXIT_INVALID)
    say("green", "valid", ": the data conforms to the shapes")


@command()
def backup(
    target_dir: Annotated[Path, typer.Argument(help="New directory for the copy.")],
    store: StoreOption = None,
) -> None:
    """Write a consistent copy of the store, also while a server holds it (open it with --store TARGET_DIR).

    Example: querschnitt backup ./backups/2026-11-26
    """
    settings = _settings()
    location = store or settings.store
    try:
        try:
            target = _remember(open_store(location, **settings.remote_options()))
        except StoreLocked:
            # A server holds the store: copy a read-only snapshot of it, as the reading commands read one.
            say("yellow", "note:", f" {location} is held by a running server; backing up a snapshot of it.")
            backup_snapshot(Path(location), target_dir)
        else:
            target.backup(target_dir)
    except StoreError as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_STORE) from None
    say("green", "backup written", f" to {target_dir}")


@command()
def restore(
    source: Annotated[Path, typer.Argument(help="A directory written by `backup` (remote store: or its .nq file).")],
    replace: Annotated[
        bool, typer.Option(help="Restore over an embedded store that holds data; it is moved aside, not deleted.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Put a backup back: an embedded store gets the backup directory (never while a server holds it), a
    remote store every graph and the metadata graph of the dump (an empty remote store only).

    Example: querschnitt restore ./backups/2026-11-26
    Example: querschnitt restore ./backups/2026-11-26 --store http://127.0.0.1:8890/sparql
    """

    from api.store import RemoteStore, is_remote, restore_directory

    settings = _settings()
    location = store or settings.store
    try:
        if is_remote(location):
            # Not open_store: it would write the derived graphs first, and a backup goes into an empty store.
            options = {k: v for k, v in settings.remote_options().items() if v is not None}
            with RemoteStore(location, **options) as remote:
                done = f"{remote.restore(source)} quads into {location}"
        elif location == "memory":
            raise StoreError("An in-memory store cannot be restored; name a store directory with --store.")
        else:
            moved = restore_directory(source, Path(location), replace=replace)
            done = f"{source} to {location}" + (f"; the previous store is now {moved}" if moved else "")
    except (StoreError, OSError) as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_STORE if isinstance(error, StoreLocked | OSError) else EXIT_INVALID) from None
    say("green", "restored", f" {done}")


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes; more than one needs a remote store (--store URL).")
    ] = 1,
    store: StoreOption = None,
) -> None:
    """Serve the SPARQL endpoint, the API and the staff pages.

    Example: querschnitt serve --port 8080
    Example: querschnitt serve --store http://127.0.0.1:8890/sparql --workers 4
    """
    import os

    import uvicorn

    from api.app import create_app
    from api.server import GuardedHttpToolsProtocol, server_config

    settings = _settings()
    if store:
        settings = settings.model_copy(update={"store": store})
    settings = settings.served_at(host, port)
    err.print(f"Querschnitt at {settings.public_url} (links use this address: QUERSCHNITT_PUBLIC_URL)")
    if workers > 1:
        if not settings.store.startswith(("http://", "https://")):
            say(
                "red",
                "error:",
                " --workers > 1 needs a remote store (--store http://…/sparql): "
                "an embedded store can be opened by one process only",
            )
            raise typer.Exit(2)
        # Each worker process builds its own app from the environment (uvicorn's factory mode).
        os.environ["QUERSCHNITT_STORE"] = settings.store
        os.environ["QUERSCHNITT_PUBLIC_URL"] = settings.public_url
        # Each process reads its connection limits from the environment too (api/server.py).
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http=GuardedHttpToolsProtocol,
            ws="none",
        )
        return
    target = _open(settings.store)
    uvicorn.Server(server_config(create_app(settings, store=target), settings, host=host, port=port, ws="none")).run()


@command("suggest")
def suggest_targets(
    text: Annotated[str | None, typer.Argument(help="A title (or any German text) to suggest SDG targets for.")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="More text about the item.")] = "",
    input_path: Annotated[
        Path | None,
        typer.Option("--input", help="CSV with columns id, title (optional: description, keywords, theme, category)."),
    ] = None,
    sheets: Annotated[
        Path | None,
        typer.Option(
            "--sheets",
            help="Staff workbook (.xlsx): fill column sdg_vorschlag for project, dataset and indicator rows "
            "without SDG links, in place.",
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=50, help="Targets per item.")] = 5,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Learn from this store: its official SDG texts and its tagged projects, datasets and indicators.",
        ),
    ] = None,
) -> None:
    """Suggest SDG targets for a text or for every row of a CSV file, best first, with the evidence.

    Example: querschnitt suggest "Ausbau der Radwege im Stadtgebiet"
    Example: querschnitt suggest --input items.csv --top 5 --format csv --store ./data/store
    Example: querschnitt suggest --sheets kleinstadt.xlsx --top 3
    """
    import csv
    import json

    from suggest import default_suggester
    from suggest.batch import COLUMNS, InputError, Item, rank_rows, read_items

    if output_format not in ("table", "csv", "json"):
        say("red", "error:", f" --format {output_format}: use table, csv or json")
        raise typer.Exit(2)
    if sum(x is not None for x in (text, input_path, sheets)) != 1:
        say("red", "error:", ' give a text, --input FILE or --sheets FILE (querschnitt suggest "Ausbau der Radwege")')
        raise typer.Exit(2)
    if store:
        from api.review import StaffSuggestions

        # What staff see: tagged items of every graph, accepted links, and rejected suggestions voting against.
        suggester = StaffSuggestions().get(_open(store, read_only_fallback=True))
    else:
        suggester = default_suggester()
    if sheets is not None:
        from suggest.workbook import fill_workbook

        try:
            filled = fill_workbook(sheets, suggester, top=top)
        except (InputError, OSError) as error:
            say("red", "error:", f" {error}")
            raise typer.Exit(EXIT_INVALID) from None
        for sheet, count in filled.items():
            err.print(f"{sheet}: {count} row(s) without SDG links got sdg_vorschlag")
        say("green", "wrote", f" {sheets}")
        return
    if text is not None and output_format == "table":
        table = Table("Unterziel", "Bezeichnung", "Score", "Hinweise (evidence)")
        for s in suggester.suggest(text, description, top=top):
            table.add_row(s.target, s.label_de, f"{s.score:.3f}", ", ".join(s.evidence))
        Console().print(table)
        return
    try:
        items = read_items(input_path) if input_path is not None else [Item("1", text or "", description)]
    except (InputError, OSError, UnicodeDecodeError) as error:
        say("red", "error:", f" {error}")
        raise typer.Exit(EXIT_INVALID) from None
    rows = list(rank_rows(suggester, items, top=top))
    if output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif output_format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(*COLUMNS)
        for row in rows:
            table.add_row(*(str(row[c]) for c in COLUMNS))
        Console().print(table)
    silent = len({item.id for item in items} - {row["id"] for row in rows})
    err.print(f"{len(items)} item(s), {len(rows)} suggestion(s); {silent} item(s) without any evidence got none")


def main() -> None:  # pragma: no cover - console entry point
    app()
