"""The staff spreadsheet loader: reading workbooks and CSVs, mapping to the model, problems, round trips.

What the loader writes is read back through a store of each backend (`backend` in conftest.py): the
mapping tests and the round trip run on the embedded store and on Virtuoso.
"""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import openpyxl
import pytest
from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, parse

from api.demo import visibility_of
from loaders.report import LoadResult, Severity
from loaders.sdg import taxonomy_quads
from loaders.shapes import validate
from loaders.staff import (
    Municipality,
    build,
    export_rows,
    read_sheets,
    sheets_from_rows,
    write_sheets,
    write_template,
)
from loaders.vocab import QS

GOOD_DIR = Path(__file__).parent / "data" / "staff" / "good"
BASE = "https://musterstadt.example/id/"
GRAPH = f"{BASE}graph/staff"
INTERNAL = f"{BASE}graph/staff-internal"
MUNICIPALITY = Municipality("Musterstadt", "05999001")
PREFIXES = """
PREFIX qs: <https://w3id.org/querschnitt/def#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX project: <https://musterstadt.example/id/project/>
PREFIX department: <https://musterstadt.example/id/department/>
PREFIX dataset: <https://musterstadt.example/id/dataset/>
PREFIX person: <https://musterstadt.example/id/person/>
PREFIX role: <https://musterstadt.example/id/role/>
PREFIX strategy: <https://musterstadt.example/id/strategy/>
PREFIX indicator: <https://musterstadt.example/id/indicator/>
PREFIX municipality: <https://musterstadt.example/id/municipality/>
"""

# The fixture CSVs in tests/data/staff/good/ hold the same data with German headers, `;` and German dates.
GOOD: dict[str, list[dict[str, str]]] = {
    "departments": [
        {"id": "dez-3", "name": "Dezernat III – Planen und Bauen", "email": "dezernat3@musterstadt.example"},
        {"id": "61", "name": "Stadtplanungsamt", "parent": "dez-3", "email": "stadtplanung@musterstadt.example",
         "website": "https://musterstadt.example/stadtplanung"},
        {"id": "66", "name": "Tiefbauamt", "parent": "dez-3", "email": "tiefbau@musterstadt.example"},
        {"id": "31", "name": "Umweltamt", "email": "umwelt@musterstadt.example",
         "website": "https://musterstadt.example/umwelt"},
    ],
    "people": [
        {"id": "mmuster", "name": "Maria Muster", "email": "maria.muster@musterstadt.example",
         "phone": "+49 621 1234-56", "department": "61", "role": "Amtsleitung"},
        {"id": "pbeispiel", "name": "Paul Beispiel", "email": "paul.beispiel@musterstadt.example",
         "phone": "0621 1234-78", "department": "66", "role": "Sachbearbeitung"},
    ],
    "projects": [
        {"id": "radweg-nord", "title": "Radschnellweg Nord",
         "description": "Ausbau des Radwegs zwischen Nordstadt und Zentrum.", "lead_department": "66",
         "partner_departments": "61; 31", "sdg": "11.2; SDG 3.6", "status": "laufend", "start": "2024-03-01",
         "end": "2026-12-31", "uses_datasets": "radverkehrszaehlung", "contact_person": "pbeispiel",
         "url": "https://musterstadt.example/radweg", "strategy": "oz-1.1.1"},
        {"id": "klimaanpassung", "title": "Klimaanpassungskonzept", "lead_department": "31", "sdg": "13",
         "status": "geplant", "start": "2025-01-01", "uses_datasets": "stadtklima", "contact_person": "mmuster"},
    ],
    "datasets": [
        {"id": "radverkehrszaehlung", "title": "Radverkehrszählung",
         "description": "Stündliche Zählwerte der Dauerzählstellen.", "department": "66", "sdg": "11.2",
         "theme": "TRAN", "license": "dl-by-de/2.0", "format": "CSV",
         "access_url": "https://opendata.musterstadt.example/radverkehr",
         "download_url": "https://opendata.musterstadt.example/radverkehr.csv",
         "keywords": "Radverkehr; Mobilität", "public": "ja", "modified": "2025-01-15", "frequency": "DAILY"},
        {"id": "stadtklima", "title": "Stadtklimaanalyse (Entwurf)", "description": "Interne Modellrechnung.",
         "department": "31", "sdg": "13.1", "theme": "ENVI", "format": "PDF",
         "access_url": "https://intranet.musterstadt.example/klima", "keywords": "Klima", "public": "nein",
         "modified": "2024-11-30", "frequency": "IRREG"},
    ],
    "indicators": [
        {"id": "radverkehrsanteil", "title": "Anteil Radverkehr am Modal Split", "unit": "%", "sdg": "11.2",
         "department": "66", "2022": "18.5", "2023": "21"},
    ],
    "strategy": [
        {"id": "ll-1", "level": "leitlinie", "title": "Nachhaltige Mobilität", "sdg": "11"},
        {"id": "sz-1.1", "level": "strategisches_ziel", "title": "Umweltverbund stärken", "parent": "ll-1",
         "sdg": "11.2"},
        {"id": "oz-1.1.1", "level": "operatives_ziel", "title": "Radverkehrsanteil bis 2030 auf 25 % steigern",
         "parent": "sz-1.1", "sdg": "11.2"},
    ],
}  # fmt: skip


def load_rows(rows: dict[str, list[dict[str, str]]]) -> LoadResult:
    return build(
        sheets_from_rows(rows, source="test"),
        base=BASE,
        municipality=MUNICIPALITY,
        graph=GRAPH,
        internal_graph=INTERNAL,
    )


def load_paths(*paths: Path) -> LoadResult:
    sheets, problems = read_sheets(list(paths))
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    return build(sheets, base=BASE, municipality=MUNICIPALITY, graph=GRAPH, internal_graph=INTERNAL)


def write(store, result: LoadResult):
    """`result` into `store`, as `querschnitt load` writes it: both graphs in one step."""
    store.replace_graphs(
        (q for quads in result.graphs.values() for q in quads),
        visibility={g: visibility_of(g) for g in result.graphs},
        source="test",
        loader="staff-sheets",
        checksum="sha256:0",
    )
    return store


def ask(store, where: str) -> bool:
    return bool(store.query(PREFIXES + f"ASK {{ {where} }}", include_internal=True))


def select(store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query, include_internal=True)
    return sorted(tuple(term.value for term in row) for row in solutions)


def dumped(store) -> list[Quad]:
    """The store's graphs read back as quads, as `querschnitt export` writes them."""
    out = io.BytesIO()
    store.dump(out)
    return list(parse(out.getvalue(), RdfFormat.N_QUADS))


def all_quads(result: LoadResult) -> set[Quad]:
    return {q for quads in result.graphs.values() for q in quads}


@pytest.fixture(scope="module")
def good() -> LoadResult:
    return load_paths(GOOD_DIR)


@pytest.fixture
def good_store(backend, good: LoadResult):
    """The good fixture written to each backend (once per module), read only."""
    return backend.shared("staff-good", lambda store: write(store, good))


# --- the good workbook -------------------------------------------------------------------------------


def test_the_good_fixture_loads_without_errors_and_counts_every_entity(good: LoadResult) -> None:
    assert good.errors == []
    assert {k: good.counts[k] for k in ("departments", "people", "projects", "datasets", "indicators", "strategy")} == {
        "departments": 4,
        "people": 2,
        "projects": 2,
        "datasets": 2,
        "indicators": 1,
        "strategy": 3,
    }
    assert good.counts["triples"] == len(all_quads(good))


def test_the_good_fixture_has_no_problems_since_its_unlicensed_dataset_is_internal(good: LoadResult) -> None:
    # Only the note that klimaanpassung (SDG 13, no target) is in no target-level report.
    assert [(p.severity, p.sheet, p.row, p.column) for p in good.problems] == [
        (Severity.WARNING, "projects", 3, "F (SDG)")
    ]


def test_a_public_dataset_without_licence_is_a_warning() -> None:
    rows = copy.deepcopy(GOOD)
    rows["datasets"][0]["license"] = ""
    result = load_rows(rows)
    assert result.ok
    assert ("datasets", "G (Lizenz)", "Public dataset without licence.") in [
        (p.sheet, p.column, p.message_en) for p in result.problems
    ]


def test_german_csv_fixture_and_generated_rows_give_the_same_quads(good: LoadResult) -> None:
    assert all_quads(load_rows(GOOD)) == all_quads(good)


def test_project_has_its_lead_department_as_a_qualified_association(good_store) -> None:
    assert ask(
        good_store,
        """
        GRAPH <https://musterstadt.example/id/graph/staff> {
            project:radweg-nord prov:qualifiedAssociation <https://musterstadt.example/id/project/radweg-nord#lead> ;
                prov:wasAssociatedWith department:66 .
            <https://musterstadt.example/id/project/radweg-nord#lead> prov:agent department:66 ;
                prov:hadRole qs:LeadRole .
        }""",
    )


def test_project_partners_are_associated_with_the_partner_role(good_store) -> None:
    partners = select(
        good_store,
        """SELECT ?d WHERE {
        project:radweg-nord prov:qualifiedAssociation ?a . ?a prov:hadRole qs:PartnerRole ; prov:agent ?d }""",
    )
    assert partners == [(f"{BASE}department/31",), (f"{BASE}department/61",)]


def test_project_sdg_links_are_contributions_and_subjects(good_store) -> None:
    contributes = select(good_store, "SELECT ?t WHERE { project:radweg-nord qs:contributesTo ?t }")
    subjects = select(good_store, "SELECT ?t WHERE { project:radweg-nord dct:subject ?t }")
    assert contributes == subjects == [("http://metadata.un.org/sdg/11.2",), ("http://metadata.un.org/sdg/3.6",)]


def test_project_status_dates_and_used_dataset_are_mapped(good_store) -> None:
    assert ask(
        good_store,
        """project:radweg-nord qs:status qs:running ;
        prov:startedAtTime "2024-03-01"^^xsd:date ; prov:endedAtTime "2026-12-31"^^xsd:date ;
        prov:used dataset:radverkehrszaehlung ; qs:implements <https://musterstadt.example/id/strategy/oz-1.1.1> ;
        foaf:homepage <https://musterstadt.example/radweg> ; dct:title "Radschnellweg Nord"@de""",
    )


def test_dataset_licence_format_and_theme_are_the_standard_iris(good_store) -> None:
    assert ask(
        good_store,
        """GRAPH <https://musterstadt.example/id/graph/staff> {
        dataset:radverkehrszaehlung a dcat:Dataset ;
            dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
            dct:publisher municipality:municipality ; dct:creator department:66 ;
            dct:modified "2025-01-15"^^xsd:date ;
            dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY> ;
            dcat:keyword "Radverkehr"@de, "Mobilität"@de ;
            dcat:distribution <https://musterstadt.example/id/dataset/radverkehrszaehlung/distribution/1> .
        <https://musterstadt.example/id/dataset/radverkehrszaehlung/distribution/1> a dcat:Distribution ;
            dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0> ;
            dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
            dcat:accessURL <https://opendata.musterstadt.example/radverkehr> ;
            dcat:downloadURL <https://opendata.musterstadt.example/radverkehr.csv> . }""",
    )


def test_dataset_without_licence_has_no_licence_triple(good_store) -> None:
    assert not ask(good_store, "<https://musterstadt.example/id/dataset/stadtklima/distribution/1> dct:license ?l")


def test_person_email_is_only_in_the_internal_graph(good_store) -> None:
    mbox = "<mailto:maria.muster@musterstadt.example>"
    assert ask(good_store, f"GRAPH <{INTERNAL}> {{ person:mmuster foaf:mbox {mbox} ; foaf:name 'Maria Muster' }}")
    assert not ask(good_store, f"GRAPH <{GRAPH}> {{ ?s ?p {mbox} }}")
    assert not ask(good_store, f"GRAPH <{GRAPH}> {{ person:mmuster ?p ?o }}")


def test_person_phone_membership_and_role_are_internal(good_store) -> None:
    assert ask(
        good_store,
        f"""GRAPH <{INTERNAL}> {{
        person:mmuster foaf:phone <tel:+49-621-1234-56> ; org:memberOf department:61 .
        ?m a org:Membership ; org:member person:mmuster ; org:organization department:61 ;
            org:role role:amtsleitung .
        role:amtsleitung a org:Role ; skos:prefLabel "Amtsleitung"@de . }}""",
    )


def test_contact_person_link_is_only_in_the_internal_graph(good_store) -> None:
    assert ask(good_store, f"GRAPH <{INTERNAL}> {{ project:radweg-nord qs:contactPerson person:pbeispiel }}")
    assert not ask(good_store, f"GRAPH <{GRAPH}> {{ ?s qs:contactPerson ?o }}")


def test_non_public_dataset_with_its_distribution_and_usage_is_internal(good_store) -> None:
    assert ask(
        good_store,
        f"""GRAPH <{INTERNAL}> {{ dataset:stadtklima a dcat:Dataset ;
        dcat:distribution <https://musterstadt.example/id/dataset/stadtklima/distribution/1> .
        <https://musterstadt.example/id/dataset/stadtklima/distribution/1> dcat:accessURL ?u .
        project:klimaanpassung prov:used dataset:stadtklima }}""",
    )
    assert not ask(
        good_store, f"GRAPH <{GRAPH}> {{ {{ dataset:stadtklima ?p ?o }} UNION {{ ?s ?p dataset:stadtklima }} }}"
    )


def test_departments_hang_below_their_parent_or_else_the_municipality(good_store) -> None:
    assert ask(
        good_store,
        """department:61 org:subOrganizationOf department:dez-3 ; foaf:name "Stadtplanungsamt"@de ;
        org:identifier "61" ; foaf:mbox <mailto:stadtplanung@musterstadt.example> .
        department:dez-3 org:unitOf municipality:municipality .""",
    )
    assert not ask(good_store, "department:61 org:unitOf ?m")


def test_a_unit_marked_as_its_own_administration_is_typed_so_and_the_others_are_not() -> None:
    rows = copy.deepcopy(GOOD)
    rows["departments"][0]["administration"] = "ja"
    quads = all_quads(load_rows(rows))
    administrations = {q.subject.value for q in quads if q.object == QS.Administration}
    assert administrations == {f"{BASE}department/dez-3"}


def test_municipality_carries_its_name_and_ags(good_store) -> None:
    assert ask(
        good_store,
        f"""GRAPH <{GRAPH}> {{ municipality:municipality a org:FormalOrganization, foaf:Agent ;
        foaf:name "Musterstadt" ; org:identifier "05999001" ;
        dct:type <http://purl.org/adms/publishertype/LocalAuthority> ;
        dct:spatial <http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05999001> }}""",
    )


def test_indicator_values_become_decimal_observations_per_year(good_store) -> None:
    values = select(
        good_store,
        """SELECT ?year ?value WHERE { ?o qb:dataSet indicator:radverkehrsanteil ;
        sdmx-dimension:refPeriod ?year ; sdmx-measure:obsValue ?value ; sdmx-dimension:refArea municipality:municipality .
        FILTER(datatype(?value) = xsd:decimal && datatype(?year) = xsd:gYear) }""",
    )
    assert values == [("2022", "18.5"), ("2023", "21")]


def test_strategy_levels_form_a_skos_hierarchy(good_store) -> None:
    assert ask(
        good_store,
        """<https://musterstadt.example/id/strategy/oz-1.1.1> a skos:Concept, qs:OperationalGoal ; skos:broader <https://musterstadt.example/id/strategy/sz-1.1> ;
            skos:inScheme <https://musterstadt.example/id/strategy> ; qs:contributesTo <http://metadata.un.org/sdg/11.2> .
        <https://musterstadt.example/id/strategy/sz-1.1> a qs:StrategicGoal ; skos:broader strategy:ll-1 .
        strategy:ll-1 a qs:GuidingPrinciple . <https://musterstadt.example/id/strategy> a skos:ConceptScheme .""",
    )


def test_the_good_fixture_conforms_to_the_shapes(good: LoadResult) -> None:
    problems = validate(all_quads(good), extra=taxonomy_quads(NamedNode(f"{BASE}graph/sdg")))
    assert [str(p) for p in problems if p.severity is Severity.ERROR] == []


def test_output_is_deterministic_and_free_of_blank_nodes(good: LoadResult) -> None:
    again = load_paths(GOOD_DIR)
    assert again.graphs == good.graphs
    assert not any(isinstance(t, BlankNode) for q in all_quads(good) for t in (q.subject, q.object))


# --- problems ----------------------------------------------------------------------------------------

BAD = [
    # (sheet, row index, changed cells) → (row, column) of the single error
    ("departments", 1, {"name": ""}, 3, "B (Name)"),
    ("departments", 1, {"parent": "dez-9"}, 3, "C (übergeordnet)"),
    ("departments", 0, {"parent": "61"}, 2, "C (übergeordnet)"),  # dez-3 → 61 → dez-3
    ("departments", 3, {"email": "umwelt(at)musterstadt"}, 5, "D (E-Mail)"),
    ("departments", 3, {"website": "musterstadt.example/umwelt"}, 5, "E (Webseite)"),
    ("people", 0, {"email": "maria.muster@"}, 2, "C (E-Mail)"),
    ("people", 0, {"phone": "ruf mich an"}, 2, "D (Telefon)"),
    ("people", 1, {"department": "98"}, 3, "E (Amt)"),
    ("projects", 1, {"id": ""}, 3, "A (ID)"),
    ("projects", 1, {"id": "radweg-nord"}, 3, "A (ID)"),
    ("projects", 1, {"id": "klima/anpassung"}, 3, "A (ID)"),
    ("projects", 1, {"id": "klima..anpassung"}, 3, "A (ID)"),
    ("projects", 1, {"id": "klima anpassung"}, 3, "A (ID)"),
    ("projects", 0, {"title": ""}, 2, "B (Titel)"),
    ("projects", 0, {"lead_department": "99"}, 2, "D (Federführung)"),
    ("projects", 1, {"lead_department": ""}, 3, "D (Federführung)"),
    ("projects", 0, {"lead_department": "66; 61"}, 2, "D (Federführung)"),
    ("projects", 0, {"partner_departments": "61; 98"}, 2, "E (Beteiligte Ämter)"),
    ("projects", 0, {"sdg": "11.2; 18.1"}, 2, "F (SDG)"),
    ("projects", 0, {"sdg": "11.2.1"}, 2, "F (SDG)"),
    ("projects", 0, {"status": "pausiert"}, 2, "G (Status)"),
    ("projects", 0, {"start": "31.02.2024"}, 2, "H (Beginn)"),
    ("projects", 0, {"start": "März 2024"}, 2, "H (Beginn)"),
    ("projects", 0, {"end": "2023-12-31"}, 2, "I (Ende)"),
    ("projects", 0, {"uses_datasets": "radverkehrszaehlung; nope"}, 2, "J (nutzt Datensätze)"),
    ("projects", 0, {"contact_person": "niemand"}, 2, "K (Ansprechperson)"),
    ("projects", 0, {"url": "ftp://musterstadt.example/radweg"}, 2, "L (Webseite)"),
    ("projects", 0, {"strategy": "sz-1.1"}, 2, "M (Strategie)"),
    ("projects", 0, {"strategy": "oz-9"}, 2, "M (Strategie)"),
    ("datasets", 0, {"department": "98"}, 2, "D (Amt)"),
    ("datasets", 0, {"sdg": "18.1"}, 2, "E (SDG)"),
    ("datasets", 0, {"theme": "VERKEHR-ALLES"}, 2, "F (Thema)"),
    ("datasets", 0, {"license": "meine-lizenz"}, 2, "G (Lizenz)"),
    ("datasets", 0, {"format": "DOCZ"}, 2, "H (Format)"),
    ("datasets", 0, {"access_url": "opendata.musterstadt.example/radverkehr"}, 2, "I (Zugangs-URL)"),
    ("datasets", 0, {"download_url": "https://bad host/x.csv"}, 2, "J (Download-URL)"),
    ("datasets", 0, {"public": "vielleicht"}, 2, "L (öffentlich)"),
    ("datasets", 0, {"modified": "2025-13-01"}, 2, "M (geändert)"),
    ("datasets", 0, {"frequency": "MANCHMAL"}, 2, "N (Aktualisierung)"),
    ("datasets", 0, {"format": "CSV; JSON; XML", "download_url": "https://a.example/x.csv; https://a.example/x.json"}, 2, "J (Download-URL)"),
    ("indicators", 0, {"2023": "viel"}, 2, "G (2023)"),
    ("indicators", 0, {"department": "98"}, 2, "E (Amt)"),
    ("departments", 0, {"administration": "vielleicht"}, 2, "G (eigene Verwaltung)"),
    ("strategy", 0, {"level": "vision"}, 2, "B (Ebene)"),
    ("strategy", 2, {"parent": "ll-1"}, 4, "D (übergeordnet)"),
    ("strategy", 1, {"parent": ""}, 3, "D (übergeordnet)"),
    ("strategy", 0, {"sdg": "11.2.1"}, 2, "E (SDG)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sheet", "index", "changes", "row", "column"),
    BAD,
    ids=[f"{b[0]}-{'-'.join(f'{k}={v!r}' for k, v in b[2].items())}" for b in BAD],
)
def test_a_bad_cell_gives_one_error_at_its_sheet_row_and_column(
    sheet: str, index: int, changes: dict[str, str], row: int, column: str
) -> None:
    rows = copy.deepcopy(GOOD)
    rows[sheet][index].update(changes)
    result = load_rows(rows)
    assert [(p.file, p.sheet, p.row, p.column) for p in result.errors] == [("test", sheet, row, column)]
    error = result.errors[0]
    assert error.severity is Severity.ERROR and error.message_de and error.message_en


def test_an_unknown_sdg_code_is_named_in_the_message() -> None:
    rows = copy.deepcopy(GOOD)
    rows["projects"][0]["sdg"] = "18.1"
    (error,) = load_rows(rows).errors
    assert "18.1" in error.message_de and "18.1" in error.message_en


def test_a_missing_required_column_is_reported_once_for_its_sheet(tmp_path: Path) -> None:
    (tmp_path / "departments.csv").write_text("id;name\n66;Tiefbauamt\n", encoding="utf-8")
    (tmp_path / "projects.csv").write_text("id;lead_department\na;66\nb;66\n", encoding="utf-8")
    errors = load_paths(tmp_path).errors
    assert [(p.file, p.sheet, p.row, p.column) for p in errors] == [("projects.csv", "projects", None, None)]
    assert "Titel" in errors[0].message_de and "title" in errors[0].message_en


def test_a_project_without_sdg_link_gives_a_warning() -> None:
    rows = copy.deepcopy(GOOD)
    rows["projects"][1]["sdg"] = ""
    result = load_rows(rows)
    assert result.errors == []
    assert ("projects", 3, "F (SDG)", "Project without SDG link.") in [
        (p.sheet, p.row, p.column, p.message_en) for p in result.problems
    ]


def test_several_distributions_pair_formats_and_urls_by_position(empty_store) -> None:
    rows = copy.deepcopy(GOOD)
    rows["datasets"][0].update(format="CSV; JSON", download_url="https://a.example/x.csv; https://a.example/x.json")
    store = write(empty_store, load_rows(rows))
    found = select(
        store,
        """SELECT ?d ?f ?l WHERE { dataset:radverkehrszaehlung dcat:distribution ?d .
        ?d dct:format ?f ; dcat:downloadURL ?u ; dct:license ?l }""",
    )
    file_type = "http://publications.europa.eu/resource/authority/file-type/"
    licence = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert found == [
        (f"{BASE}dataset/radverkehrszaehlung/distribution/1", f"{file_type}CSV", licence),
        (f"{BASE}dataset/radverkehrszaehlung/distribution/2", f"{file_type}JSON", licence),
    ]


# --- reading -----------------------------------------------------------------------------------------


def test_german_headers_and_sheet_names_map_to_canonical_keys(tmp_path: Path) -> None:
    (tmp_path / "Projekte.csv").write_text(
        "  ID ;TITEL;Federführung;Beteiligte Ämter;Ziele;Beginn\nx;Titel X;66;61;SDG 11.2;01.03.2024\n",
        encoding="utf-8",
    )
    sheets, problems = read_sheets([tmp_path / "Projekte.csv"])
    assert problems == []
    (row,) = sheets["projects"]
    assert dict(row.values) == {
        "id": "x",
        "title": "Titel X",
        "lead_department": "66",
        "partner_departments": "61",
        "sdg": "SDG 11.2",
        "start": "01.03.2024",
    }
    assert (row.file, row.sheet, row.row, row.column("lead_department")) == (
        "Projekte.csv",
        "Projekte",
        2,
        "C (Federführung)",
    )


def test_a_windows_1252_csv_with_umlauts_reads_correctly(tmp_path: Path) -> None:
    path = tmp_path / "departments.csv"
    path.write_bytes("ID;Name;übergeordnet\ngrün;Grünflächenamt;\n".encode("cp1252"))
    sheets, problems = read_sheets([path])
    assert problems == []
    assert sheets["departments"][0].text("name") == "Grünflächenamt"


def test_a_utf8_csv_with_bom_reads_correctly(tmp_path: Path) -> None:
    path = tmp_path / "departments.csv"
    path.write_bytes("\ufeffid,name\n31,Umweltamt für Straßen\n".encode())
    sheets, problems = read_sheets([path])
    assert problems == []
    assert dict(sheets["departments"][0].values) == {"id": "31", "name": "Umweltamt für Straßen"}


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_delimited_csvs_read_alike(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "departments.csv"
    path.write_text(f'id{delimiter}name\n31{delimiter}"Umwelt{delimiter} Klima"\n', encoding="utf-8")
    sheets, _ = read_sheets([path])
    assert dict(sheets["departments"][0].values) == {"id": "31", "name": f"Umwelt{delimiter} Klima"}


def test_unknown_columns_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "departments.csv").write_text("id,name,farbe\n31,Umweltamt,grün\n", encoding="utf-8")
    sheets, problems = read_sheets([tmp_path])
    assert [(p.severity, p.file, p.sheet, p.row, p.column) for p in problems] == [
        (Severity.WARNING, "departments.csv", "departments", 1, "C (farbe)"),
    ]
    assert dict(sheets["departments"][0].values) == {"id": "31", "name": "Umweltamt"}


@pytest.mark.parametrize(("file", "meant"), [("projekte_final.csv", "Projekte"), ("aemter-alt.csv", "Ämter")])
def test_an_unknown_csv_file_name_is_an_error_naming_the_closest_sheet(tmp_path: Path, file: str, meant: str) -> None:
    (tmp_path / file).write_text("id,title\np1,Radweg\n", encoding="utf-8")
    _, problems = read_sheets([tmp_path])
    assert [(p.severity, p.file) for p in problems] == [(Severity.ERROR, file)]
    assert f"meinten Sie »{meant}«?" in problems[0].message_de and "did you mean" in problems[0].message_en


def test_a_renamed_sheet_is_an_error_naming_the_closest_sheet(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    book["Projekte"].title = "Projekt"
    book.save(path)
    _, problems = read_sheets([path])
    assert [(p.severity, p.sheet) for p in problems] == [(Severity.ERROR, "Projekt")]
    assert "meinten Sie »Projekte«?" in problems[0].message_de


def test_a_truncated_xlsx_gives_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    write_sheets(GOOD, good)
    data = good.read_bytes()
    broken = tmp_path / "projekte.xlsx"
    broken.write_bytes(data[: len(data) // 2])
    sheets, problems = read_sheets([broken])
    assert sheets == {}
    assert [(p.severity, p.file) for p in problems] == [(Severity.ERROR, "projekte.xlsx")]
    assert "projekte.xlsx" in problems[0].message_de and "projekte.xlsx" in problems[0].message_en


def test_problems_in_an_xlsx_name_the_german_sheet_excel_row_and_column(tmp_path: Path) -> None:
    rows = copy.deepcopy(GOOD)
    rows["projects"][1]["lead_department"] = "99"
    path = tmp_path / "staff.xlsx"
    write_sheets(rows, path)
    result = load_paths(path)
    assert [(p.file, p.sheet, p.row, p.column) for p in result.errors] == [
        ("staff.xlsx", "Projekte", 3, "D (Federführung)")
    ]


def test_real_excel_date_cells_become_xsd_dates(tmp_path: Path, empty_store) -> None:
    path = tmp_path / "staff.xlsx"
    write_sheets(GOOD, path)
    workbook = openpyxl.load_workbook(path)
    assert workbook["Projekte"]["H2"].is_date
    result = load_paths(path)
    assert ask(write(empty_store, result), 'project:radweg-nord prov:startedAtTime "2024-03-01"^^xsd:date')


def test_a_duration_cell_is_reported_at_its_cell_as_the_time_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Ämter"
    sheet.append(["ID", "Name", "Webseite"])
    sheet.append(["61", "Stadtplanungsamt", 1.5])  # 36 hours
    sheet["C2"].number_format = "[h]:mm:ss"
    workbook.save(path)
    sheets, problems = read_sheets([path])
    assert problems == [] and sheets["departments"][0].text("website") == "36:00:00"
    result = build(sheets, base=BASE, municipality=MUNICIPALITY, graph=GRAPH, internal_graph=INTERNAL)
    assert [(p.row, p.column) for p in result.errors] == [(2, "C (Webseite)")]


# --- writing and round trips -------------------------------------------------------------------------


def test_the_template_documents_every_sheet_and_offers_drop_downs(tmp_path: Path) -> None:
    path = tmp_path / "vorlage.xlsx"
    write_template(path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "Hilfe"
    assert {"Ämter", "Personen", "Projekte", "Datensätze", "Indikatoren", "Strategie"} <= set(workbook.sheetnames)
    help_text = " ".join(str(c.value) for row in workbook["Hilfe"].iter_rows() for c in row if c.value)
    assert "Federführung" in help_text and "lead department" in help_text
    projects = workbook["Projekte"]
    assert [c.value for c in projects[1]][:6] == [
        "ID *",
        "Titel *",
        "Beschreibung",
        "Federführung",
        "Beteiligte Ämter",
        "SDG",
    ]
    validations = {str(v.sqref): v for v in projects.data_validations.dataValidation}
    ranges = {sqref: v.formula1 for sqref, v in validations.items()}
    assert not validations["F2:F1048576"].showErrorMessage  # several codes per cell are allowed
    assert validations["G2:G1048576"].showErrorMessage  # status: only the listed values
    sdg_formula = ranges["F2:F1048576"]
    column = sdg_formula.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")
    lists = workbook["Listen"]
    assert lists.sheet_state == "hidden"
    codes = [c.value for c in lists[column]]
    assert "11.2" in codes and "11" in codes and "18.1" not in codes
    assert "G2:G1048576" in ranges  # status
    datasets = {str(v.sqref) for v in workbook["Datensätze"].data_validations.dataValidation}
    assert {"F2:F1048576", "G2:G1048576"} <= datasets  # theme, licence


def test_the_empty_template_reads_back_without_problems(tmp_path: Path) -> None:
    path = tmp_path / "vorlage.xlsx"
    write_template(path)
    assert read_sheets([path]) == ({name: [] for name in GOOD}, [])


@pytest.mark.parametrize("target", ["staff.xlsx", "csv-folder"])
def test_read_build_store_export_write_read_build_gives_the_same_quads(
    tmp_path: Path, target: str, empty_store
) -> None:
    first = load_paths(GOOD_DIR)
    rows = export_rows(dumped(write(empty_store, first)), base=BASE)
    write_sheets(rows, tmp_path / target)
    second = load_paths(tmp_path / target)
    assert second.errors == []
    for graph in (GRAPH, INTERNAL):
        assert set(second.graphs[graph]) == set(first.graphs[graph])


def test_export_marks_internal_datasets_as_not_public(good: LoadResult) -> None:
    rows = export_rows(all_quads(good), base=BASE)
    assert {r["id"]: r["public"] for r in rows["datasets"]} == {"radverkehrszaehlung": "ja", "stadtklima": "nein"}


def test_formula_like_cells_are_neutralised_on_export(tmp_path: Path) -> None:
    evil = '=HYPERLINK("https://evil.example","klick")'
    rows = {
        "projects": [
            {
                "id": "p1",
                "title": evil,
                "description": "@SUM(A1)",
                "status": "-2+3",
                "lead_department": "+49",
                "partner_departments": "-5",
            }
        ]
    }
    write_sheets(rows, tmp_path / "csv")
    with (tmp_path / "csv" / "projects.csv").open(encoding="utf-8", newline="") as handle:
        header, written = list(csv.reader(handle))
    cells = dict(zip(header, written, strict=True))
    assert (cells["title"], cells["description"], cells["status"]) == ("'" + evil, "'@SUM(A1)", "'-2+3")
    assert (cells["lead_department"], cells["partner_departments"]) == ("+49", "-5")  # plain numbers stay

    write_sheets(rows, tmp_path / "staff.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "staff.xlsx")["Projekte"]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (evil, "s")

    for source in (tmp_path / "csv", tmp_path / "staff.xlsx"):
        sheets, _ = read_sheets([source])
        assert sheets["projects"][0].text("title") == evil


def test_municipality_rejects_a_malformed_ags() -> None:
    with pytest.raises(ValueError, match="8 digits"):
        Municipality("Musterstadt", "5999001")


@pytest.mark.parametrize(("sheet", "ident"), [("projects", "grünzug-süd"), ("indicators", "q_svw_ü55")])
def test_ids_with_umlauts_are_accepted_and_kept_in_the_iri(sheet: str, ident: str) -> None:
    rows = copy.deepcopy(GOOD)
    rows[sheet][0]["id"] = ident
    result = load_rows(rows)
    assert result.errors == []
    assert any(q.subject == NamedNode(f"{BASE}{sheet[:-1]}/{ident}") for q in all_quads(result))


def test_an_invalid_id_is_refused_saying_exactly_what_is_allowed() -> None:
    rows = copy.deepcopy(GOOD)
    rows["indicators"][0]["id"] = "_intern"
    (error,) = load_rows(rows).errors
    assert "auch ä, ö, ü, ß" in error.message_de and "am Anfang ein Buchstabe oder eine Ziffer" in error.message_de


def test_an_entity_with_an_umlaut_id_has_its_page_and_dereferences(empty_store) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.testing import make_settings

    rows = copy.deepcopy(GOOD)
    rows["projects"][0]["id"] = "grünzug"
    write(empty_store, load_rows(rows))
    with TestClient(create_app(make_settings(base_iri=BASE), store=empty_store)) as client:
        assert client.get("/page/project/grünzug").status_code == 200
        seen = client.get("/id/project/grünzug", headers={"Accept": "text/turtle"})
        assert seen.status_code == 200 and "gr" in seen.text


@pytest.mark.parametrize(("sheet", "index"), [("projects", 0), ("indicators", 0)])
def test_a_row_linked_only_to_a_goal_gives_a_warning_at_its_sdg_cell(sheet: str, index: int) -> None:
    rows = copy.deepcopy(GOOD)
    rows[sheet][index]["sdg"] = "7"
    result = load_rows(rows)
    assert result.errors == []
    (warning,) = [p for p in result.problems if "goal 7" in p.message_en]
    assert (warning.sheet, warning.row, warning.severity) == (sheet, index + 2, Severity.WARNING)
    assert "nur mit SDG-Ziel 7" in warning.message_de


def test_shacl_findings_name_the_file_sheet_and_row_of_their_entity() -> None:
    rows = copy.deepcopy(GOOD)
    index = next(n for n, r in enumerate(rows["datasets"]) if r["id"] == "radverkehrszaehlung")
    rows["datasets"][index]["license"] = ""
    result = load_rows(rows)
    quads = [q for graph in result.graphs.values() for q in graph]
    problems = validate(quads, extra=taxonomy_quads(NamedNode("urn:test:sdg")), origins=result.origins)
    licence = [p for p in problems if "radverkehrszaehlung/distribution/1>, dct:license" in p.message_en]
    assert [(p.file, p.sheet, p.row) for p in licence] == [("test", "datasets", index + 2)]
    assert "?" not in licence[0].location()
