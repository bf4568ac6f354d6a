"""api/sparql_binding.py: values written into the query text by pyoxigraph, the same for both engines."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store, Variable

from api.sparql_binding import BindingRefused, bind_text

TEXT = "SELECT ?s ?o WHERE { ?s <urn:p> ?o }"


@pytest.fixture
def store() -> Store:
    store = Store()
    for i in range(3):
        store.add(Quad(NamedNode(f"urn:s{i}"), NamedNode("urn:p"), Literal(f"o{i}")))
    return store


def test_a_list_of_terms_becomes_a_values_block_that_keeps_only_their_rows(store):
    bound = bind_text(TEXT, {"s": [NamedNode("urn:s0"), NamedNode("urn:s2")]})
    assert sorted(row["o"].value for row in store.query(bound, use_default_graph_as_union=True)) == ["o0", "o2"]


def test_one_term_gives_the_rows_of_pyoxigraphs_own_substitution(store):
    term = Literal("o1")
    ours = [tuple(row) for row in store.query(bind_text(TEXT, {"o": term}), use_default_graph_as_union=True)]
    theirs = [
        tuple(row) for row in store.query(TEXT, substitutions={Variable("o"): term}, use_default_graph_as_union=True)
    ]
    assert ours == theirs == [(NamedNode("urn:s1"), term)]


@pytest.mark.parametrize("nasty", ['" } ; DROP ALL ; SELECT * { "', "a\nb } #", "\\u0022 }"])
def test_a_listed_literal_cannot_break_out_of_its_place(store, nasty):
    bound = bind_text(TEXT, {"o": [Literal(nasty), Literal("o1")]})
    assert [row["s"].value for row in store.query(bound, use_default_graph_as_union=True)] == ["urn:s1"]


def test_a_variable_the_query_binds_itself_is_refused():
    with pytest.raises(BindingRefused):
        bind_text("SELECT ?x WHERE { BIND(1 AS ?x) }", {"x": Literal("1")})
