"""RDF files: formats, compression, and large files streamed rather than read into memory; and what a load
of them leaves in a store of each backend (`empty_store` in conftest.py)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from api.store import Visibility
from loaders.rdf_files import RdfSyntaxError, rdf_format_of, read_rdf, sha256_of

GRAPH = "https://musterstadt.example/id/graph/test"


TRIPLE_FILES = [
    ("a.ttl", "@prefix ex: <http://ex/> . ex:a ex:p 1 ."),
    ("a.nt", "<http://ex/a> <http://ex/p> <http://ex/o> ."),
    (
        "a.rdf",
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex/">'
        '<rdf:Description rdf:about="http://ex/a"><ex:p>1</ex:p></rdf:Description></rdf:RDF>',
    ),
    ("a.jsonld", '{"@id": "http://ex/a", "http://ex/p": "1"}'),
]


@pytest.mark.parametrize(("name", "text"), TRIPLE_FILES)
def test_triple_formats_load_into_the_given_graph(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    quads = list(read_rdf(path, graph=GRAPH))
    assert len(quads) == 1 and quads[0].graph_name == NamedNode(GRAPH)


def test_quad_formats_keep_their_own_graphs(tmp_path):
    path = tmp_path / "a.trig"
    path.write_text("<http://ex/g> { <http://ex/a> <http://ex/p> 1 } <http://ex/b> <http://ex/p> 2 .")
    assert {q.graph_name.value for q in read_rdf(path, graph=GRAPH)} == {"http://ex/g", GRAPH}


def load(store, path: Path, **visibility):
    """What `querschnitt load FILE` does with the file: one atomic replace, graphs as the file names them."""
    return store.replace_graphs(
        read_rdf(path, graph=GRAPH),
        visibility=visibility or Visibility.PUBLIC,
        source=str(path),
        loader="rdf-file",
        checksum=sha256_of(path),
    )


@pytest.mark.parametrize(("name", "text"), TRIPLE_FILES)
def test_each_triple_format_reaches_the_store_of_each_backend(tmp_path, empty_store, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (info,) = load(empty_store, path, **{GRAPH: Visibility.PUBLIC})
    assert (info.iri, info.triples) == (GRAPH, 1)
    (row,) = empty_store.query(f"SELECT ?s ?o {{ GRAPH <{GRAPH}> {{ ?s <http://ex/p> ?o }} }}")
    assert row["s"] == NamedNode("http://ex/a")


def test_a_trig_file_fills_each_graph_it_names_in_the_store_of_each_backend(tmp_path, empty_store):
    path = tmp_path / "a.trig"
    path.write_text("<http://ex/g> { <http://ex/a> <http://ex/p> 1 } <http://ex/b> <http://ex/p> 2 .")
    load(empty_store, path)
    assert {(g.iri, g.triples) for g in empty_store.graphs()} == {("http://ex/g", 1), (GRAPH, 1)}


def test_a_syntax_error_midway_leaves_the_store_of_each_backend_as_it_was(tmp_path, empty_store):
    good, bad = tmp_path / "good.nt", tmp_path / "bad.nt"
    good.write_text("<http://ex/a> <http://ex/p> <http://ex/o> .\n")
    load(empty_store, good, **{GRAPH: Visibility.PUBLIC})
    bad.write_text("<http://ex/a> <http://ex/p> <http://ex/new> .\n<http://ex/a> <http://ex/p> \n")
    with pytest.raises(RdfSyntaxError):
        load(empty_store, bad, **{GRAPH: Visibility.PUBLIC})
    assert [row["o"].value for row in empty_store.query("SELECT ?o { ?s ?p ?o }")] == ["http://ex/o"]


def test_gzipped_files_are_read_and_progress_counts_compressed_bytes(tmp_path):
    path = tmp_path / "a.nt.gz"
    path.write_bytes(gzip.compress(b"<http://ex/a> <http://ex/p> <http://ex/o> .\n" * 100))
    seen = []
    assert len(list(read_rdf(path, graph=GRAPH, progress=seen.append))) == 100
    assert sum(seen) == path.stat().st_size


def test_an_unknown_suffix_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(RdfSyntaxError, match=r"\.ttl"):
        rdf_format_of(tmp_path / "data.xlsx")


def test_a_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text('<http://ex/a> <http://ex/p> 1 .\n<http://ex/a> <http://ex/p> "open .\n')
    with pytest.raises(RdfSyntaxError, match=r"bad\.ttl.*line 2"):
        list(read_rdf(path, graph=GRAPH))


PEAK_MEMORY = """
import resource, sys
mode, path, store = sys.argv[1:]
if mode == "raw":
    from pyoxigraph import NamedNode, RdfFormat, Store
    Store(store).bulk_load(path=path, format=RdfFormat.N_TRIPLES, to_graph=NamedNode("http://ex/g"))
else:
    from api.cli import app
    try:
        app(["load", path, "--store", store])
    except SystemExit as end:
        assert end.code == 0, end.code
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(mode: str, path: Path, store: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, mode, str(path), str(store)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_a_50_mb_file_is_streamed_with_no_more_memory_than_pyoxigraphs_own_bulk_load(tmp_path):
    # pyoxigraph's bulk loader holds a batch in memory by design; the loader must add no copy of the file.
    path = tmp_path / "big.nt"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(520_000):
            handle.write(
                f'<https://example.org/item/{i}> <https://example.org/label> "Eintrag {i}, Größe 50 MB"@de .\n'
            )
    assert path.stat().st_size > 50_000_000
    ours = peak_kib("querschnitt", path, tmp_path / "ours")
    raw = peak_kib("raw", path, tmp_path / "raw")
    assert ours < raw * 1.3, (ours, raw)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex/">
<rdf:Description rdf:about="http://ex/a"><ex:p>&lol2;</ex:p></rdf:Description></rdf:RDF>"""


def test_an_rdf_xml_file_with_nested_entities_is_refused_before_parsing(tmp_path):
    path = tmp_path / "laughs.rdf"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(RdfSyntaxError, match="laughs.rdf.*entit"):
        list(read_rdf(path, graph=GRAPH))


RDF_XML_BAD = (
    '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '<rdf:Description rdf:about="http://a"><foo/></rdf:Description>\n</rdf:RDF>\n'
)
JSON_LD_BAD = '[\n{"@id": "http://a", "http://x/p": 1},\n{"@id": "http://b", "http://x/p": {"@id": 5}}\n]\n'


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [("bad.rdf", RDF_XML_BAD, "line 3, column 44"), ("bad.jsonld", JSON_LD_BAD, "line 3, column ")],
)
def test_structure_errors_of_rdf_xml_and_json_ld_name_line_and_column(tmp_path, name, text, where):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RdfSyntaxError, match=where):
        list(read_rdf(path, graph="http://example.org/g"))
