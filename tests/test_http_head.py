"""`HEAD` answers wherever `GET` does (RFC 9110 §9.3.2): same status and headers, no body."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.store import EmbeddedStore
from api.testing import fill, make_settings

# A value for each path parameter of the app, so that every route is reached with something it knows.
EXAMPLES = {
    "path": "department/stadtentwicklung",
    "name": "sdg-goals",
    "kind": "missing-bridges",
    "id": "stadtentwicklung",
    "code": "11.2",
    "extension": "ttl",
}


def routes(entries) -> list:
    """Every route, the routers that FastAPI includes lazily opened up."""
    found = []
    for route in entries:
        inner = getattr(route, "original_router", None)
        found.extend(routes(inner.routes) if inner is not None else [route])
    return found


def get_paths(app: FastAPI) -> list[str]:
    paths = {r.path for r in routes(app.routes) if isinstance(r, APIRoute) and "GET" in r.methods}
    return sorted(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: EXAMPLES[m.group(1)], p) for p in paths)


APP = create_app(make_settings())
PATHS = get_paths(APP)


def test_the_walk_finds_the_pages_that_used_to_refuse_head():
    assert {"/", "/queries", "/.well-known/void", "/page/department/stadtentwicklung"} <= set(PATHS)


@pytest.fixture(scope="module")
def sample_client() -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=fill(EmbeddedStore(None)))) as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(sample_client, path):
    got = sample_client.get(path, follow_redirects=False)
    head = sample_client.head(path, follow_redirects=False)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.headers.get("content-type") == got.headers.get("content-type")
