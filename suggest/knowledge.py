"""The suggestion engine's knowledge: the SDG taxonomy, the curated vocabulary, category maps, official texts."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from loaders.sdg import SdgIndex

DATA_DIR = Path(__file__).parent / "data"
VOCABULARY_PATH = DATA_DIR / "vocabulary-de.tsv"
THEMES_PATH = DATA_DIR / "themes.tsv"
_KEY = re.compile(r"^(?P<code>\d{1,2}(?:-[0-9a-z]{1,2}){0,2})-title$")


@dataclass(frozen=True)
class Target:
    """One SDG target as the engine sees it: notation, goal notation, German and English short titles."""

    code: str
    goal: str
    label_de: str
    label_en: str


@dataclass
class Knowledge:
    """Everything the engine ranks with; build it with `Knowledge.builtin()` and add official texts if loaded."""

    targets: dict[str, Target]
    goal_labels: dict[str, str]
    vocabulary: dict[str, list[str]]
    themes: dict[tuple[str, str], list[str]]
    # Official German texts by notation: goals ("11"), targets ("11.2"), indicators ("11.2.1").
    official: dict[str, str] = field(default_factory=dict)

    @classmethod
    def builtin(cls, official: dict[str, str] | None = None) -> Knowledge:
        """The taxonomy, vocabulary and category maps shipped with Querschnitt (plus `official` texts if given)."""
        targets, goals = _taxonomy()
        return cls(dict(targets), dict(goals), read_vocabulary(), read_themes(), dict(official or {}))

    def indicator_texts(self, target: str) -> list[str]:
        """The official texts of the indicators listed under `target` (11.2 → 11.2.1)."""
        prefix = target + "."
        return [text for code, text in self.official.items() if code.startswith(prefix)]


@cache
def _taxonomy() -> tuple[tuple[tuple[str, Target], ...], tuple[tuple[str, str], ...]]:
    index = SdgIndex.builtin()
    targets = []
    for iri in index.targets():
        code = index.notation(iri)
        goal = index.notation(index.goal_of(iri))
        targets.append((code, Target(code, goal, index.label(iri, "de"), index.label(iri, "en"))))
    goals = tuple((index.notation(iri), index.label(iri, "de")) for iri in index.goals())
    return tuple(targets), goals


def read_vocabulary(path: Path = VOCABULARY_PATH) -> dict[str, list[str]]:
    """The curated vocabulary: target notation → German terms."""
    vocabulary: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, terms = line.partition("\t")
        vocabulary.setdefault(code.strip(), []).extend(t.strip() for t in terms.split(";") if t.strip())
    return vocabulary


def read_themes(path: Path = THEMES_PATH) -> dict[tuple[str, str], list[str]]:
    """Category maps: (scheme, lower-case code or label) → target notations, most likely first."""
    themes: dict[tuple[str, str], list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader((line for line in handle if line.strip() and not line.startswith("#")), delimiter="\t"):
            scheme, code, targets = row
            themes[(scheme, code.strip().lower())] = targets.split()
    return themes


def read_open_sdg_texts(directory: Path, lang: str = "de") -> dict[str, str]:
    """Official texts from an Open SDG translations folder (`{lang}/global_*.yml`): notation → text."""
    base = directory / lang if (directory / lang).is_dir() else directory
    texts: dict[str, str] = {}
    for name in ("global_goals.yml", "global_targets.yml", "global_indicators.yml"):
        path = base / name
        if not path.exists():
            continue
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            match = _KEY.match(str(key))
            if match and isinstance(value, str):
                texts[match["code"].replace("-", ".")] = " ".join(value.split())
    return texts
