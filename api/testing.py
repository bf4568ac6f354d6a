"""Test helpers that other test files and the benchmark share: sample data, settings, a live server.

The sample store has two public graphs and one internal graph with a person (name, e-mail, phone), so
that every test can ask "does anything leak?". Tokens are known here and configured hashed.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI
from pyoxigraph import Literal, NamedNode, Quad

from api.auth import hash_token
from api.server import server_config
from api.settings import Settings
from api.store import Store, Visibility
from loaders.vocab import DCAT, DCT, FOAF, ORG, PROV, RDF, SDG

BASE = "https://musterstadt.example/id/"
PUBLIC_GRAPH = f"{BASE}graph/test-public"
PROJECTS_GRAPH = f"{BASE}graph/test-projects"
INTERNAL_GRAPH = f"{BASE}graph/test-internal"
DEPARTMENT = f"{BASE}department/stadtentwicklung"
DATASET = f"{BASE}dataset/radverkehr"
PROJECT = f"{BASE}project/radschnellweg"
PERSON = f"{BASE}person/erika-mustermann"
PERSON_NAME = "Erika Mustermann"
PERSON_EMAIL = "mailto:erika.mustermann@musterstadt.example"
PERSON_PHONE = "tel:+49-5555-123456"
# What must never reach an anonymous caller, in any serialization.
SECRETS = ("Erika", "Mustermann", "erika.mustermann", "erika-mustermann", "5555-123456")

READER_TOKEN = "reader-token-for-tests"
EDITOR_TOKEN = "editor-token-for-tests"
ADMIN_TOKEN = "admin-token-for-tests"
READER = {"Authorization": f"Bearer {READER_TOKEN}"}
EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


def public_quads() -> list[Quad]:
    g = NamedNode(PUBLIC_GRAPH)
    dept, dataset = NamedNode(DEPARTMENT), NamedNode(DATASET)
    return [
        Quad(dept, RDF.type, ORG.OrganizationalUnit, g),
        Quad(dept, FOAF["name"], Literal("Amt für Stadtentwicklung", language="de"), g),
        Quad(dataset, RDF.type, DCAT.Dataset, g),
        Quad(dataset, DCT["title"], Literal("Radverkehrszählung", language="de"), g),
        Quad(dataset, DCT.creator, dept, g),
        Quad(dataset, DCT.subject, SDG["11.2"], g),
    ]


def project_quads() -> list[Quad]:
    g = NamedNode(PROJECTS_GRAPH)
    project = NamedNode(PROJECT)
    return [
        Quad(project, RDF.type, PROV.Activity, g),
        Quad(project, DCT["title"], Literal("Radschnellweg Nord", language="de"), g),
        Quad(project, PROV.wasAssociatedWith, NamedNode(DEPARTMENT), g),
        Quad(project, DCT.subject, SDG["11.2"], g),
    ]


def internal_quads() -> list[Quad]:
    g = NamedNode(INTERNAL_GRAPH)
    person = NamedNode(PERSON)
    return [
        Quad(person, RDF.type, FOAF.Person, g),
        Quad(person, FOAF["name"], Literal(PERSON_NAME), g),
        Quad(person, FOAF.mbox, NamedNode(PERSON_EMAIL), g),
        Quad(person, FOAF.phone, NamedNode(PERSON_PHONE), g),
        Quad(person, ORG.memberOf, NamedNode(DEPARTMENT), g),
    ]


def fill(store: Store) -> Store:
    """Write the sample graphs into `store`."""
    for graph, quads, visibility in (
        (PUBLIC_GRAPH, public_quads(), Visibility.PUBLIC),
        (PROJECTS_GRAPH, project_quads(), Visibility.PUBLIC),
        (INTERNAL_GRAPH, internal_quads(), Visibility.INTERNAL),
    ):
        store.replace_graph(graph, quads, visibility=visibility, source="tests", loader="tests", checksum="sha256:0")
    return store


def make_settings(**overrides) -> Settings:
    """Settings for tests: nothing from the environment or a .env file."""
    values = {
        "store": "memory",
        "base_iri": BASE,
        "tokens": ",".join(
            f"{role}:{hash_token(token)}"
            for role, token in (("reader", READER_TOKEN), ("editor", EDITOR_TOKEN), ("admin", ADMIN_TOKEN))
        ),
        "query_timeout": 30.0,
        "max_rows": 1000,
        "max_concurrent_queries": 4,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A uvicorn server running `app` in a thread on a free loopback port (`http`: uvicorn's protocol class)."""

    def __init__(self, app: FastAPI, *, http: type | None = None):
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = server_config(
            app,
            getattr(app.state, "settings", None),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="none",
            lifespan="on",
            **({"http": http} if http is not None else {}),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def sparql(self) -> str:
        return f"{self.url}/sparql"
