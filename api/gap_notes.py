"""What a gap report cannot show, said beside it: an empty report must never look like "no gaps".

Every gap report joins the SDG taxonomy (`sdgo:Target`, `skos:broader`) with the `dct:subject` links of
projects, datasets and indicators. Without the taxonomy, or without a single link at target level
(`11.2`), a target-level report answers with nothing, which reads as "all is well". And a project or
indicator linked only to a goal (`7`) is in no target-level report at all. The CLI (`query`) and the
JSON facade (`/api/gaps`) ask `notes` and say so: a blocking note means the report cannot be right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The level each report works at: "target" reports need target links, "goal" reports only the taxonomy,
# None ignores SDGs. who-works-on works at the level of its `sdg` parameter (see `level`).
REPORT_LEVELS: dict[str, str | None] = {
    "missing-bridges": "target",
    "missing-bridges-summary": "target",
    "unused-datasets": "target",
    "unmeasured-projects": "target",
    "blind-spots": "target",
    "coverage-matrix": "goal",
    "who-works-on": "target",
    "silo-departments": None,
}

# One query for all checks: the presence probes stop at the first match (LIMIT 1), so the cost does not
# grow with the store; the goal-only count reads the subjects of projects and indicators once.
CHECKS = """PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX qs: <https://w3id.org/querschnitt/def#>
SELECT ?check (COUNT(DISTINCT ?x) AS ?n) WHERE {
  { { SELECT ?x WHERE { ?x a sdgo:Target } LIMIT 1 } BIND("taxonomy" AS ?check) }
  UNION
  { { SELECT ?x WHERE { ?x dct:subject ?t . ?t a sdgo:Target } LIMIT 1 } BIND("target-links" AS ?check) }
  UNION
  { VALUES ?kind { qs:Project qs:Indicator }
    ?x a ?kind ; dct:subject ?goal . ?goal a sdgo:Goal .
    FILTER NOT EXISTS { ?x dct:subject ?target . ?target a sdgo:Target }
    BIND(IF(?kind = qs:Project, "goal-only-projects", "goal-only-indicators") AS ?check) }
} GROUP BY ?check"""


@dataclass(frozen=True)
class Note:
    """One thing a report cannot show; `blocking` when the report as a whole cannot be right."""

    code: str
    blocking: bool
    message_de: str
    message_en: str
    count: int = 0

    def message(self, lang: str) -> str:
        """The message in `lang` (German unless `en`)."""
        return self.message_en if lang == "en" else self.message_de


def level(report: str, params: Mapping[str, str] | None = None) -> str | None:
    """The SDG level `report` works at with `params` (a goal code makes who-works-on a goal report)."""
    if report == "who-works-on" and params and "." not in str(params.get("sdg", ".")):
        return "goal"
    return REPORT_LEVELS.get(report)


def notes(report_level: str | None, select: Callable[[str], list[Mapping[str, Any]]]) -> list[Note]:
    """The notes for a report working at `report_level`; `select` runs a SELECT as the caller may see."""
    if report_level is None:
        return []
    found = {row["check"].value: int(row["n"].value) for row in select(CHECKS) if "check" in row}
    if not found.get("taxonomy"):
        return [
            Note(
                "no-sdg-taxonomy",
                True,
                "Die SDG-Taxonomie fehlt im Speicher, daher kann kein Bericht stimmen; "
                "`querschnitt init` lädt sie (jeder Befehl, der einen Speicher öffnet, tut das auch).",
                "The SDG taxonomy is missing from the store, so no report can be right; "
                "`querschnitt init` loads it (so does every command that opens a store).",
            )
        ]
    if report_level != "target":
        return []
    out = []
    if not found.get("target-links"):
        out.append(
            Note(
                "no-target-links",
                True,
                "Kein Projekt, Datensatz oder Indikator ist mit einem SDG-Unterziel (z. B. 11.2) verknüpft; "
                "dieser Bericht arbeitet auf Unterziel-Ebene und kann so nicht stimmen.",
                "No project, dataset or indicator is linked to an SDG target (e.g. 11.2); this report works "
                "at target level and cannot be right.",
            )
        )
    projects, indicators = found.get("goal-only-projects", 0), found.get("goal-only-indicators", 0)
    if projects or indicators:
        out.append(
            Note(
                "goal-only",
                False,
                f"Nur mit einem SDG-Ziel (z. B. 7), nicht mit einem Unterziel verknüpft und daher nicht in "
                f"diesem Bericht: {projects} Projekt(e), {indicators} Indikator(en).",
                f"Linked only to an SDG goal (e.g. 7), not to a target, and so not in this report: "
                f"{projects} project(s), {indicators} indicator(s).",
                projects + indicators,
            )
        )
    return out
