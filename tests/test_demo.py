"""The Musterstadt demo generator: shape, determinism, referential integrity and the planted gaps."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from loaders.demo import (
    MUSTERSTADT_KEY,
    PLANTED_GAPS,
    SHEET_COLUMNS,
    administration_of,
    administrations,
    generate_rows,
    scaled_id,
)

CROSSWALK = Path(__file__).resolve().parents[1].parent / "shared/data/sdg/sdg-crosswalk.csv"
REPO_ROOT = Path(__file__).resolve().parents[1]
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
EMAIL = re.compile(r"[a-z][a-z.-]*[0-9]*@musterstadt\.example")

Rows = dict[str, list[dict[str, str]]]


@cache
def rows(scale: int = 1, seed: int = 2030) -> Rows:
    # Cached: many tests read the same output and none mutates it.
    return generate_rows(seed=seed, scale=scale)


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def sdg_codes(cell: str) -> list[str]:
    """SDG codes of a cell with the `SDG ` prefix some rows carry removed."""
    return [re.sub(r"^SDG\s*", "", code) for code in split(cell)]


def by_id(sheet: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in sheet}


def members(project: dict[str, str]) -> list[str]:
    return [project["lead_department"], *split(project["partner_departments"])]


def works_on(data: Rows) -> dict[str, set[str]]:
    """Department → SDG codes it works on (lead or partner of a project linking the code)."""
    result: dict[str, set[str]] = {}
    for project in data["projects"]:
        for dept in members(project):
            result.setdefault(dept, set()).update(sdg_codes(project["sdg"]))
    return result


def gaps(kind: str) -> list[dict]:
    return [gap for gap in PLANTED_GAPS if gap["kind"] == kind]


@cache
def crosswalk_codes() -> frozenset[str]:
    with CROSSWALK.open(encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle) if row["level"] in ("goal", "target"))


# (scale, copy, seed): the town itself, a district copy, a copy sharing the town's departments (scale 3 has
# two administrations) and other seeds — gaps must hold in all.
GAP_CASES = [(1, 1, 2030), (3, 1, 2030), (3, 3, 2030), (5, 5, 2030), (1, 1, 1), (2, 2, 99)]


def test_scale_one_has_about_a_dozen_departments_60_projects_100_datasets_40_people() -> None:
    data = rows()
    assert 12 <= len(data["departments"]) <= 16
    assert (len(data["projects"]), len(data["datasets"]), len(data["people"])) == (60, 100, 40)
    assert len(data["indicators"]) == 8


def test_strategy_has_3_leitlinien_6_strategic_and_12_operational_goals() -> None:
    levels = [row["level"] for row in rows()["strategy"]]
    assert [levels.count(level) for level in ("leitlinie", "strategisches_ziel", "operatives_ziel")] == [3, 6, 12]


def test_every_row_has_exactly_the_canonical_columns_with_string_values() -> None:
    for sheet, sheet_rows in rows().items():
        for row in sheet_rows:
            assert tuple(row) == SHEET_COLUMNS[sheet]
            assert all(isinstance(value, str) for value in row.values())


def test_same_seed_gives_identical_output() -> None:
    assert json.dumps(generate_rows(seed=7), sort_keys=False) == json.dumps(generate_rows(seed=7), sort_keys=False)


def test_output_does_not_depend_on_the_hash_seed() -> None:
    script = "import json; from loaders.demo import generate_rows; print(json.dumps(generate_rows(scale=2)))"
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "4242")
    ]
    assert outputs[0] == outputs[1] == json.dumps(generate_rows(scale=2)) + "\n"


def test_different_seed_gives_different_rows() -> None:
    assert generate_rows(seed=1) != generate_rows(seed=2)


def test_scale_three_has_three_times_the_projects_datasets_people_and_indicators() -> None:
    one, three = rows(), rows(3)
    for sheet in ("projects", "datasets", "people", "indicators"):
        assert len(three[sheet]) == 3 * len(one[sheet])


@pytest.mark.parametrize(("scale", "expected"), [(1, 1), (2, 2), (4, 2), (5, 3), (20, 5), (237, 16)])
def test_departments_grow_with_the_square_root_of_scale(scale: int, expected: int) -> None:
    assert administrations(scale) == expected
    town = len(rows()["departments"])
    # Each district brings the town's departments and a Bezirksverwaltung on top of them.
    assert len(rows(scale)["departments"]) == town + (expected - 1) * (town + 1)


def test_copies_sharing_an_administration_use_its_departments_and_stay_distinguishable() -> None:
    data = rows(5)  # three administrations: copies 1 and 4 in the town, 2 and 5 in the first district
    assert [administration_of(copy, 5) for copy in range(1, 6)] == [1, 2, 3, 1, 2]
    projects = by_id(data["projects"])
    assert (
        projects[scaled_id("radverkehrskonzept", 4)]["lead_department"]
        == projects["radverkehrskonzept"]["lead_department"]
    )
    assert projects[scaled_id("radverkehrskonzept", 5)]["lead_department"] == scaled_id(
        projects["radverkehrskonzept"]["lead_department"], 2
    )
    for sheet in ("projects", "datasets", "indicators"):
        titles = [row["title"] for row in data[sheet]]
        assert len(titles) == len(set(titles)), sheet


def test_scale_n_starts_with_the_scale_one_rows() -> None:
    one, three = rows(), rows(3)
    for sheet, sheet_rows in one.items():
        assert three[sheet][: len(sheet_rows)] == sheet_rows


def test_scale_zero_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate_rows(scale=0)


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_no_two_rows_share_an_id_within_a_sheet(scale: int) -> None:
    for sheet_rows in rows(scale).values():
        ids = [row["id"] for row in sheet_rows]
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_ids_are_slugs(scale: int) -> None:
    for sheet_rows in rows(scale).values():
        assert all(SLUG.fullmatch(row["id"]) for row in sheet_rows)


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_all_references_resolve(scale: int) -> None:
    data = rows(scale)
    departments, people = by_id(data["departments"]), by_id(data["people"])
    datasets, strategy = by_id(data["datasets"]), by_id(data["strategy"])
    operational = {sid for sid, row in strategy.items() if row["level"] == "operatives_ziel"}
    assert all(not row["parent"] or row["parent"] in departments for row in data["departments"])
    assert all(not row["parent"] or row["parent"] in strategy for row in data["strategy"])
    for sheet in ("people", "datasets", "indicators"):
        assert all(row["department"] in departments for row in data[sheet])
    for project in data["projects"]:
        assert all(dept in departments for dept in members(project))
        assert all(ds in datasets for ds in split(project["uses_datasets"]))
        assert set(split(project["strategy"])) <= operational
        assert not project["contact_person"] or project["contact_person"] in people


@pytest.mark.parametrize("sheet", ["departments", "strategy"])
def test_parent_chains_have_no_cycles(sheet: str) -> None:
    parents = {row["id"]: row["parent"] for row in rows(3)[sheet]}
    for start in parents:
        seen, node = set(), start
        while node:
            assert node not in seen
            seen.add(node)
            node = parents[node]


def test_strategy_levels_nest_leitlinie_over_strategic_over_operational_goals() -> None:
    strategy = by_id(rows()["strategy"])
    expected_parent = {"leitlinie": "", "strategisches_ziel": "leitlinie", "operatives_ziel": "strategisches_ziel"}
    for row in strategy.values():
        parent_level = strategy[row["parent"]]["level"] if row["parent"] else ""
        assert parent_level == expected_parent[row["level"]]


def test_contact_persons_belong_to_the_lead_department() -> None:
    people = by_id(rows()["people"])
    for project in rows()["projects"]:
        if project["contact_person"]:
            assert people[project["contact_person"]]["department"] == project["lead_department"]


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_dates_are_iso_and_end_is_not_before_start(scale: int) -> None:
    for project in rows(scale)["projects"]:
        start = date.fromisoformat(project["start"])
        if project["end"]:
            assert date.fromisoformat(project["end"]) >= start
    for dataset in rows(scale)["datasets"]:
        date.fromisoformat(dataset["modified"])


@pytest.mark.skipif(not CROSSWALK.is_file(), reason=f"needs the official SDG crosswalk at {CROSSWALK}")
def test_sdg_codes_are_valid_against_the_crosswalk() -> None:
    data = rows(3)
    for sheet in ("projects", "datasets", "indicators", "strategy"):
        for row in data[sheet]:
            assert set(sdg_codes(row["sdg"])) <= crosswalk_codes(), (sheet, row["id"], row["sdg"])


def test_sdg_cells_mix_plain_and_prefixed_codes_and_some_projects_link_a_goal_only() -> None:
    cells = [project["sdg"] for project in rows()["projects"]]
    assert any("SDG " in cell for cell in cells)
    assert any(re.fullmatch(r"(SDG )?\d+\.\w+", split(cell)[0]) for cell in cells)
    assert any(all("." not in code for code in sdg_codes(cell)) for cell in cells)


def test_categorical_dataset_fields_use_the_controlled_vocabularies() -> None:
    themes = {"AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"}
    for dataset in rows()["datasets"]:
        assert dataset["theme"] in themes
        assert dataset["format"] in {"CSV", "JSON", "XLSX", "GEOJSON", "PDF", "SHP", "WMS_SRVC"}
        assert dataset["frequency"] in {"ANNUAL", "MONTHLY", "QUARTERLY", "DAILY", "IRREG", "CONT"}
        assert dataset["public"] in {"yes", "no"}
        assert dataset["license"] in {"dl-by-de/2.0", "dl-zero-de/2.0", "cc-by/4.0", "cc-zero"}


def test_project_status_is_planned_running_or_completed_and_fits_the_dates() -> None:
    for project in rows()["projects"]:
        assert project["status"] in {"planned", "running", "completed"}
        if project["status"] == "completed":
            assert project["end"] and project["end"] < "2025-06-30"
        if project["status"] == "planned":
            assert project["start"] > "2025-06-30"


def test_about_80_percent_of_datasets_are_public() -> None:
    public = [dataset["public"] for dataset in rows()["datasets"]].count("yes")
    assert 70 <= public <= 90


def test_indicators_have_numeric_values_for_every_year_2018_to_2024() -> None:
    years = [str(year) for year in range(2018, 2025)]
    for indicator in rows(3)["indicators"]:
        assert all(re.fullmatch(r"\d+(\.\d+)?", indicator[year]) for year in years)


def test_people_have_unique_fictional_mailboxes_and_test_phone_numbers() -> None:
    people = rows(20)["people"]
    emails = [person["email"] for person in people]
    assert len(emails) == len(set(emails))
    assert all(EMAIL.fullmatch(email) for email in emails)
    assert all(person["phone"].startswith("+49 9999 ") for person in people)


def test_departments_have_a_functional_mailbox() -> None:
    for dept in rows()["departments"]:
        assert dept["email"] == f"{dept['id']}@musterstadt.example"


def test_some_departments_are_nested_under_a_fachbereich() -> None:
    departments = by_id(rows()["departments"])
    assert departments["tiefbauamt"]["parent"].startswith("fb-")


def test_municipality_key_is_an_eight_digit_ags() -> None:
    assert re.fullmatch(r"(0[1-9]|1[0-6])\d{6}", MUSTERSTADT_KEY)


def test_radweg_appears_in_a_project_title_or_description() -> None:
    assert any("Radweg" in project["title"] + project["description"] for project in rows()["projects"])


@pytest.mark.parametrize(("scale", "copy", "seed"), GAP_CASES)
def test_missing_bridge_departments_share_a_target_but_no_project(scale: int, copy: int, seed: int) -> None:
    data = rows(scale, seed)
    targets = works_on(data)
    for gap in gaps("missing_bridge"):
        first, second = (scaled_id(dept, administration_of(copy, scale)) for dept in gap["departments"])
        assert gap["target"] in targets[first] & targets[second]
        assert not any({first, second} <= set(members(project)) for project in data["projects"])


@pytest.mark.parametrize(("scale", "copy", "seed"), GAP_CASES)
def test_unused_dataset_shares_the_target_but_the_project_does_not_use_it(scale: int, copy: int, seed: int) -> None:
    data = rows(scale, seed)
    projects, datasets = by_id(data["projects"]), by_id(data["datasets"])
    for gap in gaps("unused_dataset"):
        project, dataset = projects[scaled_id(gap["project"], copy)], datasets[scaled_id(gap["dataset"], copy)]
        assert gap["target"] in sdg_codes(project["sdg"])
        assert gap["target"] in sdg_codes(dataset["sdg"])
        assert dataset["id"] not in split(project["uses_datasets"])
        # The gap is cross-department: the data's owner is not involved in the project.
        assert dataset["department"] not in members(project)


@pytest.mark.parametrize("scale", [1, 3, 5])
def test_unmeasured_project_targets_are_touched_by_no_dataset_or_indicator(scale: int) -> None:
    data = rows(scale)
    projects = by_id(data["projects"])
    measured = {code for sheet in ("datasets", "indicators") for row in data[sheet] for code in sdg_codes(row["sdg"])}
    for gap in gaps("unmeasured_project"):
        assert gap["target"] in sdg_codes(projects[gap["project"]]["sdg"])
        assert gap["target"] not in measured


def test_blind_spots_are_exactly_the_indicator_targets_no_project_works_on() -> None:
    data = rows()
    indicators = by_id(data["indicators"])
    worked_on = set().union(*works_on(data).values())
    indicator_targets = {code for row in data["indicators"] for code in sdg_codes(row["sdg"])}
    planted = gaps("blind_spot")
    assert {gap["target"] for gap in planted} == indicator_targets - worked_on
    for gap in planted:
        assert gap["target"] in sdg_codes(indicators[gap["indicator"]]["sdg"])


@pytest.mark.parametrize(("scale", "copy", "seed"), GAP_CASES)
def test_silo_department_shares_no_project_with_another_department(scale: int, copy: int, seed: int) -> None:
    data = rows(scale, seed)
    for gap in gaps("silo_department"):
        silo = scaled_id(gap["department"], administration_of(copy, scale))
        involved = [project for project in data["projects"] if silo in members(project)]
        assert involved
        assert all(members(project) == [silo] for project in involved)
