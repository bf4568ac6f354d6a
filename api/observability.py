"""Operations: `/readyz`, Prometheus metrics at `/metrics`, an optional JSON-lines access log, security headers.

`install(app)` adds all of it to an app built by `create_app`. Every app gets its own metrics registry,
so that several apps in one process (tests) do not share counters. Routes are labelled by their
template (`/page/{kind}/{id:path}`), never by the requested path, so the label set stays bounded.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Role, authenticate, require
from api.responses import TRUNCATED_HEADER
from api.security import SecurityHeaders, XmlEntityGuard
from api.service_description import endpoint_iri

ACCESS_LOGGER = "querschnitt.access"
# Seconds; SPARQL answers range from sub-millisecond lookups to the query deadline.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The request metrics of one app."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.requests = Counter(
            "querschnitt_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "querschnitt_http_request_duration_seconds",
            "Time to the end of the response body.",
            ["route"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.timeouts = Counter(
            "querschnitt_query_timeouts", "Requests stopped at the query deadline (504).", ["route"], registry=registry
        )
        self.truncations = Counter(
            "querschnitt_query_truncations", "Results cut at the row cap.", ["route"], registry=registry
        )


class StoreCollector:
    """Store size at scrape time, from the metadata graph (cheap) and the directory on disk."""

    def __init__(self, app: FastAPI):
        self.app = app

    def collect(self):
        store = getattr(self.app.state, "store", None)
        if store is None:
            return
        triples = GaugeMetricFamily("querschnitt_store_triples", "Triples in the source graphs.", labels=["visibility"])
        graphs = GaugeMetricFamily("querschnitt_store_graphs", "Source graphs.", labels=["visibility"])
        try:
            infos = store.graphs(include_internal=True)
        except Exception:  # a store that cannot answer shows up in /readyz; the scrape must still work
            infos = []
        for visibility in ("public", "internal"):
            chosen = [g for g in infos if str(g.visibility) == visibility]
            triples.add_metric([visibility], sum(g.triples for g in chosen))
            graphs.add_metric([visibility], len(chosen))
        yield triples
        yield graphs
        path = getattr(store, "path", None)
        if isinstance(path, Path) and path.is_dir():
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            yield GaugeMetricFamily("querschnitt_store_disk_bytes", "Bytes of the on-disk store.", value=size)


def route_template(scope: Scope, *, root_path: str = "") -> str:
    """The template of the route that served `scope` (routing records it in the scope), or `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    if path is not None:
        return path
    if scope.get("root_path", "") != root_path:
        # A mounted app (static files) moved its prefix into root_path.
        return scope["root_path"][len(root_path) :] + "/{path}"
    return "unmatched"


class Observe:
    """ASGI middleware: count, time and (optionally) log every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: bool):
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        seen = {"status": 500, "bytes": 0, "truncated": False}

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.decode("latin-1").lower() == TRUNCATED_HEADER.lower() and value == b"true":
                        seen["truncated"] = True
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, root_path=root_path)
            status = seen["status"]
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if status == 504:
                self.metrics.timeouts.labels(route).inc()
            if seen["truncated"]:
                self.metrics.truncations.labels(route).inc()
            if self.access_log:
                self._log(scope, route, status, seconds, seen["bytes"])

    def _log(self, scope: Scope, route: str, status: int, seconds: float, size: int) -> None:
        # No query string and no headers: they can hold SPARQL text with names, or tokens.
        client = scope.get("client") or ("", 0)
        self.logger.info(
            json.dumps(
                {
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "bytes": size,
                    "client": client[0],
                },
                ensure_ascii=False,
            )
        )


def install(app: FastAPI, *, access_log: bool | None = None) -> None:
    """Add `/readyz`, `/metrics`, request metrics, the access log (JSON lines), security headers and the XML guard.

    `access_log` defaults to the setting `access_log_json`.
    """
    settings = app.state.settings
    if access_log is None:
        access_log = settings.access_log_json
    registry = CollectorRegistry()
    registry.register(StoreCollector(app))
    metrics = Metrics(registry)
    app.state.metrics = metrics

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "The store does not answer."}})
    def readyz(request: Request) -> JSONResponse:
        """The store answers a query (503 when it does not, or is not open yet)."""
        store = getattr(request.app.state, "store", None)
        retry = {"Retry-After": "5"}
        if store is None:
            return JSONResponse({"status": "unavailable", "reason": "store not open"}, status_code=503, headers=retry)
        try:
            store.query("ASK { ?s ?p ?o }")
        except Exception as error:  # any failure to answer means "not ready"; the reason helps operators
            return JSONResponse(
                {"status": "unavailable", "reason": type(error).__name__}, status_code=503, headers=retry
            )
        return JSONResponse({"status": "ok"})

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={401: {"description": "No staff token."}, 403: {"description": "Not a staff token."}},
    )
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics (text exposition format 0.0.4); needs a staff token (reader or higher)."""
        # The store's triple and graph counts include the internal graphs: not for anonymous callers.
        require(authenticate(request), Role.READER)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    endpoint = urlsplit(endpoint_iri(settings).value)
    # Added last, so outermost: the headers also go on answers from the metrics middleware and /metrics.
    app.add_middleware(XmlEntityGuard)
    app.add_middleware(Observe, metrics=metrics, access_log=access_log)
    app.add_middleware(SecurityHeaders, connect=f"{endpoint.scheme}://{endpoint.netloc}")
