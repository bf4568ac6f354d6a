"""The built-in SDG taxonomy (ontology/sdg.ttl), SdgIndex and the loader for the official SDG texts."""

import csv
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Store

from loaders.report import Severity
from loaders.sdg import SdgIndex, load_official_texts, taxonomy_quads
from loaders.vocab import QS, RDF, SDG_SCHEME, SDGO, SKOS

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SDG_DATA = SHARED_DATA / "sdg"
KOS = SDG_DATA / "un-sdg-kos" / "sdg-kos-goals-targets-indicators.ttl"
TRANSLATIONS = SDG_DATA / "open-sdg-translations"
CROSSWALK = SDG_DATA / "sdg-crosswalk.csv"

TAXONOMY_GRAPH = NamedNode("https://musterstadt.example/id/graph/sdg")
TEXTS_GRAPH = NamedNode("https://musterstadt.example/id/graph/sdg-texts")
# Permanent codes of indicators under lettered targets carry the letter: C010a01 for 1.a.1.
UN_IRI = re.compile(r"^http://metadata\.un\.org/sdg/(\d{1,2}|\d{1,2}\.[0-9a-z]{1,2}|C\d{3}[0-9a-z]\d{2})$")
MINTED_IRI = re.compile(r"^https://w3id\.org/querschnitt/sdg/indicator/\d{1,2}\.[0-9a-z]{1,2}\.\d{1,2}$")
# Codes in the crosswalk that are no longer listings of the framework (see the header of sdg.ttl).
RETIRED_CODES = {"1.a.3", "8.9.2", "11.c.1", "13.3.2", "17.6.2"}

needs_shared_data = pytest.mark.skipif(not SDG_DATA.is_dir(), reason=f"{SDG_DATA} not present")


@cache
def taxonomy() -> Store:
    store = Store()
    store.extend(taxonomy_quads(TAXONOMY_GRAPH))
    return store


def objects(subject: NamedNode, predicate: NamedNode) -> list:
    return [q.object for q in taxonomy().quads_for_pattern(subject, predicate, None, TAXONOMY_GRAPH)]


def of_type(cls: NamedNode) -> list[NamedNode]:
    return sorted(
        (q.subject for q in taxonomy().quads_for_pattern(None, RDF.type, cls, TAXONOMY_GRAPH)),
        key=lambda n: n.value,
    )


def natural(code: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("."))


def notations(subject: NamedNode) -> list[str]:
    return sorted((o.value for o in objects(subject, SKOS.notation)), key=natural)


def concept_by_notation() -> dict[str, NamedNode]:
    return {code: concept for concept in of_type(SKOS.Concept) for code in notations(concept)}


@cache
def crosswalk() -> list[dict[str, str]]:
    with CROSSWALK.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def texts_of(result, subject: NamedNode, predicate: NamedNode) -> list[Literal]:
    return [q.object for q in result.graphs[TEXTS_GRAPH.value] if q.subject == subject and q.predicate == predicate]


def write_translations(root: Path, files: dict[str, str]) -> None:
    for lang in ("de", "en"):
        (root / lang).mkdir(parents=True)
        for name in ("global_goals.yml", "global_targets.yml", "global_indicators.yml"):
            (root / lang / name).write_text(files.get(f"{lang}/{name}", "{}\n"), encoding="utf-8")


def test_taxonomy_quads_put_every_triple_into_the_requested_graph():
    quads = taxonomy_quads(TAXONOMY_GRAPH)
    assert quads
    assert {q.graph_name for q in quads} == {TAXONOMY_GRAPH}


def test_the_taxonomy_has_17_goals_169_targets_and_231_unique_indicators():
    assert (len(of_type(SDGO.Goal)), len(of_type(SDGO.Target)), len(of_type(SDGO.Indicator))) == (17, 169, 231)


def test_the_indicators_carry_the_247_listings_of_the_framework():
    assert sum(len(notations(i)) for i in of_type(SDGO.Indicator)) == 247


def test_every_goal_target_and_indicator_is_a_skos_concept_in_the_un_sdg_scheme():
    concepts = of_type(SDGO.Goal) + of_type(SDGO.Target) + of_type(SDGO.Indicator)
    assert sorted(concepts, key=lambda n: n.value) == of_type(SKOS.Concept)
    assert all(objects(c, SKOS.inScheme) == [SDG_SCHEME] for c in concepts)


def test_the_scheme_has_a_german_and_an_english_label():
    assert of_type(SKOS.ConceptScheme) == [SDG_SCHEME]
    assert sorted(label.language for label in objects(SDG_SCHEME, SKOS.prefLabel)) == ["de", "en"]


def test_the_goals_are_exactly_the_top_concepts_of_the_scheme():
    goals = of_type(SDGO.Goal)
    assert all(objects(goal, SKOS.topConceptOf) == [SDG_SCHEME] for goal in goals)
    assert sorted(objects(SDG_SCHEME, SKOS.hasTopConcept), key=lambda n: n.value) == goals


def test_no_code_names_two_concepts():
    codes = [code for concept in of_type(SKOS.Concept) for code in notations(concept)]
    assert [code for code, n in Counter(codes).items() if n > 1] == []


def test_every_target_is_narrower_than_the_goal_its_code_starts_with():
    by_code = concept_by_notation()
    for target in of_type(SDGO.Target):
        (code,) = notations(target)
        assert objects(target, SKOS.broader) == [by_code[code.split(".")[0]]], code


def test_every_indicator_is_narrower_than_the_target_of_each_of_its_codes():
    by_code = concept_by_notation()
    for indicator in of_type(SDGO.Indicator):
        expected = sorted(by_code[code.rsplit(".", 1)[0]].value for code in notations(indicator))
        assert sorted(b.value for b in objects(indicator, SKOS.broader)) == expected, notations(indicator)
        assert all(SDGO.Target in objects(b, RDF.type) for b in objects(indicator, SKOS.broader))


def test_narrower_is_exactly_the_inverse_of_broader():
    store = taxonomy()
    broader = {(q.subject, q.object) for q in store.quads_for_pattern(None, SKOS.broader, None, TAXONOMY_GRAPH)}
    narrower = {(q.object, q.subject) for q in store.quads_for_pattern(None, SKOS.narrower, None, TAXONOMY_GRAPH)}
    assert broader == narrower


def test_repeated_indicators_are_one_concept_with_one_code_per_target():
    by_code = concept_by_notation()
    assert by_code["1.5.1"] == by_code["11.5.1"] == by_code["13.1.1"] == NamedNode("http://metadata.un.org/sdg/C200303")
    assert notations(by_code["1.5.1"]) == ["1.5.1", "11.5.1", "13.1.1"]
    assert by_code["7.b.1"] == by_code["12.a.1"]


def test_every_iri_is_a_un_sdg_iri_or_a_minted_indicator_iri():
    for concept in of_type(SKOS.Concept):
        iri = concept.value
        assert UN_IRI.match(iri) or MINTED_IRI.match(iri), iri


@needs_shared_data
def test_minted_iris_are_exactly_the_indicators_the_crosswalk_has_no_un_iri_for():
    minted = sorted(c.value for c in of_type(SKOS.Concept) if MINTED_IRI.match(c.value))
    expected = sorted(
        "https://w3id.org/querschnitt/sdg/indicator/" + row["code"]
        for row in crosswalk()
        if row["level"] == "indicator" and not row["un_kos_uri"]
    )
    assert minted == expected
    assert all(SDGO.Indicator in objects(NamedNode(iri), RDF.type) for iri in minted)


@needs_shared_data
def test_every_crosswalk_code_but_the_retired_ones_is_a_code_of_the_taxonomy():
    codes = {row["code"] for row in crosswalk()}
    assert set(concept_by_notation()) == codes - RETIRED_CODES


@needs_shared_data
def test_goals_and_targets_keep_the_un_iris_of_the_crosswalk():
    by_code = concept_by_notation()
    for row in crosswalk():
        if row["level"] in ("goal", "target"):
            assert by_code[row["code"]].value == row["un_kos_uri"]


def test_every_goal_and_target_has_one_german_and_one_english_pref_label():
    for concept in of_type(SDGO.Goal) + of_type(SDGO.Target):
        labels = objects(concept, SKOS.prefLabel)
        assert sorted(label.language for label in labels) == ["de", "en"], concept
        assert all(label.value.strip() for label in labels)


def test_goal_and_target_labels_are_short_titles():
    for concept in of_type(SDGO.Goal) + of_type(SDGO.Target):
        for label in objects(concept, SKOS.prefLabel):
            assert 1 <= len(label.value.split()) <= 10, label.value


def test_indicator_labels_name_only_their_codes():
    for indicator in of_type(SDGO.Indicator):
        listed = ", ".join(notations(indicator))
        labels = {(label.language, label.value) for label in objects(indicator, SKOS.prefLabel)}
        assert labels == {("de", f"Indikator {listed}"), ("en", f"Indicator {listed}")}


@needs_shared_data
def test_the_shipped_labels_are_not_the_official_texts():
    official = {row[column] for row in crosswalk() for column in ("label_de", "label_en") if row[column]}
    official |= {" ".join(text.split()) for text in official}
    shipped = {label.value for concept in of_type(SKOS.Concept) for label in objects(concept, SKOS.prefLabel)}
    assert shipped & official == set()


def test_goal_colours_are_17_distinct_hex_codes():
    colours = [objects(goal, QS.colour) for goal in of_type(SDGO.Goal)]
    assert all(len(c) == 1 and re.fullmatch(r"#[0-9A-F]{6}", c[0].value) for c in colours)
    assert len({c[0].value for c in colours}) == 17


def test_goal_11_has_its_official_orange():
    assert objects(NamedNode("http://metadata.un.org/sdg/11"), QS.colour) == [Literal("#FD9D24")]


@pytest.mark.parametrize(
    ("text", "iri"),
    [
        ("11.2", "http://metadata.un.org/sdg/11.2"),
        ("SDG 11.2", "http://metadata.un.org/sdg/11.2"),
        ("sdg 11.2", "http://metadata.un.org/sdg/11.2"),
        ("Ziel 11.2", "http://metadata.un.org/sdg/11.2"),
        ("  SDG   11.2 ", "http://metadata.un.org/sdg/11.2"),
        ("sdg:11.2", "http://metadata.un.org/sdg/11.2"),
        ("11", "http://metadata.un.org/sdg/11"),
        ("SDG 7", "http://metadata.un.org/sdg/7"),
        ("11.a", "http://metadata.un.org/sdg/11.a"),
        ("11.A", "http://metadata.un.org/sdg/11.a"),
        ("16.10", "http://metadata.un.org/sdg/16.10"),
        ("11.2.1", "http://metadata.un.org/sdg/C110201"),
        ("13.1.1", "http://metadata.un.org/sdg/C200303"),
        ("11.02.01", "http://metadata.un.org/sdg/C110201"),
        ("C110201", "http://metadata.un.org/sdg/C110201"),
        ("C010a01", "http://metadata.un.org/sdg/C010a01"),
        ("2.2.3", "https://w3id.org/querschnitt/sdg/indicator/2.2.3"),
        ("http://metadata.un.org/sdg/11.2", "http://metadata.un.org/sdg/11.2"),
        ("http://metadata.un.org/sdg/C110201", "http://metadata.un.org/sdg/C110201"),
        ("https://w3id.org/querschnitt/sdg/indicator/2.2.3", "https://w3id.org/querschnitt/sdg/indicator/2.2.3"),
        ("18.1", None),
        ("11.99", None),
        ("18", None),
        ("0", None),
        ("11.2.1.1", None),
        ("11..2", None),
        ("SDG", None),
        ("Ziel", None),
        ("", None),
        ("   ", None),
        ("1.a.3", None),
        ("http://metadata.un.org/sdg/C130302", None),
        ("http://example.org/11.2", None),
    ],
)
def test_resolve_accepts_codes_prefixes_and_iris_and_rejects_unknown_codes(text, iri):
    expected = NamedNode(iri) if iri else None
    assert SdgIndex.builtin().resolve(text) == expected


def test_kind_tells_goal_target_and_indicator_apart():
    index = SdgIndex.builtin()
    assert [index.kind(index.resolve(code)) for code in ("11", "11.2", "11.2.1")] == ["goal", "target", "indicator"]


def test_kind_of_something_else_is_a_key_error():
    with pytest.raises(KeyError):
        SdgIndex.builtin().kind(NamedNode("http://example.org/11"))


def test_goals_and_targets_come_in_natural_order():
    index = SdgIndex.builtin()
    assert [index.notation(g) for g in index.goals()] == [str(n) for n in range(1, 18)]
    goal_11 = index.resolve("11")
    expected = ["11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.a", "11.b", "11.c"]
    assert [index.notation(t) for t in index.targets(goal_11)] == expected
    assert [index.notation(t) for t in index.targets()][:2] == ["1.1", "1.2"]
    assert len(index.targets()) == 169


def test_ten_comes_before_letters_in_target_order():
    index = SdgIndex.builtin()
    codes = [index.notation(t) for t in index.targets(index.resolve("8"))]
    assert codes[8:11] == ["8.9", "8.10", "8.a"]


def test_indicators_of_a_target_include_repeated_ones():
    index = SdgIndex.builtin()
    assert index.indicators(index.resolve("11.5")) == [index.resolve("11.5.1"), index.resolve("11.5.2")]
    assert len(index.indicators()) == 231


def test_goal_of_a_target_or_indicator_is_its_goal():
    index = SdgIndex.builtin()
    goal_11 = index.resolve("11")
    assert index.goal_of(index.resolve("11.2")) == goal_11
    assert index.goal_of(index.resolve("11.2.1")) == goal_11
    assert index.goal_of(goal_11) == goal_11


def test_goal_of_a_repeated_indicator_is_that_of_its_first_code():
    index = SdgIndex.builtin()
    assert index.goal_of(index.resolve("13.1.1")) == index.resolve("1")


def test_notation_of_a_repeated_indicator_is_its_first_code():
    index = SdgIndex.builtin()
    indicator = index.resolve("11.5.1")
    assert index.notation(indicator) == "1.5.1"
    assert index.notations(indicator) == ["1.5.1", "11.5.1", "13.1.1"]


def test_label_gives_the_short_title_in_the_requested_language():
    index = SdgIndex.builtin()
    target = index.resolve("11.2")
    assert index.label(target) == "Sichere, bezahlbare und nachhaltige Verkehrssysteme für alle"
    assert index.label(target, "en") == "Safe, affordable, sustainable transport for all"
    assert index.label(target, "fr") == index.label(target, "en")


def test_colour_of_a_target_or_indicator_is_its_goals_colour():
    index = SdgIndex.builtin()
    assert index.colour(index.resolve("11")) == "#FD9D24"
    assert index.colour(index.resolve("11.2")) == "#FD9D24"
    assert index.colour(index.resolve("11.2.1")) == "#FD9D24"


@needs_shared_data
def test_official_texts_give_every_goal_and_target_a_german_and_an_english_definition():
    result = load_official_texts(KOS, TRANSLATIONS, graph=TEXTS_GRAPH)
    assert result.ok, [str(p) for p in result.errors]
    index = SdgIndex.builtin()
    for concept in index.goals() + index.targets():
        languages = sorted(d.language for d in texts_of(result, concept, SKOS.definition))
        assert languages == ["de", "en"], index.notation(concept)


@needs_shared_data
def test_official_texts_give_every_indicator_an_alt_label_and_definition_in_both_languages():
    result = load_official_texts(KOS, TRANSLATIONS, graph=TEXTS_GRAPH)
    for indicator in SdgIndex.builtin().indicators():
        assert sorted(a.language for a in texts_of(result, indicator, SKOS.altLabel)) == ["de", "en"]
        assert texts_of(result, indicator, SKOS.altLabel) == texts_of(result, indicator, SKOS.definition)


@needs_shared_data
def test_official_texts_count_definitions_and_concepts():
    result = load_official_texts(KOS, TRANSLATIONS, graph=TEXTS_GRAPH)
    assert result.counts == {"definitions": 2 * (17 + 169 + 231), "alt_labels": 2 * 231, "concepts": 17 + 169 + 231}
    assert list(result.graphs) == [TEXTS_GRAPH.value]
    assert {q.graph_name for q in result.graphs[TEXTS_GRAPH.value]} == {TEXTS_GRAPH}


@needs_shared_data
def test_official_texts_are_the_current_ones_not_the_outdated_kos_wording():
    result = load_official_texts(KOS, TRANSLATIONS, graph=TEXTS_GRAPH)
    indicator = SdgIndex.builtin().resolve("1.a.1")
    current = next(row["label_en"] for row in crosswalk() if row["code"] == "1.a.1")
    assert [d.value for d in texts_of(result, indicator, SKOS.definition) if d.language == "en"] == [current]


@needs_shared_data
def test_the_kos_alone_gives_english_definitions_of_the_un_concepts():
    result = load_official_texts(KOS, None, graph=TEXTS_GRAPH)
    assert result.ok
    goal_11 = SdgIndex.builtin().resolve("11")
    assert texts_of(result, goal_11, SKOS.definition) == [
        Literal("Make cities and human settlements inclusive, safe, resilient and sustainable", language="en")
    ]


def test_a_yaml_key_with_an_unknown_code_is_a_warning_naming_file_and_key(tmp_path):
    write_translations(tmp_path, {"de/global_targets.yml": "11-2-title: Verkehr für alle\n18-1-title: Gibt es nicht\n"})
    result = load_official_texts(None, tmp_path, graph=TEXTS_GRAPH)
    assert result.ok
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING
    assert problem.file == str(tmp_path / "de" / "global_targets.yml")
    assert problem.row == 2
    assert "18-1-title" in problem.message_de and "18-1-title" in problem.message_en
    target = SdgIndex.builtin().resolve("11.2")
    assert texts_of(result, target, SKOS.definition) == [Literal("Verkehr für alle", language="de")]


def test_a_missing_kos_file_is_an_error_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.ttl"
    result = load_official_texts(missing, None, graph=TEXTS_GRAPH)
    assert not result.ok
    (problem,) = result.errors
    assert problem.file == str(missing)
    assert "nowhere.ttl" in problem.message_de and "nowhere.ttl" in problem.message_en


def test_a_missing_translation_file_is_an_error_naming_the_file(tmp_path):
    write_translations(tmp_path, {})
    (tmp_path / "en" / "global_goals.yml").unlink()
    result = load_official_texts(None, tmp_path, graph=TEXTS_GRAPH)
    assert [p.file for p in result.errors] == [str(tmp_path / "en" / "global_goals.yml")]


def test_invalid_yaml_is_an_error_with_its_line(tmp_path):
    write_translations(tmp_path, {"en/global_goals.yml": "11-title: fine\n11-short: [unclosed\n"})
    result = load_official_texts(None, tmp_path, graph=TEXTS_GRAPH)
    (problem,) = result.errors
    assert problem.file == str(tmp_path / "en" / "global_goals.yml")
    assert problem.row is not None and problem.row >= 2


def test_invalid_turtle_in_the_kos_is_an_error_with_its_line(tmp_path):
    kos = tmp_path / "kos.ttl"
    kos.write_text('<http://metadata.un.org/sdg/11> <http://x.org/p> "ok" .\n<http://metadata.un.org/sdg/11> <p\n')
    result = load_official_texts(kos, None, graph=TEXTS_GRAPH)
    (problem,) = result.errors
    assert (problem.file, problem.row) == (str(kos), 2)


def test_different_texts_for_a_repeated_indicator_warn_and_keep_the_first_code(tmp_path):
    indicators = "1-5-1-title: Text A\n11-5-1-title: Text B\n13-1-1-title: Text A\n"
    write_translations(tmp_path, {"en/global_indicators.yml": indicators})
    result = load_official_texts(None, tmp_path, graph=TEXTS_GRAPH)
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING
    assert "1.5.1, 11.5.1, 13.1.1" in problem.message_en
    indicator = SdgIndex.builtin().resolve("11.5.1")
    assert texts_of(result, indicator, SKOS.altLabel) == [Literal("Text A", language="en")]


def test_goal_short_names_of_the_translations_are_not_loaded(tmp_path):
    write_translations(tmp_path, {"de/global_goals.yml": "11-short: Nachhaltige Städte und Gemeinden\n"})
    result = load_official_texts(None, tmp_path, graph=TEXTS_GRAPH)
    assert result.problems == []
    assert result.graphs[TEXTS_GRAPH.value] == []
