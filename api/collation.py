"""German sort order for names, as a German reader expects it: `ÖPNV` under O, not after Z.

ICU's collation for German (CLDR `de`, DIN 5007-1: umlauts sort as their base letter, `ß` as `ss`,
case and accents only break ties), with numeric ordering so that "Projekt 2" comes before "Projekt 10".
`str.lower()` and `casefold()` compare code points, which puts every Ä, Ö and Ü after Z. Every list of
names the service sorts uses `sort_key`.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import icu

_LOCAL = threading.local()


def _collator() -> icu.Collator:
    # An ICU collator keeps state while it compares, so each thread gets its own.
    collator = getattr(_LOCAL, "collator", None)
    if collator is None:
        collator = icu.Collator.createInstance(icu.Locale("de_DE"))
        collator.setAttribute(icu.UCollAttribute.NUMERIC_COLLATION, icu.UCollAttributeValue.ON)
        _LOCAL.collator = collator
    return collator


@lru_cache(maxsize=50_000)
def sort_key(text: str) -> bytes:
    """The German collation key of `text`, for `sorted(..., key=...)`.

    >>> sorted(["Zollamt", "ÖPNV-Haltestellen", "Ordnungsamt", "Projekt 10", "Projekt 2"], key=sort_key)
    ['ÖPNV-Haltestellen', 'Ordnungsamt', 'Projekt 2', 'Projekt 10', 'Zollamt']
    """
    return _collator().getSortKey(text)
