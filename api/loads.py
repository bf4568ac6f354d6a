"""What a client needs to prepare a load for this server (`querschnitt load --server`): the server's own IRIs.

IRIs, graph names and the publisher are the server's decision: a client that minted them with its own
settings sent another town's IRIs, which the server stored and its catalog then ignored. The client asks
here first, and sends the base IRI it minted with along with every write; the Graph Store refuses a write
minted for another base (409), so a mismatch cannot be stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import Role, authenticate, require
from api.errors import HttpProblem

router = APIRouter(tags=["loads"])


@router.get("/api/loads")
def load_settings(request: Request) -> dict:
    """The base IRI, graph IRI prefix and municipality that loads for this server must use (editor token)."""
    require(authenticate(request), Role.EDITOR)
    settings = request.app.state.settings
    return {
        "base_iri": settings.base_iri,
        "graph_iri_prefix": settings.graph_iri(""),
        "municipality_name": settings.municipality_name,
        "municipality_key": settings.municipality_key,
    }


def check_minted_for(request: Request) -> None:
    """409 when a write says it was minted for another base IRI than this server's (`minted_for=`)."""
    minted_for = request.query_params.get("minted_for")
    base = request.app.state.settings.base_iri
    if minted_for is not None and minted_for != base:
        raise HttpProblem(
            409,
            f"Die Daten wurden für die Basis-IRI {minted_for} erzeugt, dieser Server verwendet {base}; nichts wurde "
            f"geschrieben. / The data was minted for base IRI {minted_for}, this server uses {base}; nothing was "
            "written. Load with `querschnitt load --server`, which asks the server for its settings.",
        )
