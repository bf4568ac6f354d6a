"""The FastAPI application, built from explicit inputs: `create_app(settings, store=...)`."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from api.named_queries import QueryRegistry
from api.settings import Settings
from api.store import EmbeddedStore, open_store


def create_app(settings: Settings | None = None, *, store: EmbeddedStore | None = None) -> FastAPI:
    """Build the app; the store is opened in the lifespan unless one is given (tests pass their own)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owns_store = store is None
        app.state.store = store if store is not None else open_store(settings.store)
        try:
            yield
        finally:
            if owns_store:
                app.state.store.flush()

    app = FastAPI(
        title="Querschnitt",
        description="Departments, projects, datasets and the UN SDGs of a municipality as linked data.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.queries = QueryRegistry()

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/api/graphs", tags=["data"])
    def graphs(request: Request) -> list[dict]:
        """The public source graphs with their metadata."""
        return [
            {
                "graph": g.iri,
                "source": g.source,
                "loader": g.loader,
                "modified": g.modified.isoformat(),
                "triples": g.triples,
            }
            for g in request.app.state.store.graphs(include_internal=False)
        ]

    return app
