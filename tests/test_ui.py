"""The staff web UI through the ASGI app: pages, filters, exports, login, language, safety.

Pages are parsed into a small element tree (stdlib `html.parser`) and asserted on structure: table
cells, links, headings, labels; never on raw substrings of the markup, except to prove escaping.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from html_tree import Node
from html_tree import parse as parse_html
from openpyxl import load_workbook
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

import api.store
from api import gaps, i18n, publishing, search, ui
from api.app import create_app
from api.collation import sort_key
from api.demo import load_demo
from api.named_queries import QueryRegistry
from api.store import EmbeddedStore, Visibility
from api.testing import READER, READER_TOKEN, fill, make_settings
from loaders.sdg import SdgIndex
from loaders.vocab import DCT, FOAF, ORG, PROV, QS, RDF

BASE = "https://musterstadt.example/id/"
TEMPLATES = Path(ui.__file__).parent / "templates" / "ui"
GAP_KINDS = list(gaps.KINDS)


# -- fixtures -------------------------------------------------------------------------------------


def demo_store(settings) -> EmbeddedStore:
    """The demo municipality with the SDG taxonomy, as `querschnitt demo` loads it."""
    store = api.store.open_store("memory")
    load_demo(store, settings)
    return store


def ui_app(store: EmbeddedStore) -> FastAPI:
    """The app with the UI, search and publishing routers, as api/app.py includes them."""
    app = create_app(make_settings(), store=store)
    for router in (ui.router, search.router, publishing.router):
        app.include_router(router)
    return app


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    return demo_store(make_settings())


@pytest.fixture(scope="module")
def app(store) -> FastAPI:
    return ui_app(store)


@pytest.fixture(scope="module")
def ui_client(app) -> Iterator[TestClient]:
    """An anonymous browser: https, so the Secure session cookie travels, and German first."""
    with TestClient(app, base_url="https://testserver", headers={"Accept-Language": "de-DE,de;q=0.9"}) as client:
        yield client


@pytest.fixture
def fresh_client(app) -> Iterator[TestClient]:
    """A browser with its own cookie jar, for tests that sign in or switch language."""
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def html(response) -> Node:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return parse_html(response.text)


def select(store: EmbeddedStore, sparql: str, *, internal: bool = False) -> list[dict]:
    result = store.query(sparql, include_internal=internal)
    return [{v.value: row[v.value] for v in result.variables if row[v.value] is not None} for row in result]


def page_links(node: Node) -> list[str]:
    return [a.attrs["href"] for a in node.find_all("a") if (a.attrs.get("href") or "").startswith("/page/")]


def links(node: Node) -> list[str]:
    return [a.attrs["href"].replace("&amp;", "&") for a in node.find_all("a") if a.attrs.get("href")]


# -- dashboard ------------------------------------------------------------------------------------


def departments_with_projects(store) -> int:
    rows = select(
        store,
        f"SELECT (COUNT(DISTINCT ?d) AS ?n) {{ ?p a <{QS.Project.value}> ; <{PROV.wasAssociatedWith.value}> ?d ;"
        f" <{QS.contributesTo.value}> ?sdg }}",
    )
    return int(rows[0]["n"].value)


def all_departments(store) -> int:
    rows = select(store, f"SELECT (COUNT(DISTINCT ?d) AS ?n) {{ ?d a <{ORG.OrganizationalUnit.value}> }}")
    return int(rows[0]["n"].value)


def test_heatmap_has_a_row_for_every_department_and_17_goal_columns(ui_client, store):
    table = html(ui_client.get("/")).find("table", id="heatmap")
    goal_headers = [th for th in table.find("thead").find_all("th") if "goal" in th.classes()]
    rows = table.find("tbody").find_all("tr")
    assert [th.text() for th in goal_headers] == [str(n) for n in range(1, 18)]
    assert len(rows) == all_departments(store) > departments_with_projects(store) >= 12
    assert all(len(row.find_all("td")) == 17 for row in rows)


def test_heatmap_shows_departments_without_projects_as_a_row_of_zeros(ui_client, store):
    table = html(ui_client.get("/")).find("table", id="heatmap")
    rows = {tr.find("th").text(): [td.text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")}
    zeros = [name for name, cells in rows.items() if set(cells) == {"0"}]
    assert len(zeros) == all_departments(store) - departments_with_projects(store) >= 1


def test_heatmap_legend_scale_ends_at_the_highest_count(ui_client):
    page = html(ui_client.get("/"))
    cells = [int(td.text()) for td in page.find("table", id="heatmap").find("tbody").find_all("td")]
    legend = page.find("p", id="heatmap-legend")
    swatches = [s.text() for s in legend.find_all("span") if "swatch" in s.classes()]
    assert swatches[0] == "0" and swatches[-1].split("\u2013")[-1] == str(max(cells))
    assert str(max(cells)) in legend.text()


def test_heatmap_legend_groups_counts_when_the_maximum_is_above_four():
    assert ui.legend(3) == [(0, "0"), (1, "1"), (2, "2"), (3, "3")]
    assert ui.legend(8) == [(0, "0"), (1, "1\u20132"), (2, "3\u20134"), (3, "5\u20136"), (4, "7\u20138")]
    assert [ui.shade(n, 8) for n in (0, 1, 2, 3, 8)] == [0, 1, 1, 2, 4]


def test_heatmap_cells_print_the_project_counts_of_the_coverage_matrix(ui_client, app, store):
    table = html(ui_client.get("/")).find("table", id="heatmap")
    cells = [td.text() for td in table.find("tbody").find_all("td")]
    coverage = select(store, app.state.queries["coverage-matrix"].sparql)
    assert all(re.fullmatch(r"\d+", c) for c in cells)
    assert sum(int(c) for c in cells) == sum(int(r["projects"].value) for r in coverage)


def test_heatmap_goal_headers_carry_the_official_goal_colour(ui_client):
    table = html(ui_client.get("/")).find("table", id="heatmap")
    headers = [th for th in table.find("thead").find_all("th") if "goal" in th.classes()]
    css = ui_client.get("/ui/sdg-colours.css").text
    index = SdgIndex.builtin()
    for goal, th in zip(index.goals(), headers, strict=True):
        n = index.notation(goal)
        assert f"g{n}" in th.classes()
        assert re.search(rf"\.g{n},a\.g{n},a\.g{n}:visited\{{--goal:{index.colour(goal)};", css)


def test_every_goal_colour_and_heatmap_shade_has_aa_contrast_text():
    rules = re.findall(r"background-color:(#[0-9a-fA-F]{6});color:(#[0-9a-fA-F]{6})", ui.goal_css())
    assert len(rules) == 17 * 6
    assert min(ui.contrast(bg, fg) for bg, fg in rules) >= 4.5
    # The light goal colours get black text, not white (#FCC30B on white text would be 1.7:1).
    assert ui.text_colour("#FCC30B") == "#000000"


def test_dashboard_shows_headline_counts(ui_client, app, store):
    counts = {
        li.find("span", **{"class": "count-label"}).text(): li.find("span", **{"class": "count-number"}).text()
        for li in html(ui_client.get("/")).find("ul", **{"class": "counts"}).find_all("li")
    }
    projects = select(store, f"SELECT (COUNT(*) AS ?n) {{ ?p a <{QS.Project.value}> }}")[0]["n"].value
    bridges = len(select(store, app.state.queries["missing-bridges"].sparql))
    blind = len(select(store, app.state.queries["blind-spots"].sparql))
    assert counts["Projekte"] == projects
    assert counts["fehlende Brücken"] == str(bridges) and bridges > 0
    assert counts["blinde Flecken"] == str(blind)
    assert int(counts["Datensätze"]) > 0


def test_top_missing_bridges_read_as_german_sentences(ui_client):
    items = html(ui_client.get("/")).find("ol", **{"class": "bridges"}).find_all("li")
    sentences = [li.text() for li in items]
    assert 1 <= len(sentences) <= ui.TOP_BRIDGES
    assert all(re.match(r".+ und .+ arbeiten beide an .+, aber an keinem gemeinsamen Projekt\.$", s) for s in sentences)
    planted = [s for s in sentences if s.startswith("Tiefbauamt und Umweltamt arbeiten beide an")]
    assert planted and "11.2" in planted[0]


def test_top_missing_bridges_read_as_english_sentences(ui_client):
    page = html(ui_client.get("/", headers={"Accept-Language": "en"}))
    sentences = [li.text() for li in page.find("ol", **{"class": "bridges"}).find_all("li")]
    assert all(re.match(r".+ and .+ both work on .+, but on no joint project\.$", s) for s in sentences)


def test_dashboard_links_to_every_gap_report_and_the_sparql_page(ui_client):
    hrefs = {a.attrs.get("href") for a in html(ui_client.get("/")).find_all("a")}
    assert {f"/gaps/{kind}" for kind in GAP_KINDS} <= hrefs
    assert "/sparql" in hrefs


# -- gap reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", GAP_KINDS)
def test_gap_report_rows_link_to_entity_pages(ui_client, app, store, kind):
    page = html(ui_client.get(f"/gaps/{kind}"))
    rows = page.find("table", id="report").find("tbody").find_all("tr")
    answers = select(store, app.state.queries[kind].sparql)
    # unused-datasets is shown per project: one row for each project with a dataset it could use.
    expected = len({r["project"].value for r in answers}) if kind == "unused-datasets" else len(answers)
    assert len(rows) == min(expected, ui.PAGE_SIZE) > 0
    assert all(page_links(row) for row in rows)


@pytest.mark.parametrize("kind", GAP_KINDS)
def test_gap_report_links_its_query_and_the_readable_definition_beside_it(ui_client, kind):
    hrefs = {a.attrs.get("href") for a in html(ui_client.get(f"/gaps/{kind}")).find_all("a")}
    assert {f"/queries/{kind}/sparql", f"/queries/{kind}/definition"} <= hrefs
    definition = ui_client.get(f"/queries/{kind}/definition")
    assert definition.status_code == 200
    assert definition.text != ui_client.get(f"/queries/{kind}/sparql").text


def test_gap_filters_keep_the_rows_of_one_department_and_goal(ui_client):
    tiefbauamt = f"{BASE}department/tiefbauamt"
    page = html(ui_client.get("/gaps/missing-bridges", params={"department": tiefbauamt, "goal": "11"}))
    rows = page.find("table", id="report").find("tbody").find_all("tr")
    assert rows
    for row in rows:
        assert "/page/department/tiefbauamt" in page_links(row)
        codes = [a.text() for a in row.find_all("a") if "chip" in a.classes()]
        assert codes and all(code.startswith("11.") for code in codes)
    selected = page.find("select", id="filter-department").find("option", value=tiefbauamt)
    assert "selected" in selected.attrs


def test_unused_data_per_department_lists_the_projects_it_runs_and_per_dataset_the_datasets_it_holds(ui_client):
    umweltamt = f"{BASE}department/umweltamt"
    params = {"department": umweltamt}
    projects = html(ui_client.get("/gaps/unused-datasets", params=params)).find("table", id="report")
    datasets = html(ui_client.get("/gaps/unused-datasets", params={**params, "view": "datasets"})).find(
        "table", id="report"
    )
    for table, holder_column in ((projects, 1), (datasets, 1)):
        rows = table.find("tbody").find_all("tr")
        assert rows
        for row in rows:
            assert "/page/department/umweltamt" in page_links(row.find_all("td")[holder_column])
    assert "/page/dataset/luftmessdaten" in {
        page_links(r.find_all("td")[0])[0] for r in datasets.find("tbody").find_all("tr")
    }


def test_the_count_of_a_project_leads_to_every_dataset_it_could_use(ui_client, app, store):
    table = html(ui_client.get("/gaps/unused-datasets")).find("table", id="report")
    first = table.find("tbody").find_all("tr")[0].find_all("td")
    project_page = page_links(first[0])[0]
    count = int(first[2].text())
    drill = [link for link in links(first[2]) if "project=" in link]
    assert drill
    rows = html(ui_client.get(drill[0])).find("table", id="report").find("tbody").find_all("tr")
    project = f"{BASE}{project_page.removeprefix('/page/')}"
    answers = select(store, app.state.queries["unused-datasets"].sparql)
    assert len(rows) == len([r for r in answers if r["project"].value == project])
    assert len({page_links(r.find_all("td")[0])[0] for r in rows}) == count


def csv_rows(response) -> list[dict[str, str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_gap_report_csv_is_what_german_excel_opens_semicolons_bom_german_headers(ui_client, app, store):
    response = ui_client.get("/gaps/missing-bridges", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = csv_rows(response)
    assert len(rows) == len(select(store, app.state.queries["missing-bridges"].sparql))
    assert list(rows[0]) == ["Amt A", "Amt B", "Unterziel", "Amt A (IRI)", "Amt B (IRI)", "Unterziel (IRI)"]
    assert {r["Amt A"] for r in rows if r["Amt A (IRI)"] == f"{BASE}department/tiefbauamt"} == {"Tiefbauamt"}
    assert {r["Unterziel"] for r in rows if r["Unterziel (IRI)"].endswith("/11.2")} == {
        "11.2 Sichere, bezahlbare und nachhaltige Verkehrssysteme für alle"
    }


def test_gap_report_csv_writes_shares_with_a_decimal_comma(ui_client):
    rows = csv_rows(ui_client.get("/gaps/silo-departments", params={"format": "csv"}))
    shares = [r["Anteil gemeinsamer Projekte"] for r in rows]
    assert all(re.fullmatch(r"\d+(,\d+)?", share) for share in shares) and any("," in share for share in shares)


def test_gap_report_exports_xlsx_with_the_filtered_rows(ui_client):
    params = {"department": f"{BASE}department/tiefbauamt", "format": "xlsx"}
    response = ui_client.get("/gaps/missing-bridges", params=params)
    sheet = load_workbook(io.BytesIO(response.content)).active
    table = list(sheet.iter_rows(values_only=True))
    page = html(ui_client.get("/gaps/missing-bridges", params={"department": params["department"]}))
    assert len(table) - 1 == len(page.find("table", id="report").find("tbody").find_all("tr"))
    assert all(f"{BASE}department/tiefbauamt" in row for row in table[1:])


def test_gap_report_xlsx_has_german_headers_a_frozen_row_a_filter_and_column_widths(ui_client):
    response = ui_client.get("/gaps/unused-datasets", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    names = ["Projekt", "Ämter des Projekts", "Datensätze, die es nutzen könnte", "Zum Beispiel"]
    assert header[:4] == names
    assert header[4:] == [f"{name} (IRI)" for name in names if name != "Datensätze, die es nutzen könnte"]
    assert sheet.freeze_panes == "A2" and all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref == sheet.dimensions
    assert all(isinstance(row[2].value, int | float) for row in sheet.iter_rows(min_row=2))
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDE"]
    assert all(10 <= w <= 62 for w in widths) and len(set(widths)) > 1


def test_machine_readable_csv_stays_sparql_csv_on_queries(ui_client):
    response = ui_client.get("/queries/missing-bridges", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and not response.content.startswith("\ufeff".encode())
    assert response.text.splitlines()[0].split(",")[:3] == ["department_a", "department_b", "target"]


# -- who to call ---------------------------------------------------------------


def unused_rows_of_first_project(ui_client):
    """The table of every row of the first project of unused-datasets (its drill-down)."""
    first = html(ui_client.get("/gaps/unused-datasets")).find("table", id="report").find("tbody").find("tr")
    drill = [link for link in links(first.find_all("td")[2]) if "project=" in link][0]
    return html(ui_client.get(drill)).find("table", id="report")


def test_unused_datasets_names_the_departments_of_dataset_and_project(ui_client, store):
    table = unused_rows_of_first_project(ui_client)
    headers = [th.text() for th in table.find("thead").find_all("th")]
    assert headers == ["Datensatz", "Amt des Datensatzes", "Projekt", "Ämter des Projekts", "Unterziel"]
    for row in table.find("tbody").find_all("tr")[:20]:
        cells = row.find_all("td")
        holders = [page_links(cells[i]) for i in (1, 3)]
        assert all(h and all(link.startswith("/page/department/") for link in h) for h in holders)


def test_the_departments_of_a_row_are_those_that_hold_the_dataset_and_run_the_project(ui_client, store):
    table = unused_rows_of_first_project(ui_client)
    row = table.find("tbody").find_all("tr")[0]
    cells = row.find_all("td")
    dataset, project = page_links(cells[0])[0], page_links(cells[2])[0]
    creators = select(store, f"SELECT ?d {{ <{BASE}{dataset.removeprefix('/page/')}> <{DCT.creator.value}> ?d }}")
    members = select(
        store, f"SELECT ?d {{ <{BASE}{project.removeprefix('/page/')}> <{PROV.wasAssociatedWith.value}> ?d }}"
    )
    assert set(page_links(cells[1])) == {"/page/" + r["d"].value.removeprefix(BASE) for r in creators}
    assert set(page_links(cells[3])) == {"/page/" + r["d"].value.removeprefix(BASE) for r in members}


@pytest.mark.parametrize("kind", GAP_KINDS)
def test_every_gap_table_links_the_departments_involved(ui_client, kind):
    table = html(ui_client.get(f"/gaps/{kind}")).find("table", id="report")
    if kind == "blind-spots":  # targets nobody works on: no department is involved
        return
    row = table.find("tbody").find_all("tr")[0]
    assert any(link.startswith("/page/department/") for link in page_links(row))


def test_exports_neutralise_spreadsheet_formulas():
    evil = ui.Ref(
        f"{BASE}department/x", '=HYPERLINK("http://evil.example","klick")', "/page/department/x", "department"
    )
    report = ui.Report("silo-departments", ["department", "projects"], [[evil, ui.Value("-3", number=-3.0)]], 1)
    page = ui.Page(request=None, principal=ui.ANONYMOUS, lang="de")  # type: ignore[arg-type]
    header, rows = ui.export_table(page, report)
    assert header == ["Amt", "Projekte", "Amt (IRI)"]
    assert rows == [["'" + evil.label, -3.0, f"{BASE}department/x"]]
    assert [ui.spreadsheet_safe(s) for s in ("+1", "-1", "@SUM(A1)", "\t=1", "plain")] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\t=1",
        "plain",
    ]


def test_xlsx_export_writes_text_cells_never_formulas(ui_client, store):
    response = ui_client.get("/gaps/silo-departments", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert all(cell.data_type in ("s", "n") for row in sheet.iter_rows() for cell in row)


def test_missing_named_query_shows_report_not_available(store, tmp_path):
    app = ui_app(store)
    app.state.queries = QueryRegistry(tmp_path)
    with TestClient(app, base_url="https://testserver") as client:
        for path in ("/", "/gaps/missing-bridges", "/page/department/tiefbauamt"):
            notices = html(client.get(path)).find_all("p", **{"class": "notice"})
            assert any("Bericht nicht verfügbar." in n.text() for n in notices), path


def test_unknown_gap_report_is_404(ui_client):
    assert ui_client.get("/gaps/nonsense").status_code == 404


# -- search ---------------------------------------------------------------------------------------


def test_search_for_radweg_shows_projects_grouped_by_type(ui_client):
    page = html(ui_client.get("/search", params={"q": "Radweg"}))
    group = page.find("h3", id="group-project").parent
    titles = [a.text() for a in group.find_all("a")]
    assert "Sanierung Radweg Bahnhofstraße" in titles
    assert all(h.attrs["id"].startswith("group-") for h in page.find_all("h3") if h.attrs.get("id"))


def test_search_field_is_a_labelled_combobox_for_suggestions(ui_client):
    page = html(ui_client.get("/search"))
    field = page.find("input", id="q")
    assert page.find("label", for_="q").text() == "Suchbegriff"
    assert field.attrs["role"] == "combobox" and field.attrs["data-suggest-url"] == "/api/search/suggest"
    assert page.find("ul", id=field.attrs["aria-controls"]).attrs["role"] == "listbox"


def test_search_for_a_target_answers_who_works_on_it(ui_client):
    page = html(ui_client.get("/search", params={"q": "11.2"}))
    table = page.find("table", id="who-table")
    departments = [th.text() for th in table.find("tbody").find_all("th")]
    assert "Tiefbauamt" in departments and "Umweltamt" in departments
    assert all(th.attrs["scope"] == "row" for th in table.find("tbody").find_all("th"))


def test_who_works_on_an_unknown_code_says_so(ui_client):
    page = html(ui_client.get("/search", params={"sdg_code": "99.9"}))
    assert "99.9" in page.find("p", role="alert").text()


# -- entity pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("department/tiefbauamt", "Tiefbauamt"),
        ("project/radverkehrskonzept", "Radverkehrskonzept 2030"),
        ("dataset/luftmessdaten", "Luftmessdaten (NO2, PM10, PM2,5)"),
        ("sdg/11.2", "11.2 Sichere, bezahlbare und nachhaltige Verkehrssysteme für alle"),
        ("sdg/11", "11 Nachhaltige Städte und Gemeinden"),
    ],
)
def test_entity_pages_show_what_it_is_and_link_to_its_data(ui_client, path, heading):
    page = html(ui_client.get(f"/page/{path}"))
    assert page.find("h1").text() == heading
    alternates = {link.attrs["type"]: link.attrs["href"] for link in page.find_all("link", rel="alternate")}
    assert set(alternates) == {"text/turtle", "application/ld+json"}
    if not path.startswith("sdg/"):
        assert alternates["text/turtle"] == f"/id/{path}"
    assert page_links(page.find("main"))


def test_entity_page_turtle_link_gives_the_entity_as_rdf(ui_client):
    page = html(ui_client.get("/page/project/radverkehrskonzept"))
    href = next(a.attrs["href"] for a in page.find_all("a") if a.attrs.get("type") == "text/turtle")
    response = ui_client.get(href)
    triples = list(parse(response.content, format=RdfFormat.TURTLE))
    assert any(t.subject == NamedNode(f"{BASE}project/radverkehrskonzept") for t in triples)


def test_sdg_page_turtle_link_describes_the_target(ui_client):
    page = html(ui_client.get("/page/sdg/11.2"))
    href = next(a.attrs["href"] for a in page.find_all("a") if a.attrs.get("type") == "text/turtle")
    triples = list(parse(ui_client.get(href).content, format=RdfFormat.TURTLE))
    assert any(t.subject == NamedNode("http://metadata.un.org/sdg/11.2") for t in triples)


def test_entity_page_sends_rdf_clients_to_the_data(ui_client):
    response = ui_client.get("/page/dataset/luftmessdaten", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/id/dataset/luftmessdaten?format=turtle"


def test_department_page_lists_projects_by_goal_for_the_heatmap_links(ui_client):
    page = html(ui_client.get("/page/department/tiefbauamt"))
    goal_11 = page.find("h3", id="goal-11")
    projects = goal_11.parent.children[goal_11.parent.children.index(goal_11) + 1 :]
    titles = [a.text() for node in projects if isinstance(node, Node) for a in node.find_all("a")]
    assert "Radverkehrskonzept 2030" in titles


def test_project_page_names_lead_and_partner_departments(ui_client):
    page = html(ui_client.get("/page/project/radverkehrskonzept"))
    section = page.find("section", **{"aria-labelledby": "section-departments"})
    rows = {tr.find_all("td")[0].text(): tr.find_all("td")[1].text() for tr in section.find("tbody").find_all("tr")}
    assert rows == {"Tiefbauamt": "Federführung", "Stadtplanungsamt": "Partner"}


@pytest.mark.parametrize("path", ["department/nope", "sdg/99.9", "secret/x", "project/../../etc"])
def test_unknown_entities_are_404(ui_client, path):
    assert ui_client.get(f"/page/{path}").status_code == 404


# -- visibility and login -------------------------------------------------------------------------


def people(store) -> list[tuple[str, str, str]]:
    rows = select(
        store,
        "SELECT ?p ?name ?mail { ?p a <http://xmlns.com/foaf/0.1/Person> ; <http://xmlns.com/foaf/0.1/name> ?name ;"
        " <http://xmlns.com/foaf/0.1/mbox> ?mail }",
        internal=True,
    )
    return [(r["p"].value, r["name"].value, r["mail"].value.removeprefix("mailto:")) for r in rows]


ANONYMOUS_PAGES = [
    "/",
    "/gaps",
    *[f"/gaps/{kind}" for kind in GAP_KINDS],
    "/search?q=Radweg",
    "/search?q=11.2",
    "/search?q=Tiefbauamt",
    "/page/department/tiefbauamt",
    "/page/project/radverkehrskonzept",
    "/page/dataset/luftmessdaten",
    "/page/sdg/11.2",
]


def test_anonymous_pages_show_no_personal_data(ui_client, store):
    staff = people(store)
    assert staff
    for path in ANONYMOUS_PAGES:
        text = ui_client.get(path).text
        leaked = [name for iri, name, mail in staff if name in text or mail in text or iri in text]
        assert not leaked, (path, leaked[:3])


def test_person_pages_are_404_for_anonymous_visitors(ui_client, store):
    iri, _, _ = people(store)[0]
    assert ui_client.get("/page/" + iri.removeprefix(BASE)).status_code == 404


def test_staff_token_shows_person_pages_and_contact_persons(ui_client, store):
    iri, name, mail = people(store)[0]
    page = html(ui_client.get("/page/" + iri.removeprefix(BASE), headers=READER))
    assert page.find("h1").text() == name
    assert mail in [a.text() for a in page.find_all("a")]


def test_staff_see_the_people_of_a_department_and_anonymous_visitors_do_not(ui_client):
    staff = html(ui_client.get("/page/department/tiefbauamt", headers=READER))
    anonymous = html(ui_client.get("/page/department/tiefbauamt"))
    people_rows = staff.find("section", **{"aria-labelledby": "section-people"}).find("tbody").find_all("tr")
    assert people_rows and all(page_links(row)[0].startswith("/page/person/") for row in people_rows)
    assert not anonymous.find_all("section", **{"aria-labelledby": "section-people"})


def test_login_sets_a_secure_httponly_strict_session_cookie(fresh_client):
    response = fresh_client.post("/login", data={"token": READER_TOKEN, "next": "/gaps"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/gaps"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{ui.SESSION_COOKIE}=")
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= {p.strip() for p in cookie.split(";")}


def test_login_session_shows_internal_data(fresh_client):
    anonymous = html(fresh_client.get("/page/project/radverkehrskonzept")).find("dl", **{"class": "facts"}).text()
    fresh_client.post("/login", data={"token": READER_TOKEN})
    staff = html(fresh_client.get("/page/project/radverkehrskonzept")).find("dl", **{"class": "facts"}).text()
    assert "Ansprechperson" not in anonymous and "Ansprechperson" in staff


def test_logout_ends_the_session(fresh_client):
    fresh_client.post("/login", data={"token": READER_TOKEN})
    old = fresh_client.cookies.get(ui.SESSION_COOKIE)
    fresh_client.post("/logout")
    assert fresh_client.cookies.get(ui.SESSION_COOKIE) is None
    replayed = fresh_client.get("/page/project/radverkehrskonzept", headers={"Cookie": f"{ui.SESSION_COOKIE}={old}"})
    assert "Ansprechperson" not in html(replayed).find("dl", **{"class": "facts"}).text()


def test_login_with_a_wrong_token_is_refused_without_a_cookie(fresh_client):
    response = fresh_client.post("/login", data={"token": "guess"})
    assert response.status_code == 401 and "set-cookie" not in response.headers


def test_login_from_another_site_is_refused(fresh_client):
    response = fresh_client.post("/login", data={"token": READER_TOKEN}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_only_redirects_within_the_site(fresh_client, target):
    response = fresh_client.post("/login", data={"token": READER_TOKEN, "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


# -- language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "de"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8,de;q=0.7", "en"),
        ("en;q=0.5,de;q=0.5", "de"),
        ("de-CH", "de"),
        ("fr", "de"),
    ],
)
def test_language_follows_accept_language_german_first(header, lang):
    assert i18n.from_accept_language(header) == lang


def test_language_switch_sets_a_cookie_that_later_pages_follow(fresh_client):
    headers = {"Accept-Language": "de"}
    assert html(fresh_client.get("/", headers=headers)).find("html").attrs["lang"] == "de"
    switched = html(fresh_client.get("/?lang=en", headers=headers))
    assert switched.find("html").attrs["lang"] == "en"
    assert switched.find("h1").text() == "Sustainability in Musterstadt: who works on what?"
    assert html(fresh_client.get("/gaps", headers=headers)).find("h1").text() == "Gaps"


def test_language_switch_link_keeps_the_page_and_its_filters(ui_client):
    page = html(ui_client.get("/gaps/missing-bridges", params={"goal": "11"}))
    switch = page.find("a", hreflang="en")
    assert switch.attrs["href"] == "/gaps/missing-bridges?goal=11&lang=en"
    assert switch.attrs["lang"] == "en" and switch.text() == "English"


def test_both_catalogues_have_the_same_keys():
    assert set(i18n.MESSAGES["de"]) == set(i18n.MESSAGES["en"])


def test_templates_use_only_keys_of_the_catalogue():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.-]+)["']\s*[,)]""", template.read_text()))
    assert used and used <= set(i18n.MESSAGES["de"])


# -- accessibility and safety ---------------------------------------------------------------------

PAGES = [
    "/",
    "/gaps",
    "/gaps/missing-bridges",
    "/gaps/silo-departments",
    "/search?q=Radweg&sdg_code=11.2",
    "/page/department/tiefbauamt",
    "/page/project/radverkehrskonzept",
    "/page/dataset/luftmessdaten",
    "/page/sdg/11",
    "/login",
    "/def?format=html",
    "/derived/worksOnTarget?format=html",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_landmarks_a_skip_link_and_ordered_headings(ui_client, path):
    page = html(ui_client.get(path))
    assert page.find("html").attrs["lang"] == "de"
    assert page.find("a", **{"class": "skip-link"}).attrs["href"] == "#main"
    assert page.find("main").attrs["id"] == "main"
    assert page.find_all("header") and page.find_all("nav") and page.find_all("footer")
    levels = [int(n.tag[1]) for n in page.iter() if re.fullmatch(r"h[1-6]", n.tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


@pytest.mark.parametrize("path", PAGES)
def test_table_headers_have_scope_and_fields_have_labels(ui_client, path):
    page = html(ui_client.get(path))
    assert all(th.attrs.get("scope") in ("col", "row") for th in page.find_all("th"))
    labelled = {label.attrs.get("for") for label in page.find_all("label")}
    fields = [n for n in page.iter() if n.tag in ("input", "select") and n.attrs.get("type") != "hidden"]
    assert all(f.attrs.get("id") in labelled for f in fields)


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_or_style_and_a_strict_csp(ui_client, path):
    response = ui_client.get(path)
    page = html(response)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert all(s.attrs.get("src") for s in page.find_all("script")) and not page.find_all("style")
    assert not [(n.tag, a) for n in page.iter() for a in n.attrs if a.startswith("on") or a == "style"]


def test_every_value_is_escaped(tmp_path):
    store = fill(EmbeddedStore(None))
    graph = NamedNode(f"{BASE}graph/evil")
    project = NamedNode(f"{BASE}project/evil")
    quads = [
        Quad(project, RDF.type, QS.Project, graph),
        Quad(project, DCT["title"], Literal('<script>alert("x")</script>', language="de"), graph),
        Quad(project, DCT.description, Literal("<img src=x onerror=alert(1)>", language="de"), graph),
    ]
    store.replace_graph(graph.value, quads, visibility=Visibility.PUBLIC, source="t", loader="t", checksum="z")
    with TestClient(ui_app(store), base_url="https://testserver") as client:
        page = client.get("/page/project/evil")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert html(page).find("h1").text() == '<script>alert("x")</script>'


def test_static_files_are_served_without_a_cdn(ui_client):
    page = html(ui_client.get("/"))
    sources = [n.attrs.get("href") for n in page.find_all("link")] + [s.attrs["src"] for s in page.find_all("script")]
    assert all(s.startswith("/") and not s.startswith("//") for s in sources if s)
    assert ui_client.get("/static/ui/ui.css").status_code == 200
    assert ui_client.get("/static/ui/ui.js").status_code == 200


def test_print_stylesheet_hides_navigation_and_forms():
    css = (Path(ui.__file__).parent / "static" / "ui" / "ui.css").read_text()
    print_rules = css[css.index("@media print") :]
    assert all(selector in print_rules for selector in (".site-nav", ".filters", ".search-form", ".paging"))


# -- German sort order -----------------------------------------------------------


def test_names_sort_as_in_a_german_dictionary_not_by_code_point():
    names = [
        "Zollamt",
        "Übersetzungsbüro",
        "ÖPNV-Haltestellen",
        "Ordnungsamt",
        "Kämmerei",
        "Kulturamt",
        "Straße 10",
        "Straße 2",
    ]
    assert sorted(names, key=sort_key) == [
        "Kämmerei",
        "Kulturamt",
        "ÖPNV-Haltestellen",
        "Ordnungsamt",
        "Straße 2",
        "Straße 10",
        "Übersetzungsbüro",
        "Zollamt",
    ]


def test_department_lists_put_umlauts_under_their_base_letter():
    store = fill(EmbeddedStore(None))
    graph = NamedNode(f"{BASE}graph/collation")
    quads = []
    for key, name in (("z", "Zollamt"), ("oe", "Ökologiebüro"), ("o", "Ordnungsamt"), ("a", "Amt für Umwelt")):
        department = NamedNode(f"{BASE}department/{key}")
        quads += [
            Quad(department, RDF.type, ORG.OrganizationalUnit, graph),
            Quad(department, FOAF.name, Literal(name), graph),
        ]
    store.replace_graph(graph.value, quads, visibility=Visibility.PUBLIC, source="t", loader="t", checksum="c")
    with TestClient(ui_app(store), base_url="https://testserver") as client:
        select_ = html(client.get("/gaps/missing-bridges")).find("select", id="filter-department")
    shown = [o.text() for o in select_.find_all("option")[1:]]
    assert shown.index("Ökologiebüro") < shown.index("Ordnungsamt") < shown.index("Zollamt")
    assert shown == sorted(shown, key=sort_key)


# -- questions in the search box ------------------------------------------------


def answer_rows(page: Node) -> list[str]:
    return [th.text() for th in page.find("table", id="who-table").find("tbody").find_all("th")]


@pytest.mark.parametrize("q", ["Wer arbeitet an 11.2?", "11.2", "SDG 11.2"])
def test_a_question_about_a_target_is_answered_with_its_departments(ui_client, q):
    page = html(ui_client.get("/search", params={"q": q}))
    assert {"Tiefbauamt", "Umweltamt"} <= set(answer_rows(page))
    assert "Kein Eintrag enthält alle Wörter" not in page.text()


def test_a_goal_number_is_answered_with_the_departments_working_on_the_goal(ui_client):
    page = html(ui_client.get("/search", params={"q": "Ziel 13"}))
    assert page.find("h2", id="answer-heading").find("a").text() == "13"
    assert "Umweltamt" in answer_rows(page)


@pytest.mark.parametrize("q", ["Wer arbeitet an Radverkehr?", "Klimaschutz"])
def test_a_topic_is_answered_with_the_departments_behind_the_projects_found(ui_client, q):
    page = html(ui_client.get("/search", params={"q": q}))
    rows = page.find("table", id="who-table").find("tbody").find_all("tr")
    assert rows and all(page_links(row.find("th"))[0].startswith("/page/department/") for row in rows)
    assert all(page_links(row.find_all("td")[0]) or page_links(row.find_all("td")[1]) for row in rows)
    assert "Kein Eintrag enthält alle Wörter" not in page.text()


def test_the_answer_comes_before_the_hits_and_ranks_departments_by_projects(ui_client):
    page = html(ui_client.get("/search", params={"q": "Wer arbeitet an Radverkehr?"}))
    headings = [h.attrs.get("id") for h in page.find_all("h2")]
    assert headings.index("answer-heading") < headings.index("results-heading")
    counts = [
        len(page_links(row.find_all("td")[0]))
        for row in page.find("table", id="who-table").find("tbody").find_all("tr")
    ]
    assert counts == sorted(counts, reverse=True)
    assert answer_rows(page)[0] == "Tiefbauamt"


def test_staff_get_the_contact_persons_of_a_topic_and_anonymous_visitors_do_not(ui_client):
    params = {"q": "Wer arbeitet an Radverkehr?"}
    staff = html(ui_client.get("/search", params=params, headers={"Authorization": f"Bearer {READER_TOKEN}"}))
    assert [a.attrs["href"] for a in staff.find("ul", **{"class": "people"}).find_all("a")]
    anonymous = html(ui_client.get("/search", params=params))
    assert not anonymous.find_all("ul", **{"class": "people"})
    assert not any(link.startswith("/page/person/") for link in page_links(anonymous))


def test_search_results_list_no_indicator_with_a_placeholder_name(ui_client):
    page = html(ui_client.get("/search", params={"q": "11.2"}))
    assert not [a.text() for a in page.find_all("a") if re.fullmatch(r"Indikator \d+\.\w+\.\d+", a.text())]


# -- the catalog for people ----------------------------------------------------

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def paged_client(store) -> Iterator[TestClient]:
    """The demo with 20 datasets per catalog page."""
    app = create_app(make_settings(catalog_page_size=20), store=store)
    for router in (ui.router, search.router, publishing.router):
        app.include_router(router)
    with TestClient(app, base_url="https://testserver", headers={"Accept-Language": "de"}) as client:
        yield client


def test_a_browser_opening_the_catalog_gets_a_page_of_datasets(paged_client):
    response = paged_client.get("/catalog", headers={"Accept": BROWSER_ACCEPT})
    page = html(response)
    rows = page.find("table", id="catalog").find("tbody").find_all("tr")
    assert len(rows) == 20 and all(page_links(row.find("th"))[0].startswith("/page/dataset/") for row in rows)
    assert all(any(link.startswith("/page/department/") for link in page_links(row)) for row in rows)
    assert "Accept" in response.headers["vary"]


def test_the_catalog_page_pages_and_links_its_rdf_documents(paged_client):
    page = html(paged_client.get("/catalog", params={"page": 2}, headers={"Accept": BROWSER_ACCEPT}))
    assert page.find("a", rel="next").attrs["href"] == "/catalog?page=3"
    formats = [(a.attrs["type"], a.attrs["href"]) for a in page.find_all("a") if "format-link" in a.classes()]
    assert ("text/turtle", "/catalog.ttl?page=2") in formats and ("text/turtle", "/catalog.ttl?full=1") in formats
    assert ("application/rdf+xml", "/catalog.rdf?page=2") in formats
    alternates = [link.attrs["href"] for link in page.find_all("link") if link.attrs.get("rel") == "alternate"]
    assert "/catalog.jsonld?page=2" in alternates
    assert paged_client.get("/catalog.ttl?page=2").headers["content-type"].startswith("text/turtle")


def test_a_catalog_page_past_the_last_is_404(paged_client):
    assert paged_client.get("/catalog", params={"page": 99}, headers={"Accept": BROWSER_ACCEPT}).status_code == 404


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/rdf+xml, text/turtle;q=0.9, */*;q=0.1", "application/rdf+xml"),
        ("text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, */*;q=0.5", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("text/html;q=0.5, text/turtle", "text/turtle"),
    ],
)
def test_harvesters_keep_getting_rdf_from_the_catalog(paged_client, accept, media_type):
    response = paged_client.get("/catalog", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
