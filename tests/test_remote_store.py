"""The store contract on both implementations (embedded Oxigraph, remote Virtuoso), and what only the remote one needs.

`store_factory` is parametrized over both backends: each test gets an empty store of either kind (the
Virtuoso server is shared by the session and wiped between tests). Virtuoso comes from Debian's
`virtuoso-opensource` (`.ci/virtuoso.sh` installs it; in CI the tests install it themselves when
missing); without it the Virtuoso half skips with the reason.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QuerySolutions, RdfFormat, parse

from api.remote_store import (
    QueryRefused,
    RemoteError,
    RemoteStore,
    ResultTruncated,
    StoreTimeout,
    StoreUnavailable,
    substitute,
    without_dataset_clauses,
)
from api.store import META_GRAPH, STAGING_PREFIX, EmbeddedStore, StoreError, Visibility


def _helper():
    name = "querschnitt_tests_virtuoso"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("virtuoso.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


virtuoso_helper = _helper()

PUBLIC = "https://musterstadt.example/id/graph/public"
INTERNAL = "https://musterstadt.example/id/graph/public-internal"
EX = "https://musterstadt.example/id/"
BASE = "https://musterstadt.example/id/"


def triple(s: str, o: str) -> Quad:
    return Quad(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


def replace(store, graph: str, quads, visibility=Visibility.PUBLIC, checksum="sha256:1"):
    return store.replace_graph(graph, quads, visibility=visibility, source="test", loader="test", checksum=checksum)


def values(store, *, include_internal: bool = False, query: str = "SELECT ?o { ?s ?p ?o }") -> set:
    return {row["o"].value for row in store.query(query, include_internal=include_internal)}


def dump(store) -> bytes:
    out = io.BytesIO()
    store.dump(out, include_meta=False)
    return b"\n".join(sorted(_without_blank_labels(out.getvalue()).splitlines()))


def _without_blank_labels(data: bytes) -> bytes:
    import re

    return re.sub(rb"_:[A-Za-z0-9]+", b"_:b", data)


def failing_stream():
    yield triple("a", "half")
    raise SyntaxError("line 2, column 5: unexpected end")


# -- backends -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def virtuoso() -> Iterator:
    """One throw-away Virtuoso for the session (installed first in CI when missing)."""
    reason = virtuoso_helper.unavailable_reason(install=os.environ.get("CI") == "true")
    if reason is not None:
        pytest.skip(f"no Virtuoso: {reason}")
    try:
        server = virtuoso_helper.Virtuoso.start()
    except RuntimeError as error:
        pytest.skip(f"Virtuoso could not be started: {error}")
    server.baseline = _all_graphs(server)
    yield server
    server.stop()


def _all_graphs(server) -> set[str]:
    store = RemoteStore(server.sparql_url)
    try:
        rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
        return {row["g"].value for row in rows}
    finally:
        store.close()


def remote_store(server, **options) -> RemoteStore:
    return RemoteStore(
        server.sparql_url,
        update_url=server.update_url,
        gsp_url=options.pop("gsp_url", server.gsp_url),
        user="dba",
        password="dba",
        **options,
    )


def wipe(server) -> None:
    """Drop every graph the tests wrote (the server's own graphs stay)."""
    store = remote_store(server)
    try:
        extra = sorted(_all_graphs(server) - server.baseline)
        if extra:
            store._update(" ;\n".join(f"DROP SILENT GRAPH {NamedNode(g)}" for g in extra), stamp=False)
    finally:
        store.close()


@pytest.fixture(params=["embedded", "virtuoso"])
def store_factory(request) -> Iterator[Callable[..., object]]:
    """Makes empty stores of one backend: `store_factory()`; Virtuoso stores share one wiped server."""
    made: list = []
    if request.param == "embedded":

        def make(**_options):
            return EmbeddedStore(None)

    else:
        server = request.getfixturevalue("virtuoso")
        wipe(server)

        def make(**options):
            store = remote_store(server, **options)
            made.append(store)
            return store

    make.backend = request.param
    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory):
    store = store_factory()
    replace(store, PUBLIC, [triple("a", "public")])
    replace(store, INTERNAL, [triple("b", "secret")], Visibility.INTERNAL)
    return store


@pytest.fixture
def server(virtuoso):
    wipe(virtuoso)
    return virtuoso


def staging_graphs(store) -> list[str]:
    if isinstance(store, EmbeddedStore):
        return [g.value for g in store._oxigraph.named_graphs() if g.value.startswith(STAGING_PREFIX)]
    rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
    return [row["g"].value for row in rows if row["g"].value.startswith(STAGING_PREFIX)]


# -- the store contract, on both backends (adapted from test_store.py) ---------------------------


def test_a_replace_swaps_the_whole_graph(store):
    replace(store, PUBLIC, [triple("c", "new")])
    assert values(store) == {"new"}


def test_a_failed_replace_leaves_the_old_graph_intact(store):
    before = dump(store)
    with pytest.raises(SyntaxError):
        replace(store, PUBLIC, failing_stream())
    assert dump(store) == before


def test_a_failed_replace_leaves_no_staging_graph_behind(store):
    with pytest.raises(SyntaxError):
        replace(store, PUBLIC, failing_stream())
    assert staging_graphs(store) == []


def test_replacing_with_nothing_empties_the_graph(store):
    replace(store, PUBLIC, [])
    assert values(store) == set()
    assert [g.triples for g in store.graphs() if g.iri == PUBLIC] == [0]


def test_several_graphs_are_replaced_in_one_step(store):
    quads = [
        Quad(NamedNode(EX + "x"), NamedNode(EX + "p"), Literal("one"), NamedNode(PUBLIC)),
        Quad(NamedNode(EX + "y"), NamedNode(EX + "p"), Literal("two"), NamedNode(INTERNAL)),
    ]
    infos = store.replace_graphs(
        quads,
        visibility={PUBLIC: Visibility.PUBLIC, INTERNAL: Visibility.INTERNAL},
        source="s",
        loader="l",
        checksum="c",
    )
    assert sorted((i.iri, i.triples) for i in infos) == [(PUBLIC, 1), (INTERNAL, 1)]
    assert values(store, include_internal=True) == {"one", "two"}
    assert staging_graphs(store) == []


def test_a_quad_for_an_undeclared_graph_is_refused_and_nothing_changes(store):
    before = dump(store)
    stray = Quad(NamedNode(EX + "x"), NamedNode(EX + "p"), Literal("stray"), NamedNode(EX + "graph/other"))
    with pytest.raises(StoreError, match="graph/other"):
        store.replace_graphs([stray], visibility={PUBLIC: Visibility.PUBLIC}, source="s", loader="l", checksum="c")
    assert dump(store) == before


def test_the_metadata_graph_records_source_loader_count_checksum_and_visibility(store):
    replace(store, PUBLIC, [triple("a", "1"), triple("b", "2")], checksum="sha256:abc")
    (info,) = [g for g in store.graphs() if g.iri == PUBLIC]
    assert (info.source, info.loader, info.triples, info.checksum, info.visibility) == (
        "test",
        "test",
        2,
        "sha256:abc",
        Visibility.PUBLIC,
    )


def test_anonymous_queries_see_only_public_graphs(store):
    assert values(store) == {"public"}


def test_staff_queries_see_internal_graphs_too(store):
    assert values(store, include_internal=True) == {"public", "secret"}


def test_graph_variable_never_names_an_internal_graph_for_anonymous_callers(store):
    rows = store.query("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }")
    assert {row["g"].value for row in rows} == {PUBLIC}


def test_from_an_internal_graph_finds_nothing_anonymously(store):
    assert values(store, query=f"SELECT ?o FROM <{INTERNAL}> {{ ?s ?p ?o }}") <= {"public"}
    assert "secret" not in values(store, query=f"SELECT ?o FROM NAMED <{INTERNAL}> {{ GRAPH ?g {{ ?s ?p ?o }} }}")


def test_from_a_public_graph_narrows_the_dataset_for_staff(store):
    assert values(store, include_internal=True, query=f"SELECT ?o FROM <{PUBLIC}> {{ ?s ?p ?o }}") == {"public"}


def test_requesting_an_internal_graph_as_default_graph_gives_an_empty_dataset(store):
    rows = store.query("SELECT ?o { ?s ?p ?o }", default_graphs=[INTERNAL])
    assert list(rows) == []


def test_protocol_dataset_parameters_cannot_be_widened_by_from_in_the_text(store):
    rows = store.query(f"SELECT ?o FROM <{INTERNAL}> {{ ?s ?p ?o }}", default_graphs=[PUBLIC], named_graphs=[PUBLIC])
    assert {row["o"].value for row in rows} == {"public"}


def test_the_metadata_graph_is_not_part_of_any_dataset(store):
    rows = store.query(
        "SELECT ?s { ?s a <http://www.w3.org/ns/sparql-service-description#NamedGraph> }", include_internal=True
    )
    assert list(rows) == []
    rows = store.query(f"SELECT ?s {{ GRAPH <{META_GRAPH.value}> {{ ?s ?p ?o }} }}", include_internal=True)
    assert list(rows) == []


def test_substitutions_bind_values_without_touching_the_query_text(store):
    rows = store.query("SELECT ?s ?o { ?s ?p ?o }", substitutions={"o": Literal("public")})
    assert [row["s"].value for row in rows] == [EX + "a"]


def test_substitutions_reach_nested_groups_as_pre_bound_values(store):
    # The guard pattern of the gap queries: a nested FILTER sees the substituted value (SEP-0007).
    query = "SELECT ?s ?x { { FILTER(COALESCE(isIRI(?x), false)) } ?s ?p ?o }"
    assert [row["s"].value for row in store.query(query, substitutions={"x": NamedNode(EX + "a")})] == [EX + "a"]
    assert list(store.query(query, substitutions={"x": Literal("not an IRI")})) == []


NASTY = [
    'x" } ; DROP ALL ; INSERT DATA { <urn:a> <urn:b> "c" } #',
    "line\nbreak\r\t}",
    "'single' \\ back",
    "}}}\\u0022",
]


@pytest.mark.parametrize("nasty", NASTY)
def test_a_substituted_literal_cannot_break_out_of_its_place(store, nasty):
    replace(store, PUBLIC, [triple("a", "public"), triple("n", nasty)])
    before = dump(store)
    rows = store.query("SELECT ?s ?o { ?s ?p ?o }", substitutions={"o": Literal(nasty)})
    assert [row["s"].value for row in rows] == [EX + "n"]
    rows = store.query("SELECT ?s ?o { ?s ?p ?o }", substitutions={"o": Literal(nasty + "!")})
    assert list(rows) == []
    assert dump(store) == before


def test_an_invalid_variable_name_is_refused(store):
    with pytest.raises(ValueError):
        store.query("SELECT ?s ?o { ?s ?p ?o }", substitutions={"o } ; DROP ALL ; #": Literal("x")})


def test_dump_writes_parseable_nquads_of_every_graph(store):
    quads = list(parse(io.BytesIO(dump(store)), RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {PUBLIC, INTERNAL}


def test_public_dump_leaves_out_internal_graphs(store):
    out = io.BytesIO()
    store.dump(out, include_internal=False)
    assert b"secret" not in out.getvalue()


def test_dump_can_include_the_metadata_graph(store):
    out = io.BytesIO()
    store.dump(out, include_meta=True)
    assert META_GRAPH.value.encode() in out.getvalue()


def test_drop_graph_removes_content_and_metadata(store):
    assert store.drop_graph(INTERNAL)
    assert values(store, include_internal=True) == {"public"}
    assert [g.iri for g in store.graphs()] == [PUBLIC]
    assert not store.drop_graph(INTERNAL)


def test_a_new_graph_is_invisible_to_staff_until_its_load_completes(store):
    seen_midway = []

    def stream():
        yield triple("n1", "first")
        seen_midway.extend(values(store, include_internal=True))
        yield triple("n2", "second")

    replace(store, EX + "graph/new", stream())
    assert "first" not in seen_midway
    assert {"first", "second"} <= values(store)


def test_a_failed_first_load_leaves_no_graph(store):
    with pytest.raises(SyntaxError):
        replace(store, EX + "graph/new", failing_stream())
    assert EX + "graph/new" not in {g.iri for g in store.graphs()}
    assert values(store, include_internal=True) == {"public", "secret"}


def test_blank_nodes_stay_one_node_per_graph(store):
    node = BlankNode()
    replace(
        store,
        PUBLIC,
        [Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), node), Quad(node, NamedNode(EX + "q"), Literal("v"))],
    )
    rows = list(store.query(f"SELECT ?v {{ <{EX}a> <{EX}p> ?b . ?b <{EX}q> ?v }}"))
    assert [row["v"].value for row in rows] == ["v"]


def test_update_graphs_brings_the_metadata_up_to_date(store):
    store.update_graphs(
        f'INSERT DATA {{ GRAPH <{PUBLIC}> {{ <{EX}z> <{EX}p> "added" }} }}',
        [PUBLIC],
        source="update",
        loader="sparql-update",
        checksum="c",
    )
    (info,) = [g for g in store.graphs() if g.iri == PUBLIC]
    assert (info.triples, info.loader, info.visibility) == (2, "sparql-update", Visibility.PUBLIC)
    assert values(store) == {"public", "added"}


def test_every_write_changes_the_generation(store):
    before = store.generation
    replace(store, PUBLIC, [triple("a", "again")])
    assert store.generation != before


def test_ask_construct_and_describe_answer_like_the_embedded_store(store):
    assert bool(store.query("ASK { ?s ?p 'public' }")) is True
    assert bool(store.query("ASK { ?s ?p 'secret' }")) is False
    triples = list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    assert [t.object.value for t in triples] == ["public"]
    out = store.query(f"DESCRIBE <{EX}a>").serialize(format=RdfFormat.N_TRIPLES)
    assert b'"public"' in out and b"secret" not in out


LITERALS = [
    Literal("quote \" and ' and \\ backslash"),
    Literal("new\nline\r\ttab"),
    Literal("brace } { ."),
    Literal("Umlaut äöü ß € 😀"),
    Literal("Stadt", language="de"),
    Literal("city", language="en-gb"),
    Literal("5", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    Literal("true", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    Literal("false", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    Literal("2024-01-01T00:00:00Z", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")),
    Literal("2024-01-01", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#date")),
    Literal("x", datatype=NamedNode("https://musterstadt.example/def/own")),
    Literal("<tag>&amp;</tag>"),
    Literal(""),
    NamedNode("https://musterstadt.example/id/iri%20with?q=1&x=ä#frag"),
]


def test_literals_come_back_as_they_went_in(store_factory):
    store = store_factory()
    replace(store, PUBLIC, [Quad(NamedNode(EX + "s"), NamedNode(f"{EX}p{i}"), o) for i, o in enumerate(LITERALS)])
    rows = {row["p"].value: row["o"] for row in store.query("SELECT ?p ?o { ?s ?p ?o }")}
    assert [rows[f"{EX}p{i}"] for i in range(len(LITERALS))] == LITERALS
    triples = {t.predicate.value: t.object for t in store.query("CONSTRUCT WHERE { ?s ?p ?o }")}
    assert [triples[f"{EX}p{i}"] for i in range(len(LITERALS))] == LITERALS


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


@pytest.fixture(scope="module")
def demo_quads() -> list[Quad]:
    from loaders import demo, staff

    result = staff.build(
        staff.sheets_from_rows(demo.generate_rows(scale=1), source="test"),
        base=BASE,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=BASE + "graph/demo",
        internal_graph=BASE + "graph/demo-internal",
    )
    assert result.ok
    return [q for graph in result.graphs.values() for q in graph]


def test_demo_queries_give_the_same_answers_on_both_backends(server, demo_quads):
    embedded = EmbeddedStore(None)
    remote = remote_store(server)
    visibility = {BASE + "graph/demo": Visibility.PUBLIC, BASE + "graph/demo-internal": Visibility.INTERNAL}
    for target in (embedded, remote):
        target.replace_graphs(demo_quads, visibility=visibility, source="demo", loader="demo", checksum="c")
    assert [(g.iri, g.triples) for g in remote.graphs()] == [(g.iri, g.triples) for g in embedded.graphs()]
    for name, query in DEMO_QUERIES.items():
        for staff_view in (False, True):
            a = embedded.query(query, include_internal=staff_view)
            b = remote.query(query, include_internal=staff_view)
            assert digest(a) == digest(b), f"{name} (staff: {staff_view})"
    assert dump(embedded) == dump(remote)
    remote.close()


# -- remote only: what Virtuoso needs -----------------------------------------------------------


def test_virtuoso_pragmas_are_a_syntax_error(server):
    store = remote_store(server)
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
        remote_store(server).query(query)


def test_server_functions_are_refused_in_updates_too(server):
    with pytest.raises(QueryRefused):
        remote_store(server).update(
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


def test_a_swap_that_fails_on_the_server_is_undone_from_its_journal(server):
    store = remote_store(server)
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
    writer, reader = remote_store(server), remote_store(server)
    assert values(reader) == set()
    replace(writer, PUBLIC, [triple("a", "published")])
    assert values(reader) == {"published"}
    replace(writer, PUBLIC, [triple("a", "now internal")], Visibility.INTERNAL)
    assert values(reader) == set()
    assert values(reader, include_internal=True) == {"now internal"}


def test_loading_without_graph_store_protocol_uses_sparql_updates(server):
    store = remote_store(server, gsp_url=None)
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


def test_a_query_past_its_deadline_raises_instead_of_answering_in_part(server):
    store = remote_store(server, query_timeout=1.0)
    replace(store, PUBLIC, [triple(f"s{i}", f"v{i}") for i in range(3000)])
    start = time.monotonic()
    with pytest.raises(StoreTimeout):
        store.query("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    assert time.monotonic() - start < 15


@pytest.fixture(scope="module")
def small_limit_server() -> Iterator:
    """A second server that cuts answers at 5 rows, as Debian's default cuts them at 10,000."""
    if virtuoso_helper.unavailable_reason() is not None:
        pytest.skip("no Virtuoso")
    server = virtuoso_helper.Virtuoso.start(max_rows=5, buffers=10_000)
    yield server
    server.stop()


def test_a_cut_answer_raises_only_for_a_reader_that_wants_it_all(small_limit_server):
    store = remote_store(small_limit_server)
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
    store = remote_store(server)
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
