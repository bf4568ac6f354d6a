"""The DCAT harvester: files and URLs, Hydra paging and its guards, problems, department mapping, speed.

The harvest's quads are checked as they come; what a store makes of them (blank nodes of different
pages, every triple back) is checked on each backend (`empty_store` in conftest.py).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse

from api.store import Visibility
from loaders.dcat import harvest
from loaders.report import LoadResult, Severity

DATA = Path(__file__).parent / "data" / "dcat"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PROJECT_CATALOG = SHARED / "dcat-ap-de" / "own-examples" / "project-sdg-catalog.ttl"
GRAPH = "https://musterstadt.example/id/graph/ckan"
HYDRA = "http://www.w3.org/ns/hydra/core#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCAT_DATASET = NamedNode("http://www.w3.org/ns/dcat#Dataset")
DCT_CREATOR = NamedNode("http://purl.org/dc/terms/creator")
OWL_SAME_AS = NamedNode("http://www.w3.org/2002/07/owl#sameAs")
VCARD_FN = NamedNode("http://www.w3.org/2006/vcard/ns#fn")
TURTLE = "text/turtle; charset=utf-8"
TIEFBAUAMT = "https://musterstadt.example/id/department/66"
UMWELTAMT = "https://musterstadt.example/id/department/31"
DEPARTMENTS = {TIEFBAUAMT: "Tiefbauamt", UMWELTAMT: "Umweltamt", "https://musterstadt.example/id/department/61": "Stadtplanungsamt"}  # fmt: skip

needs_shared = pytest.mark.skipif(not PROJECT_CATALOG.is_file(), reason=f"shared example data missing: {SHARED}")


# --- a loopback web server ----------------------------------------------------------------------------


@dataclass
class Site:
    """A loopback HTTP server answering GETs from `routes` (path with query → status, content type, body)."""

    base: str = ""
    routes: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def serve(self, path: str, body: bytes | str, content_type: str = TURTLE, status: int = 200) -> str:
        self.routes[path] = (status, content_type, body.encode() if isinstance(body, str) else body)
        return self.base + path

    def serve_file(self, path: str, name: str, content_type: str = TURTLE, **replace: str) -> str:
        text = (DATA / name).read_text(encoding="utf-8").replace("{{BASE}}", self.base)
        for key, value in replace.items():
            text = text.replace("{{" + key + "}}", value)
        return self.serve(path, text, content_type)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        site.requests.append((self.path, dict(self.headers)))
        status, content_type, body = site.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        if status in (301, 302, 303, 307, 308):
            self.send_header("Location", body.decode())
            body = b""
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _run_site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    site = Site(base=f"http://127.0.0.1:{server.server_address[1]}")
    server.site = site  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def site() -> Iterator[Site]:
    yield from _run_site()


@pytest.fixture
def other_site() -> Iterator[Site]:
    yield from _run_site()


# --- helpers -------------------------------------------------------------------------------------------


def _datasets(result: LoadResult) -> set[str]:
    return {q.subject.value for q in result.graphs[GRAPH] if q.predicate == RDF_TYPE and q.object == DCAT_DATASET}


def _errors(result: LoadResult) -> list[str]:
    return [str(p) for p in result.errors]


def _warnings(result: LoadResult) -> list[str]:
    return [str(p) for p in result.problems if p.severity is Severity.WARNING]


def _serve_hydra_pages(site: Site) -> str:
    for n in (1, 2, 3):
        site.serve_file(f"/page{n}.ttl", f"hydra-page{n}.ttl")
    return site.base + "/page1.ttl"


# --- single catalogs -----------------------------------------------------------------------------------


@needs_shared
def test_a_catalog_file_yields_its_datasets_with_their_own_iris() -> None:
    result = harvest(str(PROJECT_CATALOG), graph=GRAPH)
    assert result.ok, _errors(result)
    assert _datasets(result) == {"https://kommune.example.org/dataset/radwege"}
    assert result.counts["pages"] == 1
    assert result.counts["datasets"] == 1
    assert result.counts["distributions"] == 1
    assert all(q.graph_name == NamedNode(GRAPH) for q in result.graphs[GRAPH])


@needs_shared
def test_a_catalog_url_yields_the_same_quads_as_the_file(site: Site) -> None:
    url = site.serve("/catalog.ttl", PROJECT_CATALOG.read_bytes())
    from_url = harvest(url, graph=GRAPH)
    from_file = harvest(str(PROJECT_CATALOG), graph=GRAPH)
    assert from_url.ok, _errors(from_url)
    assert _datasets(from_url) == {"https://kommune.example.org/dataset/radwege"}
    assert set(from_url.graphs[GRAPH]) == set(from_file.graphs[GRAPH])
    assert from_url.counts == from_file.counts


def test_rdf_xml_and_json_ld_are_recognised_by_content_type(site: Site) -> None:
    xml = site.serve("/catalog-xml", (DATA / "catalog.rdf").read_bytes(), "application/rdf+xml")
    jsonld = site.serve("/catalog-json", (DATA / "catalog.jsonld").read_bytes(), "application/ld+json")
    assert _datasets(harvest(xml, graph=GRAPH)) == {"https://kommune.example.org/dataset/xml"}
    assert _datasets(harvest(jsonld, graph=GRAPH)) == {"https://kommune.example.org/dataset/jsonld"}


def test_the_request_prefers_turtle(site: Site) -> None:
    url = site.serve_file("/catalog.ttl", "hydra-page3.ttl")
    harvest(url, graph=GRAPH)
    accept = site.requests[0][1]["Accept"]
    assert accept.startswith("text/turtle,")


def test_a_catalog_without_datasets_is_an_error() -> None:
    result = harvest(str(DATA / "no-datasets.ttl"), graph=GRAPH)
    assert not result.ok
    assert any("no dcat:Dataset" in e for e in _errors(result))


def test_ckan_plain_json_is_an_error_not_an_empty_catalog(tmp_path: Path) -> None:
    ckan = tmp_path / "catalog.json"
    ckan.write_text('{"help": "package_search", "success": true, "result": {"count": 1, "results": [{"name": "x"}]}}')
    result = harvest(str(ckan), graph=GRAPH)
    assert [p.file for p in result.errors] == [str(ckan)]
    assert "CKAN" in result.errors[0].message_de and "nothing is written" in result.errors[0].message_en


# --- paging ----------------------------------------------------------------------------------------------


def test_a_three_page_hydra_next_catalog_is_walked_to_the_end(site: Site) -> None:
    result = harvest(_serve_hydra_pages(site), graph=GRAPH)
    assert result.ok, _errors(result)
    assert site.paths == ["/page1.ttl", "/page2.ttl", "/page3.ttl"]
    assert _datasets(result) == {f"https://kommune.example.org/dataset/{x}" for x in "abc"}
    assert result.counts["pages"] == 3


def test_a_ckan_paged_collection_is_walked_through_its_next_page_literals(site: Site) -> None:
    for n in (1, 2):
        site.serve_file(f"/catalog.ttl?page={n}", f"ckan-page{n}.ttl")
    result = harvest(site.base + "/catalog.ttl?page=1", graph=GRAPH)
    assert result.ok, _errors(result)
    assert site.paths == ["/catalog.ttl?page=1", "/catalog.ttl?page=2"]
    assert _datasets(result) == {"https://ckan.example.org/dataset/ckan-1", "https://ckan.example.org/dataset/ckan-2"}


def test_hydra_triples_are_not_in_the_output(site: Site) -> None:
    result = harvest(_serve_hydra_pages(site), graph=GRAPH)
    for q in result.graphs[GRAPH]:
        assert not q.predicate.value.startswith(HYDRA), q
        assert not (isinstance(q.object, NamedNode) and q.object.value.startswith(HYDRA)), q
    catalog = NamedNode("https://kommune.example.org/catalog")
    assert any(q.subject == catalog for q in result.graphs[GRAPH])  # the catalog itself stays


def test_blank_nodes_of_different_pages_stay_apart(site: Site) -> None:
    result = harvest(_serve_hydra_pages(site), graph=GRAPH)
    contacts = {q.object.value: q.subject for q in result.graphs[GRAPH] if q.predicate == VCARD_FN}
    assert set(contacts) == {"Kontakt A", "Kontakt B"}  # both pages call their contact _:b0
    assert isinstance(contacts["Kontakt A"], BlankNode)
    assert contacts["Kontakt A"] != contacts["Kontakt B"]


def test_a_harvest_comes_back_from_the_store_whole_with_its_blank_nodes_apart(site: Site, empty_store) -> None:
    result = harvest(_serve_hydra_pages(site), graph=GRAPH)
    empty_store.replace_graphs(
        result.graphs[GRAPH], visibility={GRAPH: Visibility.PUBLIC}, source="test", loader="dcat-harvest", checksum="x"
    )
    rows = empty_store.query(f"SELECT ?contact ?name {{ ?contact <{VCARD_FN.value}> ?name }}")
    contacts = {row["name"].value: row["contact"] for row in rows}
    assert set(contacts) == {"Kontakt A", "Kontakt B"} and contacts["Kontakt A"] != contacts["Kontakt B"]
    out = io.BytesIO()
    empty_store.dump(out)
    back = [q for q in parse(out.getvalue(), RdfFormat.N_QUADS)]
    assert len(back) == len(set(result.graphs[GRAPH]))
    assert {q for q in back if _ground(q)} == {q for q in result.graphs[GRAPH] if _ground(q)}


def _ground(q: Quad) -> bool:
    return not isinstance(q.subject, BlankNode) and not isinstance(q.object, BlankNode)


def test_a_paging_loop_stops_with_an_error_naming_the_url(site: Site) -> None:
    site.serve_file("/loop-page1.ttl", "loop-page1.ttl")
    site.serve_file("/loop-page2.ttl", "loop-page2.ttl")
    result = harvest(site.base + "/loop-page1.ttl", graph=GRAPH)
    assert not result.ok
    assert site.paths == ["/loop-page1.ttl", "/loop-page2.ttl"]
    [error] = result.errors
    assert error.file == site.base + "/loop-page2.ttl"
    assert "paging loop" in error.message_en and site.base + "/loop-page1.ttl" in error.message_en


def test_more_pages_than_max_pages_stop_with_an_error(site: Site) -> None:
    result = harvest(_serve_hydra_pages(site), graph=GRAPH, max_pages=2)
    assert not result.ok
    assert site.paths == ["/page1.ttl", "/page2.ttl"]
    assert "more than 2 pages" in result.errors[0].message_en
    assert result.errors[0].file == site.base + "/page3.ttl"


def test_a_next_link_to_another_host_is_refused_without_contacting_it(site: Site, other_site: Site) -> None:
    other_host = other_site.base.replace("127.0.0.1", "localhost")
    url = site.serve_file("/cross-host.ttl", "cross-host.ttl", OTHER=other_host)
    other_site.serve_file("/page2.ttl", "hydra-page3.ttl")
    result = harvest(url, graph=GRAPH)
    assert not result.ok
    assert "another host refused" in result.errors[0].message_en
    assert other_host + "/page2.ttl" in result.errors[0].message_en
    assert other_site.requests == []


def test_a_redirect_to_another_host_is_refused(site: Site, other_site: Site) -> None:
    target = other_site.serve_file("/catalog.ttl", "hydra-page3.ttl")
    url = site.serve("/catalog.ttl", target, status=302)
    result = harvest(url, graph=GRAPH)
    assert not result.ok
    assert "redirect to another host refused" in result.errors[0].message_en
    assert other_site.requests == []


def test_a_same_origin_redirect_is_followed_and_resolves_relative_links(site: Site) -> None:
    _serve_hydra_pages(site)
    url = site.serve("/catalog", site.base + "/page1.ttl", status=302)
    result = harvest(url, graph=GRAPH)
    assert result.ok, _errors(result)
    assert site.paths == ["/catalog", "/page1.ttl", "/page2.ttl", "/page3.ttl"]


def test_progress_is_reported_after_every_page(site: Site) -> None:
    seen: list[tuple[int, int]] = []
    harvest(_serve_hydra_pages(site), graph=GRAPH, progress=lambda pages, triples: seen.append((pages, triples)))
    assert [pages for pages, _ in seen] == [1, 2, 3]
    assert seen[0][1] < seen[1][1] < seen[2][1]


def test_a_next_page_link_in_a_file_is_warned_about_not_followed() -> None:
    result = harvest(str(DATA / "hydra-page1.ttl"), graph=GRAPH)
    assert result.ok
    assert result.counts["pages"] == 1
    assert any("not followed" in w for w in _warnings(result))


# --- problems --------------------------------------------------------------------------------------------


def test_a_malformed_turtle_page_gives_an_error_naming_url_and_line(site: Site) -> None:
    url = site.serve_file("/malformed.ttl", "malformed.ttl")
    result = harvest(url, graph=GRAPH)
    assert not result.ok
    [error] = result.errors
    assert (error.file, error.row) == (url, 7)
    assert error.column is not None
    assert str(error).startswith(f"{url}, row 7, column ")


@needs_shared
def test_a_malformed_published_example_file_gives_an_error_naming_file_and_line() -> None:
    path = SHARED / "dcat-ap-de" / "examples-3.0" / "DataService.ttl"  # missing "." after a prefix (SOURCES.md)
    result = harvest(str(path), graph=GRAPH)
    [error] = result.errors
    assert (error.file, error.row) == (str(path), 13)


def test_http_404_gives_an_error_naming_url_and_status(site: Site) -> None:
    url = site.base + "/missing.ttl"
    result = harvest(url, graph=GRAPH)
    assert not result.ok
    [error] = result.errors
    assert error.file == url
    assert "HTTP status 404" in error.message_en and "HTTP-Status 404" in error.message_de


def test_an_unreachable_server_gives_an_error_naming_the_url() -> None:
    with socket.socket() as closed:  # a bound port that does not listen: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/catalog.ttl"
        result = harvest(url, graph=GRAPH, timeout=5)
    assert not result.ok
    assert result.errors[0].file == url
    assert f"fetching {url} failed" in result.errors[0].message_en


def test_a_json_ld_remote_context_is_not_fetched(site: Site) -> None:
    site.serve("/context.jsonld", '{"@context": {"dct": "http://purl.org/dc/terms/"}}', "application/ld+json")
    body = f'{{"@context": "{site.base}/context.jsonld", "@id": "https://kommune.example.org/x", "dct:title": "x"}}'
    result = harvest(site.serve("/catalog", body, "application/ld+json"), graph=GRAPH)
    assert not result.ok
    assert site.paths == ["/catalog"]


def test_an_html_answer_is_not_taken_for_rdf(site: Site) -> None:
    url = site.serve("/catalog", "<html><body>CKAN</body></html>", "text/html; charset=utf-8")
    result = harvest(url, graph=GRAPH)
    assert not result.ok
    assert "not RDF" in result.errors[0].message_en


# --- departments -----------------------------------------------------------------------------------------


def test_a_creator_named_like_a_known_department_is_linked_to_it() -> None:
    result = harvest(str(DATA / "departments.ttl"), graph=GRAPH, departments=DEPARTMENTS)
    quads = set(result.graphs[GRAPH])
    dataset = NamedNode("https://kommune.example.org/dataset/strassen")
    assert Quad(dataset, DCT_CREATOR, NamedNode(TIEFBAUAMT), NamedNode(GRAPH)) in quads
    [agent] = [q.subject for q in quads if q.predicate == OWL_SAME_AS and q.object == NamedNode(TIEFBAUAMT)]
    assert Quad(dataset, DCT_CREATOR, agent, NamedNode(GRAPH)) in quads  # the catalog's own agent node


def test_a_publisher_named_like_a_known_department_becomes_the_creator() -> None:
    result = harvest(str(DATA / "departments.ttl"), graph=GRAPH, departments=DEPARTMENTS)
    dataset = NamedNode("https://kommune.example.org/dataset/luft")
    assert Quad(dataset, DCT_CREATOR, NamedNode(UMWELTAMT), NamedNode(GRAPH)) in set(result.graphs[GRAPH])
    assert result.counts["mapped_departments"] == 2


def test_a_creator_matching_no_department_gives_a_warning() -> None:
    result = harvest(str(DATA / "departments.ttl"), graph=GRAPH, departments=DEPARTMENTS)
    assert result.ok
    assert _warnings(result) == [
        f"{DATA / 'departments.ttl'}: warning: Urheber „Amt für Zauberei“ (1 Datensatz) passt zu keinem bekannten Amt"
        " / creator 'Amt für Zauberei' (1 dataset) matches no known department"
    ]
    sames = [q for q in result.graphs[GRAPH] if q.predicate == OWL_SAME_AS]
    assert NamedNode("https://kommune.example.org/org/zauberei") not in {q.subject for q in sames}


# --- volume ----------------------------------------------------------------------------------------------


def _generated_page(base: str, page: int, pages: int, per_page: int) -> str:
    lines = [
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
        "@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .",
        "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .",
        f"<{base}/catalog.ttl?page={page}> a hydra:PagedCollection ; hydra:totalItems {pages * per_page} ;",
        f'  hydra:nextPage "{base}/catalog.ttl?page={page + 1}" .' if page < pages else "  hydra:itemsPerPage 100 .",
    ]
    for i in range((page - 1) * per_page, page * per_page):
        d = f"https://ckan.example.org/dataset/d{i}"
        lines.append(
            f"<https://ckan.example.org/catalog> dcat:dataset <{d}> .\n"
            f'<{d}> a dcat:Dataset ; dct:title "Datensatz {i}"@de ; dct:description "Beschreibung {i}"@de ;\n'
            f'  dct:identifier "d{i}" ; dcat:keyword "Verkehr"@de, "Umwelt"@de ;\n'
            f'  dct:modified "2024-06-01"^^<http://www.w3.org/2001/XMLSchema#date> ;\n'
            f'  dct:creator [ a foaf:Agent ; foaf:name "Stadt Musterstadt – Tiefbauamt" ] ;\n'
            f'  dcat:contactPoint [ a vcard:Organization ; vcard:fn "Open-Data-Team" ] ;\n'
            f"  dcat:distribution <{d}/csv> .\n"
            f"<{d}/csv> a dcat:Distribution ; dcat:accessURL <https://ckan.example.org/files/d{i}.csv> ;\n"
            f"  dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ."
        )
    return "\n".join(lines)


@pytest.mark.slow
def test_ten_thousand_datasets_over_a_hundred_pages_harvest_in_seconds(site: Site) -> None:
    pages, per_page = 100, 100
    for page in range(1, pages + 1):
        site.serve(f"/catalog.ttl?page={page}", _generated_page(site.base, page, pages, per_page))
    start = time.perf_counter()
    result = harvest(site.base + "/catalog.ttl?page=1", graph=GRAPH, departments=DEPARTMENTS)
    seconds = time.perf_counter() - start
    print(f"\nharvested {result.counts} in {seconds:.2f} s ({result.counts['triples'] / seconds:,.0f} triples/s)")
    assert result.ok, _errors(result)
    assert result.counts["pages"] == pages
    assert result.counts["datasets"] == pages * per_page
    assert result.counts["distributions"] == pages * per_page
    assert result.counts["mapped_departments"] == 1
    assert not any(isinstance(q.object, Literal) and q.object.value.startswith(site.base) for q in result.graphs[GRAPH])
    assert seconds < 60  # generous: measured ≈ a few seconds, see the printed line


def test_an_rdf_xml_catalog_with_nested_entities_is_refused(tmp_path):
    path = tmp_path / "catalog.rdf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a"><!ENTITY b "&a;&a;&a;">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    )
    result = harvest(str(path), graph="https://musterstadt.example/id/graph/ckan")
    assert not result.ok
    assert "entit" in result.errors[0].message_en


def test_a_creator_named_as_a_variant_of_a_department_is_linked_with_a_warning_naming_it(tmp_path) -> None:
    catalog = tmp_path / "variant.ttl"
    catalog.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        '<https://portal.example/ds/1> a dcat:Dataset ; dct:title "Baustellen" ; dct:creator [ foaf:name "Amt f. Tiefbau" ] .\n',
        encoding="utf-8",
    )
    result = harvest(str(catalog), graph=GRAPH, departments=DEPARTMENTS)
    dataset = NamedNode("https://portal.example/ds/1")
    assert Quad(dataset, DCT_CREATOR, NamedNode(TIEFBAUAMT), NamedNode(GRAPH)) in set(result.graphs[GRAPH])
    assert any("„Amt f. Tiefbau“" in w and "Tiefbauamt" in w for w in _warnings(result))


def test_licence_spellings_and_old_govdata_categories_are_normalised_and_counted(tmp_path) -> None:
    catalog = tmp_path / "portal.ttl"
    catalog.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        + "".join(
            f'<https://portal.example/ds/{n}> a dcat:Dataset ; dct:title "D{n}" ; dcat:theme "Umwelt und Klima" ;\n'
            f"  dcat:distribution <https://portal.example/ds/{n}/csv> .\n"
            f"<https://portal.example/ds/{n}/csv> dct:license <http://dcat-ap.de/def/licenses/dl-zero-de/2_0> .\n"
            for n in range(3)
        ),
        encoding="utf-8",
    )
    result = harvest(str(catalog), graph=GRAPH)
    quads = set(result.graphs[GRAPH])
    licence = NamedNode("http://dcat-ap.de/def/licenses/dl-zero-de/2.0")
    envi = NamedNode("http://publications.europa.eu/resource/authority/data-theme/ENVI")
    assert sum(1 for q in quads if q.object == licence) == 3 and sum(1 for q in quads if q.object == envi) == 3
    warnings = _warnings(result)
    assert sum("dl-zero-de/2_0" in w and "3×" in w for w in warnings) == 1
    assert sum("Umwelt und Klima" in w and "3×" in w for w in warnings) == 1
