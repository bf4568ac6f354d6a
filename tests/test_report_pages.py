"""`/queries/{kind}` of a report kind answers from the report's table of this data version: the same pages, and
the same complete TSV and CSV answers, as evaluating the named query."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import gaps
from api.app import create_app
from api.auth import ANONYMOUS, Principal, Role
from api.testing import READER, make_settings

KINDS = [kind for kind in gaps.KINDS if kind != "unused-datasets"]  # grouped: its table holds no flat rows
CALLERS = {"anonymous": {}, "staff": READER}


@pytest.fixture
def client(shared_demo) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=shared_demo)) as test_client:
        yield test_client


@pytest.fixture
def capped(shared_demo) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(max_rows=50), store=shared_demo)) as test_client:
        yield test_client


@pytest.fixture
def engine_only(monkeypatch):
    """Answers evaluated by the engine, as before tables held them."""

    def evaluate():
        monkeypatch.setattr(gaps, "answer_lines", lambda *args: None)
        monkeypatch.setattr(gaps, "unused_page_datasets", lambda *args: None)

    return evaluate


def get(client: TestClient, kind: str, headers: dict, **params) -> bytes:
    response = client.get(
        f"/queries/{kind}", params={k: v for k, v in params.items() if v is not None}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.content + response.headers.get("Link", "").encode()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("kind", KINDS)
def test_pages_of_a_report_come_from_its_table_and_equal_the_evaluated_ones(client, engine_only, kind, caller):
    headers = CALLERS[caller]
    total = len(gaps.answer_lines(client.app, gaps_principal(caller), kind)[1])
    assert total > 0  # the demo has rows for every report kind (else the comparison proves nothing)
    builds = client.app.state.report_tables.builds
    requests = [
        (fmt, limit, offset)
        for fmt in ("tsv", "json", "csv")
        for limit, offset in ((7, 0), (7, 7), (3, total - 2), (10, total), (None, 49), (60, 40))
    ]
    kept = [get(client, kind, headers, format=fmt, limit=limit, offset=offset) for fmt, limit, offset in requests]
    assert client.app.state.report_tables.builds == builds  # every page from the table built above
    engine_only()
    evaluated = [get(client, kind, headers, format=fmt, limit=limit, offset=offset) for fmt, limit, offset in requests]
    assert kept == evaluated


@pytest.mark.parametrize("fmt", ["tsv", "csv"])
@pytest.mark.parametrize("kind", KINDS)
def test_complete_answers_of_a_report_come_from_its_table_with_the_evaluated_rows(client, engine_only, kind, fmt):
    kept = get(client, kind, READER, format=fmt)
    engine_only()
    evaluated = get(client, kind, READER, format=fmt)
    kept_rows, evaluated_rows = rows(kept, fmt), rows(evaluated, fmt)
    assert kept_rows[0] == evaluated_rows[0]  # the header
    assert sorted(kept_rows[1:]) == sorted(evaluated_rows[1:])  # the order of a complete answer is the engine's
    assert len(kept_rows) > 2


def test_a_capped_complete_answer_from_a_table_says_so(capped):
    lines = gaps.answer_lines(capped.app, gaps_principal("staff"), "missing-bridges")[1]
    assert len(lines) > 50  # the row cap of this client
    response = capped.get("/queries/missing-bridges", params={"format": "csv"}, headers=READER)
    assert len(rows(response.content, "csv")) == 51
    assert response.headers["X-Querschnitt-Truncated"] == "true"


@pytest.mark.parametrize("caller", CALLERS)
def test_pages_of_the_flat_unused_datasets_list_evaluate_only_their_datasets_and_equal_the_evaluated_ones(
    client, engine_only, caller, backend
):
    headers = CALLERS[caller]
    total = gaps.unused_data(client.app, gaps_principal(caller)).rows()
    assert total > 100
    requests = [
        (fmt, limit, offset)
        for fmt in ("tsv", "json")
        for limit, offset in ((1, 0), (7, 0), (50, 13), (100, total - 60), (5, total - 1), (10, total), (None, 40))
    ]
    paged = [
        get(client, kind, headers, format=fmt, limit=limit, offset=offset)
        for kind in ["unused-datasets"]
        for fmt, limit, offset in requests
    ]
    if backend.name == "embedded":
        # A page is evaluated for the few datasets holding its rows, not for all of them.
        with_rows = gaps.unused_data(client.app, gaps_principal(caller)).rows_by_dataset
        datasets, before, rows = gaps.unused_page_datasets(client.app, gaps_principal(caller), 50, 7)
        assert 0 < len(datasets) < len(with_rows) / 4 and before <= 50 and rows == total
    engine_only()
    evaluated = [
        get(client, kind, headers, format=fmt, limit=limit, offset=offset)
        for kind in ["unused-datasets"]
        for fmt, limit, offset in requests
    ]
    assert paged == evaluated


def rows(body: bytes, fmt: str) -> list[tuple[str, ...]]:
    text = body.decode()
    if fmt == "csv":
        return [tuple(row) for row in csv.reader(io.StringIO(text))]
    return [tuple(line.split("\t")) for line in text.splitlines()]


def gaps_principal(caller: str) -> Principal:
    return ANONYMOUS if caller == "anonymous" else Principal(Role.READER)
