"""Reference vocabularies of data categories (the Musterdatenkatalog, SKOS): a category found by IRI, label or path.

Many German portals tag datasets with the Musterdatenkatalog's categories, which staff write as the
German label ("Fläche - Grünfläche und Grünflächenkataster"), its last part ("Grünfläche und
Grünflächenkataster") when that is unique, the English label, the IRI, or the IRI's path
("floraUndFauna/flaeche/gruenflaecheUndGruenflaechenkataster"). Spellings are compared by their letters
and digits (case, umlauts and separators do not count); a spelling two concepts share resolves to none.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad
from rapidfuzz import fuzz, process

from loaders.vocab import DCAT, DCT, RDF, SKOS
from loaders.vocabulary_aliases import squash

MUSTERDATENKATALOG = NamedNode("https://musterdatenkatalog.de/def/musterdatensatz/Musterdatenkatalog")
# Every category IRI of the Musterdatenkatalog starts so, also those of older versions a portal may still
# publish (Hamburg's `…/abfallwirtschaft/abfallkalender`, V4 `…/abfallentsorgung/abfallkalender`).
MUSTERDATENKATALOG_NS = "https://musterdatenkatalog.de/def/musterdatensatz/"


class CategoryIndex:
    """The concepts of SKOS schemes, each with the spellings staff and portals use for it."""

    def __init__(self, concepts: dict[str, list[str]]):
        self.labels = {iri: labels[0] if labels else iri for iri, labels in concepts.items()}
        spellings: dict[str, set[str]] = {}
        for iri, labels in concepts.items():
            forms = [iri, iri.rsplit("/musterdatensatz/", 1)[-1], *labels]
            forms += [label.rsplit(" - ", 1)[-1] for label in labels if " - " in label]
            for form in forms:
                spellings.setdefault(squash(form), set()).add(iri)
        self._by_spelling = {key: next(iter(iris)) for key, iris in spellings.items() if key and len(iris) == 1}

    @classmethod
    def from_quads(
        cls, quads: Iterable[Quad], *, schemes: Iterable[NamedNode] = (MUSTERDATENKATALOG,)
    ) -> CategoryIndex:
        """The concepts `quads` put into one of `schemes` (`skos:inScheme`), with their preferred labels."""
        wanted = set(schemes)
        in_scheme: set = set()
        labels: dict[str, list[str]] = {}
        concepts: set = set()
        for q in quads:
            if q.predicate == SKOS.inScheme and q.object in wanted:
                in_scheme.add(q.subject)
            elif q.predicate == RDF.type and q.object == SKOS.Concept:
                concepts.add(q.subject)
            elif q.predicate == SKOS.prefLabel and isinstance(q.object, Literal):
                # German first: staff write the German label; the English one is a further spelling.
                entry = labels.setdefault(q.subject.value, [])
                entry.insert(0 if q.object.language == "de" else len(entry), q.object.value)
        found = {c.value: labels.get(c.value, []) for c in in_scheme & concepts if isinstance(c, NamedNode)}
        return cls(found)

    def __len__(self) -> int:
        return len(self.labels)

    def resolve(self, text: str) -> str | None:
        """The IRI of the one concept `text` names, else None."""
        return self._by_spelling.get(squash(text.strip()))

    def closest(self, text: str, *, limit: int = 3) -> list[str]:
        """German labels of the concepts most like `text`, best first (for error messages)."""
        ranked = process.extract(text.strip(), self.labels, scorer=fuzz.WRatio, limit=limit)
        return [label for label, _, _ in ranked]


# Where portals put a dataset's Musterdatenkatalog category: DCAT-AP.de's dct:references (Konventionenhandbuch
# 1.10.1, the Hamburg reference dataset), and dcat:theme or dct:subject in some portals.
CATEGORY_PROPERTIES = (DCT.references, DCAT.theme, DCT.subject)


def unknown_categories(quads: Iterable[Quad], index: CategoryIndex) -> dict[str, tuple[int, str | None]]:
    """Musterdatenkatalog IRIs `quads` name as categories that `index` does not hold (an older version's),
    each with its count and the concept of `index` its last part names, if exactly one."""
    found: dict[str, int] = {}
    for q in quads:
        if q.predicate in CATEGORY_PROPERTIES and isinstance(q.object, NamedNode):
            iri = q.object.value
            if iri.startswith(MUSTERDATENKATALOG_NS) and iri not in index.labels:
                found[iri] = found.get(iri, 0) + 1
    return {iri: (count, index.resolve(iri.rsplit("/", 1)[-1])) for iri, count in found.items()}
