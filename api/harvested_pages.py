"""Pages for datasets harvested under their portal's own IRIs: which ones the caller may see, and their address.

A harvested portal's datasets keep the portal's IRIs (`https://opendata.example.org/dataset/abc`), so they have
no `/page/{kind}/{id}` path under the base IRI. Their page is `/page/dataset?iri=…` instead:
the same entity page a spreadsheet dataset has. Only IRIs typed `dcat:Dataset` in the caller's graphs get
one; a licence, vocabulary term or homepage outside the base stays a plain link to itself.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI
from pyoxigraph import Literal

from api import gaps, query_runs
from api.auth import Principal
from loaders.vocab import PREFIXES

PAGE = "/page/dataset"

_EXTERNAL = (
    f"PREFIX dcat: <{PREFIXES['dcat']}>\n"
    "SELECT DISTINCT ?dataset WHERE { ?dataset a dcat:Dataset FILTER(isIRI(?dataset) && !STRSTARTS(STR(?dataset), ?base)) }"
)


def dataset_iris(app: FastAPI, principal: Principal) -> frozenset[str]:
    """The `dcat:Dataset` IRIs outside the base IRI that `principal` may see, found once per data version."""

    def build() -> frozenset[str]:
        base = Literal(app.state.settings.base_iri)
        rows = query_runs.select(app, principal, _EXTERNAL, {"base": base}, max_rows=0).rows
        return frozenset(row["dataset"].value for row in rows)

    return gaps.tables(app).get(("external-datasets", principal.sees_internal), build)


def href(iri: str) -> str:
    """The site-relative address of the page of external dataset `iri` (the IRI percent-encoded as a whole)."""
    return f"{PAGE}?{urlencode({'iri': iri})}"
