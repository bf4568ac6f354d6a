"""Resolving department names as staff and portals actually write them to the departments of the organisation chart.

A portal says "Stadtplanungsamt" where the chart says "Stadtplanung", "Amt f. Umwelt" where it says
"Amt für Umwelt", "Amt für Umwelt- und Klimaschutz (Umweltamt)" where it has only the short form, or
the KGSt number "61". Exact forms (id, name, alias) resolve silently; every other form resolves only
when exactly one department fits, and says how (the caller warns, naming the chosen department); an
ambiguous or unknown name resolves to nothing and lists the closest candidates (the caller refuses).

The steps, strictest first: id, name or alias; KGSt number; the short form in parentheses, or what
follows an organisation prefix ("Stadt Musterstadt – Tiefbauamt"); the name's key (case, umlauts,
abbreviations, generic words such as "Amt für" removed, words stemmed (Snowball), hyphenated
coordinations expanded); a longer name whose key words contain exactly one department's; then
fuzzy similarity of keys (rapidfuzz), accepted only when clearly ahead of the runner-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import Stemmer
from rapidfuzz import fuzz, process

# Exact forms: nothing to report. Everything else is a guess the caller reports.
EXACT = frozenset({"id", "name", "alias"})
FUZZY_ACCEPT = 88.0
FUZZY_MARGIN = 6.0

_ABBREVIATIONS = {"f": "für", "d": "der", "u": "und", "abt": "abteilung", "ref": "referat", "fb": "fachbereich"}
_GENERIC = frozenset(
    [
        "amt",
        "ämter",
        "amtes",
        "für",
        "fuer",
        "der",
        "die",
        "das",
        "des",
        "dem",
        "den",
        "und",
        "sowie",
        "von",
        "im",
        "in",
        "am",
        "zur",
        "zum",
        "fachbereich",
        "fachdienst",
        "abteilung",
        "referat",
        "dezernat",
        "stabsstelle",
        "sachgebiet",
        "fachgebiet",
        "bereich",
        "dienststelle",
        "team",
        "stadt",
        "gemeinde",
        "kreis",
        "landkreis",
        "stadtverwaltung",
        "verwaltung",
        "büro",
        "buero",
    ]
)
_NUMBER = re.compile(r"^(?:(?:amt|fb|fachbereich|referat|dezernat|abteilung)\.?\s*)?(\d{1,3}(?:\.\d{1,2})?)\b")
_PARENTHESES = re.compile(r"\(([^()]+)\)")
_PREFIX_SEPARATOR = re.compile(r"\s[-–—|:/]\s|,\s")
# "Tiefbau- und Verkehrsamt" → "Tiefbauamt und Verkehrsamt": the hyphen stands for the shared last part.
_COORDINATION = re.compile(r"(\w+)-\s+(und|oder|sowie|u\.)\s+(\w+?)(amt|ämter|wesen|planung|verwaltung|behörde)\b")
# Snowball's German stemmer folds plurals, the linking -s of compounds ("Planungsamt") and umlaut spellings.
_STEMMER = Stemmer.Stemmer("german")


@dataclass(frozen=True)
class Department:
    """A department of the chart: its IRI, id, name, further names staff use, and its KGSt number if known."""

    iri: str
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    number: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The department a text names (`iri`, None when ambiguous or unknown), how it was found, and candidates."""

    iri: str | None
    how: str
    candidates: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return self.iri is not None and self.how in EXACT


class DepartmentNames:
    """The departments of one chart, ready to resolve the names others write for them."""

    def __init__(self, departments: Iterable[Department]):
        self.departments = {d.iri: d for d in departments}
        self._exact: dict[str, dict[str, set[str]]] = {"id": defaultdict(set), "name": defaultdict(set)}
        self._exact["alias"] = defaultdict(set)
        self._numbers: dict[str, set[str]] = defaultdict(set)
        self._keys: dict[str, set[str]] = defaultdict(set)
        self._words: dict[str, frozenset[str]] = {}
        for d in self.departments.values():
            self._exact["id"][_plain(d.id)].add(d.iri)
            self._exact["name"][_plain(d.name)].add(d.iri)
            for alias in d.aliases:
                self._exact["alias"][_plain(alias)].add(d.iri)
            for number in filter(None, (d.number, _number_of(d.id), _number_of(d.name))):
                self._numbers[number].add(d.iri)
            for form in (d.name, *d.aliases):
                words = key_words(form)
                if words:
                    self._keys[" ".join(sorted(words))].add(d.iri)
                    self._words.setdefault(d.iri, words)

    def resolve(self, text: str) -> Resolution:
        """The one department `text` names, and how; or None with the closest candidates' names."""
        plain = _plain(text)
        if not plain:
            return Resolution(None, "empty")
        for how in ("id", "name", "alias"):
            found = self._exact[how].get(plain, set())
            if len(found) == 1:
                return Resolution(next(iter(found)), how)
        number = _number_of(text)
        if number and len(self._numbers.get(number, ())) == 1:
            return Resolution(next(iter(self._numbers[number])), "number")
        for form, how in _shorter_forms(text):
            # The short form itself, or what follows the organisation's name, written exactly: not a guess.
            exact = self._exact["name"].get(_plain(form), set()) | self._exact["alias"].get(_plain(form), set())
            if len(exact) == 1:
                return Resolution(next(iter(exact)), "name")
            inner = self.resolve_key(form)
            if inner is not None:
                return Resolution(inner, how)
        found_key = self.resolve_key(text)
        if found_key is not None:
            return Resolution(found_key, "variant")
        contained = self._contained(key_words(text))
        if len(contained) == 1:
            return Resolution(contained[0], "contained")
        if len(contained) > 1:
            return Resolution(None, "ambiguous", tuple(self._name(i) for i in contained))
        return self._fuzzy(text)

    def resolve_key(self, text: str) -> str | None:
        """The one department whose name (or alias, or id) has the same key as `text`, else None."""
        found = self._exact["id"].get(_plain(text), set()) | self._exact["name"].get(_plain(text), set())
        found |= self._exact["alias"].get(_plain(text), set())
        if len(found) != 1:
            words = key_words(text)
            found = self._keys.get(" ".join(sorted(words)), set()) if words else set()
        return next(iter(found)) if len(found) == 1 else None

    def closest(self, text: str, *, limit: int = 3) -> list[str]:
        """Names of the departments most like `text`, best first (for error messages)."""
        choices = {iri: " ".join(sorted(words)) for iri, words in self._words.items()}
        query = " ".join(sorted(key_words(text))) or _plain(text)
        ranked = process.extract(query, choices, scorer=fuzz.WRatio, limit=limit)
        return [self._name(iri) for _, _, iri in ranked]

    def _contained(self, words: frozenset[str]) -> list[str]:
        # Every department whose key words all appear in the text; a department whose words are a strict
        # subset of another's found one is dropped ("Verkehr" inside "Verkehrsplanung und Verkehr").
        if not words:
            return []
        hits = [iri for iri, own in self._words.items() if own and own <= words]
        return sorted(i for i in hits if not any(self._words[i] < self._words[j] for j in hits))

    def _fuzzy(self, text: str) -> Resolution:
        choices = {iri: " ".join(sorted(words)) for iri, words in self._words.items()}
        query = " ".join(sorted(key_words(text)))
        if not query or not choices:
            return Resolution(None, "unknown", tuple(self.closest(text)))
        ranked = process.extract(query, choices, scorer=fuzz.WRatio, limit=2)
        best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best[1] >= FUZZY_ACCEPT and best[1] - runner_up >= FUZZY_MARGIN:
            return Resolution(best[2], "fuzzy")
        return Resolution(None, "unknown", tuple(self._name(iri) for _, _, iri in ranked))

    def _name(self, iri: str) -> str:
        return self.departments[iri].name


def key_words(text: str) -> frozenset[str]:
    """The distinctive words of a department name: lower case, generic words and -amt removed, stemmed."""
    text = _PARENTHESES.sub(" ", unicodedata.normalize("NFKC", text)).casefold()
    text = _COORDINATION.sub(lambda m: f"{m[1]}{m[4]} und {m[3]}{m[4]}", text)
    words = []
    for raw in re.findall(r"[^\W\d_]+\.?", text):
        word = _ABBREVIATIONS.get(raw.rstrip("."), raw.rstrip("."))
        if word in _GENERIC:
            continue
        for suffix in ("ämter", "amtes", "amt"):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                word = word[: -len(suffix)]
                break
        if word not in _GENERIC:
            words.append(_STEMMER.stemWord(word))
    return frozenset(words)


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _number_of(text: str) -> str | None:
    match = _NUMBER.match(_plain(text))
    return match[1] if match else None


def _shorter_forms(text: str) -> Iterable[tuple[str, str]]:
    """The short form in parentheses and the long form without it; what follows an organisation prefix."""
    for match in _PARENTHESES.finditer(text):
        yield match[1], "short form"
    without = _PARENTHESES.sub(" ", text).strip()
    if without != text.strip():
        yield without, "long form"
    for match in _PREFIX_SEPARATOR.finditer(text):
        rest = text[match.end() :].strip()
        if rest:
            yield rest, "after prefix"
