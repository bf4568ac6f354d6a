"""Shared fixtures: store → settings → app → client, and live uvicorn servers on loopback for real clients.

The sample data, tokens and the live-server helper live in `api.testing`, so that test files (which
cannot import this conftest under importlib mode) and the benchmark can use them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from api.store import EmbeddedStore
from api.testing import LiveServer, fill, make_settings


@pytest.fixture
def memory_store() -> EmbeddedStore:
    return fill(EmbeddedStore(None))


@pytest.fixture
def disk_store(tmp_path: Path) -> EmbeddedStore:
    return fill(EmbeddedStore(tmp_path / "store"))


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings, memory_store: EmbeddedStore) -> FastAPI:
    return create_app(settings, store=memory_store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], LiveServer]]:
    """Start live servers for apps built in a test; all stop when the test ends."""
    servers: list[LiveServer] = []

    def start(app: FastAPI) -> LiveServer:
        server = LiveServer(app).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """A live server over the sample data (in memory), shared by a module's read-only tests."""
    store = fill(EmbeddedStore(None))
    with LiveServer(create_app(make_settings(), store=store)) as server:
        server.app.state.test_store = store
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client for the shared live server."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client
