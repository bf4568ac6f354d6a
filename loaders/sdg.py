"""The built-in SDG taxonomy (`ontology/sdg.ttl`), a resolver for the SDG codes people type, and the loader
that adds the official UN texts (UN SDG KOS, Open SDG translations) to it."""

from __future__ import annotations

import re
import typing
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from loaders.report import LoadResult
from loaders.resources import ONTOLOGY_DIR
from loaders.vocab import QS, RDF, SDG, SDGO, SKOS

TAXONOMY_PATH = ONTOLOGY_DIR / "sdg.ttl"
LANGUAGES = ("de", "en")
TRANSLATION_FILES = ("global_goals.yml", "global_targets.yml", "global_indicators.yml")

ConceptKind = typing.Literal["goal", "target", "indicator"]
_KIND_OF_CLASS: dict[str, ConceptKind] = {
    SDGO.Goal.value: "goal",
    SDGO.Target.value: "target",
    SDGO.Indicator.value: "indicator",
}

# Prefixes people put before a code: "SDG 11.2", "Ziel 11", "sdg:11.2", "Indikator 11.2.1".
_PREFIX = re.compile(r"^(?:sdgs?|ziel|unterziel|zielvorgabe|goal|target|indikator|indicator)\s*[:#-]?", re.IGNORECASE)
# Permanent UN indicator codes: C + goal, target, indicator in two places each (C110201, C010a01).
_PERM_CODE = re.compile(r"c\d{3}[0-9a-z]\d{2}")
# Open SDG translation keys: "11-title", "11-short", "11-2-title", "11-2-1-title".
_TRANSLATION_KEY = re.compile(r"(?P<code>\d{1,2}(?:-[0-9a-z]{1,2}){0,2})-(?P<field>title|short)")

# The loader name the store records for the built-in taxonomy: a graph every store installs itself.
TAXONOMY_LOADER = "sdg-taxonomy"


def _code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order of SDG codes: 11.2 < 11.10 < 11.a, 9 < 10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("."))


def _iri(term: NamedNode | str) -> str:
    return term.value if isinstance(term, NamedNode) else term


def _taxonomy_quads_in_default_graph() -> list[Quad]:
    with TAXONOMY_PATH.open("rb") as handle:
        return list(parse(handle, format=RdfFormat.TURTLE))


def taxonomy_quads(graph: NamedNode) -> list[Quad]:
    """The built-in SDG taxonomy (`ontology/sdg.ttl`) as quads in `graph`."""
    return [Quad(q.subject, q.predicate, q.object, graph) for q in _taxonomy_quads_in_default_graph()]


@cache
def _builtin_index() -> SdgIndex:
    return SdgIndex(_taxonomy_quads_in_default_graph())


class SdgIndex:
    """Kinds, codes, labels and colours of the SDG goals, targets and indicators of one taxonomy."""

    def __init__(self, quads: Iterable[Quad]) -> None:
        kinds: dict[str, ConceptKind] = {}
        notations: dict[str, list[str]] = defaultdict(list)
        labels: dict[tuple[str, str], str] = {}
        colours: dict[str, str] = {}
        for quad in quads:
            if not isinstance(quad.subject, NamedNode):
                continue
            subject, predicate, obj = quad.subject.value, quad.predicate, quad.object
            if predicate == RDF.type and obj.value in _KIND_OF_CLASS:
                kinds[subject] = _KIND_OF_CLASS[obj.value]
            elif predicate == SKOS.notation:
                notations[subject].append(obj.value)
            elif predicate == SKOS.prefLabel and isinstance(obj, Literal) and obj.language:
                labels[(subject, obj.language)] = obj.value
            elif predicate == QS.colour:
                colours[subject] = obj.value
        self._kinds = kinds
        self._notations = {iri: sorted(notations[iri], key=_code_key) for iri in kinds if notations[iri]}
        missing = sorted(set(kinds) - set(self._notations))
        if missing:
            raise ValueError(f"SDG concepts without skos:notation: {', '.join(missing)}")
        self._by_code: dict[str, str] = {}
        for iri, codes in self._notations.items():
            for code in codes:
                if code in self._by_code:
                    raise ValueError(f"SDG code {code} names both {self._by_code[code]} and {iri}")
                self._by_code[code] = iri
        self._labels = labels
        self._colours = colours

    @classmethod
    def builtin(cls) -> SdgIndex:
        """The index of the built-in taxonomy, built once per process."""
        return _builtin_index()

    def resolve(self, text: str) -> NamedNode | None:
        """The concept named by a code ("11.2", "SDG 11.2", "Ziel 11", "11.2.1") or IRI; None if unknown."""
        text = text.strip().strip("<>").strip()
        if text.startswith("https://metadata.un.org/"):
            text = "http://" + text.removeprefix("https://")
        if text in self._kinds:
            return NamedNode(text)
        if "://" in text:
            return None
        code = "".join(_PREFIX.sub("", text, count=1).split()).lower()
        if _PERM_CODE.fullmatch(code):
            iri = SDG["C" + code[1:]].value
            return NamedNode(iri) if iri in self._kinds else None
        parts = code.split(".")
        if not code or len(parts) > 3 or not all(part.isalnum() and part.isascii() for part in parts):
            return None
        # UN "SDGCode" notation pads with zeros ("11.02.01", "12.0a.01"); the taxonomy uses the compact form.
        compact = ".".join(part.lstrip("0") or part for part in parts)
        iri = self._by_code.get(compact)
        return NamedNode(iri) if iri else None

    def kind(self, iri: NamedNode | str) -> ConceptKind:
        """The kind of a concept: "goal", "target" or "indicator"; KeyError for anything else."""
        try:
            return self._kinds[_iri(iri)]
        except KeyError:
            raise KeyError(f"not an SDG goal, target or indicator: {_iri(iri)}") from None

    def notation(self, iri: NamedNode | str) -> str:
        """The code of a concept; for an indicator listed under several targets, its first listing."""
        return self.notations(iri)[0]

    def notations(self, iri: NamedNode | str) -> list[str]:
        """All codes of a concept in natural order (several only for repeated indicators)."""
        self.kind(iri)
        return list(self._notations[_iri(iri)])

    def goal_of(self, iri: NamedNode | str) -> NamedNode:
        """The goal a concept belongs to (itself for a goal; for a repeated indicator, that of its first code)."""
        return NamedNode(self._by_code[self.notation(iri).split(".")[0]])

    def label(self, iri: NamedNode | str, lang: str = "de") -> str:
        """The short title in `lang`, falling back to English, German, then the code."""
        key = _iri(iri)
        self.kind(key)
        for language in (lang, "en", "de"):
            if (key, language) in self._labels:
                return self._labels[(key, language)]
        return self.notation(key)

    def colour(self, iri: NamedNode | str) -> str:
        """The official colour ("#RRGGBB") of the goal, or of the goal a target or indicator belongs to."""
        return self._colours[self.goal_of(iri).value]

    def goals(self) -> list[NamedNode]:
        """The 17 goals in order."""
        return self._of_kind("goal")

    def targets(self, goal: NamedNode | str | None = None) -> list[NamedNode]:
        """All targets in natural order (11.1 … 11.7, 11.a …), or those of one goal."""
        return self._of_kind("target", goal)

    def indicators(self, parent: NamedNode | str | None = None) -> list[NamedNode]:
        """All indicators in order of their first code, or those listed under one goal or target."""
        return self._of_kind("indicator", parent)

    def _of_kind(self, kind: ConceptKind, parent: NamedNode | str | None = None) -> list[NamedNode]:
        prefix = self.notation(parent) + "." if parent is not None else ""
        found = [
            (min((c for c in codes if c.startswith(prefix)), key=_code_key), iri)
            for iri, codes in self._notations.items()
            if self._kinds[iri] == kind and any(c.startswith(prefix) for c in codes)
        ]
        return [NamedNode(iri) for _, iri in sorted(found, key=lambda pair: _code_key(pair[0]))]


@dataclass(frozen=True)
class _Text:
    text: str
    code: str
    file: str
    line: int | None


def load_official_texts(kos_path: Path | None, translations_dir: Path | None, *, graph: NamedNode) -> LoadResult:
    """The official UN texts as `skos:definition` (and, for indicators, `skos:altLabel`) in de and en."""
    result = LoadResult()
    index = SdgIndex.builtin()
    from_translations: dict[tuple[str, str], list[_Text]] = defaultdict(list)
    from_kos: dict[tuple[str, str], str] = {}
    if translations_dir is not None:
        for lang in LANGUAGES:
            for name in TRANSLATION_FILES:
                _read_translations(translations_dir / lang / name, lang, index, from_translations, result)
    if kos_path is not None:
        _read_kos(kos_path, index, from_kos, result)
    if kos_path is None and translations_dir is None:
        result.warn(
            "Keine Quelle für die offiziellen SDG-Texte angegeben.", "No source for the official SDG texts given."
        )

    quads: list[Quad] = []
    concepts: set[str] = set()
    alt_labels = 0
    for concept in index.goals() + index.targets() + index.indicators():
        for lang in LANGUAGES:
            # The translations follow the framework after its 2020 review; the KOS (2020) still carries the
            # 2019 wording of revised indicators, so it only fills gaps.
            text = _pick(from_translations.get((concept.value, lang), []), result)
            text = text or from_kos.get((concept.value, lang))
            if not text:
                continue
            literal = Literal(text, language=lang)
            quads.append(Quad(concept, SKOS.definition, literal, graph))
            if index.kind(concept) == "indicator":
                quads.append(Quad(concept, SKOS.altLabel, literal, graph))
                alt_labels += 1
            concepts.add(concept.value)
    result.graphs = {graph.value: quads}
    result.counts = {"definitions": len(quads) - alt_labels, "alt_labels": alt_labels, "concepts": len(concepts)}
    return result


def _pick(texts: list[_Text], result: LoadResult) -> str | None:
    if not texts:
        return None
    texts = sorted(texts, key=lambda t: _code_key(t.code))
    if len({t.text for t in texts}) > 1:
        codes = ", ".join(t.code for t in texts)
        result.warn(
            f"Unterschiedliche Texte für denselben Indikator ({codes}); verwendet wird der von {texts[0].code}.",
            f"Different texts for the same indicator ({codes}); the one of {texts[0].code} is used.",
            file=texts[0].file,
            row=texts[0].line,
        )
    return texts[0].text


def _read_translations(
    path: Path,
    lang: str,
    index: SdgIndex,
    texts: dict[tuple[str, str], list[_Text]],
    result: LoadResult,
) -> None:
    where = str(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.error(f"Datei nicht gefunden: {path}", f"File not found: {path}", file=where)
        return
    except (OSError, UnicodeDecodeError) as exc:
        result.error(f"Datei nicht lesbar: {exc}", f"Cannot read the file: {exc}", file=where)
        return
    try:
        root = yaml.compose(content, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        result.error(
            f"Kein gültiges YAML: {exc}",
            f"Not valid YAML: {exc}",
            file=where,
            row=mark.line + 1 if mark else None,
        )
        return
    if root is None:
        result.warn("Die Datei ist leer.", "The file is empty.", file=where)
        return
    if not isinstance(root, yaml.MappingNode):
        result.error(
            "Erwartet wird eine Zuordnung von Schlüsseln wie „11-2-title“ zu Texten.",
            "Expected a mapping of keys like '11-2-title' to texts.",
            file=where,
            row=root.start_mark.line + 1,
        )
        return
    seen: set[str] = set()
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        if key in seen:
            result.warn(
                f"Schlüssel „{key}“ kommt mehrfach vor; der spätere Text gilt.",
                f"Key '{key}' occurs more than once; the later text wins.",
                file=where,
                row=line,
                column=key,
            )
        seen.add(key)
        match = _TRANSLATION_KEY.fullmatch(key)
        if not match:
            result.warn(
                f"Unbekannter Schlüssel „{key}“ wird ignoriert.",
                f"Unknown key '{key}' is ignored.",
                file=where,
                row=line,
                column=key,
            )
            continue
        # Goal short names are close to the taxonomy's own prefLabels; as altLabels they would clash (SKOS S13).
        if match["field"] == "short":
            continue
        code = match["code"].replace("-", ".")
        concept = index.resolve(code)
        if concept is None:
            result.warn(
                f"Schlüssel „{key}“ nennt den Code {code}, den die SDG-Taxonomie nicht kennt; ignoriert.",
                f"Key '{key}' names the code {code}, which the SDG taxonomy does not know; ignored.",
                file=where,
                row=line,
                column=key,
            )
            continue
        text = " ".join(str(value_node.value).split()) if isinstance(value_node, yaml.ScalarNode) else ""
        if not text:
            result.warn(
                f"Schlüssel „{key}“ hat keinen Text.",
                f"Key '{key}' has no text.",
                file=where,
                row=line,
                column=key,
            )
            continue
        texts[(concept.value, lang)].append(_Text(text, code, where, line))


def _read_kos(path: Path, index: SdgIndex, texts: dict[tuple[str, str], str], result: LoadResult) -> None:
    where = str(path)
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    definitions: dict[tuple[str, str], list[str]] = defaultdict(list)
    typed: set[str] = set()
    try:
        with path.open("rb") as handle:
            for quad in parse(handle, format=RdfFormat.TURTLE):
                subject, predicate, obj = quad.subject, quad.predicate, quad.object
                if not isinstance(subject, NamedNode):
                    continue
                if predicate == RDF.type and obj.value in _KIND_OF_CLASS:
                    typed.add(subject.value)
                elif isinstance(obj, Literal) and obj.language in LANGUAGES:
                    if predicate == SKOS.prefLabel:
                        labels[(subject.value, obj.language)].append(obj.value)
                    elif predicate == SKOS.definition:
                        definitions[(subject.value, obj.language)].append(obj.value)
    except FileNotFoundError:
        result.error(f"Datei nicht gefunden: {path}", f"File not found: {path}", file=where)
        return
    except OSError as exc:
        result.error(f"Datei nicht lesbar: {exc}", f"Cannot read the file: {exc}", file=where)
        return
    except SyntaxError as exc:
        result.error(f"Kein gültiges Turtle: {exc.msg}", f"Not valid Turtle: {exc.msg}", file=where, row=exc.lineno)
        return
    known = {iri for iri in typed if _known(index, iri)}
    unknown = sorted(typed - known)
    if unknown:
        listed = ", ".join(unknown)
        result.warn(
            f"{len(unknown)} Begriffe fehlen in der SDG-Taxonomie (gestrichen oder zusammengelegt); ignoriert: {listed}",
            f"{len(unknown)} concepts are not in the SDG taxonomy (deleted or merged); ignored: {listed}",
            file=where,
        )
    # In the UN KOS the official text is the prefLabel; a definition, where present, is the fallback.
    for source in (definitions, labels):
        for (iri, lang), values in source.items():
            if _known(index, iri):
                texts[(iri, lang)] = " ".join(sorted(values)[0].split())


def _known(index: SdgIndex, iri: str) -> bool:
    try:
        index.kind(iri)
    except KeyError:
        return False
    return True
