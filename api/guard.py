"""Checks made before any SPARQL text reaches the store: remote calls and the graphs an update writes.

`SERVICE <iri>` makes pyoxigraph send an HTTP request, `LOAD <iri>` fetches a document (measured: both
reach intranet addresses on loopback, and the engine has no switch to turn them off). A public
endpoint must not make requests on an anonymous caller's behalf, so both are refused unless the IRI
is on the allow-list (setting `service_allowlist`).

The check uses a real SPARQL parser (rdflib's), not a word search: a tokenizer can be led astray (`<`
is both an IRI opener and less-than). Text that cannot mention either keyword — they cannot be
escaped — skips the parser, which keeps cheap queries cheap. Text that mentions one but that rdflib
cannot parse is refused: what cannot be checked does not run. `BASE` is refused together with
`SERVICE`/`LOAD` and in updates, because rdflib resolves against it differently from pyoxigraph
(RFC 3986 for non-http bases); relative IRIs are resolved against the endpoint URL instead.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from api.errors import HttpProblem
from api.sparql_text import unescape_codepoints
from api.store import META_GRAPH, STAGING_PREFIX

_MENTIONS_REMOTE = re.compile(r"\b(?:service|load)\b", re.IGNORECASE)
# pyparsing's packrat cache is shared state; rdflib's parser is not safe to run in two threads at once.
_PARSER_LOCK = threading.Lock()


class Allowlist:
    """IRIs that SERVICE and LOAD may reach: exact entries, or prefixes for entries ending with `/`."""

    def __init__(self, spec: str):
        self.entries = tuple(e.strip() for e in spec.split(",") if e.strip())

    def allows(self, iri: str) -> bool:
        return any(iri == entry or (entry.endswith("/") and iri.startswith(entry)) for entry in self.entries)


def check_query(sparql: str, allowlist: Allowlist, *, base_iri: str) -> None:
    """Refuse (400, naming the IRI) a query whose SERVICE endpoints are not all on the allow-list."""
    if not mentions_remote(sparql):
        return
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.plugins.sparql.parser import parseQuery

    tree = _parse(parseQuery, sparql, "query")
    _refuse_base(tree)
    prologue = translatePrologue(tree[0], None)
    for term in _service_terms(tree[1]):
        _check_remote("SERVICE", _resolve(prologue.absolutize(term), base_iri), allowlist)


@dataclass
class UpdatePlan:
    """What an update writes: named graphs, and whether it touches the store's default graph."""

    graphs: set[str] = field(default_factory=set)
    default_graph: bool = False
    # Only a prologue or comments: valid (SPARQL 1.1 Update §3, W3C syntax-update-38/-40), and it does nothing.
    empty: bool = False


def check_update(sparql: str, allowlist: Allowlist, *, base_iri: str) -> UpdatePlan:
    """The graphs `sparql` writes; refuse remote calls, unknown targets and the store's own graphs."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    tree = _parse(parseUpdate, sparql, "update")
    _refuse_base(tree)
    if "request" not in tree:
        return UpdatePlan(empty=True)
    with _PARSER_LOCK:
        try:
            operations = translateUpdate(tree, None).algebra
        except Exception as error:
            raise HttpProblem(400, f"The update could not be checked: {error}") from None
    plan = UpdatePlan()

    def write(target, what: str) -> None:
        if target == "DEFAULT" or target is None:
            plan.default_graph = True
        elif target in ("ALL", "NAMED"):
            raise HttpProblem(
                400,
                f"{what} {target} is not accepted here: it would also wipe the store's metadata graph. "
                "Name each graph (DROP GRAPH <…>), or use the Graph Store Protocol (DELETE /graphs?graph=…).",
            )
        elif _is_variable(target):
            raise HttpProblem(
                400,
                f"An update template may not write GRAPH ?{target} (a graph chosen at run time): "
                "name the graph with an IRI, so that its metadata and visibility stay right.",
            )
        else:
            iri = _resolve(target, base_iri)
            if iri == META_GRAPH.value or iri.startswith(STAGING_PREFIX):
                raise HttpProblem(403, f"The graph <{iri}> is kept by the store itself; updates may not write it.")
            plan.graphs.add(iri)

    for op in operations:
        name = op.name
        if name == "Load":
            _check_remote("LOAD", _resolve(op.iri, base_iri), allowlist)
            write(_field(op, "graphiri"), "LOAD")
        elif name in ("Clear", "Drop", "Create"):
            write(op.graphiri, name.upper())
        elif name in ("Add", "Copy", "Move"):
            source, target = op.graph
            write(target, name.upper())
            if name == "Move":
                write(source, name.upper())
        elif name in ("InsertData", "DeleteData", "DeleteWhere"):
            _template(op, None, write)
        elif name == "Modify":
            for clause in (_field(op, "delete"), _field(op, "insert")):
                if clause is not None:
                    _template(clause, _field(op, "withClause"), write)
        for term in _service_terms(op):
            _check_remote("SERVICE", _resolve(term, base_iri), allowlist)
    return plan


def _template(clause, default_target, write) -> None:
    if _field(clause, "triples"):
        write(default_target, "INSERT/DELETE")
    for graph, triples in (_field(clause, "quads") or {}).items():
        if triples:
            write(graph, "INSERT/DELETE")


def _field(node, name: str):
    # Not CompValue.get(): for a missing key it returns the key's name.
    return node[name] if name in node else None  # noqa: SIM401


def mentions_remote(text: str) -> bool:
    """Whether `text` can call out at all: SERVICE and LOAD cannot be escaped, so a word search finds them."""
    if _MENTIONS_REMOTE.search(text):
        return True
    # Keywords can be spelt with \u escapes (SPARQL 1.1 §19.2); only then is unescaping needed.
    return ("\\u" in text or "\\U" in text) and bool(_MENTIONS_REMOTE.search(unescape_codepoints(text)))


def _parse(parser, text: str, what: str):
    from pyparsing import ParseException

    with _PARSER_LOCK:
        try:
            return parser(text)
        except ParseException as error:
            raise HttpProblem(
                400,
                f"SPARQL syntax error (line {error.lineno}, column {error.col}): {error.msg}. "
                f"The {what} was checked for SERVICE/LOAD with rdflib's parser, which could not read it.",
            ) from None
        except Exception as error:
            raise HttpProblem(400, f"The {what} could not be checked: {error}") from None


def _walk(node) -> Iterator:
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    yield node
    if isinstance(node, CompValue | dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple | ParseResults):
        for value in node:
            yield from _walk(value)


def _service_terms(tree) -> Iterator:
    for node in _walk(tree):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            yield _field(node, "term")


def _refuse_base(tree) -> None:
    if any(getattr(node, "name", None) == "Base" for node in _walk(tree)):
        raise HttpProblem(
            400,
            "BASE is not accepted in updates or together with SERVICE/LOAD; write absolute IRIs "
            "(relative ones resolve against the endpoint URL).",
        )


def _is_variable(term) -> bool:
    from rdflib.term import Variable

    return isinstance(term, Variable)


def _resolve(term, base_iri: str) -> str:
    if _is_variable(term):
        return f"?{term}"
    iri = unescape_codepoints(str(term))
    return iri if urlsplit(iri).scheme else urljoin(base_iri, iri)


def _check_remote(keyword: str, iri: str, allowlist: Allowlist) -> None:
    if iri.startswith("?"):
        raise HttpProblem(400, f"{keyword} {iri} is not accepted: the endpoint must be an IRI on the allow-list.")
    if not allowlist.allows(iri):
        raise HttpProblem(
            400,
            f"{keyword} <{iri}> is not allowed: this service only calls out to IRIs on its allow-list "
            "(setting QUERSCHNITT_SERVICE_ALLOWLIST).",
        )
