"""Who could use whose data, grouped: the unused-datasets report per project and per dataset, in linear size.

The flat report (`queries/unused-datasets.rq`) pairs every dataset on a target with every project on that
target that neither uses it nor involves its department: ~15 million rows at 10^6 triples, which is too
many to compute per page and useless to read. Grouped, it is one row per project (the datasets on its
targets it could use: how many, and the first few) and one row per dataset (the projects that could use
it), with the full list for one project or one dataset on demand.

The groups are computed from the relations the report is defined on, each read once in linear size
(`RELATIONS`), as sets of bits: the datasets on a target are one integer, and a project's unused datasets are
the union over its targets minus the datasets it uses and those its departments hold. Indices follow the
German order of the labels, so the lowest bits are the first datasets by name. The same definition as the
named query, so the groups are exactly its rows grouped (tests/test_unused_data.py asks both).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from api.collation import sort_key

# One relation per query; each answers in time linear in its own size (no join across relations).
_PREFIXES = """PREFIX qsd: <https://w3id.org/querschnitt/derived#>
PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
RELATIONS: dict[str, str] = {
    # Targets and their goals: a dataset on a goal is on each of the goal's targets.
    "targets": "SELECT ?target ?goal WHERE { ?target a sdgo:Target OPTIONAL { ?target skos:broader ?goal } }",
    # Joined with the datasets here, not in the engine: a join of two patterns costs it an index lookup per row.
    "datasets": "SELECT ?dataset WHERE { ?dataset a dcat:Dataset }",
    "subjects": "SELECT ?entity ?subject WHERE { ?entity dct:subject ?subject }",
    "creators": "SELECT ?entity ?department WHERE { ?entity dct:creator ?department }",
    "project_targets": "SELECT ?project ?target WHERE { ?project qsd:target ?target }",
    "members": "SELECT ?project ?department WHERE { ?project qsd:member ?department }",
    "uses": "SELECT ?project ?dataset WHERE { ?project prov:used ?dataset }",
    # Labels as api/derived.py keeps them; staff's wins where the caller may see it.
    "labels": """SELECT ?entity ?public ?staff WHERE {
  { ?entity qsd:label ?public } UNION { ?entity qsd:staffLabel ?staff }
}""",
}
RELATIONS = {name: _PREFIXES + text for name, text in RELATIONS.items()}

Select = Callable[[str], Iterable[Mapping[str, str | None]]]


@dataclass(frozen=True)
class Group:
    """One project (or dataset), how many datasets (projects) could serve it, and the first few by name."""

    entity: str
    count: int
    first: tuple[str, ...]


class _Numbering:
    """IRIs numbered in the German order of their labels (then IRI), so that bit order is reading order."""

    def __init__(self, iris: Iterable[str], labels: Mapping[str, str]):
        self.iris = sorted(set(iris), key=lambda iri: (sort_key(labels.get(iri, iri)), iri))
        self.index = {iri: i for i, iri in enumerate(self.iris)}

    def bits(self, iris: Iterable[str]) -> int:
        value = 0
        for iri in iris:
            i = self.index.get(iri)
            if i is not None:
                value |= 1 << i
        return value

    def members(self, bits: int, limit: int | None = None) -> Iterator[str]:
        """The IRIs whose bits are set, lowest (first by name) first."""
        taken = 0
        while bits and (limit is None or taken < limit):
            low = bits & -bits
            yield self.iris[low.bit_length() - 1]
            bits ^= low
            taken += 1


class UnusedData:
    """The unused-datasets report of one data version and one caller's view, grouped both ways."""

    def __init__(self, relations: Mapping[str, list[Mapping[str, str | None]]]):
        labels: dict[str, str] = {}
        for row in relations["labels"]:
            if row.get("staff"):
                labels[row["entity"]] = row["staff"]
            elif row.get("public"):
                labels.setdefault(row["entity"], row["public"])
        self.labels = labels

        goal_of = {row["target"]: row.get("goal") for row in relations["targets"]}
        targets_of_goal: dict[str, set[str]] = defaultdict(set)
        for target, goal in goal_of.items():
            if goal:
                targets_of_goal[goal].add(target)
        self.goal_of = goal_of
        self.targets_of_goal = dict(targets_of_goal)

        # dataset → the targets it is on: its subject is the target or the target's goal.
        datasets = {row["dataset"] for row in relations["datasets"]}
        dataset_targets: dict[str, set[str]] = defaultdict(set)
        for row in relations["subjects"]:
            dataset, subject = row["entity"], row["subject"]
            if dataset not in datasets:
                continue
            if subject in goal_of:
                dataset_targets[dataset].add(subject)
            dataset_targets[dataset].update(targets_of_goal.get(subject, ()))
        project_targets: dict[str, set[str]] = defaultdict(set)
        for row in relations["project_targets"]:
            if row["target"] in goal_of:
                project_targets[row["project"]].add(row["target"])

        self.datasets = _Numbering((d for d, ts in dataset_targets.items() if ts), labels)
        self.projects = _Numbering(project_targets, labels)
        self.dataset_targets = {d: frozenset(ts) for d, ts in dataset_targets.items() if ts}
        self.project_targets = {p: frozenset(ts) for p, ts in project_targets.items()}

        on_target: dict[str, set[str]] = defaultdict(set)
        for dataset, targets in self.dataset_targets.items():
            for target in targets:
                on_target[target].add(dataset)
        worked_on: dict[str, set[str]] = defaultdict(set)
        for project, targets in self.project_targets.items():
            for target in targets:
                worked_on[target].add(project)
        self._datasets_on = {t: self.datasets.bits(ds) for t, ds in on_target.items()}
        self._projects_on = {t: self.projects.bits(ps) for t, ps in worked_on.items()}

        holders: dict[str, set[str]] = defaultdict(set)  # dataset → departments
        held_by: dict[str, set[str]] = defaultdict(set)  # department → datasets
        for row in relations["creators"]:
            if row["entity"] in datasets:
                holders[row["entity"]].add(row["department"])
                held_by[row["department"]].add(row["entity"])
        members: dict[str, set[str]] = defaultdict(set)  # project → departments
        runs: dict[str, set[str]] = defaultdict(set)  # department → projects
        for row in relations["members"]:
            members[row["project"]].add(row["department"])
            runs[row["department"]].add(row["project"])
        uses: dict[str, set[str]] = defaultdict(set)
        used_by: dict[str, set[str]] = defaultdict(set)
        for row in relations["uses"]:
            uses[row["project"]].add(row["dataset"])
            used_by[row["dataset"]].add(row["project"])
        self.holders, self.members = dict(holders), dict(members)
        self._held_by = {d: self.datasets.bits(ds) for d, ds in held_by.items()}
        self._runs = {d: self.projects.bits(ps) for d, ps in runs.items()}
        self._uses = {p: self.datasets.bits(ds) for p, ds in uses.items()}
        self._used_by = {d: self.projects.bits(ps) for d, ps in used_by.items()}

    @classmethod
    def read(cls, select: Select) -> UnusedData:
        """Read the relations through `select` (SPARQL text → rows of IRI/literal values) and group them."""
        return cls({name: list(select(text)) for name, text in RELATIONS.items()})

    def targets(self, sdg: str | None) -> frozenset[str] | None:
        """The targets an `sdg` filter keeps (the target itself, or the goal's targets); None keeps all."""
        if sdg is None:
            return None
        return frozenset({sdg} & self.goal_of.keys()) | frozenset(self.targets_of_goal.get(sdg, ()))

    # -- per project ------------------------------------------------------------------------------------

    def _unused_by(self, project: str, targets: frozenset[str] | None) -> int:
        candidates = 0
        for target in self.project_targets.get(project, ()):
            if targets is None or target in targets:
                candidates |= self._datasets_on.get(target, 0)
        return candidates & ~self._excluded_for(project) if candidates else 0

    def _excluded_for(self, project: str) -> int:
        excluded = self._uses.get(project, 0)
        for department in self.members.get(project, ()):
            excluded |= self._held_by.get(department, 0)
        return excluded

    @functools.cached_property
    def _rows(self) -> int:
        total = 0
        for project, targets in self.project_targets.items():
            keep = ~self._excluded_for(project)
            total += sum((self._datasets_on.get(t, 0) & keep).bit_count() for t in targets)
        return total

    def rows(self) -> int:
        """The number of rows of the flat report: (dataset, project, target) with the dataset unused."""
        return self._rows

    @functools.cached_property
    def rows_by_dataset(self) -> list[tuple[str, int]]:
        """(dataset, its rows in the flat report) for every dataset with rows, in the order of the IRIs' text."""
        counts = []
        for dataset in sorted(self.dataset_targets):
            excluded = self._used_by.get(dataset, 0)
            for department in self.holders.get(dataset, ()):
                excluded |= self._runs.get(department, 0)
            rows = sum((self._projects_on.get(t, 0) & ~excluded).bit_count() for t in self.dataset_targets[dataset])
            if rows:
                counts.append((dataset, rows))
        return counts

    def targets_between(self, project: str, dataset: str) -> list[str]:
        """The targets on which `dataset` could serve `project` (the flat report's rows for the pair)."""
        return sorted(self.project_targets.get(project, frozenset()) & self.dataset_targets.get(dataset, frozenset()))

    def by_project(self, *, department: str | None = None, sdg: str | None = None, first: int = 3) -> list[Group]:
        """Every project with datasets it could use, most first; `department`: only the projects it runs."""
        targets = self.targets(sdg)
        groups = []
        for project in self.projects.iris:
            if department is not None and department not in self.members.get(project, ()):
                continue
            bits = self._unused_by(project, targets)
            if bits:
                groups.append(Group(project, bits.bit_count(), tuple(self.datasets.members(bits, first))))
        groups.sort(key=lambda g: -g.count)  # stable: ties stay in the German order of names
        return groups

    def datasets_for(self, project: str, *, sdg: str | None = None) -> list[str]:
        """All datasets `project` could use, in the German order of their names."""
        return list(self.datasets.members(self._unused_by(project, self.targets(sdg))))

    # -- per dataset ------------------------------------------------------------------------------------

    def _could_use(self, dataset: str, targets: frozenset[str] | None) -> int:
        candidates = 0
        for target in self.dataset_targets.get(dataset, ()):
            if targets is None or target in targets:
                candidates |= self._projects_on.get(target, 0)
        if not candidates:
            return 0
        excluded = self._used_by.get(dataset, 0)
        for department in self.holders.get(dataset, ()):
            excluded |= self._runs.get(department, 0)
        return candidates & ~excluded

    def by_dataset(self, *, department: str | None = None, sdg: str | None = None, first: int = 3) -> list[Group]:
        """Every dataset some project could use, most projects first; `department`: only the datasets it holds."""
        targets = self.targets(sdg)
        groups = []
        for dataset in self.datasets.iris:
            if department is not None and department not in self.holders.get(dataset, ()):
                continue
            bits = self._could_use(dataset, targets)
            if bits:
                groups.append(Group(dataset, bits.bit_count(), tuple(self.projects.members(bits, first))))
        groups.sort(key=lambda g: -g.count)
        return groups

    def projects_for(self, dataset: str, *, sdg: str | None = None) -> list[str]:
        """All projects that could use `dataset`, in the German order of their names."""
        return list(self.projects.members(self._could_use(dataset, self.targets(sdg))))
