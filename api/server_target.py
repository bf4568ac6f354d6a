"""A running Querschnitt server as the target of `querschnitt load --server`: the load goes there over HTTP.

Not a store: it only sends graphs (Graph Store Protocol PUT) and asks the server for the settings that decide
the IRIs a load mints; the server checks what it receives, as it does for any other client.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from typing import IO

import httpx
from pyoxigraph import Literal, NamedNode

from api.catalog import HARVEST_LOADER
from api.settings import Settings
from api.store import StoreError, Visibility


class ServerTarget:
    """A running Querschnitt server as the target of a load: each graph goes there by GSP PUT.

    Internal graphs are sent first, so a public graph never points at data the server lacks. Each PUT is
    atomic on the server; a load of several graphs is not one transaction there (unlike a local load).
    """

    def __init__(self, url: str, token: str, *, on_sent: Callable[[str, str], None] | None = None):
        self.url = url.rstrip("/")
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300)
        self.minted_for: str | None = None
        self._on_sent = on_sent

    def settings(self, local: Settings) -> Settings:
        """`local` with the server's base IRI and municipality: the server decides the IRIs a load mints."""
        try:
            answer = self.client.get(f"{self.url}/api/loads")
        except httpx.HTTPError as error:
            raise StoreError(f"{self.url} is not reachable: {error}") from None
        if answer.status_code >= 400:
            raise StoreError(
                f"{self.url} refused to tell its load settings: HTTP {answer.status_code} {answer.text[:300]}"
            )
        remote = answer.json()
        self.minted_for = remote["base_iri"]
        return local.model_copy(
            update={
                "base_iri": remote["base_iri"],
                "municipality_name": remote["municipality_name"],
                "municipality_key": remote["municipality_key"],
            }
        )

    def replace_graphs(self, quads, *, visibility, source: str, loader: str, checksum: str, **_) -> list:
        with contextlib.ExitStack() as files:
            bodies: dict[str, IO[bytes]] = {}
            for quad in quads:
                graph = quad.graph_name.value
                if graph not in bodies:
                    bodies[graph] = files.enter_context(tempfile.TemporaryFile())
                bodies[graph].write(f"{quad.subject} {quad.predicate} {quad.object} .\n".encode())
            graphs = list(visibility) if isinstance(visibility, dict) else list(bodies)
            for graph in sorted(graphs, key=lambda g: self._visibility(visibility, g) is Visibility.PUBLIC):
                body = b""
                if graph in bodies:
                    bodies[graph].seek(0)
                    body = bodies[graph].read()
                answer = self.client.put(
                    f"{self.url}/graphs",
                    params={
                        "graph": graph,
                        "visibility": self._visibility(visibility, graph).value,
                        "source": source,
                        **({"minted_for": self.minted_for} if self.minted_for else {}),
                        # A harvest is recorded as one on the server (people its portal published: admins only).
                        **({"loader": HARVEST_LOADER} if loader == HARVEST_LOADER else {}),
                    },
                    content=body,
                    headers={"Content-Type": "application/n-triples"},
                )
                if answer.status_code >= 400:
                    raise StoreError(f"{self.url} refused graph {graph}: HTTP {answer.status_code} {answer.text[:300]}")
                if self._on_sent is not None:
                    self._on_sent(graph, self.url)
        return []

    @staticmethod
    def _visibility(visibility, graph: str) -> Visibility:
        return visibility[graph] if isinstance(visibility, dict) else visibility

    def query(self, sparql: str, **_) -> list:
        answer = self.client.post(
            f"{self.url}/sparql", data={"query": sparql}, headers={"Accept": "application/sparql-results+json"}
        )
        answer.raise_for_status()
        return [
            {name: NamedNode(v["value"]) if v["type"] == "uri" else Literal(v["value"]) for name, v in row.items()}
            for row in answer.json()["results"]["bindings"]
        ]

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()
