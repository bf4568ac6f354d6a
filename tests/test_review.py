"""Reviewing SDG suggestions: decisions in the store, the gap reports, the routes.

The store-side tests run on both store kinds (`backend`): a small municipality with the SDG taxonomy, one
public project and dataset without SDG links, and one project only an internal graph describes.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad
from typer.testing import CliRunner

from api import derived
from api.app import create_app
from api.auth import Role
from api.cli import app as cli
from api.demo import install_sdg_taxonomy
from api.named_queries import QueryRegistry
from api.review import StaffSuggestions, decide, graph_iris, items, suggest_for
from api.store import EmbeddedStore, Visibility
from api.testing import BASE, EDITOR, READER, make_settings
from loaders.vocab import DCAT, DCT, PROV, QS, RDF
from suggest.engine import default_suggester

PROJECT = f"{BASE}project/radverkehrskonzept-innenstadt"
DATASET = f"{BASE}dataset/radverkehrszaehlung"
SECRET_PROJECT = f"{BASE}project/vertrauliche-planung"
GRAPH = f"{BASE}graph/review-test"
INTERNAL_GRAPH = f"{BASE}graph/review-test-internal"
PUBLIC_LINKS, DECISIONS = graph_iris(BASE)
# One staff suggester for the module: the index is built once (seconds), examples are relearnt per store state.
SUGGESTIONS = StaffSuggestions()


def small_municipality(store):
    """The SDG taxonomy and three items without SDG links into `store` (derived graphs kept fresh)."""
    install_sdg_taxonomy(store, make_settings())
    g, secret = NamedNode(GRAPH), NamedNode(INTERNAL_GRAPH)
    project, dataset, hidden = NamedNode(PROJECT), NamedNode(DATASET), NamedNode(SECRET_PROJECT)
    public = [
        Quad(project, RDF.type, QS.Project, g),
        Quad(project, DCT["title"], _de("Radverkehrskonzept für die Innenstadt"), g),
        Quad(project, DCT["description"], _de("Neue Radwege, Fahrradstraßen und Abstellanlagen am Bahnhof."), g),
        Quad(dataset, RDF.type, DCAT.Dataset, g),
        Quad(dataset, DCT["title"], _de("Radverkehrszählung an Dauerzählstellen"), g),
    ]
    internal = [
        Quad(hidden, RDF.type, QS.Project, secret),
        Quad(hidden, DCT["title"], _de("Vertrauliche Planung einer Radschnellverbindung"), secret),
    ]
    for graph, quads, visibility in (
        (GRAPH, public, Visibility.PUBLIC),
        (INTERNAL_GRAPH, internal, Visibility.INTERNAL),
    ):
        store.replace_graph(graph, quads, visibility=visibility, source="tests", loader="tests", checksum="sha256:0")
    return store


def _de(text: str) -> Literal:
    return Literal(text, language="de")


@pytest.fixture
def store(backend):
    return small_municipality(backend.new(derived=True))


def gap_rows(store, name: str, *, staff: bool = False) -> set[tuple[str, ...]]:
    """The rows of a named gap query as tuples of its IRI columns, as anonymous callers (or staff) see them."""
    query = QueryRegistry()[name]
    columns = {"unmeasured-projects": ("project", "target"), "unused-datasets": ("dataset", "project", "target")}[name]
    return {tuple(row[c].value for c in columns) for row in store.query(query.sparql, include_internal=staff)}


def subjects(store, item: str, *, staff: bool) -> set[str]:
    rows = store.query(f"SELECT ?t {{ <{item}> <{DCT.subject.value}> ?t }}", include_internal=staff)
    return {row["t"].value for row in rows}


def test_an_accepted_target_appears_in_the_public_gap_report_at_once(store):
    assert gap_rows(store, "unmeasured-projects") == set()
    decide(store, BASE, PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    assert gap_rows(store, "unmeasured-projects") == {(PROJECT, "http://metadata.un.org/sdg/11.2")}


def test_an_accepted_target_for_a_dataset_counts_in_the_dataset_reports(store):
    decide(store, BASE, PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    decide(store, BASE, DATASET, "11.2", accepted=True, role=Role.EDITOR)
    target = "http://metadata.un.org/sdg/11.2"
    assert gap_rows(store, "unused-datasets") == {(DATASET, PROJECT, target)}
    assert gap_rows(store, "unmeasured-projects") == set()  # the dataset measures the project's target now


def test_the_public_graph_holds_the_bare_link_and_the_internal_one_who_and_when(store):
    decide(store, BASE, PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    graphs = {g.iri: g.visibility for g in store.graphs()}
    assert graphs[PUBLIC_LINKS] is Visibility.PUBLIC and graphs[DECISIONS] is Visibility.INTERNAL
    public = store.query("SELECT ?p { ?s ?p ?o }", default_graphs=[PUBLIC_LINKS], include_internal=True)
    assert {row["p"].value for row in public} == {DCT.subject.value}
    record = f"""SELECT ?agent ?time ?target {{ ?link <{RDF.subject.value}> <{PROJECT}> ; <{RDF.object.value}> ?target ;
      <{PROV.wasGeneratedBy.value}> ?d . ?d a <{PROV.Activity.value}> ; <{PROV.wasAssociatedWith.value}> ?agent ;
      <{PROV.endedAtTime.value}> ?time }}"""
    assert [r["agent"].value for r in store.query(record, include_internal=False)] == []
    (row,) = list(store.query(record, include_internal=True))
    assert row["agent"].value == "urn:querschnitt:role:editor"
    assert row["target"].value == "http://metadata.un.org/sdg/11.2"


def test_a_second_decision_writes_both_graphs_in_one_transaction_and_keeps_their_visibility(store):
    decide(store, BASE, PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    decide(store, BASE, DATASET, "11.2", accepted=True, role=Role.ADMIN)
    graphs = {g.iri: g for g in store.graphs()}
    assert graphs[PUBLIC_LINKS].visibility is Visibility.PUBLIC and graphs[PUBLIC_LINKS].triples == 2
    assert graphs[DECISIONS].visibility is Visibility.INTERNAL


def test_an_item_only_internal_graphs_describe_keeps_its_accepted_link_internal(store):
    decide(store, BASE, SECRET_PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    assert subjects(store, SECRET_PROJECT, staff=False) == set()
    assert subjects(store, SECRET_PROJECT, staff=True) == {"http://metadata.un.org/sdg/11.2"}
    assert (SECRET_PROJECT, "http://metadata.un.org/sdg/11.2") in gap_rows(store, "unmeasured-projects", staff=True)
    assert not any(SECRET_PROJECT in row for row in gap_rows(store, "unmeasured-projects"))


def test_a_rejected_suggestion_is_remembered_and_not_offered_again(store):
    first = suggest_for(SUGGESTIONS.get(store), items(store)[PROJECT])[0].target
    decide(store, BASE, PROJECT, first, accepted=False, role=Role.EDITOR)
    item = items(store)[PROJECT]
    assert item.rejected == {first} and item.linked == []
    assert first not in [s.target for s in suggest_for(SUGGESTIONS.get(store), item)]
    assert subjects(store, PROJECT, staff=True) == set()


def test_one_item_is_read_alone_as_it_is_read_among_all(store):
    decide(store, BASE, PROJECT, "11.2", accepted=False, role=Role.EDITOR)
    decide(store, BASE, PROJECT, "3.6", accepted=True, role=Role.EDITOR)
    assert items(store, only=PROJECT) == {PROJECT: items(store)[PROJECT]}
    assert items(store, only=PROJECT)[PROJECT].rejected == {"11.2"}


def test_an_item_with_an_accepted_target_is_no_longer_open(store):
    decide(store, BASE, PROJECT, "11.2", accepted=True, role=Role.EDITOR)
    found = items(store)
    assert found[PROJECT].linked == ["11.2"] and found[DATASET].linked == []


def test_an_accepted_link_teaches_the_suggester_about_similar_texts(store):
    decide(store, BASE, PROJECT, "3.6", accepted=True, role=Role.EDITOR)  # road safety: not the obvious 11.2
    found = SUGGESTIONS.get(store).suggest("Radverkehrskonzept für die Altstadt", top=3)
    assert any(
        "wie: Radverkehrskonzept für die Innenstadt" in e for s in found if s.target == "3.6" for e in s.evidence
    )


def test_a_rejected_target_loses_ground_for_similar_texts():
    suggester = default_suggester().without_examples()
    text = "Radverkehrskonzept für die Altstadt"
    before = {s.target: s.score for s in suggester.suggest(text, top=20)}
    suggester.add_examples([("Radverkehrskonzept für die Innenstadt", ["11.2"])], rejected=True)
    after = {s.target: s.score for s in suggester.suggest(text, top=20)}
    assert after.get("11.2", 0.0) < before["11.2"]
    assert default_suggester().examples == []  # the copy learnt, not the shared index


# -- the routes (embedded store; bearer tokens stand for the session cookie) -------------------------


@pytest.fixture
def client():
    store = small_municipality(_derived(EmbeddedStore(None)))
    with TestClient(create_app(make_settings(), store=store)) as test_client:
        test_client.app.state.staff_suggestions = SUGGESTIONS
        yield test_client


def _derived(store):
    derived.install(store)
    return store


def offered(html: str) -> list[tuple[str, str]]:
    """(item, target) of every accept form on a page."""
    forms = re.findall(r'action="/suggestions/accept">\s*(.*?)</form>', html, flags=re.S)
    return [
        (re.search(r'name="item" value="([^"]+)"', f)[1], re.search(r'name="target" value="([^"]+)"', f)[1])
        for f in forms
    ]


def test_the_review_page_lists_the_open_items_with_their_suggestions_for_editors(client):
    response = client.get("/suggestions", headers=EDITOR)
    assert response.status_code == 200
    pairs = offered(response.text)
    assert {item for item, _ in pairs} == {PROJECT, DATASET, SECRET_PROJECT}
    assert (PROJECT, "11.2") in pairs


@pytest.mark.parametrize(("headers", "status"), [({}, 401), (READER, 403)])
def test_the_review_page_and_its_posts_need_an_editor(client, headers, status):
    assert client.get("/suggestions", headers=headers).status_code == status
    data = {"item": PROJECT, "target": "11.2"}
    assert client.post("/suggestions/accept", data=data, headers=headers).status_code == status
    assert subjects(client.app.state.store, PROJECT, staff=True) == set()


def test_accepting_through_the_form_redirects_back_and_the_link_counts_in_api_gaps(client):
    data = {"item": PROJECT, "target": "11.2", "next": "/suggestions"}
    response = client.post("/suggestions/accept", data=data, headers=EDITOR, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/suggestions?done=accepted")
    report = client.get("/api/gaps/unmeasured-projects").json()
    assert [(r["project"]["iri"], r["target"]["iri"]) for r in report["rows"]] == [
        (PROJECT, "http://metadata.un.org/sdg/11.2")
    ]
    assert PROJECT not in {item for item, _ in offered(client.get("/suggestions", headers=EDITOR).text)}


def test_a_decision_posted_from_another_site_is_refused(client):
    data = {"item": PROJECT, "target": "11.2"}
    headers = {**EDITOR, "Origin": "https://elsewhere.example"}
    assert client.post("/suggestions/accept", data=data, headers=headers).status_code == 403
    assert subjects(client.app.state.store, PROJECT, staff=True) == set()


@pytest.mark.parametrize(("item", "target"), [(f"{BASE}project/unknown", "11.2"), (PROJECT, "11.99"), (PROJECT, "11")])
def test_an_unknown_item_or_target_is_refused(client, item, target):
    response = client.post("/suggestions/reject", data={"item": item, "target": target}, headers=EDITOR)
    assert response.status_code == 422


def test_the_navigation_offers_the_review_page_to_editors_only(client):
    assert 'href="/suggestions"' in client.get("/", headers=EDITOR).text
    assert 'href="/suggestions"' not in client.get("/", headers=READER).text
    assert 'href="/suggestions"' not in client.get("/").text


def test_entity_pages_show_suggestions_to_staff_and_buttons_to_editors(client):
    path = "/page/project/radverkehrskonzept-innenstadt"
    assert "section-suggestions" not in client.get(path).text
    reader = client.get(path, headers=READER).text
    assert "section-suggestions" in reader and not offered(reader)
    assert (PROJECT, "11.2") in offered(client.get(path, headers=EDITOR).text)


def test_the_review_page_speaks_english_when_asked(client):
    page = client.get("/suggestions", params={"lang": "en"}, headers=EDITOR).text
    assert "<h1>Review SDG suggestions</h1>" in page and ">Accept<" in page and ">Reject<" in page


def test_the_public_suggest_route_learns_an_accepted_link_at_once(client):
    client.post("/api/suggest", json={"title": "Radverkehrskonzept für die Altstadt"})  # builds the index first
    client.post("/suggestions/accept", data={"item": PROJECT, "target": "3.6"}, headers=EDITOR)
    found = client.post("/api/suggest", json={"title": "Radverkehrskonzept für die Altstadt"}).json()["suggestions"]
    evidence = next(s["evidence"] for s in found if s["target"] == "3.6")
    assert "wie: Radverkehrskonzept für die Innenstadt" in evidence


def test_the_return_address_stays_on_this_site(client):
    data = {"item": PROJECT, "target": "11.2", "next": "https://elsewhere.example/"}
    response = client.post("/suggestions/reject", data=data, headers=EDITOR, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/?done=rejected")


def test_a_decision_on_an_entity_page_returns_to_it_with_a_notice(client):
    path = "/page/project/radverkehrskonzept-innenstadt"
    data = {"item": PROJECT, "target": "11.2", "next": path}
    response = client.post("/suggestions/accept", data=data, headers=EDITOR, follow_redirects=False)
    assert response.headers["location"].startswith(f"{path}?done=accepted")
    page = client.get(response.headers["location"], headers=EDITOR).text
    assert 'id="review-done"' in page and "Übernommen: 11.2" in page


def test_a_decision_does_not_read_as_a_project_using_the_dataset(store):
    decide(store, BASE, DATASET, "11.2", accepted=False, role=Role.EDITOR)
    users = store.query(f"SELECT ?x {{ ?x <{PROV.used.value}> <{DATASET}> }}", include_internal=True)
    assert list(users) == []


def test_the_cli_with_a_store_learns_the_rejections_too(tmp_path):
    on_disk = tmp_path / "store"
    store = small_municipality(_derived(EmbeddedStore(on_disk)))
    text = "Radverkehrskonzept für die Altstadt"
    before = {s.target: s.score for s in SUGGESTIONS.get(store).suggest(text, top=20)}
    decide(store, BASE, PROJECT, "11.2", accepted=False, role=Role.EDITOR)
    store.close()
    result = CliRunner().invoke(cli, ["suggest", text, "--top", "20", "--format", "json", "--store", str(on_disk)])
    assert result.exit_code == 0, result.output
    after = {s["target"]: s["score"] for s in json.loads(result.stdout)}
    assert after.get("11.2", 0.0) < before["11.2"]
