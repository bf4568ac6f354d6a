"""What only the remote store does: Virtuoso's quirks, retries, timeouts, truncation, authentication,
recovery; and the same answers as the embedded store on the demo.

The store contract both backends share is tested on both in test_store.py. These tests use the
session's Virtuoso (`virtuoso` in conftest.py), wiped first; without Virtuoso they skip with the reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import time
from collections.abc import Iterator

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QuerySolutions

from api.store import STAGING_PREFIX, StoreError, Visibility, open_store
from api.store.remote import (
    QueryRefused,
    RemoteError,
    RemoteStore,
    ResultTruncated,
    StoreTimeout,
    StoreUnavailable,
    substitute,
    without_dataset_clauses,
)
from api.store.virtuoso_dialect import rewrite_graph_removals

PUBLIC = "https://musterstadt.example/id/graph/public"
INTERNAL = "https://musterstadt.example/id/graph/public-internal"
EX = "https://musterstadt.example/id/"


def triple(s: str, o: str) -> Quad:
    return Quad(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


def replace(store, graph: str, quads, visibility=Visibility.PUBLIC, checksum="sha256:1"):
    return store.replace_graph(graph, quads, visibility=visibility, source="test", loader="test", checksum=checksum)


def values(store, *, include_internal: bool = False, query: str = "SELECT ?o { ?s ?p ?o }") -> set:
    return {row["o"].value for row in store.query(query, include_internal=include_internal)}


def dump(store) -> bytes:
    out = io.BytesIO()
    store.dump(out, include_meta=False)
    return b"\n".join(sorted(re.sub(rb"_:[A-Za-z0-9]+", b"_:b", out.getvalue()).splitlines()))


def staging_graphs(store: RemoteStore) -> list[str]:
    rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
    return [row["g"].value for row in rows if row["g"].value.startswith(STAGING_PREFIX)]


@pytest.fixture
def server(virtuoso) -> Iterator:
    """The session's Virtuoso, wiped before and after; `server.store(...)` makes a client that may write."""
    virtuoso.wipe()
    yield virtuoso
    virtuoso.wipe()


# -- the same answers from both backends on the demo data ---------------------------------------

DEMO_QUERIES = {
    "classes": "SELECT ?c (COUNT(*) AS ?n) { ?s a ?c } GROUP BY ?c",
    "departments": "PREFIX org: <http://www.w3.org/ns/org#> PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
    "SELECT ?d ?name { ?d a org:OrganizationalUnit ; foaf:name ?name }",
    "projects-per-target": "PREFIX dct: <http://purl.org/dc/terms/> PREFIX qs: <https://w3id.org/querschnitt/def#> "
    "SELECT ?target (COUNT(DISTINCT ?p) AS ?n) { ?p a qs:Project ; dct:subject ?target } GROUP BY ?target",
    "department-pairs": "PREFIX dct: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#> "
    "PREFIX qs: <https://w3id.org/querschnitt/def#> "
    "SELECT ?a ?b ?t { ?p a qs:Project ; prov:wasAssociatedWith ?a ; dct:subject ?t . "
    "?q a qs:Project ; prov:wasAssociatedWith ?b ; dct:subject ?t FILTER(STR(?a) < STR(?b)) "
    "MINUS { ?r prov:wasAssociatedWith ?a , ?b } }",
    "datasets-without-distribution": "PREFIX dcat: <http://www.w3.org/ns/dcat#> "
    "SELECT ?d { ?d a dcat:Dataset FILTER NOT EXISTS { ?d dcat:distribution ?x } }",
    "graph-sizes": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "words": "PREFIX dct: <http://purl.org/dc/terms/> SELECT ?s ?t { ?s dct:title ?t FILTER(CONTAINS(LCASE(STR(?t)), 'rad')) }",
}


def digest(result) -> str:
    """Order-free digest of a SELECT answer (blank node labels ignored)."""
    if isinstance(result, QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = sorted(
            "\t".join(
                "" if row[v] is None else ("_:" if isinstance(row[v], BlankNode) else str(row[v])) for v in variables
            )
            for row in result
        )
        return hashlib.sha256("\n".join([" ".join(variables), *rows]).encode()).hexdigest()
    return hashlib.sha256(str(bool(result)).encode()).hexdigest()


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize("name", sorted(DEMO_QUERIES))
def test_ad_hoc_queries_give_the_same_answers_on_both_backends(demo_pair, name, staff):
    embedded, remote = demo_pair
    query = DEMO_QUERIES[name]
    assert digest(remote.query(query, include_internal=staff)) == digest(embedded.query(query, include_internal=staff))


def test_the_demo_has_the_same_graphs_and_quads_on_both_backends(demo_pair):
    embedded, remote = demo_pair
    assert [(g.iri, g.visibility, g.triples) for g in remote.graphs()] == [
        (g.iri, g.visibility, g.triples) for g in embedded.graphs()
    ]
    assert dump(remote) == dump(embedded)


# -- remote only: what Virtuoso needs -----------------------------------------------------------


def test_virtuoso_pragmas_are_a_syntax_error(server):
    store = server.store()
    with pytest.raises(SyntaxError):
        store.query(f"DEFINE input:default-graph-uri <{INTERNAL}> SELECT ?o {{ ?s ?p ?o }}")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT (<bif:sys_stat>('st_dbms_name') AS ?x) {}",
        "SELECT (<BIF:sys_stat>('st_dbms_name') AS ?x) {}",
        "PREFIX b: <bif:> SELECT (b:http_get('http://127.0.0.1:1/') AS ?x) {}",
        "SELECT (<\\u0062if:sys_stat>('st_dbms_name') AS ?x) {}",
        "SELECT (<sql:anything>('x') AS ?x) {}",
        "PREFIX bif: <http://example.org/> SELECT (bif:sys_stat('x') AS ?x) {}",
    ],
)
def test_server_functions_are_refused(server, query):
    with pytest.raises(QueryRefused):
        server.store().query(query)


def test_server_functions_are_refused_in_updates_too(server):
    with pytest.raises(QueryRefused):
        server.store().update(
            f"INSERT {{ GRAPH <{PUBLIC}> {{ <{EX}a> <{EX}p> ?x }} }} WHERE {{ BIND(<bif:http_get>('http://127.0.0.1:1/') AS ?x) }}"
        )


def test_from_clauses_are_cut_out_of_the_text():
    text = "PREFIX g: <https://g.example/>\nSELECT ?o FROM g:a FROM NAMED <https://g.example/b>\nWHERE { ?s ?p ?o }"
    stripped = without_dataset_clauses(text)
    assert "FROM" not in stripped and "g:a" not in stripped and stripped.count("\n") == text.count("\n")
    assert without_dataset_clauses("SELECT ?from { ?s <https://from.example/> ?from }") == (
        "SELECT ?from { ?s <https://from.example/> ?from }"
    )


def test_substitute_writes_terms_escaped_and_keeps_the_column():
    text = substitute("SELECT ?s ?o { ?s ?p ?o } ORDER BY ?o", {"o": Literal('a" } #\nb')})
    assert text == 'SELECT ?s ("a\\" } #\\nb" AS ?o) { ?s ?p "a\\" } #\\nb" } ORDER BY ("a\\" } #\\nb")'
    with pytest.raises(QueryRefused):
        substitute("SELECT ?x { BIND(1 AS ?x) }", {"x": Literal("1")})
    with pytest.raises(TypeError):
        substitute("SELECT ?x { ?x ?p ?o }", {"x": BlankNode()})


def test_a_sub_select_drops_a_substituted_column_that_the_top_level_keeps():
    # (term AS ?d) at two nested levels would bind a variable already in scope: a syntax error (§18.2.1).
    text = "SELECT ?t ?d { { SELECT DISTINCT ?t ?d { { SELECT ?t ?d { ?t ?p ?d } } } } }"
    assert " ".join(substitute(text, {"d": NamedNode("urn:d")}).split()) == (
        "SELECT ?t (<urn:d> AS ?d) { { SELECT DISTINCT ?t { { SELECT ?t { ?t ?p <urn:d> } } } } }"
    )


def test_a_sub_select_listing_only_substituted_variables_keeps_them_bound_by_values_at_the_top():
    text = "SELECT ?x ?d { { SELECT DISTINCT ?d { ?d a ?c } } ?x ?p ?d } ORDER BY ?d"
    assert " ".join(substitute(text, {"d": NamedNode("urn:d")}).split()) == (
        "SELECT ?x ?d { VALUES (?d) { (<urn:d>) } { SELECT DISTINCT (<urn:d> AS ?d) { <urn:d> a ?c } } ?x ?p <urn:d> } ORDER BY ?d"
    )


def test_grouping_by_a_substituted_variable_is_left_out_unless_it_is_the_only_group():
    text = "SELECT ?t ?d { { SELECT ?t ?d (COUNT(*) AS ?n) { ?t ?p ?d } GROUP BY ?t ?d } { SELECT ?d (COUNT(*) AS ?m) { ?x ?q ?d } GROUP BY ?d } }"
    out = " ".join(substitute(text, {"d": NamedNode("urn:d")}).split())
    assert "GROUP BY ?t }" in out  # Virtuoso failed on GROUP BY (<iri>) there ("VECSL: Internal error")
    assert "GROUP BY (<urn:d>) }" in out  # alone it stays: no GROUP BY would give one row over no solutions


def test_a_removal_of_a_graph_already_removed_in_the_request_becomes_delete_where():
    text = "DROP SILENT GRAPH <urn:g> ; INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 'DROP GRAPH <urn:g>' } } ; CLEAR GRAPH <urn:g> ; DROP ALL"
    assert rewrite_graph_removals(text) == (
        "CLEAR SILENT GRAPH <urn:g> ; INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 'DROP GRAPH <urn:g>' } } ; "
        "DELETE WHERE { GRAPH <urn:g> { ?s ?p ?o } } ; DROP ALL"
    )


def test_a_query_that_virtuoso_estimates_too_expensive_says_which_setting_to_remove():
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        message = "Virtuoso 42000 Error The estimated execution time 0 (sec) exceeds the limit of 400 (sec)."
        return httpx.Response(500, text=message, headers={"Server": "Virtuoso/07.20.3235"})

    with pytest.raises(StoreTimeout, match="MaxQueryCostEstimationTime"):
        fake_store(handler).update(f'INSERT DATA {{ GRAPH <{PUBLIC}> {{ <{EX}a> <{EX}p> "x" }} }}')


def test_a_swap_that_fails_on_the_server_is_undone_from_its_journal(server):
    store = server.store()
    replace(store, PUBLIC, [triple("a", "old")])
    before, meta_before = dump(store), store.graphs()
    # A derived update that fails at run time: Virtuoso keeps the operations before it (measured).
    store.derived_updates = [
        f"INSERT {{ GRAPH <{EX}graph/derived> {{ <{EX}a> <{EX}p> ?x }} }} "
        "WHERE { BIND(<bif:signal>('22023', 'injected failure') AS ?x) }"
    ]
    with pytest.raises(RemoteError, match="injected failure"):
        replace(store, PUBLIC, [triple("a", "new")])
    store.derived_updates = []
    assert dump(store) == before
    assert store.graphs() == meta_before
    assert staging_graphs(store) == []


def test_a_second_process_sees_writes_and_visibility_changes_at_once(server):
    writer, reader = server.store(), server.store()
    assert values(reader) == set()
    replace(writer, PUBLIC, [triple("a", "published")])
    assert values(reader) == {"published"}
    replace(writer, PUBLIC, [triple("a", "now internal")], Visibility.INTERNAL)
    assert values(reader) == set()
    assert values(reader, include_internal=True) == {"now internal"}


def test_loading_without_graph_store_protocol_uses_sparql_updates(server):
    store = server.store(gsp=False)
    node = BlankNode()
    quads = [triple(f"s{i}", f"v{i}") for i in range(2500)]
    quads += [Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), node), Quad(node, NamedNode(EX + "q"), Literal("v"))]
    (info,) = store.replace_graphs(
        (Quad(q.subject, q.predicate, q.object, NamedNode(PUBLIC)) for q in quads),
        visibility={PUBLIC: Visibility.PUBLIC},
        source="s",
        loader="l",
        checksum="c",
    )
    assert info.triples == 2502
    rows = list(store.query(f"SELECT ?v {{ <{EX}a> <{EX}p> ?b . ?b <{EX}q> ?v }}"))
    assert [row["v"].value for row in rows] == ["v"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_store_that_is_down_is_reported_quickly():
    store = RemoteStore(f"http://127.0.0.1:{_closed_port()}/sparql", connect_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.query("SELECT * { ?s ?p ?o }")
    with pytest.raises(StoreUnavailable):
        replace(store, PUBLIC, [triple("a", "b")])
    assert time.monotonic() - start < 5


def test_wrong_credentials_are_reported(server):
    store = RemoteStore(server.sparql_url, update_url=server.update_url, user="dba", password="wrong")
    with pytest.raises(StoreError, match="QUERSCHNITT_REMOTE_PASSWORD"):
        store.update(f'INSERT DATA {{ GRAPH <{PUBLIC}> {{ <{EX}a> <{EX}p> "x" }} }}')


def test_a_url_selects_the_remote_store_which_says_clearly_when_it_is_down():
    with pytest.raises(StoreUnavailable, match="127.0.0.1:9"):
        open_store("http://127.0.0.1:9/sparql", update_url=None)


def test_backup_refuses_an_existing_directory(server, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(StoreError, match="exists"):
        server.store().backup(tmp_path / "taken")


def test_a_query_past_its_deadline_raises_instead_of_answering_in_part(server):
    store = server.store(query_timeout=1.0)
    replace(store, PUBLIC, [triple(f"s{i}", f"v{i}") for i in range(3000)])
    start = time.monotonic()
    with pytest.raises(StoreTimeout):
        store.query("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    assert time.monotonic() - start < 15


@pytest.fixture(scope="module")
def small_limit_server(virtuoso) -> Iterator:
    """A second server that cuts answers at 5 rows, as Debian's default cuts them at 10,000."""
    server = type(virtuoso).start(max_rows=5, buffers=10_000)
    yield server
    server.stop()


def test_a_cut_answer_raises_only_for_a_reader_that_wants_it_all(small_limit_server):
    store = small_limit_server.store()
    replace(store, PUBLIC, [triple(f"s{i}", f"v{i}") for i in range(20)])
    assert [g.iri for g in store.graphs()] == [PUBLIC]  # the metadata is read in pages of the server's limit
    rows = iter(store.query("SELECT ?o { ?s ?p ?o }"))
    assert len([next(rows) for _ in range(3)]) == 3  # a capped reader (the API's max_rows) is not disturbed
    with pytest.raises(ResultTruncated, match="ResultSetMaxRows"):
        list(store.query("SELECT ?o { ?s ?p ?o }"))
    with pytest.raises(ResultTruncated):
        list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    with pytest.raises(ResultTruncated):
        store.dump(io.BytesIO())


def test_recover_drops_leftover_staging_graphs(server):
    store = server.store()
    leftover = NamedNode(STAGING_PREFIX + "crashed:0")
    store.update(f'INSERT DATA {{ GRAPH {leftover} {{ <{EX}a> <{EX}p> "half" }} }}')
    assert staging_graphs(store) == [leftover.value]
    assert store.recover() == 0
    assert staging_graphs(store) == []


# -- the HTTP layer, against a stand-in server --------------------------------------------------

EMPTY_RESULTS = b'{"head":{"vars":["v"]},"results":{"bindings":[]}}'


def fake_store(handler, **options) -> RemoteStore:
    import httpx

    return RemoteStore(
        "http://store.test/sparql",
        update_url="http://store.test/update",
        transport=httpx.MockTransport(handler),
        backoff=0.01,
        **options,
    )


def test_reads_are_retried_with_backoff_and_writes_are_not():
    import httpx

    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/update" or calls.count("/sparql") == 1:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, content=EMPTY_RESULTS, headers={"Content-Type": "application/sparql-results+json"})

    store = fake_store(handler)
    assert list(store.query("SELECT ?v { ?s ?p ?v }")) == []
    assert calls[:2] == ["/sparql", "/sparql"]  # the first read got 503 and was sent again
    with pytest.raises(StoreUnavailable, match="503"):
        store.update(f'INSERT DATA {{ GRAPH <{PUBLIC}> {{ <{EX}a> <{EX}p> "x" }} }}')
    assert calls.count("/update") == 1


def test_basic_authentication_is_used_when_the_server_asks_for_it():
    import base64

    import httpx

    expected = "Basic " + base64.b64encode(b"editor:secret").decode()
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != expected:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="store"'})
        return httpx.Response(200, content=EMPTY_RESULTS, headers={"Content-Type": "application/sparql-results+json"})

    store = fake_store(handler, user="editor", password="secret")
    assert list(store.query("SELECT ?v { ?s ?p ?v }")) == []
    assert seen[0] is None and seen[1] == expected and set(seen[2:]) == {expected}
