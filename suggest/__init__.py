"""SDG target suggestions for German municipal texts, offline: `suggest("Ausbau der Radwege")`."""

from suggest.engine import Suggester, Suggestion, default_suggester, suggest

__all__ = ["Suggester", "Suggestion", "default_suggester", "suggest"]
