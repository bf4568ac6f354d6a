"""Property-based fuzzing: no input from the OpenAPI document, no SPARQL string, no RDF document gives a 5xx.

Schemathesis generates requests for every operation in `/openapi.json`; hypothesis generates SPARQL
and RDF text. The example counts are bounded so that the module runs in well under a minute.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api.app import create_app
from api.store import EmbeddedStore
from api.testing import EDITOR, READER, LiveServer, fill, make_settings

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def fuzzed() -> LiveServer:
    """A live server over the sample data with small limits, so that big inputs hit them quickly."""
    store = fill(EmbeddedStore(None))
    app = create_app(make_settings(max_body_bytes=100_000, max_upload_bytes=100_000, max_rows=50), store=store)
    with LiveServer(app) as server:
        yield server


def openapi_operations():
    """Every operation of the OpenAPI document, as schemathesis sees it."""
    document = create_app(make_settings()).openapi()
    schema = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = openapi_operations()


def fuzz_operation(operation, base_url: str, *, headers: dict[str, str] | None = None, examples: int) -> None:
    """Valid and invalid requests (schemathesis' positive and negative modes) for `operation`."""
    modes = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

    @given(case=modes)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])

    check()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_generated_request_gets_a_server_error(fuzzed, operation):
    fuzz_operation(operation, fuzzed.url, examples=25)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_generated_request_with_an_editor_token_gets_a_server_error(fuzzed, operation):
    fuzz_operation(operation, fuzzed.url, headers=EDITOR, examples=10)


def test_the_fuzzing_covers_every_documented_operation():
    assert {op.label for op in OPERATIONS} >= {"GET /sparql", "POST /sparql", "PUT /graphs", "GET /api/search"}


SPARQL_WORDS = st.sampled_from(
    [
        "SELECT",
        "ASK",
        "CONSTRUCT",
        "DESCRIBE",
        "WHERE",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "?s",
        "?p",
        "?o",
        "*",
        ".",
        ";",
        ",",
        "a",
        "FILTER",
        "OPTIONAL",
        "UNION",
        "MINUS",
        "GRAPH",
        "SERVICE",
        "BIND",
        "AS",
        "VALUES",
        "LIMIT",
        "OFFSET",
        "ORDER BY",
        "GROUP BY",
        "COUNT(*)",
        "<http://example.org/x>",
        '"x"@de',
        "1",
        "1.5e3",
        "PREFIX ex: <http://example.org/>",
        "ex:a",
        'REGEX(?o, "(a+)+$")',
        "FROM",
        "NAMED",
        "#",
        "\\u0000",
        "INSERT DATA",
        "DELETE",
        "LOAD <http://127.0.0.1:1/>",
        "CLEAR ALL",
        "DROP",
        "'",
        '"""',
    ]
)
SPARQL = st.one_of(st.text(max_size=300), st.lists(SPARQL_WORDS, max_size=40).map(" ".join))


@given(query=SPARQL)
@FUZZ
def test_fuzzed_sparql_queries_never_give_a_server_error(fuzzed, query):
    response = httpx.post(f"{fuzzed.url}/sparql", data={"query": query}, timeout=30)
    assert response.status_code < 500, (query, response.text[:300])


@given(update=SPARQL)
@FUZZ
def test_fuzzed_sparql_updates_never_give_a_server_error(fuzzed, update):
    headers = {**EDITOR, "Content-Type": "application/sparql-update"}
    response = httpx.post(f"{fuzzed.url}/sparql", content=update.encode(), headers=headers, timeout=30)
    assert response.status_code < 500, (update, response.text[:300])


RDF_TYPES = [
    "text/turtle",
    "application/n-triples",
    "application/n-quads",
    "application/rdf+xml",
    "application/ld+json",
]
RDF_PIECES = st.sampled_from(
    [
        "<http://e/s>",
        "<http://e/p>",
        '"o"',
        '"o"@de',
        "_:b",
        ".",
        ";",
        ",",
        "[",
        "]",
        "(",
        ")",
        "@prefix e: <http://e/> .",
        "e:x",
        "a",
        '{"@id": "http://e/s"}',
        "<rdf:RDF>",
        "</rdf:RDF>",
        '<!DOCTYPE x [<!ENTITY a "&b;">]>',
        "<<",
        ">>",
        "<http://e/g>",
        '"1"^^<http://www.w3.org/2001/XMLSchema#int>',
    ]
)
RDF = st.one_of(st.text(max_size=300), st.lists(RDF_PIECES, max_size=30).map(" ".join))


@given(body=RDF, content_type=st.sampled_from(RDF_TYPES), replace=st.booleans())
@FUZZ
def test_fuzzed_rdf_uploads_never_give_a_server_error(fuzzed, body, content_type, replace):
    response = httpx.request(
        "PUT" if replace else "POST",
        f"{fuzzed.url}/graphs",
        params={"graph": "https://musterstadt.example/id/graph/fuzz"},
        content=body.encode(),
        headers={**EDITOR, "Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code < 500, (content_type, body, response.text[:300])


def test_the_server_still_answers_after_the_fuzzing(fuzzed):
    response = httpx.get(f"{fuzzed.url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=READER, timeout=30)
    assert response.status_code == 200
    # The metrics prove the generators above really sent their requests (and none got a 5xx).
    counts = [
        line
        for line in httpx.get(f"{fuzzed.url}/metrics", headers=READER).text.splitlines()
        if line.startswith("querschnitt_http_requests_total")
    ]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counts) > 200
    assert not [line for line in counts if 'status="5' in line]
