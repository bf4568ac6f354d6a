"""`querschnitt backup` while a server holds the store, and `querschnitt restore`.

The remote store's restore through the CLI is in tests/test_cli_remote.py (Virtuoso fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad
from typer.testing import CliRunner

from api.cli import app
from api.store import Visibility, open_store

runner = CliRunner()
LATE = "https://musterstadt.example/id/graph/late"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def nquads(path: Path) -> list[bytes]:
    result = run("export", "--store", path)
    assert result.exit_code == 0, result.output
    # The metadata entries `export` adds carry the derived graphs' refresh times, new at every open.
    return sorted(line for line in result.stdout_bytes.splitlines() if not line.endswith(b"<urn:querschnitt:meta> ."))


@pytest.fixture
def store(tmp_path) -> Path:
    assert run("init", "--store", tmp_path / "store").exit_code == 0
    return tmp_path / "store"


def write_late_graph(holder) -> None:
    quad = Quad(NamedNode("http://example.org/late"), NamedNode("http://example.org/p"), Literal("after open"))
    holder.replace_graph(LATE, [quad], visibility=Visibility.PUBLIC, source="t", loader="t", checksum="x")


def test_backup_works_while_a_server_holds_the_store_and_has_its_latest_write(store, tmp_path):
    holder = open_store(str(store))
    write_late_graph(holder)  # in the server's log and memtable, not flushed
    result = run("backup", tmp_path / "copy", "--store", store)
    holder.close()
    assert result.exit_code == 0, result.output
    assert any(LATE.encode() in line for line in nquads(tmp_path / "copy"))
    assert nquads(tmp_path / "copy") == nquads(store)


def test_restore_puts_a_backup_into_a_new_location(store, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", store).exit_code == 0
    result = run("restore", tmp_path / "copy", "--store", tmp_path / "restored")
    assert result.exit_code == 0, result.output
    assert nquads(tmp_path / "restored") == nquads(store)


def test_restore_is_refused_while_a_server_holds_the_store(store, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", store).exit_code == 0
    holder = open_store(str(store))
    result = run("restore", tmp_path / "copy", "--store", store, "--replace")
    holder.close()
    assert result.exit_code == 3
    assert "in use by another process" in result.output


def test_restore_over_a_store_with_data_needs_replace_and_keeps_the_old_store(store, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", store).exit_code == 0
    holder = open_store(str(store))
    write_late_graph(holder)
    holder.close()
    changed = nquads(store)
    refused = run("restore", tmp_path / "copy", "--store", store)
    assert refused.exit_code == 1 and "--replace" in refused.output
    assert nquads(store) == changed
    result = run("restore", tmp_path / "copy", "--store", store, "--replace")
    assert result.exit_code == 0, result.output
    assert nquads(store) == nquads(tmp_path / "copy")
    (kept,) = tmp_path.glob("store.before-restore-*")
    assert nquads(kept) == changed


def test_restore_refuses_a_directory_that_is_no_backup(tmp_path):
    (tmp_path / "nothing").mkdir()
    result = run("restore", tmp_path / "nothing", "--store", tmp_path / "store")
    assert result.exit_code == 1
    assert "not a backup" in result.output
    assert not (tmp_path / "store").exists()
