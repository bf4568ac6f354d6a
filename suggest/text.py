"""German text analysis for suggestions: tokens, Snowball stems and compound parts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import Stemmer

# Words that say nothing about a topic: articles, pronouns, prepositions, auxiliaries, and the fillers of
# titles ("Ausbau der …", "im Stadtgebiet"). Compared after lower-casing, before stemming.
_STOPWORD_TEXT = """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf aus bei beim bin
    bis bist da damit dann das dass dem den denen der deren des dessen die dies diese diesem diesen dieser dieses doch
    dort du durch ein eine einem einen einer eines einige er es etwa etwas euch für gegen gewesen hab habe haben hat
    hatte hier hin ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist ja jede jedem jeden jeder jedes jedoch
    kann kein keine können man mehr mit muss nach nicht noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
    sich sie sind so solche soll sollen sondern sowie über um und uns unser unter vom von vor war waren was weil
    welche welcher wenn werden wie wir wird wo wurde wurden zu zum zur zwischen bzw ca usw sowohl insbesondere
    gemäß je pro per z b d h u a neu neue neuen neuer neues rund sowie
    the of and for in on to a an by with from at or as is are be this that
"""
# Words of dataset and project titles that name the form, place or time, not the topic ("Standorte der …",
# "… im Stadtgebiet", "Liste der …"): as whole words and as compound parts they would pull towards whichever
# target happens to use them (Standort → Wirtschaftsstandort → 8.3).
_GENERIC_TEXT = """
    standort standorte daten datensatz datensätze liste listen übersicht verzeichnis stadtgebiet gemeindegebiet
    kreisgebiet stadt städte gemeinde gemeinden landkreis landkreise kreis kreise jahr jahre jahren jahres stand
    aktuell aktuelle gesamt gesamtstadt ortsteil ortsteile stadtteil stadtteile kommunal kommunale kommunalen
    kommunaler kommunales städtisch städtische städtischen städtischer städtisches
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split()) | frozenset(_GENERIC_TEXT.split())
_WORD = re.compile(r"[0-9a-zäöüß]+", re.IGNORECASE)
# Linking elements (Fugen) that join the parts of a German compound: Verkehr-s-netz, Kinder-garten, Straße-n-bahn.
_LINKS = ("", "s", "es", "n", "en", "e", "er")
MIN_PART = 3
# Longer "words" are not split: real compounds are shorter, and the split is quadratic in the length.
MAX_SPLIT = 40
# The per-analyzer memo of splits is dropped when it grows past this (queries bring new words forever).
_CACHE_LIMIT = 100_000

_stemmer = Stemmer.Stemmer("german")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (German) stem of one lower-case word; umlauts folded (Wärme → warm)."""
    return _stemmer.stemWord(word)


def words(text: str, *, keep_case: bool = False) -> list[str]:
    """The lower-case words of a text (hyphenated words come apart: E-Mobilität → e, mobilität)."""
    found = (m.group() for m in _WORD.finditer(text))
    return [w if keep_case else w.lower() for w in found if w.lower() not in STOPWORDS and not w.isdigit()]


class Analyzer:
    """Turns text into weighted stems; splits compounds into parts that a lexicon knows."""

    def __init__(self, is_word: Callable[[str], bool]):
        self.is_word = is_word
        self._cache: dict[str, tuple[str, ...]] = {}

    def parts(self, word: str) -> tuple[str, ...]:
        """The parts of a compound (Radverkehrsnetz → rad, verkehr, netz); () for a word that is not one."""
        cached = self._cache.get(word)
        if cached is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache = {}
            cached = self._cache[word] = self._split(word)
        return cached

    def _split(self, word: str) -> tuple[str, ...]:
        n = len(word)
        if n < 2 * MIN_PART or n > MAX_SPLIT:
            return ()
        # best[i]: the fewest known pieces covering word[:i] (ties: the longer last piece wins).
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            head = best[i]
            if head is None:
                continue
            for j in range(i + MIN_PART, n + 1):
                if i == 0 and j == n:
                    continue
                piece = word[i:j]
                if not self.is_word(piece):
                    continue
                for link in _LINKS:
                    k = j + len(link)
                    if k > n or (link and not word.startswith(link, j)) or (link and k == n):
                        continue
                    candidate = [*head, piece]
                    current = best[k]
                    if current is None or len(candidate) < len(current):
                        best[k] = candidate
        pieces = best[n]
        if not pieces or len(pieces) < 2:
            return ()
        out: list[str] = []
        for piece in pieces:
            out.append(piece)
            out.extend(self.parts(piece))
        return tuple(dict.fromkeys(out))

    def stems(self, text: str, weight: float = 1.0, part_weight: float = 0.5) -> dict[str, float]:
        """Stems of a text with weights: whole words count `weight`, compound parts `weight * part_weight`."""
        bag: dict[str, float] = {}
        for word in words(text):
            key = stem(word)
            bag[key] = bag.get(key, 0.0) + weight
            for part in self.parts(word):
                if part in STOPWORDS:
                    continue
                key = stem(part)
                bag[key] = bag.get(key, 0.0) + weight * part_weight
        return bag

    def terms(self, text: str) -> frozenset[str]:
        """The set of stems of a short text (a vocabulary entry), parts included."""
        return frozenset(self.stems(text))


def lexicon_from(texts: Iterable[str]) -> set[str]:
    """The lower-case words of the given texts, to recognise compound parts by."""
    known: set[str] = set()
    for text in texts:
        known.update(w for w in words(text) if len(w) >= MIN_PART)
    return known
