"""The staff spreadsheet loader: departments, people, projects, datasets, indicators and strategy → quads.

Reading and writing workbooks lives in `loaders.sheets`; this module validates rows and maps them to
the model in docs/model.md, and maps a graph back to rows (`export_rows`) for round trips.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyoxigraph import Dataset, Literal, NamedNode, Quad, Store

from loaders.categories import MUSTERDATENKATALOG_NS, CategoryIndex
from loaders.department_names import Department, DepartmentNames
from loaders.report import LoadResult
from loaders.sheets import (
    FORMAT_ALIASES,
    FORMATS,
    FREQUENCIES,
    FREQUENCY_ALIASES,
    LEVELS,
    NO,
    SHEETS,
    STATUSES,
    YEAR_RE,
    YES,
    Row,
    Sheets,
    norm,
    read_sheets,
    sheets_from_rows,
    write_sheets,
    write_template,
)
from loaders.vocab import (
    ADMS_PUBLISHER_TYPE,
    DCAT,
    DCATDE_LICENSE,
    DCT,
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_THEME,
    FOAF,
    MUNICIPALITY_KEY,
    ORG,
    PROV,
    QB,
    QS,
    RDF,
    SDG,
    SDMX_DIMENSION,
    SDMX_MEASURE,
    SKOS,
    XSD,
)
from loaders.vocabulary_aliases import license_id, themes_for

__all__ = [
    "Municipality", "Row", "Sheets", "build", "export_rows", "load", "read_sheets", "sheets_from_rows",
    "valid_id", "write_sheets", "write_template",
]  # fmt: skip

# Letters of any script (ä, ö, ü, ß: official codes such as INKAR's `q_svw_ü55` have them), digits, `.`, `_`
# and `-`: all are IRI characters (RFC 3987 `iunreserved`), so an id becomes one IRI path segment as written.
ID_RE = re.compile(r"^[^\W_][\w.-]*$")
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GERMAN_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
PHONE_RE = re.compile(r"^\+?[0-9()./ -]+$")

_STATUS = {norm(s): canon for canon, spellings in STATUSES.items() for s in spellings}
_LEVEL = {norm(s): canon for canon, spellings in LEVELS.items() for s in spellings}
_LEVEL_CLASS = {
    "guiding_principle": QS.GuidingPrinciple,
    "strategic_goal": QS.StrategicGoal,
    "operational_goal": QS.OperationalGoal,
}
_LEVEL_PARENT = {"strategic_goal": "guiding_principle", "operational_goal": "strategic_goal"}
_LEVEL_DE = {
    "guiding_principle": "Leitlinie",
    "strategic_goal": "strategisches Ziel",
    "operational_goal": "operatives Ziel",
}
_YES = {norm(s) for s in YES}
_NO = {norm(s) for s in NO}
_FORMAT = {**{norm(c): c for c in FORMATS}, **{norm(a): c for a, c in FORMAT_ALIASES.items()}}
_FREQUENCY = {**{norm(c): c for c in FREQUENCIES}, **{norm(a): c for a, c in FREQUENCY_ALIASES.items()}}

DE = "de"


def valid_id(text: str) -> bool:
    """Whether `text` is a usable id: a letter or digit, then letters (umlauts too), digits, `.`, `_`, `-`; no `..`."""
    return bool(ID_RE.match(text)) and ".." not in text


@dataclass(frozen=True)
class Municipality:
    """The municipality publishing the data; `key` is the 8-digit AGS, `slug` names its IRI."""

    name: str
    key: str | None = None
    slug: str = "municipality"

    def __post_init__(self) -> None:
        if self.key is not None and not re.fullmatch(r"\d{8}", self.key):
            raise ValueError(f"AGS must be 8 digits, got {self.key!r}")
        if not valid_id(self.slug):
            raise ValueError(f"bad municipality slug {self.slug!r}")

    def iri(self, base: str) -> NamedNode:
        """`{base}municipality/{slug}`."""
        return NamedNode(f"{base}municipality/{self.slug}")


class _Builder:
    """State of one `build` run: output quads per graph, problems, lookups between sheets."""

    def __init__(
        self,
        sheets: Sheets,
        base: str,
        municipality: Municipality,
        graph: str,
        internal_graph: str,
        sdg_index: Any,
        external_datasets: Mapping[str, NamedNode],
        categories: CategoryIndex | None = None,
    ) -> None:
        self.sheets = sheets
        self.base = base
        self.municipality = municipality
        self.m = municipality.iri(base)
        self.g = NamedNode(graph)
        self.ig = NamedNode(internal_graph)
        self.index = sdg_index
        self.result = LoadResult()
        # dicts as insertion-ordered sets: deterministic order, no duplicate quads
        self.public: dict[Quad, None] = {}
        self.internal: dict[Quad, None] = {}
        self.sdg_cache: dict[str, NamedNode | None] = {}
        self.ids: dict[str, dict[str, Row]] = {}
        self.public_datasets: set[str] = set()
        self.strategy_levels: dict[str, str] = {}
        # Datasets other sources define (a harvested portal): key (identifier, IRI, landing page) → IRI.
        self.external = external_datasets
        # The Musterdatenkatalog as loaded in the store (None: not loaded), for the `category` column.
        self.categories = categories
        # Rows and references that name such a dataset: the workbook only adds statements to it.
        self.enriching: dict[str, NamedNode] = {}
        self._department_names: DepartmentNames | None = None
        # Spellings normalised to a known code, reported once per value with its count.
        self.normalised: Counter[tuple[str, str, str, str]] = Counter()

    # --- output and problems ---

    def add(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal, internal: bool = False) -> None:
        if internal:
            self.internal[Quad(s, p, o, self.ig)] = None
        else:
            self.public[Quad(s, p, o, self.g)] = None

    def error(self, row: Row, key: str | None, de: str, en: str) -> None:
        self.result.error(de, en, file=row.file, sheet=row.sheet, row=row.row, column=row.column(key) if key else None)

    def warn(self, row: Row, key: str | None, de: str, en: str) -> None:
        self.result.warn(de, en, file=row.file, sheet=row.sheet, row=row.row, column=row.column(key) if key else None)

    def iri(self, kind: str, ident: str) -> NamedNode:
        if kind == "dataset" and ident in self.enriching:
            return self.enriching[ident]
        return NamedNode(f"{self.base}{kind}/{ident}")

    def external_dataset(self, value: str) -> NamedNode | None:
        """The dataset another source defines that `value` names (its identifier, IRI or landing page)."""
        return self.external.get(value.strip()) or self.external.get(value.strip().rstrip("/"))

    # --- cell parsers: each reports its own problems and returns None/[] for bad values ---

    def values(self, row: Row, key: str) -> list[str]:
        """A multi-valued cell: `;`-separated, stripped, empties and duplicates dropped, order kept."""
        return list(dict.fromkeys(v.strip() for v in row.text(key).split(";") if v.strip()))

    def single(self, row: Row, key: str, de: str, en: str) -> str:
        values = self.values(row, key)
        if len(values) > 1:
            self.error(
                row,
                key,
                f"Nur ein Wert erlaubt ({de}), gefunden: {len(values)}.",
                f"Only one value allowed ({en}), found {len(values)}.",
            )
        return values[0] if values else ""

    def refs(self, row: Row, key: str, sheet: str, values: Iterable[str]) -> list[str]:
        """Ids in `values` that exist in `sheet`; unknown ones are errors. Departments are also found by
        name as staff and portals write it (a warning names the department taken); datasets also by the
        identifier, IRI or landing page of a dataset another source (a harvested portal) defines."""
        known = self.ids.get(sheet, {})
        what_de, what_en = _REF_NAMES[sheet]
        out = []
        for value in values:
            if value in known:
                out.append(value)
            elif sheet == "datasets" and (dataset := self.external_dataset(value)) is not None:
                self.enriching[value] = dataset
                out.append(value)
            elif sheet == "departments" and (found := self.department_by_name(row, key, value)) is not None:
                out.append(found)
            elif sheet == "departments":
                continue  # department_by_name reported it, with the closest candidates
            else:
                self.error(
                    row,
                    key,
                    f"Unbekannte {what_de}-ID „{value}“ (nicht im Blatt {SHEETS[sheet].title}).",
                    f"Unknown {what_en} id '{value}' (not in sheet {sheet}).",
                )
        return out

    def department_by_name(self, row: Row, key: str, value: str) -> str | None:
        """The id of the one department `value` names (a variant of its name, an alias, its KGSt number);
        a guess is a warning naming the department, an ambiguous or unknown name an error with candidates."""
        if self._department_names is None:
            self._department_names = DepartmentNames(
                Department(ident, ident, r.text("name") or ident, tuple(self.values(r, "aliases")))
                for ident, r in self.ids.get("departments", {}).items()
            )
        found = self._department_names.resolve(value)
        if found.iri is not None:
            if not found.exact:
                name = self._department_names.departments[found.iri].name
                self.warn(
                    row,
                    key,
                    f"„{value}“ als Amt „{name}“ (ID {found.iri}) gelesen.",
                    f"'{value}' read as department '{name}' (id {found.iri}).",
                )
            return found.iri
        candidates = found.candidates or tuple(self._department_names.closest(value))
        listed = ", ".join(f"„{c}“" for c in candidates)
        self.error(
            row,
            key,
            f"Unbekanntes Amt „{value}“"
            + (" (passt zu mehreren)" if found.how == "ambiguous" else "")
            + (f"; am ähnlichsten: {listed}." if candidates else "."),
            f"Unknown department '{value}'"
            + (" (matches several)" if found.how == "ambiguous" else "")
            + (f"; closest: {', '.join(candidates)}." if candidates else "."),
        )
        return None

    def normalise(self, row: Row, key: str, value: str, code: str) -> None:
        """Remember a value written otherwise than its code, to report each spelling once with its count."""
        if value != code:
            self.normalised[(row.file, row.sheet, key, f"{value}\x00{code}")] += 1

    def sdgs(self, row: Row, key: str = "sdg", goals_and_targets: bool = False) -> list[NamedNode]:
        """SDG concepts of a cell; projects and strategy goals may name goals and targets only."""
        out = []
        for value in self.values(row, key):
            if value not in self.sdg_cache:
                self.sdg_cache[value] = self.index.resolve(value)
            iri = self.sdg_cache[value]
            if iri is None:
                self.error(
                    row,
                    key,
                    f"Unbekannter SDG-Code „{value}“ (z. B. 11 oder 11.2; mehrere mit ; trennen).",
                    f"Unknown SDG code '{value}' (e.g. 11 or 11.2; separate several with ;).",
                )
            elif goals_and_targets and self.index.kind(iri) == "indicator":
                self.error(
                    row,
                    key,
                    f"„{value}“ ist ein SDG-Indikator; hier bitte Ziel oder Unterziel angeben (z. B. 11 oder 11.2).",
                    f"'{value}' is an SDG indicator; give a goal or target here (e.g. 11 or 11.2).",
                )
            else:
                out.append(iri)
        return list(dict.fromkeys(out))

    def warn_goal_only(self, row: Row, links: list[NamedNode], what_de: str, what_en: str) -> None:
        """Warn when every SDG link of a row is a goal: the row is then in no target-level gap report."""
        goals = [self.index.notation(iri) for iri in links if self.index.kind(iri) == "goal"]
        if links and len(goals) == len(links):
            codes = ", ".join(goals)
            self.warn(
                row,
                "sdg",
                f"{what_de} ist nur mit SDG-Ziel {codes} verknüpft, mit keinem Unterziel (z. B. {goals[0]}.1); "
                "es fehlt deshalb in allen Berichten auf Unterziel-Ebene.",
                f"{what_en} is linked only to SDG goal {codes}, to no target (e.g. {goals[0]}.1); it is "
                "therefore missing from every target-level report.",
            )

    def date(self, row: Row, key: str) -> Literal | None:
        value = row.values.get(key)
        if value is None:
            return None
        parsed: date | None = None
        if isinstance(value, datetime):
            parsed = value.date()
        elif isinstance(value, date):
            parsed = value
        elif isinstance(value, str):
            try:
                if ISO_DATE_RE.match(value):
                    parsed = date.fromisoformat(value)
                elif m := GERMAN_DATE_RE.match(value):
                    parsed = date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                parsed = None
        if parsed is None:
            self.error(
                row,
                key,
                f"Ungültiges Datum „{row.text(key)}“ (TT.MM.JJJJ oder JJJJ-MM-TT).",
                f"Invalid date '{row.text(key)}' (DD.MM.YYYY or YYYY-MM-DD).",
            )
            return None
        return Literal(parsed.isoformat(), datatype=XSD.date)

    def url(self, row: Row, key: str, value: str) -> NamedNode | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"\s", value):
            try:
                return NamedNode(value)
            except ValueError:
                pass
        self.error(
            row,
            key,
            f"Ungültige Web-Adresse „{value}“ (muss mit http:// oder https:// beginnen).",
            f"Invalid URL '{value}' (must start with http:// or https://).",
        )
        return None

    def email(self, row: Row, key: str) -> NamedNode | None:
        value = row.text(key)
        if not value:
            return None
        address = value.removeprefix("mailto:")
        if EMAIL_RE.match(address):
            return NamedNode(f"mailto:{address}")
        self.error(row, key, f"Ungültige E-Mail-Adresse „{value}“.", f"Invalid e-mail address '{value}'.")
        return None

    def phone(self, row: Row, key: str) -> NamedNode | None:
        value = row.text(key)
        if not value:
            return None
        number = value.removeprefix("tel:").strip()
        if PHONE_RE.match(number) and sum(c.isdigit() for c in number) >= 3:
            # RFC 3966 visual separators are `-` `.` `(` `)`, no spaces or slashes; the German `(0)`
            # after a country code is dropped in the international form.
            visual = re.sub(r"\(0\)", "", number) if number.startswith("+") else number
            visual = re.sub(r"[ /()]+", "-", visual)
            visual = re.sub(r"-{2,}", "-", visual).strip("-")
            if visual.startswith("+-"):
                visual = "+" + visual[2:]
            return NamedNode(f"tel:{visual}")
        self.error(row, key, f"Ungültige Telefonnummer „{value}“.", f"Invalid phone number '{value}'.")
        return None

    def code(self, row: Row, key: str, value: str, lookup: Callable[[str], str | None], what: str) -> str | None:
        """A code from a closed list, accepted as code, alias or full IRI; unknown ones are errors."""
        if not value:
            return None
        found = lookup(value)
        if found is None:
            what_de, what_en = _CODE_NAMES[what]
            self.error(
                row,
                key,
                f"{what_de} „{value}“ ist unbekannt (gültige Codes: siehe Blatt Hilfe der Vorlage).",
                f"Unknown {what_en} '{value}' (valid codes: see sheet Hilfe of the template).",
            )
        return found

    # --- sheets ---

    def index_ids(self, sheet: str) -> list[tuple[str, Row]]:
        """Validate ids and required cells of one sheet; returns the rows to map, with their ids."""
        rows = self.sheets.get(sheet, [])
        self.ids[sheet] = {}
        if not rows:
            return []
        spec = SHEETS[sheet]
        missing = [c for c in spec.columns if c.required and c.key not in rows[0].columns]
        for col in missing:
            self.result.error(
                f"Pflichtspalte „{col.header}“ fehlt im Blatt {rows[0].sheet}.",
                f"Required column '{col.key}' ({col.header}) is missing in sheet {rows[0].sheet}.",
                file=rows[0].file,
                sheet=rows[0].sheet,
            )
        if any(c.key == "id" for c in missing):
            return []
        out = []
        first: dict[str, Row] = {}
        for row in rows:
            ident = row.text("id")
            if sheet == "datasets" and ident and ident not in first and (external := self.external_dataset(ident)):
                # A dataset another source defines: this row only adds statements, so no cell is required.
                self.enriching[ident] = external
                first[ident] = row
                self.ids[sheet][ident] = row
                out.append((ident, row))
                continue
            for col in spec.columns:
                if col.required and col.key != "id" and col not in missing and not row.text(col.key):
                    self.error(
                        row, col.key, f"Pflichtfeld „{col.header}“ ist leer.", f"Required cell '{col.key}' is empty."
                    )
            if not ident:
                self.error(row, "id", "Pflichtfeld „ID“ ist leer.", "Required cell 'id' is empty.")
            elif not valid_id(ident):
                self.error(
                    row,
                    "id",
                    f"Ungültige ID „{ident}“: erlaubt sind Buchstaben (auch ä, ö, ü, ß), Ziffern und . _ -, "
                    "am Anfang ein Buchstabe oder eine Ziffer (kein /, keine Leerzeichen, nicht ..).",
                    f"Invalid id '{ident}': allowed are letters (umlauts too), digits and . _ -, starting with a "
                    "letter or digit (no /, spaces or ..).",
                )
            elif ident in first:
                self.error(
                    row,
                    "id",
                    f"Doppelte ID „{ident}“ (schon in Zeile {first[ident].row}).",
                    f"Duplicate id '{ident}' (already in row {first[ident].row}).",
                )
            else:
                first[ident] = row
                out.append((ident, row))
                self.result.origins[self.iri(_KIND[sheet], ident).value] = (row.file, row.sheet, row.row)
        self.ids[sheet] = first
        return out

    def municipality_node(self) -> None:
        m = self.m
        self.add(m, RDF.type, ORG.FormalOrganization)
        self.add(m, RDF.type, FOAF.Agent)
        self.add(m, FOAF.name, Literal(self.municipality.name))
        self.add(m, DCT.type, ADMS_PUBLISHER_TYPE.LocalAuthority)
        if self.municipality.key:
            self.add(m, ORG.identifier, Literal(self.municipality.key))
            self.add(m, DCT.spatial, MUNICIPALITY_KEY[self.municipality.key])

    def departments(self, rows: list[tuple[str, Row]]) -> None:
        parents: dict[str, str] = {}
        for ident, row in rows:
            parent = self.single(row, "parent", "übergeordnetes Amt", "parent department")
            if parent and self.refs(row, "parent", "departments", [parent]):
                parents[ident] = parent
        for ident in _cycle_starts(parents, [i for i, _ in rows]):
            row = self.ids["departments"][ident]
            self.error(
                row,
                "parent",
                f"Zirkelbezug bei übergeordneten Ämtern ab „{ident}“.",
                f"Cycle in department parents starting at '{ident}'.",
            )
            del parents[ident]
        for ident, row in rows:
            d = self.iri("department", ident)
            self.add(d, RDF.type, ORG.OrganizationalUnit)
            self.add(d, RDF.type, FOAF.Agent)
            if name := row.text("name"):
                self.add(d, FOAF.name, Literal(name, language=DE))
            for alias in self.values(row, "aliases"):
                self.add(d, SKOS.altLabel, Literal(alias, language=DE))
            self.add(d, ORG.identifier, Literal(ident))
            if self.yes(row, "administration"):
                self.add(d, RDF.type, QS.Administration)
            # A unit hangs in exactly one place (shapes: xone unitOf / subOrganizationOf).
            if ident in parents:
                self.add(d, ORG.subOrganizationOf, self.iri("department", parents[ident]))
            else:
                self.add(d, ORG.unitOf, self.m)
            if mbox := self.email(row, "email"):
                self.add(d, FOAF.mbox, mbox)
            if homepage := self.url(row, "website", row.text("website")):
                self.add(d, FOAF.homepage, homepage)

    def strategy(self, rows: list[tuple[str, Row]]) -> None:
        if not rows:
            return
        scheme = NamedNode(f"{self.base}strategy")
        self.add(scheme, RDF.type, SKOS.ConceptScheme)
        self.add(scheme, SKOS.prefLabel, Literal(f"Strategie {self.municipality.name}", language=DE))
        for ident, row in rows:
            text = row.text("level")
            level = _LEVEL.get(norm(text)) if text else None
            if text and level is None:
                self.error(
                    row,
                    "level",
                    f"Unbekannte Ebene „{text}“ (leitlinie, strategisches_ziel, operatives_ziel).",
                    f"Unknown level '{text}' (guiding_principle, strategic_goal, operational_goal).",
                )
            if level:
                self.strategy_levels[ident] = level
        for ident, row in rows:
            c = self.iri("strategy", ident)
            level = self.strategy_levels.get(ident)
            self.add(c, RDF.type, SKOS.Concept)
            if level:
                self.add(c, RDF.type, _LEVEL_CLASS[level])
            if title := row.text("title"):
                self.add(c, SKOS.prefLabel, Literal(title, language=DE))
            self.add(c, SKOS.inScheme, scheme)
            parent = self.single(row, "parent", "übergeordnetes Ziel", "parent goal")
            if parent and self.refs(row, "parent", "strategy", [parent]):
                expected = _LEVEL_PARENT.get(level or "")
                actual = self.strategy_levels.get(parent)
                if level and actual and expected != actual:
                    need_de = _LEVEL_DE[expected] if expected else "keines"
                    self.error(
                        row,
                        "parent",
                        f"Übergeordnetes Ziel „{parent}“ ist {_LEVEL_DE[actual]}, erwartet: {need_de}.",
                        f"Parent '{parent}' is a {actual}, expected {expected or 'none'}.",
                    )
                else:
                    self.add(c, SKOS.broader, self.iri("strategy", parent))
            elif not parent and level in _LEVEL_PARENT:
                self.error(
                    row,
                    "parent",
                    f"Ein {_LEVEL_DE[level]} braucht ein übergeordnetes Ziel.",
                    f"A {level} needs a parent goal.",
                )
            for target in self.sdgs(row, goals_and_targets=True):
                self.add(c, QS.contributesTo, target)

    def people(self, rows: list[tuple[str, Row]]) -> None:
        roles: dict[str, NamedNode] = {}
        for ident, row in rows:
            p = self.iri("person", ident)
            self.add(p, RDF.type, FOAF.Person, internal=True)
            if name := row.text("name"):
                self.add(p, FOAF.name, Literal(name), internal=True)
            if mbox := self.email(row, "email"):
                self.add(p, FOAF.mbox, mbox, internal=True)
            if tel := self.phone(row, "phone"):
                self.add(p, FOAF.phone, tel, internal=True)
            dept = self.single(row, "department", "Amt", "department")
            role_text = row.text("role")
            if not dept:
                self.warn(
                    row,
                    "department",
                    "Person ohne Amt" + (", Rolle wird ignoriert." if role_text else "."),
                    "Person without department" + ("; role ignored." if role_text else "."),
                )
                continue
            if not self.refs(row, "department", "departments", [dept]):
                continue
            d = self.iri("department", dept)
            self.add(p, ORG.memberOf, d, internal=True)
            if not role_text:
                continue
            slug = _slug(role_text)
            if not slug:
                self.error(row, "role", f"Ungültige Rolle „{role_text}“.", f"Invalid role '{role_text}'.")
                continue
            if slug not in roles:
                # Spellings differing only in case or punctuation share the first row's label.
                roles[slug] = r = self.iri("role", slug)
                self.add(r, RDF.type, ORG.Role, internal=True)
                self.add(r, SKOS.prefLabel, Literal(role_text, language=DE), internal=True)
            # A membership (org:Membership) exists to carry the role; without one memberOf says it all.
            ms = NamedNode(f"{p.value}#membership-{dept}")
            self.add(ms, RDF.type, ORG.Membership, internal=True)
            self.add(ms, ORG.member, p, internal=True)
            self.add(ms, ORG.organization, d, internal=True)
            self.add(ms, ORG.role, roles[slug], internal=True)

    def datasets(self, rows: list[tuple[str, Row]]) -> None:
        for ident, row in rows:
            if ident in self.enriching:
                self.enrich_dataset(row, self.enriching[ident])
                continue
            public = self.public_flag(row)
            if public:
                self.public_datasets.add(ident)
            ds = self.iri("dataset", ident)

            def add(p: NamedNode, o: NamedNode | Literal, subject: NamedNode = ds, public: bool = public) -> None:
                self.add(subject, p, o, internal=not public)

            add(RDF.type, DCAT.Dataset)
            if title := row.text("title"):
                add(DCT["title"], Literal(title, language=DE))
            if description := row.text("description"):
                add(DCT.description, Literal(description, language=DE))
            add(DCT.identifier, Literal(ident))
            add(DCT.publisher, self.m)
            dept = self.single(row, "department", "Amt", "department")
            if dept:
                for ref in self.refs(row, "department", "departments", [dept]):
                    add(DCT.creator, self.iri("department", ref))
            else:
                self.warn(row, "department", "Datensatz ohne Amt.", "Dataset without department.")
            self.dataset_links(row, ds, add)
            if modified := self.date(row, "modified"):
                add(DCT.modified, modified)
            value = self.single(row, "frequency", "Aktualisierung", "frequency")
            if freq := self.code(row, "frequency", value, _frequency, "frequency"):
                add(DCT.accrualPeriodicity, EU_FREQUENCY[freq])
            self.distributions(row, ds, add, public=public)

    def dataset_links(self, row: Row, ds: NamedNode, add: Callable) -> None:
        """What staff say about any dataset, their own or another source's: themes, SDG targets, keywords."""
        for value in self.values(row, "theme"):
            themes = themes_for(value)
            if themes is None:
                self.code(row, "theme", value, lambda _: None, "theme")
                continue
            if not themes:
                self.warn(
                    row,
                    "theme",
                    f"Die alte GovData-Kategorie „{value}“ hat kein EU-Datenthema; bitte ein Thema wählen.",
                    f"The old GovData category '{value}' has no EU data theme; please choose one.",
                )
            for theme in themes:
                self.normalise(row, "theme", value, theme)
                add(DCAT.theme, EU_THEME[theme])
        for target in self.sdgs(row):
            add(DCT.subject, target)
        for category in self.categories_of(row):
            # DCAT-AP.de Konventionenhandbuch 1.10.1: a dataset names its Musterdatenkatalog category with
            # dct:references (as Hamburg's portal does); dct:subject holds the SDG links, dcat:theme EU themes.
            add(DCT.references, category)
        for keyword in self.values(row, "keywords"):
            add(DCAT.keyword, Literal(keyword, language=DE))

    def categories_of(self, row: Row) -> list[NamedNode]:
        """The Musterdatenkatalog categories the `category` cell names; an unknown one is an error with the
        closest categories, any one while the Musterdatenkatalog is not loaded an error saying to load it."""
        values = self.values(row, "category")
        if values and not self.categories:
            self.error(
                row,
                "category",
                "Der Musterdatenkatalog ist nicht geladen: zuerst `querschnitt load musterdatenkatalog_v4.rdf`.",
                "The Musterdatenkatalog is not loaded: first `querschnitt load musterdatenkatalog_v4.rdf`.",
            )
            return []
        found = []
        for value in values:
            assert self.categories is not None
            iri = self.categories.resolve(value)
            if iri is not None:
                found.append(NamedNode(iri))
                continue
            closest = self.categories.closest(value)
            self.error(
                row,
                "category",
                f"Unbekannte Musterdatenkatalog-Kategorie „{value}“; am ähnlichsten: "
                + ", ".join(f"„{c}“" for c in closest)
                + ".",
                f"Unknown Musterdatenkatalog category '{value}'; closest: {', '.join(closest)}.",
            )
        return found

    def enrich_dataset(self, row: Row, ds: NamedNode) -> None:
        """A row naming a dataset another source defines (a harvested portal): only the department, SDG
        targets, themes and keywords are added, in this workbook's graph (internal when `public` is no),
        so that a re-harvest keeps them and this workbook never writes the harvested graph."""
        public = self.public_flag(row)

        def add(p: NamedNode, o: NamedNode | Literal, subject: NamedNode = ds) -> None:
            self.add(subject, p, o, internal=not public)

        if dept := self.single(row, "department", "Amt", "department"):
            for ref in self.refs(row, "department", "departments", [dept]):
                add(DCT.creator, self.iri("department", ref))
        self.dataset_links(row, ds, add)
        self.result.counts["enriched_datasets"] = self.result.counts.get("enriched_datasets", 0) + 1

    def yes(self, row: Row, column: str) -> bool:
        """A yes/no cell; empty is no, anything else is an error naming the cell."""
        value = row.values.get(column)
        if isinstance(value, bool):
            return value
        text = norm(row.text(column))
        if text and text not in _YES | _NO:
            self.error(
                row,
                column,
                f"„{row.text(column)}“ ist weder ja noch nein.",
                f"'{row.text(column)}' is neither yes nor no.",
            )
        return text in _YES

    def public_flag(self, row: Row) -> bool:
        value = row.values.get("public")
        if isinstance(value, bool):
            return value
        text = norm(row.text("public"))
        if text in _YES:
            return True
        if text in _NO:
            return False
        if text:
            self.error(
                row,
                "public",
                f"„{row.text('public')}“ ist weder ja noch nein.",
                f"'{row.text('public')}' is neither yes nor no.",
            )
        else:
            self.warn(
                row,
                "public",
                "öffentlich ist leer: der Datensatz wird nur intern veröffentlicht.",
                "public is empty: the dataset is only published internally.",
            )
        return False

    def distributions(self, row: Row, ds: NamedNode, add: Any, *, public: bool) -> None:
        """One distribution per position of the `;`-separated format/URL/licence cells; a single value
        applies to every distribution. Positions without any URL get none (DCAT-AP needs an access URL)."""
        keys = ("format", "access_url", "download_url", "license")
        lists = {k: [v.strip() for v in row.text(k).split(";")] if row.text(k) else [] for k in keys}
        count = max(len(v) for v in lists.values())
        if not lists["license"] and public:
            # Only published data needs a licence (DCAT-AP.de); internal datasets often have none.
            self.warn(row, "license", "Öffentlicher Datensatz ohne Lizenz.", "Public dataset without licence.")
        for key, values in lists.items():
            if len(values) not in (0, 1, count):
                self.error(
                    row,
                    key,
                    f"{len(values)} Werte, aber {count} Distributionen (Werte mit ; in derselben Reihenfolge angeben).",
                    f"{len(values)} values but {count} distributions (give ;-separated values in the same order).",
                )
                return
        cells = [{k: (v[n] if len(v) == count else v[0]) if v else "" for k, v in lists.items()} for n in range(count)]
        if not any(c["access_url"] or c["download_url"] for c in cells):
            self.warn(
                row,
                "access_url",
                "Datensatz ohne Zugangs- oder Download-URL: keine Distribution (Format und Lizenz entfallen).",
                "Dataset without access or download URL: no distribution (format and licence dropped).",
            )
            return
        number = 0
        for cell in cells:
            access = self.url(row, "access_url", cell["access_url"])
            download = self.url(row, "download_url", cell["download_url"])
            if access is None and download is None:
                continue
            number += 1
            dist = NamedNode(f"{ds.value}/distribution/{number}")
            add(DCAT.distribution, dist)
            add(RDF.type, DCAT.Distribution, dist)
            # DCAT-AP requires an access URL; for a plain file download it is the download URL.
            add(DCAT.accessURL, access or download, dist)
            if download is not None:
                add(DCAT.downloadURL, download, dist)
            if fmt := self.code(row, "format", cell["format"], _format, "format"):
                add(DCT["format"], EU_FILE_TYPE[fmt], dist)
            if lic := self.code(row, "license", cell["license"], license_id, "license"):
                self.normalise(row, "license", cell["license"], lic)
                add(DCT.license, DCATDE_LICENSE[lic], dist)

    def projects(self, rows: list[tuple[str, Row]]) -> None:
        for ident, row in rows:
            p = self.iri("project", ident)
            self.add(p, RDF.type, QS.Project)
            if title := row.text("title"):
                self.add(p, DCT["title"], Literal(title, language=DE))
            if description := row.text("description"):
                self.add(p, DCT.description, Literal(description, language=DE))
            self.add(p, DCT.identifier, Literal(ident))
            if text := row.text("status"):
                if status := _STATUS.get(norm(text)):
                    self.add(p, QS.status, QS[status])
                else:
                    self.error(
                        row,
                        "status",
                        f"Unbekannter Status „{text}“ (geplant, laufend, abgeschlossen).",
                        f"Unknown status '{text}' (planned, running, completed).",
                    )
            start, end = self.date(row, "start"), self.date(row, "end")
            if start is not None:
                self.add(p, PROV.startedAtTime, start)
            if end is not None:
                if start is not None and end.value < start.value:
                    self.error(
                        row,
                        "end",
                        f"Ende {end.value} liegt vor dem Beginn {start.value}.",
                        f"End {end.value} is before start {start.value}.",
                    )
                else:
                    self.add(p, PROV.endedAtTime, end)
            self.associations(row, p)
            for dataset in self.refs(row, "uses_datasets", "datasets", self.values(row, "uses_datasets")):
                # Linking a public project to an internal dataset would reveal the dataset's IRI.
                self.add(p, PROV.used, self.iri("dataset", dataset), internal=dataset not in self.public_datasets)
            targets = self.sdgs(row, goals_and_targets=True)
            for target in targets:
                self.add(p, QS.contributesTo, target)
                self.add(p, DCT.subject, target)
            if not targets and not row.text("sdg"):
                self.warn(row, "sdg", "Projekt ohne SDG-Bezug.", "Project without SDG link.")
            self.warn_goal_only(row, targets, "Das Projekt", "The project")
            if person := self.single(row, "contact_person", "Ansprechperson", "contact person"):
                for ref in self.refs(row, "contact_person", "people", [person]):
                    self.add(p, QS.contactPerson, self.iri("person", ref), internal=True)
            if homepage := self.url(row, "url", row.text("url")):
                self.add(p, FOAF.homepage, homepage)
            for goal in self.refs(row, "strategy", "strategy", self.values(row, "strategy")):
                level = self.strategy_levels.get(goal)
                if level and level != "operational_goal":
                    self.error(
                        row,
                        "strategy",
                        f"„{goal}“ ist kein operatives Ziel, sondern {_LEVEL_DE[level]}.",
                        f"'{goal}' is not an operational goal but a {level}.",
                    )
                else:
                    self.add(p, QS.implements, self.iri("strategy", goal))

    def associations(self, row: Row, p: NamedNode) -> None:
        lead = self.single(row, "lead_department", "federführendes Amt", "lead department")
        leads = self.refs(row, "lead_department", "departments", [lead]) if lead else []
        if not lead:
            self.error(
                row,
                "lead_department",
                "Projekt ohne federführendes Amt (genau eines angeben).",
                "Project without lead department (give exactly one).",
            )
        partners = self.refs(row, "partner_departments", "departments", self.values(row, "partner_departments"))
        for role, depts in ((QS.LeadRole, leads), (QS.PartnerRole, partners)):
            for dept in depts:
                if role == QS.PartnerRole and dept in leads:
                    self.warn(
                        row,
                        "partner_departments",
                        f"Amt „{dept}“ ist schon federführend.",
                        f"Department '{dept}' is already the lead.",
                    )
                    continue
                d = self.iri("department", dept)
                a = NamedNode(f"{p.value}#lead" if role == QS.LeadRole else f"{p.value}#partner-{dept}")
                self.add(p, PROV.wasAssociatedWith, d)
                self.add(p, PROV.qualifiedAssociation, a)
                self.add(a, RDF.type, PROV.Association)
                self.add(a, PROV.agent, d)
                self.add(a, PROV.hadRole, role)

    def indicators(self, rows: list[tuple[str, Row]]) -> int:
        observations = 0
        for ident, row in rows:
            i = self.iri("indicator", ident)
            self.add(i, RDF.type, QS.Indicator)
            if title := row.text("title"):
                self.add(i, SKOS.prefLabel, Literal(title, language=DE))
            if unit := row.text("unit"):
                self.add(i, QS.unit, Literal(unit))
            links = self.sdgs(row)
            for target in links:
                self.add(i, DCT.subject, target)
            self.warn_goal_only(row, links, "Der Indikator", "The indicator")
            if dept := self.single(row, "department", "Amt", "department"):
                for ref in self.refs(row, "department", "departments", [dept]):
                    self.add(i, DCT.creator, self.iri("department", ref))
            for key in sorted(k for k in row.values if YEAR_RE.match(k)):
                value = _decimal(row.values[key])
                if value is None:
                    self.error(row, key, f"„{row.text(key)}“ ist keine Zahl.", f"'{row.text(key)}' is not a number.")
                    continue
                o = NamedNode(f"{i.value}/observation/{key}")
                self.add(o, RDF.type, QB.Observation)
                self.add(o, QB.dataSet, i)
                self.add(o, SDMX_DIMENSION.refPeriod, Literal(key, datatype=XSD.gYear))
                self.add(o, SDMX_DIMENSION.refArea, self.m)
                self.add(o, SDMX_MEASURE.obsValue, Literal(value, datatype=XSD.decimal))
                observations += 1
        return observations

    def report_normalised(self) -> None:
        for (file, sheet, key, both), count in sorted(self.normalised.items()):
            value, code = both.split("\x00")
            times = f"{count}×"
            self.result.warn(
                f"„{value}“ als „{code}“ gelesen ({times}).",
                f"'{value}' read as '{code}' ({times}).",
                file=file,
                sheet=sheet,
                column=key,
            )

    def run(self) -> LoadResult:
        departments = self.index_ids("departments")
        strategy = self.index_ids("strategy")
        people = self.index_ids("people")
        datasets = self.index_ids("datasets")
        projects = self.index_ids("projects")
        indicators = self.index_ids("indicators")
        self.municipality_node()
        self.departments(departments)
        self.strategy(strategy)
        self.people(people)
        self.datasets(datasets)
        self.projects(projects)
        observations = self.indicators(indicators)
        self.report_normalised()
        self.result.graphs = {self.g.value: list(self.public), self.ig.value: list(self.internal)}
        enriched = self.result.counts.get("enriched_datasets", 0)
        self.result.counts = {
            "departments": len(departments),
            "people": len(people),
            "projects": len(projects),
            "datasets": len(datasets) - enriched,
            "enriched_datasets": enriched,
            "public_datasets": len(self.public_datasets),
            "indicators": len(indicators),
            "observations": observations,
            "strategy": len(strategy),
            "triples": len(self.public) + len(self.internal),
        }
        return self.result


_CODE_NAMES = {
    "theme": ("Datenthema", "data theme"),
    "frequency": ("Aktualisierungsrhythmus", "update frequency"),
    "format": ("Dateiformat", "file format"),
    "license": ("Lizenz", "licence"),
}
# The IRI path segment of each sheet's entities ({base}{kind}/{id}).
_KIND = {
    "departments": "department",
    "people": "person",
    "projects": "project",
    "datasets": "dataset",
    "indicators": "indicator",
    "strategy": "strategy",
}
_REF_NAMES = {
    "departments": ("Amts", "department"),
    "people": ("Personen", "person"),
    "datasets": ("Datensatz", "dataset"),
    "strategy": ("Ziel", "strategy goal"),
}


def _format(text: str) -> str | None:
    return _FORMAT.get(norm(text.removeprefix(str(EU_FILE_TYPE))))


def _frequency(text: str) -> str | None:
    return _FREQUENCY.get(norm(text.removeprefix(str(EU_FREQUENCY))))


def _slug(text: str) -> str:
    """`Stellv. Amtsleitung` → `stellv-amtsleitung` (umlauts spelt out)."""
    text = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _decimal(value: Any) -> str | None:
    """A canonical xsd:decimal lexical form for a numeric cell (`12,5` and 12.5 both give `12.5`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str) and NUMBER_RE.match(value.strip()):
        number = Decimal(value.strip().replace(",", "."))
    else:
        return None
    try:
        if not number.is_finite():
            return None
        text = format(number.normalize(), "f")
    except InvalidOperation:
        return None
    return text


def _cycle_starts(parents: Mapping[str, str], order: Sequence[str]) -> list[str]:
    """For each cycle in the parent map, the member that comes first in `order`."""
    position = {ident: n for n, ident in enumerate(order)}
    done: set[str] = set()
    starts = []
    for ident in order:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = ident
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parents.get(node)
        if node is not None and node in on_path:
            cycle = path[path.index(node) :]
            starts.append(min(cycle, key=lambda i: position[i]))
        done.update(path)
    return starts


def _default_index() -> Any:
    from loaders.sdg import SdgIndex

    return SdgIndex.builtin()


def build(
    sheets: Sheets,
    *,
    base: str,
    municipality: Municipality,
    graph: str,
    internal_graph: str,
    sdg_index: Any = None,
    external_datasets: Mapping[str, NamedNode] | None = None,
    categories: CategoryIndex | None = None,
) -> LoadResult:
    """Validate the sheets and map them to quads: public things to `graph`, the rest to `internal_graph`.

    `external_datasets` are the datasets other sources define (a harvested portal), by identifier, IRI
    and landing page (`external_dataset_keys`): the `datasets` sheet may enrich them and `uses_datasets`
    may name them. `categories` is the Musterdatenkatalog as loaded in the store, which the `category`
    column names (`CategoryIndex`).
    """
    if not base.endswith(("/", "#")):
        raise ValueError(f"base IRI must end with / or #: {base!r}")
    if graph == internal_graph:
        raise ValueError("graph and internal_graph must differ")
    index = sdg_index if sdg_index is not None else _default_index()
    return _Builder(sheets, base, municipality, graph, internal_graph, index, external_datasets or {}, categories).run()


def external_dataset_keys(datasets: Iterable[tuple[NamedNode, str | None, str | None]]) -> dict[str, NamedNode]:
    """(dataset, identifier, landing page) → the keys staff may write for each: IRI, identifier, landing
    page (with and without a trailing slash). A key two datasets share names neither."""
    found: dict[str, set[NamedNode]] = defaultdict(set)
    for dataset, identifier, landing in datasets:
        for key in (dataset.value, identifier, landing):
            if key:
                found[key.strip()].add(dataset)
                found[key.strip().rstrip("/")].add(dataset)
    return {key: next(iter(iris)) for key, iris in found.items() if len(iris) == 1}


def load(
    paths: Sequence[Path],
    *,
    base: str,
    municipality: Municipality,
    graph: str,
    internal_graph: str,
    sdg_index: Any = None,
    external_datasets: Mapping[str, NamedNode] | None = None,
    categories: CategoryIndex | None = None,
) -> LoadResult:
    """`read_sheets` + `build`, with the reading problems first in the result."""
    sheets, problems = read_sheets(paths)
    result = build(
        sheets,
        base=base,
        municipality=municipality,
        graph=graph,
        internal_graph=internal_graph,
        sdg_index=sdg_index,
        external_datasets=external_datasets,
        categories=categories,
    )
    result.problems[:0] = problems
    return result


# --- graph → rows ---------------------------------------------------------------------------------

_STATUS_DE = {canon: spellings[0] for canon, spellings in STATUSES.items()}
_LEVEL_OUT = {
    QS.GuidingPrinciple: "leitlinie",
    QS.StrategicGoal: "strategisches_ziel",
    QS.OperationalGoal: "operatives_ziel",
}
_SDG_CODE_RE = re.compile(r"^\d{1,2}(\.[0-9a-z]{1,2})?$")


class _Graph:
    """Subjects → predicates → objects over all graphs, plus which subjects are typed internally."""

    def __init__(self, quads: Iterable[Quad], internal_graphs: Iterable[str] | None) -> None:
        self.props: dict[Any, dict[NamedNode, dict[Any, None]]] = defaultdict(lambda: defaultdict(dict))
        self.inverse: dict[NamedNode, dict[Any, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.internal: set[Any] = set()
        explicit = set(internal_graphs) if internal_graphs is not None else None
        for q in quads:
            self.props[q.subject][q.predicate][q.object] = None
            if q.predicate in (QB.dataSet, ORG.member):
                self.inverse[q.predicate][q.object].append(q.subject)
            if q.predicate == RDF.type and isinstance(q.graph_name, NamedNode):
                name = q.graph_name.value
                if (name in explicit) if explicit is not None else name.endswith("-internal"):
                    self.internal.add(q.subject)

    def all(self, s: Any, p: NamedNode) -> list[Any]:
        return sorted(self.props.get(s, {}).get(p, {}), key=lambda o: o.value)

    def one(self, s: Any, p: NamedNode) -> str:
        values = self.all(s, p)
        return values[0].value if values else ""

    def typed(self, cls: NamedNode, prefix: str) -> list[tuple[str, NamedNode]]:
        found = [
            (s.value[len(prefix) :], s)
            for s, props in self.props.items()
            if isinstance(s, NamedNode) and s.value.startswith(prefix) and cls in props.get(RDF.type, {})
        ]
        return sorted(found, key=lambda pair: pair[0])


def _tail(term: Any, prefix: str) -> str:
    value = term.value
    return value[len(prefix) :] if value.startswith(prefix) else value


def _join(values: Iterable[str]) -> str:
    return "; ".join(v for v in values if v)


def _sdg_code(term: Any) -> str:
    local = _tail(term, str(SDG))
    return local if _SDG_CODE_RE.match(local) else term.value


def _positional(values: list[str]) -> str:
    """Distribution cells: one value if all agree, else `;`-separated in distribution order."""
    if len(set(values)) <= 1:
        return values[0] if values else ""
    return "; ".join(values)


def export_rows(
    source: Store | Dataset | Iterable[Quad], *, base: str, internal_graphs: Iterable[str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """Map a graph back to sheet rows with canonical keys (inverse of `build`), sorted by id.

    Datasets typed in a graph named in `internal_graphs` (default: graph IRIs ending in `-internal`)
    are exported with public = nein."""
    quads = source.quads_for_pattern(None, None, None, None) if isinstance(source, Store) else source
    g = _Graph(quads, internal_graphs)
    dept, person, ds = f"{base}department/", f"{base}person/", f"{base}dataset/"
    strategy = f"{base}strategy/"
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in SHEETS}

    for ident, d in g.typed(ORG.OrganizationalUnit, dept):
        rows["departments"].append(
            {
                "id": ident,
                "name": g.one(d, FOAF.name),
                "aliases": _join(o.value for o in g.all(d, SKOS.altLabel)),
                "parent": _join(_tail(o, dept) for o in g.all(d, ORG.subOrganizationOf)),
                "email": g.one(d, FOAF.mbox).removeprefix("mailto:"),
                "website": g.one(d, FOAF.homepage),
                "administration": "ja" if QS.Administration in g.props[d].get(RDF.type, {}) else "",
            }
        )

    for ident, p in g.typed(FOAF.Person, person):
        memberships = g.inverse[ORG.member].get(p, [])
        roles = sorted({g.one(r, SKOS.prefLabel) for m in memberships for r in g.all(m, ORG.role)})
        rows["people"].append(
            {
                "id": ident,
                "name": g.one(p, FOAF.name),
                "email": g.one(p, FOAF.mbox).removeprefix("mailto:"),
                "phone": g.one(p, FOAF.phone).removeprefix("tel:"),
                "department": _join(_tail(o, dept) for o in g.all(p, ORG.memberOf)),
                "role": _join(roles),
            }
        )

    for ident, p in g.typed(QS.Project, f"{base}project/"):
        leads, partners = [], []
        for a in g.all(p, PROV.qualifiedAssociation):
            agents = [_tail(o, dept) for o in g.all(a, PROV.agent)]
            (leads if QS.LeadRole in g.props[a].get(PROV.hadRole, {}) else partners).extend(agents)
        status = g.one(p, QS.status).removeprefix(str(QS))
        rows["projects"].append(
            {
                "id": ident,
                "title": g.one(p, DCT["title"]),
                "description": g.one(p, DCT.description),
                "lead_department": _join(sorted(leads)),
                "partner_departments": _join(sorted(partners)),
                "sdg": _join(_sdg_code(o) for o in g.all(p, QS.contributesTo)),
                "status": _STATUS_DE.get(status, status),
                "start": g.one(p, PROV.startedAtTime),
                "end": g.one(p, PROV.endedAtTime),
                "uses_datasets": _join(_tail(o, ds) for o in g.all(p, PROV.used)),
                "contact_person": _join(_tail(o, person) for o in g.all(p, QS.contactPerson)),
                "url": g.one(p, FOAF.homepage),
                "strategy": _join(_tail(o, strategy) for o in g.all(p, QS.implements)),
            }
        )

    for ident, d in g.typed(DCAT.Dataset, ds):
        dists = sorted(g.all(d, DCAT.distribution), key=lambda o: _distribution_number(o.value))
        rows["datasets"].append(
            {
                "id": ident,
                "title": g.one(d, DCT["title"]),
                "description": g.one(d, DCT.description),
                "department": _join(_tail(o, dept) for o in g.all(d, DCT.creator)),
                "sdg": _join(_sdg_code(o) for o in g.all(d, DCT.subject)),
                "theme": _join(_tail(o, str(EU_THEME)) for o in g.all(d, DCAT.theme)),
                "category": _join(
                    o.value for o in g.all(d, DCT.references) if o.value.startswith(MUSTERDATENKATALOG_NS)
                ),
                "license": _positional([g.one(x, DCT.license).removeprefix(str(DCATDE_LICENSE)) for x in dists]),
                "format": _positional([g.one(x, DCT["format"]).removeprefix(str(EU_FILE_TYPE)) for x in dists]),
                "access_url": _positional([g.one(x, DCAT.accessURL) for x in dists]),
                "download_url": _positional([g.one(x, DCAT.downloadURL) for x in dists]),
                "keywords": _join(o.value for o in g.all(d, DCAT.keyword)),
                "public": "nein" if d in g.internal else "ja",
                "modified": g.one(d, DCT.modified),
                "frequency": g.one(d, DCT.accrualPeriodicity).removeprefix(str(EU_FREQUENCY)),
            }
        )

    for ident, i in g.typed(QS.Indicator, f"{base}indicator/"):
        row = {
            "id": ident,
            "title": g.one(i, SKOS.prefLabel),
            "unit": g.one(i, QS.unit),
            "sdg": _join(_sdg_code(o) for o in g.all(i, DCT.subject)),
            "department": _join(_tail(o, dept) for o in g.all(i, DCT.creator)),
        }
        for o in sorted(g.inverse[QB.dataSet].get(i, []), key=lambda o: o.value):
            year = g.one(o, SDMX_DIMENSION.refPeriod)
            if YEAR_RE.match(year):
                row[year] = g.one(o, SDMX_MEASURE.obsValue)
        rows["indicators"].append(row)

    for ident, c in g.typed(SKOS.Concept, strategy):
        levels = [label for cls, label in _LEVEL_OUT.items() if cls in g.props[c].get(RDF.type, {})]
        rows["strategy"].append(
            {
                "id": ident,
                "level": _join(levels),
                "title": g.one(c, SKOS.prefLabel),
                "parent": _join(_tail(o, strategy) for o in g.all(c, SKOS.broader)),
                "sdg": _join(_sdg_code(o) for o in g.all(c, QS.contributesTo)),
            }
        )
    return rows


def _distribution_number(iri: str) -> tuple[int, str]:
    tail = iri.rsplit("/", 1)[-1]
    return (int(tail), iri) if tail.isdigit() else (1 << 30, iri)
