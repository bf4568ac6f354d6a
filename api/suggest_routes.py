"""SDG target suggestions over HTTP (`POST /api/suggest`) and the store's part in them: texts, tagged items."""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.store import QuerySource
from loaders.sdg import SdgIndex
from suggest import Suggester
from suggest.knowledge import Knowledge

router = APIRouter(tags=["suggestions"])

# Projects, datasets and indicators with their SDG links; titles and descriptions in any language.
_TAGGED = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX qs: <https://w3id.org/querschnitt/def#>
SELECT ?item ?title ?text ?subject WHERE {
  VALUES ?type { qs:Project dcat:Dataset qs:Indicator }
  ?item a ?type ; dct:subject|qs:contributesTo ?subject .
  OPTIONAL { ?item dct:title|skos:prefLabel ?title }
  OPTIONAL { ?item dct:description|dcat:keyword ?text }
}
"""
# The official German texts that `querschnitt sdg-texts` adds (definitions; indicators' alternative labels).
_OFFICIAL = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?concept ?text WHERE {
  { ?concept skos:definition ?text } UNION { ?concept skos:altLabel ?text }
  FILTER(langMatches(lang(?text), "de"))
}
"""


def _target_codes(index: SdgIndex, iri: str) -> list[str]:
    """Target notations an SDG link stands for: a target itself, or the targets an indicator is listed under."""
    if index.resolve(iri) is None:
        return []
    kind = index.kind(iri)
    if kind == "target":
        return [index.notation(iri)]
    if kind == "indicator":
        return [code.rsplit(".", 1)[0] for code in index.notations(iri)]
    return []


def store_examples(store: QuerySource, *, include_internal: bool = False) -> list[tuple[str, list[str], str]]:
    """The store's tagged projects, datasets and indicators as (text, target notations, title) triples."""
    index = SdgIndex.builtin()
    titles: dict[str, list[str]] = {}
    texts: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    for row in store.query(_TAGGED, include_internal=include_internal):
        item = row["item"].value
        for name, values in (("title", titles), ("text", texts)):
            value = row[name].value if row[name] is not None else None
            if value and value not in values.setdefault(item, []):
                values[item].append(value)
        for code in _target_codes(index, row["subject"].value):
            if code not in targets.setdefault(item, []):
                targets[item].append(code)
    return [
        (" ".join([*titles.get(item, []), *texts.get(item, [])]), codes, " / ".join(titles.get(item, [])))
        for item, codes in targets.items()
        if codes
    ]


def store_official_texts(store: QuerySource) -> dict[str, str]:
    """Official German SDG texts loaded into the store (`querschnitt sdg-texts`): notation → text."""
    index = SdgIndex.builtin()
    texts: dict[str, list[str]] = {}
    for row in store.query(_OFFICIAL):
        iri = row["concept"].value
        if index.resolve(iri) is None:
            continue
        for code in index.notations(iri):
            texts.setdefault(code, []).append(row["text"].value)
    return {code: " ".join(dict.fromkeys(values)) for code, values in texts.items()}


def suggester_for(store: QuerySource, *, include_internal: bool = False) -> Suggester:
    """A suggester over the built-in knowledge, the store's official texts and its tagged items."""
    suggester = Suggester(Knowledge.builtin(store_official_texts(store)))
    suggester.add_examples(store_examples(store, include_internal=include_internal))
    return suggester


class SuggestionCache:
    """One suggester per state of the store's graphs (public ones unless `include_internal`): relearnt when a
    graph is loaded or replaced. The index over the knowledge is rebuilt only when the official texts
    change; the tagged items are learnt on a copy of it (`Suggester.without_examples`), so an accepted
    suggestion (api/review.py) costs its examples, not an index build (seconds)."""

    def __init__(self, *, include_internal: bool = False) -> None:
        self.include_internal = include_internal
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._suggester: Suggester | None = None
        self._base: tuple[str, Suggester] | None = None

    def get(self, store: QuerySource, *, negative=()) -> Suggester:
        """The suggester for the store as it is now (public graphs only by default: evidence may quote item
        titles); `negative` is a callable giving (text, rejected targets, title) triples to learn as well."""
        graphs = store.graphs(include_internal=self.include_internal)
        key = tuple(sorted((g.iri, g.checksum, g.triples, g.modified) for g in graphs))
        with self._lock:
            if self._suggester is None or key != self._key:
                texts = store_official_texts(store)
                digest = hashlib.sha256(repr(sorted(texts.items())).encode()).hexdigest()
                if self._base is None or self._base[0] != digest:
                    self._base = (digest, Suggester(Knowledge.builtin(texts)))
                suggester = self._base[1].without_examples()
                suggester.add_examples(store_examples(store, include_internal=self.include_internal))
                if negative:
                    suggester.add_examples(negative(), rejected=True)
                self._suggester, self._key = suggester, key
            return self._suggester


class SuggestRequest(BaseModel):
    """A text to find SDG targets for: a project, dataset or indicator title, optionally more."""

    title: Annotated[str, Field(min_length=1, max_length=2_000)]
    description: Annotated[str, Field(max_length=20_000)] = ""
    keywords: Annotated[str, Field(max_length=5_000)] = ""
    theme: Annotated[str, Field(max_length=500, description="EU data theme code or IRI, e.g. TRAN")] = ""
    category: Annotated[
        str, Field(max_length=500, description="Musterdatenkatalog category, e.g. 'ÖPNV - Haltestelle'")
    ] = ""
    top: Annotated[int, Field(ge=1, le=50)] = 5


class SuggestedTarget(BaseModel):
    """One suggested SDG target with its goal, score in (0, 1), German and English titles and the evidence."""

    rank: int
    target: str
    goal: str
    iri: str
    score: float
    label_de: str
    label_en: str
    evidence: list[str]


class SuggestResponse(BaseModel):
    """The ranked targets, best first."""

    suggestions: list[SuggestedTarget]


@router.post("/api/suggest", response_model=SuggestResponse)
def post_suggest(body: SuggestRequest, request: Request) -> SuggestResponse:
    """Suggest SDG targets for a German text, with the words and known items that led to each; for anyone."""
    state = request.app.state
    cache = getattr(state, "suggestions", None)
    if cache is None:
        cache = state.suggestions = SuggestionCache()
    suggester = cache.get(state.store)
    found = suggester.suggest(
        body.title, body.description, top=body.top, keywords=body.keywords, theme=body.theme, category=body.category
    )
    return SuggestResponse(
        suggestions=[
            SuggestedTarget(
                rank=rank,
                target=s.target,
                goal=s.goal,
                iri=f"http://metadata.un.org/sdg/{s.target}",
                score=s.score,
                label_de=s.label_de,
                label_en=suggester.knowledge.targets[s.target].label_en,
                evidence=s.evidence,
            )
            for rank, s in enumerate(found, start=1)
        ]
    )
