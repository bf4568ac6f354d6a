"""Operations and security headers: `/readyz`, `/metrics`, the JSON access log, headers on every route."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observability import ACCESS_LOGGER, Observe
from api.testing import PERSON, READER, SECRETS, make_settings

SAMPLE_VALUES = {
    "path": "department/stadtentwicklung",
    "kind": "blind-spots",
    "extension": "ttl",
    "name": "blind-spots",
    "id": "stadtentwicklung",
    "code": "11.2",
}


def walk(routes):
    """Every route of the app, through included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from walk(route.original_router.routes)
        else:
            yield route


def sample_path(path: str) -> str:
    """A concrete path for a route template, with public sample values for its parameters."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE_VALUES[m.group(1)], path)


def public_get_paths(app) -> list[str]:
    """Every GET route (but /metrics), as a concrete path."""
    paths = {sample_path(r.path) for r in walk(app.routes) if "GET" in (getattr(r, "methods", None) or ())}
    return sorted(paths - {"/metrics"}) + ["/static/ui/ui.css"]


def metric(client: TestClient, name: str, **labels: str) -> float:
    text = client.get("/metrics", headers=READER).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_readyz_answers_ok_when_the_store_answers(client):
    assert client.get("/readyz").json() == {"status": "ok"}


def test_readyz_is_503_when_the_store_fails(client, app):
    class Broken:
        def query(self, *args, **kwargs):
            raise OSError("disk gone")

    app.state.store = Broken()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_metrics_count_requests_by_route_template(client):
    client.get("/page/department/stadtentwicklung")
    assert (
        metric(client, "querschnitt_http_requests_total", route="/page/{kind}/{id:path}") >= 1
        or metric(client, "querschnitt_http_requests_total", route="unmatched") == 0
    )


def test_metrics_report_the_store_size(client):
    assert metric(client, "querschnitt_store_triples", visibility="public") > 0
    assert metric(client, "querschnitt_store_graphs", visibility="internal") == 1


def test_metrics_count_truncated_results(memory_store):
    with TestClient(create_app(make_settings(max_rows=1), store=memory_store)) as client:
        client.get(
            "/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"}
        )
        assert metric(client, "querschnitt_query_truncations_total", route="/sparql") == 1


def test_metrics_have_a_latency_histogram(client):
    client.get("/healthz")
    assert metric(client, "querschnitt_http_request_duration_seconds_count", route="/healthz") == 1


def test_access_log_is_one_json_object_per_request_without_query_string(memory_store, caplog):
    app = create_app(make_settings(), store=memory_store)
    # The access log is off by default; switch it on before the middleware stack is built.
    (observe,) = [m for m in app.user_middleware if m.cls is Observe]
    observe.kwargs["access_log"] = True
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER), TestClient(app) as client:
        client.get("/sparql", params={"query": "ASK { ?s ?p 'Erika' }"})
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert line["route"] == "/sparql" and line["status"] == 200
    assert "Erika" not in json.dumps(line)


def test_the_route_walk_finds_the_included_routers(app):
    assert {"/sparql", "/page/department/stadtentwicklung", "/catalog.ttl", "/readyz"} <= set(public_get_paths(app))


@pytest.mark.parametrize(
    "header", ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"]
)
def test_every_get_route_sends_the_security_headers(client, app, header):
    missing = [p for p in public_get_paths(app) if header not in client.get(p).headers]
    assert missing == []


def test_html_pages_allow_no_inline_script_without_a_hash(client, app):
    for path in public_get_paths(app):
        response = client.get(path, headers={"Accept": "text/html"})
        if response.headers.get("content-type", "").startswith("text/html"):
            csp = response.headers["Content-Security-Policy"]
            script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
            assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, path
            assert "frame-ancestors 'none'" in csp


def test_yasgui_inline_script_is_allowed_by_its_hash(client):
    csp = client.get("/sparql", headers={"Accept": "text/html"}).headers["Content-Security-Policy"]
    assert "'sha256-" in csp


def test_no_public_get_route_shows_the_internal_person(client, app):
    for path in [*public_get_paths(app), "/page/person/erika-mustermann", f"/id/{PERSON.rsplit('/id/', 1)[1]}"]:
        for accept in ("text/html", "text/turtle", "application/json"):
            # An error page may repeat the requested path; that is the caller's own text, not a leak.
            text = client.get(path, headers={"Accept": accept}).text.replace(path.rsplit("/", 1)[-1], "")
            assert [s for s in SECRETS if s in text] == [], (path, accept)
