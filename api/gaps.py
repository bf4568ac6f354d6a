"""The gap reports, once: which exist, their columns and filters, and their rows for one caller, in one order.

The staff pages (`/gaps/{kind}`, api/ui.py) and the JSON facade (`/api/gaps/{kind}`, api/facade.py) both ask
this module and only render what it returns, so a filter means the same on both. Rows come from the named
queries (`queries/{kind}.rq`) through the executor (`api.query_runs`: the caller's visibility, the deadline,
the admission queue and the answer cache). A filter the query's own parameter answers exactly is handed to it;
the rows are filtered here as well, so a query that declares fewer parameters still gives the right rows.

Each report is evaluated once per data version and caller view (api/report_tables.py): its rows, the
departments behind them, the rows per department and per goal, and their order per language are kept, so
counts, filters and pages are lookups. unused-datasets, quadratic as a flat list, is kept grouped per project
and per dataset (api/unused_data.py); its flat rows stay on /queries/unused-datasets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from pyoxigraph import Literal, NamedNode

from api import query_runs
from api.administrations import UNITS, administrations
from api.auth import ANONYMOUS, Principal, Role
from api.collation import sort_key
from api.report_tables import ReportTables
from api.unused_data import Group, UnusedData
from loaders.sdg import SdgIndex
from loaders.vocab import PREFIXES

Row = dict[str, Any]

# Gap reports in the order the navigation lists them; each names the filters that apply to it.
KINDS: dict[str, tuple[str, ...]] = {
    "missing-bridges": ("department", "goal"),
    "unused-datasets": ("department", "goal"),
    "unmeasured-projects": ("department", "goal"),
    "blind-spots": ("goal",),
    "silo-departments": ("department",),
}
# The result variables each gap query promises; label columns and parameters are extras.
COLUMNS: dict[str, tuple[str, ...]] = {
    "missing-bridges": ("department_a", "department_b", "target"),
    "unused-datasets": ("dataset", "project", "target"),
    "unmeasured-projects": ("project", "target"),
    "blind-spots": ("target",),
    "silo-departments": ("department", "projects", "shared_share"),
}
# The departments behind a report's entities, shown next to them: whom staff call about the row.
# Column of the query → the column that lists the departments holding a dataset or running a project.
HOLDERS: dict[str, dict[str, str]] = {
    "unused-datasets": {"dataset": "dataset_departments", "project": "project_departments"},
    "unmeasured-projects": {"project": "project_departments"},
}
# Filters handed to a query's own parameter where it means exactly what the report's filter means (see
# each query's header). unused-datasets' `department` is the dataset's only, the filter also means the
# project's, so it is not handed on there.
PUSHDOWN: dict[str, tuple[str, ...]] = {
    "missing-bridges": ("department", "sdg"),
    "unmeasured-projects": ("department", "sdg"),
    "unused-datasets": ("sdg",),
    "silo-departments": ("department",),
}
# Reports whose own order is the point (departments working alone first); the others are sorted here.
OWN_ORDER = {"silo-departments"}
# Reports that pair two departments: by default only pairs within one administration (api/administrations.py);
# `scope="all"` keeps the pairs across administrations too.
PAIRS: dict[str, tuple[str, str]] = {"missing-bridges": ("department_a", "department_b")}
SCOPES = ("administration", "all")
NUMBERS = {"projects": int, "shared_share": float}

_PREFIXES = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdfs", "skos", "dct", "dcat", "foaf"))
_QSD = "PREFIX qsd: <https://w3id.org/querschnitt/derived#>\n"
# The departments involved in a project (lead or partner: the relation the gap queries are defined on)
# or in a dataset (its creator).
INVOLVED = (
    _PREFIXES
    + _QSD
    + """SELECT ?entity ?department WHERE {
  { ?entity qsd:member ?department } UNION { ?entity a dcat:Dataset ; dct:creator ?department }
}"""
)
# The names of many entities at once; ?i numbers the predicates, which are tried in this order.
LABELS = (
    _PREFIXES
    + """SELECT ?s ?label ?i WHERE {
  { ?s foaf:name ?label BIND(0 AS ?i) } UNION { ?s dct:title ?label BIND(1 AS ?i) }
  UNION { ?s skos:prefLabel ?label BIND(2 AS ?i) } UNION { ?s rdfs:label ?label BIND(3 AS ?i) }
}"""
)


class Unavailable(Exception):
    """A named query a report needs is not installed (queries/NAME.rq)."""


def sdg() -> SdgIndex:
    return SdgIndex.builtin()


def is_sdg(iri: str) -> bool:
    try:
        sdg().kind(iri)
    except KeyError:
        return False
    return True


def code_key(code: str) -> tuple:
    """SDG codes in natural order: 2 < 10, 11.2 < 11.10 < 11.a."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))


def pick_label(literals: Iterable[Literal], lang: str) -> str | None:
    """The first of `literals` in `lang`, else German, else untagged, else English, else any.

    Untagged names before English ones: the staff workbook tags its names `de`, so an untagged name came from
    another source of a German administration (an RDF load, a harvested portal) and is most likely German;
    a German page should not show an English name before it.
    """
    literals = list(literals)
    for wanted in (lang, "de", None, "en"):
        for literal in literals:
            if (literal.language or None) == wanted:
                return literal.value
    return literals[0].value if literals else None


def named(
    app: FastAPI, principal: Principal, name: str, params: Mapping[str, str | None] | None = None, *, max_rows: int
) -> query_runs.Rows:
    """Rows of named query `name` through the executor; of `params`, those it declares are bound.

    Raises Unavailable when the query is not installed, ParameterError (naming it) for a bad value."""
    registry = app.state.queries
    if name not in registry:
        raise Unavailable(name)
    query = registry[name]
    declared = {p.name for p in query.parameters}
    values = {k: v for k, v in (params or {}).items() if v and k in declared}
    return query_runs.select(app, principal, query.sparql, query.bind(values), max_rows=max_rows)


def count(app: FastAPI, principal: Principal, kind: str) -> int:
    """The number of rows of report `kind` without filters (pairs within one administration), from its table
    of this data version."""
    if kind == "unused-datasets":
        if kind not in app.state.queries:
            raise Unavailable(kind)
        return unused_data(app, principal).rows()
    found = table(app, principal, kind)
    return len(found.rows) - len(found.across)


def in_goal(row: Row, columns: Iterable[str], goal: int) -> bool:
    """Whether an SDG concept of the row belongs to goal `goal`."""
    index = sdg()
    return any(
        isinstance(row.get(c), NamedNode)
        and is_sdg(row[c].value)
        and index.notation(index.goal_of(row[c].value)) == str(goal)
        for c in columns
    )


@dataclass
class Report:
    """The rows of one report for one caller: terms by column, the departments behind them, their names."""

    kind: str
    columns: tuple[str, ...]
    rows: list[Row]
    holders: dict[str, list[str]] = field(default_factory=dict)  # entity → departments (HOLDERS' kinds only)
    truncated: bool = False
    ordered: bool = False  # the rows already come in the order `sort` would give (report(…, lang=…))

    def iris(self) -> set[str]:
        """Every entity IRI the rows and their holders name."""
        found = {r[c].value for r in self.rows for c in self.columns if isinstance(r.get(c), NamedNode)}
        return found | {d for ds in self.holders.values() for d in ds}

    def names(self) -> dict[str, str]:
        """The German names the query gave with its rows (`{column}_label`): what a German page shows."""
        found = {}
        for row in self.rows:
            for column in self.columns:
                term, label = row.get(column), row.get(f"{column}_label")
                if isinstance(term, NamedNode) and isinstance(label, Literal):
                    found.setdefault(term.value, label.value)
        return found

    def sort(self, label: Callable[[str], str]) -> None:
        """Rows as people read them, column by column: SDG codes in natural order, then by name, then IRI.

        `label` gives an entity's name in the page's language; reports in OWN_ORDER keep the query's order.
        """
        if self.kind in OWN_ORDER or self.ordered:
            return
        index = sdg()
        entities: dict[str, tuple] = {}  # IRI → its key, computed once however many rows name it

        def entity(iri: str) -> tuple:
            if iri not in entities:
                if is_sdg(iri):
                    entities[iri] = (code_key(index.notation(iri)), "", iri)
                else:
                    entities[iri] = ((), sort_key(label(iri)), iri)
            return entities[iri]

        def key(row: Row) -> list[tuple]:
            keys = []
            for column in self.columns:
                term = row.get(column)
                if column in NUMBERS:
                    keys.append((NUMBERS[column](term.value) if term is not None else 0,))
                elif isinstance(term, NamedNode):
                    keys.append(entity(term.value))
                else:
                    keys.append(((), sort_key(term.value if term is not None else ""), ""))
            return keys

        self.rows.sort(key=key)


@dataclass
class Table:
    """Report `kind` for one caller view and data version: every row, the departments behind its entities,
    and the row numbers per department, per goal and in each language's order."""

    kind: str
    rows: list[Row]
    involved: dict[str, set[str]]
    by_department: dict[str, list[int]]
    by_goal: dict[int, list[int]]
    across: frozenset[int] = frozenset()  # rows pairing departments of two administrations (PAIRS' kinds)
    # The named query's answer as SPARQL TSV, its rows (`rows` are these, parsed) in the total order of its
    # pages (query_runs.paging_text): `/queries/{kind}` cuts pages from them.
    header: bytes = b""
    lines: tuple[bytes, ...] = ()


def tables(app: FastAPI) -> ReportTables:
    """The app's tables of this data version (one per app: each API process builds its own)."""
    found = getattr(app.state, "report_tables", None)
    if found is None:
        found = app.state.report_tables = ReportTables(app.state.store)
    return found


def table(app: FastAPI, principal: Principal, kind: str) -> Table:
    """Report `kind` as `principal` sees it, evaluated once per data version."""
    if kind not in app.state.queries:
        raise Unavailable(kind)
    return tables(app).get((kind, principal.sees_internal), lambda: _build_table(app, principal, kind))


def _build_table(app: FastAPI, principal: Principal, kind: str) -> Table:
    header, lines, rows = _in_paging_order(app, principal, app.state.queries[kind].sparql)
    involved = involved_of(app, principal)
    columns = COLUMNS[kind]
    index = sdg()
    by_department: dict[str, list[int]] = defaultdict(list)
    by_goal: dict[int, list[int]] = defaultdict(list)
    for number, row in enumerate(rows):
        departments: set[str] = set()
        goals: set[int] = set()
        for column in columns:
            term = row.get(column)
            if not isinstance(term, NamedNode):
                continue
            departments.add(term.value)
            departments.update(involved.get(term.value, ()))
            if is_sdg(term.value):
                goals.add(int(index.notation(index.goal_of(term.value))))
        for department in departments:
            by_department[department].append(number)
        for goal in goals:
            by_goal[goal].append(number)
    across: set[int] = set()
    if kind in PAIRS:
        administration_of = administrations_of(app, principal)
        a, b = PAIRS[kind]
        for number, row in enumerate(rows):
            first, second = row[a].value, row[b].value
            if administration_of.get(first, first) != administration_of.get(second, second):
                across.add(number)
    return Table(kind, rows, involved, dict(by_department), dict(by_goal), frozenset(across), header, tuple(lines))


def _in_paging_order(app: FastAPI, principal: Principal, sparql: str) -> tuple[bytes, list[bytes], list[Row]]:
    """The query's answer (TSV header, lines, rows) in the total order of its pages (query_runs.paging_text).
    The engine sorts it, unless an embedded store's order is that of leading IRI columns that tell the rows
    apart: then Python sorts it (missing-bridges at 10^6: ORDER BY cost 4.9 s of 6.6 s)."""
    if app.state.store.local_engine and not query_runs.has_own_order(sparql):
        body, _ = query_runs.tsv(app, principal, sparql, max_rows=0)
        found = query_runs.rows_of(body)
        order = query_runs.iri_order(found.variables, found.rows)
        if order is not None:
            header, lines = query_runs.tsv_lines(body)
            return header, [lines[i] for i in order], [found.rows[i] for i in order]
    body, _ = query_runs.tsv(app, principal, query_runs.paging_text(sparql), max_rows=0)
    header, lines = query_runs.tsv_lines(body)
    return header, lines, query_runs.rows_of(body).rows


def answer_lines(app: FastAPI, principal: Principal, name: str) -> tuple[bytes, tuple[bytes, ...]] | None:
    """Named query `name`'s complete answer without parameters as SPARQL TSV (header, rows in its pages' total
    order), from its report table of this data version; None when no table holds it (not a report kind, or
    unused-datasets, whose table is grouped)."""
    if name not in KINDS or name == "unused-datasets" or name not in app.state.queries:
        return None
    found = table(app, principal, name)
    return found.header, found.lines


def unused_page_datasets(
    app: FastAPI, principal: Principal, offset: int, size: int | None
) -> tuple[list[str], int, int] | None:
    """The datasets whose rows are rows `offset` … `offset + size` of the flat unused-datasets list in its
    pages' order, how many rows come before the first of them, and how many rows the list has: a page is then
    evaluated for those datasets alone. The order is by dataset first, as Oxigraph orders IRIs (by their text);
    None for another engine, which orders them its own way, or without the query."""
    if "unused-datasets" not in app.state.queries or not app.state.store.local_engine:
        return None
    data = unused_data(app, principal)
    before, covered, chosen = 0, 0, []
    end = None if size is None else offset + size
    for dataset, rows in data.rows_by_dataset:
        if not chosen and before + rows <= offset:
            before += rows
        elif end is None or before + covered < end:
            chosen.append(dataset)
            covered += rows
        else:
            break
    return chosen, before, data.rows()


def involved_of(app: FastAPI, principal: Principal) -> dict[str, set[str]]:
    """entity IRI → the departments involved in it (INVOLVED), once per data version."""

    def build() -> dict[str, set[str]]:
        involved: dict[str, set[str]] = defaultdict(set)
        for row in query_runs.select(app, principal, INVOLVED, max_rows=0):
            involved[row["entity"].value].add(row["department"].value)
        return dict(involved)

    return tables(app).get(("involved", principal.sees_internal), build)


def administrations_of(app: FastAPI, principal: Principal) -> dict[str, str]:
    """department IRI → its administration's IRI (api/administrations.py), once per data version."""

    def build() -> dict[str, str]:
        rows = query_runs.select(app, principal, UNITS, max_rows=0)
        return administrations({k: v.value for k, v in row.items()} for row in rows)

    return tables(app).get(("administrations", principal.sees_internal), build)


def _order(app: FastAPI, principal: Principal, found: Table, lang: str) -> list[int]:
    """Row numbers of `found` in the order Report.sort gives in `lang`, computed once per language."""

    def build() -> list[int]:
        report = Report(found.kind, COLUMNS[found.kind], list(found.rows))
        names = report.names() if lang == "de" else {}
        todo = {i for i in report.iris() if i not in names and not is_sdg(i)}
        names.update(labels(app, principal, todo, lang))
        position = {id(row): number for number, row in enumerate(found.rows)}
        report.sort(lambda iri: names.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1])
        return [position[id(row)] for row in report.rows]

    return tables(app).get((found.kind, principal.sees_internal, "order", lang), build)


def report(
    app: FastAPI,
    principal: Principal,
    kind: str,
    *,
    department: str | None = None,
    goal: int | None = None,
    max_rows: int = 0,
    with_holders: bool = False,
    lang: str | None = None,
    scope: str = "administration",
    administration: str | None = None,
) -> Report:
    """Rows of report `kind`: with `department` (an IRI) the rows naming it or a project it leads or partners
    in or a dataset it created; with `goal` the rows on a target of that goal. `max_rows` caps the rows (0: all);
    Report.truncated says whether it did. `with_holders` also gives the departments behind the datasets and
    projects of HOLDERS' reports (Report.holders). With `lang` the rows come in Report.sort's order for it,
    else unsorted. PAIRS' reports pair departments within one administration unless `scope` is "all";
    `administration` (an IRI) keeps the rows involving one of its departments. Not for unused-datasets, which
    is read grouped (unused_data)."""
    found = table(app, principal, kind)
    numbers: Iterable[int] = range(len(found.rows))
    if department:
        numbers = found.by_department.get(department, [])
    if administration:
        administration_of = administrations_of(app, principal)
        mine = set()
        for unit, its in administration_of.items():
            if its == administration:
                mine.update(found.by_department.get(unit, ()))
        numbers = [n for n in numbers if n in mine]
    if scope != "all" and found.across:
        numbers = [n for n in numbers if n not in found.across]
    if goal:
        on_goal = set(found.by_goal.get(goal, []))
        numbers = [n for n in numbers if n in on_goal]
    if lang is not None:
        order = _order(app, principal, found, lang)
        if isinstance(numbers, range):  # no filter: the kept order is the answer
            numbers = order
        else:
            wanted = set(numbers)
            numbers = [n for n in order if n in wanted]
    numbers = list(numbers)
    truncated = 0 < max_rows < len(numbers)
    rows = [found.rows[n] for n in (numbers[:max_rows] if truncated else numbers)]
    holders: dict[str, list[str]] = {}
    for row in rows if with_holders else ():
        for column in HOLDERS.get(kind, {}):
            term = row.get(column)
            if isinstance(term, NamedNode):
                holders.setdefault(term.value, sorted(found.involved.get(term.value, ())))
    return Report(kind, COLUMNS[kind], rows, holders, truncated, ordered=lang is not None or kind in OWN_ORDER)


def bridges(app: FastAPI, principal: Principal, *, scope: str = "administration") -> list[tuple[str, str, list[str]]]:
    """The missing bridges per pair of departments, (A, B, shared targets), most shared targets first (then by
    IRI): the summary the dashboard leads with, grouped once per data version from the report's table."""

    def build() -> list[tuple[str, str, list[str]]]:
        targets: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in report(app, principal, "missing-bridges", scope=scope).rows:
            targets[(row["department_a"].value, row["department_b"].value)].append(row["target"].value)
        return sorted(((a, b, ts) for (a, b), ts in targets.items()), key=lambda t: (-len(t[2]), t[0], t[1]))

    return tables(app).get(("bridges", principal.sees_internal, scope), build)


def unused_groups(
    app: FastAPI, principal: Principal, *, view: str, department: str | None, sdg_iri: str | None
) -> list[Group]:
    """unused-datasets per project (`view="projects"`) or per dataset, filtered; once per data version and filter."""
    data = unused_data(app, principal)
    group = data.by_dataset if view == "datasets" else data.by_project
    key = ("unused-groups", principal.sees_internal, view, department, sdg_iri)
    return tables(app).get(key, lambda: group(department=department, sdg=sdg_iri))


# The grouped views of unused-datasets: the entity column, its departments, its count column and its examples.
UNUSED_VIEWS: dict[str, tuple[str, str, str, str]] = {
    "projects": ("project", "project_departments", "could_use", "first_datasets"),
    "datasets": ("dataset", "dataset_departments", "could_serve", "first_projects"),
}


def unused_rows(
    app: FastAPI, principal: Principal, *, project: str | None, dataset: str | None, sdg_iri: str | None
) -> list[tuple[str, str, str]]:
    """Every row (dataset, project, target) of unused-datasets for one project or one dataset, datasets (or
    projects) in the German order of their names: the named query's rows for it."""
    data = unused_data(app, principal)
    if project:
        pairs = [(project, d) for d in data.datasets_for(project, sdg=sdg_iri)]
    else:
        pairs = [(p, dataset) for p in data.projects_for(dataset or "", sdg=sdg_iri)]
    return [
        (d, p, t)
        for p, d in pairs
        for t in data.targets_between(p, d)
        if sdg_iri is None or t == sdg_iri or data.goal_of.get(t) == sdg_iri
    ]


def unused_departments(app: FastAPI, principal: Principal, entity: str) -> list[str]:
    """The departments holding a dataset or running a project of unused-datasets."""
    data = unused_data(app, principal)
    return sorted(data.holders.get(entity) or data.members.get(entity) or ())


def unused_data(app: FastAPI, principal: Principal) -> UnusedData:
    """The unused-datasets report grouped per project and per dataset, as `principal` sees it."""

    def build() -> UnusedData:
        def select(sparql: str) -> list[dict[str, str]]:
            return [
                {k: v.value for k, v in row.items()} for row in query_runs.select(app, principal, sparql, max_rows=0)
            ]

        return UnusedData.read(select)

    return tables(app).get(("unused-data", principal.sees_internal), build)


def labels(app: FastAPI, principal: Principal, iris: Iterable[str], lang: str, *, chunk: int = 500) -> dict[str, str]:
    """The names of many entities in `lang` (pick_label's order; per language the predicates as LABELS lists
    them), one query per `chunk` IRIs; SDG concepts are named by the built-in taxonomy and left out."""
    todo = sorted({i for i in iris if not is_sdg(i)})
    names: dict[str, str] = {}
    for start in range(0, len(todo), chunk):
        nodes = [NamedNode(i) for i in todo[start : start + chunk]]
        found: dict[str, list[tuple[int, str, Literal]]] = defaultdict(list)
        for row in query_runs.select(app, principal, LABELS, {"s": nodes}, max_rows=0):
            if isinstance(row.get("label"), Literal):
                found[row["s"].value].append((int(row["i"].value), row["label"].value, row["label"]))
        for node in nodes:
            name = pick_label([lit for _, _, lit in sorted(found.get(node.value, []), key=lambda t: t[:2])], lang)
            if name is not None:
                names[node.value] = name
    return names


def warm(app: FastAPI) -> None:
    """Build every report's table (and its German order) for anonymous and staff callers: the warm-up after a
    write (api/report_tables.WarmUp), so the first visitor after it does not wait for them."""
    for principal in (ANONYMOUS, Principal(Role.READER)):
        for kind in KINDS:
            if kind not in app.state.queries:
                continue
            if kind == "unused-datasets":
                for view in ("projects", "datasets"):
                    unused_groups(app, principal, view=view, department=None, sdg_iri=None)
                unused_data(app, principal).rows()
            else:
                _order(app, principal, table(app, principal, kind), "de")
