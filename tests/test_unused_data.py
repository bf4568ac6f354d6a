"""The grouped unused-datasets report (api/unused_data.py) is the named query's rows grouped, on both backends.

The oracle is `queries/unused-datasets.rq` itself (whose rows tests/test_gap_queries.py checks against the
plain definition): grouped by project, each project's set of datasets must be exactly what the grouped view
counts and lists; grouped by dataset, likewise its projects.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import pytest
from kleinstadt import KLEINSTADT, fill_kleinstadt

from api.collation import sort_key
from api.named_queries import QueryRegistry
from api.unused_data import UnusedData
from loaders.sdg import SdgIndex

DEMO = "https://musterstadt.example/id/"


@functools.cache
def unused_query():
    return QueryRegistry()["unused-datasets"]


def select(store, *, staff: bool):
    def run(sparql: str, substitutions=None):
        result = store.query(sparql, include_internal=staff, substitutions=substitutions or {})
        names = [v.value for v in result.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]

    return run


def flat_pairs(store, *, staff: bool, **params: str) -> set[tuple[str, str]]:
    query = unused_query()
    rows = select(store, staff=staff)(query.sparql, query.bind(params))
    return {(row["project"], row["dataset"]) for row in rows}


@pytest.fixture
def town(backend):
    return backend.shared("kleinstadt", fill_kleinstadt, derived=True)


def sdg_iri(code: str | None) -> str | None:
    return None if code is None else SdgIndex.builtin().resolve(code).value


def assert_groups_are_the_flat_rows_grouped(store, *, staff: bool, code: str | None = None) -> UnusedData:
    params = {"sdg": code} if code else {}
    sdg = sdg_iri(code)
    pairs = flat_pairs(store, staff=staff, **params)
    assert pairs, "the oracle must have rows for the comparison to mean something"
    data = UnusedData.read(select(store, staff=staff))
    by_project, by_dataset = defaultdict(set), defaultdict(set)
    for project, dataset in pairs:
        by_project[project].add(dataset)
        by_dataset[dataset].add(project)

    groups = data.by_project(sdg=sdg, first=2)
    assert {g.entity: g.count for g in groups} == {p: len(ds) for p, ds in by_project.items()}
    for group in groups:
        full = data.datasets_for(group.entity, sdg=sdg)
        assert set(full) == by_project[group.entity]
        assert list(group.first) == full[:2]
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)

    groups = data.by_dataset(sdg=sdg, first=2)
    assert {g.entity: g.count for g in groups} == {d: len(ps) for d, ps in by_dataset.items()}
    for group in groups:
        assert set(data.projects_for(group.entity, sdg=sdg)) == by_dataset[group.entity]
    return data


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize("code", [None, "11", "11.6"])
def test_kleinstadt_groups_are_the_named_querys_rows_grouped(town, staff, code):
    assert_groups_are_the_flat_rows_grouped(town, staff=staff, code=code)


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_demo_groups_are_the_named_querys_rows_grouped(shared_demo, staff):
    assert_groups_are_the_flat_rows_grouped(shared_demo, staff=staff)


def test_staff_see_the_internal_datasets_a_project_could_use_and_anonymous_callers_do_not(town):
    public = UnusedData.read(select(town, staff=False))
    staff = UnusedData.read(select(town, staff=True))
    luft = f"{KLEINSTADT}project/luft"
    internal = set(staff.datasets_for(luft)) - set(public.datasets_for(luft))
    assert internal == {f"{KLEINSTADT}dataset/laermkarte"}


def test_a_departments_filter_keeps_the_projects_it_runs_and_the_datasets_it_holds(town):
    data = UnusedData.read(select(town, staff=False))
    umwelt = f"{KLEINSTADT}department/umwelt"
    assert {g.entity for g in data.by_project(department=umwelt)} == {
        g.entity for g in data.by_project() if umwelt in data.members[g.entity]
    }
    held = {g.entity for g in data.by_dataset(department=umwelt)}
    assert held == {f"{KLEINSTADT}dataset/luftdaten"}


def test_the_first_datasets_of_a_group_come_in_german_order_of_their_names():
    relations = {
        "targets": [{"target": "t", "goal": "g"}],
        "datasets": [{"dataset": d} for d in ("z", "oe", "o", "a")],
        "subjects": [{"entity": d, "subject": "t"} for d in ("z", "oe", "o", "a")],
        "creators": [],
        "project_targets": [{"project": "p", "target": "t"}],
        "members": [],
        "uses": [{"project": "p", "dataset": "a"}],
        "labels": [
            {"entity": "z", "public": "Zollamt"},
            {"entity": "oe", "public": "ÖPNV-Haltestellen"},
            {"entity": "o", "public": "Ordnungsamt"},
            {"entity": "a", "public": "Abfall"},
        ],
    }
    data = UnusedData(relations)
    [group] = data.by_project(first=2)
    assert (group.count, group.first) == (3, ("oe", "o"))
    assert sorted(["Zollamt", "ÖPNV-Haltestellen", "Ordnungsamt"], key=sort_key)[0] == "ÖPNV-Haltestellen"


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_the_flat_reports_rows_are_counted_and_each_pairs_targets_given(town, staff):
    query = unused_query()
    rows = select(town, staff=staff)(query.sparql, {})
    data = UnusedData.read(select(town, staff=staff))
    assert data.rows() == len({(r["dataset"], r["project"], r["target"]) for r in rows}) == len(rows)
    by_pair = defaultdict(set)
    for r in rows:
        by_pair[(r["project"], r["dataset"])].add(r["target"])
    for (project, dataset), targets in by_pair.items():
        assert set(data.targets_between(project, dataset)) == targets
