"""Which administration each department belongs to, so that reports pair departments that work together.

A department belongs to the nearest unit above it (or itself) typed `qs:Administration` (a district office,
marked in the staff workbook's `administration` column); with none above it, to the organisation its tree
hangs from (`org:unitOf`: its municipality). A region's store holds several municipalities, each its own
administration; the demo's districts are administrations within the town.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

UNITS = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX qs: <https://w3id.org/querschnitt/def#>
SELECT ?department ?parent ?organisation ?administration WHERE {
  ?department a org:OrganizationalUnit .
  OPTIONAL { ?department org:subOrganizationOf ?parent }
  OPTIONAL { ?department org:unitOf ?organisation }
  OPTIONAL { ?department a qs:Administration BIND(true AS ?administration) }
}"""


def administrations(rows: Iterable[Mapping[str, str | None]]) -> dict[str, str]:
    """department IRI → its administration's IRI, from UNITS' rows (values as plain strings)."""
    parent: dict[str, str] = {}
    top: dict[str, str] = {}
    marked: set[str] = set()
    units: set[str] = set()
    for row in rows:
        unit = row["department"]
        units.add(unit)
        if row.get("parent"):
            parent[unit] = row["parent"]
        if row.get("organisation"):
            top[unit] = row["organisation"]
        if row.get("administration"):
            marked.add(unit)
    found: dict[str, str] = {}
    for unit in units:
        path, current = [], unit
        # Walk up until a marked unit, a known answer or the top; a cycle (invalid data) stops at its start.
        while current not in found and current not in marked and current in parent and current not in path:
            path.append(current)
            current = parent[current]
        if current in found:
            answer = found[current]
        elif current in marked:
            answer = current
        else:
            answer = top.get(current, current)
        for step in (*path, current):
            if step in units:
                found.setdefault(step, answer if step not in marked else step)
    return found


def same_administration(administration_of: Mapping[str, str], a: str, b: str) -> bool:
    """Whether departments `a` and `b` belong to one administration (unknown departments: their own)."""
    return administration_of.get(a, a) == administration_of.get(b, b)
