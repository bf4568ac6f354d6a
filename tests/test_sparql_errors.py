"""SPARQL syntax errors that name the place and the likely cause."""

from __future__ import annotations

import pytest
from pyoxigraph import Store

from api.sparql_errors import explain, undeclared_prefixes


def parser_message(sparql: str) -> str:
    with pytest.raises(SyntaxError) as error:
        Store().query(sparql)
    return str(error.value)


def explained(sparql: str) -> str:
    return explain(sparql, parser_message(sparql))


def test_an_undeclared_prefix_is_named_with_the_declaration_to_add():
    text = explained("SELECT ?name WHERE {\n  ?person foaf:name ?name\n}")
    assert text.startswith('SPARQL syntax error at line 2, column 20: the prefix "foaf:" is not declared.')
    assert "PREFIX foaf: <http://xmlns.com/foaf/0.1/>" in text.splitlines()


def test_an_unknown_undeclared_prefix_is_named_without_a_guessed_iri():
    text = explained("PREFIX ex: <http://example.org/>\nSELECT * WHERE { ?s a foo:Thing ; ex:p ?o }")
    assert 'the prefix "foo:" is not declared' in text and "PREFIX foo: <…>" in text


def test_the_message_shows_the_line_with_a_caret_under_the_column():
    lines = explained("SELECT * WHERE {\n  ?s ?p ?o\n  FILTER(?o > )\n}").splitlines()
    assert lines[0].startswith("SPARQL syntax error at line 4, column 2")
    assert lines[2] == "  4 | }" and lines[3] == "    |  ^"


@pytest.mark.parametrize(("sparql", "keyword"), [("SELEC * {}", "SELECT"), ("SELECT * { ?s ?p ?o } LIMT 5", "LIMIT")])
def test_a_misspelt_keyword_is_named_with_the_keyword_meant(sparql, keyword):
    assert f"did you mean {keyword}?" in explained(sparql).splitlines()[0]


def test_an_unclosed_brace_is_named():
    assert 'a "{" is not closed' in explained("SELECT * WHERE { ?s ?p ?o ").splitlines()[0]


def test_the_parsers_expectation_list_is_kept_without_character_ranges():
    parser = explained("SELECT * WHERE { ?s foaf:name ?o }").splitlines()[-1]
    assert parser.startswith("Parser (1:30): expected one of Prefix not found") and "\\u{" not in parser


def test_prefixes_inside_iris_strings_and_comments_are_not_taken_for_undeclared():
    sparql = 'PREFIX ex: <http://e/>\nSELECT * { ?s ex:p "a:b", <urn:x:y> } # c:d'
    assert undeclared_prefixes(sparql) == []


def test_the_sparql_endpoint_answers_a_parse_error_with_the_explanation(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s dct:title ?t }"})
    assert response.status_code == 400
    assert 'the prefix "dct:" is not declared' in response.text
    assert "PREFIX dct: <http://purl.org/dc/terms/>" in response.text
