"""Named queries over HTTP: the list, running each one, its text, paging, errors and OpenAPI.

Every query is run through HTTP and compared with the same query run through the registry directly,
on the demo municipality (`querschnitt demo`) and on Kleinstadt (tests/data/gaps, see test_gap_queries).
Results are parsed with pyoxigraph, never string-matched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kleinstadt import fill_kleinstadt
from pyoxigraph import NamedNode, QueryResultsFormat, Store, parse_query_results

import api.store
from api import derived
from api.app import create_app
from api.conneg import RESULT_OFFERS
from api.demo import load_demo
from api.named_queries import QueryRegistry
from api.sparql_binding import bind_text
from api.store import EmbeddedStore
from api.testing import READER, make_settings

REGISTRY = QueryRegistry()
NAMES = sorted(q.name for q in REGISTRY)
DATA = Path(__file__).parent / "data" / "gaps"
TOWN = "https://kleinstadt.example/id/"
FORMATS = {o.key: o for o in RESULT_OFFERS}


# -- fixtures ------------------------------------------------------------------------------------------


def kleinstadt_store() -> EmbeddedStore:
    """Kleinstadt with the SDG taxonomy and the derived relations."""
    store = EmbeddedStore(None)
    derived.install(store)
    fill_kleinstadt(store)
    return store


@pytest.fixture(scope="module")
def demo() -> EmbeddedStore:
    store = api.store.open_store("memory")
    load_demo(store, make_settings())
    return store


@pytest.fixture(scope="module")
def client(demo) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=demo)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def town() -> EmbeddedStore:
    return kleinstadt_store()


def town_client(store: EmbeddedStore, **settings) -> TestClient:
    return TestClient(create_app(make_settings(base_iri=TOWN, **settings), store=store))


@pytest.fixture(scope="module")
def town_http(town) -> Iterator[TestClient]:
    with town_client(town) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def capped(town) -> Iterator[TestClient]:
    """Kleinstadt behind a row cap of 3."""
    with town_client(town, max_rows=3) as test_client:
        yield test_client


# -- helpers -------------------------------------------------------------------------------------------


def parsed(response) -> list[tuple[str, ...]]:
    """The rows of a SPARQL JSON/XML/TSV answer as tuples of N-Triples terms ("" for unbound), in order."""
    kind = next(o.key for o in RESULT_OFFERS if response.headers["content-type"].startswith(o.media_type))
    fmt = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "tsv": QueryResultsFormat.TSV}[kind]
    solutions = parse_query_results(response.content, fmt)
    names = [v.value for v in solutions.variables]
    return [tuple(str(row[n]) if row[n] is not None else "" for n in names) for row in solutions]


def direct(store: EmbeddedStore, name: str, params: dict[str, str], *, staff_caller: bool) -> list[tuple[str, ...]]:
    """The same rows from the registry and the store, without HTTP."""
    query = REGISTRY[name]
    result = store.query(query.sparql, include_internal=staff_caller, substitutions=query.bind(params) or None)
    names = [v.value for v in result.variables]
    return [tuple(str(row[n]) if row[n] is not None else "" for n in names) for row in result]


def required(name: str) -> dict[str, str]:
    return {p.name: p.example for p in REGISTRY[name].parameters if p.required}


def examples(name: str) -> dict[str, str]:
    return {p.name: p.example for p in REGISTRY[name].parameters if p.example is not None}


# -- the list ------------------------------------------------------------------------------------------


def test_the_list_has_every_named_query_as_json(client):
    response = client.get("/queries")
    assert response.headers["content-type"] == "application/json"
    assert [q["name"] for q in response.json()["queries"]] == [q.name for q in REGISTRY]


def test_the_list_describes_a_query_with_its_typed_parameters_and_links(client):
    entry = next(q for q in client.get("/queries").json()["queries"] if q["name"] == "who-works-on")
    assert entry["summary"] == REGISTRY["who-works-on"].summary
    assert set(entry["description"]) == {"de", "en"} and all(entry["description"].values())
    assert entry["tags"] == ["search", "departments", "projects", "sdg"]
    assert entry["parameters"] == [
        {
            "name": "sdg",
            "type": "sdg",
            "description": "The SDG goal or target (code such as 11 or 11.2, or its IRI)",
            "default": None,
            "example": "11.2",
            "required": True,
        }
    ]
    assert entry["variables"][:3] == ["department", "project", "person"]
    assert entry["links"] == {
        "run": "http://127.0.0.1:8000/queries/who-works-on",
        "example": "http://127.0.0.1:8000/queries/who-works-on?sdg=11.2",
        "sparql": "http://127.0.0.1:8000/queries/who-works-on/sparql",
        "definition": "http://127.0.0.1:8000/queries/who-works-on/definition",
    }


def test_the_list_gives_parameter_defaults(client):
    entry = next(q for q in client.get("/queries").json()["queries"] if q["name"] == "sdg-goals")
    assert entry["parameters"][0]["default"] == "de"


# -- running: the same rows as the registry --------------------------------------------------------------


@pytest.mark.parametrize("staff_caller", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize("name", NAMES)
def test_every_named_query_over_http_gives_the_registry_rows_on_the_demo(client, demo, name, staff_caller):
    headers = READER if staff_caller else {}
    response = client.get(f"/queries/{name}", params=required(name), headers=headers)
    assert response.status_code == 200, response.text
    assert sorted(parsed(response)) == sorted(direct(demo, name, required(name), staff_caller=staff_caller))


@pytest.mark.parametrize("name", [n for n in NAMES if examples(n)])
def test_every_named_query_with_all_example_parameters_gives_the_registry_rows(client, demo, name):
    response = client.get(f"/queries/{name}", params=examples(name), headers=READER)
    assert response.status_code == 200, response.text
    assert sorted(parsed(response)) == sorted(direct(demo, name, examples(name), staff_caller=True))


def test_missing_bridges_over_http_are_kleinstadts_known_rows(town_http):
    response = town_http.get("/queries/missing-bridges", params={"department": f"{TOWN}department/schule"})
    rows = {tuple(t.rsplit("/", 1)[-1].rstrip(">") for t in row[:3]) for row in parsed(response)}
    assert rows == {("bau", "schule", "11.2"), ("ordnung", "schule", "11.2"), ("bau", "schule", "11.6")}


def test_anonymous_callers_get_no_contact_persons_and_staff_do(town_http):
    anonymous = town_http.get("/queries/who-works-on", params={"sdg": "11.2"}).json()["results"]["bindings"]
    staff_rows = town_http.get("/queries/who-works-on", params={"sdg": "11.2"}, headers=READER).json()
    assert not [b for b in anonymous if "person" in b]
    people = {b["person_label"]["value"] for b in staff_rows["results"]["bindings"] if "person" in b}
    assert people == {"Anna Asphalt", "Ben Bildung", "Dora Dienst"}


@pytest.mark.parametrize(
    "params", [{}, {"department": f"{TOWN}department/kaemmerei"}], ids=["plain", "with a parameter"]
)
def test_named_queries_run_under_the_row_cap_with_its_truncation_signal(capped, params):
    response = capped.get("/queries/unused-datasets", params=params)
    assert response.headers["X-Querschnitt-Truncated"] == "true"
    assert response.headers["X-Querschnitt-Max-Rows"] == "3"
    # The `truncated` member comes after the results, as on /sparql (pyoxigraph's parser refuses it).
    assert len(response.json()["results"]["bindings"]) == 3
    assert response.json()["truncated"] is True


def test_a_query_without_parameters_is_an_executor_job_like_a_sparql_request(town):
    with town_client(town) as test_client:
        executor = test_client.app.state.executor
        jobs = []
        run = executor.run
        executor.run = lambda job: jobs.append(job) or run(job)
        test_client.get("/queries/blind-spots")
    assert [job.sparql for job in jobs] == [REGISTRY["blind-spots"].sparql]
    assert jobs[0].max_rows == 1000 and not jobs[0].include_internal


def test_a_query_with_parameters_is_an_executor_job_with_the_values_written_into_its_text_by_pyoxigraph(town):
    with town_client(town) as test_client:
        executor = test_client.app.state.executor
        jobs = []
        run = executor.run
        executor.run = lambda job: jobs.append(job) or run(job)
        response = test_client.get("/queries/who-works-on", params={"sdg": "11.2"})
    assert response.status_code == 200
    bound = bind_text(REGISTRY["who-works-on"].sparql, {"sdg": NamedNode("http://metadata.un.org/sdg/11.2")})
    assert [job.sparql for job in jobs] == [bound]
    assert "<http://metadata.un.org/sdg/11.2>" in bound


# -- content negotiation -------------------------------------------------------------------------------

ACCEPTS = [
    None,
    "*/*",
    "application/sparql-results+json",
    "application/json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/csv;q=0.5, application/sparql-results+xml",
    "text/*",
    "text/html, */*;q=0.1",
]


@pytest.mark.parametrize("accept", ACCEPTS)
def test_named_queries_negotiate_exactly_as_the_sparql_endpoint(town_http, accept):
    headers = {"Accept": accept} if accept else {}
    named = town_http.get("/queries/blind-spots", headers=headers)
    sparql = town_http.get("/sparql", params={"query": REGISTRY["blind-spots"].sparql}, headers=headers)
    assert (named.status_code, named.headers["content-type"]) == (sparql.status_code, sparql.headers["content-type"])
    assert named.content == sparql.content


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv", "text/csv", "application/sparql-results+xml"])
def test_the_format_parameter_wins_over_accept(town_http, fmt):
    response = town_http.get("/queries/blind-spots", params={"format": fmt}, headers={"Accept": "application/json"})
    offer = next(o for o in RESULT_OFFERS if fmt in (o.key, o.media_type))
    assert response.headers["content-type"] == offer.content_type


def test_csv_results_have_the_query_columns(town_http):
    response = town_http.get("/queries/blind-spots", params={"format": "csv"})
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["target", "target_label", "targets"]
    assert [row[0].rsplit("/", 1)[-1] for row in table[1:]] == ["5.5", "6.3"]


@pytest.mark.parametrize(("header", "fmt"), [("text/turtle", None), ("image/png", None), (None, "turtle")])
def test_an_unacceptable_format_is_406_listing_the_offered_types(town_http, header, fmt):
    response = town_http.get(
        "/queries/blind-spots", params={"format": fmt} if fmt else {}, headers={"Accept": header} if header else {}
    )
    assert response.status_code == 406
    assert all(o.media_type in response.text for o in RESULT_OFFERS)


# -- paging --------------------------------------------------------------------------------------------

SLICES = [(0, 0), (3, 0), (3, 2), (5, 7), (1000, 1), (4, 10_000)]
# Queries whose own ORDER BY is a total order: their pages are slices of the registry's result as it is.
TOTALLY_ORDERED = {"blind-spots", "sdg-goals", "silo-departments", "unmeasured-projects"}


def all_pages(client: TestClient, name: str, size: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    while True:
        page = parsed(client.get(f"/queries/{name}", params={**required(name), "limit": size, "offset": len(rows)}))
        rows += page
        if len(page) < size:
            return rows


@pytest.mark.parametrize("name", NAMES)
def test_the_pages_of_a_query_together_are_its_full_result(client, demo, name):
    full = direct(demo, name, required(name), staff_caller=False)
    paged = all_pages(client, name, 1000)
    assert sorted(paged) == sorted(full)
    if name in TOTALLY_ORDERED:
        assert paged == full


@pytest.mark.parametrize(("limit", "offset"), SLICES)
@pytest.mark.parametrize("name", NAMES)
def test_a_page_is_the_slice_of_the_full_ordered_result(client, name, limit, offset):
    response = client.get(f"/queries/{name}", params={**required(name), "limit": limit, "offset": offset})
    assert response.status_code == 200, response.text
    assert parsed(response) == all_pages(client, name, 1000)[offset : offset + limit]


def test_walking_small_pages_of_an_unordered_query_visits_every_row_once(client):
    assert all_pages(client, "unused-datasets", 7) == all_pages(client, "unused-datasets", 1000)


def test_an_unordered_query_pages_in_a_total_order_its_own_keys_first(client, demo):
    rows = parsed(client.get("/queries/missing-bridges-summary", params={"limit": 1000}))
    counts = [int(row[2].split('"')[1]) for row in rows]
    assert counts == sorted(counts, reverse=True)
    assert parsed(client.get("/queries/missing-bridges-summary", params={"limit": 5, "offset": 3})) == rows[3:8]


def test_an_offset_alone_pages_to_the_end(client):
    full = all_pages(client, "coverage-matrix", 1000)
    response = client.get("/queries/coverage-matrix", params={"offset": 260})
    assert parsed(response) == full[260:]


@pytest.mark.parametrize("fmt", ["xml", "tsv", "csv"])
def test_pages_come_in_every_result_format(town_http, fmt):
    full = parsed(town_http.get("/queries/silo-departments", params={"format": "json"}))
    response = town_http.get("/queries/silo-departments", params={"limit": 2, "offset": 1, "format": fmt})
    if fmt == "csv":
        assert len(list(csv.reader(io.StringIO(response.text)))) == 3
    else:
        assert parsed(response) == full[1:3]


def test_a_page_links_to_the_next_one_while_there_is_one(town_http):
    first = town_http.get("/queries/silo-departments", params={"limit": 2})
    last = town_http.get("/queries/silo-departments", params={"limit": 2, "offset": 2})
    assert first.headers["Link"] == '<http://127.0.0.1:8000/queries/silo-departments?offset=2&limit=2>; rel="next"'
    assert "Link" not in last.headers


def test_a_limit_below_the_cap_is_paging_not_truncation(capped):
    response = capped.get("/queries/unused-datasets", params={"limit": 2})
    assert response.headers["X-Querschnitt-Truncated"] == "false"
    assert "truncated" not in response.json()
    assert 'offset=2&limit=2>; rel="next"' in response.headers["Link"]


def test_a_limit_above_the_cap_is_capped_and_says_so(capped, town):
    response = capped.get("/queries/unmeasured-projects", params={"limit": 50, "offset": 0}, headers=READER)
    assert parsed(response) == direct(town, "unmeasured-projects", {}, staff_caller=True)[:2]
    response = capped.get("/queries/unused-datasets", params={"limit": 50, "offset": 1})
    assert len(response.json()["results"]["bindings"]) == 3
    assert response.headers["X-Querschnitt-Truncated"] == "true"
    assert response.json()["truncated"] is True and response.json()["maxRows"] == 3
    assert 'offset=4&limit=3>; rel="next"' in response.headers["Link"]


@pytest.mark.parametrize(("param", "value"), [("limit", "-1"), ("offset", "-5"), ("limit", "ten"), ("offset", "1.5")])
def test_a_bad_limit_or_offset_is_422_naming_it(town_http, param, value):
    response = town_http.get("/queries/blind-spots", params={param: value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", param]


# -- parameters and errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "parameter"),
    [
        ("who-works-on", {"sdg": "18.1"}, "sdg"),
        ("missing-bridges", {"sdg": "18.1"}, "sdg"),
        ("who-works-on", {}, "sdg"),
        ("missing-bridges", {"department": "Bauamt"}, "department"),
        ("blind-spots", {"colour": "red"}, "colour"),
        ("missing-bridges", [("sdg", "11"), ("sdg", "12")], "sdg"),
    ],
    ids=["unknown target", "unknown target (gap query)", "missing", "not an IRI", "unknown parameter", "twice"],
)
def test_a_bad_parameter_is_422_naming_it(town_http, name, params, parameter):
    response = town_http.get(f"/queries/{name}", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", parameter]
    assert repr(parameter) in detail["msg"]


def test_an_unknown_target_is_refused_with_its_value_in_the_message(town_http):
    response = town_http.get("/queries/who-works-on", params={"sdg": "18.1"})
    assert "18.1" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("path", ["/queries/no-such-query", "/queries/no-such-query/sparql"])
def test_an_unknown_query_is_404(town_http, path):
    assert town_http.get(path).status_code == 404


@pytest.mark.parametrize("name", NAMES)
def test_the_query_text_is_the_rq_file_as_application_sparql_query(town_http, name):
    response = town_http.get(f"/queries/{name}/sparql")
    assert response.headers["content-type"] == "application/sparql-query"
    assert response.text == (REGISTRY.directory / f"{name}.rq").read_text(encoding="utf-8")


DEFINITIONS = sorted(p.stem for p in (REGISTRY.directory / "definitions").glob("*.rq"))


def test_every_plain_definition_belongs_to_a_named_query():
    assert DEFINITIONS
    assert set(DEFINITIONS) <= set(NAMES)


@pytest.mark.parametrize("name", DEFINITIONS)
def test_the_plain_definition_is_served_beside_its_tuned_query(town_http, name):
    response = town_http.get(f"/queries/{name}/definition")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-query"
    assert response.text == (REGISTRY.directory / "definitions" / f"{name}.rq").read_text(encoding="utf-8")
    assert response.text != town_http.get(f"/queries/{name}/sparql").text
    # Researchers can run it as it is: it parses.
    Store().query(response.text)


def test_the_query_list_links_each_definition_and_only_existing_ones(town_http):
    links = {q["name"]: q["links"]["definition"] for q in town_http.get("/queries").json()["queries"]}
    for name, link in links.items():
        assert (link is not None) == (name in DEFINITIONS)
        if link is not None:
            assert link.endswith(f"/queries/{name}/definition")


@pytest.mark.parametrize("name", sorted(set(NAMES) - set(DEFINITIONS)) + ["no-such-query"])
def test_a_query_without_a_plain_definition_answers_404_there(town_http, name):
    assert town_http.get(f"/queries/{name}/definition").status_code == 404


# -- OpenAPI -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> dict:
    app: FastAPI = create_app(make_settings())
    return app.openapi()


@pytest.mark.parametrize("name", NAMES)
def test_every_named_query_is_its_own_openapi_operation(openapi, name):
    operation = openapi["paths"][f"/queries/{name}"]["get"]
    assert operation["summary"] == REGISTRY[name].summary
    assert REGISTRY[name].description["en"] in operation["description"]
    assert set(operation["responses"]["200"]["content"]) == {o.media_type for o in RESULT_OFFERS}


@pytest.mark.parametrize("name", NAMES)
def test_openapi_documents_each_parameter_from_the_query_header(openapi, name):
    documented = {p["name"]: p for p in openapi["paths"][f"/queries/{name}"]["get"]["parameters"]}
    assert {"limit", "offset", "format"} <= set(documented)
    for param in REGISTRY[name].parameters:
        doc = documented[param.name]
        assert doc["in"] == "query"
        assert doc["required"] is param.required
        assert doc["description"].startswith(param.description)
        assert doc.get("example") == param.example
        expected_type = {"integer": "integer", "decimal": "number", "boolean": "boolean"}.get(param.type, "string")
        assert doc["schema"]["type"] == expected_type


def test_openapi_has_the_list_and_the_text_but_not_the_generic_run_route(openapi):
    assert "/queries" in openapi["paths"]
    assert "/queries/{name}/sparql" in openapi["paths"]
    assert "/queries/{name}" not in openapi["paths"]


def test_the_iri_parameters_are_documented_as_iris(openapi):
    documented = {p["name"]: p for p in openapi["paths"]["/queries/missing-bridges"]["get"]["parameters"]}
    assert documented["department"]["schema"] == {"type": "string", "format": "iri"}
    assert documented["sdg"]["example"] == "11"
