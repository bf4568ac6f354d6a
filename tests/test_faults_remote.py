"""The remote store goes away and comes back: the API answers 503 meanwhile and recovers by itself.

A TCP relay on loopback stands between the app and a throw-away Virtuoso (`tests/virtuoso.py`).
Switching it off refuses new connections and cuts open ones, as a stopped or unreachable store does;
`stall()` accepts connections and never answers, as a hung one does; `cut_on(bytes)` goes down just
before a request containing those bytes reaches the store. The Virtuoso itself keeps running, so the
checks read it directly. Without Virtuoso the tests skip with the reason.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from api.app import create_app
from api.store import STAGING_PREFIX
from api.store.remote import RemoteStore
from api.testing import DEPARTMENT, EDITOR, PUBLIC_GRAPH, LiveServer, fill, make_settings

QUERY_TIMEOUT = 5.0
ASK = "/sparql?query=" + quote("ASK { ?s ?p ?o }")
# One route of each kind that needs the store: SPARQL, named queries (API and page), search, entity pages
# (HTML and RDF), the dashboard, catalog, graph list, Graph Store read, VoID.
STORE_ROUTES = [
    ASK,
    "/queries/blind-spots",
    "/gaps/blind-spots",
    "/api/search?q=rad",
    "/page/department/stadtentwicklung",
    "/id/department/stadtentwicklung",
    "/",
    "/catalog",
    "/api/graphs",
    "/graphs?graph=" + quote(PUBLIC_GRAPH, safe=""),
    "/.well-known/void",
]
NEW_TRIPLE = b'<https://musterstadt.example/id/s> <https://musterstadt.example/id/p> "new" .'


class Relay:
    """A TCP relay from a loopback port to `target` that can be switched off, stalled, or cut mid-request."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mode = "down"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._cut_on: bytes | None = None
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self) -> None:
        """Relay every connection."""
        self._switch("up")

    def stall(self) -> None:
        """Accept connections but never answer (a hung store)."""
        self._switch("stalled")

    def down(self) -> None:
        """Refuse connections and cut the open ones (a stopped store)."""
        self._switch("down")

    def cut_on(self, marker: bytes) -> None:
        """Go down instead of relaying the request that contains `marker`."""
        self._cut_on = marker

    def _switch(self, mode: str) -> None:
        with self._lock:
            self.mode = mode
            sockets, self._open = self._open, set()
            if mode == "down" and self._listener is not None:
                sockets.add(self._listener)
                self._listener = None
            if mode != "down" and self._listener is None:
                self._listener = socket.socket()
                self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._listener.bind(("127.0.0.1", self.port))
                self._listener.listen(64)
                threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        for sock in sockets:
            # shutdown() also wakes a thread blocked in accept() or recv(); close() alone does not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode if self._listener is listener else "down"
                if mode == "stalled":
                    self._open.add(client)
                    continue
            if mode == "down":
                client.close()
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                if outbound and self._cut_on is not None:
                    if self._cut_on in tail + data:
                        self._cut_on = None
                        self.down()
                        return
                    tail = data[-len(self._cut_on) :]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def direct(virtuoso) -> Iterator[RemoteStore]:
    """The same store without the relay: what is really there."""
    store = RemoteStore(virtuoso.sparql_url, update_url=virtuoso.update_url, user="dba", password="dba")
    yield store
    store.close()


@pytest.fixture(scope="module")
def relay(virtuoso) -> Iterator[Relay]:
    relay = Relay(("127.0.0.1", virtuoso.http_port))
    relay.up()
    yield relay
    relay.down()


@pytest.fixture(scope="module")
def site(relay, virtuoso) -> Iterator[LiveServer]:
    """The app on the remote store (through the relay), opened by its lifespan as in production, with the sample data."""
    settings = make_settings(
        store=relay.url("/sparql"),
        remote_update_url=relay.url("/sparql-auth"),
        remote_gsp_url=relay.url("/sparql-graph-crud-auth"),
        remote_user="dba",
        remote_password="dba",
        query_timeout=QUERY_TIMEOUT,
    )
    with LiveServer(create_app(settings)) as server:
        fill(server.app.state.store)
        yield server


@pytest.fixture
def http(site, relay) -> Iterator[httpx.Client]:
    """A client of the site; the relay is up again after each test, whatever the test did to it."""
    with httpx.Client(base_url=site.url, timeout=60) as client:
        yield client
    relay.up()


def get(client: httpx.Client, path: str) -> httpx.Response:
    accept = "application/sparql-results+json" if path.startswith("/sparql") else "*/*"
    return client.get(path, headers={"Accept": accept})


def snapshot(store: RemoteStore) -> list[bytes]:
    """Every registered graph and the metadata graph, as sorted N-Quads."""
    out = io.BytesIO()
    store.dump(out, include_internal=True, include_meta=True)
    return sorted(out.getvalue().splitlines())


def staging_graphs(store: RemoteStore) -> list[str]:
    rows = store._select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named=None)
    return [row["g"].value for row in rows if row["g"].value.startswith(STAGING_PREFIX)]


def put_graph(client: httpx.Client, body: bytes) -> httpx.Response:
    headers = {**EDITOR, "Content-Type": "application/n-triples"}
    return client.put("/graphs", params={"graph": PUBLIC_GRAPH}, content=body, headers=headers)


@pytest.mark.parametrize("path", STORE_ROUTES)
def test_while_the_store_is_down_store_routes_answer_503_with_retry_after(http, relay, path):
    relay.down()
    response = get(http, path)
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("path", [ASK, "/page/department/stadtentwicklung"])
def test_the_503_says_the_store_is_unavailable_without_naming_its_address(http, relay, path):
    relay.down()
    response = get(http, path)
    assert "store is unavailable" in response.text and str(relay.port) not in response.text


def test_while_the_store_is_down_readyz_is_503_and_healthz_stays_200(http, relay):
    relay.down()
    ready, health = http.get("/readyz"), http.get("/healthz")
    assert (ready.status_code, ready.json()["status"]) == (503, "unavailable") and ready.headers["retry-after"]
    assert (health.status_code, health.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("path", [ASK, "/", "/readyz"])
def test_a_store_that_never_answers_gets_an_answer_by_the_query_deadline(http, relay, path):
    relay.stall()
    start = time.monotonic()
    response = get(http, path)
    assert response.status_code in (503, 504) and time.monotonic() - start < QUERY_TIMEOUT + 3


@pytest.mark.parametrize(
    "path",
    STORE_ROUTES + ["/readyz"],
)
def test_after_the_store_is_back_the_same_requests_answer_200_without_a_restart(http, relay, path):
    relay.down()
    assert get(http, path).status_code == 503
    relay.up()
    assert get(http, path).status_code == 200


def test_a_graph_replace_while_the_store_is_down_is_refused_and_changes_nothing(http, relay, direct):
    before = snapshot(direct)
    relay.down()
    assert put_graph(http, NEW_TRIPLE).status_code == 503
    relay.up()
    assert snapshot(direct) == before and not staging_graphs(direct)


def test_an_update_while_the_store_is_down_is_refused_and_changes_nothing(http, relay, direct):
    before = snapshot(direct)
    relay.down()
    update = f"INSERT DATA {{ GRAPH <{PUBLIC_GRAPH}> {{ <{DEPARTMENT}> <urn:p> 'new' }} }}"
    assert http.post("/sparql", data={"update": update}, headers=EDITOR).status_code == 503
    relay.up()
    assert snapshot(direct) == before


def test_a_store_lost_just_before_the_swap_keeps_the_old_graph_and_a_retry_succeeds(http, relay, direct, site):
    before = snapshot(direct)
    relay.cut_on(b"MOVE+SILENT+GRAPH")  # the one update that swaps the uploaded graph in
    assert put_graph(http, NEW_TRIPLE).status_code == 503
    relay.up()
    assert snapshot(direct) == before
    # The staging graph it uploaded is invisible to every query; `recover` (an administrator) drops it.
    direct.recover()
    assert not staging_graphs(direct)
    assert put_graph(http, NEW_TRIPLE).status_code in (201, 204)
    graph = http.get("/graphs", params={"graph": PUBLIC_GRAPH}, headers={"Accept": "application/n-triples"})
    assert graph.text.strip() == NEW_TRIPLE.decode()
    fill(site.app.state.store)  # the sample data again, for the tests after this one
