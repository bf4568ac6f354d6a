"""Virtuoso's SPARQL dialect: the text rewrites its queries and updates need, and the repairs its answers need.

Measured on Virtuoso 7.2.5 (Debian `virtuoso-opensource`); each function says what it works around.
The remote store (`api/store/remote.py`) applies them to every request and answer; on a server that
follows the standard they change nothing a caller can see. A new engine's quirks get a module like
this one beside it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from api.sparql_text import _Prologue, tokens, unescape_codepoints
from api.store.base import EMPTY_GRAPH, QueryRefused, RemoteError, StoreError, StoreTimeout

_SERVER_FUNCTION_SCHEMES = ("bif:", "sql:")
_SERVER_FUNCTION_PREFIXES = ("bif", "sql")
# Virtuoso writes xsd:boolean as `1`/`0` in JSON results, which pyoxigraph refuses.
_BOOLEAN_JSON = re.compile(
    rb'("datatype"\s*:\s*"http://www\.w3\.org/2001/XMLSchema#boolean"\s*,\s*"value"\s*:\s*")([01])(")'
)
# Virtuoso names blank nodes `nodeID://b10003` in JSON results, which is no blank node label (pyoxigraph refuses it).
_BNODE_JSON = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")([^"]*)(")')
_SYNTAX = re.compile(r"SP030|syntax error", re.IGNORECASE)
_TOO_EXPENSIVE = re.compile(r"estimated execution time", re.IGNORECASE)


def rewrite_graph_removals(text: str) -> str:
    """`text` with `DROP [SILENT] GRAPH g` written `CLEAR [SILENT] GRAPH g`, and any later removal of the same
    graph in the request as `DELETE WHERE { GRAPH g { ?s ?p ?o } }`.

    The same meaning for a store that keeps no empty graphs (SPARQL 1.1 Update §3.2.2, §3.2.3, §3.1.3.3),
    but Virtuoso 7.2 differs (measured): `DROP GRAPH` fails for a graph not made by `CREATE GRAPH`, and a
    second DROP or CLEAR of one graph in one request does nothing (the derived refresh clears its scratch
    graph first and last, which left it filled).
    """
    if "drop" not in text.lower() and "clear" not in text.lower():
        return text
    stream = list(tokens(text))
    out: list[str] = []
    last = 0
    removed: set[str] = set()
    for index, tok in enumerate(stream):
        if not tok.is_word("DROP", "CLEAR"):
            continue
        j = index + 1
        silent = j < len(stream) and stream[j].is_word("SILENT")
        j += silent
        if not (j + 1 < len(stream) and stream[j].is_word("GRAPH") and stream[j + 1].kind in ("iri", "pname")):
            continue
        graph = stream[j + 1]
        if graph.text in removed:
            replacement, end = f"DELETE WHERE {{ GRAPH {graph.text} {{ ?s ?p ?o }} }}", graph.start + len(graph.text)
        else:
            replacement, end = "CLEAR", tok.start + len(tok.text)
        removed.add(graph.text)
        out += [text[last : tok.start], replacement]
        last = end
    out.append(text[last:])
    return "".join(out)


def unlisted_graphs_emptied(text: str, named: set[str]) -> str:
    """`text` with each constant `GRAPH g` whose g is not in `named` written `GRAPH <urn:querschnitt:empty>`.

    Virtuoso 7.2 gives `GRAPH g {…}` over a graph outside the dataset one empty solution where it should
    give none, once no variable of the pattern is projected: `ASK`, `COUNT(*)`, `SELECT (1 AS ?x)` answered
    as if the pattern matched (measured; no data leaked, the answer was the same for every pattern). The
    empty graph, which is in every dataset this store asks for, gives none.
    """
    if "graph" not in text.lower():
        return text
    stream = list(tokens(text))
    prologue = _Prologue(None)
    start = prologue.read(stream, 0)
    out: list[str] = []
    last = 0
    for index in range(start, len(stream) - 1):
        graph = stream[index + 1]
        if stream[index].is_word("GRAPH") and graph.kind in ("iri", "pname") and prologue.resolve(graph) not in named:
            out += [text[last : graph.start], str(EMPTY_GRAPH)]
            last = graph.start + len(graph.text)
    out.append(text[last:])
    return "".join(out)


def check_server_functions(text: str) -> None:
    """Refuse Virtuoso's `bif:`/`sql:` functions (they fetch URLs, run SQL) in any spelling pyoxigraph accepts."""
    text = unescape_codepoints(text)  # \u escapes apply before the grammar does (SPARQL 1.1 Query §19.2)
    lowered = text.lower()
    if "bif" not in lowered and "sql" not in lowered:
        return
    for tok in tokens(text):
        if tok.kind == "iri":
            iri = unescape_codepoints(tok.text[1:-1]).strip().lower()
            if iri.startswith(_SERVER_FUNCTION_SCHEMES):
                raise QueryRefused(f"{tok.text}: the store's own functions (bif:, sql:) are not available here")
        elif tok.kind == "pname" and tok.text.split(":", 1)[0].lower() in _SERVER_FUNCTION_PREFIXES:
            raise QueryRefused(
                f"{tok.text}: the prefixes bif: and sql: are reserved by the store and not available here"
            )


def aware(moment: datetime) -> datetime:
    """`moment` with a time zone; Virtuoso's NOW() (in the derived graphs' update) writes its local time without one.

    Taken as UTC (run the store in UTC to make it exact): mixing naive and aware times made `max()` fail
    in /catalog and /dump.nq.gz.
    """
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def server_message(response: httpx.Response) -> str:
    """The server's error text, short: HTML tags and the echoed query removed."""
    text = response.text.strip()
    if "<html" in text[:200].lower():
        text = re.sub(r"<[^>]+>", " ", text)
    # Virtuoso repeats the whole query after the message; the message is enough.
    text = text.split("\n\nSPARQL query:", 1)[0]
    return re.sub(r"\s+", " ", text).strip()[:500] or f"HTTP {response.status_code}"


def repaired_json_results(data: bytes) -> bytes:
    """Whole lines of a Virtuoso JSON results body with booleans as `true`/`false` and blank nodes as labels."""
    data = _BOOLEAN_JSON.sub(lambda m: m.group(1) + (b"true" if m.group(2) == b"1" else b"false") + m.group(3), data)
    return _BNODE_JSON.sub(
        lambda m: m.group(1) + re.sub(rb"[^A-Za-z0-9_]", b"_", m.group(2).removeprefix(b"nodeID://")) + m.group(3),
        data,
    )


def is_syntax_error(message: str) -> bool:
    """Whether a 400 answer's text is a syntax error (Virtuoso's SQL state SP030)."""
    return _SYNTAX.search(message) is not None


def server_refusal(message: str, status: int) -> StoreError | None:
    """The store error for a Virtuoso refusal that needs its configuration changed; None for any other."""
    if "after image size" in message:
        return RemoteError(
            f"{message} — the swap of a graph this large is one transaction: raise "
            "TransactionAfterImageLimit in [Parameters] of virtuoso.ini (bytes; ~100 per triple moved, old and new; "
            "400 MB swapped 10^6 + 10^6 triples).",
            status,
        )
    if _TOO_EXPENSIVE.search(message):
        return StoreTimeout(
            f"The store refused the query as too expensive: {message} — Virtuoso's estimates go wrong "
            '("0 (sec) exceeds the limit" even for small graphs): remove MaxQueryCostEstimationTime '
            "from [SPARQL] in virtuoso.ini, as OpenLink advises; MaxQueryExecutionTime still limits queries."
        )
    return None
