"""Guard rails of the public endpoint: deadline, concurrency bound, row cap, no calls to other hosts.

Deadline tests use an on-disk store: only then do queries run in killable worker processes (an
in-memory store cannot be opened by another process; its queries run in threads, deadline unenforced).
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from api.app import create_app
from api.executor import ProcessExecutor
from api.sparql_text import is_single_pattern
from api.store import EmbeddedStore, Visibility
from api.testing import (
    ADMIN_TOKEN,
    EDITOR,
    INTERNAL_GRAPH,
    PERSON_NAME,
    PUBLIC_GRAPH,
    READER,
    READER_TOKEN,
    fill,
    make_settings,
)

BIG_GRAPH = "http://example.org/graph/big"
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# Two patterns: not the single-pattern fast path, so it needs a worker.
ASK_ANY = "ASK { ?s a ?type . ?s ?p ?o }"


def add_big_graph(store: EmbeddedStore, n: int = 10_000) -> EmbeddedStore:
    """About 10^4 public triples: enough for a cross product that never ends, and for a streamed answer."""
    quads = (
        Quad(NamedNode(f"http://example.org/s/{i}"), NamedNode(f"http://example.org/p/{i % 13}"), Literal(f"value {i}"))
        for i in range(n)
    )
    store.replace_graph(BIG_GRAPH, quads, visibility=Visibility.PUBLIC, source="tests", loader="tests", checksum="x")
    return store


@pytest.fixture
def guarded(serve, tmp_path):
    """A live server over an on-disk store with a 2 s deadline and two query slots."""
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")))
    settings = make_settings(store=str(tmp_path / "store"), query_timeout=2.0, max_concurrent_queries=2)
    return serve(create_app(settings, store=store))


def in_background(url: str, query: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        started = time.monotonic()
        response = httpx.get(url, params={"query": query}, timeout=30)
        outcome.update(status=response.status_code, text=response.text, seconds=time.monotonic() - started)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def workers_of(server) -> ProcessExecutor:
    """The process executor under the server's wrappers (answer cache, fair shares)."""
    executor = server.app.state.executor
    while not isinstance(executor, ProcessExecutor):
        executor = executor.inner if hasattr(executor, "inner") else executor.wrapped
    return executor


def wait_until(condition, what: str, *, timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.01)


def wait_running(server, n: int = 1) -> None:
    wait_until(lambda: len(workers_of(server).leased) >= n, f"{n} queries running in workers")


def test_on_disk_store_runs_queries_in_worker_processes(guarded):
    assert guarded.app.state.executor.mode == "process"
    assert isinstance(guarded.app.state.executor.inner, ProcessExecutor)


def test_in_memory_store_runs_queries_in_threads(client):
    assert client.app.state.executor.mode == "thread"


def test_an_answer_is_reused_until_the_next_write_and_never_after(guarded):
    executor = guarded.app.state.executor
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    first = httpx.get(guarded.sparql, params={"query": query}).json()
    hits = executor.hits
    assert httpx.get(guarded.sparql, params={"query": query}).json() == first
    assert executor.hits == hits + 1
    body = b"<http://example.org/cached> <http://example.org/p> 1 ."
    url = f"{guarded.url}/graphs?graph=http://example.org/graph/cached&visibility=public"
    assert httpx.put(url, content=body, headers={"Content-Type": "text/turtle", **EDITOR}).status_code == 201
    after = httpx.get(guarded.sparql, params={"query": query}).json()
    n = int(first["results"]["bindings"][0]["n"]["value"])
    assert int(after["results"]["bindings"][0]["n"]["value"]) == n + 1
    # Staff and anonymous callers never share an answer: visibility is part of the key.
    staff = httpx.get(guarded.sparql, params={"query": query}, headers=EDITOR).json()
    assert int(staff["results"]["bindings"][0]["n"]["value"]) > n + 1


@pytest.mark.slow
def test_explosive_query_ends_within_the_deadline_plus_two_seconds(guarded):
    started = time.monotonic()
    response = httpx.get(guarded.sparql, params={"query": EXPLOSIVE}, timeout=30)
    assert response.status_code == 504
    assert "2 s deadline" in response.text
    assert time.monotonic() - started < 2.0 + 2.0


@pytest.mark.slow
def test_concurrent_ask_is_answered_quickly_while_a_query_explodes(guarded):
    thread, outcome = in_background(guarded.sparql, EXPLOSIVE)
    wait_running(guarded)
    started = time.monotonic()
    response = httpx.get(guarded.sparql, params={"query": ASK_ANY})
    assert response.json()["boolean"] is True
    assert time.monotonic() - started < 0.5
    thread.join()
    assert outcome["status"] == 504


@pytest.mark.slow
def test_stopped_query_leaves_no_process_using_a_core(guarded):
    executor = guarded.app.state.executor
    before = executor.worker_pids()
    assert httpx.get(guarded.sparql, params={"query": EXPLOSIVE}, timeout=30).status_code == 504

    def gone() -> bool:
        killed = before - executor.worker_pids()
        return bool(killed) and not any(os.path.exists(f"/proc/{pid}") for pid in killed)

    wait_until(gone, "the stopped query's worker process gone")
    killed = before - executor.worker_pids()
    assert len(killed) == 1
    assert not any(os.path.exists(f"/proc/{pid}") for pid in killed)


@pytest.mark.slow
def test_slot_of_a_stopped_query_is_refilled(guarded):
    assert httpx.get(guarded.sparql, params={"query": EXPLOSIVE}, timeout=30).status_code == 504
    deadline = time.monotonic() + 10
    while len(guarded.app.state.executor.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(guarded.app.state.executor.worker_pids()) == 2


@pytest.mark.slow
def test_a_query_that_crashes_the_parser_is_a_400_and_costs_no_worker(guarded):
    # 20,000 nested quoted triples overflow pyoxigraph's recursive parser (SIGSEGV); a bracket count sees 1.
    bomb = "ASK { " + "<< " * 20_000 + "<http://e/s> <http://e/p> 1" + " >> <http://e/p> 1" * 20_000 + " }"
    workers = guarded.app.state.executor.worker_pids()
    response = httpx.post(guarded.url + "/sparql", content=bomb, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400 and "limits" in response.text
    assert guarded.app.state.executor.worker_pids() == workers
    started = time.monotonic()
    assert httpx.get(guarded.url + "/sparql", params={"query": ASK_ANY}).status_code == 200
    assert time.monotonic() - started < 1.0


def test_excess_queries_get_503_with_retry_after(serve, tmp_path):
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")))
    settings = make_settings(
        store=str(tmp_path / "store"), query_timeout=2.0, max_concurrent_queries=1, query_queue_timeout=0.1
    )
    server = serve(create_app(settings, store=store))
    thread, _ = in_background(server.sparql, EXPLOSIVE)
    wait_running(server)
    response = httpx.get(server.sparql, params={"query": ASK_ANY})
    thread.join()
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.slow
def test_a_full_queue_answers_503_at_once_and_a_queued_query_waits_its_turn(serve, tmp_path):
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")))
    settings = make_settings(
        store=str(tmp_path / "store"),
        query_timeout=2.0,
        max_concurrent_queries=1,
        max_queued_queries=1,
        query_queue_timeout=10.0,
        query_fast_path=False,
        max_queries_per_client=0,  # all three come from one address: the queue, not the share, is tested
    )
    server = serve(create_app(settings, store=store))
    running, _ = in_background(server.sparql, EXPLOSIVE)
    wait_running(server)
    queued, queued_response = in_background(server.sparql, ASK_ANY)
    wait_until(lambda: workers_of(server).admission.waiting == 1, "one query waiting in the queue")
    started = time.monotonic()
    refused = httpx.get(server.sparql, params={"query": ASK_ANY}, timeout=30)
    assert refused.status_code == 503 and time.monotonic() - started < 1.0  # the queue (1 place) is full
    running.join()
    queued.join()
    assert queued_response["status"] == 200  # waited for the stopped query's slot


@pytest.mark.slow
def test_single_pattern_query_needs_no_worker(serve, tmp_path):
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")))
    settings = make_settings(
        store=str(tmp_path / "store"), query_timeout=2.0, max_concurrent_queries=1, query_queue_timeout=0.1
    )
    server = serve(create_app(settings, store=store))
    thread, _ = in_background(server.sparql, EXPLOSIVE)
    wait_running(server)
    response = httpx.get(server.sparql, params={"query": "SELECT ?o { ?s ?p ?o } LIMIT 3"})
    thread.join()
    assert len(response.json()["results"]["bindings"]) == 3


def test_workers_see_writes_made_after_they_started(guarded):
    query = "ASK { <http://example.org/new> ?p ?o }"
    assert httpx.get(guarded.sparql, params={"query": query}).json()["boolean"] is False
    body = b"<http://example.org/new> <http://example.org/p> 1 ."
    url = f"{guarded.url}/graphs?graph=http://example.org/graph/new&visibility=public"
    assert httpx.put(url, content=body, headers={"Content-Type": "text/turtle", **EDITOR}).status_code == 201
    assert httpx.get(guarded.sparql, params={"query": query}).json()["boolean"] is True


def test_large_answers_stream_from_a_worker(guarded):
    url = f"{guarded.url}/graphs?graph={BIG_GRAPH}"
    response = httpx.get(url, headers={"Accept": "application/n-triples"})
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 10_000


def test_a_streamed_answer_is_kept_once_it_has_ended(guarded):
    url = f"{guarded.url}/graphs?graph={BIG_GRAPH}"
    first = httpx.get(url, headers={"Accept": "application/n-triples"})
    assert len(first.content) > 256 * 1024  # streamed from the worker, not answered whole
    hits = guarded.app.state.executor.hits
    again = httpx.get(url, headers={"Accept": "application/n-triples"})
    assert again.content == first.content and guarded.app.state.executor.hits == hits + 1


def test_large_answers_stream_from_a_thread(serve):
    server = serve(create_app(make_settings(), store=add_big_graph(fill(EmbeddedStore(None)))))
    response = httpx.get(f"{server.url}/graphs?graph={BIG_GRAPH}", headers={"Accept": "application/n-triples"})
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 10_000


@pytest.mark.slow
def test_client_that_leaves_mid_stream_frees_its_slot(serve, tmp_path):
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")), n=100_000)
    settings = make_settings(store=str(tmp_path / "store"), max_concurrent_queries=1, query_queue_timeout=2.0)
    server = serve(create_app(settings, store=store))
    with httpx.stream(
        "GET", f"{server.url}/graphs?graph={BIG_GRAPH}", headers={"Accept": "application/n-triples"}
    ) as r:
        next(r.iter_bytes())
    assert httpx.get(server.sparql, params={"query": ASK_ANY}, timeout=10).json()["boolean"] is True


# -- the row cap ----------------------------------------------------------------------------------


@pytest.fixture
def capped(serve):
    return serve(create_app(make_settings(max_rows=5), store=add_big_graph(fill(EmbeddedStore(None)), n=20)))


def test_truncated_json_says_so_in_a_header_and_a_field(capped):
    response = httpx.get(capped.sparql, params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.headers["x-querschnitt-truncated"] == "true"
    body = response.json()
    assert (body["truncated"], body["maxRows"], len(body["results"]["bindings"])) == (True, 5, 5)


def test_complete_result_says_it_is_not_truncated(capped):
    response = httpx.get(capped.sparql, params={"query": "SELECT * { ?s ?p ?o } LIMIT 5"})
    assert response.headers["x-querschnitt-truncated"] == "false"
    assert "truncated" not in response.json()


def test_truncated_csv_says_so_in_the_header(capped):
    response = httpx.get(capped.sparql, params={"query": "SELECT * { ?s ?p ?o }", "format": "csv"})
    assert response.headers["x-querschnitt-truncated"] == "true"
    assert len(response.text.strip().splitlines()) == 1 + 5


def test_construct_is_capped_too(capped):
    response = httpx.get(capped.sparql, params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "ntriples"})
    assert response.headers["x-querschnitt-truncated"] == "true"
    assert len(list(parse(response.content, RdfFormat.N_TRIPLES))) == 5


# -- no requests to other hosts -------------------------------------------------------------------


class _Listener(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    hits: list[str] = []
    handler = type("Recording", (_Listener,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql", hits
    server.shutdown()
    server.server_close()


def remote_queries(target: str) -> list[str]:
    host, _, path = target.removeprefix("http://").partition("/")
    escaped = target.replace("sparql", "sp\\u0061rql")
    return [
        f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <http://{host}/> SELECT * {{ service remote:{path} {{ ?s ?p ?o }} }}",
        f"SELECT * {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <{escaped}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ {{ SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * {{ ?s ?p ?o FILTER(?s<?o||'>'=?p) SERVICE <{target}> {{}} FILTER(?o='x') }}",
    ]


@pytest.mark.parametrize("index", range(7))
def test_service_to_a_loopback_listener_is_refused_before_evaluation(guarded, listener, index):
    target, hits = listener
    response = httpx.get(guarded.sparql, params={"query": remote_queries(target)[index]}, headers=READER)
    assert response.status_code == 400
    assert "SERVICE" in response.text
    assert hits == []


def test_refusal_names_the_iri(http, listener):
    target, _ = listener
    response = http.get("/sparql", params={"query": remote_queries(target)[0]})
    assert f"<{target}>" in response.text


def test_load_to_a_loopback_listener_is_refused_even_for_editors(guarded, listener):
    target, hits = listener
    response = httpx.post(
        guarded.sparql, data={"update": f"LOAD <{target}> INTO GRAPH <http://example.org/g>"}, headers=EDITOR
    )
    assert response.status_code == 400
    assert "LOAD" in response.text
    assert hits == []


def test_service_inside_an_update_is_refused(guarded, listener):
    target, hits = listener
    update = f"INSERT {{ GRAPH <http://example.org/g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"
    assert httpx.post(guarded.sparql, data={"update": update}, headers=EDITOR).status_code == 400
    assert hits == []


def test_allow_listed_service_is_called(serve, listener):
    target, hits = listener
    server = serve(create_app(make_settings(service_allowlist=target), store=fill(EmbeddedStore(None))))
    response = httpx.get(server.sparql, params={"query": f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 200
    assert len(hits) == 1


# -- the single-pattern fast path -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "ASK { ?s ?p ?o }",
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10",
        "PREFIX dct: <http://purl.org/dc/terms/> SELECT ?t { ?d dct:title ?t . }",
        "CONSTRUCT WHERE { ?s a <http://www.w3.org/ns/dcat#Dataset> }",
    ],
)
def test_one_triple_pattern_takes_the_fast_path(query):
    assert is_single_pattern(query)


@pytest.mark.parametrize(
    "query",
    [
        EXPLOSIVE,
        "ASK { ?a ?b ?c . ?d ?e ?f }",
        "ASK { ?s ?p ?o FILTER(REGEX(?o, '(a+)+b')) }",
        "ASK { ?s <http://example.org/p>* ?o }",
        "SELECT * { ?s ?p ?o } ORDER BY ?o",
        "SELECT * { ?s ?p ?o } OFFSET 100000",
        "SELECT DISTINCT ?o { ?s ?p ?o }",
        "SELECT * { ?s ?p ?o ; ?q ?r }",
        "SELECT * { ?s ?p ?o # }\n ?a ?b ?c }",
        "ASK { ?s ?p ?o FILTER(?s<?o||'>'=?p) }",
    ],
)
def test_anything_more_goes_to_a_worker(query):
    assert not is_single_pattern(query)


# -- fair shares --------------------------------------------------------------------


@pytest.mark.slow
def test_a_client_sending_bombs_cannot_starve_another_client(serve, tmp_path):
    store = add_big_graph(fill(EmbeddedStore(tmp_path / "store")))
    settings = make_settings(
        store=str(tmp_path / "store"),
        query_timeout=2.0,
        max_concurrent_queries=2,
        query_queue_timeout=5.0,
        max_queries_per_client=1,
    )
    server = serve(create_app(settings, store=store))
    attacker = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    outcomes: list[int] = []
    bombs = [
        threading.Thread(
            target=lambda: outcomes.append(attacker.get(server.sparql, params={"query": EXPLOSIVE}).status_code)
        )
        for _ in range(6)
    ]
    for bomb in bombs:
        bomb.start()
    wait_until(lambda: len(outcomes) == 5 and len(workers_of(server).leased) == 1, "one bomb running, five refused")
    started = time.monotonic()
    response = httpx.get(server.sparql, params={"query": ASK_ANY}, timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True
    assert time.monotonic() - started < 1.0
    for bomb in bombs:
        bomb.join()
    attacker.close()
    assert sorted(outcomes) == [503] * 5 + [504]  # one query of its own at a time; the rest refused at once


def test_a_configured_token_has_its_own_share_and_a_random_one_has_none(client):
    from api.fairness import FairShare, client_key

    assert isinstance(client.app.state.executor, FairShare)
    known = {digest for digest, _ in client.app.state.tokens}

    def key(token: str) -> str | None:
        return client_key({"client": ("10.0.0.1", 5000), "headers": [(b"authorization", token.encode())]}, known)

    assert key(f"Bearer {READER_TOKEN}") != key("") == key("Bearer random-guess") == "address:10.0.0.1"


# -- who may see and decide what ------------------------------------------------------


def test_metrics_need_a_staff_token(client):
    assert client.get("/metrics").status_code == 401
    metrics = client.get("/metrics", headers=READER)
    assert metrics.status_code == 200 and "querschnitt_store_triples" in metrics.text
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_only_an_admin_makes_an_internal_graph_public(client):
    drafts = INTERNAL_GRAPH.replace("test-internal", "drafts")
    turtle = {"Content-Type": "text/turtle", **EDITOR}
    body = b"<http://example.org/s> <http://example.org/p> 1 ."
    assert client.put(f"/graphs?graph={drafts}&visibility=internal", content=body, headers=turtle).status_code == 201
    url = f"/graphs?graph={drafts}&visibility=public"
    refused = client.post(url, content=b"", headers={"Content-Type": "text/turtle", **EDITOR})
    assert refused.status_code == 403 and "admin" in refused.text
    assert drafts not in {g.iri for g in client.app.state.store.graphs(include_internal=False)}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/turtle"}
    assert client.post(url, content=b"", headers=admin).status_code == 204
    assert drafts in {g.iri for g in client.app.state.store.graphs(include_internal=False)}
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_not_even_an_admin_makes_a_graph_holding_people_public(client):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "text/turtle"}
    refused = client.post(f"/graphs?graph={INTERNAL_GRAPH}&visibility=public", content=b"", headers=admin)
    assert refused.status_code == 400 and "personal data" in refused.text
    assert INTERNAL_GRAPH not in {g.iri for g in client.app.state.store.graphs(include_internal=False)}
    assert PERSON_NAME not in client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"}).text


def test_an_editor_still_writes_public_graphs_and_internal_ones(client):
    turtle = {"Content-Type": "text/turtle", **EDITOR}
    body = b"<http://example.org/s> <http://example.org/p> 1 ."
    assert (
        client.put(f"/graphs?graph={PUBLIC_GRAPH}&visibility=public", content=body, headers=turtle).status_code == 204
    )
    assert client.post(f"/graphs?graph={INTERNAL_GRAPH}", content=body, headers=turtle).status_code == 204


def test_failed_token_checks_are_limited_per_address(memory_store):
    app = create_app(make_settings(auth_failures_per_minute=5), store=memory_store)
    with TestClient(app) as client:
        wrong = {"Authorization": "Bearer guess"}
        statuses = [client.get("/sparql", params={"query": "ASK {}"}, headers=wrong).status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        limited = client.get("/sparql", params={"query": "ASK {}"}, headers=READER)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        login = client.post("/login", data={"token": READER_TOKEN})
        assert login.status_code == 429  # the login form is no way around it
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200  # anonymous still answered


def test_an_address_may_try_again_after_the_minute():
    from api.auth import FailedChecks

    checks = FailedChecks(2)
    checks.failed("10.0.0.1", 0.0)
    checks.failed("10.0.0.1", 1.0)
    assert checks.wait("10.0.0.1", 30.0) == 30.0 and checks.wait("10.0.0.2", 30.0) == 0
    assert checks.wait("10.0.0.1", 61.0) == 0
