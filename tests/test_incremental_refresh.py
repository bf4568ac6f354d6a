"""The incremental refresh of the derived graphs leaves exactly what the full refresh computes, after any write."""

from __future__ import annotations

import random

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from api import derived
from api.demo import load_demo
from api.store import EmbeddedStore, Visibility
from api.testing import make_settings

BASE = "https://musterstadt.example/id/"
PUBLIC, INTERNAL, SDG = f"{BASE}graph/demo", f"{BASE}graph/demo-internal", f"{BASE}graph/sdg"
EXTRA = f"{BASE}graph/extra"
DCT, QS, PROV, SKOS = (
    "http://purl.org/dc/terms/",
    "https://w3id.org/querschnitt/def#",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2004/02/skos/core#",
)
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def select(store: EmbeddedStore, sparql: str) -> list:
    """Rows of a SELECT over every graph of the store itself (no caller's dataset)."""
    return list(store._select_everywhere(sparql))


class Spy:
    """Counts the writes that took the incremental refresh and those that took the full one, in the text the
    store sends its engine."""

    def __init__(self, store: EmbeddedStore):
        self.incremental = self.full = 0
        engine = store._oxigraph

        class Engine:
            def __getattr__(_, name):
                return getattr(engine, name)

            def update(_, text, **kwargs):
                self.count(text)
                return engine.update(text, **kwargs)

        store._oxigraph = Engine()

    def count(self, text: str) -> None:
        if derived.INCREMENTAL.operations in text:
            self.incremental += 1
        elif derived.REFRESH in text:
            self.full += 1


def demo_store() -> EmbeddedStore:
    # Embedded only: a remote store takes the full refresh (docs/scaling.md says why).
    store = EmbeddedStore(None)
    derived.install(store)
    load_demo(store, make_settings())
    store.spy = Spy(store)
    return store


@pytest.fixture
def demo() -> EmbeddedStore:
    return demo_store()


def content(store: EmbeddedStore, graph: str) -> list[Quad]:
    rows = select(store, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return [Quad(row["s"], row["p"], row["o"], NamedNode(graph)) for row in rows]


def derived_state(store: EmbeddedStore) -> tuple[set[str], dict[str, int]]:
    graphs = " ".join(str(g) for g in derived.DERIVED_GRAPHS)
    rows = select(store, f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")
    quads = {" ".join(str(row[v]) for v in ("g", "s", "p", "o")) for row in rows}
    counts = {g.iri: g.triples for g in store.graphs() if g.iri in {d.value for d in derived.DERIVED_GRAPHS}}
    return quads, counts


def assert_as_full_refresh(store: EmbeddedStore) -> None:
    """The derived graphs (and their registered sizes) are what a full refresh makes of the same sources."""
    left = derived_state(store)
    incremental, store.incremental_refresh = store.incremental_refresh, None
    store.update("CLEAR SILENT GRAPH <urn:querschnitt:test:nothing>")  # any write runs the full refresh
    store.incremental_refresh = incremental
    full = derived_state(store)
    assert left[1] == full[1]
    assert sorted(left[0] - full[0]) == [] and sorted(full[0] - left[0]) == []


def replace(store: EmbeddedStore, graph: str, quads, visibility: Visibility) -> None:
    target = NamedNode(graph)
    store.replace_graphs(
        (Quad(q.subject, q.predicate, q.object, target) for q in quads),
        visibility={graph: visibility},
        source="test",
        loader="test",
        checksum="-",
        published_people=True,
    )


def triple(s: str, p: str, o) -> Quad:
    return Quad(NamedNode(s), NamedNode(p), o if not isinstance(o, str) else NamedNode(o))


def projects_with_partners(store: EmbeddedStore) -> list[tuple[NamedNode, NamedNode]]:
    """(project, partner association node) pairs of the public demo graph."""
    rows = select(
        store,
        f"SELECT ?p ?a WHERE {{ GRAPH <{PUBLIC}> {{ ?p <{PROV}qualifiedAssociation> ?a . "
        f"?a <{PROV}hadRole> <{QS}PartnerRole> }} }} ORDER BY ?p",
    )
    return [(row["p"], row["a"]) for row in rows]


def test_a_changed_membership_title_and_sdg_link_refresh_incrementally_to_the_full_result(demo):
    quads = content(demo, PUBLIC)
    project, association = projects_with_partners(demo)[0]
    title = next(q for q in quads if q.subject == project and q.predicate.value == f"{DCT}title")
    subject = next(q for q in quads if q.subject == project and q.predicate.value == f"{DCT}subject")
    changed = [q for q in quads if q.subject != association and q not in (title, subject)]
    changed.append(Quad(project, title.predicate, Literal("Aaa zuerst umbenannt", language="de"), title.graph_name))
    changed.append(Quad(project, subject.predicate, NamedNode(f"{BASE}sdg/target/1.1"), subject.graph_name))
    before = derived_state(demo)[0]
    replace(demo, PUBLIC, changed, Visibility.PUBLIC)
    assert demo.spy.incremental == 1
    assert derived_state(demo)[0] != before  # the write changed derived facts (else the test proves nothing)
    assert_as_full_refresh(demo)


def test_a_reload_of_the_same_workbook_changes_no_derived_fact(demo):
    before = derived_state(demo)[0]
    replace(demo, PUBLIC, content(demo, PUBLIC), Visibility.PUBLIC)
    assert demo.spy.incremental == 1
    assert derived_state(demo)[0] == before


def test_making_a_graph_internal_and_public_again_moves_its_facts_between_the_derived_graphs(demo):
    quads = content(demo, PUBLIC)
    replace(demo, PUBLIC, quads, Visibility.INTERNAL)
    assert demo.spy.incremental == 1
    public = select(demo, f"SELECT ?s WHERE {{ GRAPH {derived.PUBLIC_GRAPH} {{ ?s ?p ?o }} }}")
    assert not any("/project/" in row["s"].value for row in public)
    assert_as_full_refresh(demo)
    replace(demo, PUBLIC, quads, Visibility.PUBLIC)
    assert_as_full_refresh(demo)


def test_dropping_and_adding_graphs(demo):
    assert demo.drop_graph(INTERNAL)
    assert demo.spy.incremental == 1
    assert_as_full_refresh(demo)
    # A new internal graph that types and names public entities: their staff labels and internal relations.
    project, _ = projects_with_partners(demo)[0]
    department = f"{BASE}department/umweltamt"
    association = BlankNode()
    extra = [
        triple(project.value, f"{DCT}title", Literal("AAA interner Arbeitstitel", language="de")),
        triple(project.value, f"{PROV}qualifiedAssociation", association),
        Quad(association, NamedNode(f"{PROV}agent"), NamedNode(department)),
        Quad(association, NamedNode(f"{PROV}hadRole"), NamedNode(f"{QS}PartnerRole")),
        triple(project.value, f"{DCT}subject", f"{BASE}sdg/target/2.1"),
    ]
    replace(demo, EXTRA, extra, Visibility.INTERNAL)
    assert demo.spy.incremental == 2
    assert_as_full_refresh(demo)
    assert demo.drop_graph(EXTRA)
    assert_as_full_refresh(demo)


def test_a_change_to_the_sdg_taxonomy_reaches_the_projects_that_link_it(demo):
    # A target no longer under its goal: every project linking the target loses that goal.
    quads = content(demo, SDG)
    broader = [q for q in quads if q.predicate.value == f"{SKOS}broader"]
    used = {
        str(row["t"]) for row in select(demo, f"SELECT DISTINCT ?t WHERE {{ GRAPH ?g {{ ?p <{DCT}subject> ?t }} }}")
    }
    removed = next(q for q in broader if str(q.subject) in used)
    before = derived_state(demo)[0]
    replace(demo, SDG, [q for q in quads if q != removed], Visibility.PUBLIC)
    assert demo.spy.incremental == 1
    assert derived_state(demo)[0] != before
    assert_as_full_refresh(demo)
    # A goal no longer typed as one: the projects reaching it through one of its targets lose it too.
    goal = next(q.object for q in broader if str(q.subject) in used and q != removed)
    before = derived_state(demo)[0]
    replace(
        demo,
        SDG,
        [q for q in content(demo, SDG) if not (q.subject == goal and q.predicate == RDF_TYPE)],
        Visibility.PUBLIC,
    )
    assert derived_state(demo)[0] != before
    assert_as_full_refresh(demo)


def test_an_update_of_named_graphs_refreshes_incrementally(demo):
    project, association = projects_with_partners(demo)[1]
    before = derived_state(demo)[0]
    # With a prologue: the marks that must run before the update go after it (Oxigraph reads one only first).
    demo.update_graphs(
        f"# a comment\nPREFIX prov: <{PROV}> BASE <{BASE}>\nDELETE WHERE {{ GRAPH <graph/demo> {{ "
        f"<{project.value}> prov:qualifiedAssociation ?a . ?a prov:hadRole <{QS}PartnerRole> ; ?p ?o }} }}",
        [PUBLIC],
        source="test",
        loader="test",
        checksum="-",
    )
    assert demo.spy.incremental == 1
    assert derived_state(demo)[0] != before
    assert_as_full_refresh(demo)


def test_writes_the_incremental_refresh_cannot_serve_take_the_full_one(demo):
    # A SPARQL update: which graphs it writes is not known.
    demo.update(f'INSERT DATA {{ GRAPH <{EXTRA}> {{ <{BASE}x> <{DCT}title> "x"@de }} }}')
    assert (demo.spy.incremental, demo.spy.full) == (0, 1)
    # Larger than the limit (old and new content): the full refresh's scans are cheaper.
    limit, derived.INCREMENTAL.limit = derived.INCREMENTAL.limit, 100
    try:
        replace(demo, PUBLIC, content(demo, PUBLIC)[1:], Visibility.PUBLIC)
    finally:
        derived.INCREMENTAL.limit = limit
    assert (demo.spy.incremental, demo.spy.full) == (0, 2)
    # A write into a derived graph.
    replace(demo, derived.PUBLIC_GRAPH.value, [triple(f"{BASE}x", f"{DCT}title", Literal("x"))], Visibility.PUBLIC)
    assert (demo.spy.incremental, demo.spy.full) == (0, 3)
    assert_as_full_refresh(demo)


def test_a_store_whose_default_graph_holds_data_takes_the_full_refresh():
    # The incremental refresh reads named graphs only.
    store = demo_store()
    store.update(f'INSERT DATA {{ <{BASE}x> <{DCT}title> "x" }}')
    replace(store, PUBLIC, content(store, PUBLIC)[1:], Visibility.PUBLIC)
    assert (store.spy.incremental, store.spy.full) == (0, 2)
    store.update(f'DELETE DATA {{ <{BASE}x> <{DCT}title> "x" }}')
    replace(store, PUBLIC, content(store, PUBLIC)[1:], Visibility.PUBLIC)
    assert (store.spy.incremental, store.spy.full) == (1, 3)
    assert_as_full_refresh(store)


@pytest.mark.parametrize("seed", range(6))
def test_random_writes_leave_what_a_full_refresh_leaves(demo, seed):
    """Quads dropped, moved between the public, internal and a new graph, visibilities flipped, graphs
    dropped, with the associations' blank nodes: after every write, the full refresh's result."""
    rng = random.Random(seed)
    graphs = {PUBLIC: Visibility.PUBLIC, INTERNAL: Visibility.INTERNAL, EXTRA: Visibility.INTERNAL}
    for _step in range(8):
        graph = rng.choice(sorted(graphs))
        action = rng.random()
        if action < 0.15 and graph != PUBLIC:
            demo.drop_graph(graph)
        elif action < 0.3:
            graphs[graph] = rng.choice([Visibility.PUBLIC, Visibility.INTERNAL])
            replace(demo, graph, content(demo, graph), graphs[graph])
        else:
            own = [q for q in content(demo, graph) if rng.random() > 0.05]
            donor = rng.choice(sorted(graphs))
            moved = [q for q in content(demo, donor) if rng.random() < 0.03]
            if rng.random() < 0.5:
                for quad in moved:  # whole descriptions of the moved subjects, blank nodes included
                    moved += [q for q in content(demo, donor) if q.subject == quad.object][:10]
            replace(demo, graph, own + moved, graphs[graph])
        assert_as_full_refresh(demo)
    assert demo.spy.incremental >= 8 - demo.spy.full
