"""SDG target suggestions: the engine, `querschnitt suggest` and `POST /api/suggest`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.store import EmbeddedStore, Visibility
from api.suggest_routes import store_examples, store_official_texts, suggester_for
from api.testing import make_settings
from loaders.vocab import DCT, QS, RDF
from suggest import Suggester, default_suggester, suggest
from suggest.knowledge import Knowledge, read_open_sdg_texts

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
runner = CliRunner()
SDG = "http://metadata.un.org/sdg/"
GRAPH = "https://musterstadt.example/graph/projekte"


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def tagged_store(*items: tuple[str, str, str], store=None) -> EmbeddedStore:
    """A store (in memory unless given) with public projects: (id, title, target notation)."""
    store = EmbeddedStore(None) if store is None else store
    quads = []
    for item_id, title, target in items:
        project = NamedNode(f"https://musterstadt.example/id/project/{item_id}")
        quads += [
            Quad(project, RDF.type, QS.Project),
            Quad(project, DCT["title"], Literal(title, language="de")),
            Quad(project, DCT.subject, NamedNode(SDG + target)),
        ]
    store.replace_graph(GRAPH, quads, visibility=Visibility.PUBLIC, source="test", loader="test", checksum="sha256:0")
    return store


def test_compounds_split_into_their_parts():
    assert {"rad", "verkehr", "netz"} <= set(default_suggester().analyzer.parts("radverkehrsnetz"))
    assert default_suggester().analyzer.parts("radweg") == ("rad", "weg")
    assert default_suggester().analyzer.parts("haus") == ()


def test_overlong_words_are_not_split_since_splitting_is_quadratic():
    assert default_suggester().analyzer.parts("radverkehr" * 5) == ()
    assert default_suggester().analyzer.parts("radverkehr" * 3) != ()


def test_a_compound_no_vocabulary_entry_names_is_found_through_its_parts():
    assert suggest("Radverkehrsnetz", top=1)[0].target == "11.2"


@pytest.mark.parametrize(
    ("text", "goal"),
    [
        ("Ausbau der Radwege im Stadtgebiet", "11"),
        ("Kommunale Wärmeplanung für die Gesamtstadt", "7"),
        ("Starkregenvorsorge und Überflutungsschutz in der Altstadt", "11"),
        ("Neubau einer Kindertagesstätte mit vier Gruppen", "4"),
        ("Zusätzliche Schutzplätze im Frauenhaus", "5"),
        ("Erneuerung der Trinkwasserleitungen", "6"),
        ("Blühstreifen für Wildbienen an Straßenrändern", "15"),
        ("Schuldnerberatung für Familien mit geringem Einkommen", "1"),
        ("Korruptionsprävention in der Stadtverwaltung", "16"),
        ("Klimapartnerschaft mit einer Partnerstadt in Ghana", "17"),
        ("Treibhausgasbilanz der Stadtverwaltung", "13"),
        ("Sozialer Wohnungsbau: Belegungsbindungen verlängern", "11"),
    ],
)
def test_clear_municipal_texts_get_the_right_goal_first(text, goal):
    assert suggest(text, top=1)[0].goal == goal


def test_a_suggestion_names_the_words_that_matched():
    (first,) = suggest("Ausbau der Radwege im Stadtgebiet", top=1)
    assert first.target == "11.2" and first.label_de
    assert any("radweg" in word.lower() for word in first.evidence)
    assert 0 < first.score < 1


def test_a_stores_own_tagged_item_makes_a_similar_new_text_get_that_target_first():
    text = "Kulturrucksack für Jugendliche, Sommerferien 2026"
    assert suggest(text, top=1)[0].target != "4.7"  # without the example the engine thinks otherwise
    store = tagged_store(("kr25", "Kulturrucksack für Jugendliche 2025", "4.7"))
    assert store_examples(store) == [
        ("Kulturrucksack für Jugendliche 2025", ["4.7"], "Kulturrucksack für Jugendliche 2025")
    ]
    (first,) = suggester_for(store).suggest(text, top=1)
    assert first.target == "4.7"
    assert any("Kulturrucksack" in item for item in first.evidence)


def test_both_store_kinds_give_their_tagged_items_and_official_texts(empty_store):
    tagged_store(("kr25", "Kulturrucksack für Jugendliche 2025", "4.7"), store=empty_store)
    definition = Literal("Bis 2030 sicherstellen, dass alle Lernenden Kenntnisse erwerben", language="de")
    empty_store.replace_graph(
        "https://musterstadt.example/graph/sdg-texts",
        [Quad(NamedNode(SDG + "4.7"), NamedNode("http://www.w3.org/2004/02/skos/core#definition"), definition)],
        visibility=Visibility.PUBLIC,
        source="test",
        loader="sdg-texts",
        checksum="sha256:0",
    )
    assert [codes for _, codes, _ in store_examples(empty_store)] == [["4.7"]]
    assert store_official_texts(empty_store) == {"4.7": definition.value}
    assert suggester_for(empty_store).suggest("Kulturrucksack Sommerferien", top=1)[0].target == "4.7"


def test_examples_with_unknown_targets_are_ignored():
    suggester = Suggester(Knowledge.builtin())
    assert suggester.add_examples([("Etwas", ["99.9"]), ("", ["11.2"]), ("Radweg", ["11.2"])]) == 1


def test_the_engine_does_not_import_the_api_layer():
    code = "import sys, suggest; suggest.suggest('Radweg'); print(sorted(m for m in sys.modules if m.split('.')[0] == 'api'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def items_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "items.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_csv_has_exactly_the_contract_columns_one_row_per_item_and_rank(tmp_path):
    path = items_csv(tmp_path, "id,title,description\np1,Ausbau der Radwege,\nd2,Starkregengefahrenkarte,Karte\n")
    result = run("suggest", "--input", path, "--top", "3", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["id", "rank", "target", "goal", "score"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("p1", "1"),
        ("p1", "2"),
        ("p1", "3"),
        ("d2", "1"),
        ("d2", "2"),
        ("d2", "3"),
    ]
    assert rows[1][2:4] == ["11.2", "11"]
    assert all(r[2].split(".")[0] == r[3] for r in rows[1:])
    scores = [float(r[4]) for r in rows[1:4]]
    assert scores == sorted(scores, reverse=True)


def test_cli_json_rows_have_the_same_keys(tmp_path):
    path = items_csv(tmp_path, "id;title;theme\nx;Wärmeplanung;ENER\n")
    result = run("suggest", "--input", path, "--top", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [["id", "rank", "target", "goal", "score"]] * 2
    assert rows[0]["target"] == "7.2"


def test_cli_input_without_a_title_column_is_refused(tmp_path):
    result = run("suggest", "--input", items_csv(tmp_path, "id,name\n1,Radweg\n"), "--format", "csv")
    assert result.exit_code == 1
    assert "title" in result.output


def test_cli_text_prints_code_label_score_and_evidence():
    result = run("suggest", "Ausbau der Radwege im Stadtgebiet", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "11.2" in result.stdout and "Verkehrssysteme" in result.stdout and "Radweg" in result.stdout


def test_cli_with_a_store_learns_from_its_tagged_projects(tmp_path):
    data = tmp_path / "projekte.ttl"
    data.write_text(
        "@prefix qs: <https://w3id.org/querschnitt/def#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        "<https://musterstadt.example/id/project/kr> a qs:Project ; dct:title 'Kulturrucksack für Jugendliche'@de ;\n"
        f"  dct:subject <{SDG}4.7> .\n",
        encoding="utf-8",
    )
    store = tmp_path / "store"
    assert run("init", "--store", store).exit_code == 0
    assert run("load", data, "--store", store).exit_code == 0
    path = items_csv(tmp_path, "id,title\nn,Kulturrucksack Sommerferien\n")
    result = run("suggest", "--input", path, "--top", "1", "--format", "csv", "--store", store)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split(",")[2] == "4.7"


def test_http_suggest_returns_ranked_targets_with_labels_and_evidence():
    with TestClient(create_app(make_settings(), store=EmbeddedStore(None))) as client:
        answer = client.post("/api/suggest", json={"title": "Ausbau der Radwege", "description": "im Stadtgebiet"})
    assert answer.status_code == 200
    suggestions = answer.json()["suggestions"]
    assert [s["rank"] for s in suggestions] == [1, 2, 3, 4, 5]
    first = suggestions[0]
    assert (first["target"], first["goal"], first["iri"]) == ("11.2", "11", SDG + "11.2")
    assert first["label_de"] and first["label_en"] and first["evidence"]


def test_http_suggest_learns_from_the_stores_public_tagged_items():
    store = tagged_store(("kr25", "Kulturrucksack für Jugendliche 2025", "4.7"))
    with TestClient(create_app(make_settings(), store=store)) as client:
        answer = client.post("/api/suggest", json={"title": "Kulturrucksack Sommerferien", "top": 1})
    assert answer.json()["suggestions"][0]["target"] == "4.7"


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"description": "nur Beschreibung"},
        {"title": "x", "top": 0},
        {"title": "x", "description": "y" * 20_001},
    ],
)
def test_http_suggest_refuses_bad_requests_with_422(body):
    with TestClient(create_app(make_settings(), store=EmbeddedStore(None))) as client:
        assert client.post("/api/suggest", json=body).status_code == 422


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "sdg-labelled" / "de-dev.tsv").exists(), reason="shared development data missing")
def test_the_development_data_meets_the_issues_minimum():
    with (SHARED / "sdg-labelled" / "de-dev.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    rows = [r for r in rows if r["text_type"] != "un_indicator_name_official_de"]
    official = read_open_sdg_texts(SHARED / "sdg" / "open-sdg-translations")
    suggester = Suggester(Knowledge.builtin(official))
    goal3 = target5 = target_rows = 0
    for row in rows:
        ranked = suggester.suggest(row["text_de"], row["context_de"], top=30, explain=False)
        goals = list(dict.fromkeys(s.goal for s in ranked))[:3]
        goal3 += bool(set(row["goals"].split()) & set(goals))
        if row["label_granularity"] == "target":
            target_rows += 1
            target5 += bool(set(row["targets"].split()) & {s.target for s in ranked[:5]})
    assert goal3 / len(rows) >= 0.80
    assert target5 / target_rows >= 0.70


def test_cli_sheets_fills_sdg_vorschlag_only_for_rows_without_sdg_links(tmp_path):
    import openpyxl

    from loaders.sheets import write_sheets

    path = tmp_path / "mappe.xlsx"
    projects = [
        {"id": "p1", "title": "Ausbau der Radwege", "lead_department": "a", "sdg": "11.2"},
        {"id": "p2", "title": "Kommunale Wärmeplanung", "lead_department": "a"},
    ]
    write_sheets({"projects": projects}, path)
    before = [[c.value for c in row] for row in openpyxl.load_workbook(path)["Projekte"].iter_rows()]
    result = run("suggest", "--sheets", path, "--top", "2")
    assert result.exit_code == 0, result.output
    after = [[c.value for c in row] for row in openpyxl.load_workbook(path)["Projekte"].iter_rows()]
    assert after[0][-1] == "sdg_vorschlag"
    assert [row[:-1] for row in after] == before  # nothing else changed
    assert after[1][-1] is None
    assert after[2][-1].startswith("7.2 (0.") and after[2][-1].count(";") == 1


def test_cli_gives_no_rows_for_an_item_without_any_evidence(tmp_path):
    path = items_csv(tmp_path, "id,title\na,Radweg\nb,xyzzy qwrtp\n")
    result = run("suggest", "--input", path, "--top", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert {row.split(",")[0] for row in result.stdout.splitlines()[1:]} == {"a"}


def test_no_generated_suggest_request_gets_a_server_error():
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    from api.testing import LiveServer

    document = create_app(make_settings()).openapi()
    (operation,) = [
        result.ok()
        for result in schemathesis.openapi.from_dict(document).get_all_operations()
        if result.ok().label == "POST /api/suggest"
    ]
    with LiveServer(create_app(make_settings(max_body_bytes=100_000), store=EmbeddedStore(None))) as server:

        @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            response = case.call(base_url=server.url, timeout=30)
            assert response.status_code < 500, (response.status_code, response.text[:300])

        check()
