"""The store contract on both backends (embedded Oxigraph, a RemoteStore on Virtuoso), and what only the
embedded store does: backups, locks, read-only snapshots, recovery when it opens.

Each contract test runs once per backend (`backend` in conftest.py): atomic replace, metadata,
visibility, dataset restriction, substitutions, dump. What only the remote store needs (server quirks,
retries, timeouts, authentication) is in test_remote_store.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse

from api.app import create_app
from api.store import (
    META_GRAPH,
    STAGING_PREFIX,
    EmbeddedStore,
    QuerySource,
    Store,
    StoreError,
    StoreLocked,
    Visibility,
    open_store,
)
from api.testing import EDITOR, make_settings
from loaders.vocab import QS

PUBLIC = "https://musterstadt.example/id/graph/public"
INTERNAL = "https://musterstadt.example/id/graph/public-internal"
EX = "https://musterstadt.example/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def triple(s: str, o: str) -> Quad:
    return Quad(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


def replace(store, graph: str, quads, visibility=Visibility.PUBLIC, checksum="sha256:1"):
    return store.replace_graph(graph, quads, visibility=visibility, source="test", loader="test", checksum=checksum)


def values(store, *, include_internal: bool = False, query: str = "SELECT ?o { ?s ?p ?o }") -> set:
    return {row["o"].value for row in store.query(query, include_internal=include_internal)}


def dump(store) -> bytes:
    """The source graphs as sorted N-Quads, blank node labels levelled (each backend names them its own way)."""
    out = io.BytesIO()
    store.dump(out, include_meta=False)
    return b"\n".join(sorted(re.sub(rb"_:[A-Za-z0-9]+", b"_:b", out.getvalue()).splitlines()))


def failing_stream():
    yield triple("a", "half")
    raise SyntaxError("line 2, column 5: unexpected end")


def stored_graphs(store) -> set[str]:
    """Every named graph holding a triple, registered or not (the server's own and the metadata graph aside)."""
    if isinstance(store, EmbeddedStore):
        graphs = {
            g.value
            for g in store._oxigraph.named_graphs()
            if next(store._oxigraph.quads_for_pattern(None, None, None, g), None)
        }
    else:
        rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
        graphs = {row["g"].value for row in rows if row["g"].value.startswith(EX)}
    return graphs - {META_GRAPH.value}


def staging_graphs(store) -> list[str]:
    if isinstance(store, EmbeddedStore):
        return [g.value for g in store._oxigraph.named_graphs() if g.value.startswith(STAGING_PREFIX)]
    rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
    return [row["g"].value for row in rows if row["g"].value.startswith(STAGING_PREFIX)]


@pytest.fixture
def store(empty_store):
    """One public and one internal graph, on each backend."""
    replace(empty_store, PUBLIC, [triple("a", "public")])
    replace(empty_store, INTERNAL, [triple("b", "secret")], Visibility.INTERNAL)
    return empty_store


# -- the store contract, on both backends ----------------------------------------------------------


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


FOAF = "http://xmlns.com/foaf/0.1/"


def person(graph: str) -> list[Quad]:
    erika = NamedNode(EX + "person/erika")
    return [
        Quad(erika, NamedNode(RDF_TYPE), NamedNode(FOAF + "Person"), NamedNode(graph)),
        Quad(erika, NamedNode(FOAF + "mbox"), NamedNode("mailto:erika@example.org"), NamedNode(graph)),
    ]


def test_a_public_graph_holding_a_person_is_refused_and_nothing_changes(store):
    before = dump(store)
    with pytest.raises(StoreError, match="personal data"):
        replace(store, PUBLIC, person(PUBLIC))
    assert dump(store) == before


def test_a_persons_mailbox_is_refused_in_a_public_graph_when_the_person_is_typed_elsewhere(store):
    replace(store, INTERNAL, person(INTERNAL), Visibility.INTERNAL)
    mailbox = [q for q in person(PUBLIC) if q.predicate.value.endswith("mbox")]
    with pytest.raises(StoreError, match="person/erika"):
        replace(store, PUBLIC, mailbox)


def test_a_departments_mailbox_stays_public(store):
    mailbox = Quad(
        NamedNode(EX + "department/bauamt"), NamedNode(FOAF + "mbox"), NamedNode("mailto:bauamt@example.org")
    )
    replace(store, PUBLIC, [mailbox])
    assert "mailto:bauamt@example.org" in values(store)


def test_a_graph_holding_people_cannot_be_made_public(store):
    replace(store, INTERNAL, person(INTERNAL), Visibility.INTERNAL)
    with pytest.raises(StoreError, match="personal data"):
        store.update_graphs("", [INTERNAL], source="t", loader="t", checksum="c", visibility=Visibility.PUBLIC)
    assert {g.iri: g.visibility for g in store.graphs()}[INTERNAL] is Visibility.INTERNAL


def test_an_update_that_puts_a_person_into_a_public_graph_makes_it_internal_and_says_so(store):
    insert = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in person(PUBLIC))
    with pytest.raises(StoreError, match="personal data"):
        store.update_graphs(
            f"INSERT DATA {{ GRAPH <{PUBLIC}> {{ {insert} }} }}", [PUBLIC], source="t", loader="t", checksum="c"
        )
    assert {g.iri: g.visibility for g in store.graphs()}[PUBLIC] is Visibility.INTERNAL
    assert values(store, query=f"SELECT ?o {{ ?s <{FOAF}mbox> ?o }}") == set()


def test_an_update_of_a_public_graph_without_people_keeps_it_public(store):
    store.update_graphs(
        f'INSERT DATA {{ GRAPH <{PUBLIC}> {{ <{EX}x> <{EX}p> "more" }} }}',
        [PUBLIC],
        source="t",
        loader="t",
        checksum="c",
    )
    assert "more" in values(store)


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


@pytest.mark.parametrize(
    "pattern",
    [
        f"GRAPH <{INTERNAL}> {{ ?s ?p ?o }}",
        f"GRAPH <{META_GRAPH.value}> {{ ?s ?p ?o }}",
        "GRAPH <urn:nowhere> { ?s ?p ?o }",
    ],
)
def test_a_graph_outside_the_dataset_has_no_solution_even_when_nothing_of_it_is_projected(store, pattern):
    # Virtuoso gave such a pattern one empty solution for ASK, COUNT(*) and constant projections.
    assert not store.query(f"ASK {{ {pattern} }}")
    (row,) = store.query(f"SELECT (COUNT(*) AS ?n) {{ {pattern} }}")
    assert row["n"].value == "0"
    assert list(store.query(f"SELECT (1 AS ?x) {{ {pattern} }}")) == []


def test_a_pattern_that_matches_nothing_in_a_visible_graph_is_false(store):
    assert store.query(f"ASK {{ GRAPH <{PUBLIC}> {{ ?s ?p 'public' }} }}")
    assert not store.query(f"ASK {{ GRAPH <{PUBLIC}> {{ ?s ?p 'secret' }} }}")


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


def replace_with_a_blank_node(store) -> None:
    """PUBLIC becomes `ex:a ex:p _:b . _:b ex:q "v"`."""
    node = BlankNode()
    replace(
        store,
        PUBLIC,
        [Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), node), Quad(node, NamedNode(EX + "q"), Literal("v"))],
    )


def test_blank_nodes_stay_one_node_per_graph(store):
    replace_with_a_blank_node(store)
    rows = list(store.query(f"SELECT ?v {{ <{EX}a> <{EX}p> ?b . ?b <{EX}q> ?v }}"))
    assert [row["v"].value for row in rows] == ["v"]


def test_blank_nodes_come_back_as_blank_nodes_in_select_answers(store):
    replace_with_a_blank_node(store)
    rows = list(store.query(f"SELECT ?b ?c {{ <{EX}a> <{EX}p> ?b . ?c <{EX}q> 'v' }}"))
    assert [(type(r["b"]), r["b"] == r["c"]) for r in rows] == [(BlankNode, True)]


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


def test_update_graphs_registers_a_graph_that_had_no_metadata_entry(store):
    new = f"{EX}graph/new"
    store.update_graphs(
        f'INSERT DATA {{ GRAPH <{new}> {{ <{EX}z> <{EX}p> "fresh" }} }}',
        [new],
        source="update",
        loader="sparql-update",
        checksum="c",
    )
    (info,) = [g for g in store.graphs() if g.iri == new]
    assert (info.triples, info.loader, info.visibility) == (1, "sparql-update", Visibility.INTERNAL)
    assert "fresh" in values(store, include_internal=True)


def test_a_graph_store_post_to_a_new_graph_registers_it(store):
    new = f"{EX}graph/posted"
    with TestClient(create_app(make_settings(), store=store)) as client:
        response = client.post(
            "/graphs",
            params={"graph": new, "visibility": "public"},
            content=f'<{EX}z> <{EX}p> "posted" .\n',
            headers={"Content-Type": "application/n-triples", **EDITOR},
        )
        assert response.status_code == 201, response.text
        listed = {g["graph"]: g["triples"] for g in client.get("/api/graphs").json()}
    assert listed.get(new) == 1
    assert "posted" in values(store)


def test_both_backends_offer_everything_the_store_interface_names(store):
    names = {
        name
        for protocol in (Store, QuerySource)
        for name in [*vars(protocol), *protocol.__annotations__]
        if not name.startswith("_") or name == "__len__"
    }
    assert {"query", "replace_graphs", "local_engine", "has_local_path"} <= names
    assert sorted(name for name in names if not hasattr(store, name)) == []


def test_a_graph_removed_twice_in_one_update_ends_empty(store):
    # The derived refresh drops its scratch graph first and last; Virtuoso ignored the second DROP.
    graph = f"<{EX}graph/scratch>"
    store.update(
        f"DROP SILENT GRAPH {graph} ; INSERT DATA {{ GRAPH {graph} {{ <{EX}a> <{EX}p> 'x' }} }} ; DROP SILENT GRAPH {graph}"
    )
    store.update(
        f"INSERT DATA {{ GRAPH {graph} {{ <{EX}a> <{EX}p> 'y' }} }} ; CLEAR GRAPH {graph} ; CLEAR GRAPH {graph}"
    )
    store.update_graphs(f"DROP GRAPH <{PUBLIC}>", [PUBLIC], source="s", loader="l", checksum="c")
    assert stored_graphs(store) == {INTERNAL}
    assert [g.iri for g in store.graphs()] == [INTERNAL]


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


def test_literals_come_back_as_they_went_in(empty_store):
    store = empty_store
    replace(store, PUBLIC, [Quad(NamedNode(EX + "s"), NamedNode(f"{EX}p{i}"), o) for i, o in enumerate(LITERALS)])
    rows = {row["p"].value: row["o"] for row in store.query("SELECT ?p ?o { ?s ?p ?o }")}
    assert [rows[f"{EX}p{i}"] for i in range(len(LITERALS))] == LITERALS
    triples = {t.predicate.value: t.object for t in store.query("CONSTRUCT WHERE { ?s ?p ?o }")}
    assert [triples[f"{EX}p{i}"] for i in range(len(LITERALS))] == LITERALS


# -- the embedded store only ---------------------------------------------------------------------------


def test_backup_is_an_openable_copy(tmp_path: Path):
    store = open_store(str(tmp_path / "store"))
    replace(store, PUBLIC, [triple("a", "kept")])
    store.backup(tmp_path / "copy")
    copy = EmbeddedStore(tmp_path / "copy", read_only=True)
    assert values(copy) == {"kept"}


def test_backup_refuses_an_existing_directory(tmp_path: Path):
    store = open_store(str(tmp_path / "store"))
    (tmp_path / "taken").mkdir()
    with pytest.raises(StoreError, match="exists"):
        store.backup(tmp_path / "taken")


def test_an_in_memory_store_has_no_backup_and_says_what_to_do_instead(tmp_path: Path):
    with pytest.raises(StoreError, match="querschnitt export"):
        EmbeddedStore(None).backup(tmp_path / "copy")


def test_a_store_held_by_another_handle_is_reported_as_locked_with_the_alternative(tmp_path: Path):
    holder = open_store(str(tmp_path / "store"))
    with pytest.raises(StoreLocked, match="--server"):
        open_store(str(tmp_path / "store"))
    holder.flush()


def test_read_only_opening_works_while_another_process_holds_the_store(tmp_path: Path):
    holder = open_store(str(tmp_path / "store"))
    replace(holder, PUBLIC, [triple("a", "visible")])
    holder.flush()
    reader = open_store(str(tmp_path / "store"), read_only=True)
    assert values(reader) == {"visible"}


def test_read_only_store_refuses_writes(tmp_path: Path):
    open_store(str(tmp_path / "store")).flush()
    reader = open_store(str(tmp_path / "store"), read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        replace(reader, PUBLIC, [])


def test_leftover_staging_graphs_are_removed_when_the_store_opens(tmp_path: Path):
    store = open_store(str(tmp_path / "store"))
    leftover = NamedNode(STAGING_PREFIX + "crashed")
    store._oxigraph.add(Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), Literal("half"), leftover))
    store.flush()
    del store
    reopened = open_store(str(tmp_path / "store"))
    assert leftover not in list(reopened._oxigraph.named_graphs())


def test_a_store_directory_is_created_with_its_parents(tmp_path: Path):
    store = open_store(str(tmp_path / "data" / "store"))
    replace(store, PUBLIC, [triple("a", "x")])
    assert (tmp_path / "data" / "store" / "CURRENT").exists()


def test_a_first_load_killed_midway_is_removed_when_the_store_opens(tmp_path: Path):
    # What SIGKILL during a first load leaves on disk: the half graph under its own name and its marker.
    crashed = open_store(str(tmp_path / "store"))
    graph = NamedNode(EX + "graph/half")
    crashed._oxigraph.add(Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), Literal("half"), graph))
    crashed._oxigraph.add(Quad(graph, QS.loading, Literal(True), META_GRAPH))
    crashed.close()
    reopened = open_store(str(tmp_path / "store"))
    assert graph not in list(reopened._oxigraph.named_graphs())
    assert not list(reopened._oxigraph.quads_for_pattern(graph, None, None, META_GRAPH))


def test_staff_also_see_data_written_to_the_default_graph_by_a_raw_update():
    # A shared remote store shows registered graphs only (RemoteStore.visible_graphs): embedded only.
    store = EmbeddedStore(None)
    store.update(f'INSERT DATA {{ <{EX}a> <{EX}p> "default" }}')
    assert values(store, include_internal=True) == {"default"}
    assert values(store) == set()
