"""The staff workbook: its sheets, columns and code lists, and reading/writing it as XLSX, ODS or CSV."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from loaders.report import Problem, Severity

Cell = str | int | float | bool | date | datetime | time


# --- code lists -------------------------------------------------------------------------------------

THEMES: dict[str, str] = {
    "AGRI": "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel",
    "ECON": "Wirtschaft und Finanzen",
    "EDUC": "Bildung, Kultur und Sport",
    "ENER": "Energie",
    "ENVI": "Umwelt",
    "GOVE": "Regierung und öffentlicher Sektor",
    "HEAL": "Gesundheit",
    "INTR": "Internationale Themen",
    "JUST": "Justiz, Rechtssystem und öffentliche Sicherheit",
    "OP_DATPRO": "Vorläufige Daten",
    "REGI": "Regionen und Städte",
    "SOCI": "Bevölkerung und Gesellschaft",
    "TECH": "Wissenschaft und Technologie",
    "TRAN": "Verkehr",
}

# dcat-ap.de licence ids (the tail of http://dcat-ap.de/def/licenses/{id}), case as published.
LICENSES: dict[str, str] = {
    "dl-zero-de/2.0": "Datenlizenz Deutschland – Zero – Version 2.0",
    "dl-by-de/2.0": "Datenlizenz Deutschland Namensnennung 2.0",
    "dl-by-de/1.0": "Datenlizenz Deutschland Namensnennung 1.0",
    "dl-by-nc-de/1.0": "Datenlizenz Deutschland Namensnennung nicht-kommerziell 1.0",
    "cc-zero": "Creative Commons CC Zero",
    "cc-by/4.0": "Creative Commons Namensnennung 4.0 International",
    "cc-by": "Creative Commons Namensnennung",
    "cc-by-de/3.0": "Creative Commons Namensnennung 3.0 Deutschland",
    "cc-by-sa/4.0": "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0",
    "cc-by-sa": "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen",
    "cc-by-sa-de/3.0": "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 3.0 DE",
    "cc-by-nc/4.0": "Creative Commons Namensnennung – Nicht kommerziell 4.0 International",
    "cc-by-nc": "Creative Commons Namensnennung – Nicht kommerziell",
    "cc-by-nc-de/3.0": "Creative Commons Namensnennung – Nicht kommerziell 3.0 Deutschland",
    "cc-by-nd/4.0": "Creative Commons Namensnennung – Keine Bearbeitung 4.0 International",
    "cc-by-nd/3.0": "Creative Commons Namensnennung – Keine Bearbeitung 3.0",
    "cc-by-nd": "Creative Commons Namensnennung – Keine Bearbeitung",
    "ccpdm/1.0": "Public Domain Mark 1.0",
    "officialWork": "Amtliches Werk, lizenzfrei nach § 5 Abs. 1 UrhG",
    "geonutz/20130319": "Nutzungsbestimmungen für Geodaten des Bundes",
    "geoNutz/20131001": "Nutzungsbestimmungen für Geodaten des Landes Berlin",
    "odbl": "Open Data Commons Open Database License",
    "odby": "Open Data Commons Attribution License",
    "odcpddl": "Open Data Commons Public Domain Dedication and Licence",
    "apache": "Apache License",
    "bsd": "BSD-Lizenz",
    "gfdl": "GNU Free Documentation License",
    "gpl/3.0": "GNU General Public License 3.0",
    "mozilla": "Mozilla Public License 2.0",
    "other-open": "Andere offene Lizenz",
    "other-opensource": "Andere Open-Source-Lizenz",
    "other-freeware": "Andere Freeware-Lizenz",
    "other-commercial": "Andere kommerzielle Lizenz",
    "other-closed": "Andere geschlossene Lizenz",
}
# Spellings staff copy from licence texts and portals, mapped to the dcat-ap.de id.
LICENSE_ALIASES: dict[str, str] = {
    "dl-de/by-2-0": "dl-by-de/2.0",
    "dl-de-by-2.0": "dl-by-de/2.0",
    "dl-de/zero-2-0": "dl-zero-de/2.0",
    "dl-de-zero-2.0": "dl-zero-de/2.0",
    "cc by 4.0": "cc-by/4.0",
    "cc-by-4.0": "cc-by/4.0",
    "cc0": "cc-zero",
    "cc0-1.0": "cc-zero",
}

# EU file types (http://publications.europa.eu/resource/authority/file-type/) common in municipal data.
FORMATS: tuple[str, ...] = (
    "7Z", "ATOM", "BMP", "CSS", "CSV", "DBF", "DOC", "DOCX", "DWG", "DXF", "ECW", "EPUB", "EXE",
    "GDB", "GEOJSON", "GIF", "GML", "GMZ", "GPKG", "GRID", "GRID_ASCII", "GZIP", "HDF", "HTML",
    "HTML5", "ICS", "JPEG", "JPEG2000", "JS", "JSON", "JSON_LD", "KML", "KMZ", "LAS", "LAZ",
    "MAP_PRVW", "MAP_SRVC", "MDB", "MPEG4", "MXD", "NETCDF", "OCTET", "ODS", "ODT", "ODP", "OWL",
    "PDF", "PDFA1A", "PDFA1B", "PDFA2A", "PDFA2B", "PDFA3", "PDFUA", "PNG", "PPT", "PPTX", "PS",
    "QGS", "RAR", "RDF", "RDF_N_QUADS", "RDF_N_TRIPLES", "RDF_TRIG", "RDF_TURTLE", "RDF_XML",
    "REST", "RSS", "RTF", "SHP", "SPARQLQ", "SQL", "SVG", "TAB", "TAR", "TAR_GZ", "TIFF", "TSV",
    "TXT", "WCS_SRVC", "WFS_SRVC", "WMS_SRVC", "XHTML", "XLS", "XLSB", "XLSM", "XLSX", "XML",
    "XSLT", "XYZ", "ZIP",
)  # fmt: skip
FORMAT_ALIASES: dict[str, str] = {
    "WMS": "WMS_SRVC", "WFS": "WFS_SRVC", "WCS": "WCS_SRVC", "SHAPE": "SHP", "SHAPEFILE": "SHP",
    "EXCEL": "XLSX", "JSONLD": "JSON_LD", "TURTLE": "RDF_TURTLE", "TTL": "RDF_TURTLE", "JPG": "JPEG",
    "TIF": "TIFF", "GEOPACKAGE": "GPKG", "HTM": "HTML", "TEXT": "TXT",
}  # fmt: skip

# EU frequencies (http://publications.europa.eu/resource/authority/frequency/).
FREQUENCIES: tuple[str, ...] = (
    "CONT", "UPDATE_CONT", "HOURLY", "BIHOURLY", "TRIHOURLY", "DAILY", "DAILY_2", "WEEKLY",
    "WEEKLY_2", "WEEKLY_3", "BIWEEKLY", "MONTHLY", "MONTHLY_2", "MONTHLY_3", "BIMONTHLY",
    "QUARTERLY", "ANNUAL", "ANNUAL_2", "ANNUAL_3", "BIENNIAL", "TRIENNIAL", "QUADRENNIAL",
    "QUINQUENNIAL", "DECENNIAL", "BIDECENNIAL", "TRIDECENNIAL", "IRREG", "OTHER", "NEVER",
    "UNKNOWN", "OP_DATPRO",
)  # fmt: skip
# German names of the common frequencies, as written in the template's drop-down and help text; the
# loader reads them in any case and with umlauts spelt out (`jaehrlich`) too.
FREQUENCY_LABELS: dict[str, str] = {
    "CONT": "kontinuierlich", "HOURLY": "stündlich", "DAILY": "täglich", "WEEKLY": "wöchentlich",
    "BIWEEKLY": "zweiwöchentlich", "MONTHLY": "monatlich", "BIMONTHLY": "zweimonatlich",
    "QUARTERLY": "vierteljährlich", "ANNUAL_2": "halbjährlich", "ANNUAL": "jährlich",
    "BIENNIAL": "zweijährlich", "IRREG": "unregelmäßig", "NEVER": "nie", "UNKNOWN": "unbekannt",
    "OTHER": "sonstige",
}  # fmt: skip
FREQUENCY_ALIASES: dict[str, str] = {
    **{label: code for code, label in FREQUENCY_LABELS.items()},
    "quartalsweise": "QUARTERLY",
}

# canonical value → spellings accepted (normalised with `norm`); the first German one is written back.
STATUSES: dict[str, tuple[str, ...]] = {
    "planned": ("geplant", "planned", "inplanung", "planung"),
    "running": ("laufend", "running", "ongoing", "inumsetzung", "aktiv"),
    "completed": ("abgeschlossen", "completed", "done", "beendet", "fertig"),
}
LEVELS: dict[str, tuple[str, ...]] = {
    "guiding_principle": ("leitlinie", "guidingprinciple", "leitbild"),
    "strategic_goal": ("strategischesziel", "strategicgoal"),
    "operational_goal": ("operativesziel", "operationalgoal"),
}
YES = ("ja", "j", "yes", "y", "true", "wahr", "1", "x", "oeffentlich", "public")
NO = ("nein", "n", "no", "false", "falsch", "0", "intern", "internal")


# --- the workbook's schema --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet: canonical key, German header, accepted aliases and help texts."""

    key: str
    header: str
    help_de: str
    help_en: str
    example: str = ""
    aliases: tuple[str, ...] = ()
    required: bool = False
    multi: bool = False
    choices: str | None = None  # name of a list on the hidden `Listen` sheet for a drop-down


@dataclass(frozen=True)
class SheetSpec:
    """One sheet: canonical name, German name, aliases and its columns in template order."""

    name: str
    title: str
    aliases: tuple[str, ...]
    help_de: str
    help_en: str
    columns: tuple[Column, ...]
    year_columns: bool = False

    def column(self, key: str) -> Column | None:
        """The column with canonical `key`, or None (year columns have no spec)."""
        return next((c for c in self.columns if c.key == key), None)


def _id(what_de: str, what_en: str, example: str) -> Column:
    return Column(
        "id",
        "ID",
        f"Eindeutige Kennung {what_de}: Buchstaben (auch Umlaute), Ziffern, Punkt, Binde- und Unterstrich; "
        "wird Teil der Web-Adresse (IRI) und sollte sich nie ändern.",
        f"Unique id of {what_en}: letters (umlauts too), digits, dot, hyphen, underscore; becomes part of the IRI, "
        "should never change.",
        example,
        ("kennung", "kuerzel", "schluessel", "identifier"),
        required=True,
    )


_SDG_HELP = (
    "SDG-Ziele oder -Unterziele, z. B. 11 oder 11.2 oder SDG 11.2; mehrere mit ; trennen.",
    "SDG goals or targets, e.g. 11 or 11.2 or SDG 11.2; separate several with ;.",
)
_DEPT_ALIASES = ("amt", "fachbereich", "department", "organisationseinheit", "dienststelle", "abteilung")
_SDG_ALIASES = ("ziele", "sdgs", "sdgziele", "nachhaltigkeitsziele", "goals", "targets")

SHEETS: dict[str, SheetSpec] = {
    s.name: s
    for s in (
        SheetSpec(
            "departments", "Ämter", ("aemter", "organisationseinheiten", "fachbereiche", "aemterliste"),
            "Die Organisationseinheiten der Verwaltung (Ämter, Fachbereiche, Stabsstellen).",
            "The administration's organisational units.",
            (
                _id("des Amts", "the department", "61"),
                Column("name", "Name", "Name des Amts.", "Name of the department.",
                       "Stadtplanungsamt", ("bezeichnung",), required=True),
                Column("parent", "übergeordnet", "ID des übergeordneten Amts bzw. Dezernats (leer lassen "
                       "für oberste Ebene).", "Id of the parent unit (empty for the top level).", "dez-6",
                       ("uebergeordnet", "parent", "dezernat", "uebergeordnetesamt")),
                Column("email", "E-Mail", "Funktionspostfach des Amts (öffentlich, keine persönliche "
                       "Adresse).", "Functional mailbox of the department (public, not personal).",
                       "stadtplanung@musterstadt.example", ("mail", "email", "funktionspostfach")),
                Column("website", "Webseite", "Webseite des Amts (http/https).",
                       "Department website (http/https).", "https://musterstadt.example/stadtplanung",
                       ("website", "homepage", "url", "internetseite")),
                Column("aliases", "Weitere Namen", "Andere Schreibweisen des Namens, wie sie im Open-Data-Portal "
                       "oder anderswo stehen, mit ; getrennt.", "Other spellings of the name, as the open-data "
                       "portal or others write it; separate several with ;.", "Amt für Stadtplanung; Planungsamt",
                       ("aliase", "alias", "aliasse", "weiterenamen", "andere namen", "synonyme"), multi=True),
                Column("administration", "eigene Verwaltung", "ja, wenn die Einheit eine Verwaltung für sich ist "
                       "(z. B. ein Bezirksamt): fehlende Brücken zwischen Ämtern werden dann nur innerhalb derselben "
                       "Verwaltung gesucht. Leer = nein.", "yes when the unit is an administration of its own (e.g. "
                       "a district office): missing bridges between departments are then only sought within one "
                       "administration. Empty = no.", "nein",
                       ("verwaltung", "eigeneverwaltung", "bezirksamt", "administration"), choices="yes_no"),
            ),
        ),
        SheetSpec(
            "people", "Personen", ("personen", "mitarbeitende", "ansprechpersonen", "kontakte"),
            "Ansprechpersonen in der Verwaltung. Wird nur intern veröffentlicht.",
            "Contact persons in the administration. Only published internally.",
            (
                _id("der Person", "the person", "mmuster"),
                Column("name", "Name", "Vor- und Nachname.", "Full name.", "Maria Muster",
                       required=True),
                Column("email", "E-Mail", "Dienstliche E-Mail-Adresse.", "Work e-mail address.",
                       "maria.muster@musterstadt.example", ("mail", "email")),
                Column("phone", "Telefon", "Dienstliche Telefonnummer.", "Work phone number.",
                       "+49 621 1234-56", ("phone", "tel", "telefonnummer")),
                Column("department", "Amt", "ID des Amts, in dem die Person arbeitet.",
                       "Id of the person's department.", "61", _DEPT_ALIASES),
                Column("role", "Rolle", "Funktion im Amt, z. B. Amtsleitung, Sachbearbeitung.",
                       "Role in the department, e.g. head, officer.", "Amtsleitung",
                       ("role", "funktion")),
            ),
        ),
        SheetSpec(
            "projects", "Projekte", ("projekte", "vorhaben", "massnahmen"),
            "Projekte und Vorhaben mit federführendem Amt, Partnern und SDG-Bezug.",
            "Projects with lead department, partners and SDG links.",
            (
                _id("des Projekts", "the project", "radweg-nord"),
                Column("title", "Titel", "Kurzer Titel des Projekts.", "Short project title.",
                       "Radschnellweg Nord", ("title", "name", "projekttitel", "bezeichnung"),
                       required=True),
                Column("description", "Beschreibung", "Kurzbeschreibung (ein paar Sätze).",
                       "Short description.", "Ausbau des Radwegs …", ("description", "kurzbeschreibung")),
                Column("lead_department", "Federführung", "ID des federführenden Amts (genau eines).",
                       "Id of the lead department (exactly one).", "66",
                       ("federfuehrung", "federfuehrendesamt", "lead", "leaddepartment", "amt",
                        "fachbereich")),
                Column("partner_departments", "Beteiligte Ämter", "IDs weiterer beteiligter Ämter, "
                       "mit ; getrennt.", "Ids of partner departments, separated by ;.", "61; 32",
                       ("partner", "beteiligteaemter", "partnerdepartments", "beteiligte"), multi=True),
                Column("sdg", "SDG", *_SDG_HELP, "11.2; 3.6", _SDG_ALIASES, multi=True, choices="sdg"),
                Column("status", "Status", "geplant, laufend oder abgeschlossen.",
                       "planned, running or completed.", "laufend", ("stand",), choices="status"),
                Column("start", "Beginn", "Startdatum (TT.MM.JJJJ oder JJJJ-MM-TT).",
                       "Start date (DD.MM.YYYY or YYYY-MM-DD).", "01.03.2024",
                       ("start", "startdatum", "von", "projektbeginn")),
                Column("end", "Ende", "Enddatum (TT.MM.JJJJ oder JJJJ-MM-TT), nicht vor dem Beginn.",
                       "End date, not before the start.", "31.12.2026",
                       ("end", "enddatum", "bis", "projektende")),
                Column("uses_datasets", "nutzt Datensätze", "IDs der Datensätze, die das Projekt nutzt, "
                       "mit ; getrennt.", "Ids of datasets the project uses, separated by ;.",
                       "radverkehrszaehlung", ("nutztdatensaetze", "datensaetze", "usesdatasets", "daten"),
                       multi=True),
                Column("contact_person", "Ansprechperson", "ID der Ansprechperson (Blatt Personen); "
                       "wird nur intern veröffentlicht.", "Id of the contact person (sheet Personen); "
                       "only published internally.", "mmuster",
                       ("ansprechpartner", "ansprechpartnerin", "kontakt", "contactperson", "contact")),
                Column("url", "Webseite", "Projektseite (http/https).", "Project web page (http/https).",
                       "https://musterstadt.example/radweg", ("webseite", "website", "homepage", "link")),
                Column("strategy", "Strategie", "IDs operativer Ziele aus dem Blatt Strategie, die das "
                       "Projekt umsetzt, mit ; getrennt.", "Ids of operational goals (sheet Strategie) "
                       "the project implements, separated by ;.", "oz-1.1.2",
                       ("strategie", "operativeziele", "strategy", "implements"), multi=True),
            ),
        ),
        SheetSpec(
            "datasets", "Datensätze", ("datensaetze", "daten", "datenbestaende", "datasets"),
            "Datensätze der Ämter (Open Data und interne Daten).",
            "The departments' datasets (open and internal).",
            (
                _id("des Datensatzes", "the dataset", "radverkehrszaehlung"),
                Column("title", "Titel", "Titel des Datensatzes.", "Dataset title.",
                       "Radverkehrszählung", ("title", "name", "bezeichnung"), required=True),
                Column("description", "Beschreibung", "Beschreibung des Inhalts.", "Description.",
                       "Stündliche Zählwerte …", ("description",)),
                Column("department", "Amt", "ID des Amts, das den Datensatz erstellt.",
                       "Id of the creating department.", "66", _DEPT_ALIASES + ("herausgeber",)),
                Column("sdg", "SDG", *_SDG_HELP, "11.2", _SDG_ALIASES, multi=True, choices="sdg"),
                Column("theme", "Thema", "EU-Datenthema als Code (z. B. TRAN für Verkehr); mehrere mit ; "
                       "trennen.", "EU data theme code (e.g. TRAN); separate several with ;.", "TRAN",
                       ("theme", "kategorie", "datenthema"), multi=True, choices="theme"),
                Column("license", "Lizenz", "Lizenz-ID nach dcat-ap.de, z. B. dl-by-de/2.0 oder "
                       "dl-zero-de/2.0.", "dcat-ap.de licence id, e.g. dl-by-de/2.0.", "dl-by-de/2.0",
                       ("lizenz", "license", "licence", "nutzungsbedingungen"), choices="license"),
                Column("format", "Format", "Dateiformat als EU-Code (CSV, JSON, XLSX, GEOJSON, PDF, SHP, "
                       "WMS_SRVC …). Mehrere Distributionen: Werte mit ; trennen, in derselben "
                       "Reihenfolge wie die URLs.", "EU file type code; for several distributions separate "
                       "with ; in the order of the URLs.", "CSV", ("format", "dateiformat", "dateityp"),
                       multi=True, choices="format"),
                Column("access_url", "Zugangs-URL", "Seite, über die die Daten erreichbar sind "
                       "(http/https).", "Page giving access to the data (http/https).",
                       "https://opendata.musterstadt.example/radverkehr", ("zugangsurl", "accessurl",
                                                                           "zugang")),
                Column("download_url", "Download-URL", "Direkter Link auf die Datei (http/https).",
                       "Direct link to the file (http/https).",
                       "https://opendata.musterstadt.example/radverkehr.csv", ("downloadurl", "download")),
                Column("keywords", "Schlagwörter", "Schlagwörter, mit ; getrennt.",
                       "Keywords, separated by ;.", "Radverkehr; Mobilität",
                       ("schlagwoerter", "schlagworte", "stichwoerter", "keywords", "tags"), multi=True),
                Column("public", "öffentlich", "ja = Open Data (öffentlich), nein = nur intern. Leer gilt "
                       "als nein.", "yes = open data (public), no = internal only. Empty counts as no.",
                       "ja", ("oeffentlich", "public", "opendata", "veroeffentlichen"), choices="public"),
                Column("modified", "geändert", "Datum der letzten Änderung (TT.MM.JJJJ).",
                       "Date of last change.", "15.01.2025",
                       ("geaendert", "modified", "letzteaenderung", "aenderungsdatum", "stand")),
                Column("frequency", "Aktualisierung", "Aktualisierungsrhythmus deutsch (jährlich, monatlich, "
                       "täglich, unregelmäßig …) oder als EU-Code (ANNUAL, MONTHLY, DAILY, IRREG, CONT …); "
                       "die Auswahlliste enthält beides.", "Update frequency in German (jährlich …) or as EU "
                       "code (ANNUAL, MONTHLY, DAILY, IRREG, CONT …); the drop-down lists both.", "jährlich",
                       ("aktualisierung", "frequenz", "frequency", "aktualisierungsrhythmus",
                        "turnus"), choices="frequency"),
                Column("category", "Musterdatenkatalog", "Kategorie des Musterdatenkatalogs (zuerst "
                       "`querschnitt load musterdatenkatalog_v4.rdf`): deutsche Bezeichnung, ihr letzter Teil, "
                       "IRI oder Pfad; mehrere mit ; trennen.", "Musterdatenkatalog category (load "
                       "musterdatenkatalog_v4.rdf first): German label, its last part, IRI or path; separate "
                       "several with ;.", "Fläche - Grünfläche und Grünflächenkataster",
                       ("category", "musterdatenkatalog", "mdkkategorie", "musterdatenkategorie"), multi=True),
            ),
        ),
        SheetSpec(
            "indicators", "Indikatoren", ("indikatoren", "kennzahlen", "indicators"),
            "Kommunale Nachhaltigkeitsindikatoren; je Jahr eine Spalte (2019, 2020 …) mit Zahlenwerten.",
            "Municipal sustainability indicators; one column per year with numbers.",
            (
                _id("des Indikators", "the indicator", "radverkehrsanteil"),
                Column("title", "Titel", "Name des Indikators.", "Indicator name.",
                       "Anteil Radverkehr am Modal Split", ("title", "name", "bezeichnung", "indikator"),
                       required=True),
                Column("unit", "Einheit", "Maßeinheit, z. B. %, t CO2, Anzahl.", "Unit of measure.", "%",
                       ("einheit", "unit", "masseinheit")),
                Column("sdg", "SDG", *_SDG_HELP, "11.2", _SDG_ALIASES, multi=True, choices="sdg"),
                Column("department", "Amt", "ID des verantwortlichen Amts.", "Id of the responsible "
                       "department.", "66", _DEPT_ALIASES),
            ),
            year_columns=True,
        ),
        SheetSpec(
            "strategy", "Strategie", ("strategie", "zielsystem", "nachhaltigkeitsstrategie", "ziele"),
            "Das kommunale Zielsystem: Leitlinien → strategische Ziele → operative Ziele.",
            "The municipal goal system: guiding principles → strategic goals → operational goals.",
            (
                _id("des Ziels", "the goal", "oz-1.1.2"),
                Column("level", "Ebene", "leitlinie, strategisches_ziel oder operatives_ziel.",
                       "guiding_principle, strategic_goal or operational_goal.", "operatives_ziel",
                       ("ebene", "level", "typ", "zielebene"), required=True, choices="level"),
                Column("title", "Titel", "Formulierung des Ziels.", "Wording of the goal.",
                       "Radverkehrsanteil bis 2030 auf 25 % steigern", ("title", "ziel", "name",
                                                                        "bezeichnung"),
                       required=True),
                Column("parent", "übergeordnet", "ID des übergeordneten Ziels (für strategische Ziele eine "
                       "Leitlinie, für operative Ziele ein strategisches Ziel).", "Id of the parent goal.",
                       "sz-1.1", ("uebergeordnet", "parent", "oberziel")),
                Column("sdg", "SDG", *_SDG_HELP, "11.2", _SDG_ALIASES, multi=True, choices="sdg"),
            ),
        ),
    )
}  # fmt: skip

HELP_SHEET = "Hilfe"
LISTS_SHEET = "Listen"
# Sheets of our own template that carry no data; never warned about.
_IGNORED_SHEETS = {"hilfe", "help", "listen", "lists", "anleitung"}


def norm(text: str) -> str:
    """Normalise a header, sheet name or code for matching: lower case, umlauts spelt out, only a-z0-9."""
    text = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text)


def _sheet_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in SHEETS.values():
        for name in (spec.name, spec.title, *spec.aliases):
            out.setdefault(norm(name), spec.name)
    return out


def _column_lookup(spec: SheetSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    # Exact keys and headers first so an alias of one column cannot shadow another column's own name.
    for col in spec.columns:
        out[norm(col.key)] = col.key
        out[norm(col.header)] = col.key
    for col in spec.columns:
        for alias in col.aliases:
            out.setdefault(norm(alias), col.key)
    return out


SHEET_LOOKUP = _sheet_lookup()
COLUMN_LOOKUP = {name: _column_lookup(spec) for name, spec in SHEETS.items()}
YEAR_RE = re.compile(r"^(19|20|21)\d\d$")


def canonical_sheet(name: str) -> str | None:
    """The canonical sheet name for a sheet or CSV file name, or None if unknown."""
    return SHEET_LOOKUP.get(norm(name))


def closest_sheet_title(name: str) -> str:
    """The German title of the known sheet whose name (or alias) is closest to `name`."""
    import difflib

    wanted = norm(name)
    # A known name inside a longer one ("projekte_final") is the likeliest meaning; else the nearest spelling.
    contained = [known for known in SHEET_LOOKUP if known in wanted]
    if contained:
        return SHEETS[SHEET_LOOKUP[max(contained, key=len)]].title
    best = max(SHEET_LOOKUP, key=lambda known: difflib.SequenceMatcher(None, wanted, known).ratio())
    return SHEETS[SHEET_LOOKUP[best]].title


@functools.lru_cache(maxsize=4096)
def canonical_column(sheet: str, header: str) -> str | None:
    """The canonical column key for a header in `sheet`, or None if unknown."""
    spec = SHEETS[sheet]
    key = COLUMN_LOOKUP[sheet].get(norm(header))
    if key is None and spec.year_columns and YEAR_RE.match(header.strip()):
        key = header.strip()
    return key


# --- rows -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: cells by canonical key, plus where it came from (file, sheet, Excel row, columns)."""

    values: Mapping[str, Cell]
    file: str
    sheet: str
    row: int
    columns: Mapping[str, str]  # canonical key → "C (Federführung)", shared by the sheet's rows

    def text(self, key: str) -> str:
        """The cell as text ('' when empty)."""
        return cell_text(self.values.get(key))

    def column(self, key: str) -> str | None:
        """The column label for problems, e.g. `C (Federführung)`."""
        return self.columns.get(key)


Sheets = dict[str, list[Row]]


def cell_text(value: Cell | None) -> str:
    """A cell value as the text staff see (numbers without a spurious `.0`, dates in ISO)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    return value.isoformat()


def column_label(index: int, header: str) -> str:
    """`C (Federführung)` for the 1-based column `index` with its header as written."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index)} ({header})"


def _clean(value: Any) -> Cell | None:
    if isinstance(value, timedelta):
        # A duration cell ([h]:mm format) as the spreadsheet shows it; no column takes durations, so the
        # loader then reports it at its cell instead of failing on a type it cannot print.
        seconds = round(abs(value.total_seconds()))
        sign = "-" if value < timedelta(0) else ""
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def _unguard(text: str) -> str:
    """Undo the `'` that `write_sheets` puts before formula-like CSV cells."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        return text[1:]
    return text


def _needs_guard(text: str) -> bool:
    # A plain number such as -5 cannot be a formula; anything else starting like one could be.
    return text.startswith(_FORMULA_START) and not _NUMBER_RE.match(text)


# --- reading ----------------------------------------------------------------------------------------


@dataclass
class _Reader:
    sheets: Sheets = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # canonical sheet → where it was read from

    def problem(self, de: str, en: str, severity: Severity = Severity.ERROR, **where: Any) -> None:
        self.problems.append(Problem(de, en, severity=severity, **where))

    def table(self, file: str, sheet: str, rows: Iterable[Sequence[Any]]) -> None:
        """Turn one sheet's cell rows (header first) into `Row`s, reporting unknown sheets and columns."""
        canonical = canonical_sheet(sheet)
        if canonical is None:
            if norm(sheet) not in _IGNORED_SHEETS:
                # An error, not a warning: ignoring a renamed sheet ("Projekt") would load it as empty and
                # the replacement would delete everything the previous version of the source had.
                title = closest_sheet_title(sheet)
                self.problem(
                    f"Unbekanntes Blatt „{sheet}“ – meinten Sie »{title}«? "
                    f"Bekannte Blätter: {', '.join(s.title for s in SHEETS.values())}.",
                    f"Unknown sheet '{sheet}' – did you mean '{title}'? "
                    f"Known sheets: {', '.join(SHEETS)} (or their German names).",
                    file=file,
                    sheet=sheet,
                )
            return
        if canonical in self.seen:
            self.problem(
                f"Blatt „{sheet}“ kommt doppelt vor (schon in {self.seen[canonical]}).",
                f"Sheet '{sheet}' given twice (already in {self.seen[canonical]}).",
                file=file,
                sheet=sheet,
            )
            return
        self.seen[canonical] = f"{file}:{sheet}"
        out = self.sheets.setdefault(canonical, [])
        positions: list[tuple[int, str]] = []
        columns: dict[str, str] = {}
        header_seen = False
        for number, cells in enumerate(rows, start=1):
            if not header_seen:
                if not any(_clean(c) is not None for c in cells):
                    continue
                header_seen = True
                for index, raw in enumerate(cells, start=1):
                    header = cell_text(_clean(raw))
                    if not header:
                        continue
                    label = column_label(index, header)
                    key = canonical_column(canonical, header)
                    if key is None:
                        self.problem(
                            f"Unbekannte Spalte „{header}“ wird ignoriert.",
                            f"Unknown column '{header}' is ignored.",
                            Severity.WARNING,
                            file=file,
                            sheet=sheet,
                            row=number,
                            column=label,
                        )
                    elif key in columns:
                        self.problem(
                            f"Spalte „{header}“ kommt doppelt vor (schon {columns[key]}).",
                            f"Column '{header}' appears twice (already {columns[key]}).",
                            file=file,
                            sheet=sheet,
                            row=number,
                            column=label,
                        )
                    else:
                        columns[key] = label
                        positions.append((index - 1, key))
                continue
            values: dict[str, Cell] = {}
            for index, key in positions:
                if index < len(cells):
                    value = _clean(cells[index])
                    if value is not None:
                        values[key] = value
            if values:
                out.append(Row(values, file, sheet, number, columns))


# -- zip-bomb guard -------------------------------------------------------------------------------
# An XLSX file is a zip archive. openpyxl inflates each sheet's XML as it reads, so a few kilobytes
# that expand to gigabytes would keep the loader busy for minutes and fill memory with rows. A real
# staff workbook is a few megabytes unpacked; refuse anything far beyond that before openpyxl opens it.
# The sizes come from the zip's central directory; zipfile never inflates more than the size declared
# there, so a member that lies about its size is cut short (and then fails its CRC check).
MAX_XLSX_UNPACKED_BYTES = 200_000_000


def xlsx_too_large(path: Path, *, limit: int = MAX_XLSX_UNPACKED_BYTES) -> int | None:
    """The unpacked size of the workbook at `path` when it is larger than `limit`, else None."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return None  # not a zip at all: openpyxl reports that as a damaged workbook
    return unpacked if unpacked > limit else None


_WORKBOOK_KINDS = {
    # suffix → (German, English) name of the kind of file, for the message about a damaged one
    ".xlsx": ("Excel-Arbeitsmappe", "Excel workbook"),
    ".xlsm": ("Excel-Arbeitsmappe", "Excel workbook"),
    ".ods": ("LibreOffice-Tabelle", "LibreOffice spreadsheet"),
}


def _xlsx_tables(path: Path) -> Iterator[tuple[str, Iterable[Sequence[Any]]]]:
    """Each worksheet's title and its rows of cell values (cached results for formulas)."""
    from openpyxl import load_workbook

    # openpyxl warns about workbook features it drops (extensions, styles); none matter for reading.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                yield sheet.title, sheet.iter_rows(values_only=True)
        finally:
            workbook.close()


def _ods_tables(path: Path) -> Iterator[tuple[str, Iterable[Sequence[Any]]]]:
    """Each table of an OpenDocument spreadsheet, hidden ones too (as for XLSX), with its rows of values.

    calamine gives formulas' cached results (as openpyxl's `data_only`), numbers, dates and booleans as
    typed values, covered cells of a merged range as empty, and drops the trailing repeated empty rows
    and columns LibreOffice writes (`table:number-rows-repeated="1048576"`), so they cost nothing. Rows
    start at the sheet's first row, so row numbers are the ones LibreOffice shows.
    """
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        for name in workbook.sheet_names:
            yield name, workbook.get_sheet_by_name(name).iter_rows()
    finally:
        workbook.close()


def _read_workbook(path: Path, reader: _Reader) -> None:
    """Read an XLSX or ODS workbook; every sheet goes through `_Reader.table`, whatever the format."""
    kind_de, kind_en = _WORKBOOK_KINDS[path.suffix.lower()]
    tables = _ods_tables if path.suffix.lower() == ".ods" else _xlsx_tables
    unpacked = xlsx_too_large(path)  # an ODS file is a zip archive too
    if unpacked is not None:
        reader.problem(
            f"Die Arbeitsmappe {path.name} wäre entpackt {unpacked:,} Bytes groß (höchstens "
            f"{MAX_XLSX_UNPACKED_BYTES:,}); sie wird nicht gelesen.",
            f"The workbook {path.name} unpacks to {unpacked:,} bytes (at most {MAX_XLSX_UNPACKED_BYTES:,}); "
            "it is not read.",
            file=path.name,
        )
        return
    found = len(reader.seen)
    try:
        staged = _Reader(seen=dict(reader.seen))
        # closing(): a failure mid-sheet still closes the workbook (and ends openpyxl's warning filter) now.
        with contextlib.closing(tables(path)) as each:
            for title, rows in each:
                staged.table(path.name, title, rows)
    except Exception as exc:  # a damaged file can fail anywhere inside zipfile/openpyxl/lxml/calamine
        reader.problem(
            f"Die Datei {path.name} ist keine lesbare {kind_de} (beschädigt oder kein {path.suffix.lower()}): "
            f"{type(exc).__name__}.",
            f"The file {path.name} is not a readable {kind_en} (damaged or not {path.suffix.lower()}): "
            f"{type(exc).__name__}.",
            file=path.name,
        )
        return
    # Only a fully read workbook contributes, so a damaged one yields exactly one problem.
    reader.problems.extend(staged.problems)
    reader.seen.update(staged.seen)
    for name, rows in staged.sheets.items():
        reader.sheets.setdefault(name, []).extend(rows)
    if len(reader.seen) == found and not any(p.severity is Severity.ERROR for p in staged.problems):
        reader.problem(
            f"Die Arbeitsmappe {path.name} enthält kein bekanntes Blatt (z. B. Ämter, Projekte).",
            f"The workbook {path.name} contains no known sheet (e.g. departments, projects).",
            Severity.WARNING,
            file=path.name,
        )


def decode_csv(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252 (German Excel)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """`;` (German Excel), tab or `,`, whichever the header line uses most, ignoring quoted parts."""
    first = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])
    counts = {d: first.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, reader: _Reader) -> None:
    try:
        text = decode_csv(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        reader.problem(
            f"Die Datei {path.name} kann nicht gelesen werden: {exc}.",
            f"The file {path.name} cannot be read: {exc}.",
            file=path.name,
        )
        return
    records = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        rows = [[_unguard(c) for c in record] for record in records]
    except csv.Error as exc:
        reader.problem(
            f"Die CSV-Datei {path.name} ist fehlerhaft: {exc}.",
            f"The CSV file {path.name} is malformed: {exc}.",
            file=path.name,
        )
        return
    reader.table(path.name, path.stem, rows)


def _expand(paths: Sequence[Path], reader: _Reader) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.iterdir())
                if p.suffix.lower() in (".csv", *_WORKBOOK_KINDS) and not p.name.startswith(("~$", "."))
            )
        elif path.exists():
            files.append(path)
        else:
            reader.problem(
                f"Die Datei {path.name} gibt es nicht.",
                f"The file {path.name} does not exist.",
                file=path.name,
            )
    return files


def read_sheets(paths: Sequence[Path]) -> tuple[Sheets, list[Problem]]:
    """Read one XLSX or ODS workbook, CSV files named after their sheets, or a folder of them."""
    reader = _Reader()
    for path in _expand(paths, reader):
        suffix = path.suffix.lower()
        if suffix in _WORKBOOK_KINDS:
            _read_workbook(path, reader)
        elif suffix in (".csv", ".txt"):
            _read_csv(path, reader)
        else:
            reader.problem(
                f"Dateityp {path.suffix or '(ohne Endung)'} von {path.name} wird nicht unterstützt; bitte "
                "als .xlsx, .ods oder .csv speichern.",
                f"File type {path.suffix or '(none)'} of {path.name} is not supported; save as .xlsx, .ods or .csv.",
                file=path.name,
            )
    return reader.sheets, reader.problems


def sheets_from_rows(rows: Mapping[str, Sequence[Mapping[str, Any]]], *, source: str) -> Sheets:
    """Wrap generated rows (plain dicts with canonical keys) as `Sheets`; unknown names raise ValueError."""
    sheets: Sheets = {}
    for sheet_name, dicts in rows.items():
        canonical = canonical_sheet(sheet_name)
        if canonical is None:
            raise ValueError(f"unknown sheet {sheet_name!r}")
        keys = _ordered_keys(canonical, dicts)
        columns = {key: column_label(i, _header(canonical, key)) for i, key in enumerate(keys, start=1)}
        out = sheets.setdefault(canonical, [])
        for number, data in enumerate(dicts, start=2):
            values: dict[str, Cell] = {}
            for key, raw in data.items():
                value = _clean(raw)
                if value is not None:
                    values[canonical_column(canonical, key) or key] = value
            if values:
                out.append(Row(values, source, sheet_name, number, columns))
    return sheets


def _header(sheet: str, key: str) -> str:
    col = SHEETS[sheet].column(key)
    return col.header if col else key


def _ordered_keys(sheet: str, dicts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The sheet's columns in template order plus the year columns present; unknown keys raise."""
    spec = SHEETS[sheet]
    present: set[str] = set()
    for data in dicts:
        for key in data:
            canonical = canonical_column(sheet, str(key))
            if canonical is None:
                raise ValueError(f"unknown column {key!r} in sheet {sheet!r}")
            present.add(canonical)
    years = sorted(k for k in present if YEAR_RE.match(k))
    return [c.key for c in spec.columns] + years


# --- writing ----------------------------------------------------------------------------------------

_DATE_KEYS = {"start", "end", "modified"}
_TEXT_FORMAT = "@"
_DATE_FORMAT = "DD.MM.YYYY"


def _lists(sdg_codes: Sequence[str]) -> dict[str, list[str]]:
    return {
        "sdg": list(sdg_codes),
        "status": [spellings[0] for spellings in STATUSES.values()],
        "theme": list(THEMES),
        "license": list(LICENSES),
        "format": list(FORMATS),
        # German names first, as the help text promises them; then every EU code.
        "frequency": [*FREQUENCY_LABELS.values(), *FREQUENCIES],
        "public": ["ja", "nein"],
        "yes_no": ["ja", "nein"],
        "level": ["leitlinie", "strategisches_ziel", "operatives_ziel"],
    }


def sdg_codes(index: Any) -> list[str]:
    """Each goal's code followed by its targets' codes (`11`, `11.1` … `11.a`), for the drop-down."""
    codes: list[str] = []
    for goal in index.goals():
        codes.append(index.notation(goal))
        codes.extend(index.notation(target) for target in index.targets(goal))
    return codes


def _default_index() -> Any:
    from loaders.sdg import SdgIndex

    return SdgIndex.builtin()


def _write_help(workbook: Any) -> None:
    from openpyxl.styles import Alignment, Font

    ws = workbook.create_sheet(HELP_SHEET, 0)
    bold = Font(bold=True)
    intro = [
        ("Querschnitt – Erfassung von Ämtern, Projekten, Datensätzen und SDG-Bezügen", ""),
        (
            "Jedes Blatt ist eine Tabelle mit Überschriften in Zeile 1; pro Zeile ein Eintrag. "
            "Pflichtspalten sind mit * markiert. Mehrere Werte in einer Zelle mit ; trennen. "
            "Daten als TT.MM.JJJJ oder JJJJ-MM-TT. IDs: Buchstaben (auch ä, ö, ü, ß), Ziffern, . _ - (keine Leerzeichen, "
            "kein /). Personen, Ansprechpersonen und nicht öffentliche Datensätze werden nur intern "
            "veröffentlicht.",
            "",
        ),
        (
            "Querschnitt – departments, projects, datasets and SDG links. Each sheet is a table with "
            "headers in row 1, one entry per row; required columns are marked with *. Separate several "
            "values in one cell with ;. Dates as DD.MM.YYYY or YYYY-MM-DD. People, contact persons and "
            "non-public datasets are only published internally.",
            "",
        ),
        ("", ""),
    ]
    for text, _ in intro:
        ws.append([text])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        [
            "Blatt / sheet",
            "Spalte / column",
            "Schlüssel / key",
            "Pflicht / required",
            "Beschreibung",
            "Description",
            "Beispiel / example",
        ]
    )
    for cell in ws[ws.max_row]:
        cell.font = bold
    for spec in SHEETS.values():
        ws.append([spec.title, "", spec.name, "", spec.help_de, spec.help_en, ""])
        ws.cell(ws.max_row, 1).font = bold
        for col in spec.columns:
            ws.append(
                [spec.title, col.header, col.key, "ja" if col.required else "", col.help_de, col.help_en, col.example]
            )
        if spec.year_columns:
            ws.append(
                [
                    spec.title,
                    "2019, 2020 …",
                    "YYYY",
                    "",
                    "Je Jahr eine Spalte mit dem Zahlenwert (Dezimalkomma oder -punkt).",
                    "One column per year with the numeric value.",
                    "23,5",
                ]
            )
    for letter, width in zip("ABCDEFG", (14, 20, 20, 10, 70, 55, 30), strict=True):
        ws.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = wrap
    for number in (2, 3):
        ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=7)
        ws.cell(number, 1).alignment = wrap
        ws.row_dimensions[number].height = 60


def _write_lists(workbook: Any, lists: Mapping[str, list[str]]) -> dict[str, str]:
    """Put every code list in a column of the hidden `Listen` sheet; return formulas for validations."""
    from openpyxl.utils import get_column_letter

    ws = workbook.create_sheet(LISTS_SHEET)
    ws.sheet_state = "hidden"
    formulas: dict[str, str] = {}
    for index, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(index)
        ws.cell(1, index, name)
        for number, value in enumerate(values, start=2):
            ws.cell(number, index, value).data_type = "s"
        last = max(len(values) + 1, 2)
        formulas[name] = f"={LISTS_SHEET}!${letter}$2:${letter}${last}"
    return formulas


def _set(cell: Any, key: str, value: Any) -> None:
    """Write one value; formula-like text stays text, dates and numbers become real Excel values."""
    from openpyxl.cell.cell import TYPE_STRING

    if isinstance(value, str):
        if key in _DATE_KEYS and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            try:
                cell.value = date.fromisoformat(value)
                cell.number_format = _DATE_FORMAT
                return
            except ValueError:
                pass
        elif YEAR_RE.match(key) and _NUMBER_RE.match(value):
            number = float(value.replace(",", "."))
            cell.value = int(number) if number.is_integer() and "." not in value else number
            return
        cell.value = value
        # openpyxl treats text starting with `=` as a formula; forcing the string type stores it as text.
        cell.data_type = TYPE_STRING
        return
    cell.value = value


def _workbook(rows: Mapping[str, Sequence[Mapping[str, Any]]], codes: Sequence[str]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.remove(workbook.active)
    _write_help(workbook)
    given = {canonical_sheet(name) or name: data for name, data in rows.items()}
    unknown = [name for name in given if name not in SHEETS]
    if unknown:
        raise ValueError(f"unknown sheets {unknown!r}")
    sheets = {name: workbook.create_sheet(spec.title) for name, spec in SHEETS.items()}
    formulas = _write_lists(workbook, _lists(codes))
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for name, spec in SHEETS.items():
        ws = sheets[name]
        data = given.get(name, [])
        keys = _ordered_keys(name, data)
        for index, key in enumerate(keys, start=1):
            col = spec.column(key)
            header = col.header + (" *" if col and col.required else "") if col else key
            cell = ws.cell(1, index, header)
            cell.font, cell.fill = header_font, header_fill
            letter = cell.column_letter
            ws.column_dimensions[letter].width = 14 if YEAR_RE.match(key) else max(14, len(header) + 4)
            if key in ("id", "sdg", "phone", "partner_departments", "lead_department", "department"):
                # Text format stops Excel from turning 11.10 into 11.1 or ids like 061 into 61.
                ws.column_dimensions[letter].number_format = _TEXT_FORMAT
            if col and col.choices:
                validation = DataValidation(type="list", formula1=formulas[col.choices], allow_blank=True)
                # A list check would reject `11.2; 3.6`: multi-valued columns keep the drop-down only.
                validation.showErrorMessage = not col.multi
                if not col.multi:
                    validation.errorTitle = "Ungültiger Wert / invalid value"
                    validation.error = "Bitte einen Wert aus der Liste wählen (siehe Blatt Hilfe)."
                validation.promptTitle = col.header
                validation.prompt = col.help_de[:255]
                validation.showInputMessage = True
                validation.add(f"{letter}2:{letter}1048576")
                ws.add_data_validation(validation)
        positions = {key: index for index, key in enumerate(keys, start=1)}
        for number, item in enumerate(data, start=2):
            for k, raw in item.items():
                if raw is not None and raw != "":
                    key = canonical_column(name, str(k)) or str(k)
                    _set(ws.cell(number, positions[key]), key, raw)
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{ws.cell(1, len(keys)).column_letter}{max(len(data) + 1, 1)}"
    return workbook


def write_template(path: Path, *, sdg_index: Any = None) -> None:
    """Write an empty, documented workbook with German headers, a `Hilfe` sheet and drop-downs."""
    write_sheets({}, path, sdg_index=sdg_index)


def write_sheets(rows: Mapping[str, Sequence[Mapping[str, Any]]], path: Path, *, sdg_index: Any = None) -> None:
    """Write rows as an XLSX workbook (German headers) or, for a directory, one UTF-8 CSV per sheet."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        index = sdg_index if sdg_index is not None else _default_index()
        workbook = _workbook(rows, sdg_codes(index))
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    for name, data in rows.items():
        canonical = canonical_sheet(name)
        if canonical is None:
            raise ValueError(f"unknown sheet {name!r}")
        keys = _ordered_keys(canonical, data)
        with (path / f"{canonical}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=",", lineterminator="\r\n")
            writer.writerow(keys)
            for item in data:
                by_key = {canonical_column(canonical, str(k)) or k: v for k, v in item.items()}
                writer.writerow([_csv_cell(by_key.get(key)) for key in keys])


def _csv_cell(value: Any) -> str:
    text = cell_text(_clean(value))
    # Spreadsheet programs evaluate such cells as formulas (CSV injection); a leading ' keeps them text.
    return "'" + text if _needs_guard(text) else text
