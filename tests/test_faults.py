"""Faults: a killed server or loader, a read-only store, a backup restored; no data lost, no half graph.

"Same data" is checked on a canonical dump: the sorted N-Quads of every graph and the metadata graph.
The slow tests run real `querschnitt` processes on loopback and kill them with SIGKILL mid-write.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, Store

from api.app import create_app
from api.auth import hash_token
from api.store import META_GRAPH, STAGING_PREFIX, EmbeddedStore, StoreError, Visibility
from api.testing import BASE, EDITOR, EDITOR_TOKEN, fill, make_settings
from loaders.vocab import QS

CLI = [sys.executable, "-c", "from api.cli import main; main()"]
GRAPH = f"{BASE}graph/big"
DERIVED = b"<urn:querschnitt:derived:"
MODIFIED = b"<http://purl.org/dc/terms/modified>"


def canonical(path: Path) -> bytes:
    """Sorted N-Quads of every source graph and the metadata of the store at `path` (opened, then closed)."""
    store = EmbeddedStore(path)
    out = io.BytesIO()
    store.dump(out, include_internal=True, include_meta=True)
    store.close()
    # Every open by the CLI recomputes the derived graphs and stamps them anew; their content still counts.
    stamps = [line for line in out.getvalue().splitlines() if line.startswith(DERIVED) and MODIFIED in line]
    return b"\n".join(sorted(set(out.getvalue().splitlines()) - set(stamps)))


def raw_graphs(path: Path) -> set[str]:
    """The named graphs as RocksDB holds them, before `EmbeddedStore` tidies anything up."""
    store = Store.read_only(str(path))
    return {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}


def triples(n: int, version: str) -> bytes:
    return b"".join(f'<http://e/s{i}> <http://e/p{i % 7}> "{version} {i}" .\n'.encode() for i in range(n))


def cli_env(store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QUERSCHNITT_STORE": str(store),
        "QUERSCHNITT_BASE_IRI": BASE,
        "QUERSCHNITT_TOKENS": f"editor:{hash_token(EDITOR_TOKEN)}",
    }


def cli(store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=cli_env(store), capture_output=True, text=True, timeout=120)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """An on-disk store with the sample graphs and version 1 of GRAPH, closed again."""
    path = tmp_path / "store"
    store = fill(EmbeddedStore(path))
    store.close()
    (tmp_path / "big.nt").write_bytes(triples(1_000, "v1"))
    result = cli(path, "load", str(tmp_path / "big.nt"), "--name", "big")
    assert result.returncode == 0, result.stderr
    return path


def kill_when_writing(process: subprocess.Popen, store: Path, *, grown: int = 4_000_000, limit: float = 60) -> None:
    """SIGKILL `process` once the store directory has grown by `grown` bytes (it is mid-write)."""

    def size() -> int:
        return sum(f.stat().st_size for f in store.rglob("*") if f.is_file())

    start, deadline = size(), time.monotonic() + limit
    while size() - start < grown and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_a_loader_killed_mid_load_leaves_the_old_graph_complete(seeded, tmp_path):
    before = canonical(seeded)
    (tmp_path / "big.nq").write_bytes(triples(1_500_000, "v2"))
    process = subprocess.Popen([*CLI, "load", str(tmp_path / "big.nq"), "--name", "big"], env=cli_env(seeded))
    kill_when_writing(process, seeded)
    assert process.returncode == -signal.SIGKILL, "the load finished before it could be killed; make it bigger"
    assert canonical(seeded) == before
    assert not {g for g in raw_graphs(seeded) if g.startswith(STAGING_PREFIX)}


@pytest.mark.slow
def test_a_loader_killed_mid_load_of_a_new_graph_leaves_no_visible_half_graph(seeded, tmp_path):
    before = canonical(seeded)
    (tmp_path / "fresh.nq").write_bytes(triples(1_500_000, "v1"))
    process = subprocess.Popen([*CLI, "load", str(tmp_path / "fresh.nq"), "--name", "fresh"], env=cli_env(seeded))
    kill_when_writing(process, seeded)
    assert process.returncode == -signal.SIGKILL
    assert canonical(seeded) == before
    store = EmbeddedStore(seeded)
    assert f"{BASE}graph/fresh" not in {g.iri for g in store.graphs()}
    assert not store.query(f"ASK {{ GRAPH <{BASE}graph/fresh> {{ ?s ?p ?o }} }}", include_internal=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(store: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`querschnitt serve` on a free loopback port, ready (`/readyz`); its output goes to `log`."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=cli_env(store), stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


@pytest.mark.slow
def test_a_server_killed_during_a_graph_replace_keeps_the_old_graph(seeded, tmp_path):
    before = canonical(seeded)
    body = triples(1_500_000, "v2")
    process, url = start_server(seeded, tmp_path / "serve.log")

    def upload() -> None:
        headers = {**EDITOR, "Content-Type": "application/n-triples"}
        # The server dies under the request: that is the point.
        with contextlib.suppress(httpx.TransportError):
            httpx.put(f"{url}/graphs", params={"graph": GRAPH}, content=body, headers=headers, timeout=120)

    sender = threading.Thread(target=upload)
    sender.start()
    kill_when_writing(process, seeded)
    sender.join(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert canonical(seeded) == before


def test_writes_to_a_store_opened_read_only_are_refused_and_nothing_changes(seeded):
    before = canonical(seeded)
    store = EmbeddedStore(seeded, read_only=True)
    app = create_app(make_settings(store=str(seeded)), store=store)
    with TestClient(app) as client:
        response = client.put(
            "/graphs",
            params={"graph": GRAPH},
            content=b"<http://e/s> <http://e/p> 1 .",
            headers={**EDITOR, "Content-Type": "application/n-triples"},
        )
    assert response.status_code == 400 and "read-only" in response.text
    del store, app
    assert canonical(seeded) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_store_directory_gives_a_clear_error_and_loses_nothing(seeded, tmp_path):
    before = canonical(seeded)
    modes = {p: p.stat().st_mode for p in [seeded, *seeded.rglob("*")]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        with pytest.raises(StoreError, match="Cannot open the store"):
            EmbeddedStore(seeded)
        result = cli(seeded, "load", str(tmp_path / "big.nt"), "--name", "other")
        assert result.returncode != 0 and "store" in result.stderr.lower()
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert canonical(seeded) == before


def test_backup_and_restore_give_a_byte_identical_canonical_dump(seeded, tmp_path):
    result = cli(seeded, "backup", str(tmp_path / "backup"))
    assert result.returncode == 0, result.stderr
    restored = tmp_path / "restored"
    shutil.copytree(tmp_path / "backup", restored)
    assert canonical(restored) == canonical(seeded)


def test_the_export_of_a_restored_backup_is_byte_identical(seeded, tmp_path):
    assert cli(seeded, "backup", str(tmp_path / "backup")).returncode == 0
    original = cli(seeded, "export").stdout
    restored = cli(tmp_path / "backup", "export").stdout
    assert sorted(original.splitlines()) == sorted(restored.splitlines()) and original


def test_a_half_loaded_new_graph_never_becomes_visible_through_a_later_merge():
    # What SIGKILL during the first load of a graph leaves: its quads under its own name and the
    # loading marker, no metadata. Reopening tidies up as on disk; then an editor merges.
    graph = f"{BASE}graph/fresh"
    reopened = EmbeddedStore(None)
    reopened._oxigraph = store_with_half_graph(graph)
    reopened._drop_leftover_staging_graphs()
    reopened.update_graphs(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <http://e/new> <http://e/p> 'new' }} }}",
        [graph],
        source="tests",
        loader="tests",
        checksum="x",
        visibility=Visibility.PUBLIC,
    )
    assert not reopened.query("ASK { ?s ?p 'half' }")


def store_with_half_graph(graph: str) -> Store:
    raw = Store()
    raw.add(Quad(NamedNode("http://e/half"), NamedNode("http://e/p"), Literal("half"), NamedNode(graph)))
    raw.add(Quad(NamedNode(graph), QS.loading, Literal(True), META_GRAPH))
    return raw
