"""The `querschnitt` command line, run in-process with typer's runner."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import httpx
import openpyxl
import pytest
from ods_files import xlsx_as_ods
from pyoxigraph import RdfFormat, parse
from typer.testing import CliRunner

import api
import loaders
from api.app import create_app
from api.cli import app
from api.settings import Settings
from api.store import open_store
from api.testing import EDITOR_TOKEN, READER_TOKEN, LiveServer, make_settings
from loaders.demo import MUSTERSTADT_KEY, generate_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "store"
    result = run("demo", "--store", path)
    assert result.exit_code == 0, result.output
    return path


def nquads(path: Path, *extra: str) -> bytes:
    result = runner.invoke(app, ["export", "--store", str(path), *extra])
    assert result.exit_code == 0, result.output
    # The metadata entries carry load times; the data is what these tests compare.
    lines = [line for line in result.stdout_bytes.splitlines() if not line.endswith(b"<urn:querschnitt:meta> .")]
    return b"\n".join(sorted(lines))


def test_imported_packages_are_this_checkout():
    assert Path(api.__file__).resolve().parent == ROOT / "api"
    assert Path(loaders.__file__).resolve().parent == ROOT / "loaders"


def test_every_setting_is_documented_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(QUERSCHNITT_[A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == {f"QUERSCHNITT_{name.upper()}" for name in Settings.model_fields}


@pytest.mark.parametrize("command", sorted(c.name or c.callback.__name__ for c in app.registered_commands))
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_every_command_is_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in app.registered_commands:
        assert f"| `{command.name or command.callback.__name__.replace('_', '-')}` |" in readme


def test_init_loads_the_sdg_taxonomy(tmp_path):
    assert run("init", "--store", tmp_path / "s").exit_code == 0
    result = run(
        "query",
        "--store",
        tmp_path / "s",
        "--format",
        "csv",
        "SELECT (COUNT(*) AS ?n) { ?t a <http://metadata.un.org/sdg/ontology#Target> }",
    )
    assert result.stdout.splitlines()[1] == "169"


def test_demo_loads_public_and_internal_graphs(demo_store):
    graphs = [g for g in open_store(str(demo_store), read_only=True).graphs() if g.loader != "api.derived"]
    assert {(g.iri.rsplit("/", 1)[1], g.visibility.value) for g in graphs} == {
        ("sdg", "public"),
        ("demo", "public"),
        ("demo-internal", "internal"),
    }


def test_the_demo_is_byte_identical_for_the_same_seed(demo_store, tmp_path):
    assert run("demo", "--store", tmp_path / "again").exit_code == 0
    assert nquads(tmp_path / "again") == nquads(demo_store)


def test_the_demo_data_conforms_to_the_shapes(demo_store):
    result = run("validate", "--store", demo_store)
    assert result.exit_code == 0, result.output


def test_query_runs_a_named_query_with_a_parameter(demo_store):
    result = run("query", "sdg-goals", "-p", "lang", "en", "--format", "csv", "--store", demo_store)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (len(rows), rows[10]["label"]) == (17, "Sustainable cities and communities")


def test_query_refuses_an_unknown_parameter_naming_it(demo_store):
    result = run("query", "sdg-goals", "-p", "colour", "red", "--store", demo_store)
    assert result.exit_code == 1
    assert "colour" in result.output


def test_query_reports_bad_sparql_with_its_position(demo_store):
    result = run("query", "SELECT ?x WHERE { ?x ?y }", "--store", demo_store)
    assert result.exit_code == 1
    assert re.search(r"1:\d+", result.output)


def test_query_reads_a_query_file(demo_store, tmp_path):
    query = tmp_path / "count.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) { ?d a <http://www.w3.org/ns/dcat#Dataset> }")
    result = run("query", query, "--format", "json", "--store", demo_store)
    assert json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"] == "100"


def test_construct_results_print_as_turtle(demo_store):
    result = run(
        "query",
        "CONSTRUCT WHERE { ?g <https://w3id.org/querschnitt/def#colour> ?c }",
        "--format",
        "ttl",
        "--store",
        demo_store,
    )
    assert len(list(parse(result.stdout_bytes, RdfFormat.TURTLE))) == 17


def test_construct_results_print_as_compact_json_ld_with_the_projects_context(demo_store):
    result = run(
        "query",
        "CONSTRUCT WHERE { ?g <https://w3id.org/querschnitt/def#colour> ?c }",
        "--format",
        "jsonld",
        "--store",
        demo_store,
    )
    document = json.loads(result.stdout)
    assert document["@context"]["qs"] == "https://w3id.org/querschnitt/def#"
    assert {node["colour"] for node in document["@graph"]} >= {"#E5243B"}
    assert len(list(parse(result.stdout_bytes, RdfFormat.JSON_LD))) == 17


def test_graphs_lists_every_source_graph(demo_store):
    result = run("graphs", "--store", demo_store)
    assert result.exit_code == 0
    assert "internal" in result.output and "public" in result.output


def test_public_export_contains_no_personal_data(demo_store):
    public = nquads(demo_store, "--public-only").decode()
    people = generate_rows()["people"]
    leaks = [p[key] for p in people for key in ("name", "email") if p[key] in public]
    assert leaks == []
    assert "http://xmlns.com/foaf/0.1/Person" not in public and "<tel:" not in public


def test_full_export_contains_the_people(demo_store):
    assert b"http://xmlns.com/foaf/0.1/Person" in nquads(demo_store)


def test_loading_a_broken_turtle_file_names_the_line_and_changes_nothing(demo_store, tmp_path):
    store = tmp_path / "store"
    run("demo", "--store", store)
    before = nquads(store)
    bad = tmp_path / "demo.ttl"
    bad.write_text("<http://a> <http://b> <http://c> .\n<http://a> <http://b> \n")
    result = run("load", bad, "--store", store)
    assert result.exit_code == 1
    assert "demo.ttl" in result.output and "line 3" in result.output
    assert nquads(store) == before


def test_loading_rdf_replaces_its_graph_on_reload(tmp_path):
    store = tmp_path / "store"
    data = tmp_path / "extra.ttl"
    data.write_text("<http://ex/a> <http://ex/p> 1 .\n")
    run("load", data, "--store", store)
    data.write_text("<http://ex/a> <http://ex/p> 2 .\n")
    assert run("load", data, "--store", store).exit_code == 0
    # Every store holds the SDG taxonomy too (whose goal notations include "1"): look at ex:p only.
    assert b'<http://ex/p> "2"' in nquads(store) and b'<http://ex/p> "1"' not in nquads(store)


def source_graphs(store: Path) -> dict[str, str]:
    """Graph IRI → visibility of the store's source graphs (the derived ones aside)."""
    infos = open_store(str(store), read_only=True).graphs()
    return {g.iri: g.visibility.value for g in infos if g.loader not in ("api.derived", "sdg-taxonomy")}


def anonymous_values(store: Path, query: str) -> set[str]:
    rows = open_store(str(store), read_only=True).query(query, include_internal=False)
    return {term.value for row in rows for term in row}


def test_loading_nquads_renames_their_graphs_under_the_source_name(tmp_path):
    data = tmp_path / "dump.nq"
    data.write_text(
        "<http://ex/a> <http://ex/p> <http://ex/o> <http://ex/g1> .\n"
        "<http://ex/a> <http://ex/p> <http://ex/o> <http://ex/g2> .\n"
    )
    assert run("load", data, "--store", tmp_path / "s", "--public").exit_code == 0
    base = make_settings().graph_iri("dump")
    assert source_graphs(tmp_path / "s") == {f"{base}/g1": "public", f"{base}/g2": "public"}


def test_an_export_loaded_back_publishes_no_personal_data(demo_store, tmp_path):
    export = tmp_path / "all.nq"
    assert run("export", "-o", export, "--store", demo_store).exit_code == 0
    result = run("load", export, "--store", tmp_path / "copy")
    assert result.exit_code == 0, result.output
    people = "SELECT ?x { { ?p a <http://xmlns.com/foaf/0.1/Person> BIND(?p AS ?x) } UNION { ?s <http://xmlns.com/foaf/0.1/phone> ?x } }"
    assert anonymous_values(tmp_path / "copy", people) == set()
    assert anonymous_values(demo_store, "SELECT ?p { ?p a <http://www.w3.org/ns/dcat#Dataset> }") == anonymous_values(
        tmp_path / "copy", "SELECT ?p { ?p a <http://www.w3.org/ns/dcat#Dataset> }"
    )


def test_an_export_records_each_graphs_visibility_and_loading_restores_it(demo_store, tmp_path):
    export = tmp_path / "all.trig"
    assert run("export", "-o", export, "-f", "trig", "--store", demo_store).exit_code == 0
    assert run("load", export, "--name", "copy", "--store", tmp_path / "copy").exit_code == 0
    original = {iri.rsplit("/", 1)[-1]: v for iri, v in source_graphs(demo_store).items()}
    restored = {iri.rsplit("/", 1)[-1]: v for iri, v in source_graphs(tmp_path / "copy").items()}
    assert restored == original and "internal" in restored.values() and "public" in restored.values()


def test_a_quad_file_cannot_overwrite_another_sources_graph(demo_store, tmp_path):
    store = tmp_path / "store"
    run("demo", "--store", store)
    before = {iri: v for iri, v in source_graphs(store).items()}
    internal = next(iri for iri, v in before.items() if iri.endswith("-internal"))
    foreign = tmp_path / "foreign.nq"
    foreign.write_text(f"<http://ex/a> <http://ex/p> <http://ex/o> <{internal}> .\n")
    result = run("load", foreign, "--store", store, "--public")
    assert result.exit_code == 0, result.output
    after = source_graphs(store)
    renamed = make_settings().graph_iri("foreign") + "/" + internal.rsplit("/", 1)[-1]
    assert after[internal] == "internal" and after[renamed] == "internal"
    assert "named *-internal" in result.output


def test_a_quad_file_without_recorded_visibility_loads_internal(tmp_path):
    data = tmp_path / "dump.nq"
    data.write_text("<http://ex/a> <http://ex/p> <http://ex/o> <http://ex/g1> .\n")
    result = run("load", data, "--store", tmp_path / "s")
    assert result.exit_code == 0
    assert set(source_graphs(tmp_path / "s").values()) == {"internal"}
    assert "--public" in result.output


def test_a_public_rdf_file_with_people_is_refused_and_changes_nothing(tmp_path):
    store = tmp_path / "store"
    run("init", "--store", store)
    before = nquads(store)
    people = tmp_path / "staff.ttl"
    people.write_text(
        "<http://ex/erika> a <http://xmlns.com/foaf/0.1/Person> ; <http://xmlns.com/foaf/0.1/mbox> <mailto:erika@ex.de> .\n"
    )
    result = run("load", people, "--store", store)
    assert result.exit_code == 1
    assert "personal data" in result.output and "http://ex/erika" in result.output
    assert nquads(store) == before
    assert run("load", people, "--internal", "--store", store).exit_code == 0


def test_cli_messages_print_brackets_literally(tmp_path):
    bad = tmp_path / "LAYER[zoom]=1.ttl"
    bad.write_text("<http://a> <http://b> \n")
    result = run("load", bad, "--store", tmp_path / "s")
    assert result.exit_code == 1
    assert "LAYER[zoom]=1.ttl" in result.output


def test_loading_a_workbook_with_an_error_writes_nothing_and_names_the_cell(demo_store, tmp_path):
    store = tmp_path / "store"
    run("init", "--store", store)
    before = nquads(store)
    workbook = tmp_path / "kleinstadt.xlsx"
    run("template", workbook)
    book = openpyxl.load_workbook(workbook)
    sheet = next(s for s in book.worksheets if s.title in ("Projekte", "projects"))
    sheet.append(["p1", "Radweg", "", "tiefbauamt"])
    book.save(workbook)
    result = run("load", workbook, "--store", store)
    assert result.exit_code == 1
    assert "row 2" in result.output and "tiefbauamt" in result.output
    assert nquads(store) == before


def test_loading_the_demo_workbook_gives_the_same_graph_as_the_demo(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("QUERSCHNITT_MUNICIPALITY_KEY", MUSTERSTADT_KEY)
    store = tmp_path / "store"
    run("demo", "--store", store, "--sheets", tmp_path / "musterstadt.xlsx")
    result = run("load", tmp_path / "musterstadt.xlsx", "--name", "demo", "--store", store)
    assert result.exit_code == 0, result.output
    assert nquads(store, "--public-only") == nquads(demo_store, "--public-only")


def test_loading_the_demo_saved_as_ods_gives_the_same_graph_as_the_demo(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("QUERSCHNITT_MUNICIPALITY_KEY", MUSTERSTADT_KEY)
    store = tmp_path / "store"
    run("demo", "--store", store, "--sheets", tmp_path / "musterstadt.xlsx")
    workbook = xlsx_as_ods(tmp_path / "musterstadt.xlsx", tmp_path / "musterstadt.ods")
    result = run("load", workbook, "--name", "demo", "--store", store)
    assert result.exit_code == 0, result.output
    assert nquads(store, "--public-only") == nquads(demo_store, "--public-only")


def test_template_writes_a_workbook_with_a_help_sheet(tmp_path):
    assert run("template", tmp_path / "vorlage.xlsx").exit_code == 0
    assert "Hilfe" in openpyxl.load_workbook(tmp_path / "vorlage.xlsx").sheetnames


@pytest.mark.parametrize("name", ["vorlage.ods", "vorlage"])
def test_template_refuses_other_targets_than_an_xlsx_workbook_and_writes_nothing(tmp_path, name):
    result = run("template", tmp_path / name)
    assert result.exit_code == 2 and ".xlsx" in result.output
    assert list(tmp_path.iterdir()) == []


def test_backup_writes_a_copy_with_the_same_content(demo_store, tmp_path):
    store = tmp_path / "store"
    run("demo", "--store", store)
    assert run("backup", tmp_path / "copy", "--store", store).exit_code == 0
    assert nquads(tmp_path / "copy") == nquads(store)


def test_writing_commands_say_in_one_line_that_a_server_holds_the_store(tmp_path):
    holder = open_store(str(tmp_path / "store"))
    result = run("init", "--store", tmp_path / "store")
    assert result.exit_code == 3
    assert "in use by another process" in result.output and "--server" in result.output
    assert "Traceback" not in result.output
    holder.flush()


def test_reading_commands_fall_back_to_a_snapshot_when_a_server_holds_the_store(tmp_path):
    run("init", "--store", tmp_path / "store")
    holder = open_store(str(tmp_path / "store"))
    result = run("graphs", "--store", tmp_path / "store")
    assert result.exit_code == 0
    assert "sdg" in result.output
    holder.flush()


@pytest.mark.skipif(not (SHARED / "sdg").is_dir(), reason="needs ../shared/data/sdg (official SDG texts)")
def test_sdg_texts_adds_german_definitions(tmp_path):
    store = tmp_path / "store"
    run("init", "--store", store)
    result = run("sdg-texts", "--translations", SHARED / "sdg" / "open-sdg-translations", "--store", store)
    assert result.exit_code == 0, result.output
    answer = run(
        "query",
        "--format",
        "csv",
        "--store",
        store,
        'SELECT ?d { <http://metadata.un.org/sdg/11.2> <http://www.w3.org/2004/02/skos/core#definition> ?d FILTER(LANG(?d) = "de") }',
    )
    assert "Verkehrssystemen" in answer.stdout


def test_load_with_server_sends_the_graphs_to_a_running_server(tmp_path):
    store = open_store("memory")
    with LiveServer(create_app(make_settings(), store=store)) as server:
        result = run(
            "load",
            ROOT / "tests" / "data" / "staff" / "good",
            "--name",
            "kleinstadt",
            "--server",
            server.url,
            "--token",
            EDITOR_TOKEN,
        )
        assert result.exit_code == 0, result.output
        public = {g.iri.rsplit("/", 1)[1]: g.visibility.value for g in store.graphs() if g.loader == "graph-store"}
    assert public == {"kleinstadt": "public", "kleinstadt-internal": "internal"}


def test_load_with_server_mints_iris_with_the_servers_settings(tmp_path):
    other = "https://anderstadt.example/id/"
    store = open_store("memory")
    settings = make_settings(base_iri=other, municipality_name="Anderstadt")
    with LiveServer(create_app(settings, store=store)) as server:
        result = run(
            "load", ROOT / "tests" / "data" / "staff" / "good", "--server", server.url, "--token", EDITOR_TOKEN
        )
        assert result.exit_code == 0, result.output
    graphs = {g.iri for g in store.graphs() if g.loader == "graph-store"}
    assert graphs and all(g.startswith(other + "graph/") for g in graphs)
    subjects = {row["s"].value for row in store.query("SELECT DISTINCT ?s { ?s ?p ?o FILTER(isIRI(?s)) }")}
    assert any(s.startswith(other) for s in subjects)
    assert not any(s.startswith(make_settings().base_iri) for s in subjects)
    names = {
        row["n"].value
        for row in store.query(
            "SELECT ?n { ?m a <http://www.w3.org/ns/org#FormalOrganization> ; <http://xmlns.com/foaf/0.1/name> ?n }"
        )
    }
    assert names == {"Anderstadt"}


def test_a_graph_store_write_minted_for_another_base_is_refused(tmp_path):
    store = open_store("memory")
    with LiveServer(create_app(make_settings(), store=store)) as server:
        answer = httpx.put(
            f"{server.url}/graphs",
            params={"graph": make_settings().graph_iri("x"), "minted_for": "https://elsewhere.example/id/"},
            content=b"<http://ex/a> <http://ex/p> <http://ex/o> .",
            headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {EDITOR_TOKEN}"},
        )
    assert answer.status_code == 409 and "elsewhere.example" in answer.text
    assert store.graphs() == [] or all(g.loader != "graph-store" for g in store.graphs())


def test_load_with_server_and_a_reader_token_is_refused_and_writes_nothing(tmp_path):
    store = open_store("memory")
    with LiveServer(create_app(make_settings(), store=store)) as server:
        result = run(
            "load", ROOT / "tests" / "data" / "staff" / "good", "--server", server.url, "--token", READER_TOKEN
        )
    assert result.exit_code == 3
    assert "403" in result.output
    assert [g for g in store.graphs() if g.loader == "graph-store"] == []


def test_serve_refuses_several_workers_on_an_embedded_store(tmp_path):
    result = run("serve", "--workers", "2", "--store", tmp_path / "store")
    assert result.exit_code == 2
    assert "remote store" in result.output


def test_a_store_url_that_does_not_answer_is_reported_in_one_line(tmp_path):
    result = run("graphs", "--store", "http://127.0.0.1:9/sparql")
    assert result.exit_code == 3
    assert "Traceback" not in result.output and "127.0.0.1:9" in result.output


def test_export_sheets_round_trips_the_demo_through_a_workbook(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("QUERSCHNITT_MUNICIPALITY_KEY", MUSTERSTADT_KEY)
    assert run("export", "--sheets", tmp_path / "back.xlsx", "--store", demo_store).exit_code == 0
    store = tmp_path / "store"
    run("init", "--store", store)
    result = run("load", tmp_path / "back.xlsx", "--name", "demo", "--store", store)
    assert result.exit_code == 0, result.output
    assert nquads(store, "--public-only") == nquads(demo_store, "--public-only")


def test_a_harvest_of_ckan_plain_json_is_refused_and_keeps_the_harvested_source(tmp_path):
    store = tmp_path / "store"
    catalog = ROOT / "tests" / "data" / "dcat" / "catalog.rdf"
    assert run("load", catalog, "--dcat", "--name", "portal", "--store", store).exit_code == 0
    before = nquads(store)
    ckan = tmp_path / "catalog.json"
    ckan.write_text('{"success": true, "result": {"count": 1, "results": [{"name": "radwege"}]}}')
    result = run("load", ckan, "--dcat", "--name", "portal", "--store", store)
    assert result.exit_code == 1 and "dcat:Dataset" in result.output
    assert nquads(store) == before


def test_loader_messages_keep_their_brackets(tmp_path):
    folder = tmp_path / "kleinstadt"
    folder.mkdir()
    for source in (ROOT / "tests" / "data" / "staff" / "good").glob("*.csv"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    projects = folder / "projects.csv"
    projects.write_text(
        projects.read_text(encoding="utf-8").replace(";66;", ";Amt [alt] LAYER[zoom]=1;", 1), encoding="utf-8"
    )
    result = run("load", folder, "--store", tmp_path / "s")
    assert result.exit_code == 1
    assert "Amt [alt] LAYER[zoom]=1" in result.output
