"""The `querschnitt` command line on a remote store: `--store http://…/sparql` against the session's Virtuoso.

The update endpoint and the credentials come from the environment (`QUERSCHNITT_REMOTE_*`), as in a
deployment. The answers are compared with the same commands on an embedded store holding the same demo.
Without Virtuoso the tests skip with the reason (conftest.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse
from typer.testing import CliRunner

from api.cli import app
from api.store.remote import RemoteStore
from loaders.vocab import QS

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def canonical(nquads: bytes, *, without_stamp: bool = False) -> list[str]:
    """Sorted N-Quads lines, blank node labels levelled; optionally without the generation stamp, which
    every write changes."""
    lines = []
    for quad in parse(nquads, RdfFormat.N_QUADS):
        if without_stamp and quad.predicate == QS.generation:
            continue
        lines.append(re.sub(r"_:\S+", "_:b", str(quad)))
    return sorted(lines)


@pytest.fixture
def remote(virtuoso, monkeypatch) -> str:
    """The Virtuoso's query URL for `--store`, with the update URL and credentials in the environment."""
    monkeypatch.setenv("COLUMNS", "250")  # tables unabridged
    monkeypatch.setenv("QUERSCHNITT_REMOTE_UPDATE_URL", virtuoso.update_url)
    monkeypatch.setenv("QUERSCHNITT_REMOTE_GSP_URL", virtuoso.gsp_url)
    monkeypatch.setenv("QUERSCHNITT_REMOTE_USER", "dba")
    monkeypatch.setenv("QUERSCHNITT_REMOTE_PASSWORD", "dba")
    return virtuoso.sparql_url


# Whether the server holds this module's demo. Not conftest's `Backend.shared`: that refills after any
# write, and every command that opens the store writes (it refreshes the derived graphs).
_holds_demo: dict[int, bool] = {}


@pytest.fixture
def empty_remote(remote: str, virtuoso, virtuoso_backend) -> str:
    """An empty remote store (the server is wiped)."""
    virtuoso_backend.new()
    _holds_demo[id(virtuoso)] = False
    return remote


@pytest.fixture
def demo_remote(remote: str, virtuoso, virtuoso_backend) -> str:
    """`querschnitt demo` run on the remote store once for the module's tests that only read."""
    if not _holds_demo.get(id(virtuoso)):
        virtuoso_backend.new()
        result = run("demo", "--store", remote)
        assert result.exit_code == 0, result.output
        _holds_demo[id(virtuoso)] = True
    return remote


@pytest.fixture(scope="module")
def demo_local(tmp_path_factory) -> Path:
    """The same demo in an embedded store on disk."""
    path = tmp_path_factory.mktemp("demo") / "store"
    result = run("demo", "--store", path)
    assert result.exit_code == 0, result.output
    return path


def listed(store) -> dict[str, tuple[str, str]]:
    """`querschnitt graphs` as graph → (visibility, triples), read from its table."""
    result = run("graphs", "--store", store)
    assert result.exit_code == 0, result.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
    return {row[0]: (row[1], row[2]) for row in cells if row and row[0]}


def test_demo_and_graphs_list_the_same_graphs_as_on_an_embedded_store(demo_remote, demo_local):
    remote_graphs = listed(demo_remote)
    assert {iri.rsplit("/", 1)[-1] for iri in remote_graphs} >= {"sdg", "demo", "demo-internal"}
    assert remote_graphs == listed(demo_local)


@pytest.mark.parametrize(
    "args",
    [
        ("sdg-goals", "-p", "lang", "en"),
        ("who-works-on", "-p", "sdg", "11.2"),
        ("missing-bridges-summary", "-p", "department", "https://musterstadt.example/id/department/tiefbauamt"),
        ("SELECT (COUNT(*) AS ?n) { ?d a <http://www.w3.org/ns/dcat#Dataset> }",),
    ],
    ids=["sdg-goals", "who-works-on", "missing-bridges-summary", "count"],
)
def test_query_gives_the_rows_of_the_embedded_store(demo_remote, demo_local, args):
    def rows(store) -> list[dict]:
        result = run("query", *args, "--format", "csv", "--store", store)
        assert result.exit_code == 0, result.output
        return sorted(csv.DictReader(io.StringIO(result.stdout)), key=lambda row: sorted(row.items()))

    remote_rows = rows(demo_remote)
    assert remote_rows and remote_rows == rows(demo_local)


def test_query_as_json_counts_the_internal_datasets_too(demo_remote):
    result = run(
        "query",
        "SELECT (COUNT(*) AS ?n) { ?d a <http://www.w3.org/ns/dcat#Dataset> }",
        "-f",
        "json",
        "--store",
        demo_remote,
    )
    assert json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"] == "100"


def test_query_reports_bad_sparql_with_its_position(demo_remote):
    result = run("query", "SELECT ?x WHERE { ?x ?y }", "--store", demo_remote)
    assert result.exit_code == 1
    assert re.search(r"1:\d+", result.output)


def test_export_gives_the_quads_of_the_embedded_store(demo_remote, demo_local):
    def exported(store, *extra: str) -> list[str]:
        result = run("export", "--store", store, *extra)
        assert result.exit_code == 0, result.output
        # The metadata entries name each store's own load times and sources; their visibility must agree.
        lines = canonical(result.stdout_bytes)
        data = [line for line in lines if not line.endswith("<urn:querschnitt:meta>")]
        visibility = sorted(
            line for line in lines if line.endswith("<urn:querschnitt:meta>") and "#visibility>" in line
        )
        return data + visibility

    assert exported(demo_remote) == exported(demo_local)
    public = exported(demo_remote, "--public-only")
    assert public == exported(demo_local, "--public-only")
    assert not any("demo-internal" in line for line in public)


def test_validate_finds_the_demo_conforming(demo_remote):
    result = run("validate", "--store", demo_remote)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_load_writes_a_workbook_folder_as_a_public_and_an_internal_graph(empty_remote):
    result = run("load", ROOT / "tests" / "data" / "staff" / "good", "--name", "kleinstadt", "--store", empty_remote)
    assert result.exit_code == 0, result.output
    graphs = {iri.rsplit("/", 1)[-1]: visibility for iri, (visibility, _) in listed(empty_remote).items()}
    assert (graphs["kleinstadt"], graphs["kleinstadt-internal"]) == ("public", "internal")


def test_loading_a_broken_file_names_the_line_and_changes_nothing(empty_remote, tmp_path):
    data = tmp_path / "extra.ttl"
    data.write_text("<http://ex/a> <http://ex/p> 1 .\n")
    assert run("load", data, "--store", empty_remote).exit_code == 0
    before = run("export", "--store", empty_remote).stdout_bytes
    data.write_text("<http://ex/a> <http://ex/p> 2 .\n<http://ex/a> <http://ex/p> \n")
    result = run("load", data, "--store", empty_remote)
    assert result.exit_code == 1
    assert "extra.ttl" in result.output and "line 3" in result.output
    assert run("export", "--store", empty_remote).stdout_bytes == before


def test_a_backup_restored_into_the_wiped_store_gives_the_same_nquads(
    demo_remote, virtuoso, virtuoso_backend, tmp_path
):
    assert run("backup", tmp_path / "first", "--store", demo_remote).exit_code == 0
    first = (tmp_path / "first" / "querschnitt.nq").read_bytes()
    assert b"graph/demo-internal" in first and b"urn:querschnitt:meta" in first
    virtuoso_backend.new()  # wiped
    _holds_demo[id(virtuoso)] = False
    # Not through the CLI's open, which would refresh the derived graphs (see the CLI restore test below).
    with RemoteStore(virtuoso.sparql_url, update_url=virtuoso.update_url, user="dba", password="dba") as store:
        assert store.restore(tmp_path / "first") == len(canonical(first))
        store.backup(tmp_path / "second")
    _holds_demo[id(virtuoso)] = True
    second = (tmp_path / "second" / "querschnitt.nq").read_bytes()
    assert canonical(second, without_stamp=True) == canonical(first, without_stamp=True)


def test_restore_puts_a_backup_back_into_the_wiped_store_metadata_included(
    demo_remote, virtuoso, virtuoso_backend, tmp_path
):
    assert run("backup", tmp_path / "first", "--store", demo_remote).exit_code == 0
    first = (tmp_path / "first" / "querschnitt.nq").read_bytes()
    virtuoso_backend.new()  # wiped
    _holds_demo[id(virtuoso)] = False
    result = run("restore", tmp_path / "first", "--store", demo_remote)
    assert result.exit_code == 0, result.output
    _holds_demo[id(virtuoso)] = True
    # Read back without the CLI, whose open would refresh (and restamp) the derived graphs.
    with RemoteStore(virtuoso.sparql_url, update_url=virtuoso.update_url, user="dba", password="dba") as store:
        store.backup(tmp_path / "second")
    second = (tmp_path / "second" / "querschnitt.nq").read_bytes()
    assert b"urn:querschnitt:meta" in second
    assert canonical(second, without_stamp=True) == canonical(first, without_stamp=True)


def test_restore_into_a_remote_store_with_data_is_refused(demo_remote, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", demo_remote).exit_code == 0
    result = run("restore", tmp_path / "copy", "--store", demo_remote)
    assert result.exit_code == 1
    assert "empty store" in result.output


def test_a_backup_is_restored_into_an_empty_store_only(demo_remote, virtuoso, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", demo_remote).exit_code == 0
    with virtuoso.store() as store, pytest.raises(Exception, match="empty store"):
        store.restore(tmp_path / "copy")


def test_loading_a_backup_into_its_own_store_is_refused_as_the_same_source_again(demo_remote, tmp_path):
    assert run("backup", tmp_path / "copy", "--store", demo_remote).exit_code == 0
    result = run("load", tmp_path / "copy" / "querschnitt.nq", "--store", demo_remote)
    assert result.exit_code == 1
    # Its graphs would come under the name `querschnitt`; the entities are the demo's: `restore` is the way back.
    assert "--name demo" in result.output and "nothing written" in result.output


def test_backup_refuses_an_existing_directory(demo_remote, tmp_path):
    (tmp_path / "taken").mkdir()
    result = run("backup", tmp_path / "taken", "--store", demo_remote)
    assert result.exit_code == 3
    assert "exists" in result.output
