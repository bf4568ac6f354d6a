"""Shared fixtures: store → settings → app → client, live uvicorn servers on loopback for real clients, and
the two store backends every store test runs on.

The sample data, tokens and the live-server helper live in `api.testing`, so that test files (which
cannot import this conftest under importlib mode) and the benchmark can use them too.

**Backends.** `backend` is parametrized over `embedded` (pyoxigraph in memory) and `virtuoso` (a
`RemoteStore` on one throw-away Virtuoso that the whole session shares, `tests/virtuoso.py`): a test
asking for `empty_store`, or a store from `backend.new()` / `backend.shared(...)`, runs once on each. The
Virtuoso half skips with the reason where Virtuoso cannot be installed or started (in CI it is installed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import virtuoso as virtuoso_tools  # tests/virtuoso.py (pytest `pythonpath`)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import derived as derived_graphs
from api.app import create_app
from api.demo import load_demo
from api.settings import Settings
from api.store import EmbeddedStore
from api.testing import LiveServer, fill, make_settings

BACKENDS = ("embedded", "virtuoso")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on Virtuoso `virtuoso`, so that `pytest -m "not virtuoso"` leaves them out:
    those using the `virtuoso` fixture (directly or through another), and the `virtuoso` half of a
    parametrized backend (`backend` picks its fixture at run time, which the static closure does not show)."""
    for item in items:
        params = getattr(item, "callspec", None)
        on_virtuoso = "virtuoso" in getattr(item, "fixturenames", ()) or (
            params is not None and "virtuoso" in params.params.values()
        )
        if on_virtuoso:
            item.add_marker(pytest.mark.virtuoso)


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


# -- the two backends -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def virtuoso() -> Iterator:
    """One throw-away Virtuoso on loopback for the session (installed first in CI when missing)."""
    reason = virtuoso_tools.unavailable_reason(install=os.environ.get("CI") == "true")
    if reason is not None:
        pytest.skip(f"no Virtuoso: {reason}")
    try:
        # 160 MB of cache: the test data is small, and the machine is shared.
        server = virtuoso_tools.Virtuoso.start(buffers=20_000)
    except RuntimeError as error:
        pytest.skip(f"Virtuoso could not be started: {error}")
    yield server
    server.stop()


# What the session's Virtuoso was last filled with by `Backend.shared`: (key, generation stamp after it).
_virtuoso_holds: dict[int, tuple[str, str]] = {}


class Backend:
    """Stores of one kind for the tests of a module.

    `new()` gives an empty store; `shared(key, fill)` a store that `fill` wrote once, for tests that only
    read. Embedded stores live in memory, each on its own. Virtuoso stores are clients of the session's one
    server, which holds one content at a time: `new()` wipes it (and closes the clients made before, whose
    data is gone), and `shared()` fills it again when anything else wrote since (every write through a
    `RemoteStore` changes the generation stamp in the metadata graph).
    """

    def __init__(self, name: str, server=None):
        self.name = name
        self.server = server
        self._shared: dict[str, EmbeddedStore] = {}
        self._shared_client = None
        self._clients: list = []

    def __repr__(self) -> str:
        return f"Backend({self.name})"

    def new(self, *, derived: bool = False, **options):
        """An empty store (options such as `gsp=False` or `query_timeout=` go to the RemoteStore);
        `derived=True` keeps the derived graphs fresh, as `open_store` does."""
        if self.server is None:
            store = EmbeddedStore(None)
        else:
            self._close_clients()
            self.server.wipe()
            _virtuoso_holds.pop(id(self.server), None)
            store = self.connect(**options)
        if derived:
            derived_graphs.install(store)
        return store

    def connect(self, **options):
        """Another client of the same Virtuoso (as a second process would be); nothing is wiped."""
        if self.server is None:
            raise TypeError("an embedded store has no second client; use the same object")
        store = self.server.store(**options)
        self._clients.append(store)
        return store

    def shared(self, key: str, fill: Callable[[object], object], *, derived: bool = False):
        """The store `fill` wrote (with derived graphs if asked), made once; the caller must not write to it.

        `key` names the content: every caller passing the same key must pass the same `fill`.
        """
        key = f"{key}+derived" if derived else key
        if self.server is None:
            if key not in self._shared:
                store = self.new(derived=derived)
                fill(store)
                self._shared[key] = store
            return self._shared[key]
        if self._shared_client is None:
            self._shared_client = self.server.store()
        store = self._shared_client
        held = _virtuoso_holds.get(id(self.server))
        if held is None or held != (key, store._read_stamp()):
            self._close_clients()
            self.server.wipe()
            store.derived_updates = []
            if derived:
                derived_graphs.install(store)
            fill(store)
            store.derived_updates = []  # read-only from here on
            _virtuoso_holds[id(self.server)] = (key, store._read_stamp())
        return store

    def _close_clients(self) -> None:
        while self._clients:
            self._clients.pop().close()

    def close(self) -> None:
        self._close_clients()
        if self._shared_client is not None:
            self._shared_client.close()


@pytest.fixture(scope="module")
def embedded_backend() -> Backend:
    """In-memory embedded stores."""
    return Backend("embedded")


@pytest.fixture(scope="module")
def virtuoso_backend(virtuoso) -> Iterator[Backend]:
    """Remote stores on the session's Virtuoso; the module leaves the server empty for the next one."""
    backend = Backend("virtuoso", virtuoso)
    yield backend
    backend.close()
    virtuoso.wipe()
    _virtuoso_holds.pop(id(virtuoso), None)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> Backend:
    """Each backend in turn (ids `embedded`, `virtuoso`): the module's tests run once on each."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def empty_store(backend: Backend):
    """A fresh empty store of each backend (no derived graphs)."""
    return backend.new()


def _load_demo(store) -> None:
    load_demo(store, make_settings())


@pytest.fixture
def shared_demo(backend: Backend):
    """The demo (`api.demo.load_demo` with the test settings) on each backend, derived graphs included;
    loaded once per module and backend: read only."""
    return backend.shared("demo", _load_demo, derived=True)


@pytest.fixture
def embedded_demo(embedded_backend: Backend) -> EmbeddedStore:
    """The shared demo on the embedded backend alone (what the other backend's answers are compared with)."""
    return embedded_backend.shared("demo", _load_demo, derived=True)


@pytest.fixture
def demo_pair(embedded_demo: EmbeddedStore, virtuoso_backend: Backend) -> tuple:
    """The shared demo on both backends at once (embedded, remote), for comparing their answers: read only."""
    return embedded_demo, virtuoso_backend.shared("demo", _load_demo, derived=True)
