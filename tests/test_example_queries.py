"""The example queries for researchers (queries/*.rq tagged `examples`, issue 18 item 11), on both backends.

The expected rows are worked out here in Python from the sources themselves – Kleinstadt's CSV files
(tests/data/gaps/kleinstadt/) and the demo's generated sheet rows – not from the loaded RDF, so a
mistake in the mapping or in a query shows as a difference.
"""

from __future__ import annotations

import csv
import functools
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from kleinstadt import KLEINSTADT, fill_kleinstadt
from pyoxigraph import Literal, NamedNode

from api.demo import load_demo
from api.named_queries import QueryRegistry
from api.testing import make_settings
from api.yasgui import example_tabs
from loaders import demo

KLEINSTADT_DIR = Path(__file__).parent / "data" / "gaps" / "kleinstadt"
DEMO_BASE = make_settings().base_iri
EXAMPLES = (
    "uncovered-goals",
    "datasets-per-goal",
    "department-partnerships",
    "indicators-per-target",
    "projects-per-strategy-goal",
)
GOALS = [str(n) for n in range(1, 18)]
LEVELS = {"leitlinie": "GuidingPrinciple", "strategisches_ziel": "StrategicGoal", "operatives_ziel": "OperationalGoal"}


@functools.cache
def registry() -> QueryRegistry:
    return QueryRegistry()


def value(term) -> str | None:
    """The IRI's last segment (`…/department/bau` → `bau`, `…/sdg/11.2` → `11.2`) or the literal's value."""
    if term is None:
        return None
    return term.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if isinstance(term, NamedNode) else term.value


def rows(store, name: str, *, staff: bool = False, **params: str) -> list[dict[str, str | None]]:
    """The named query's rows in its order, each column as `value()` gives it."""
    query = registry()[name]
    result = store.query(query.sparql, include_internal=staff, substitutions=query.bind(params))
    names = [v.value for v in result.variables]
    return [{n: value(row[n]) for n in names} for row in result]


# --- what the sources say -------------------------------------------------------------------------------


@functools.cache
def sheet(name: str) -> list[dict[str, str]]:
    with (KLEINSTADT_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def codes(cell: str) -> list[str]:
    return [c.strip() for c in cell.split(";") if c.strip()]


def goal_of(code: str) -> str:
    return code.split(".")[0]


def is_target(code: str) -> bool:
    return code.count(".") == 1


def members(project: dict[str, str]) -> set[str]:
    return {project["Federführung"], *codes(project["Beteiligte Ämter"])}


def visible_datasets(staff: bool) -> list[dict[str, str]]:
    return [d for d in sheet("datasets") if staff or d["öffentlich"] == "ja"]


@pytest.fixture
def town(backend):
    """Kleinstadt with its derived relations, read only."""
    return backend.shared("kleinstadt", fill_kleinstadt, derived=True)


@pytest.fixture
def musterstadt(shared_demo):
    return shared_demo


# --- Kleinstadt -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_uncovered_goals_are_the_goals_no_project_links_in_goal_order_with_their_data(town, staff):
    covered = {goal_of(code) for project in sheet("projects") for code in codes(project["SDG"])}
    datasets, indicators = Counter(), Counter()
    for dataset in visible_datasets(staff):
        datasets.update({goal_of(code) for code in codes(dataset["SDG"])})
    for indicator in sheet("indicators"):
        indicators.update({goal_of(code) for code in codes(indicator["SDG"])})
    expected = [
        {"goal": g, "code": g, "datasets": str(datasets[g]), "indicators": str(indicators[g])}
        for g in GOALS
        if g not in covered
    ]
    got = [
        {k: row[k] for k in ("goal", "code", "datasets", "indicators")}
        for row in rows(town, "uncovered-goals", staff=staff)
    ]
    assert len(expected) == 12
    assert got == expected


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_datasets_per_goal_list_every_visible_dataset_of_a_goal_with_its_department_and_the_count(town, staff):
    names = {d["ID"]: d["Name"] for d in sheet("departments")}
    by_goal: dict[str, set[tuple]] = defaultdict(set)
    for dataset in visible_datasets(staff):
        for goal in {goal_of(code) for code in codes(dataset["SDG"])}:
            by_goal[goal].add((dataset["ID"], dataset["Titel"], dataset["Amt"], names[dataset["Amt"]]))
    expected = set()
    for goal in GOALS:
        for entry in by_goal[goal] or {(None, None, None, None)}:
            expected.add((goal, str(len(by_goal[goal])), *entry))
    columns = ("goal", "datasets", "dataset", "dataset_label", "department", "department_label")
    got = [tuple(row[c] for c in columns) for row in rows(town, "datasets-per-goal", staff=staff)]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert [int(goal) for goal, *_ in got] == sorted(int(goal) for goal, *_ in got)
    # Goal 13's only dataset is internal: staff see it, anonymous callers a goal without datasets.
    expected_13 = ("13", "1", "stadtklima") if staff else ("13", "0", None)
    assert expected_13 in {g[:3] for g in got}


def test_datasets_per_goal_narrowed_to_one_goal(town):
    got = {(row["goal"], row["dataset"]) for row in rows(town, "datasets-per-goal", goal="11")}
    expected = {("11", d["ID"]) for d in visible_datasets(False) if "11" in {goal_of(c) for c in codes(d["SDG"])}}
    assert got == expected and len(expected) == 3


def test_department_partnerships_are_the_pairs_sharing_a_project_with_their_shared_targets(town):
    shared = Counter()
    targets: dict[str, set[str]] = defaultdict(set)
    for project in sheet("projects"):
        team = sorted(members(project))
        shared.update((a, b) for i, a in enumerate(team) for b in team[i + 1 :])
        for department in team:
            targets[department] |= {code for code in codes(project["SDG"]) if is_target(code)}
    names = {d["ID"]: d["Name"] for d in sheet("departments")}
    expected = [(a, b, str(n), str(len(targets[a] & targets[b])), names[a], names[b]) for (a, b), n in shared.items()]
    columns = ("department_a", "department_b", "shared_projects", "shared_targets")
    got = [
        tuple(row[c] for c in columns) + (row["department_a_label"], row["department_b_label"])
        for row in rows(town, "department-partnerships")
    ]
    assert sorted(got) == sorted(expected) and len(expected) == 2
    assert [int(g[2]) for g in got] == sorted((int(g[2]) for g in got), reverse=True)


def test_department_partnerships_of_one_department_have_it_on_either_side(town):
    got = rows(town, "department-partnerships", department=f"{KLEINSTADT}department/schule")
    assert [(r["department_a"], r["department_b"]) for r in got] == [("schule", "umwelt")]
    assert rows(town, "department-partnerships", department=f"{KLEINSTADT}department/kaemmerei") == []


def test_indicators_per_target_link_directly_or_through_an_sdg_indicator_in_target_order(town):
    expected = set()
    for indicator in sheet("indicators"):
        years = sum(1 for key, cell in indicator.items() if key.isdigit() and cell)
        for code in codes(indicator["SDG"]):
            target = code if is_target(code) else ".".join(code.split(".")[:2])
            through = None if is_target(code) else "C" + "".join(part.zfill(2) for part in code.split("."))
            expected.add(
                (
                    target,
                    indicator["ID"],
                    indicator["Titel"],
                    indicator["Einheit"],
                    str(years),
                    through,
                    indicator["Amt"],
                )
            )
    columns = ("code", "indicator", "indicator_label", "unit", "values", "sdg_indicator", "department")
    got = rows(town, "indicators-per-target")
    assert {tuple(row[c] for c in columns) for row in got} == expected
    assert len(got) == len(expected) == 5
    order = [tuple(int(p) for p in row["code"].split(".")) for row in got]
    assert order == sorted(order)


def test_indicators_per_target_of_a_goal_keep_its_targets_only(town):
    assert {(r["code"], r["indicator"]) for r in rows(town, "indicators-per-target", sdg="11")} == {
        ("11.2", "radanteil"),
        ("11.6", "pm10"),
    }


def test_kleinstadt_has_no_strategy_so_projects_per_strategy_goal_is_empty(town):
    assert rows(town, "projects-per-strategy-goal") == []


# --- the demo (Musterstadt has a strategy) ------------------------------------------------------------------


@functools.cache
def demo_rows() -> dict[str, list[dict[str, str]]]:
    """The sheet rows `api.demo.load_demo` loads (the same seed and scale)."""
    return demo.generate_rows(seed=2030, scale=1)


def test_the_demo_store_holds_the_rows_worked_out_here(tmp_path):
    # Guards the premise of the strategy tests: load_demo's defaults are the rows read above.
    from api.store import EmbeddedStore

    assert load_demo(EmbeddedStore(None), make_settings()) == demo_rows()


def test_projects_per_strategy_goal_count_the_projects_of_each_goal_and_the_goals_below_it(musterstadt):
    goals = {row["id"]: row for row in demo_rows()["strategy"]}
    implementing: dict[str, set[str]] = defaultdict(set)
    titles = {}
    for project in demo_rows()["projects"]:
        titles[project["id"]] = project["title"]
        for goal in codes(project["strategy"]):
            while goal:  # the operational goal, its strategic goal, its guiding principle
                implementing[goal].add(project["id"])
                goal = goals[goal]["parent"]
    expected = set()
    for ident, goal in goals.items():
        head = (ident, LEVELS[goal["level"]], goal["title"], goal["parent"] or None, str(len(implementing[ident])))
        for project in implementing[ident] or {None}:
            expected.add((*head, project, titles.get(project)))
    columns = ("goal", "level", "goal_label", "parent", "projects", "project", "project_label")
    got = [tuple(row[c] for c in columns) for row in rows(musterstadt, "projects-per-strategy-goal")]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert sum(1 for g in goals if implementing[g]) > len(goals) // 2  # the test data does link projects
    assert [g[0] for g in got] == sorted(g[0] for g in got)


def test_projects_per_strategy_goal_of_one_goal(musterstadt):
    got = rows(musterstadt, "projects-per-strategy-goal", goal=f"{DEMO_BASE}strategy/sz-1-1")
    assert {r["goal"] for r in got} == {"sz-1-1"}
    assert len(got) == int(got[0]["projects"]) > 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_queries_never_return_a_person_or_an_address_even_to_staff(musterstadt, name):
    people = {f"{DEMO_BASE}person/{p['id']}" for p in demo_rows()["people"]}
    private = {p["name"] for p in demo_rows()["people"]} | {p["email"] for p in demo_rows()["people"]}
    query = registry()[name]
    result = musterstadt.query(query.sparql, include_internal=True)
    terms = [row[v.value] for row in result for v in result.variables]
    assert terms
    assert not {t.value for t in terms if isinstance(t, NamedNode)} & people
    assert not {t.value for t in terms if isinstance(t, Literal)} & private


# --- how they are offered -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_query_has_a_german_and_english_title_and_description(name):
    query = registry()[name]
    assert query.title.keys() == {"de", "en"} and all(query.title.values())
    assert {"de", "en"} <= set(query.description) and "examples" in query.tags


def test_the_examples_are_yasgui_tabs_under_their_german_titles_showing_every_row(musterstadt):
    tabs = {tab["name"]: tab["query"] for tab in example_tabs(registry())}
    for name in EXAMPLES:
        text = tabs[registry()[name].title["de"]]
        # Optional parameters stay unbound (all rows): the tab answers as the query does without parameters.
        assert len(list(musterstadt.query(text))) == len(rows(musterstadt, name)) > 0


def test_the_query_list_gives_the_titles_in_german_and_english(client):
    listed = {q["name"]: q for q in client.get("/queries").json()["queries"]}
    assert listed["department-partnerships"]["title"] == {
        "de": "Partnerschaften der Ämter",
        "en": "Departments' partnerships",
    }
    assert listed["sdg-goals"]["title"] == {"de": None, "en": None}
