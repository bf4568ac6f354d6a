"""Where the data shipped with the package lives: `ontology/` and `queries/` sit beside `loaders/`
both in a checkout and in an installed wheel (pyproject force-include)."""

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PACKAGE_ROOT / "ontology"
QUERIES_DIR = PACKAGE_ROOT / "queries"
