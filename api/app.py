"""The FastAPI application, built from explicit inputs: `create_app(settings, store=...)`."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import (
    docs_page,
    facade,
    gaps,
    graph_store,
    loads,
    observability,
    publishing,
    query_routes,
    review,
    search,
    sparql,
    suggest_routes,
    ui,
    vocabulary,
    void,
)
from api.auth import FailedChecks, parse_tokens
from api.demo import ensure_sdg_taxonomy
from api.errors import install_error_handlers
from api.executor import Admission, make_executor
from api.fairness import ClientMiddleware, FairShare
from api.guard import Allowlist
from api.head import HeadAsGet
from api.named_queries import QueryRegistry
from api.report_tables import WarmUp
from api.responses import MAX_ROWS_HEADER, TRUNCATED_HEADER
from api.settings import Settings
from api.sparql_check import SparqlChecker
from api.store import Store, open_store

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the app; the store is opened in the lifespan unless one is given (tests pass their own)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Queries waiting for a slot each hold a worker thread; the answers being streamed (which hold the
        # slots) need threads too, for every chunk. With anyio's default of 40 threads, 64 clients filled
        # them all with waiters and the slot holders starved until the waiters timed out (503).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(
            limiter.total_tokens, settings.max_queued_queries + 4 * settings.max_concurrent_queries + 40
        )
        owns_store = store is None
        app.state.store = store if store is not None else open_store(settings.store, **settings.remote_options())
        if owns_store:
            # A store the app opens itself holds the SDG taxonomy, as every store the CLI opens (api.demo).
            ensure_sdg_taxonomy(app.state.store, settings)
        # Each client (token or address) holds at most its share of the slots and the queue (api/fairness.py).
        app.state.executor = FairShare(
            make_executor(
                app.state.store,
                mode=settings.query_isolation,
                slots=settings.max_concurrent_queries,
                timeout=settings.query_timeout,
                queue_timeout=settings.query_queue_timeout,
                max_waiting=settings.max_queued_queries,
                cache_bytes=int(settings.query_cache_mb * 1_000_000),
                fast_path=settings.query_fast_path,
            ),
            per_client=settings.max_queries_per_client,
        )
        # Untrusted SPARQL is parsed in processes of its own (api.sparql_check); as many as query slots.
        app.state.checker = SparqlChecker(
            processes=settings.max_concurrent_queries,
            timeout=settings.query_timeout,
            admission=Admission(waiting=settings.max_queued_queries, timeout=settings.query_queue_timeout),
        )
        if owns_store:
            # A server on its own store indexes it for search now, so that the first search does not wait
            # for the whole build (11–12 s at 10^6 triples). Tests that pass a store build theirs on demand.
            app.state.search = search.SearchIndex(app.state.store)
            threading.Thread(target=app.state.search.catch_up, name="search-warm-up", daemon=True).start()
            # The gap reports of each data version are built right after the write that made it (api/gaps.py).
            warm_up = WarmUp(app.state.store, lambda: gaps.warm(app))
            warm_up.start()
        try:
            yield
        finally:
            if owns_store:
                warm_up.stop()
            app.state.executor.close()
            app.state.checker.close()
            if owns_store:
                app.state.store.flush()

    app = FastAPI(
        title="Querschnitt",
        description="Departments, projects, datasets and the UN SDGs of a municipality as linked data.",
        version="0.1.0",
        lifespan=lifespan,
        # /docs is served from vendored files (api/docs_page.py); FastAPI's pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.queries = QueryRegistry()
    app.state.tokens = parse_tokens(settings.tokens)
    app.state.failed_checks = FailedChecks(settings.auth_failures_per_minute)
    app.state.allowlist = Allowlist(settings.service_allowlist)
    install_error_handlers(app)
    # Innermost of the middlewares, so that access log, metrics and CORS see one HEAD request.
    app.add_middleware(HeadAsGet)
    if settings.cors_origins.strip():
        # Read-only access from any page (CORS); no credentials, and no Authorization header, so a
        # staff token can never be used from another origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type"],
            expose_headers=[TRUNCATED_HEADER, MAX_ROWS_HEADER],
        )
    for router in (
        sparql.router,
        graph_store.router,
        loads.router,
        void.router,
        search.router,
        publishing.router,
        query_routes.router_for(app.state.queries),
        facade.router,
        suggest_routes.router,
        review.router,
        docs_page.router,
        vocabulary.router,
        ui.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    observability.install(app)
    app.add_middleware(ClientMiddleware, tokens=app.state.tokens)

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
