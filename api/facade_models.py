"""The JSON shapes of the facade API (`/api/gaps`, `/api/departments/…`, `/api/targets/…`): stable, documented.

Every entity is an `Entity`: its IRI, what it is, its label in the response language, and links to
its HTML page and (departments, targets) its JSON profile. People appear for staff tokens only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Lang = Literal["de", "en"]
GapKind = Literal["missing-bridges", "unused-datasets", "unmeasured-projects", "blind-spots", "silo-departments"]
EntityType = Literal[
    "department", "project", "dataset", "indicator", "person", "role", "goal", "target", "sdg-indicator", "other"
]


class Entity(BaseModel):
    """A department, project, dataset, indicator, person or SDG concept, labelled, with its links."""

    iri: str = Field(description="The entity's IRI; dereferencing it gives its data (RDF by content negotiation).")
    type: EntityType
    label: str = Field(description="The label in the response language; German, then any, when there is none.")
    code: str | None = Field(None, description="SDG notation of a goal, target or indicator (`11`, `11.2`).")
    goal: int | None = Field(None, description="Number of the SDG goal a goal, target or indicator belongs to.")
    page: str | None = Field(None, description="The entity's HTML page.")
    api: str | None = Field(None, description="The entity's JSON profile (departments and SDG targets).")


# -- gap reports -----------------------------------------------------------------------------------


class MissingBridgeRow(BaseModel):
    """Two departments (A < B by IRI) working on a target without any shared project."""

    department_a: Entity
    department_b: Entity
    target: Entity


class UnusedDatasetRow(BaseModel):
    """A dataset on a target (or its goal) that a project on the target neither uses nor gets from its departments."""

    dataset: Entity
    project: Entity
    target: Entity


class UnmeasuredProjectRow(BaseModel):
    """A project's target that no dataset and no indicator is linked to."""

    project: Entity
    target: Entity


class BlindSpotRow(BaseModel):
    """A municipally relevant target that no project works on."""

    target: Entity


class SiloDepartmentRow(BaseModel):
    """A department with its number of projects and the share of those shared with another department."""

    department: Entity
    projects: int
    shared_share: float = Field(description="Share (0–1) of its projects that involve another department.")


class UnusedByProjectRow(BaseModel):
    """unused-datasets per project (`view=projects`): the datasets on its targets it could use."""

    project: Entity
    departments: list[Entity] = Field(description="The project's lead and partner departments.")
    datasets: int = Field(description="How many datasets it could use; `project=` lists them all.")
    first: list[Entity] = Field(description="The first of them by name.")


class UnusedByDatasetRow(BaseModel):
    """unused-datasets per dataset (`view=datasets`): the projects that could use it."""

    dataset: Entity
    departments: list[Entity] = Field(description="The departments holding the dataset.")
    projects: int = Field(description="How many projects could use it; `dataset=` lists them all.")
    first: list[Entity] = Field(description="The first of them by name.")


GapRow = (
    MissingBridgeRow
    | UnusedDatasetRow
    | UnusedByProjectRow
    | UnusedByDatasetRow
    | UnmeasuredProjectRow
    | BlindSpotRow
    | SiloDepartmentRow
)


class GapLinks(BaseModel):
    """The same report as JSON, as an HTML page, and as the named query behind it."""

    report: str
    page: str
    query: str


class GapNote(BaseModel):
    """Something a report cannot show (api/gap_notes.py); `blocking`: the report as a whole cannot be right."""

    code: str = Field(description="`no-sdg-taxonomy`, `no-target-links` or `goal-only`.")
    blocking: bool
    message: str
    count: int = Field(0, description="For `goal-only`: the projects and indicators linked only to a goal.")


class GapSummary(BaseModel):
    """One gap report in the overview."""

    kind: GapKind
    title: str
    description: str
    count: int = Field(description="Number of rows of the report (as its page lists them).")
    links: GapLinks


class GapOverview(BaseModel):
    """Every gap report with its number of rows, for a dashboard."""

    lang: Lang
    gaps: list[GapSummary]
    notes: list[GapNote] = Field(default_factory=list, description="What the target-level reports cannot show.")


class GapFilters(BaseModel):
    """The filters a report was narrowed by."""

    department: Entity | None = None
    goal: Entity | None = None


class GapReport(BaseModel):
    """The rows of one gap report, labelled; the columns are those of the named query of the same name."""

    kind: GapKind
    title: str
    description: str
    lang: Lang
    filters: GapFilters
    total: int = Field(description="Number of rows after filtering, over all pages.")
    offset: int
    limit: int
    truncated: bool = Field(description="The row cap (setting `max_rows`) cut the query's result short.")
    notes: list[GapNote] = Field(
        default_factory=list, description="What this report cannot show; a blocking note: it cannot be right."
    )
    rows: list[GapRow]
    links: GapLinks


# -- department profile ----------------------------------------------------------------------------


class DepartmentProject(BaseModel):
    """A project the department leads or partners in, with its SDG links and the other departments in it."""

    project: Entity
    role: Literal["lead", "partner"]
    sdg: list[Entity] = Field(description="The SDG goals and targets the project links.")
    partners: list[Entity] = Field(description="The other lead and partner departments of the project.")


class GoalCount(BaseModel):
    """An SDG goal with the number of the department's projects on it or its targets."""

    goal: Entity
    projects: int


class Partner(BaseModel):
    """Another department sharing projects with this one."""

    department: Entity
    projects: list[Entity]


class Bridge(BaseModel):
    """Another department working on the same targets without any shared project (missing-bridges)."""

    department: Entity
    targets: list[Entity]


class CouldUse(BaseModel):
    """A project of other departments, on a target of the dataset, that does not use it (unused-datasets)."""

    project: Entity
    target: Entity
    departments: list[Entity] = Field(description="The project's lead and partner departments.")


class PublishedDataset(BaseModel):
    """A dataset the department created, its SDG links, and who could use it."""

    dataset: Entity
    sdg: list[Entity]
    could_serve: list[CouldUse]


class Member(BaseModel):
    """A person of the department (staff only)."""

    person: Entity
    role: str | None = None


class DepartmentProfile(BaseModel):
    """A department: its projects and targets, partners, missing bridges, and the data it publishes."""

    department: Entity
    lang: Lang
    email: str | None = None
    homepage: str | None = None
    parent: Entity | None = None
    projects: list[DepartmentProject]
    targets: list[Entity] = Field(description="The SDG targets it works on (lead or partner of a project on them).")
    goals: list[GoalCount]
    shared_share: float | None = Field(
        None, description="Share (0–1) of its projects that involve another department (silo-departments)."
    )
    partners: list[Partner]
    missing_bridges: list[Bridge]
    datasets: list[PublishedDataset]
    people: list[Member] | None = Field(None, description="Its people and their roles; staff tokens only.")
    truncated: bool = Field(description="A query behind the profile was cut by the row cap.")


# -- target profile --------------------------------------------------------------------------------


class Labels(BaseModel):
    """A label in German and English."""

    de: str
    en: str


class Worker(BaseModel):
    """A department working on the target, with its projects on it."""

    department: Entity
    projects: list[Entity]


class Contact(BaseModel):
    """A project's contact person from one of its departments (staff only)."""

    person: Entity
    project: Entity
    department: Entity


class DepartmentPair(BaseModel):
    """Two departments (A < B by IRI) both working on the target without a shared project."""

    department_a: Entity
    department_b: Entity


class TargetProfile(BaseModel):
    """An SDG target: its goal, who works on it, the data linked to it, and its missing bridges."""

    target: Entity
    goal: Entity
    lang: Lang
    labels: Labels
    colour: str = Field(description="The official colour of the goal (`#RRGGBB`).")
    departments: list[Worker]
    projects: list[Entity]
    contacts: list[Contact] | None = Field(None, description="Contact persons; staff tokens only.")
    datasets: list[Entity] = Field(description="Datasets linked to the target (or to one of its SDG indicators).")
    indicators: list[Entity] = Field(description="Municipal indicators linked to it (or to one of its SDG indicators).")
    missing_bridges: list[DepartmentPair]
    truncated: bool = Field(description="A query behind the profile was cut by the row cap.")
