"""Many items at once: read them from CSV and rank targets for each, as rows of `id,rank,target,goal,score`."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from suggest.engine import Suggester

COLUMNS = ("id", "rank", "target", "goal", "score")
INPUT_COLUMNS = ("id", "title", "description", "keywords", "theme", "category")


class InputError(ValueError):
    """An input file a user has to fix; the message says what is wrong and where."""


@dataclass(frozen=True)
class Item:
    """One thing to suggest targets for, as read from an input row."""

    id: str
    title: str
    description: str = ""
    keywords: str = ""
    theme: str = ""
    category: str = ""


def read_items(path: Path) -> list[Item]:
    """Items from a CSV file with a header (`id`, `title`; optional description, keywords, theme, category).

    The delimiter may be `,` or `;` (as spreadsheet programs write it in German locales); UTF-8, BOM allowed.
    """
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [name for name in ("id", "title") if name not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(INPUT_COLUMNS)}")
    items = []
    for row in reader:
        values = {name: (row.get(header[name]) or "").strip() for name in INPUT_COLUMNS if name in header}
        if not values["id"]:
            raise InputError(f"{path}, row {reader.line_num}: empty id")
        items.append(Item(**values))
    return items


def rank_rows(suggester: Suggester, items: Iterable[Item], *, top: int = 5) -> Iterator[dict[str, str | int | float]]:
    """One row per (item, rank): id, rank (1 best), target notation, goal notation, score."""
    for item in items:
        found = suggester.suggest(
            item.title,
            item.description,
            top=top,
            keywords=item.keywords,
            theme=item.theme,
            category=item.category,
            explain=False,
        )
        for rank, suggestion in enumerate(found, start=1):
            yield {
                "id": item.id,
                "rank": rank,
                "target": suggestion.target,
                "goal": suggestion.goal,
                "score": suggestion.score,
            }
