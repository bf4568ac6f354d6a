"""The JSON facade on Kleinstadt, whose every gap is known (tests/data/gaps, see test_gap_queries):
the gap overview and reports, department and target profiles, labels in German and English, links,
errors, and that anonymous callers never get a person's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kleinstadt import KLEINSTADT as BASE
from kleinstadt import fill_kleinstadt

from api import derived
from api.app import create_app
from api.gaps import KINDS as GAP_KINDS
from api.store import EmbeddedStore
from api.testing import READER, make_settings

DATA = Path(__file__).parent / "data" / "gaps"
TOWN = "https://kleinstadt.example/id/"
PUBLIC_URL = "http://127.0.0.1:8000"
DEPARTMENTS = ("bau", "kaemmerei", "ordnung", "schule", "umwelt")


def kleinstadt_store() -> EmbeddedStore:
    """Kleinstadt with the SDG taxonomy and the derived relations."""
    store = EmbeddedStore(None)
    derived.install(store)
    fill_kleinstadt(store)
    return store


@pytest.fixture(scope="module")
def town() -> EmbeddedStore:
    return kleinstadt_store()


@pytest.fixture(scope="module")
def client(town) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(base_iri=TOWN), store=town)) as test_client:
        yield test_client


def get(client: TestClient, path: str, *, staff_caller: bool = False, **params) -> dict:
    response = client.get(path, params=params, headers=READER if staff_caller else {})
    assert response.status_code == 200, response.text
    return response.json()


def short(entity: dict | None) -> str | None:
    """An entity by its code (SDG) or the last segment of its IRI."""
    if entity is None:
        return None
    return entity["code"] or entity["iri"].rsplit("/", 1)[-1]


def row(item: dict, *columns: str) -> tuple:
    return tuple(short(item[c]) if isinstance(item[c], dict) else item[c] for c in columns)


# -- the overview --------------------------------------------------------------------------------------


def test_the_overview_counts_the_rows_of_every_gap_report(client):
    overview = get(client, "/api/gaps")
    assert {g["kind"]: g["count"] for g in overview["gaps"]} == {
        "missing-bridges": 5,
        "unused-datasets": 12,
        "unmeasured-projects": 3,
        "blind-spots": 2,
        "silo-departments": 4,
    }


def test_staff_counts_include_internal_data(client):
    overview = get(client, "/api/gaps", staff_caller=True)
    counts = {g["kind"]: g["count"] for g in overview["gaps"]}
    assert (counts["unused-datasets"], counts["unmeasured-projects"]) == (14, 2)


def test_the_overview_lists_the_reports_in_the_order_of_the_pages_with_their_links(client):
    gaps = get(client, "/api/gaps")["gaps"]
    assert [g["kind"] for g in gaps] == list(GAP_KINDS)
    assert gaps[0]["links"] == {
        "report": f"{PUBLIC_URL}/api/gaps/missing-bridges",
        "page": f"{PUBLIC_URL}/gaps/missing-bridges",
        "query": f"{PUBLIC_URL}/queries/missing-bridges",
    }


@pytest.mark.parametrize(
    ("params", "headers", "lang", "title"),
    [
        ({}, {}, "de", "Fehlende Brücken"),
        ({}, {"Accept-Language": "en-GB,en;q=0.9"}, "en", "Missing bridges"),
        ({"lang": "en"}, {"Accept-Language": "de"}, "en", "Missing bridges"),
        ({"lang": "de"}, {"Accept-Language": "en"}, "de", "Fehlende Brücken"),
    ],
    ids=["German by default", "Accept-Language", "lang wins", "lang wins (de)"],
)
def test_titles_follow_lang_then_accept_language_german_first(client, params, headers, lang, title):
    response = client.get("/api/gaps", params=params, headers=headers)
    assert response.json()["lang"] == lang
    assert response.json()["gaps"][0]["title"] == title
    assert response.headers["Content-Language"] == lang
    assert "Accept-Language" in response.headers["Vary"]


def test_an_unknown_language_is_422_naming_lang(client):
    response = client.get("/api/gaps", params={"lang": "fr"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "lang"]


# -- gap reports ---------------------------------------------------------------------------------------


def test_missing_bridges_report_has_kleinstadts_rows_sorted_with_labels(client):
    report = get(client, "/api/gaps/missing-bridges")
    assert [row(r, "department_a", "department_b", "target") for r in report["rows"]] == [
        ("bau", "ordnung", "11.2"),
        ("bau", "schule", "11.2"),
        ("bau", "schule", "11.6"),
        ("ordnung", "schule", "11.2"),
        ("ordnung", "umwelt", "11.2"),
    ]
    assert (report["total"], report["truncated"], report["title"]) == (5, False, "Fehlende Brücken")
    labels = {(r["department_a"]["label"], r["department_b"]["label"], r["target"]["label"]) for r in report["rows"]}
    assert ("Bauamt", "Schulamt", "Umweltbelastung der Städte senken, v. a. Luft und Abfall") in labels


def test_report_labels_of_targets_are_english_with_lang_en(client):
    report = get(client, "/api/gaps/missing-bridges", lang="en", goal=11)
    assert report["rows"][0]["target"]["label"] == "Safe, affordable, sustainable transport for all"
    assert report["rows"][0]["department_a"]["label"] == "Bauamt"


PUBLIC_UNUSED = {
    ("radzaehlung", "schulweg", "11.2"),
    ("radzaehlung", "verkehrsueberwachung", "11.2"),
    ("luftdaten", "laerm", "11.6"),
    ("luftdaten", "schulhof", "11.6"),
    ("luftdaten", "laerm", "3.9"),
    ("stadtatlas", "radweg", "11.2"),
    ("stadtatlas", "schulweg", "11.2"),
    ("stadtatlas", "verkehrsueberwachung", "11.2"),
    ("stadtatlas", "verkehrsueberwachung", "11.b"),
    ("stadtatlas", "luft", "11.6"),
    ("stadtatlas", "laerm", "11.6"),
    ("stadtatlas", "schulhof", "11.6"),
}


def grouped(rows: set[tuple[str, str, str]], by: int) -> dict[str, int]:
    """How many distinct partners (datasets per project: by=1; projects per dataset: by=0) the rows give."""
    partners: dict[str, set[str]] = {}
    for r in rows:
        partners.setdefault(r[by], set()).add(r[1 - by])
    return {k: len(v) for k, v in partners.items()}


def test_unused_datasets_come_per_project_with_how_many_datasets_each_could_use(client):
    report = get(client, "/api/gaps/unused-datasets")
    assert {row(r, "project", "datasets") for r in report["rows"]} == set(grouped(PUBLIC_UNUSED, 1).items())
    assert report["total"] == len(grouped(PUBLIC_UNUSED, 1))
    counts = [r["datasets"] for r in report["rows"]]
    assert counts == sorted(counts, reverse=True)
    assert all(len(r["first"]) == min(3, r["datasets"]) for r in report["rows"])


def test_unused_datasets_come_per_dataset_with_how_many_projects_could_use_it(client):
    report = get(client, "/api/gaps/unused-datasets", view="datasets")
    assert {row(r, "dataset", "projects") for r in report["rows"]} == set(grouped(PUBLIC_UNUSED, 0).items())


@pytest.mark.parametrize("project", sorted({p for _, p, _ in PUBLIC_UNUSED}))
def test_every_row_of_one_project_is_kleinstadts(client, project):
    rows = get(client, "/api/gaps/unused-datasets", project=f"{BASE}project/{project}")["rows"]
    assert {row(r, "dataset", "project", "target") for r in rows} == {r for r in PUBLIC_UNUSED if r[1] == project}


def test_staff_reports_include_internal_datasets(client):
    luft = get(client, "/api/gaps/unused-datasets", staff_caller=True, project=f"{BASE}project/luft")["rows"]
    assert {row(r, "dataset", "project", "target") for r in luft} == {
        ("stadtatlas", "luft", "11.6"),
        ("laermkarte", "luft", "11.6"),
    }
    public = get(client, "/api/gaps/unused-datasets", view="datasets")["rows"]
    staff = get(client, "/api/gaps/unused-datasets", staff_caller=True, view="datasets")["rows"]
    assert {row(r, "dataset") for r in staff} - {row(r, "dataset") for r in public} == {("laermkarte",)}


def test_unmeasured_projects_are_sorted_by_name_as_on_the_staff_page_and_blind_spots_by_code(client):
    unmeasured = get(client, "/api/gaps/unmeasured-projects")["rows"]
    # "Abendstreife" before "Schulhof…": the name people read, not the IRI the query orders by.
    assert [row(r, "project", "target") for r in unmeasured] == [
        ("streife", "16.1"),
        ("schulhof", "4.a"),
        ("verkehrsueberwachung", "11.b"),
    ]
    assert [row(r, "target") for r in get(client, "/api/gaps/blind-spots")["rows"]] == [("5.5",), ("6.3",)]


def test_silo_departments_report_has_numbers(client):
    rows = get(client, "/api/gaps/silo-departments")["rows"]
    assert [row(r, "department", "projects") for r in rows] == [
        ("ordnung", 2),
        ("schule", 3),
        ("bau", 2),
        ("umwelt", 3),
    ]
    assert [round(r["shared_share"], 3) for r in rows] == [0.0, 0.333, 0.5, 0.667]


@pytest.mark.parametrize("department", ["schule", f"{TOWN}department/schule"], ids=["id", "IRI"])
def test_a_report_filtered_by_department_keeps_its_pairs(client, department):
    report = get(client, "/api/gaps/missing-bridges", department=department)
    assert {row(r, "department_a", "department_b", "target") for r in report["rows"]} == {
        ("bau", "schule", "11.2"),
        ("ordnung", "schule", "11.2"),
        ("bau", "schule", "11.6"),
    }
    assert short(report["filters"]["department"]) == "schule"
    assert (
        report["links"]["page"]
        == f"{PUBLIC_URL}/gaps/missing-bridges?department=https%3A%2F%2Fkleinstadt.example%2Fid%2Fdepartment%2Fschule"
    )


def test_unused_datasets_of_a_department_are_its_projects_per_project_and_its_datasets_per_dataset(client):
    projects = get(client, "/api/gaps/unused-datasets", department="umwelt")["rows"]
    # radweg (partner) and luft (lead) are umwelt's projects with unused data; luftdaten is umwelt's dataset.
    assert {row(r, "project", "datasets") for r in projects} == {("radweg", 1), ("luft", 1)}
    datasets = get(client, "/api/gaps/unused-datasets", department="umwelt", view="datasets")["rows"]
    assert {row(r, "dataset", "projects") for r in datasets} == {("luftdaten", 2)}


def test_unused_datasets_on_a_goal_count_only_its_targets(client):
    report = get(client, "/api/gaps/unused-datasets", goal=3)
    assert {row(r, "project", "datasets") for r in report["rows"]} == {("laerm", 1)}
    rows = get(client, "/api/gaps/unused-datasets", goal=3, project=f"{BASE}project/laerm")["rows"]
    assert {row(r, "dataset", "project", "target") for r in rows} == {("luftdaten", "laerm", "3.9")}


def test_only_unused_datasets_has_views_and_one_project_or_dataset(client):
    for params in ({"view": "datasets"}, {"project": f"{BASE}project/luft"}):
        response = client.get("/api/gaps/missing-bridges", params=params)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][1] in params


@pytest.mark.parametrize(
    ("kind", "goal", "expected"),
    [
        ("blind-spots", 6, {("6.3",)}),
        ("unmeasured-projects", 16, {("streife", "16.1")}),
    ],
)
def test_a_report_filtered_by_goal_keeps_the_rows_on_its_targets(client, kind, goal, expected):
    report = get(client, f"/api/gaps/{kind}", goal=goal)
    columns = [c for c in ("dataset", "project", "target") if c in report["rows"][0]]
    assert {row(r, *columns) for r in report["rows"]} == expected
    assert report["filters"]["goal"]["code"] == str(goal)


def test_a_report_pages_with_limit_and_offset(client):
    full = get(client, "/api/gaps/missing-bridges")
    page = get(client, "/api/gaps/missing-bridges", limit=2, offset=2)
    assert page["rows"] == full["rows"][2:4]
    assert (page["total"], page["limit"], page["offset"]) == (full["total"], 2, 2) and full["total"] > 4
    grouped_page = get(client, "/api/gaps/unused-datasets", limit=2, offset=1)
    assert grouped_page["rows"] == get(client, "/api/gaps/unused-datasets")["rows"][1:3]


def test_a_report_pages_a_hundred_rows_by_default(client):
    report = get(client, "/api/gaps/missing-bridges")
    assert (report["limit"], report["offset"], len(report["rows"])) == (100, 0, report["total"])


@pytest.mark.parametrize(
    ("kind", "params", "parameter"),
    [
        ("missing-bridges", {"department": "nope"}, "department"),
        ("missing-bridges", {"department": "not an id"}, "department"),
        ("blind-spots", {"department": "bau"}, "department"),
        ("silo-departments", {"goal": "11"}, "goal"),
        ("missing-bridges", {"goal": "18"}, "goal"),
        ("missing-bridges", {"limit": "-1"}, "limit"),
    ],
    ids=["unknown department", "malformed department", "no such filter", "no goal filter", "no goal 18", "limit"],
)
def test_a_bad_report_filter_is_422_naming_it(client, kind, params, parameter):
    response = client.get(f"/api/gaps/{kind}", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", parameter]


def test_an_unknown_report_is_404(client):
    assert client.get("/api/gaps/everything").status_code == 404


# -- entities and their links ----------------------------------------------------------------------------


def test_entities_link_to_their_iri_their_page_and_their_profile(client):
    first = get(client, "/api/gaps/missing-bridges")["rows"][0]
    assert first["department_a"] == {
        "iri": f"{TOWN}department/bau",
        "type": "department",
        "label": "Bauamt",
        "code": None,
        "goal": None,
        "page": f"{PUBLIC_URL}/page/department/bau",
        "api": f"{PUBLIC_URL}/api/departments/bau",
    }
    assert first["target"] == {
        "iri": "http://metadata.un.org/sdg/11.2",
        "type": "target",
        "label": "Sichere, bezahlbare und nachhaltige Verkehrssysteme für alle",
        "code": "11.2",
        "goal": 11,
        "page": f"{PUBLIC_URL}/page/sdg/11.2",
        "api": f"{PUBLIC_URL}/api/targets/11.2",
    }


def test_the_profile_and_page_links_lead_somewhere(client):
    first = get(client, "/api/gaps/missing-bridges")["rows"][0]
    for entity in (first["department_a"], first["target"]):
        assert client.get(entity["api"].removeprefix(PUBLIC_URL)).status_code == 200
        assert client.get(entity["page"].removeprefix(PUBLIC_URL)).status_code == 200


# -- department profile ----------------------------------------------------------------------------------


def test_department_profile_has_its_projects_with_roles_links_and_partners(client):
    profile = get(client, "/api/departments/umwelt")
    assert (profile["department"]["label"], profile["email"]) == ("Umweltamt", "umweltamt@kleinstadt.example")
    assert [
        (short(p["project"]), p["role"], [short(s) for s in p["sdg"]], [short(d) for d in p["partners"]])
        for p in profile["projects"]
    ] == [
        ("klima", "lead", ["13"], ["schule"]),
        ("luft", "lead", ["11.6"], []),
        ("radweg", "partner", ["11.2"], ["bau"]),
    ]


def test_department_profile_has_targets_goals_and_shared_share(client):
    profile = get(client, "/api/departments/umwelt")
    assert [short(t) for t in profile["targets"]] == ["11.2", "11.6"]
    assert [(short(g["goal"]), g["projects"]) for g in profile["goals"]] == [("11", 2), ("13", 1)]
    assert round(profile["shared_share"], 3) == 0.667


def test_department_profile_has_partners_and_missing_bridges(client):
    profile = get(client, "/api/departments/schule")
    assert [(short(p["department"]), [short(x) for x in p["projects"]]) for p in profile["partners"]] == [
        ("umwelt", ["klima"])
    ]
    assert [(short(b["department"]), [short(t) for t in b["targets"]]) for b in profile["missing_bridges"]] == [
        ("bau", ["11.2", "11.6"]),
        ("ordnung", ["11.2"]),
    ]


def test_department_profile_lists_its_datasets_and_who_could_use_them(client):
    datasets = get(client, "/api/departments/umwelt")["datasets"]
    assert [
        (
            short(d["dataset"]),
            [short(s) for s in d["sdg"]],
            [(short(c["project"]), short(c["target"]), [short(x) for x in c["departments"]]) for c in d["could_serve"]],
        )
        for d in datasets
    ] == [
        # By label: Grüne Schulhöfe, Lärmaktionsplan; then by target code.
        (
            "luftdaten",
            ["3.9", "11.6"],
            [("schulhof", "11.6", ["schule"]), ("laerm", "3.9", ["bau"]), ("laerm", "11.6", ["bau"])],
        )
    ]


def test_staff_department_profiles_add_internal_datasets_and_people(client):
    anonymous = get(client, "/api/departments/umwelt")
    profile = get(client, "/api/departments/umwelt", staff_caller=True)
    assert [short(d["dataset"]) for d in profile["datasets"]] == ["luftdaten", "stadtklima"]
    assert [(m["person"]["label"], m["role"]) for m in profile["people"]] == [("Carla Klima", "Klimaschutzmanagement")]
    assert anonymous["people"] is None


def test_a_department_without_projects_has_an_empty_profile(client):
    profile = get(client, "/api/departments/kaemmerei")
    assert (profile["projects"], profile["targets"], profile["shared_share"]) == ([], [], None)
    assert [len(d["could_serve"]) for d in profile["datasets"]] == [7]


def test_an_unknown_department_is_404_and_a_malformed_id_422(client):
    assert client.get("/api/departments/rathauskantine").status_code == 404
    response = client.get("/api/departments/-bau")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


# -- target profile --------------------------------------------------------------------------------------


def test_target_profile_names_goal_labels_and_colour(client):
    profile = get(client, "/api/targets/11.2")
    assert (short(profile["target"]), short(profile["goal"]), profile["colour"]) == ("11.2", "11", "#FD9D24")
    assert profile["labels"] == {
        "de": "Sichere, bezahlbare und nachhaltige Verkehrssysteme für alle",
        "en": "Safe, affordable, sustainable transport for all",
    }


def test_target_profile_says_who_works_on_it(client):
    profile = get(client, "/api/targets/11.2")
    assert [(short(w["department"]), [short(p) for p in w["projects"]]) for w in profile["departments"]] == [
        ("bau", ["radweg"]),
        ("ordnung", ["verkehrsueberwachung"]),
        ("schule", ["schulweg"]),
        ("umwelt", ["radweg"]),
    ]
    assert [short(p) for p in profile["projects"]] == ["radweg", "schulweg", "verkehrsueberwachung"]


def test_target_profile_has_its_data_and_missing_bridges(client):
    profile = get(client, "/api/targets/11.2")
    assert ([short(d) for d in profile["datasets"]], [short(i) for i in profile["indicators"]]) == (
        ["radzaehlung"],
        ["radanteil"],
    )
    assert [row(p, "department_a", "department_b") for p in profile["missing_bridges"]] == [
        ("bau", "ordnung"),
        ("bau", "schule"),
        ("ordnung", "schule"),
        ("ordnung", "umwelt"),
    ]


def test_an_indicator_on_an_sdg_indicator_counts_for_its_target(client):
    assert [short(i) for i in get(client, "/api/targets/6.3")["indicators"]] == ["gewaesser"]


def test_staff_target_profiles_name_the_contact_persons(client):
    contacts = get(client, "/api/targets/11.2", staff_caller=True)["contacts"]
    assert [(c["person"]["label"], short(c["project"]), short(c["department"])) for c in contacts] == [
        ("Anna Asphalt", "radweg", "bau"),
        ("Ben Bildung", "schulweg", "schule"),
        ("Dora Dienst", "verkehrsueberwachung", "ordnung"),
    ]
    assert get(client, "/api/targets/11.2")["contacts"] is None


def test_target_labels_follow_the_language(client):
    profile = get(client, "/api/targets/11.2", lang="en")
    assert (profile["target"]["label"], profile["goal"]["label"]) == (
        "Safe, affordable, sustainable transport for all",
        "Sustainable cities and communities",
    )


@pytest.mark.parametrize(
    ("code", "status"), [("18.1", 404), ("11.99", 404), ("11", 422), ("11.2.1", 422), ("elf", 422)]
)
def test_unknown_targets_are_404_and_malformed_codes_422(client, code, status):
    response = client.get(f"/api/targets/{code}")
    assert response.status_code == status
    if status == 422:
        assert response.json()["detail"][0]["loc"] == ["path", "code"]


# -- no person data for anonymous callers --------------------------------------------------------------


PERSON_DATA = """
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?value WHERE {
  GRAPH <https://kleinstadt.example/id/graph/kleinstadt-internal> {
    { ?value a foaf:Person }
    UNION { ?person a foaf:Person ; foaf:name|foaf:mbox|foaf:phone ?value }
    UNION { ?role a org:Role ; skos:prefLabel ?value }
  }
}"""


@pytest.fixture(scope="module")
def person_data(town) -> list[str]:
    """What the internal graph says about people: their IRIs, names, e-mail addresses, phone numbers, roles."""
    values = {row["value"].value for row in town.query(PERSON_DATA, include_internal=True)}
    values = {v.removeprefix("mailto:").removeprefix("tel:") for v in values}
    assert len(values) == 4 * 4 + 4  # four people (IRI, name, e-mail, phone) and four roles
    return sorted(values)


FACADE_PATHS = [
    "/api/gaps",
    *(f"/api/gaps/{kind}" for kind in GAP_KINDS),
    *(f"/api/departments/{d}" for d in DEPARTMENTS),
    *(f"/api/targets/{code}" for code in ("11.2", "11.6", "16.1", "3.9", "13.1")),
]


@pytest.mark.parametrize("path", FACADE_PATHS)
def test_anonymous_facade_answers_contain_no_person_data(client, person_data, path):
    text = client.get(path, params={"lang": "de"}).text
    assert [secret for secret in person_data if secret in text] == []


def test_the_person_data_check_would_see_a_leak(client, person_data):
    text = "\n".join(client.get(p, headers=READER).text for p in ("/api/targets/11.2", "/api/departments/umwelt"))
    seen = {secret for secret in person_data if secret in text}
    assert {"Anna Asphalt", "Carla Klima", f"{TOWN}person/ben", "Klimaschutzmanagement"} <= seen


# -- OpenAPI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/api/gaps", "GapOverview"),
        ("/api/gaps/{kind}", "GapReport"),
        ("/api/departments/{id}", "DepartmentProfile"),
        ("/api/targets/{code}", "TargetProfile"),
    ],
)
def test_the_facade_is_documented_with_its_models(client, path, model):
    document = client.get("/openapi.json").json()
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert "Entity" in document["components"]["schemas"]
