"""Ranks SDG targets for a text: BM25 over per-target documents, vocabulary phrases, and labelled examples."""

from __future__ import annotations

import copy
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import simplemma

from suggest.knowledge import Knowledge
from suggest.text import Analyzer, lexicon_from, stem, words

# Field weights of a target's document. The curated vocabulary is the strongest evidence (it is written in the
# words municipalities use); the short title and official texts come next; a goal's text is shared by all of
# its targets, so it only leans towards the goal.
W_VOCABULARY = 3.0
W_LABEL = 1.5
W_OFFICIAL = 1.0
W_INDICATOR = 1.0
W_GOAL = 0.5
# A query's description counts half as much as its title; compound parts half as much as whole words.
W_DESCRIPTION = 0.5
W_PART = 0.5
# A vocabulary entry matched as a whole (all its words present) adds the idf of its words once more.
W_PHRASE = 1.0
# Labelled examples: the k most similar ones vote for their targets with their cosine similarity.
EXAMPLE_NEIGHBOURS = 5
EXAMPLE_MIN_SIMILARITY = 0.2
# Similarity is computed over the strongest stems only (query and example; norms stay complete), so that
# a store with thousands of tagged items with long descriptions stays fast; the weak stems change little.
EXAMPLE_STEMS = 24
W_EXAMPLE = 25.0
# Category (EU data theme, Musterdatenkatalog) maps: a nudge, strongest for the first mapped target.
W_THEME = 2.0
# How much the targets of a goal lift each other (sum of the goal's best three targets, times this).
W_GOAL_MASS = 0.15
BM25_K1 = 1.2
BM25_B = 0.5
# Scores are reported as s / (s + SCORE_HALF): 0.5 for a typical clear match, towards 1 for a strong one.
SCORE_HALF = 15.0


@dataclass(frozen=True)
class Suggestion:
    """One suggested target: notation, goal, score in (0, 1), German short title, evidence (matched words/items)."""

    target: str
    goal: str
    score: float
    label_de: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class _Example:
    text: str
    targets: tuple[str, ...]
    vector: dict[str, float]
    norm: float
    # +1 for targets the item was given, -1 for targets staff rejected for it (they vote against).
    sign: float = 1.0


class Suggester:
    """An index over the knowledge; `suggest()` ranks targets for a text. Thread-safe for reading."""

    def __init__(self, knowledge: Knowledge, *, is_word: Callable[[str], bool] | None = None):
        self.knowledge = knowledge
        self.codes = list(knowledge.targets)
        lexicon = lexicon_from(self._knowledge_texts())
        self.analyzer = Analyzer(is_word or _lexicon_and_dictionary(lexicon))
        self._build()
        # The examples and their postings (stem → (example index, weight)), swapped as one pair so that a
        # reader never sees postings of examples it does not have. Similarity only over shared stems.
        self._examples: tuple[list[_Example], dict[str, list[tuple[int, float]]]] = ([], {})
        self._lock = threading.Lock()

    def _knowledge_texts(self) -> Iterable[str]:
        k = self.knowledge
        yield from (t.label_de for t in k.targets.values())
        yield from k.goal_labels.values()
        for terms in k.vocabulary.values():
            yield from terms
        yield from k.official.values()

    def _build(self) -> None:
        k, analyze = self.knowledge, self.analyzer
        docs: list[dict[str, float]] = []
        self.phrases: list[list[tuple[frozenset[str], str]]] = []
        goal_bags = {
            goal: analyze.stems(f"{label} {k.official.get(goal, '')}", W_GOAL, W_PART)
            for goal, label in k.goal_labels.items()
        }
        for code in self.codes:
            target = k.targets[code]
            bag: dict[str, float] = defaultdict(float)
            phrases = []
            for term in k.vocabulary.get(code, []):
                for key, weight in analyze.stems(term, W_VOCABULARY, W_PART).items():
                    bag[key] += weight
                whole = frozenset(stem(w) for w in words(term))
                if whole:
                    phrases.append((whole, term))
            sources = [(target.label_de, W_LABEL), (k.official.get(code, ""), W_OFFICIAL)]
            sources += [(text, W_INDICATOR) for text in k.indicator_texts(code)]
            for text, field_weight in sources:
                for key, weight in analyze.stems(text, field_weight, W_PART).items():
                    bag[key] += weight
            for key, weight in goal_bags.get(target.goal, {}).items():
                bag[key] += weight
            docs.append(dict(bag))
            self.phrases.append(phrases)
        n = len(docs)
        df: dict[str, int] = defaultdict(int)
        for doc in docs:
            for key in doc:
                df[key] += 1
        self.idf = {key: math.log(1 + (n - d + 0.5) / (d + 0.5)) for key, d in df.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        lengths = [sum(doc.values()) for doc in docs]
        average = sum(lengths) / n
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[i] / average)
            for key, tf in doc.items():
                self.postings[key].append((i, self.idf[key] * tf * (BM25_K1 + 1) / (tf + norm)))
        self.phrase_index: dict[str, list[tuple[int, frozenset[str], str]]] = defaultdict(list)
        for i, phrases in enumerate(self.phrases):
            for whole, term in phrases:
                # Index a phrase under its rarest word: it can only match if that word is in the query.
                rarest = max(whole, key=lambda s: self.idf.get(s, self.unknown_idf))
                self.phrase_index[rarest].append((i, whole, term))

    def add_examples(
        self, pairs: Iterable[tuple[str, Iterable[str]] | tuple[str, Iterable[str], str]], *, rejected: bool = False
    ) -> int:
        """Learn from labelled items: (text, target notations) pairs, e.g. a store's tagged projects; an optional
        third element names the item in the evidence (its title). Returns how many were learnt.

        With `rejected=True` the targets are ones staff turned down for the item: similar texts get them
        with a penalty of the same size a tagged item's vote would have (never shown as evidence)."""
        added = []
        for text, targets, *label in pairs:
            known = tuple(t for t in dict.fromkeys(targets) if t in self.knowledge.targets)
            if not known or not text.strip():
                continue
            vector = {key: w * self.idf.get(key, self.unknown_idf) for key, w in self.analyzer.stems(text).items()}
            norm = math.sqrt(sum(v * v for v in vector.values()))
            if norm:
                name = " ".join((label[0] if label and label[0] else text).split())
                shown = name if len(name) <= 80 else name[:79] + "…"
                added.append(_Example(shown, known, vector, norm, -1.0 if rejected else 1.0))
        with self._lock:
            # Copy on write: readers keep using the pair they already hold.
            old, old_postings = self._examples
            postings = {key: list(entries) for key, entries in old_postings.items()}
            for j, example in enumerate(added, start=len(old)):
                for key, weight in _strongest(example.vector):
                    postings.setdefault(key, []).append((j, weight))
            self._examples = ([*old, *added], postings)
        return len(added)

    def without_examples(self) -> Suggester:
        """A suggester sharing this one's index (read only) but no examples: learning another store state
        this way costs the examples alone, not the index build (seconds)."""
        clone = copy.copy(self)
        clone._examples = ([], {})
        clone._lock = threading.Lock()
        return clone

    @property
    def examples(self) -> list[_Example]:
        """The labelled examples learnt so far."""
        return self._examples[0]

    def query_bag(self, title: str, description: str = "", keywords: str = "") -> dict[str, float]:
        """The weighted stems of a query: title and keywords at full weight, the description at half."""
        bag: dict[str, float] = defaultdict(float)
        for text, weight in ((title, 1.0), (keywords, 1.0), (description, W_DESCRIPTION)):
            for key, w in self.analyzer.stems(text, weight, W_PART).items():
                bag[key] += w
        return bag

    def suggest(
        self,
        title: str,
        description: str = "",
        *,
        top: int = 5,
        keywords: str = "",
        theme: str = "",
        category: str = "",
        explain: bool = True,
    ) -> list[Suggestion]:
        """The `top` targets for a text, best first, with the evidence for each.

        >>> [s.target for s in default_suggester().suggest("Ausbau der Radwege im Stadtgebiet", top=1)]
        ['11.2']
        """
        bag = self.query_bag(title, description, keywords)
        scores: dict[int, float] = defaultdict(float)
        evidence: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for key, qw in bag.items():
            for i, contribution in self.postings.get(key, ()):
                scores[i] += qw * contribution
                if explain:
                    evidence[i][key] += qw * contribution
        present = set(bag)
        for key in bag:
            for i, whole, term in self.phrase_index.get(key, ()):
                if whole <= present:
                    scores[i] += W_PHRASE * sum(self.idf.get(s, 0.0) for s in whole)
                    if explain:
                        evidence[i]["»" + term + "«"] += 1e6
        self._add_categories(scores, evidence, theme, category)
        self._add_examples(scores, evidence, bag)
        ranked = self._with_goal_mass(scores)
        surface = self._surface_words(title, description, keywords) if explain else {}
        out = []
        for i, score in ranked[:top]:
            code = self.codes[i]
            target = self.knowledge.targets[code]
            out.append(
                Suggestion(
                    code,
                    target.goal,
                    round(score / (score + SCORE_HALF), 3),
                    target.label_de,
                    _evidence(evidence.get(i, {}), surface),
                )
            )
        return out

    def _add_categories(self, scores, evidence, theme: str, category: str) -> None:
        for scheme, value in (("eu-theme", theme.rsplit("/", 1)[-1]), ("mdk", category.split(" - ")[0])):
            for rank, code in enumerate(self.knowledge.themes.get((scheme, value.strip().lower()), [])):
                i = self.codes.index(code) if code in self.knowledge.targets else -1
                if i >= 0:
                    scores[i] += W_THEME / (rank + 1)
                    evidence[i][f"Kategorie {value.strip()}"] += W_THEME / (rank + 1)

    def _add_examples(self, scores, evidence, bag: dict[str, float]) -> None:
        examples, postings = self._examples
        if not examples:
            return
        vector = {key: w * self.idf.get(key, self.unknown_idf) for key, w in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        if not norm:
            return
        dots: dict[int, float] = defaultdict(float)
        for key, weight in _strongest(vector):
            for j, example_weight in postings.get(key, ()):
                dots[j] += weight * example_weight
        similar = []
        for j, dot in dots.items():
            similarity = dot / (norm * examples[j].norm)
            if similarity >= EXAMPLE_MIN_SIMILARITY:
                similar.append((similarity, j))
        similar.sort(key=lambda pair: (-pair[0], pair[1]))
        for similarity, j in similar[:EXAMPLE_NEIGHBOURS]:
            example = examples[j]
            for code in example.targets:
                i = self.codes.index(code)
                scores[i] += example.sign * W_EXAMPLE * similarity
                if example.sign > 0:
                    evidence[i][f"wie: {example.text}"] += 1e5 * similarity

    def _with_goal_mass(self, scores: dict[int, float]) -> list[tuple[int, float]]:
        by_goal: dict[str, list[float]] = defaultdict(list)
        for i, score in scores.items():
            by_goal[self.knowledge.targets[self.codes[i]].goal].append(score)
        mass = {goal: sum(sorted(values, reverse=True)[:3]) for goal, values in by_goal.items()}
        final = {i: s + W_GOAL_MASS * mass[self.knowledge.targets[self.codes[i]].goal] for i, s in scores.items()}
        return sorted(((i, s) for i, s in final.items() if s > 0), key=lambda pair: (-pair[1], pair[0]))

    def _surface_words(self, *texts: str) -> dict[str, str]:
        surface: dict[str, str] = {}
        for text in texts:
            for word in words(text, keep_case=True):
                lower = word.lower()
                surface.setdefault(stem(lower), word)
                for part in self.analyzer.parts(lower):
                    surface.setdefault(stem(part), part)
        return surface


def _strongest(vector: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(vector.items(), key=lambda pair: -pair[1])[:EXAMPLE_STEMS]


def _lexicon_and_dictionary(lexicon: set[str]) -> Callable[[str], bool]:
    """A compound part is a word of the knowledge or of simplemma's German dictionary (shipped in its wheel).

    Measured on the development data: the knowledge's own words alone split too little (Radverkehrsnetz stays
    whole: "Netz" is only ever part of compounds there); adding the dictionary lifts goal@3 by about 0.03–0.09
    and target@5 by 0.05–0.12 (docs/suggestions.md).
    """

    def is_word(piece: str) -> bool:
        return piece in lexicon or simplemma.is_known(piece, lang="de")

    return is_word


def _evidence(contributions: dict[str, float], surface: dict[str, str], limit: int = 6) -> list[str]:
    """Matched vocabulary entries, similar known items and query words, strongest first, without repeats:
    a word already inside a chosen entry or word (Radwege in »Radwege«) is left out."""
    chosen: list[str] = []
    for key, _ in sorted(contributions.items(), key=lambda pair: -pair[1]):
        text = key[1:-1] if key.startswith("»") else surface.get(key, key)
        if not any(text.lower() in other.lower() for other in chosen):
            chosen.append(text)
    return chosen[:limit]


_default: Suggester | None = None
_default_lock = threading.Lock()


def default_suggester() -> Suggester:
    """The shared suggester over the built-in knowledge (built once, on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Suggester(Knowledge.builtin())
        return _default


def suggest(title: str, description: str = "", *, top: int = 5, **options) -> list[Suggestion]:
    """The `top` SDG targets for a German text, best first, from the built-in knowledge."""
    return default_suggester().suggest(title, description, top=top, **options)
