"""Full-text search over departments, projects, datasets, people and the SDGs.

Oxigraph has no text index (oxigraph#48), so the search keeps its own: SQLite FTS5 over one document
per entity, built from the store with one SPARQL SELECT. German first: words are case-folded, `ß`
becomes `ss` and `ä`/`ö`/`ü` become `ae`/`oe`/`ue` before indexing and before querying, then a light
stemmer (Savoy 2006) removes inflection and every query word matches as a prefix, so `Strasse` finds
`Straße`, `Muenchen` finds `München` and `Radweg` finds `Radwege` and `Radwegenetz`. A query word
is also looked for inside the compounds of the index's vocabulary, so `Bauamt` finds `Tiefbauamt` and
`Mobilität` finds `Elektromobilität` (ranked after the hits that have the word itself). Each document
also carries the names of its departments and its SDG codes and labels (with a lower weight), so
`Klimaschutz Bauamt` and `11.2` find projects; a dataset also the labels of its Musterdatenkatalog
categories, so `Grünflächenkataster` finds the datasets of that category. A question as staff ask it
("Wer arbeitet an 11.2?", "Wer kümmert sich um Radverkehr?") is searched for its topic (`question_topic`):
no document contains "wer arbeitet", and its words would only match names that start with them (Werner). SDG indicators that have only
the taxonomy's placeholder name ("Indikator 11.2.1") are not indexed.

Sync: the index remembers the store `generation` it reflects and what each graph's metadata entry
said then (visibility, modified time, triple count, checksum). When the store has been written since,
a refresh re-reads only the graphs whose entry changed (and graphs without one) and rewrites only the
documents that read them or show something of their entities (a department's name on its projects);
a write that changed no entry, a raw `EmbeddedStore.update`, makes it re-read everything. Refreshes
run one at a time, in the background. A search waits for the refresh: as long as it takes for an index
that builds in under a second, at most PATIENCE seconds for a bigger one. When the refresh is not done
by then, the answer comes from the previous index *without* every document that read anything of a
graph written, dropped or made internal since, and says so (`complete` false): nothing removed or no
longer public is ever shown, and what is new is found once the refresh is done (at 10^6 triples on
disk ≈ 2.5 s after a write to the 726,000-triple demo graph, 0.1 s after a write to a small graph).
A write that changed no metadata entry is always waited for. This replaces the earlier guarantee that
every answer comes from the store's current data, deliberately: an answer may now come from the
index as it was before a write, but only from documents that write cannot have changed. Writes
through the store's graph methods (`replace_graphs`, `update_graphs`, `drop_graph`; every HTTP write)
always change the entries; a raw update between two searches that also see such a write goes
unnoticed in the graphs it wrote, so code that makes one calls `rebuild()`.

Visibility: every extracted triple keeps its graph. The public documents are built from the triples
of public graphs only (what an anonymous SPARQL caller sees), the staff documents from all graphs; a
document that is the same in both is stored once. An anonymous search can only reach public
documents, so no text of an internal graph (a person's name, say) can be in its hits or snippets.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from api.auth import authenticate
from api.collation import sort_key
from api.derived import DERIVED_GRAPHS
from api.store import QuerySource, Visibility
from loaders.categories import MUSTERDATENKATALOG_NS
from loaders.vocab import PREFIXES, SDG

MAX_QUERY_LENGTH = 200
MAX_LIMIT = 100
MAX_OFFSET = 10_000
# bm25 column weights (FTS5 §4.4.3), in the order of the FTS columns below: a word in the title counts
# most, then keywords, the description, and last the names of related departments and SDGs. The last
# column holds the filter tokens (visibility, kind, SDG, department) and never scores.
WEIGHTS = (10.0, 5.0, 2.0, 1.0, 0.0)
# A query word found inside at most this many different indexed compounds is looked for in all of them.
MAX_COMPOUNDS = 300
SNIPPET_WIDTH = 160


class Kind(StrEnum):
    """What a hit is."""

    DEPARTMENT = "department"
    PROJECT = "project"
    DATASET = "dataset"
    PERSON = "person"
    GOAL = "goal"
    TARGET = "target"
    INDICATOR = "indicator"


# -- response models ---------------------------------------------------------------------------------


class SdgRef(BaseModel):
    """An SDG goal, target or indicator a hit is linked to (or, for an SDG hit, belongs to)."""

    iri: str
    code: str | None = Field(description="Notation, e.g. `11` or `11.2`.")
    label: str | None


class DepartmentRef(BaseModel):
    """A department a hit belongs to, with how."""

    iri: str
    label: str | None
    role: Literal["lead", "partner", "creator", "member"] = Field(
        description="`lead` or `partner` of a project, `creator` of a dataset or indicator, `member` (a person's)."
    )


class SearchHit(BaseModel):
    """One entity that matches."""

    iri: str
    type: Kind
    label: str
    code: str | None = Field(None, description="SDG notation of a goal, target or indicator.")
    snippet: str | None = Field(None, description="A piece of the description, with `…` where it is cut.")
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="Character ranges [start, end) of matching words in `snippet`."
    )
    score: float = Field(
        description="Relevance (bm25), comparable within one answer only. Hits with a query word itself come "
        "first, then those that have it only inside a compound (`Bahnhofstraße` for `Strasse`)."
    )
    sdg: list[SdgRef] = Field(default_factory=list)
    departments: list[DepartmentRef] = Field(default_factory=list)


class SearchResults(BaseModel):
    """A page of hits, best first."""

    query: str
    total: int = Field(description="Number of hits over all pages.")
    limit: int
    offset: int
    matched: Literal["all", "any"] = Field(
        description="`all` when every word matched; `any` when nothing matched all words and these hits match some."
    )
    hits: list[SearchHit]
    complete: bool = Field(
        True,
        description="False for a few seconds after a write, while the index catches up: the entities of the "
        "graphs written since are left out of this answer (never shown as they were before the write).",
    )


class Suggestion(BaseModel):
    """An entity whose name starts with what was typed."""

    iri: str
    type: Kind
    label: str
    code: str | None = None


class Suggestions(BaseModel):
    """Completions for as-you-type search."""

    query: str
    suggestions: list[Suggestion]


class SearchInputError(ValueError):
    """A search parameter is not acceptable; `parameter` names it."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


# -- German text normalisation -----------------------------------------------------------------------

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# A dotted code (`11.2`, `17.19.2`) is one word; so is anything of letters and digits.
_WORD = re.compile(r"\d+(?:\.[^\W_]+)+|[^\W_]+")
_HYPHENATED = re.compile(r"\b[^\W_]+(?:-[^\W_]+)+")
_CODE = re.compile(r"\d+(?:\.[0-9a-z]+)*")
# Savoy's light stemmer removes -s only after these letters (a plural -s, not a stem's own s).
_S_ENDING = frozenset("bdfghklmnt")
# German and English function words, in normalised spelling; never indexed, dropped from queries.
STOPWORDS = frozenset({
    "aber", "als", "am", "an", "auf", "aus", "bei", "bis", "da", "das", "dass", "dem", "den", "der", "des",
    "die", "durch", "ein", "eine", "einem", "einen", "einer", "eines", "fuer", "im", "in", "ist", "mit",
    "nach", "oder", "sich", "so", "ueber", "um", "und", "vom", "von", "vor", "wie", "zu", "zum", "zur", "a",
    "and", "for", "of", "on", "or", "the", "to", "with",
})  # fmt: skip
# Dropped from a query that has other words: "SDG 11.2" means "11.2".
_QUERY_NOISE = frozenset({"sdg", "sdgs", "ziel", "unterziel", "goal", "target"})
# Compound parts: from the 4th letter on, at least 4 letters long, of stems with at least 7 letters.
_PART_START, _PART_MIN, _COMPOUND_MIN = 3, 4, 7


def normalize(text: str) -> str:
    """Case-fold, spell `ß` as `ss` and umlauts as `ae`/`oe`/`ue`, and drop other accents.

    >>> normalize("Straße München Café")
    'strasse muenchen cafe'
    """
    text = unicodedata.normalize("NFC", text).casefold().translate(_GERMAN)
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Savoy's light German stemmer (CLEF 2006) on a normalised word: strips inflection, not derivation.

    >>> [stem(w) for w in ("radwege", "radwegen", "radweg", "strasse", "strassen")]
    ['radweg', 'radweg', 'radweg', 'strass', 'strass']
    """
    n = len(word)
    if n > 5 and word.endswith("ern"):
        word = word[:-3]
    elif n > 4 and word[-2:] in ("em", "en", "er", "es"):
        word = word[:-2]
    elif n > 3 and (word.endswith("e") or (word.endswith("s") and word[-2] in _S_ENDING)):
        word = word[:-1]
    n = len(word)
    if n > 5 and word.endswith("est"):
        return word[:-3]
    if n > 4 and word[-2:] in ("er", "en"):
        return word[:-2]
    if n > 5 and word.endswith("st") and word[-3] in _S_ENDING:
        return word[:-2]
    return word


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """The indexed form of one word: normalised, and stemmed unless it is a number or code."""
    normal = normalize(word)
    return normal if _CODE.fullmatch(normal) or not normal.isalpha() else stem(normal)


def terms(text: str, *, joined: bool = True) -> list[str]:
    """Indexed forms of the words of `text`, without stop words; hyphenated words also joined (`opendata`)."""
    text = unicodedata.normalize("NFC", text)
    words = [term(m.group()) for m in _WORD.finditer(text)]
    if joined and "-" in text:
        words.extend(term(m.group().replace("-", "")) for m in _HYPHENATED.finditer(text))
    return [w for w in words if (len(w) > 1 or w.isdigit()) and w not in STOPWORDS]


@lru_cache(maxsize=100_000)
def _label_terms(text: str) -> tuple[str, ...]:
    # Names of departments and SDGs recur in thousands of documents.
    return tuple(terms(text))


def _column(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        found.extend(_label_terms(text))
    return found


@lru_cache(maxsize=200_000)
def _parts_of(word: str) -> tuple[str, ...]:
    if len(word) < _COMPOUND_MIN or not word.isalpha():
        return ()
    return tuple(word[i:] for i in range(_PART_START, len(word) - _PART_MIN + 1))


def parts(words: Iterable[str]) -> set[str]:
    """Inner parts of long compounds: a query word that starts one of them matches inside the compound.

    >>> sorted(parts(["tiefbauamt"]))
    ['auamt', 'bauamt', 'fbauamt', 'uamt']
    """
    found: set[str] = set()
    for word in words:
        found.update(_parts_of(word))
    return found


@dataclass(frozen=True)
class QueryWord:
    """One word of a query in indexed form; codes and numbers match whole, words as prefixes."""

    text: str
    exact: bool

    @property
    def in_compounds(self) -> bool:
        """Whether it is also looked for inside compounds (not for codes and words under 4 letters)."""
        return not self.exact and len(self.text) >= _PART_MIN

    def matches(self, indexed: str) -> bool:
        """Whether an indexed word matches, as the FTS expression with its compounds does."""
        if self.exact:
            return indexed == self.text
        if indexed.startswith(self.text):
            return True
        return self.in_compounds and any(part.startswith(self.text) for part in _parts_of(indexed))

    def expression(self, compounds: Iterable[str] = ()) -> str:
        """The FTS5 expression (FTS5 §3): the word as a prefix, or any of the compounds it is part of."""
        phrases = [_quote(self.text) + ("" if self.exact else " *"), *map(_quote, compounds)]
        return f"({{title keywords body context}} : ({' OR '.join(phrases)}))"


def _quote(word: str) -> str:
    # Indexed words are letters, digits and dots; quoting keeps FTS5 operators out all the same.
    return '"' + word.replace('"', '""') + '"'


# "Wer arbeitet an 11.2?", "Wer kümmert sich um Radverkehr", "Who works on climate?": the question around a
# topic, which no document contains. Matched on the original text, before normalisation.
_QUESTION = re.compile(
    r"""^\s*(?:
        wer\s+(?:(?:arbeitet|arbeiten|engagiert\s+sich|beschäftigt\s+sich|befasst\s+sich)\s+
                  (?:(?:bereits|schon|hier|gerade|derzeit|noch)\s+)?
                  (?:an|am|zu|zum|zur|mit|für|im\s+bereich|im|in|auf|beim|bei)
              |kümmert\s+sich\s+(?:um|ums)
              |macht(?:\s+etwas|\s+was)?(?:\s+(?:zu|zum|zur|für|mit|im\s+bereich|im|in))?
              |ist\s+(?:zuständig|verantwortlich)\s+(?:für|fürs)
              |hat\s+(?:projekte|daten)\s+(?:zu|zum|zur|für|im\s+bereich|im|in|über)
              |plant\s+(?:etwas\s+)?(?:zu|zum|zur|für)?)
        |welche[sr]?\s+(?:ämter|amt|abteilungen|projekte)\s+(?:arbeite[nt]|gibt\s+es|befass(?:en|t)\s+sich)
              \s+(?:an|am|zu|zum|zur|mit|für|im\s+bereich|im|in)
        |who\s+(?:is\s+)?(?:works?|working|deals?|dealing)\s+(?:on|with|in)
        |which\s+departments?\s+(?:works?|deals?)\s+(?:on|with|in)
    )\s+(?:(?:dem|den|der|das|die|the)\s+)?(?:thema\s+|bereich\s+|topic\s+)?(?P<topic>.+?)[\s?!.]*$""",
    re.IGNORECASE | re.VERBOSE,
)


def question_topic(q: str) -> str | None:
    """The topic of a question as staff ask it ("Wer arbeitet an 11.2?" → "11.2"); None if `q` is no question.

    >>> [question_topic(q) for q in ("Wer arbeitet an Radverkehr?", "wer kümmert sich um Ziel 13", "Radweg")]
    ['Radverkehr', 'Ziel 13', None]
    """
    match = _QUESTION.match(unicodedata.normalize("NFC", q))
    return match["topic"].strip() if match and match["topic"].strip() else None


def query_words(q: str, *, parameter: str = "q") -> list[QueryWord]:
    """The words of a query (of its topic, for a question); SearchInputError for an empty one or one without
    any word."""
    q = q.strip()
    q = question_topic(q) or q
    if not q:
        raise SearchInputError(parameter, "give at least one word to search for")
    if len(q) > MAX_QUERY_LENGTH:
        raise SearchInputError(parameter, f"at most {MAX_QUERY_LENGTH} characters")
    found = terms(q, joined=False)
    if not found:
        found = [term(m.group()) for m in _WORD.finditer(unicodedata.normalize("NFC", q))]
    if not found:
        raise SearchInputError(parameter, "contains no word (letters or digits) to search for")
    meaningful = [w for w in found if w not in _QUERY_NOISE]
    unique = list(dict.fromkeys(meaningful or found))
    return [QueryWord(w, exact=bool(_CODE.fullmatch(w))) for w in unique]


# -- documents -----------------------------------------------------------------------------------------

_KIND_CLASSES = {
    "org:OrganizationalUnit": Kind.DEPARTMENT,
    "qs:Project": Kind.PROJECT,
    "dcat:Dataset": Kind.DATASET,
    "foaf:Person": Kind.PERSON,
    "sdgo:Goal": Kind.GOAL,
    "sdgo:Target": Kind.TARGET,
    "sdgo:Indicator": Kind.INDICATOR,
    "qs:Indicator": Kind.INDICATOR,
}
# Predicate → field name; each row of the extraction query is one (graph, subject, field, value).
_FIELDS = {
    "foaf:name": "label",
    "dct:title": "label",
    "skos:prefLabel": "label",
    "skos:notation": "code",
    "dct:description": "description",
    "dcat:keyword": "keyword",
    "dct:creator": "creator",
    "org:memberOf": "member_of",
    "org:subOrganizationOf": "parent",
    # qs:contributesTo is always asserted as dct:subject too (docs/model.md), as api/derived.py relies on.
    "dct:subject": "sdg",
    "prov:wasAssociatedWith": "associated",
    # Musterdatenkatalog categories (DCAT-AP.de: dct:references; some portals use dcat:theme): a dataset is
    # found by its categories' labels. Other values of these properties are dropped when extracted.
    "dct:references": "category",
    "dcat:theme": "category",
}
_KIND_ORDER = list(Kind)
_PREFIX_LINES = "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items())
# One streaming SELECT over every visible named graph; GRAPH ?g keeps each value's origin, so the
# public documents can be built from exactly the triples an anonymous caller may see. The lead
# department and a person's role labels are joined here (rows are what costs: ~10 µs each); the lead's
# patterns as sub-selects, which Oxigraph scans once and joins by hashing (see api/derived.py).
EXTRACT_QUERY = f"""{_PREFIX_LINES}
SELECT ?g ?s ?p ?v WHERE {{
  {{
    GRAPH ?g {{
      {{ VALUES ?v {{ {" ".join(_KIND_CLASSES)} }} ?s a ?v BIND(rdf:type AS ?p) }}
      UNION
      {{ VALUES ?p {{ {" ".join(_FIELDS)} }} ?s ?p ?v }}
      UNION
      {{ ?m org:member ?s ; org:role ?r . ?r skos:prefLabel ?v BIND(org:role AS ?p) }}
    }}
  }}
  UNION
  {{
    # A sub-select inside GRAPH ?g loses ?g (Oxigraph 0.5.13), so each one names its graph itself.
    {{ SELECT ?g ?a {{ GRAPH ?g {{ ?a prov:hadRole qs:LeadRole }} }} }}
    {{ SELECT ?g ?s ?a {{ GRAPH ?g {{ ?s prov:qualifiedAssociation ?a }} }} }}
    {{ SELECT ?g ?a ?v {{ GRAPH ?g {{ ?a prov:agent ?v }} }} }}
    BIND(qs:LeadRole AS ?p)
  }}
}}"""


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local


_FIELD_BY_IRI = {
    **{_expand(c): f for c, f in _FIELDS.items()},
    _expand("rdf:type"): "kind",
    _expand("qs:LeadRole"): "lead",
    _expand("org:role"): "role",
}
_KIND_BY_IRI = {_expand(c): k for c, k in _KIND_CLASSES.items()}
_LITERAL_FIELDS = frozenset({"label", "code", "description", "keyword", "role"})
_SDG_CODE = re.compile(r"\d{1,2}(?:\.[0-9a-z]{1,2}){0,2}")
_LANGUAGE_ORDER = {"de": 0, "": 1, "en": 2}
# The name ontology/sdg.ttl gives an indicator without its official text.
_PLACEHOLDER = re.compile(r"(?:Indikator|Indicator)\s+\d{1,2}\.[0-9a-z]{1,2}\.\d{1,2}", re.IGNORECASE)


@dataclass(frozen=True)
class Doc:
    """What is indexed about one entity as one kind of caller sees it."""

    iri: str
    kind: Kind
    label: str
    code: str | None
    titles: tuple[str, ...]
    description: str
    keywords: tuple[str, ...]
    context: tuple[str, ...]
    sdg: tuple[tuple[str, str | None, str | None], ...]
    sdg_codes: frozenset[str]
    departments: tuple[tuple[str, str | None, str], ...]


class _Facts:
    """The extracted values, field → subject → [(graph number, value)], kept between refreshes.

    Graphs are numbered once for the life of the index. `by_graph` holds each graph's values again, by
    (field, subject), so that a refresh can replace the values of the graphs a write changed, leave the
    others alone, and tell which subjects changed.
    """

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, list[tuple[int, object]]]] = defaultdict(lambda: defaultdict(list))
        self.graphs: dict[str, int] = {}
        self.public: frozenset[int] = frozenset()
        self.by_graph: dict[int, dict[tuple[str, str], list]] = {}

    def number(self, graph: str) -> int:
        return self.graphs.setdefault(graph, len(self.graphs))

    def add(self, rows: Iterable[tuple[int, str, str, object]]) -> None:
        """Add `rows` (graph, field, subject, value) of graphs not read before."""
        fields, by_graph = self.fields, self.by_graph
        for graph, field, subject, value in rows:
            fields[field][subject].append((graph, value))
            values = by_graph.setdefault(graph, {}).setdefault((field, subject), [])
            values.append(value)

    def replace(self, graphs: Iterable[int], rows: Iterable[tuple[int, str, str, object]]) -> set[str]:
        """Make `rows` (graph, field, subject, value) the values of `graphs`; returns the subjects whose
        values changed."""
        new: dict[int, dict[tuple[str, str], list]] = {graph: {} for graph in graphs}
        for graph, field, subject, value in rows:
            new.setdefault(graph, {}).setdefault((field, subject), []).append(value)
        changed: set[str] = set()
        for graph, values in new.items():
            old = self.by_graph.get(graph, {})
            # Values come in index order, which is the same for the same data; values merely reordered
            # would only cost a document rewritten for nothing.
            keys = set(old.keys() ^ values.keys())
            keys.update(key for key, found in values.items() if old.get(key, found) != found)
            for field, subject in keys:
                kept = [(g, v) for g, v in self.fields[field].get(subject, ()) if g != graph]
                kept += [(graph, v) for v in values.get((field, subject), ())]
                if kept:
                    self.fields[field][subject] = kept
                else:
                    self.fields[field].pop(subject, None)
                changed.add(subject)
            if values:
                self.by_graph[graph] = values
            else:
                self.by_graph.pop(graph, None)
        return changed

    def subjects_in(self, graphs: Iterable[int]) -> set[str]:
        """Every subject with a value from one of `graphs`."""
        return {subject for graph in graphs for _, subject in self.by_graph.get(graph, {})}

    def referrers(self, subjects: set[str]) -> set[str]:
        """Subjects whose documents show something of `subjects` (a department's name, an SDG label)."""
        found: set[str] = set()
        for name in _LINK_FIELDS:
            for subject, values in self.fields[name].items():
                if any(value in subjects for _, value in values):
                    found.add(subject)
        return found


class _View:
    """The facts one kind of caller may see: all of them (staff), or those of public graphs.

    `tainted` turns true whenever a value from a non-public graph is read, so that the staff documents
    tell which of them an anonymous caller would see differently; `sources` collects the graphs of the
    values read, so that a document can be hidden while a graph it read from is being re-indexed.
    """

    def __init__(self, facts: _Facts, *, staff: bool):
        self.fields = facts.fields
        self.public = facts.public
        self.staff = staff
        self.tainted = False
        self.sources: set[int] = set()
        self._labels: dict[str, tuple[list[str], bool, frozenset[int]]] = {}

    def get(self, field: str, subject: str) -> list:
        values = self.fields[field].get(subject)
        if not values:
            return []
        found = []
        for graph, value in values:
            if graph not in self.public:
                if not self.staff:
                    continue
                self.tainted = True
            self.sources.add(graph)
            if value not in found:
                found.append(value)
        # In a fixed order: the order of extraction changes when a refresh replaces one graph's values.
        return sorted(found) if len(found) > 1 else found

    def subjects(self, field: str) -> Iterable[str]:
        return self.fields[field].keys()

    def labels(self, subject: str) -> list[str]:
        """All labels, German first, then untagged, then English, then the rest."""
        cached = self._labels.get(subject)
        if cached is None:
            before, self.tainted = self.tainted, False
            sources, self.sources = self.sources, set()
            values = self.get("label", subject)
            ordered = sorted(values, key=lambda v: (_LANGUAGE_ORDER.get(v[1], 3), v[1], v[0]))
            cached = self._labels[subject] = ([text for text, _ in ordered], self.tainted, frozenset(self.sources))
            self.tainted, self.sources = before, sources
        self.tainted |= cached[1]
        self.sources |= cached[2]
        return cached[0]

    def label(self, subject: str) -> str | None:
        found = self.labels(subject)
        return found[0] if found else None

    def code(self, subject: str) -> str | None:
        codes = self.get("code", subject)
        if codes:
            return min(codes)
        tail = subject.strip("<>").removeprefix(SDG)
        return tail if subject.startswith(f"<{SDG}") and _SDG_CODE.fullmatch(tail) else None

    def kind(self, subject: str) -> Kind | None:
        kinds = self.get("kind", subject)
        return min(kinds, key=_KIND_ORDER.index) if kinds else None

    def sdg_links(self, subject: str) -> list[tuple[str, str, str | None]]:
        links = [(iri, self.code(iri), self.label(iri)) for iri in self.get("sdg", subject)]
        return sorted((link for link in links if link[1] is not None), key=lambda link: _code_key(link[1]))


def _code_key(code: str | None) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in (code or "").split("."))


def _ancestors(code: str) -> list[str]:
    """`11.2.1` → `11.2.1`, `11.2`, `11`."""
    pieces = code.split(".")
    return [".".join(pieces[:i]) for i in range(len(pieces), 0, -1)]


def build_docs(
    view: _View, subjects: Iterable[str] | None = None
) -> tuple[dict[str, Doc], set[str], dict[str, frozenset[int]]]:
    """One document per entity of a known kind with a label, as `view` sees it; the tainted ones; and the
    graphs each document read."""
    docs: dict[str, Doc] = {}
    tainted: set[str] = set()
    sources: dict[str, frozenset[int]] = {}
    for subject in list(view.subjects("kind") if subjects is None else subjects):
        view.tainted = False
        view.sources = set()
        doc = _build_doc(view, subject)
        if doc is not None:
            docs[subject] = doc
            sources[subject] = frozenset(view.sources)
            if view.tainted:
                tainted.add(subject)
    return docs, tainted, sources


def _build_doc(view: _View, subject: str) -> Doc | None:
    kind = view.kind(subject)
    labels = view.labels(subject)
    if kind is None or not labels or not subject.startswith("<"):
        return None
    code = view.code(subject) if kind in (Kind.GOAL, Kind.TARGET, Kind.INDICATOR) else None
    if kind is Kind.INDICATOR and code is not None:
        # The built-in taxonomy names UN indicators by their code only ("Indikator 11.2.1"): such a hit tells
        # nobody anything, and it matched a query only through its target's words. Once the official texts
        # are loaded (`querschnitt sdg-texts`) an indicator has a real name and is found by it.
        labels = [label for label in labels if not _PLACEHOLDER.fullmatch(label.strip())]
        if not labels:
            return None
    departments: list[tuple[str, str | None, str]] = []
    context: list[str] = []
    if kind is Kind.PROJECT:
        leads = view.get("lead", subject)
        departments += [(d, view.label(d), "lead") for d in leads]
        departments += [(d, view.label(d), "partner") for d in view.get("associated", subject) if d not in leads]
    elif kind in (Kind.DATASET, Kind.INDICATOR):
        departments += [(d, view.label(d), "creator") for d in view.get("creator", subject)]
    elif kind is Kind.PERSON:
        departments += [(d, view.label(d), "member") for d in view.get("member_of", subject)]
        context += view.get("role", subject)
    elif kind is Kind.DEPARTMENT:
        context += [label for parent in view.get("parent", subject) if (label := view.label(parent))]
    departments = sorted(set(departments), key=lambda d: (d[2] != "lead", sort_key(d[1] or ""), d[0]))
    context += [label for _, label, _ in departments if label]
    if kind is Kind.DATASET:
        categories = [*view.get("category", subject), *view.get("sdg", subject)]
        context += [label for c in categories if c.startswith(f"<{MUSTERDATENKATALOG_NS}") for label in view.labels(c)]
    sdg = view.sdg_links(subject)
    sdg_codes = {a for _, c, _ in sdg for a in _ancestors(c)}
    if code is not None:
        # An SDG entry belongs to its goal (and an indicator to its target): show and filter by them.
        sdg_codes.update(_ancestors(code))
        sdg = [(_sdg_iri(c), c, view.label(_sdg_iri(c))) for c in _ancestors(code)[1:]]
    for iri, link_code, _ in sdg:
        context += [link_code, *view.labels(iri)]
        if "." in link_code:
            context.append(_ancestors(link_code)[-1])
    return Doc(
        iri=subject[1:-1],
        kind=kind,
        label=labels[0],
        code=code,
        titles=tuple(labels + ([code] if code else [])),
        description=" ".join(view.get("description", subject)),
        keywords=tuple(sorted(view.get("keyword", subject))),
        context=tuple(context),
        sdg=tuple((iri[1:-1], c, label) for iri, c, label in sdg),
        sdg_codes=frozenset(sdg_codes),
        departments=tuple((iri[1:-1], label, role) for iri, label, role in departments),
    )


def _sdg_iri(code: str) -> str:
    return f"<{SDG}{code}>"


# -- the index -----------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE docs (
  id INTEGER PRIMARY KEY, iri TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, code TEXT,
  visibility INTEGER NOT NULL, description TEXT NOT NULL, info TEXT NOT NULL, sources TEXT NOT NULL
);
CREATE INDEX docs_iri ON docs (iri);
-- The indexed text of each document, kept so that a refresh can take a document out of the index again
-- (FTS5 §4.4.3: external content).
CREATE TABLE texts (id INTEGER PRIMARY KEY, title TEXT, keywords TEXT, body TEXT, context TEXT, meta TEXT);
CREATE VIRTUAL TABLE fts USING fts5(
  title, keywords, body, context, meta, content='texts', content_rowid='id',
  tokenize="unicode61 remove_diacritics 2 tokenchars '._'"
);
-- Inner parts of the indexed compounds (`bauamt` of `tiefbauamt`): a query word is expanded to the
-- compounds that have a part starting with it, instead of indexing every part of every document.
CREATE TABLE compounds (part TEXT NOT NULL, word TEXT NOT NULL, PRIMARY KEY (part, word)) WITHOUT ROWID;
CREATE TABLE department_keys (key TEXT NOT NULL, iri TEXT NOT NULL, token TEXT NOT NULL, visibility INTEGER NOT NULL);
CREATE INDEX department_keys_key ON department_keys (key);
CREATE INDEX department_keys_iri ON department_keys (iri);
-- The indexed words, for taking the compounds of words no document has any more out again.
CREATE VIRTUAL TABLE vocabulary USING fts5vocab(fts, 'row');
"""
# Visibility bits of a stored document: seen by anonymous callers, seen by staff.
ANONYMOUS_BIT, STAFF_BIT = 1, 2
# Filters are tokens of the `meta` column, so that one full-text scan filters, ranks and pages
# (joining another table for them costs more than the scan itself on broad queries).
_VISIBILITY_TOKENS = {ANONYMOUS_BIT: "_v_anonymous", STAFF_BIT: "_v_staff"}
# Fields whose values are other entities, whose names a document shows.
_LINK_FIELDS = ("lead", "associated", "creator", "member_of", "parent", "sdg", "category")
# A refresh that touches more than this share of the documents writes a new index instead of editing it
# under the readers' lock (10,000 documents: 0.6 s at 10^6 triples).
_REWRITE_SHARE = 0.1
# How long a search waits for the index to catch up with a write, when the index is big (see SearchIndex).
PATIENCE = 0.5
# An index built faster than this is always waited for: its answers stay exact.
_SMALL_BUILD = 1.0
T = TypeVar("T")
Signature = tuple[str, str, int, str] | None


@dataclass
class _State:
    """What a refresh needs besides the SQLite file: the facts, what each graph looked like, the tokens."""

    facts: _Facts
    signatures: dict[str, Signature]
    department_tokens: dict[str, str] = dataclasses.field(default_factory=dict)
    departments: set[str] = dataclasses.field(default_factory=set)
    next_id: int = 1


class _Snapshot:
    """The index: a SQLite connection, the store generation it reflects, what each graph looked like then
    (`signatures`, and the graph numbers of the documents' source tokens), and the state to refresh it from.

    A refresh that changes a few documents edits it in place under `lock`, which every reader holds too;
    readers use only `connection`, `generation`, `signatures` and `numbers`, which change under that lock.
    """

    def __init__(self, connection: sqlite3.Connection, generation: int, build_seconds: float, state: _State):
        self.connection: sqlite3.Connection | None = connection
        self.generation = generation
        self.build_seconds = build_seconds
        self.signatures = dict(state.signatures)
        self.numbers = dict(state.facts.graphs)
        self.state: _State | None = state
        self.lock = threading.Lock()
        self._close = weakref.finalize(self, connection.close)

    def retire(self) -> None:
        """Close once the queries running on it are done."""
        with self.lock:
            self.connection = None
            self.state = None
            self._close()


class _Job:
    """A refresh running in the background; `wait` re-raises its error."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None

    def wait(self, timeout: float | None) -> bool:
        finished = self.done.wait(timeout)
        if finished and self.error is not None:
            raise self.error
        return finished


class IndexedStore(QuerySource, Protocol):
    """What the index needs of a store (EmbeddedStore and RemoteStore have it): queries and a write counter."""

    @property
    def generation(self) -> int: ...


class SearchIndex:
    """A full-text index of a store that follows every write (see the module docstring, "Sync").

    `path` None keeps the index in memory; a path keeps it in that SQLite file (rebuilt on first
    use in every process, as the store's generation counter starts anew). `patience` is how long a search
    waits for the index to catch up with a write before it answers from the previous index with the
    changed graphs hidden; None waits as long as it takes for an index that builds in under a second
    (its answers stay exact) and PATIENCE seconds for a bigger one.
    """

    def __init__(self, store: IndexedStore, path: str | Path | None = None, *, patience: float | None = None):
        self.store = store
        self.path = Path(path) if path is not None else None
        self.patience = patience
        self._current: _Snapshot | None = None
        self._build_lock = threading.Lock()
        self._job_lock = threading.Lock()
        self._job: _Job | None = None
        self._closed = False

    # -- public API ------------------------------------------------------------------------------

    def search(
        self,
        q: str,
        *,
        include_internal: bool,
        types: Iterable[Kind | str] | None = None,
        goal: str | None = None,
        department: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Entities matching every word of `q` (else some), best first; SearchInputError names a bad parameter."""
        words = query_words(q)
        kinds = _kinds(types)
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchInputError("limit", f"between 1 and {MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise SearchInputError("offset", f"between 0 and {MAX_OFFSET}")
        mask = STAFF_BIT if include_internal else ANONYMOUS_BIT

        def run(connection: sqlite3.Connection, hidden: frozenset[int] | None) -> SearchResults:
            filters = [_VISIBILITY_TOKENS[mask]]
            if kinds:
                filters.append(" OR ".join(f"_k_{k.value}" for k in kinds))
            if goal is not None:
                filters.append(f'"_g_{_resolve_goal(connection, goal, hidden)}"')
            if department is not None:
                filters.append(_resolve_department(connection, department, mask, hidden))
            restriction = " AND ".join(f"(meta : ({f}))" for f in filters)
            compounds = [_compounds(connection, w) for w in words]
            modes = ("all", "any") if len(words) > 1 else ("all",)
            for mode in modes:
                join = " AND " if mode == "all" else " OR "
                expression = join.join(w.expression(c) for w, c in zip(words, compounds, strict=True))
                direct = join.join(w.expression() for w in words) if any(compounds) else None
                rows, total = _search_rows(
                    connection,
                    _without(f"({expression}) AND {restriction}", hidden),
                    None if direct is None else _without(f"({direct}) AND {restriction}", hidden),
                    limit,
                    offset,
                )
                if total:
                    break
            return SearchResults(
                query=q,
                total=total,
                limit=limit,
                offset=offset,
                matched=mode,
                hits=[_hit(row, words) for row in rows],
                complete=hidden is None,
            )

        return self._read(run)

    def suggest(self, prefix: str, *, include_internal: bool, limit: int = 8) -> Suggestions:
        """Entities whose name has words starting with the words typed so far, for as-you-type search."""
        words = query_words(prefix)
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchInputError("limit", f"between 1 and {MAX_LIMIT}")
        visibility = _VISIBILITY_TOKENS[STAFF_BIT if include_internal else ANONYMOUS_BIT]
        expression = " AND ".join([*(f'(title : "{w.text}" *)' for w in words), f"(meta : {visibility})"])

        def run(connection: sqlite3.Connection, hidden: frozenset[int] | None) -> Suggestions:
            # Title-only bm25 prefers short names, where the typed words are most of the name.
            rows = connection.execute(
                f"""WITH best AS MATERIALIZED (
                      SELECT rowid AS id, bm25(fts, 1, 0, 0, 0, 0, 0) AS rank FROM fts WHERE fts MATCH ?
                      ORDER BY rank LIMIT {limit * 4}
                    )
                    SELECT d.iri, d.kind, d.label, d.code FROM best JOIN docs d ON d.id = best.id
                    ORDER BY best.rank, d.label""",
                (_without(expression, hidden),),
            ).fetchall()
            seen: set[str] = set()
            found = []
            for iri, kind, label, code in rows:
                if label.casefold() not in seen:
                    seen.add(label.casefold())
                    found.append(Suggestion(iri=iri, type=Kind(kind), label=label, code=code))
            return Suggestions(query=prefix, suggestions=found[:limit])

        return self._read(run)

    @property
    def is_current(self) -> bool:
        """Whether the index reflects the store's last write (a search would not wait for a refresh)."""
        snapshot = self._current
        return snapshot is not None and snapshot.generation >= self.store.generation

    def catch_up(self, timeout: float | None = None) -> bool:
        """Refresh the index if the store has been written since (or build it, if there is none yet), waiting
        at most `timeout` seconds; whether it then reflects the store. At start-up, in a thread, it spares
        the first search the first build (api/app.py)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.is_current:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if not self._refresh_in_background().wait(remaining):
                return False

    def rebuild(self) -> float:
        """Build the whole index from the store now (not from what it knew); returns the seconds it took."""
        with self._build_lock:
            return self._refresh(full=True).build_seconds

    def close(self) -> None:
        """Release the SQLite connection (a refresh still running is dropped when it ends)."""
        with self._build_lock:
            self._closed = True
            if self._current is not None:
                self._current.retire()
                self._current = None

    # -- sync ------------------------------------------------------------------------------------

    def _read(self, work: Callable[[sqlite3.Connection, frozenset[int] | None], T]) -> T:
        """`work` on the index as it is for the store's current generation (hidden graphs: None); or, once
        the patience is up while a refresh runs, on the previous index with the documents of the graphs
        written since hidden."""
        generation = self.store.generation
        start = time.monotonic()
        while True:
            snapshot = self._current
            if snapshot is None or snapshot.generation < generation:
                job = self._refresh_in_background()
                patience = self._patience(snapshot)
                remaining = None if patience is None else max(0.0, start + patience - time.monotonic())
                if job.wait(remaining):
                    continue
            with snapshot.lock:
                if snapshot.connection is None:
                    continue  # replaced and closed meanwhile: take the new one
                if snapshot.generation >= generation:
                    return work(snapshot.connection, None)
                hidden = self._hidden(snapshot)
                if hidden is not None:
                    return work(snapshot.connection, hidden)
            # A write that left no trace in the metadata: nothing can be shown until the refresh is done.
            job.wait(None)

    def _patience(self, snapshot: _Snapshot | None) -> float | None:
        if snapshot is None:
            return None
        if self.patience is not None:
            return self.patience
        return None if snapshot.build_seconds < _SMALL_BUILD else PATIENCE

    def _hidden(self, snapshot: _Snapshot) -> frozenset[int] | None:
        """Numbers of the graphs written, dropped or made internal since `snapshot`; None when a write changed
        no graph's metadata (a raw update), so that any graph may have changed."""
        changed = _changed(snapshot.signatures, self._signatures())
        if changed is None:
            return None
        return frozenset(snapshot.numbers[g] for g in changed if g in snapshot.numbers)

    def _refresh_in_background(self) -> _Job:
        with self._job_lock:
            if self._job is None or self._job.done.is_set():
                job = self._job = _Job()
                threading.Thread(target=self._run, args=(job,), name="search-index-refresh", daemon=True).start()
            return self._job

    def _run(self, job: _Job) -> None:
        try:
            # close() takes the same lock, so a closed index is never refreshed again.
            with self._build_lock:
                if not self._closed:
                    self._refresh()
        except BaseException as error:  # noqa: BLE001 - handed to every search waiting for it
            job.error = error
        finally:
            job.done.set()

    def _signatures(self) -> dict[str, Signature]:
        """What each graph the index reads looks like now: its metadata, or None for a graph without any."""
        signatures: dict[str, Signature] = {
            g.iri: (g.visibility.value, g.modified.isoformat(), g.triples, g.checksum)
            for g in self.store.graphs(include_internal=True)
        }
        visible = getattr(self.store, "visible_graphs", None)
        if visible is not None:
            for graph in visible(include_internal=True):
                if isinstance(graph, NamedNode):
                    signatures.setdefault(graph.value, None)
        return signatures

    def _refresh(self, *, full: bool = False) -> _Snapshot:
        """Bring the index up to the store's generation: re-read only the graphs whose metadata changed and
        rewrite only the documents that read them, or everything when that cannot be known."""
        start = time.perf_counter()
        # The generation is read first: a write during the refresh makes the next search refresh again.
        generation = self.store.generation
        current = self._current
        state = current.state if current is not None and not full else None
        before = self._signatures()
        changed = None if state is None else _changed(state.signatures, before)
        # Hundreds of thousands of small tuples would trigger the cycle collector over and over
        # (it halves the build time to pause it); none of them form cycles.
        paused = gc.isenabled()
        gc.disable()
        try:
            if state is None or changed is None:
                state = _State(_Facts(), before)
                state.facts.add(self._extract(state.facts, None))
                touched = None
            else:
                graphs = sorted(changed | {g for g in before if g in _DERIVED or before[g] is None})
                facts = state.facts
                try:
                    touched = facts.replace([facts.number(g) for g in graphs], self._extract(facts, graphs))
                except BaseException:
                    current.state = None  # the facts are half replaced: the next refresh starts afresh
                    raise
            facts = state.facts
            # A graph counts as public only if it was public before and after the query ran, so a graph
            # made internal during the refresh never lends its new content to anonymous callers.
            after = self._signatures()
            public = frozenset(
                facts.number(g) for g, sig in before.items() if _is_public(sig) and _is_public(after.get(g))
            )
            if touched is not None:
                touched |= facts.subjects_in(public ^ facts.public)
            facts.public = public
            return self._apply(current, state, before, touched, generation, start)
        finally:
            if paused:
                gc.enable()

    def _extract(self, facts: _Facts, graphs: list[str] | None) -> list[tuple[int, str, str, object]]:
        """(graph, field, subject, value) of `graphs` (None: every graph staff may see)."""
        rows: list[tuple[int, str, str, object]] = []
        literal_fields = _LITERAL_FIELDS
        result = self.store.query(EXTRACT_QUERY, include_internal=True, named_graphs=graphs)
        numbers: dict[str, int] = {}
        for graph, subject, predicate, value in result:
            number = numbers.get(graph.value)
            if number is None:
                number = numbers[graph.value] = facts.number(graph.value)
            field = _FIELD_BY_IRI[predicate.value]
            if field == "kind":
                rows.append((number, "kind", str(subject), _KIND_BY_IRI[value.value]))
            elif field in literal_fields:
                if isinstance(value, RdfLiteral):
                    text = (value.value, value.language or "") if field == "label" else value.value
                    rows.append((number, field, str(subject), text))
            elif field == "category":
                if isinstance(value, NamedNode) and value.value.startswith(MUSTERDATENKATALOG_NS):
                    rows.append((number, field, str(subject), str(value)))
            elif not isinstance(value, RdfLiteral):
                rows.append((number, field, str(subject), str(value)))
        return rows

    def _apply(
        self,
        current: _Snapshot | None,
        state: _State,
        signatures: dict[str, Signature],
        touched: set[str] | None,
        generation: int,
        start: float,
    ) -> _Snapshot:
        """Bring the SQLite index in line with `state.facts`: rewrite the documents of `touched` (and of
        those that show something of them) in place, or write a new index."""
        facts = state.facts
        affected: set[str] | None = None
        if touched is not None and current is not None and current.connection is not None:
            affected = touched | facts.referrers(touched)
            if any(s.startswith(f"<{SDG}") for s in touched):
                # An SDG entry's document shows its goal's and target's names.
                affected |= {s for s in facts.fields["kind"] if s.startswith(f"<{SDG}")}
            if len(affected) > _REWRITE_SHARE * max(1, len(facts.fields["kind"])):
                affected = None
        if affected is None:
            fresh = _State(facts, signatures)
            connection = self._write(_documents(facts), fresh)
            snapshot = _Snapshot(connection, generation, time.perf_counter() - start, fresh)
            old, self._current = self._current, snapshot
            if old is not None:
                old.retire()
            return snapshot
        assert current is not None
        stored = _documents(facts, affected)
        with current.lock:
            connection = current.connection
            assert connection is not None
            with connection:
                words = _remove(connection, state, {s[1:-1] for s in affected})
                _insert(connection, stored, state)
                _forget_compounds(connection, words)
            current.generation = generation
            current.signatures = dict(signatures)
            current.numbers = dict(facts.graphs)
            state.signatures = signatures
        return current

    def _write(self, stored: list[tuple[Doc, int, frozenset[int]]], state: _State) -> sqlite3.Connection:
        target = ":memory:"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, target = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".building", dir=self.path.parent)
            os.close(handle)
        connection = sqlite3.connect(target, check_same_thread=False)
        try:
            if self.path is not None:
                # A half-written file is never used (it is renamed into place when complete): no journal.
                connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            connection.executescript(_SCHEMA)
            with connection:
                _insert(connection, stored, state)
            connection.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            connection.commit()
        except BaseException:
            connection.close()
            if self.path is not None:
                Path(target).unlink(missing_ok=True)
            raise
        if self.path is None:
            return connection
        connection.close()
        # Readers of the old file keep it open under its old inode; new readers get the new one.
        os.replace(target, self.path)
        return sqlite3.connect(self.path, check_same_thread=False)


_DERIVED = frozenset(g.value for g in DERIVED_GRAPHS)


def _is_public(signature: Signature) -> bool:
    return signature is not None and signature[0] == Visibility.PUBLIC.value


def _changed(then: dict[str, Signature], now: dict[str, Signature]) -> set[str] | None:
    """Graphs whose metadata differs between `then` and `now` (new, gone, written, visibility changed), plus
    those without metadata; None when no registered source graph changed, as after a raw update."""
    changed = {g for g in then.keys() | now.keys() if then.get(g) != now.get(g) or now.get(g) is None}
    # The derived graphs are stamped anew by every write (api/derived.py) and hold nothing the index reads.
    if not any(g not in _DERIVED and (then.get(g) is not None or now.get(g) is not None) for g in changed):
        return None
    return changed


def _documents(facts: _Facts, subjects: Iterable[str] | None = None) -> list[tuple[Doc, int, frozenset[int]]]:
    """The documents to store with their visibility bits and the graphs each read: built once for staff, again
    only where the public view differs."""
    staff, tainted, sources = build_docs(_View(facts, staff=True), subjects)
    # A staff document that read nothing from a non-public graph is exactly what the public view
    # would build, so only the tainted ones are built again from the public graphs.
    public, _, public_sources = build_docs(_View(facts, staff=False), tainted)
    stored: list[tuple[Doc, int, frozenset[int]]] = []
    for key in sorted(staff):
        doc, seen_public = staff[key], public.get(key)
        if key not in tainted or seen_public == doc:
            stored.append((doc, ANONYMOUS_BIT | STAFF_BIT, sources[key]))
            continue
        if seen_public is not None:
            stored.append((seen_public, ANONYMOUS_BIT, public_sources[key]))
        stored.append((doc, STAFF_BIT, sources[key]))
    return stored


def _source_token(graph: int) -> str:
    return f"_s_{graph}"


def _insert(connection: sqlite3.Connection, stored: list[tuple[Doc, int, frozenset[int]]], state: _State) -> None:
    docs, texts, keys = [], [], []
    vocabulary: set[str] = set()
    tokens = state.department_tokens
    for doc, _, _ in stored:
        if doc.kind is Kind.DEPARTMENT:
            tokens.setdefault(doc.iri, f"_d_{len(tokens)}")
            state.departments.add(doc.iri)
    for number, (doc, visibility, sources) in enumerate(stored, start=state.next_id):
        info = {"sdg": doc.sdg, "departments": doc.departments}
        docs.append(
            (
                number,
                doc.iri,
                doc.kind.value,
                doc.label,
                doc.code,
                visibility,
                doc.description,
                json.dumps(info),
                " ".join(map(str, sorted(sources))),
            )
        )
        columns = [_column(doc.titles), _column(doc.keywords), terms(doc.description), _column(doc.context)]
        for column in columns:
            vocabulary.update(column)
        meta = [token for bit, token in _VISIBILITY_TOKENS.items() if visibility & bit]
        meta.append(f"_k_{doc.kind.value}")
        meta += sorted(f"_g_{code}" for code in doc.sdg_codes)
        related = {iri for iri, _, _ in doc.departments} | ({doc.iri} if doc.kind is Kind.DEPARTMENT else set())
        meta += sorted(tokens[iri] for iri in related if iri in state.departments)
        meta += [_source_token(g) for g in sorted(sources)]
        texts.append((number, *(" ".join(c) for c in columns), " ".join(meta)))
        if doc.kind is Kind.DEPARTMENT:
            token = tokens[doc.iri]
            keys.extend((key, doc.iri, token, visibility) for key in {doc.iri, doc.iri.rsplit("/", 1)[-1]})
    state.next_id += len(stored)
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", docs)
    connection.executemany("INSERT INTO texts VALUES (?, ?, ?, ?, ?, ?)", texts)
    connection.executemany(
        "INSERT INTO fts(rowid, title, keywords, body, context, meta) VALUES (?, ?, ?, ?, ?, ?)", texts
    )
    connection.executemany(
        "INSERT OR IGNORE INTO compounds VALUES (?, ?)",
        ((part, word) for word in vocabulary for part in _parts_of(word)),
    )
    connection.executemany("INSERT INTO department_keys VALUES (?, ?, ?, ?)", keys)


def _remove(connection: sqlite3.Connection, state: _State, iris: set[str]) -> set[str]:
    """Take the documents of `iris` out of the index (both visibilities), and their department keys;
    returns the words they had."""
    words: set[str] = set()
    ordered = sorted(iris)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        ids = [i for (i,) in connection.execute(f"SELECT id FROM docs WHERE iri IN ({marks})", chunk)]
        if ids:
            id_marks = ", ".join("?" * len(ids))
            for columns in connection.execute(
                f"SELECT title, keywords, body, context FROM texts WHERE id IN ({id_marks})", ids
            ):
                words.update(word for column in columns for word in column.split())
            # External content: the index entries go with the exact text they were made from (FTS5 §4.4.3).
            connection.execute(
                "INSERT INTO fts(fts, rowid, title, keywords, body, context, meta) "
                f"SELECT 'delete', id, title, keywords, body, context, meta FROM texts WHERE id IN ({id_marks})",
                ids,
            )
            connection.execute(f"DELETE FROM texts WHERE id IN ({id_marks})", ids)
            connection.execute(f"DELETE FROM docs WHERE id IN ({id_marks})", ids)
        connection.execute(f"DELETE FROM department_keys WHERE iri IN ({marks})", chunk)
    state.departments -= iris
    return words


def _forget_compounds(connection: sqlite3.Connection, words: set[str]) -> None:
    """Drop the compound parts of those of `words` that no document has any more."""
    for word in words:
        found = _parts_of(word)
        if found and connection.execute("SELECT 1 FROM vocabulary WHERE term = ?", (word,)).fetchone() is None:
            connection.executemany("DELETE FROM compounds WHERE part = ? AND word = ?", ((p, word) for p in found))


def _without(expression: str, hidden: frozenset[int] | None) -> str:
    """`expression` less the documents that read one of the `hidden` graphs."""
    if not hidden:
        return expression
    tokens = " OR ".join(_source_token(g) for g in sorted(hidden))
    return f"({expression}) NOT (meta : ({tokens}))"


def _shown(sources: str, hidden: frozenset[int] | None) -> bool:
    return not hidden or not any(int(g) in hidden for g in sources.split())


def _kinds(types: Iterable[Kind | str] | None) -> list[Kind]:
    if types is None:
        return []
    try:
        return list(dict.fromkeys(Kind(t) for t in types))
    except ValueError:
        raise SearchInputError("type", f"one of {', '.join(k.value for k in Kind)}") from None


_GOAL_INPUT = re.compile(r"(?:sdg|ziel|unterziel|goal|target)?\s*[:#-]?\s*(\d{1,2}(?:\.[0-9a-z]{1,2})?)")


def _resolve_goal(connection: sqlite3.Connection, value: str, hidden: frozenset[int] | None = None) -> str:
    """`11`, `SDG 11`, `11.2` or the UN IRI → the code; SearchInputError unless it is a goal or known target."""
    text = value.strip().removeprefix(str(SDG)).casefold()
    match = _GOAL_INPUT.fullmatch(text)
    if match is not None:
        code = match.group(1)
        goal, _, rest = code.partition(".")
        code = str(int(goal)) + ("." + rest if rest else "")
        if not rest and 1 <= int(goal) <= 17:
            return code
        found = connection.execute("SELECT sources FROM docs WHERE code = ? AND kind = 'target'", (code,))
        if rest and any(_shown(sources, hidden) for (sources,) in found):
            return code
    raise SearchInputError("goal", f"{value!r} is not an SDG goal (1–17) or a known target such as 11.2")


def _compounds(connection: sqlite3.Connection, word: QueryWord) -> list[str]:
    """Indexed compounds with an inner part that starts with `word` (`tiefbauamt` for `bauamt`)."""
    if not word.in_compounds:
        return []
    # The parts starting with the word are the range [word, word with its last letter incremented).
    upper = word.text[:-1] + chr(ord(word.text[-1]) + 1)
    rows = connection.execute(
        f"SELECT DISTINCT word FROM compounds WHERE part >= ? AND part < ? LIMIT {MAX_COMPOUNDS}", (word.text, upper)
    )
    return sorted(w for (w,) in rows if not w.startswith(word.text))


def _resolve_department(
    connection: sqlite3.Connection, value: str, mask: int, hidden: frozenset[int] | None = None
) -> str:
    """A department IRI or id → its filter token; SearchInputError when unknown or ambiguous."""
    key = value.strip()
    found = {
        iri: token
        for iri, token, sources in connection.execute(
            "SELECT k.iri, k.token, d.sources FROM department_keys k JOIN docs d ON d.iri = k.iri "
            "AND d.kind = 'department' AND d.visibility & ? WHERE k.key = ? AND k.visibility & ?",
            (mask, key, mask),
        )
        if _shown(sources, hidden)
    }
    if len(found) == 1:
        return found.popitem()[1]
    if found:
        raise SearchInputError("department", f"{value!r} names {len(found)} departments; give the IRI")
    raise SearchInputError("department", f"no department {value!r}; give its id (e.g. tiefbauamt) or IRI")


def _search_rows(
    connection: sqlite3.Connection, expression: str, direct: str | None, limit: int, offset: int
) -> tuple[list[tuple], int]:
    """One page of (iri, kind, label, code, description, info, score), best first, and the total.

    With `direct` (the expression without the compounds a word is inside of), what matches it comes
    first and is ranked by it: bm25 would rank a rare compound (`bahnhofstrasse`) above the word
    itself (`strassenverzeichnis`).
    """
    score = f"-bm25(fts, {', '.join(map(str, WEIGHTS))})"
    if direct is None:
        sql = f"SELECT rowid, {score} AS score FROM fts WHERE fts MATCH ? ORDER BY score DESC, rowid LIMIT ? OFFSET ?"
        params: tuple = (expression, limit, offset)
    else:
        sql = f"""WITH
                    direct AS MATERIALIZED (SELECT rowid AS id, {score} AS score FROM fts WHERE fts MATCH ?),
                    every AS MATERIALIZED (SELECT rowid AS id, {score} AS score FROM fts WHERE fts MATCH ?)
                  SELECT every.id, coalesce(direct.score, every.score) AS score FROM every
                  LEFT JOIN direct ON direct.id = every.id
                  ORDER BY direct.id IS NULL, score DESC, every.id LIMIT ? OFFSET ?"""
        params = (direct, expression, limit, offset)
    page = connection.execute(sql, params).fetchall()
    if len(page) < limit and (page or offset == 0):
        total = offset + len(page)
    else:
        (total,) = connection.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (expression,)).fetchone()
    if not page:
        return [], total
    details = {
        row[0]: row[1:]
        for row in connection.execute(
            f"SELECT id, iri, kind, label, code, description, info FROM docs WHERE id IN ({', '.join('?' * len(page))})",
            [id_ for id_, _ in page],
        )
    }
    return [(*details[id_], score) for id_, score in page], total


def _hit(row: tuple, words: list[QueryWord]) -> SearchHit:
    iri, kind, label, code, description, info, score = row
    details = json.loads(info)
    snippet, highlights = snippet_of(description, words)
    return SearchHit(
        iri=iri,
        type=Kind(kind),
        label=label,
        code=code,
        snippet=snippet,
        highlights=highlights,
        score=round(score, 4),
        sdg=[SdgRef(iri=i, code=c, label=lab) for i, c, lab in details["sdg"]],
        departments=[DepartmentRef(iri=i, label=lab, role=role) for i, lab, role in details["departments"]],
    )


def snippet_of(
    text: str, words: list[QueryWord], width: int = SNIPPET_WIDTH
) -> tuple[str | None, list[tuple[int, int]]]:
    """A piece of `text` around the first matching word, and the ranges of the matching words in it."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if not text:
        return None, []
    spans = [m.span() for m in _WORD.finditer(text) if any(w.matches(term(m.group())) for w in words)]
    start = 0
    if spans and spans[0][1] > width:
        start = text.find(" ", max(0, spans[0][0] - width // 3)) + 1
        start = min(start, spans[0][0])
    end = len(text)
    if end - start > width:
        cut = text.rfind(" ", start, start + width)
        end = cut if cut > start else start + width
    lead = "…" if start > 0 else ""
    snippet = lead + text[start:end] + ("…" if end < len(text) else "")
    shift = len(lead) - start
    return snippet, [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]


# -- HTTP ----------------------------------------------------------------------------------------------


def include_internal(request: Request) -> bool:
    """Whether the caller sees internal graphs (a staff token); 401 for a token that is not valid."""
    return authenticate(request).sees_internal


router = APIRouter(tags=["search"])
_lazy = threading.Lock()


def search_index(request: Request) -> SearchIndex:
    """The app's search index (`app.state.search`), created over `app.state.store` on first use."""
    state = request.app.state
    index = getattr(state, "search", None)
    if index is None:
        with _lazy:
            index = getattr(state, "search", None)
            if index is None:
                index = state.search = SearchIndex(state.store)
    return index


def _invalid(error: SearchInputError, value: object) -> RequestValidationError:
    # The shape of FastAPI's own 422 answers, so clients handle both alike.
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", error.parameter), "msg": str(error), "input": value}]
    )


@router.get("/api/search", response_model=SearchResults)
def search(
    request: Request,
    q: Annotated[
        str,
        Query(
            description="Words to find, German or English; every word must match (as a prefix), case and "
            "umlauts do not matter (`Strasse` finds `Straße`). An SDG code (`11.2`) finds the target and what is linked to it.",
            examples=["Radweg", "Klimaschutz Tiefbauamt", "11.2"],
        ),
    ],
    types: Annotated[
        list[Kind] | None, Query(alias="type", description="Only these kinds; repeat for several.")
    ] = None,
    goal: Annotated[
        str | None,
        Query(description="Only what is linked to this SDG goal (`11`) or target (`11.2`) or belongs to it."),
    ] = None,
    department: Annotated[
        str | None,
        Query(description="Only what this department leads, partners in, created or belongs to (its id or IRI)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    staff: Annotated[bool, Depends(include_internal)] = False,
) -> SearchResults:
    """Full-text search over departments, projects, datasets, SDGs and (staff only) people."""
    try:
        return search_index(request).search(
            q, include_internal=staff, types=types, goal=goal, department=department, limit=limit, offset=offset
        )
    except SearchInputError as error:
        raise _invalid(error, {"q": q, "goal": goal, "department": department}.get(error.parameter)) from None


@router.get("/api/search/suggest", response_model=Suggestions)
def suggest(
    request: Request,
    q: Annotated[str, Query(description="What has been typed so far.", examples=["Radv"])],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
    staff: Annotated[bool, Depends(include_internal)] = False,
) -> Suggestions:
    """Names that complete what has been typed, for as-you-type search."""
    try:
        return search_index(request).suggest(q, include_internal=staff, limit=limit)
    except SearchInputError as error:
        raise _invalid(error, q) from None
