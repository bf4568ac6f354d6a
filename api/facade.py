"""The JSON facade (issue 5): gap reports, department and target profiles, labelled in German or English.

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
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from pyoxigraph import Literal, NamedNode

from api import gap_notes, i18n, query_runs
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
    UnusedDatasetRow,
    Worker,
)
from api.named_queries import NamedQuery
from api.publishing import page_url
from api.ui import GAP_COLUMNS, GAP_KINDS, page_path
from loaders.sdg import SdgIndex
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
# Filters a query's own parameter answers exactly (see each query's header); the others are applied to
# the rows here. unused-datasets' `department` is the dataset's only, the filter also means the project's.
_DEPARTMENT_PARAM = {"missing-bridges", "unmeasured-projects", "silo-departments"}
_SDG_PARAM = {"missing-bridges", "unmeasured-projects", "unused-datasets"}
# Reports whose query has no ORDER BY: sorted here (SDG codes naturally, then labels), so pages are stable.
_UNORDERED = {"missing-bridges", "unused-datasets"}
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
_LABELS = (
    _Q
    + "SELECT ?s ?label ?type WHERE { VALUES ?s { %s } { ?s foaf:name|dct:title|skos:prefLabel|rdfs:label ?label } UNION { ?s a ?type } }"
)
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
_MEMBERS = _Q + "SELECT ?project ?department WHERE { VALUES ?project { %s } ?project qsd:member ?department }"
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
_INVOLVED = (
    _Q
    + "SELECT ?department ?entity WHERE { { ?entity qsd:member ?department } UNION { ?entity dct:creator ?department } }"
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


def sdg() -> SdgIndex:
    return SdgIndex.builtin()


def is_sdg(iri: str) -> bool:
    try:
        sdg().kind(iri)
    except KeyError:
        return False
    return True


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))


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
        self.labels: dict[str, list[Literal]] = {}
        self.types: dict[str, set[str]] = {}
        self.truncated = False

    @property
    def staff(self) -> bool:
        return self.principal.sees_internal

    def t(self, key: str) -> str:
        return i18n.translate(self.lang, key)

    # -- running ---------------------------------------------------------------------------------

    def query(self, name: str) -> NamedQuery:
        registry = self.app.state.queries
        if name not in registry:
            raise HttpProblem(503, f"The named query {name!r} is not installed (queries/{name}.rq).")
        return registry[name]

    def named(self, name: str, **params: str | None) -> list[dict[str, Any]]:
        """Rows of named query `name`; of `params`, those it declares are bound (the others are the caller's)."""
        query = self.query(name)
        declared = {p.name for p in query.parameters}
        values = {k: v for k, v in params.items() if v and k in declared}
        result = query_runs.select(self.app, self.principal, query.sparql, query_runs.bind(query, values))
        self.truncated |= result.truncated
        return result.rows

    def lookup(self, sparql: str, **substitutions: NamedNode) -> list[dict[str, Any]]:
        """Rows of a small lookup query; its substituted variables must be projected (SEP-0007)."""
        result = query_runs.select(self.app, self.principal, sparql, substitutions or None)
        self.truncated |= result.truncated
        return result.rows

    def with_values(self, template: str, iris: Iterable[str]) -> list[dict[str, Any]]:
        """Rows of `template` with its `VALUES … { %s }` filled with IRIs from query results, in batches.

        The IRIs come from the store, never from the request, and are written by pyoxigraph (`<…>`,
        checked when the term was made), so nothing a caller sends reaches the query text.
        """
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(iris)), _LABEL_BATCH):
            text = template % " ".join(str(NamedNode(i)) for i in chunk)
            result = query_runs.select(self.app, self.principal, text, max_rows=0)
            rows += result.rows
        return rows

    def notes(self, report_level: str | None) -> list[GapNote]:
        """What a report at `report_level` cannot show, as this caller sees the data (api/gap_notes.py)."""
        found = gap_notes.notes(report_level, lambda sparql: self.lookup(sparql))
        return [GapNote(code=n.code, blocking=n.blocking, message=n.message(self.lang), count=n.count) for n in found]

    # -- entities --------------------------------------------------------------------------------

    def describe(self, iris: Iterable[str]) -> None:
        """Look up labels and types of the entities not seen yet (one query per batch)."""
        todo = {i for i in iris if i not in self.labels and not is_sdg(i)}
        for iri in todo:
            self.labels[iri], self.types[iri] = [], set()
        for row in self.with_values(_LABELS, todo):
            iri = row["s"].value
            if isinstance(row.get("label"), Literal):
                self.labels[iri].append(row["label"])
            if isinstance(row.get("type"), NamedNode):
                self.types[iri].add(row["type"].value)

    def label(self, iri: str) -> str | None:
        """The label of a looked-up entity in the response language, else German, untagged, English, any."""
        literals = self.labels.get(iri, [])
        for wanted in (self.lang, "de", None, "en"):
            for literal in sorted(literals, key=lambda lit: lit.value):
                if (literal.language or None) == wanted:
                    return literal.value
        return min((lit.value for lit in literals), default=None)

    def entity(self, term: NamedNode | str) -> Entity:
        """`term` as an Entity: labelled, typed, with links to its page and its profile."""
        iri = term.value if isinstance(term, NamedNode) else term
        path = page_path(self.request, iri)
        page = page_url(self.settings, path) if path else None
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
    return (_code_key(entity.code) if entity.code else (), sort_key(entity.label), entity.iri)


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


def _iris(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> set[str]:
    return {row[c].value for row in rows for c in columns if isinstance(row.get(c), NamedNode)}


# -- gap reports -------------------------------------------------------------------------------------


@router.get("/api/gaps", response_model=GapOverview)
def gaps_overview(request: Request, response: Response, lang: LangParam = None) -> GapOverview:
    """Every gap report with its number of rows, for a dashboard."""
    ctx = Context(request, lang)
    gaps = []
    for kind in GAP_KINDS:
        count = query_runs.count(ctx.app, ctx.principal, ctx.query(kind).sparql)
        gaps.append(
            GapSummary(
                kind=kind,
                title=ctx.t(f"gap.{kind}.title"),
                description=ctx.t(f"gap.{kind}.short"),
                count=count,
                links=ctx.gap_links(kind),
            )
        )
    ctx.finish(response)
    return GapOverview(lang=ctx.lang, gaps=gaps, notes=ctx.notes("target"))


def _in_goal(row: dict[str, Any], columns: Iterable[str], goal: int) -> bool:
    index = sdg()
    return any(
        isinstance(row.get(c), NamedNode)
        and is_sdg(row[c].value)
        and index.notation(index.goal_of(row[c])) == str(goal)
        for c in columns
    )


def _gap_row(ctx: Context, kind: str, row: dict[str, Any]) -> GapRow:
    values: dict[str, Any] = {}
    for column in GAP_COLUMNS[kind]:
        term = row.get(column)
        if column == "projects":
            values[column] = int(term.value) if term is not None else 0
        elif column == "shared_share":
            values[column] = float(term.value) if term is not None else 0.0
        else:
            values[column] = ctx.entity(term)
    return ROW_MODELS[kind](**values)


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
            description="The report: " + ", ".join(f"`{k}`" for k in GAP_KINDS) + ".",
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
    lang: LangParam = None,
) -> GapReport:
    """One gap report as labelled rows, filtered like the report pages, with the columns of its named query."""
    if kind not in GAP_KINDS:
        raise HttpProblem(404, f"There is no gap report {kind!r}; GET /api/gaps lists them.")
    for name, value in (("department", department), ("goal", goal)):
        if value is not None and name not in GAP_KINDS[kind]:
            raise query_runs.invalid(name, f"{name}: the {kind} report cannot be filtered by {name}", value)
    ctx = Context(request, lang)
    department_iri = ctx.department_iri(department, parameter="department") if department else None
    params = {
        "department": department_iri if kind in _DEPARTMENT_PARAM else None,
        "sdg": str(goal) if goal and kind in _SDG_PARAM else None,
    }
    rows = ctx.named(kind, **params)
    columns = GAP_COLUMNS[kind]
    if department_iri and kind not in _DEPARTMENT_PARAM:
        involved = {r["entity"].value for r in ctx.lookup(_INVOLVED, department=NamedNode(department_iri))}
        rows = [r for r in rows if _iris([r], columns) & (involved | {department_iri})]
    if goal:
        rows = [r for r in rows if _in_goal(r, columns, goal)]
    ctx.describe(_iris(rows, columns))
    shown = [_gap_row(ctx, kind, r) for r in rows]
    if kind in _UNORDERED:
        shown.sort(key=lambda r: [entity_order(getattr(r, c)) for c in columns])
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
        total=len(shown),
        offset=offset,
        limit=limit,
        truncated=ctx.truncated,
        notes=ctx.notes(gap_notes.level(kind)),
        rows=shown[offset : offset + limit],
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
    for row in ctx.with_values(_MEMBERS, set(roles) | _iris(unused, ["project"])):
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
