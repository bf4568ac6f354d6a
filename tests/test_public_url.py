"""Links name the address the service is actually reached at.

The README's first run: `querschnitt demo`, then `querschnitt serve --port N`, with QUERSCHNITT_PUBLIC_URL
unset. Every link the service writes (YASGUI's endpoint, the 303 of /id/…, /queries, `Link: rel="next"`,
`hydra:view`, VoID, the service description) must point at port N, not at the default 8000.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings

CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """`querschnitt serve --port N` over the demo, public URL unset; yields its URL and start-up output."""
    store = tmp_path_factory.mktemp("public-url") / "store"
    assert CliRunner().invoke(app, ["demo", "--store", str(store)]).exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUERSCHNITT_")}
    env.update(QUERSCHNITT_STORE=str(store), QUERSCHNITT_CATALOG_PAGE_SIZE="1")
    port = free_port()
    log = Path(store.parent / "serve.log")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        yield url, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def points_here(text: str, url: str) -> bool:
    return url in text and "127.0.0.1:8000" not in text


def test_the_public_url_is_logged_at_start_up(served):
    url, output = served
    assert f"Querschnitt at {url}" in output


def test_yasgui_queries_the_port_served(served):
    url, _ = served
    page = httpx.get(f"{url}/sparql", headers={"Accept": "text/html"}).text
    assert points_here(page, f"{url}/sparql")


def test_the_service_description_names_the_port_served(served):
    url, _ = served
    description = httpx.get(f"{url}/sparql", headers={"Accept": "text/turtle"}).text
    assert points_here(description, f"{url}/sparql")


def test_void_names_the_port_served(served):
    url, _ = served
    assert points_here(httpx.get(f"{url}/.well-known/void", headers={"Accept": "text/turtle"}).text, url)


def test_an_iri_redirects_browsers_to_the_page_on_the_port_served(served):
    url, _ = served
    department = httpx.get(
        f"{url}/sparql",
        params={"query": "SELECT ?d { ?d a <http://www.w3.org/ns/org#OrganizationalUnit> } LIMIT 1"},
        headers={"Accept": "text/csv"},
    ).text.splitlines()[1]
    path = department.split("/id/", 1)[1]
    response = httpx.get(f"{url}/id/{path}", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{url}/page/")


def test_the_query_list_links_to_the_port_served(served):
    url, _ = served
    assert points_here(httpx.get(f"{url}/queries").text, f"{url}/queries/")


def test_the_next_page_link_names_the_port_served(served):
    url, _ = served
    response = httpx.get(f"{url}/queries/sdg-goals", params={"limit": 1, "lang": "de"})
    assert response.headers["link"].startswith(f"<{url}/queries/sdg-goals?")


def test_the_catalog_pages_name_the_port_served(served):
    url, _ = served
    catalog = httpx.get(f"{url}/catalog.ttl").text
    assert "hydra" in catalog and points_here(catalog, f"{url}/catalog")


def test_a_set_public_url_wins_over_the_address_served(monkeypatch):
    monkeypatch.setenv("QUERSCHNITT_PUBLIC_URL", "https://daten.musterstadt.de")
    assert Settings().served_at("127.0.0.1", 8101).public_url == "https://daten.musterstadt.de"


def test_an_ipv6_address_is_bracketed(monkeypatch):
    monkeypatch.delenv("QUERSCHNITT_PUBLIC_URL", raising=False)
    assert Settings(_env_file=None).served_at("::1", 8101).public_url == "http://[::1]:8101"
