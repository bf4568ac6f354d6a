"""The embedded store: atomic replace, metadata, visibility, dump and backup."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from api.store import META_GRAPH, STAGING_PREFIX, EmbeddedStore, StoreError, StoreLocked, Visibility, open_store
from loaders.vocab import QS

PUBLIC = "https://musterstadt.example/id/graph/public"
INTERNAL = "https://musterstadt.example/id/graph/public-internal"
EX = "https://musterstadt.example/id/"


def triple(s: str, o: str) -> Quad:
    return Quad(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


def replace(store: EmbeddedStore, graph: str, quads, visibility=Visibility.PUBLIC, checksum="sha256:1"):
    return store.replace_graph(graph, quads, visibility=visibility, source="test", loader="test", checksum=checksum)


def values(store: EmbeddedStore, *, include_internal: bool = False, query: str = "SELECT ?o { ?s ?p ?o }") -> set:
    return {row["o"].value for row in store.query(query, include_internal=include_internal)}


@pytest.fixture
def store() -> EmbeddedStore:
    store = open_store("memory")
    replace(store, PUBLIC, [triple("a", "public")])
    replace(store, INTERNAL, [triple("b", "secret")], Visibility.INTERNAL)
    return store


def failing_stream():
    yield triple("a", "half")
    raise SyntaxError("line 2, column 5: unexpected end")


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
    assert not [g for g in store._oxigraph.named_graphs() if g.value.startswith(STAGING_PREFIX)]


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


def test_requesting_an_internal_graph_as_default_graph_gives_an_empty_dataset(store):
    rows = store.query("SELECT ?o { ?s ?p ?o }", default_graphs=[INTERNAL])
    assert list(rows) == []


def test_the_metadata_graph_is_not_part_of_any_dataset(store):
    rows = store.query(
        "SELECT ?s { ?s a <http://www.w3.org/ns/sparql-service-description#NamedGraph> }", include_internal=True
    )
    assert list(rows) == []


def test_substitutions_bind_values_without_touching_the_query_text(store):
    rows = store.query("SELECT ?s ?o { ?s ?p ?o }", substitutions={"o": Literal("public")})
    assert [row["s"].value for row in rows] == [EX + "a"]


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
    assert [g.iri for g in store.graphs() if g.loader != "api.derived"] == [PUBLIC]


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


def dump(store: EmbeddedStore) -> bytes:
    out = io.BytesIO()
    store.dump(out, include_meta=False)
    return b"\n".join(sorted(out.getvalue().splitlines()))


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
    assert NamedNode(EX + "graph/new") not in list(store._oxigraph.named_graphs())
    assert EX + "graph/new" not in {g.iri for g in store.graphs()}


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


def test_a_url_selects_the_remote_store_which_says_clearly_when_it_is_down():
    from api.remote_store import StoreUnavailable

    with pytest.raises(StoreUnavailable, match="127.0.0.1:9"):
        open_store("http://127.0.0.1:9/sparql", update_url=None)
