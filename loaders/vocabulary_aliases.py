"""Licence ids and data themes as real portals write them, normalised to the dcat-ap.de licence ids and EU data themes.

Real catalogs spell the same licence many ways (`dl-zero-de/2_0`, `DL-DE-ZERO-2.0`, `https://www.dcat-ap.de/def/
licenses/dl-zero-de/2.0/`) and still tag datasets with GovData's old OGD categories ("Bevölkerung",
"Umwelt und Klima"). A value is normalised when exactly one known id has the same letters and digits
(separators, case and URL prefixes do not count); the old categories map to EU data themes as
GovData's own migration did (ckanext-dcatde, `examples/category_mapping.json`); categories that mapping
leaves without a theme ("Verbraucherschutz", "Geographie …", "Infrastruktur …") give none.
"""

from __future__ import annotations

import re
import unicodedata

from loaders.sheets import LICENSE_ALIASES, LICENSES, THEMES

_LICENSE_PREFIXES = re.compile(r"^(?:https?://)?(?:www\.)?dcat-ap\.de/def/licenses/", re.IGNORECASE)


def squash(text: str) -> str:
    """Letters and digits only, lower case, umlauts spelt out: the form in which spellings are compared."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]", "", text)


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Squashed spelling → id, leaving out spellings that two different ids share."""
    found: dict[str, set[str]] = {}
    for spelling, ident in pairs:
        found.setdefault(squash(spelling), set()).add(ident)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


_LICENSES = _unique([(lic, lic) for lic in LICENSES] + list(LICENSE_ALIASES.items()))


def license_id(text: str) -> str | None:
    """The dcat-ap.de licence id `text` means (an id in any spelling, or its IRI), else None."""
    return _LICENSES.get(squash(_LICENSE_PREFIXES.sub("", text.strip()).strip("/")))


# GovData's OGD categories (id, German label) → EU data themes, after ckanext-dcatde's category_mapping.json.
OGD_CATEGORIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("bevoelkerung", "Bevölkerung"): ("SOCI",),
    ("bildung_wissenschaft", "Bildung und Wissenschaft"): ("EDUC", "TECH"),
    ("geo", "Geographie, Geologie und Geobasisdaten"): (),
    ("gesetze_justiz", "Gesetze und Justiz"): ("JUST",),
    ("gesundheit", "Gesundheit"): ("HEAL",),
    ("infrastruktur_bauen_wohnen", "Infrastruktur, Bauen und Wohnen"): (),
    ("kultur_freizeit_sport_tourismus", "Kultur, Freizeit, Sport und Tourismus"): ("EDUC",),
    ("politik_wahlen", "Politik und Wahlen"): ("GOVE",),
    ("soziales", "Soziales"): ("SOCI",),
    ("transport_verkehr", "Transport und Verkehr"): ("TRAN",),
    ("umwelt_klima", "Umwelt und Klima"): ("ENVI",),
    ("verbraucher", "Verbraucherschutz"): (),
    ("verwaltung", "Öffentliche Verwaltung, Haushalt und Steuern"): ("GOVE",),
    ("wirtschaft_arbeit", "Wirtschaft und Arbeit"): ("ECON",),
}
_THEMES = _unique([(code, code) for code in THEMES] + [(label, code) for code, label in THEMES.items()])
_CATEGORIES = {squash(form): themes for (ident, label), themes in OGD_CATEGORIES.items() for form in (ident, label)}
_EU_THEME_IRI = re.compile(r"^https?://publications\.europa\.eu/resource/authority/data-theme/", re.IGNORECASE)
_OGD_IRI = re.compile(
    r"^https?://(?:www\.)?dcat-ap\.de/def/(?:dcatde/)?(?:\d\.\d/)?(?:ogd-?)?categor\w*/", re.IGNORECASE
)


def themes_for(text: str) -> tuple[str, ...] | None:
    """The EU data themes `text` means: an EU theme (code, label or IRI), or an old OGD category; None if unknown.

    An empty tuple means a known OGD category that has no EU theme.
    """
    value = _OGD_IRI.sub("", _EU_THEME_IRI.sub("", text.strip())).strip("/")
    key = squash(value)
    if key in _THEMES:
        return (_THEMES[key],)
    return _CATEGORIES.get(key)
