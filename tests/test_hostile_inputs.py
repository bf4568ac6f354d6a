"""A corpus of hostile inputs: each is answered by a clear error (4xx or a loader problem), nothing written.

Every HTTP case compares a canonical dump of the whole store (internal graphs and metadata included)
before and after, so "nothing written" is checked on the data, not on the status code alone.
"""

from __future__ import annotations

import contextlib
import csv
import io
import select
import socket
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.errors import HttpProblem
from api.executor import Admission
from api.guard import Allowlist
from api.server import GuardedH11Protocol, GuardedHttpToolsProtocol
from api.sparql_check import SparqlChecker
from api.store import EmbeddedStore
from api.testing import EDITOR, LiveServer, fill, make_settings
from api.ui import spreadsheet_safe
from loaders.dcat import harvest
from loaders.isolated_parse import MAX_TRIPLE_TERM_DEPTH
from loaders.rdf_files import RdfSyntaxError, read_rdf
from loaders.sheets import MAX_XLSX_UNPACKED_BYTES, read_sheets, write_sheets, xlsx_too_large
from loaders.xml_guard import xml_entity_problem

TARGET = "https://musterstadt.example/id/graph/upload"


def canonical(store: EmbeddedStore) -> bytes:
    """Sorted N-Quads of every graph and the metadata: equal bytes mean equal stores."""
    out = io.BytesIO()
    store.dump(out, include_internal=True, include_meta=True)
    return b"\n".join(sorted(out.getvalue().splitlines()))


@pytest.fixture
def hostile():
    """A client over a small sample store with a 64 KiB body and upload limit."""
    store = fill(EmbeddedStore(None))
    app = create_app(make_settings(max_body_bytes=65_536, max_upload_bytes=65_536), store=store)
    with TestClient(app) as client:
        client.store = store
        yield client


def refused_and_unchanged(client: TestClient, method: str, url: str, **kwargs) -> int:
    before = canonical(client.store)
    response = client.request(method, url, **kwargs)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.text.strip(), "an error must say what is wrong"
    assert canonical(client.store) == before
    return response.status_code


def billion_laughs(levels: int = 10) -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels))
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{entities}]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        f'<rdf:Description rdf:about="http://example.org/s"><ex:p>&lol{levels - 1};</ex:p></rdf:Description>'
        "</rdf:RDF>"
    ).encode()


@pytest.fixture
def roomy():
    """A client over a small sample store that accepts uploads of a few MB (hostile documents need room)."""
    store = fill(EmbeddedStore(None))
    app = create_app(make_settings(max_upload_bytes=4_000_000, query_timeout=10.0), store=store)
    with TestClient(app) as client:
        client.store = store
        yield client


def still_answers(client: TestClient) -> None:
    """The server is alive and answers a cheap query after a hostile request."""
    response = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def nested_triple_terms(depth: int) -> bytes:
    """Turtle whose one triple has RDF 1.2 triple terms nested `depth` levels deep (24 bytes a level)."""
    return (
        "<http://e/s> <http://e/p> "
        + "<<( <http://e/s> <http://e/p> " * depth
        + "<http://e/o>"
        + " )>>" * depth
        + " .\n"
    ).encode()


def laughs_after_a_comment(comment_bytes: int = 1_100_000) -> bytes:
    """Billion laughs whose DOCTYPE comes after a comment longer than any window a text check reads."""
    head, rest = billion_laughs().split(b"\n", 1)
    return head + b"\n<!-- " + b"x" * comment_bytes + b" -->\n" + rest


def put_upload(client: TestClient, body: bytes, content_type: str) -> int:
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": content_type}}
    return refused_and_unchanged(client, "PUT", "/graphs", content=body, **put)


@pytest.mark.parametrize("content_type", ["text/turtle", "application/n-triples"])
def test_twenty_thousand_nested_triple_terms_in_an_upload_are_a_400_and_the_server_lives(roomy, content_type):
    assert put_upload(roomy, nested_triple_terms(20_000), content_type) == 400
    still_answers(roomy)


def test_triple_terms_nested_past_the_limit_are_refused_naming_it(roomy):
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": "text/turtle"}}
    response = roomy.put("/graphs", content=nested_triple_terms(MAX_TRIPLE_TERM_DEPTH + 1), **put)
    assert response.status_code == 400 and f"{MAX_TRIPLE_TERM_DEPTH} levels" in response.text


def test_triple_terms_nested_a_few_levels_are_stored(roomy):
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": "text/turtle"}}
    assert roomy.put("/graphs", content=nested_triple_terms(3), **put).status_code == 201


def test_billion_laughs_after_a_long_comment_is_a_400_and_the_server_lives(roomy):
    assert put_upload(roomy, laughs_after_a_comment(), "application/rdf+xml") == 400
    still_answers(roomy)


def test_querschnitt_load_of_a_hostile_file_fails_cleanly(tmp_path):
    bomb = tmp_path / "catalog.rdf"
    bomb.write_bytes(laughs_after_a_comment())
    result = CliRunner().invoke(cli, ["load", str(bomb), "--store", str(tmp_path / "store")])
    assert result.exit_code == 1 and "limits" in result.output, result.output


def test_reading_deeply_nested_triple_terms_is_a_syntax_error_naming_the_file(tmp_path):
    deep = tmp_path / "deep.ttl"
    deep.write_bytes(nested_triple_terms(20_000))
    with pytest.raises(RdfSyntaxError, match="deep.ttl.*limits"):
        list(read_rdf(deep, graph=TARGET))


def test_a_dcat_harvest_of_a_url_serving_billion_laughs_fails_cleanly():
    bomb = laughs_after_a_comment()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=bomb, headers={"Content-Type": "application/rdf+xml"})
    )
    with httpx.Client(transport=transport) as client:
        result = harvest("https://kommune.example.org/catalog.rdf", graph=TARGET, client=client)
    assert not result.ok
    assert any("limits" in problem.message_en for problem in result.problems)


def test_a_huge_literal_beyond_the_upload_limit_is_413(hostile):
    body = f'<http://example.org/s> <http://example.org/p> "{"x" * 200_000}" .\n'
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": "application/n-triples"}}
    assert refused_and_unchanged(hostile, "PUT", "/graphs", content=body, **put) == 413


def test_a_huge_query_beyond_the_body_limit_is_413(hostile):
    query = f'ASK {{ ?s ?p "{"x" * 200_000}" }}'
    headers = {"Content-Type": "application/sparql-query"}
    assert refused_and_unchanged(hostile, "POST", "/sparql", content=query, headers=headers) == 413


def test_ten_thousand_nested_groups_are_a_400(hostile):
    query = "ASK " + "{" * 10_000 + "}" * 10_000
    headers = {"Content-Type": "application/sparql-query"}
    assert refused_and_unchanged(hostile, "POST", "/sparql", content=query, headers=headers) in (400, 413)


def test_ten_thousand_nested_groups_in_an_update_are_refused(hostile):
    update = "INSERT { <http://e/s> <http://e/p> 1 } WHERE " + "{" * 10_000 + "}" * 10_000
    headers = {**EDITOR, "Content-Type": "application/sparql-update"}
    refused_and_unchanged(hostile, "POST", "/sparql", content=update, headers=headers)


def test_billion_laughs_in_an_rdf_xml_upload_is_a_400(hostile):
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": "application/rdf+xml"}}
    assert refused_and_unchanged(hostile, "PUT", "/graphs", content=billion_laughs(), **put) == 400


def test_an_external_entity_in_rdf_xml_is_refused():
    doc = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    assert "external" in xml_entity_problem(doc)


def test_plain_entities_as_in_owl_files_are_accepted():
    doc = b'<!DOCTYPE rdf:RDF [<!ENTITY owl "http://www.w3.org/2002/07/owl#">]><rdf:RDF/>'
    assert xml_entity_problem(doc) is None


@pytest.mark.parametrize(
    "path",
    ["/id/..%2f..%2fetc%2fpasswd", "/id/../../etc/passwd", "/page/%2e%2e", "/page/../../etc/passwd", "/page/%2e%2e/x"],
)
def test_path_traversal_in_ids_finds_nothing(hostile, path):
    response = hostile.get(path)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text


def test_path_traversal_in_a_graph_iri_writes_nothing_outside_the_store(hostile, tmp_path):
    put = {"params": {"graph": "file:///../../tmp/x"}, "headers": {**EDITOR, "Content-Type": "text/turtle"}}
    response = hostile.put("/graphs", content=b"<http://e/s> <http://e/p> 1 .", **put)
    assert response.status_code < 500
    assert not Path("/tmp/x").exists()


def zip_bomb(path: Path, unpacked: int) -> Path:
    """An XLSX-shaped zip whose one sheet inflates to `unpacked` bytes (a few hundred KB on disk)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b" " * 1_000_000
            for _ in range(unpacked // len(block)):
                member.write(block)
    return path


@pytest.mark.parametrize("name", ["staff.xlsx", "staff.ods"])
def test_a_zip_bomb_workbook_is_refused_before_openpyxl_reads_it(tmp_path, name):
    # An ODS file is a zip as well; calamine would inflate its content.xml just the same.
    bomb = zip_bomb(tmp_path / name, MAX_XLSX_UNPACKED_BYTES + 50_000_000)
    assert bomb.stat().st_size < 2_000_000
    sheets, problems = read_sheets([bomb])
    assert sheets == {}
    (problem,) = problems
    assert "unpacks to" in problem.message_en and problem.file == name


def test_the_zip_size_check_passes_an_ordinary_workbook(tmp_path):
    path = tmp_path / "ok.xlsx"
    write_sheets({"departments": [{"id": "a", "name": "Amt A"}]}, path)
    assert xlsx_too_large(path) is None


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_formula_like_text_in_exported_sheets_stays_text(tmp_path, payload):
    write_sheets({"departments": [{"id": "a", "name": payload}]}, tmp_path / "out")
    with (tmp_path / "out" / "departments.csv").open(encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert payload not in cells
    assert "'" + payload in cells


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1+1", "@A1", "\t=1"])
def test_formula_like_labels_in_ui_exports_get_an_apostrophe(payload):
    assert spreadsheet_safe(payload) == "'" + payload


# Full-width and small forms that spreadsheets read as `=`, `+`, `-`, `@`.
@pytest.mark.parametrize("payload", ["\uff1d1+1", "\ufe661+1", "\ufe62cmd", "\ufe63 2+3", "\uff20SUM(A1)"])
def test_compatibility_forms_of_formula_characters_get_an_apostrophe_too(payload):
    assert spreadsheet_safe(payload) == "'" + payload


@pytest.mark.parametrize("text", ["\uff21mt f\u00fcr Stadtentwicklung", "\u00c4mter", "11.2", ""])
def test_ordinary_labels_stay_as_they_are(text):
    assert spreadsheet_safe(text) == text


# -- connections that dribble ---------------------------------------------------------


def dribblers(url: str, count: int, *, source: str, head: bytes) -> list[socket.socket]:
    """`count` connections from the loopback address `source`, each having sent `head` and no more."""
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
        sock.sendall(head)
        sockets.append(sock)
    return sockets


def closed_by_server(sockets: list[socket.socket], *, within: float) -> list[socket.socket]:
    """The sockets the server closed within `within` seconds (EOF or reset), reading what it sent first."""
    # poll, not select: a long test run has file descriptors above select's limit of 1024.
    open_ = {sock.fileno(): sock for sock in sockets}
    poller = select.poll()
    for fd in open_:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    deadline = time.monotonic() + within
    while open_ and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            sock = open_.get(fd)
            if sock is None:
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                del open_[fd]
    still_open = set(open_.values())
    return [s for s in sockets if s not in still_open]


@pytest.fixture(params=[GuardedHttpToolsProtocol, GuardedH11Protocol], ids=["httptools", "h11"])
def guarded_server(request):
    """A real server with a 1 s header deadline, 2 s body periods and 50 connections per address."""
    store = fill(EmbeddedStore(None))
    settings = make_settings(header_timeout=1.0, body_timeout=2.0, max_connections_per_client=50)
    with LiveServer(create_app(settings, store=store), http=request.param) as server:
        yield server


def test_connections_that_dribble_header_bytes_are_closed_within_seconds(guarded_server):
    sockets = dribblers(guarded_server.url, 300, source="127.0.0.2", head=b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    try:
        started = time.monotonic()
        # While they hold their connections, another client is answered at once.
        assert httpx.get(f"{guarded_server.url}/healthz", timeout=5).status_code == 200
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(b"X")  # one more header byte: the deadline is for the headers, not for silence
        # The deadline is 1 s; 10 s of slack keeps a loaded CI machine from failing a correct server.
        closed = closed_by_server(sockets, within=10)
        assert len(closed) == 300
        assert time.monotonic() - started < 10
        assert httpx.post(f"{guarded_server.url}/sparql", data={"query": "ASK {}"}, timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_one_address_cannot_hold_more_than_its_share_of_connections(guarded_server):
    sockets = dribblers(guarded_server.url, 80, source="127.0.0.3", head=b"")
    try:
        # 30 of them get 503 and are closed at once, long before the header deadline.
        assert len(closed_by_server(sockets, within=0.8)) == 30
        assert httpx.get(f"{guarded_server.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_a_body_that_dribbles_is_closed_with_408(guarded_server):
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 1000\r\n\r\n"
    (sock,) = dribblers(guarded_server.url, 1, source="127.0.0.4", head=head)
    with sock:
        started, answer = time.monotonic(), b""
        sock.settimeout(0.5)
        while time.monotonic() - started < 8:
            with contextlib.suppress(OSError):
                sock.sendall(b" ")
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break  # a byte sent after the server's 408 and close: the answer was read before, or is lost
            if not chunk:
                break
            answer += chunk
            if answer.startswith(b"HTTP/1.1 408"):
                break  # stop sending once answered, so the close is not met by a reset
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 6
    assert httpx.post(f"{guarded_server.url}/sparql", data={"query": "ASK {}"}, timeout=5).status_code == 200


def test_at_the_connection_bound_a_new_client_takes_the_place_of_the_oldest_dribbler():
    settings = make_settings(header_timeout=30.0, max_connections=100, max_connections_per_client=0)
    with LiveServer(create_app(settings, store=fill(EmbeddedStore(None)))) as server:
        sockets = dribblers(server.url, 150, source="127.0.0.5", head=b"GET / HTTP/1.1\r\n")
        try:
            started = time.monotonic()
            assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
            assert time.monotonic() - started < 10  # not after the 30 s header deadline
            assert len(closed_by_server(sockets, within=10)) >= 50  # the oldest made room
            assert len(server.server.server_state.connections) <= 100
        finally:
            for sock in sockets:
                sock.close()


def test_endless_headers_are_cut_off_with_431(guarded_server):
    (sock,) = dribblers(guarded_server.url, 1, source="127.0.0.6", head=b"GET / HTTP/1.1\r\nX-A: ")
    sent, answer = 0, b""
    with sock:
        try:
            while sent < 50_000_000:  # 50 MB of one header line if nobody stops it
                sock.sendall(b"a" * 1_000_000)
                sent += 1_000_000
        except OSError:
            with contextlib.suppress(OSError):
                answer = sock.recv(4096)
    assert sent < 10_000_000, "the server read on"
    # h11 stops at its own 16 KiB bound with 400; the answer may also be lost to the reset.
    assert answer[:12] in (b"HTTP/1.1 431", b"HTTP/1.1 400", b"")
    assert httpx.get(f"{guarded_server.url}/healthz", timeout=5).status_code == 200


# -- SPARQL text that crashes or stalls a parser -------------------------------------------------------


def nested_quoted_triples(depth: int) -> str:
    """A query whose one pattern nests `depth` quoted triples `<< … >>` (22 bytes a level): bracket count 1."""
    return (
        "ASK { "
        + "<< " * depth
        + "<http://e/s> <http://e/p> <http://e/o>"
        + " >> <http://e/p> <http://e/o>" * depth
        + " }"
    )


def negations(depth: int) -> str:
    """A query with `depth` unary `!` in a row: no bracket at all, and each one a level of the parser."""
    return "ASK { FILTER(" + "!" * depth + "true) }"


def post_query(client: TestClient, query: str):
    return client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})


@pytest.mark.parametrize("query", [nested_quoted_triples(20_000), negations(200_000)], ids=["quoted", "negations"])
def test_a_query_nesting_past_the_parser_is_a_400_naming_the_limit_and_the_server_lives(roomy, query):
    assert (
        refused_and_unchanged(
            roomy, "POST", "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
        )
        == 400
    )
    assert "limits" in post_query(roomy, query).text
    still_answers(roomy)


def test_a_query_nesting_a_few_levels_is_answered(roomy):
    response = post_query(roomy, nested_quoted_triples(3))
    assert response.status_code == 200, response.text


def test_an_update_nesting_past_the_parser_is_a_400_and_writes_nothing(roomy):
    update = "INSERT DATA { " + nested_quoted_triples(20_000)[6:-2] + " }"
    headers = {**EDITOR, "Content-Type": "application/sparql-update"}
    assert refused_and_unchanged(roomy, "POST", "/sparql", content=update, headers=headers) == 400
    still_answers(roomy)


def test_a_huge_query_mentioning_service_is_checked_within_the_deadline_outside_the_server():
    # rdflib's parser (the SERVICE/LOAD check) took 31 s of the server's CPU for 729 KB; now a child does it.
    query = "ASK { VALUES ?x { " + "1 " * 300_000 + "} } # a comment naming a service"
    app = create_app(make_settings(query_timeout=2.0), store=fill(EmbeddedStore(None)))
    with TestClient(app) as client:
        cpu, started = time.process_time(), time.monotonic()
        response = post_query(client, query)
        assert response.status_code == 504 and "deadline" in response.text
        assert time.monotonic() - started < 2.0 + 3
        assert time.process_time() - cpu < 1.5
        still_answers(client)


def test_the_sparql_checker_keeps_answering_valid_texts_while_bombs_crash_its_children():
    checker = SparqlChecker(processes=2, timeout=20, admission=Admission(waiting=32, timeout=20))
    outcomes: list[str] = []

    def client(number: int) -> None:
        for i in range(6):
            text = (
                nested_quoted_triples(20_000) + f" # {number} {i}"
                if i % 3 == 0
                else f"ASK {{ ?s ?p {number}{i} . ?s ?p ?o }}"
            )
            try:
                checker.check_query(text, base_iri="http://e/", allowlist=Allowlist(""))
                outcomes.append("valid" if i % 3 else "bomb passed")
            except HttpProblem as problem:
                outcomes.append("bomb refused" if i % 3 == 0 and problem.status == 400 else problem.message)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checker.close()
    assert sorted(set(outcomes)) == ["bomb refused", "valid"] and outcomes.count("valid") == 24


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"@id": "http://e/s", "http://e/p": ' * 20_000 + '"x"' + "}" * 20_000, "application/ld+json"),
        ("<http://e/s> <http://e/p> " + "( " * 20_000 + "1" + " )" * 20_000 + " .", "text/turtle"),
        ("<http://e/s> <http://e/p> " + "[ <http://e/p> " * 20_000 + "1" + " ]" * 20_000 + " .", "text/turtle"),
    ],
    ids=["json-ld objects", "collections", "blank-node property lists"],
)
def test_other_deep_nestings_in_uploads_never_take_the_server_down(roomy, body, content_type):
    put = {"params": {"graph": TARGET}, "headers": {**EDITOR, "Content-Type": content_type}}
    assert roomy.put("/graphs", content=body.encode(), **put).status_code in (201, 400)
    still_answers(roomy)


def test_a_plain_entity_referenced_thousands_of_times_is_stopped_at_the_parse_deadline():
    # No entity refers to another, so the text check passes it; expanded, it is 120 MB of one literal,
    # which the parser builds slowly (minutes) and the server would then hold.
    entity = '<!DOCTYPE rdf:RDF [<!ENTITY e "' + "x" * 60_000 + '">]>'
    body = (
        billion_laughs().replace(billion_laughs().split(b"\n")[1], entity.encode()).replace(b"&lol9;", b"&e;" * 2_000)
    )
    assert xml_entity_problem(body) is None
    app = create_app(make_settings(query_timeout=2.0), store=fill(EmbeddedStore(None)))
    with TestClient(app) as client:
        client.store = app.state.store
        started = time.monotonic()
        assert put_upload(client, body, "application/rdf+xml") == 400
        assert time.monotonic() - started < 2.0 + 4
        still_answers(client)
