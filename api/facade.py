"""The JSON facade: gap reports, department and target profiles, labelled in German or English.

Thin routes over the named queries (`queries/*.rq`, run by `api.query_runs` with the caller's
visibility and the row cap); small lookups only where no named query answers (a department's projects,
the labels of the entities in an answer). Labels follow `lang=` (de, en), else Accept-Language, German
first; SDG labels come from the built-in taxonomy. Anonymous callers see the public graphs only, so
people never appear for them; staff tokens also get contact persons and a department's people.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from pyoxigraph import NamedNode

from api import gap_notes, gaps, i18n, query_runs
from api.auth import authenticate
from api.collation import sort_key
from api.errors import HttpProblem
from api.facade_models import (
    BlindSpotRow,
    Bridge,
    Contact,
    CouldUse,
    DepartmentPair,
    DepartmentProfile,
    DepartmentProject,
    Entity,
    GapFilters,
    GapLinks,
    GapNote,
    GapOverview,
    GapReport,
    GapRow,
    GapSummary,
    GoalCount,
    Labels,
    Lang,
    Member,
    MissingBridgeRow,
    Partner,
    PublishedDataset,
    SiloDepartmentRow,
    TargetProfile,
    UnmeasuredProjectRow,
    UnusedByDatasetRow,
    UnusedByProjectRow,
    UnusedDatasetRow,
    Worker,
)
from api.named_queries import ParameterError
from api.ui import page_href, page_path
from loaders.vocab import DCAT, ORG, PREFIXES, PROV, QS

router = APIRouter(tags=["gaps"])

# A department id: one path segment of IRI-unreserved characters, umlauts too (as the staff loader mints them).
DEPARTMENT_ID = r"^[^\W_][\w.~-]*$"
# A target code: goal number, dot, target number or letter (`11.2`, `11.a`).
TARGET_CODE = r"^[0-9]{1,2}\.[0-9A-Za-z]{1,2}$"
ROW_MODELS: dict[str, type[GapRow]] = {
    "missing-bridges": MissingBridgeRow,
    "unused-datasets": UnusedDatasetRow,
    "unmeasured-projects": UnmeasuredProjectRow,
    "blind-spots": BlindSpotRow,
    "silo-departments": SiloDepartmentRow,
}
_TYPES = (
    (ORG.OrganizationalUnit.value, "department"),
    (QS.Project.value, "project"),
    (DCAT.Dataset.value, "dataset"),
    (QS.Indicator.value, "indicator"),
    ("http://xmlns.com/foaf/0.1/Person", "person"),
    (ORG.Role.value, "role"),
    (PROV.Activity.value, "project"),
)
_SDG_TYPES = {"goal": "goal", "target": "target", "indicator": "sdg-indicator"}
_LABEL_BATCH = 500
PAGE_SIZE = 100

_Q = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("rdf", "rdfs", "skos", "dct", "dcat", "foaf", "org", "prov"))
_Q += "PREFIX qs: <https://w3id.org/querschnitt/def#>\nPREFIX qsd: <https://w3id.org/querschnitt/derived#>\n"
_Q += "PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>\n"
# The types of many entities; their names come from gaps.LABELS (one label choice for the UI and the facade).
_TYPES_OF = _Q + "SELECT ?s ?type WHERE { ?s a ?type }"
_DEPARTMENT = (
    _Q
    + """SELECT ?department ?name ?email ?homepage ?parent WHERE {
  ?department a org:OrganizationalUnit .
  OPTIONAL { ?department foaf:mbox ?email }
  OPTIONAL { ?department foaf:homepage ?homepage }
  OPTIONAL { ?department org:subOrganizationOf|org:unitOf ?parent . ?parent a org:OrganizationalUnit }
}"""
)
# Lead and partner as the derived relation (api/derived.py) has them; the role from the qualified association.
_DEPARTMENT_PROJECTS = (
    _Q
    + """SELECT ?department ?project ?role ?sdg WHERE {
  ?project qsd:member ?department .
  OPTIONAL { ?project prov:qualifiedAssociation ?association .
             ?association prov:agent ?department ; prov:hadRole ?role }
  OPTIONAL { ?project dct:subject ?sdg }
}"""
)
_MEMBERS = _Q + "SELECT ?project ?department WHERE { ?project qsd:member ?department }"
_DEPARTMENT_DATASETS = (
    _Q
    + """SELECT ?department ?dataset ?sdg WHERE {
  ?dataset a dcat:Dataset ; dct:creator ?department .
  OPTIONAL { ?dataset dct:subject ?sdg }
}"""
)
_DEPARTMENT_PEOPLE = (
    _Q
    + """SELECT ?department ?person ?role WHERE {
  ?person org:memberOf ?department .
  OPTIONAL { ?membership org:member ?person ; org:organization ?department ; org:role ?role }
}"""
)
# Linked to the target itself or to one of its SDG indicators (as blind-spots counts indicator coverage).
_TARGET_DATA = (
    _Q
    + """SELECT ?target ?x ?kind WHERE {
  { ?x dct:subject ?target } UNION { ?x dct:subject ?sdg_indicator . ?sdg_indicator a sdgo:Indicator ; skos:broader ?target }
  { ?x a dcat:Dataset BIND("dataset" AS ?kind) } UNION { ?x a qs:Indicator BIND("indicator" AS ?kind) }
}"""
)

LangParam = Annotated[
    Lang | None, Query(description="Language of the labels: `de` or `en` (default: Accept-Language, German first).")
]


sdg = gaps.sdg
is_sdg = gaps.is_sdg


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Context:
    """One request: the caller, the language, the entities labelled so far, and whether a cap cut a query."""

    def __init__(self, request: Request, lang: str | None):
        self.request = request
        self.app = request.app
        self.principal = authenticate(request)
        self.lang = lang or i18n.from_accept_language(request.headers.get("accept-language"))
        self.settings = request.app.state.settings
        self.public = self.settings.public_url.rstrip("/")
        self.labels: dict[str, str | None] = {}
        self.types: dict[str, set[str]] = {}
        self.truncated = False

    @property
    def staff(self) -> bool:
        return self.principal.sees_internal

    def t(self, key: str) -> str:
        return i18n.translate(self.lang, key)

    # -- running ---------------------------------------------------------------------------------

    def named(self, name: str, **params: str | None) -> list[dict[str, Any]]:
        """Rows of named query `name`; of `params`, those it declares are bound (the others are the caller's)."""
        try:
            result = gaps.named(self.app, self.principal, name, params, max_rows=self.settings.max_rows)
        except gaps.Unavailable:
            raise unavailable(name) from None
        except ParameterError as error:
            raise query_runs.invalid(error.name, str(error), params.get(error.name)) from None
        self.truncated |= result.truncated
        return result.rows

    def lookup(self, sparql: str, **substitutions: NamedNode) -> list[dict[str, Any]]:
        """Rows of a small lookup query; its substituted variables must be projected (SEP-0007)."""
        result = query_runs.select(self.app, self.principal, sparql, substitutions or None)
        self.truncated |= result.truncated
        return result.rows

    def with_values(self, sparql: str, variable: str, iris: Iterable[str]) -> list[dict[str, Any]]:
        """Rows of `sparql` with `variable` bound to each of `iris` (a VALUES block), in batches."""
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(iris)), _LABEL_BATCH):
            terms = {variable: [NamedNode(i) for i in chunk]}
            rows += query_runs.select(self.app, self.principal, sparql, terms, max_rows=0).rows
        return rows

    def notes(self, report_level: str | None) -> list[GapNote]:
        """What a report at `report_level` cannot show, as this caller sees the data (api/gap_notes.py), found
        once per data version."""
        found = gaps.tables(self.app).get(
            ("notes", self.principal.sees_internal, report_level),
            lambda: gap_notes.notes(report_level, lambda sparql: self.lookup(sparql)),
        )
        return [GapNote(code=n.code, blocking=n.blocking, message=n.message(self.lang), count=n.count) for n in found]

    # -- entities --------------------------------------------------------------------------------

    def describe(self, iris: Iterable[str], *, names: dict[str, str] | None = None) -> None:
        """Look up labels (gaps.labels, unless `names` has them) and types of the entities not seen yet."""
        todo = {i for i in iris if i not in self.types and not is_sdg(i)}
        for iri in todo:
            self.types[iri] = set()
            if names and iri in names:
                self.labels[iri] = names[iri]
        unnamed = {i for i in todo if i not in self.labels}
        found = gaps.labels(self.app, self.principal, unnamed, self.lang)
        for iri in unnamed:
            self.labels[iri] = found.get(iri)
        for row in self.with_values(_TYPES_OF, "s", todo):
            if isinstance(row.get("type"), NamedNode):
                self.types[row["s"].value].add(row["type"].value)

    def label(self, iri: str) -> str | None:
        """The label of a looked-up entity in the response language (gaps.pick_label's order)."""
        return self.labels.get(iri)

    def entity(self, term: NamedNode | str) -> Entity:
        """`term` as an Entity: labelled, typed, with links to its page and its profile."""
        iri = term.value if isinstance(term, NamedNode) else term
        path = page_path(self.request, iri)
        href = page_href(self.request, iri, self.principal)
        page = f"{self.public}{href}" if href else None
        if is_sdg(iri):
            index = sdg()
            kind, code = index.kind(iri), index.notation(iri)
            return Entity(
                iri=iri,
                type=_SDG_TYPES[kind],
                label=index.label(iri, self.lang),
                code=code,
                goal=int(index.notation(index.goal_of(iri))),
                page=page,
                api=f"{self.public}/api/targets/{quote(code)}" if kind == "target" else None,
            )
        self.describe([iri])
        kind = next((name for cls, name in _TYPES if cls in self.types.get(iri, ())), None)
        # Without a type in the visible data, the kind segment of an instance IRI (docs/model.md) says it.
        segment = path.split("/", 1)[0] if path else ""
        if kind is None and segment in ("department", "project", "dataset", "indicator"):
            kind = segment
        api = None
        department_prefix = f"{self.settings.base_iri}department/"
        if kind == "department" and iri.startswith(department_prefix):
            ident = iri[len(department_prefix) :]
            if ident and "/" not in ident and ident.isascii():
                api = f"{self.public}/api/departments/{quote(ident)}"
        return Entity(
            iri=iri,
            type=kind or "other",
            label=self.label(iri) or _short(iri),
            page=page,
            api=api,
        )

    def entities(self, terms: Iterable[NamedNode | str]) -> list[Entity]:
        """Entities sorted as people read them: SDG codes in natural order, then by label."""
        unique = {t.value if isinstance(t, NamedNode) else t for t in terms}
        self.describe(unique)
        return sorted((self.entity(i) for i in unique), key=entity_order)

    # -- links -----------------------------------------------------------------------------------

    def gap_links(self, kind: str, filters: dict[str, str] | None = None) -> GapLinks:
        query = f"?{urlencode(filters)}" if filters else ""
        return GapLinks(
            report=f"{self.public}/api/gaps/{kind}{query}",
            page=f"{self.public}/gaps/{kind}{query}",
            query=f"{self.public}/queries/{kind}",
        )

    def department_iri(self, value: str, *, parameter: str) -> str:
        """A department given by id (`bauamt`) or IRI; a 422 naming `parameter` unless it is a department here."""
        if re.fullmatch(DEPARTMENT_ID, value):
            iri = f"{self.settings.base_iri}department/{value}"
        else:
            try:
                iri = NamedNode(value).value
            except ValueError:
                raise query_runs.invalid(
                    parameter, f"{parameter}: {value!r} is neither a department id nor an IRI", value
                ) from None
        if not self.lookup(_DEPARTMENT, department=NamedNode(iri)):
            raise query_runs.invalid(parameter, f"{parameter}: there is no department {iri}", value)
        return iri

    def finish(self, response: Response) -> None:
        """The headers of every facade answer: its language, what it varies by, and no caching of staff data."""
        response.headers["Content-Language"] = self.lang
        response.headers["Vary"] = "Accept-Language, Authorization"
        if self.staff:
            response.headers["Cache-Control"] = "private, no-store"


def entity_order(entity: Entity) -> tuple:
    return (gaps.code_key(entity.code) if entity.code else (), sort_key(entity.label), entity.iri)


def unavailable(name: str) -> HttpProblem:
    return HttpProblem(503, f"The named query {name!r} is not installed (queries/{name}.rq).")


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


def _iris(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> set[str]:
    return {row[c].value for row in rows for c in columns if isinstance(row.get(c), NamedNode)}


# -- gap reports -------------------------------------------------------------------------------------


@router.get("/api/gaps", response_model=GapOverview)
def gaps_overview(request: Request, response: Response, lang: LangParam = None) -> GapOverview:
    """Every gap report with its number of rows, for a dashboard."""
    ctx = Context(request, lang)
    summaries = []
    for kind in gaps.KINDS:
        try:
            count = gaps.count(ctx.app, ctx.principal, kind)
        except gaps.Unavailable:
            raise unavailable(kind) from None
        summaries.append(
            GapSummary(
                kind=kind,
                title=ctx.t(f"gap.{kind}.title"),
                description=ctx.t(f"gap.{kind}.short"),
                count=count,
                links=ctx.gap_links(kind),
            )
        )
    ctx.finish(response)
    return GapOverview(lang=ctx.lang, gaps=summaries, notes=ctx.notes("target"))


def _gap_row(ctx: Context, kind: str, row: dict[str, Any]) -> GapRow:
    values: dict[str, Any] = {}
    for column in gaps.COLUMNS[kind]:
        term = row.get(column)
        if column == "projects":
            values[column] = int(term.value) if term is not None else 0
        elif column == "shared_share":
            values[column] = float(term.value) if term is not None else 0.0
        else:
            values[column] = ctx.entity(term)
    return ROW_MODELS[kind](**values)


def _unused_rows(
    ctx: Context,
    view: str | None,
    project: str | None,
    dataset: str | None,
    department: str | None,
    goal: int | None,
    rows: slice,
) -> tuple[int, list[GapRow]]:
    """unused-datasets for the facade: (number of rows, the rows of `rows`), grouped or for one entity."""
    sdg_iri = sdg().resolve(str(goal)).value if goal else None
    names = gaps.unused_data(ctx.app, ctx.principal).labels if ctx.lang == "de" else None
    if project or dataset:
        flat = gaps.unused_rows(ctx.app, ctx.principal, project=project, dataset=dataset, sdg_iri=sdg_iri)
        page = flat[rows]
        ctx.describe({i for row in page for i in row[:2]}, names=names)
        return len(flat), [
            UnusedDatasetRow(dataset=ctx.entity(d), project=ctx.entity(p), target=ctx.entity(t)) for d, p, t in page
        ]
    view = "datasets" if view == "datasets" else "projects"
    groups = gaps.unused_groups(ctx.app, ctx.principal, view=view, department=department, sdg_iri=sdg_iri)
    page_groups = groups[rows]
    departments = {g.entity: gaps.unused_departments(ctx.app, ctx.principal, g.entity) for g in page_groups}
    ctx.describe({i for g in page_groups for i in (g.entity, *g.first, *departments[g.entity])}, names=names)
    shown: list[GapRow] = []
    for g in page_groups:
        common = {
            "departments": [ctx.entity(d) for d in departments[g.entity]],
            "first": [ctx.entity(i) for i in g.first],
        }
        if view == "datasets":
            shown.append(UnusedByDatasetRow(dataset=ctx.entity(g.entity), projects=g.count, **common))
        else:
            shown.append(UnusedByProjectRow(project=ctx.entity(g.entity), datasets=g.count, **common))
    return len(groups), shown


@router.get(
    "/api/gaps/{kind}",
    response_model=GapReport,
    responses={404: {"description": "There is no such gap report."}},
)
def gap_report(
    request: Request,
    response: Response,
    kind: Annotated[
        str,
        Path(
            description="The report: " + ", ".join(f"`{k}`" for k in gaps.KINDS) + ".",
            examples=["missing-bridges"],
        ),
    ],
    department: Annotated[
        str | None,
        Query(
            description="Only rows involving this department (id or IRI): in the row, or lead or partner of "
            "its project, or creator of its dataset. Not for blind-spots."
        ),
    ] = None,
    goal: Annotated[
        int | None, Query(ge=1, le=17, description="Only rows on a target of this SDG goal. Not for silo-departments.")
    ] = None,
    limit: Annotated[int, Query(ge=0, description="At most this many rows.")] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, description="Skip this many rows first.")] = 0,
    view: Annotated[
        Literal["projects", "datasets"] | None,
        Query(
            description="unused-datasets only: one row per project (default: the datasets it could use) or per "
            "dataset (the projects that could use it). The flat pairs are on /queries/unused-datasets."
        ),
    ] = None,
    scope: Annotated[
        Literal["administration", "all"],
        Query(
            description="missing-bridges: pairs of departments within one administration (default; a district "
            "office or a municipality of a region is one) or `all` pairs, across administrations too."
        ),
    ] = "administration",
    administration: Annotated[
        str | None,
        Query(
            description="Only rows involving a department of this administration (its IRI). Not for unused-datasets."
        ),
    ] = None,
    project: Annotated[
        str | None, Query(description="unused-datasets only: every row (dataset, project, target) of this project.")
    ] = None,
    dataset: Annotated[
        str | None, Query(description="unused-datasets only: every row (dataset, project, target) of this dataset.")
    ] = None,
    lang: LangParam = None,
) -> GapReport:
    """One gap report as labelled rows, filtered like the report pages, with the columns of its named query;
    unused-datasets grouped per project or per dataset, or every row of one of them."""
    if kind not in gaps.KINDS:
        raise HttpProblem(404, f"There is no gap report {kind!r}; GET /api/gaps lists them.")
    for name, value in (("department", department), ("goal", goal)):
        if value is not None and name not in gaps.KINDS[kind]:
            raise query_runs.invalid(name, f"{name}: the {kind} report cannot be filtered by {name}", value)
    for name, value in (("view", view), ("project", project), ("dataset", dataset)):
        if value is not None and kind != "unused-datasets":
            raise query_runs.invalid(name, f"{name}: only the unused-datasets report has it", value)
    if project and dataset:
        raise query_runs.invalid("dataset", "dataset: give project or dataset, not both", dataset)
    if administration is not None and kind == "unused-datasets":
        raise query_runs.invalid(
            "administration", "administration: not for the grouped unused-datasets", administration
        )
    ctx = Context(request, lang)
    department_iri = ctx.department_iri(department, parameter="department") if department else None
    try:
        if kind == "unused-datasets":
            total, shown = _unused_rows(
                ctx, view, project, dataset, department_iri, goal, slice(offset, offset + limit)
            )
        else:
            found = gaps.report(
                ctx.app,
                ctx.principal,
                kind,
                department=department_iri,
                goal=goal,
                max_rows=ctx.settings.max_rows,
                lang=ctx.lang,
                scope=scope,
                administration=administration,
            )
            ctx.truncated |= found.truncated
            total = len(found.rows)
            found.rows = found.rows[offset : offset + limit]
            ctx.describe(found.iris(), names=found.names() if ctx.lang == "de" else None)
            shown = [_gap_row(ctx, kind, r) for r in found.rows]
    except gaps.Unavailable:
        raise unavailable(kind) from None
    filters = {k: v for k, v in (("department", department_iri), ("goal", str(goal) if goal else None)) if v}
    ctx.finish(response)
    return GapReport(
        kind=kind,
        title=ctx.t(f"gap.{kind}.title"),
        description=ctx.t(f"gap.{kind}.short"),
        lang=ctx.lang,
        filters=GapFilters(
            department=ctx.entity(department_iri) if department_iri else None,
            goal=ctx.entity(sdg().resolve(str(goal))) if goal else None,
        ),
        total=total,
        offset=offset,
        limit=limit,
        truncated=ctx.truncated,
        notes=ctx.notes(gap_notes.level(kind)),
        rows=shown,
        links=ctx.gap_links(kind, filters),
    )


# -- department profile ------------------------------------------------------------------------------


@router.get(
    "/api/departments/{id}",
    response_model=DepartmentProfile,
    responses={404: {"description": "There is no such department."}},
)
def department_profile(
    request: Request,
    response: Response,
    id: Annotated[
        str,
        Path(
            pattern=DEPARTMENT_ID,
            max_length=200,
            description="The department's id: the last segment of its IRI `{base}department/{id}`.",
            examples=["tiefbauamt"],
        ),
    ],
    lang: LangParam = None,
) -> DepartmentProfile:
    """A department: its projects, targets and goals, partners, missing bridges, and who could use its data."""
    ctx = Context(request, lang)
    iri = f"{ctx.settings.base_iri}department/{id}"
    subject = {"department": NamedNode(iri)}
    facts = ctx.lookup(_DEPARTMENT, **subject)
    if not facts:
        raise HttpProblem(404, f"There is no department {iri} here.")
    project_rows = ctx.lookup(_DEPARTMENT_PROJECTS, **subject)
    dataset_rows = ctx.lookup(_DEPARTMENT_DATASETS, **subject)
    coverage = ctx.named("coverage-matrix", department=iri)
    silo = ctx.named("silo-departments", department=iri)
    bridges = ctx.named("missing-bridges", department=iri)
    unused = ctx.named("unused-datasets", department=iri)
    people = ctx.lookup(_DEPARTMENT_PEOPLE, **subject) if ctx.staff else []
    roles: dict[str, str] = {}
    links: dict[str, set[str]] = defaultdict(set)
    for row in project_rows:
        project = row["project"].value
        role = row.get("role")
        if isinstance(role, NamedNode) and (role.value == QS.LeadRole.value or project not in roles):
            roles[project] = "lead" if role.value == QS.LeadRole.value else "partner"
        roles.setdefault(project, "partner")
        link = row.get("sdg")
        if isinstance(link, NamedNode) and is_sdg(link.value) and sdg().kind(link.value) in ("goal", "target"):
            links[project].add(link.value)
    members: dict[str, set[str]] = defaultdict(set)
    for row in ctx.with_values(_MEMBERS, "project", set(roles) | _iris(unused, ["project"])):
        members[row["project"].value].add(row["department"].value)
    dataset_links: dict[str, set[str]] = defaultdict(set)
    for row in dataset_rows:
        dataset_links.setdefault(row["dataset"].value, set())
        if isinstance(row.get("sdg"), NamedNode) and is_sdg(row["sdg"].value):
            dataset_links[row["dataset"].value].add(row["sdg"].value)
    ctx.describe(
        {iri}
        | set(roles)
        | {d for ds in members.values() for d in ds}
        | set(dataset_links)
        | _iris(bridges, ["department_a", "department_b"])
        | _iris(unused, ["dataset", "project"])
        | _iris(people, ["person", "role"])
        | _iris(facts, ["parent"])
    )
    projects = sorted(
        (
            DepartmentProject(
                project=ctx.entity(p),
                role=role,
                sdg=ctx.entities(links[p]),
                partners=ctx.entities(members[p] - {iri}),
            )
            for p, role in roles.items()
        ),
        key=lambda item: entity_order(item.project),
    )
    shared: dict[str, set[str]] = defaultdict(set)
    for project in roles:
        for other in members[project] - {iri}:
            shared[other].add(project)
    partners = sorted(
        (Partner(department=ctx.entity(d), projects=ctx.entities(ps)) for d, ps in shared.items()),
        key=lambda item: entity_order(item.department),
    )
    targets = {t for ts in links.values() for t in ts if sdg().kind(t) == "target"}
    goals = [
        GoalCount(goal=ctx.entity(r["goal"]), projects=int(r["projects"].value))
        for r in coverage
        if isinstance(r.get("goal"), NamedNode) and is_sdg(r["goal"].value) and int(r["projects"].value) > 0
    ]
    goals.sort(key=lambda item: entity_order(item.goal))
    by_other: dict[str, set[str]] = defaultdict(set)
    for row in bridges:
        a, b = row["department_a"].value, row["department_b"].value
        if iri in (a, b):
            by_other[b if a == iri else a].add(row["target"].value)
    missing = sorted(
        (Bridge(department=ctx.entity(d), targets=ctx.entities(ts)) for d, ts in by_other.items()),
        key=lambda item: (-len(item.targets), entity_order(item.department)),
    )
    serves: dict[str, list[CouldUse]] = defaultdict(list)
    for row in unused:
        project = row["project"].value
        serves[row["dataset"].value].append(
            CouldUse(
                project=ctx.entity(project),
                target=ctx.entity(row["target"]),
                departments=ctx.entities(members[project]),
            )
        )
    datasets = sorted(
        (
            PublishedDataset(
                dataset=ctx.entity(d),
                sdg=ctx.entities(dataset_links[d]),
                could_serve=sorted(serves.get(d, []), key=lambda c: (entity_order(c.project), entity_order(c.target))),
            )
            for d in dataset_links
        ),
        key=lambda item: entity_order(item.dataset),
    )
    fact = facts[0]
    silo_row = next((r for r in silo if r.get("department") == NamedNode(iri)), None)
    ctx.finish(response)
    return DepartmentProfile(
        department=ctx.entity(iri),
        lang=ctx.lang,
        email=fact["email"].value.removeprefix("mailto:") if isinstance(fact.get("email"), NamedNode) else None,
        homepage=fact["homepage"].value if isinstance(fact.get("homepage"), NamedNode) else None,
        parent=ctx.entity(fact["parent"]) if isinstance(fact.get("parent"), NamedNode) else None,
        projects=projects,
        targets=ctx.entities(targets),
        goals=goals,
        shared_share=float(silo_row["shared_share"].value) if silo_row and "shared_share" in silo_row else None,
        partners=partners,
        missing_bridges=missing,
        datasets=datasets,
        people=_members(ctx, people) if ctx.staff else None,
        truncated=ctx.truncated,
    )


def _members(ctx: Context, rows: list[dict[str, Any]]) -> list[Member]:
    roles: dict[str, str | None] = {}
    for row in rows:
        person = row["person"].value
        role = row.get("role")
        label = (ctx.label(role.value) or _short(role.value)) if isinstance(role, NamedNode) else None
        if label or person not in roles:
            roles[person] = label
    members = [Member(person=ctx.entity(p), role=r) for p, r in roles.items()]
    return sorted(members, key=lambda m: entity_order(m.person))


# -- target profile ----------------------------------------------------------------------------------


@router.get(
    "/api/targets/{code}",
    response_model=TargetProfile,
    responses={404: {"description": "There is no such SDG target."}},
)
def target_profile(
    request: Request,
    response: Response,
    code: Annotated[
        str,
        Path(
            pattern=TARGET_CODE,
            max_length=5,
            description="The target's code: goal number, dot, target number or letter.",
            examples=["11.2"],
        ),
    ],
    lang: LangParam = None,
) -> TargetProfile:
    """An SDG target: its goal, the departments and projects working on it, its data, its missing bridges."""
    index = sdg()
    concept = index.resolve(code)
    if concept is None or index.kind(concept) != "target":
        raise HttpProblem(404, f"There is no SDG target {code}.")
    ctx = Context(request, lang)
    code = index.notation(concept)
    who = ctx.named("who-works-on", sdg=code)
    bridges = [r for r in ctx.named("missing-bridges", sdg=code) if r.get("target") == concept]
    data = ctx.lookup(_TARGET_DATA, target=concept)
    ctx.describe(
        _iris(who, ["department", "project", "person"])
        | _iris(bridges, ["department_a", "department_b"])
        | _iris(data, ["x"])
    )
    by_department: dict[str, set[str]] = defaultdict(set)
    contacts: set[tuple[str, str, str]] = set()
    for row in who:
        department, project = row.get("department"), row.get("project")
        if isinstance(department, NamedNode) and isinstance(project, NamedNode):
            by_department[department.value].add(project.value)
            if isinstance(row.get("person"), NamedNode):
                contacts.add((row["person"].value, project.value, department.value))
    departments = sorted(
        (Worker(department=ctx.entity(d), projects=ctx.entities(ps)) for d, ps in by_department.items()),
        key=lambda w: entity_order(w.department),
    )
    pairs = sorted(
        (
            DepartmentPair(department_a=ctx.entity(r["department_a"]), department_b=ctx.entity(r["department_b"]))
            for r in bridges
        ),
        key=lambda p: (entity_order(p.department_a), entity_order(p.department_b)),
    )
    goal = index.goal_of(concept)
    ctx.finish(response)
    return TargetProfile(
        target=ctx.entity(concept),
        goal=ctx.entity(goal),
        lang=ctx.lang,
        labels=Labels(de=index.label(concept, "de"), en=index.label(concept, "en")),
        colour=index.colour(goal),
        departments=departments,
        projects=ctx.entities({p for ps in by_department.values() for p in ps}),
        contacts=(
            sorted(
                (
                    Contact(person=ctx.entity(p), project=ctx.entity(x), department=ctx.entity(d))
                    for p, x, d in contacts
                ),
                key=lambda c: (entity_order(c.person), entity_order(c.project)),
            )
            if ctx.staff
            else None
        ),
        datasets=ctx.entities({r["x"].value for r in data if r["kind"].value == "dataset"}),
        indicators=ctx.entities({r["x"].value for r in data if r["kind"].value == "indicator"}),
        missing_bridges=pairs,
        truncated=ctx.truncated,
    )
