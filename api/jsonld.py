"""Compact JSON-LD with the project's context (`ontology/context.jsonld`) for every JSON-LD answer.

pyoxigraph writes JSON-LD only in expanded form (full IRIs, `rdf:type` as a property, every value an
array of objects): correct, but not what people read or what JSON tools expect. Its output is taken as
the expanded input of the JSON-LD 1.1 Compaction Algorithm (pyld, `skipExpansion`), with the context
embedded in the document, so that a client needs no second request and no network to read it.

A large answer is compacted in batches of triples and written as the members of one `@graph`, so it
streams with bounded memory: a subject whose triples fall into two batches appears as two node objects
with the same `@id`, which JSON-LD merges when the document is read (JSON-LD 1.1 §4.2, node objects).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable
from typing import Any, BinaryIO

from pyoxigraph import RdfFormat, Triple, serialize

from loaders.resources import ONTOLOGY_DIR

CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
MEDIA_TYPE = "application/ld+json"
# Triples compacted at once in a streamed answer: large enough that most subjects stay in one node object,
# small enough that memory stays bounded whatever the size of the answer.
BATCH = 5_000
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@functools.cache
def context() -> dict[str, Any]:
    """The value of `@context` in ontology/context.jsonld (the project's prefixes and terms)."""
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def compact_nodes(triples: Iterable[Triple]) -> list[dict[str, Any]]:
    """The node objects of `triples`, compacted with the project's context (without the context itself)."""
    from pyld import jsonld  # ~0.1 s to import: only processes that serve JSON-LD pay it

    expanded = _merged(json.loads(serialize(triples, format=RdfFormat.JSON_LD) or b"[]"))
    if not expanded:
        return []
    options = {"skipExpansion": True, "graph": True, "documentLoader": _no_loading}
    compacted = jsonld.compact(expanded, {"@context": context()}, options)
    return compacted.get("@graph", [])


def compact_document(triples: Iterable[Triple]) -> bytes:
    """One JSON-LD document of `triples`: `{"@context": …, "@graph": [nodes]}`."""
    document = {"@context": context(), "@graph": compact_nodes(triples)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def write_compact(triples: Iterable[Triple], out: BinaryIO, *, batch: int = BATCH) -> None:
    """Write `triples` as one compact JSON-LD document to `out`, batch by batch (streams large answers)."""
    out.write(b'{"@context":' + json.dumps(context(), ensure_ascii=False, separators=(",", ":")).encode())
    out.write(b',"@graph":[')
    first = True
    iterator = iter(triples)
    while chunk := list(itertools.islice(iterator, batch)):
        for node in compact_nodes(chunk):
            out.write((b"" if first else b",") + json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode())
            first = False
    out.write(b"]}")


def _merged(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One node object per subject: pyoxigraph starts a new one whenever the subject changes between two
    consecutive triples, and compaction does not merge them (only flattening would, at a higher cost)."""
    merged: dict[str, dict[str, Any]] = {}
    for node in nodes:
        target = merged.setdefault(node["@id"], {"@id": node["@id"]})
        for key, values in node.items():
            if key != "@id":
                target.setdefault(key, []).extend(values)
    for node in merged.values():
        _types_as_type(node)
    return list(merged.values())


def _types_as_type(node: dict[str, Any]) -> None:
    """`rdf:type` values that are IRIs or blank nodes become `@type`, as the JSON-LD From-RDF algorithm does
    by default (useRdfType false, JSON-LD 1.1 API §4.5.2), so that compaction can write `"type": "Project"`."""
    values = node.get(_RDF_TYPE)
    if not values:
        return
    types = [value["@id"] for value in values if "@id" in value]
    rest = [value for value in values if "@id" not in value]
    if types:
        node["@type"] = node.get("@type", []) + types
    if rest:
        node[_RDF_TYPE] = rest
    else:
        del node[_RDF_TYPE]


def _no_loading(url: str, options: dict | None = None) -> dict:
    """No remote contexts: the context is embedded, and the service makes no requests on a reader's behalf."""
    from pyld.jsonld import JsonLdError

    raise JsonLdError(
        f"Remote contexts are not loaded: {url}", "jsonld.LoadDocumentError", code="loading document failed"
    )
