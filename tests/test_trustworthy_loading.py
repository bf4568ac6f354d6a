"""Loading never silently loses, duplicates or empties data, and a report that cannot be right says so
(the SDG taxonomy in every store, notes beside the gap reports, refused removals and duplicates,
identical reloads).

The CLI runs in-process on an embedded store on disk and on the throw-away Virtuoso (`store_arg`); the JSON
facade on both backends (`backend`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kleinstadt import fill_kleinstadt
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.demo import install_sdg_taxonomy
from api.testing import make_settings

ROOT = Path(__file__).resolve().parents[1]
KLEINSTADT_DIR = ROOT / "tests" / "data" / "gaps" / "kleinstadt"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(params=["embedded", "virtuoso"])
def store_arg(request, tmp_path: Path, monkeypatch) -> str:
    """`--store` of a new, empty store: a directory on disk, or the wiped Virtuoso."""
    if request.param == "embedded":
        return str(tmp_path / "new-store")
    virtuoso = request.getfixturevalue("virtuoso")
    request.getfixturevalue("virtuoso_backend").new()
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("QUERSCHNITT_REMOTE_UPDATE_URL", virtuoso.update_url)
    monkeypatch.setenv("QUERSCHNITT_REMOTE_GSP_URL", virtuoso.gsp_url)
    monkeypatch.setenv("QUERSCHNITT_REMOTE_USER", "dba")
    monkeypatch.setenv("QUERSCHNITT_REMOTE_PASSWORD", "dba")
    return virtuoso.sparql_url


def gaps(store, path: str = "/api/gaps") -> dict:
    with TestClient(create_app(make_settings(), store=store)) as client:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()


# -- 1. the SDG taxonomy in every store; reports that cannot be right say so ---------------------------


def test_a_first_load_into_a_new_store_gives_gap_reports_with_rows(store_arg):
    assert run("load", KLEINSTADT_DIR, "--store", store_arg).exit_code == 0
    result = run("query", "missing-bridges", "--store", store_arg, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) > 1


def test_a_target_level_report_without_target_links_says_so_and_exits_1(store_arg):
    assert run("init", "--store", store_arg).exit_code == 0
    result = run("query", "missing-bridges", "--store", store_arg)
    assert result.exit_code == 1
    assert "SDG-Unterziel" in result.output and "cannot be right" in result.output


def test_the_json_overview_of_a_store_without_taxonomy_has_a_blocking_note(backend):
    notes = gaps(backend.new(derived=True))["notes"]
    assert [(n["code"], n["blocking"]) for n in notes] == [("no-sdg-taxonomy", True)]


def test_the_json_report_without_target_links_has_a_blocking_note(backend):
    store = backend.new(derived=True)
    install_sdg_taxonomy(store, make_settings())
    report = gaps(store, "/api/gaps/missing-bridges")
    assert report["rows"] == []
    assert [(n["code"], n["blocking"]) for n in report["notes"]] == [("no-target-links", True)]


# -- 8. links to a goal only: a note beside the target-level reports -----------------------------------


def test_target_level_reports_count_the_projects_linked_only_to_a_goal(backend):
    store = backend.shared("kleinstadt", fill_kleinstadt, derived=True)
    (note,) = gaps(store, "/api/gaps/unmeasured-projects")["notes"]
    assert (note["code"], note["blocking"], note["count"]) == ("goal-only", False, 1)


def test_a_goal_level_report_has_no_goal_only_note(backend):
    store = backend.shared("kleinstadt", fill_kleinstadt, derived=True)
    assert gaps(store, "/api/gaps/silo-departments")["notes"] == []


def test_the_cli_prints_the_goal_only_note_beside_the_rows(tmp_path):
    store = tmp_path / "store"
    assert run("load", KLEINSTADT_DIR, "--store", store).exit_code == 0
    result = run("query", "unmeasured-projects", "--store", store, "--format", "csv")
    assert result.exit_code == 0
    assert "1 project(s)" in result.output and "Nur mit einem SDG-Ziel" in result.output


# -- 2, 3, 4, 10: what a load would change is checked before anything is written -----------------------


def export(store_arg: str) -> list[bytes]:
    result = run("export", "--store", store_arg)
    assert result.exit_code == 0, result.output
    return sorted(result.stdout_bytes.splitlines())


def metadata(store_arg: str) -> str:
    result = run("graphs", "--store", store_arg)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """A copy of Kleinstadt's CSV folder that a test may change."""
    folder = tmp_path / "talheim"
    folder.mkdir()
    for csv_file in KLEINSTADT_DIR.iterdir():
        (folder / csv_file.name).write_bytes(csv_file.read_bytes())
    return folder


def keep_rows(csv_file: Path, rows: int) -> None:
    lines = csv_file.read_text(encoding="utf-8").splitlines(keepends=True)
    csv_file.write_text("".join(lines[: rows + 1]), encoding="utf-8")


def test_a_replacement_removing_most_projects_is_refused_with_a_summary(store_arg, town):
    assert run("load", town, "--store", store_arg).exit_code == 0
    before = export(store_arg)
    keep_rows(town / "projects.csv", 2)
    result = run("load", town, "--store", store_arg)
    assert result.exit_code == 1
    assert "Project: 8 → +0 added / ~0 changed / -6 removed" in result.output and "--allow-removals" in result.output
    assert export(store_arg) == before


def test_allow_removals_lets_the_replacement_through(store_arg, town):
    assert run("load", town, "--store", store_arg).exit_code == 0
    keep_rows(town / "projects.csv", 2)
    assert run("load", town, "--store", store_arg, "--allow-removals").exit_code == 0
    assert sum(b"#type> <https://w3id.org/querschnitt/def#Project>" in line for line in export(store_arg)) == 2


def test_a_dry_run_prints_the_summary_and_writes_nothing(store_arg, town):
    assert run("load", town, "--store", store_arg).exit_code == 0
    before = export(store_arg)
    (town / "projects.csv").write_text(
        (town / "projects.csv").read_text(encoding="utf-8").replace("Radweg", "Radschnellweg"), encoding="utf-8"
    )
    result = run("load", town, "--store", store_arg, "--dry-run")
    assert result.exit_code == 0
    assert "Project: 8 → +0 added / ~1 changed / -0 removed" in result.output and "nothing written" in result.output
    assert export(store_arg) == before


def test_the_same_source_under_another_name_is_refused_naming_the_first(store_arg, town, tmp_path):
    assert run("load", town, "--store", store_arg).exit_code == 0
    before = export(store_arg)
    copy = tmp_path / "talheim-kopie"
    town.rename(copy)
    result = run("load", copy, "--store", store_arg)
    assert result.exit_code == 1
    assert "graph/talheim" in result.output and "--name talheim" in result.output
    assert export(store_arg) == before


def test_a_source_that_only_adds_statements_to_another_sources_entity_is_welcome(store_arg, town, tmp_path):
    assert run("load", town, "--store", store_arg).exit_code == 0
    extra = tmp_path / "enrichment.ttl"
    extra.write_text(
        "<https://musterstadt.example/id/project/radweg> <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
        "<https://example.org/radweg> .\n"
    )
    assert run("load", extra, "--store", store_arg).exit_code == 0


def test_a_json_file_without_rdf_is_refused_and_keeps_the_graph(store_arg, tmp_path):
    data = tmp_path / "extra.ttl"
    data.write_text("<http://ex/a> <http://ex/p> 1 .\n")
    assert run("load", data, "--store", store_arg, "--name", "extra").exit_code == 0
    before = export(store_arg)
    plain = tmp_path / "extra.json"
    plain.write_text('{"a": 1}')
    result = run("load", plain, "--store", store_arg, "--name", "extra")
    assert result.exit_code == 1 and "no RDF statement" in result.output
    assert export(store_arg) == before


def test_reloading_an_identical_source_changes_nothing(store_arg, town):
    assert run("load", town, "--store", store_arg).exit_code == 0
    before, listed = export(store_arg), metadata(store_arg)
    result = run("load", town, "--store", store_arg)
    assert result.exit_code == 0 and "unchanged" in result.output
    assert export(store_arg) == before and metadata(store_arg) == listed


def derived_quads(store) -> set[str]:
    from api.derived import DERIVED_GRAPHS

    graphs = " ".join(map(str, DERIVED_GRAPHS))
    query = f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} VALUES ?g {{ {graphs} }} }}"
    return {" ".join(str(row[v]) for v in ("g", "s", "p", "o")) for row in store.query(query, include_internal=True)}


def test_rewriting_a_source_with_the_same_content_leaves_the_derived_graphs_as_they_were(backend):
    from kleinstadt import KLEINSTADT_GRAPH, KLEINSTADT_INTERNAL_GRAPH, kleinstadt_graphs

    from api.demo import visibility_of

    store = backend.new(derived=True)
    install_sdg_taxonomy(store, make_settings())
    graphs = kleinstadt_graphs()

    def write() -> None:
        store.replace_graphs(
            [*graphs[KLEINSTADT_GRAPH], *graphs[KLEINSTADT_INTERNAL_GRAPH]],
            visibility={g: visibility_of(g) for g in (KLEINSTADT_GRAPH, KLEINSTADT_INTERNAL_GRAPH)},
            source="kleinstadt",
            loader="staff-sheets",
            checksum="sha256:0",
        )

    write()
    first = derived_quads(store)
    write()
    assert derived_quads(store) == first


def test_an_app_that_opens_its_own_store_installs_the_sdg_taxonomy(tmp_path):
    settings = make_settings(store=str(tmp_path / "served"))
    with TestClient(create_app(settings)) as client:
        graphs = client.get("/api/graphs").json()
    assert settings.graph_iri("sdg") in str(graphs)
