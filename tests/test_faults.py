"""Faults: a killed server or loader, a full disk, a read-only store, a backup restored; no data lost, no half graph.

"Same data" is checked on a canonical dump: the sorted N-Quads of every graph and the metadata graph.
The slow tests run real `querschnitt` processes on loopback and kill them with SIGKILL mid-write.

A full disk needs no privileges: the writer runs under `RLIMIT_FSIZE` with SIGXFSZ ignored, so RocksDB's
write fails with EFBIG ("File too large") where a full disk gives ENOSPC, at the same call. Where a tmpfs
can be mounted (root with CAP_SYS_ADMIN), one test also fills a real file system. A read-only directory
as root: the writer runs without the capabilities that let root ignore file permissions.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, Store

from api.app import create_app
from api.auth import hash_token
from api.store import META_GRAPH, STAGING_PREFIX, EmbeddedStore, Visibility
from api.testing import BASE, EDITOR, EDITOR_TOKEN, PUBLIC_GRAPH, fill, make_settings
from loaders.vocab import QS

CLI = [sys.executable, "-c", "from api.cli import main; main()"]
# Applies a file size limit and/or drops root's file-permission capabilities, then execs the command:
# the limits hold for the whole writer process, and the pytest process is untouched.
CONSTRAIN = """
import ctypes, os, resource, signal, sys
size, weaken = int(sys.argv[1]), sys.argv[2] == "1"
if size:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failing write (EFBIG) instead of a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
if weaken:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER (linux/capability.h)
        if libc.prctl(24, capability, 0, 0, 0):  # PR_CAPBSET_DROP: gone after exec, even for uid 0
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
os.execv(sys.executable, [sys.executable, *sys.argv[3:]])
"""
ROOT = os.geteuid() == 0
# Opening the store writes files of up to ~140 KB (OPTIONS, LOG); a bulk load's first file is larger.
FILE_SIZE_LIMIT = 256 * 1024
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


def python(store: Path, *args: str, file_size: int = 0, weaken_root: bool = False) -> subprocess.CompletedProcess:
    """`python ARGS` with the CLI's environment for `store`, optionally under a file size limit or without
    root's file powers."""
    prefix = ["-c", CONSTRAIN, str(file_size), str(int(weaken_root))] if file_size or weaken_root else []
    command = [sys.executable, *prefix, *args]
    return subprocess.run(command, env=cli_env(store), capture_output=True, text=True, timeout=120)


def cli(store: Path, *args: str, **constraints) -> subprocess.CompletedProcess:
    """`querschnitt ARGS` on `store` (see `python` for the constraints)."""
    return python(store, *CLI[1:], *args, **constraints)


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


def test_a_read_only_store_directory_gives_a_clear_error_and_loses_nothing(seeded, tmp_path):
    # Root would write anyway: as root, the writers run without CAP_DAC_OVERRIDE and its kin.
    before = canonical(seeded)
    modes = {p: p.stat().st_mode for p in [seeded, *seeded.rglob("*")]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        opened = python(
            seeded, "-c", f"from api.store import EmbeddedStore; EmbeddedStore({str(seeded)!r})", weaken_root=ROOT
        )
        loaded = cli(seeded, "load", str(tmp_path / "big.nt"), "--name", "other", weaken_root=ROOT)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert "StoreError: Cannot open the store" in opened.stderr
    assert loaded.returncode != 0 and "Traceback" not in loaded.stderr and "Cannot open the store" in loaded.stderr
    assert canonical(seeded) == before


# -- a full disk -------------------------------------------------------------------------------------


@pytest.fixture(params=["rdf", "sheets"])
def big_source(request, tmp_path: Path) -> list[str]:
    """`load` arguments for a source whose store files outgrow FILE_SIZE_LIMIT: an RDF file or a staff workbook."""
    if request.param == "rdf":
        (tmp_path / "big.nq").write_bytes(triples(100_000, "v2"))
        return [str(tmp_path / "big.nq"), "--name", "big"]
    from loaders import demo, staff

    staff.write_sheets(demo.generate_rows(seed=2030, scale=2), tmp_path / "sheets")
    return [str(tmp_path / "sheets"), "--name", "staff", "--skip-validation"]


def test_a_load_onto_a_full_disk_fails_and_changes_nothing(seeded, big_source):
    before = canonical(seeded)
    result = cli(seeded, "load", *big_source, file_size=FILE_SIZE_LIMIT)
    assert result.returncode != 0
    assert canonical(seeded) == before


def test_a_load_onto_a_full_disk_says_so_in_one_line_without_a_traceback(seeded, big_source):
    result = cli(seeded, "load", *big_source, file_size=FILE_SIZE_LIMIT)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr and len(errors) == 1
    assert re.search(r"disk|space|too large", errors[0], re.IGNORECASE)


REPLACE_ON_A_FULL_DISK = """
import json, resource, signal, sys
from pyoxigraph import Literal, NamedNode, Quad
from api.store import EmbeddedStore, Visibility
store = EmbeddedStore(sys.argv[1])
# Opened first, then limited: only the write meets the full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))
p = NamedNode("http://e/p")
quads = (Quad(NamedNode(f"http://e/s{{i}}"), p, Literal(f"v2 {{i}}")) for i in range(100_000))
try:
    store.replace_graph({graph!r}, quads, visibility=Visibility.PUBLIC, source="t", loader="t", checksum="t")
    print(json.dumps(None))
except Exception as error:
    print(json.dumps([[kind.__name__ for kind in type(error).__mro__], str(error)]))
"""


def replace_on_a_full_disk(store: Path, graph: str) -> list | None:
    """`EmbeddedStore.replace_graph` of 100,000 quads under the file size limit: the error's classes and message."""
    script = REPLACE_ON_A_FULL_DISK.format(limit=FILE_SIZE_LIMIT, graph=graph)
    result = python(store, "-c", script, str(store))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("graph", [PUBLIC_GRAPH, f"{BASE}graph/new"], ids=["replace", "new graph"])
def test_replace_graphs_on_a_full_disk_changes_nothing(seeded, graph):
    before = canonical(seeded)
    assert replace_on_a_full_disk(seeded, graph) is not None
    assert canonical(seeded) == before


def test_replace_graphs_on_a_full_disk_raises_a_store_error_naming_the_disk(seeded):
    classes, message = replace_on_a_full_disk(seeded, PUBLIC_GRAPH)
    assert "StoreError" in classes and re.search(r"disk|space|too large", message, re.IGNORECASE)


def test_a_load_onto_a_full_disk_leaves_no_partial_file_behind(seeded, tmp_path):
    (tmp_path / "big.nq").write_bytes(triples(100_000, "v2"))
    cli(seeded, "load", str(tmp_path / "big.nq"), "--name", "big", file_size=FILE_SIZE_LIMIT)
    canonical(seeded)  # reopened once, read-write
    # On a really full disk the leftover keeps it full: the store cannot even be opened again.
    assert not list(seeded.glob("bulk-*.sst"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (needs CAP_SYS_ADMIN); unmounted again afterwards."""
    if not (shutil.which("mount") and shutil.which("umount")):
        pytest.skip("mount and umount are not installed; the file size limit tests cover a full disk")
    mount = tmp_path / "disk"
    mount.mkdir()
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if tried.returncode != 0:
        pytest.skip(
            f"no tmpfs can be mounted here ({tried.stderr.strip()}); the file size limit tests cover a full disk"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def test_a_load_onto_a_really_full_file_system_changes_nothing_once_space_is_freed(seeded, small_disk, tmp_path):
    store = small_disk / "store"
    shutil.copytree(seeded, store)
    before = canonical(store)
    (tmp_path / "big.nq").write_bytes(triples(100_000, "v2"))
    result = cli(store, "load", str(tmp_path / "big.nq"), "--name", "big")
    assert result.returncode != 0 and "No space left on device" in result.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # the operator frees space
    assert canonical(store) == before


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
