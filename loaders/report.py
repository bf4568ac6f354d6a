"""What a loader says about its source: counts, and problems located by file, sheet, row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pyoxigraph import Quad


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem in a source, located as precisely as the source allows."""

    message_de: str
    message_en: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    severity: Severity = Severity.ERROR

    def location(self) -> str:
        """`file, sheet, row, column` as far as known, e.g. `demo.xlsx:projects:R4:C(lead_department)`."""
        parts = [self.file or "?"]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity.value}: {self.message_de} / {self.message_en}"


@dataclass
class LoadResult:
    """Quads per target graph plus the problems found; `ok` only without errors."""

    graphs: dict[str, list[Quad]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # entity IRI → (file, sheet, row) it was read from, so that later checks (SHACL) can name the row
    origins: dict[str, tuple[str | None, str | None, int | None]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message_de: str, message_en: str, **where) -> None:
        self.problems.append(Problem(message_de, message_en, **where))

    def warn(self, message_de: str, message_en: str, **where) -> None:
        self.problems.append(Problem(message_de, message_en, severity=Severity.WARNING, **where))


class LoadError(Exception):
    """A source could not be loaded; carries every problem found, nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
