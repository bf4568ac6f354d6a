"""Open-data publishing: the DCAT-AP.de catalog, the public dump and dereferenceable instance IRIs.

- `/catalog` (content negotiation) and `/catalog.ttl|.rdf|.jsonld|.nt`: the catalog, paged with Hydra
  (`?page=N`), or whole with `?full=1`.
- `/dump.nq.gz`: every public graph as gzip-compressed N-Quads.
- `/id/{path}`: the instance IRI `{base}{path}`, served under whatever host the request reached. RDF media
  types get the entity's concise bounded description in that format; `text/html` gets 303 See Other to the
  entity page `/page/{path}` ("Cool URIs for the Semantic Web" §4.3). Unknown entities, and internal ones
  for anonymous callers, are 404.

Every document has a weak `ETag` and `Last-Modified` derived from the store's write generation and the
public graphs' metadata, and answers `If-None-Match` / `If-Modified-Since` with 304 (RFC 9110 §13).
Handlers are plain `def`: they call pyoxigraph, so FastAPI runs them in the thread pool.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from pyoxigraph import BlankNode, NamedNode, RdfFormat, Triple, serialize

from api import jsonld
from api.auth import authenticate
from api.catalog import CATALOG_PREFIXES, PageNotFound, build_catalog, catalog_url, published_datasets
from api.conneg import GRAPH_OFFERS, HTML_OFFER, NotAcceptable, Offer, negotiate
from api.settings import Settings
from api.store import Store
from api.ui import catalog_page
from loaders.vocab import PREFIXES

router = APIRouter(tags=["open data"])

_OFFERS = {o.key: o for o in GRAPH_OFFERS}
# Triple formats only: a catalog or a description is one graph. Turtle first: what `*/*` gets.
RDF_OFFERS = tuple(_OFFERS[k] for k in ("turtle", "ntriples", "rdfxml", "jsonld"))
SUFFIXES = {"ttl": _OFFERS["turtle"], "rdf": _OFFERS["rdfxml"], "jsonld": _OFFERS["jsonld"], "nt": _OFFERS["ntriples"]}
_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
}
_PREFIXES = {**PREFIXES, **CATALOG_PREFIXES}
_RDF_TYPE = PREFIXES["rdf"] + "type"

# Public documents may be kept by shared caches for a few minutes and are then revalidated with the ETag;
# the dump is large and changes rarely; staff views must never sit in a shared cache.
CATALOG_CACHE = "public, max-age=300"
ENTITY_CACHE = "public, max-age=300"
DUMP_CACHE = "public, max-age=3600"
STAFF_CACHE = "private, no-cache"
# Blank nodes followed from one entity at most: a description stays bounded even for odd data.
MAX_BLANK_NODES = 10_000
_CACHED_DOCUMENTS = 64


# --- the catalog ----------------------------------------------------------------------------------------


@router.get("/catalog")
@router.head("/catalog", include_in_schema=False)
def catalog(request: Request) -> Response:
    """The DCAT-AP.de catalog of the public datasets, by content negotiation (`?page=N`, `?full=1`); a browser
    gets it as a page for people (api/ui.py), with links to the RDF documents."""
    try:
        # HTML is offered last: it wins only where a client ranks text/html above every RDF format (as browsers
        # do); `*/*`, harvesters' RDF types and ties all get RDF, Turtle first.
        offer = negotiate(
            request.headers.get("accept"), (*RDF_OFFERS, HTML_OFFER), format_param=request.query_params.get("format")
        )
    except NotAcceptable as error:
        return _not_acceptable(error)
    if offer is HTML_OFFER:
        # `full=1` is for harvesters; people page (the page links the whole catalog in every RDF format).
        page = request.query_params.get("page", "1")
        if not page.isdigit() or int(page) < 1:
            return PlainTextResponse(f"`page` must be a whole number from 1, not {page!r}.\n", 400)
        response = catalog_page(request, int(page))
        response.headers["Vary"] = "Accept, Accept-Language, Cookie, Authorization"
        return response
    return _catalog(request, offer, suffix="", vary="Accept")


@router.get("/catalog.{extension}")
@router.head("/catalog.{extension}", include_in_schema=False)
def catalog_file(request: Request, extension: str) -> Response:
    """The catalog in one format: `.ttl`, `.rdf` (RDF/XML), `.jsonld` or `.nt`."""
    offer = SUFFIXES.get(extension)
    if offer is None:
        return PlainTextResponse(f"No catalog format .{extension}; use .ttl, .rdf, .jsonld or .nt.\n", 404)
    return _catalog(request, offer, suffix=f".{extension}", vary=None)


def _catalog(request: Request, offer: Offer, *, suffix: str, vary: str | None) -> Response:
    settings, store = _settings(request), _store(request)
    params = request.query_params
    full = params.get("full", "").lower() in ("1", "true", "yes")
    page_text = params.get("page")
    if full and page_text is not None:
        return PlainTextResponse("Ask for one page (`?page=N`) or the whole catalog (`?full=1`), not both.\n", 400)
    page: int | None = None if full else 1
    if page_text is not None:
        if not page_text.isdigit() or int(page_text) < 1:
            return PlainTextResponse(f"`page` must be a whole number from 1, not {page_text!r}.\n", 400)
        page = int(page_text)
    version = _version(store, settings, include_internal=False)
    headers = {"Cache-Control": CATALOG_CACHE, **({"Vary": vary} if vary else {})}
    etag = _etag(version, "catalog", offer.key, suffix, "full" if page is None else str(page))
    if _fresh(request, etag, version.modified):
        return _not_modified(etag, version.modified, headers)

    def build() -> tuple[bytes, list[tuple[str, str]]]:
        # The ordered dataset list serves every page of this version of the data.
        datasets = _cached(request, version, ("catalog datasets",), lambda: published_datasets(store, settings))
        document = build_catalog(store, settings, page=page, suffix=suffix, datasets=datasets)
        return _serialize(document.triples, offer), _paging_links(settings, suffix, document.page, document.last)

    try:
        body, links = _cached(request, version, ("catalog", offer.key, suffix, page), build)
    except PageNotFound as error:
        return PlainTextResponse(f"{error}\n", 404)
    which = "?full=1" if page is None else f"?page={page}"
    alternates = [
        (catalog_url(settings, suffix=f".{s}") + which, f'rel="alternate"; type="{o.media_type}"')
        for s, o in SUFFIXES.items()
    ]
    headers["Link"] = _link_header(links + alternates)
    return _document(body, offer.content_type, etag, version.modified, headers)


def _paging_links(settings: Settings, suffix: str, page: int | None, last: int) -> list[tuple[str, str]]:
    """RFC 8288 links mirroring the Hydra paging, for clients that read headers."""
    if page is None:
        return []
    targets = {
        "first": 1,
        "last": last,
        "next": page + 1 if page < last else None,
        "prev": page - 1 if page > 1 else None,
    }
    return [
        (catalog_url(settings, suffix=suffix, page=n), f'rel="{rel}"') for rel, n in targets.items() if n is not None
    ]


# --- the dump ---------------------------------------------------------------------------------------------


@router.get("/dump.nq.gz")
@router.head("/dump.nq.gz", include_in_schema=False)
def dump(request: Request) -> Response:
    """Every public graph as one gzip-compressed N-Quads file (graph names kept)."""
    settings, store = _settings(request), _store(request)
    version = _version(store, settings, include_internal=False)
    etag = _etag(version, "dump")
    headers = {"Cache-Control": DUMP_CACHE, "Content-Disposition": 'attachment; filename="querschnitt-public.nq.gz"'}
    if _fresh(request, etag, version.modified):
        return _not_modified(etag, version.modified, headers)

    def build() -> bytes:
        buffer = io.BytesIO()
        # mtime=0: the same data compresses to the same bytes.
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as compressed:
            store.dump(compressed, rdf_format=RdfFormat.N_QUADS, include_internal=False)
        return buffer.getvalue()

    body = _cached(request, version, ("dump",), build)
    # A file download, not a transfer coding: clients must not unpack it on the fly (Content-Encoding would).
    return _document(body, "application/gzip", etag, version.modified, headers)


# --- instance IRIs ----------------------------------------------------------------------------------------


@router.get("/id/{path:path}")
@router.head("/id/{path:path}", include_in_schema=False)
def entity(request: Request, path: str) -> Response:
    """Dereference `{base}{path}`: RDF → its description; HTML → 303 to the entity page; 404 if unknown."""
    settings, store = _settings(request), _store(request)
    principal = authenticate(request)
    if path == "catalog":
        # The catalog's IRI names the catalog; its documents live at /catalog (303: a different resource).
        return RedirectResponse(catalog_url(settings), 303, headers={"Cache-Control": ENTITY_CACHE})
    iri = _iri(settings, path)
    internal = principal.sees_internal
    triples = describe(store, iri, include_internal=internal) if iri is not None else []
    vary = "Accept, Authorization"
    if not triples:
        return PlainTextResponse(f"Nothing is known about {settings.base_iri}{path}.\n", 404, headers={"Vary": vary})
    try:
        offer = negotiate(
            request.headers.get("accept"), (*RDF_OFFERS, HTML_OFFER), format_param=request.query_params.get("format")
        )
    except NotAcceptable as error:
        return _not_acceptable(error, vary=vary)
    cache = STAFF_CACHE if internal else ENTITY_CACHE
    links = _entity_links(settings, path)
    if offer is HTML_OFFER:
        return RedirectResponse(
            page_url(settings, path), 303, headers={"Vary": vary, "Cache-Control": cache, "Link": links}
        )
    version = _version(store, settings, include_internal=internal)
    etag = _etag(version, "entity", path, offer.key, "staff" if internal else "public")
    headers = {"Vary": vary, "Cache-Control": cache, "Link": links}
    if _fresh(request, etag, version.modified):
        return _not_modified(etag, version.modified, headers)
    return _document(_serialize(triples, offer), offer.content_type, etag, version.modified, headers)


def describe(store: Store, iri: NamedNode, *, include_internal: bool = False) -> list[Triple]:
    """Concise bounded description of `iri` from the visible graphs: its triples, those of its hash IRIs
    (`{iri}#lead`, which share its document), and recursively those of the blank nodes they reach."""
    hash_nodes = [
        row["o"]
        for row in store.query(
            f'SELECT DISTINCT ?o {{ {iri} ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{_escape(iri.value)}#")) }}',
            include_internal=include_internal,
        )
    ]
    values = " ".join(str(n) for n in (iri, *hash_nodes))
    triples = _construct(
        store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", include_internal
    )
    seen: set[BlankNode] = set()
    frontier = [t.object for t in triples if isinstance(t.object, BlankNode)]
    while frontier and len(seen) < MAX_BLANK_NODES:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        found = _construct(
            store, "CONSTRUCT { ?b ?p ?o } WHERE { ?b ?p ?o }", include_internal, substitutions={"b": node}
        )
        triples += found
        frontier += [t.object for t in found if isinstance(t.object, BlankNode) and t.object not in seen]

    def key(t: Triple) -> tuple:
        # The entity first, then its hash IRIs, then blank nodes; rdf:type first within each.
        rank = 0 if t.subject == iri else 1 if isinstance(t.subject, NamedNode) else 2
        return rank, str(t.subject), t.predicate.value != _RDF_TYPE, str(t.predicate), str(t.object)

    return sorted(set(triples), key=key)


def page_url(settings: Settings, path: str) -> str:
    """The human-readable page of the entity `{base}{path}` (rendered by the staff UI)."""
    return f"{settings.public_url.rstrip('/')}/page/{quote(path, safe='/:@!$&()*+,;=-._~')}"


def _entity_links(settings: Settings, path: str) -> str:
    document = f"{settings.public_url.rstrip('/')}/id/{quote(path, safe='/:@!$&()*+,;=-._~')}"
    links = [(page_url(settings, path), 'rel="alternate"; type="text/html"')]
    links += [(f"{document}?format={o.key}", f'rel="alternate"; type="{o.media_type}"') for o in RDF_OFFERS]
    links.append((f"{settings.public_url.rstrip('/')}/.well-known/void", 'rel="http://rdfs.org/ns/void#inDataset"'))
    return _link_header(links)


def _iri(settings: Settings, path: str) -> NamedNode | None:
    try:
        return NamedNode(settings.base_iri + path)
    except ValueError:  # not an IRI (spaces, angle brackets …): nothing can be known about it
        return None


def _construct(store: Store, query: str, include_internal: bool, substitutions: dict | None = None) -> list[Triple]:
    # pyoxigraph's QueryTriples, or the remote store's equivalent: any iterable of triples.
    return list(store.query(query, include_internal=include_internal, substitutions=substitutions))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# --- versions, caching, responses -------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """What the visible data looks like now: a tag that changes with every write, and when it last changed."""

    tag: str
    modified: datetime | None


def _version(store: Store, settings: Settings, *, include_internal: bool) -> Version:
    graphs = store.graphs(include_internal=include_internal)
    digest = hashlib.sha256(f"{store.generation}\n".encode())
    for g in graphs:
        digest.update(f"{g.iri} {g.modified.isoformat()} {g.triples} {g.checksum}\n".encode())
    # Settings that change what the documents say (titles, links, publisher).
    for name in sorted(type(settings).model_fields):
        if name in ("base_iri", "public_url") or name.startswith(("municipality_", "catalog_")):
            digest.update(f"{name}={getattr(settings, name)}\n".encode())
    modified = max((g.modified for g in graphs), default=None)
    return Version(digest.hexdigest()[:32], modified.astimezone(UTC).replace(microsecond=0) if modified else None)


def _etag(version: Version, *parts: object) -> str:
    # Weak: blank node labels are not stable between two serializations of the same content.
    return 'W/"' + hashlib.sha256("\n".join([version.tag, *map(str, parts)]).encode()).hexdigest()[:32] + '"'


def _fresh(request: Request, etag: str, modified: datetime | None) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.1.2: If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag.removeprefix("W/") for t in tags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and modified <= since
    return False


def _not_modified(etag: str, modified: datetime | None, headers: dict[str, str]) -> Response:
    return Response(status_code=304, headers={**headers, "ETag": etag, **_last_modified(modified)})


def _document(body: bytes, media_type: str, etag: str, modified: datetime | None, headers: dict[str, str]) -> Response:
    return Response(body, media_type=media_type, headers={**headers, "ETag": etag, **_last_modified(modified)})


def _last_modified(modified: datetime | None) -> dict[str, str]:
    return {"Last-Modified": format_datetime(modified, usegmt=True)} if modified else {}


def _serialize(triples: list[Triple], offer: Offer) -> bytes:
    if offer.key == "jsonld":
        return jsonld.compact_document(triples)
    prefixes = used_prefixes(triples) if offer.key in ("turtle", "rdfxml") else None
    return serialize(triples, format=_FORMATS[offer.key], prefixes=prefixes) or b""


def used_prefixes(triples: list[Triple]) -> dict[str, str]:
    """The known prefixes that some IRI (or datatype) of `triples` starts with, so documents declare no others."""
    iris = set()
    for t in triples:
        iris.update(term.value for term in (t.subject, t.predicate, t.object) if isinstance(term, NamedNode))
        datatype = getattr(t.object, "datatype", None)
        if datatype is not None:
            iris.add(datatype.value)
    return {prefix: ns for prefix, ns in _PREFIXES.items() if any(iri.startswith(ns) for iri in iris)}


def _link_header(links: list[tuple[str, str]]) -> str:
    return ", ".join(f"<{url}>; {params}" for url, params in links)


def _not_acceptable(error: NotAcceptable, *, vary: str = "Accept") -> Response:
    return PlainTextResponse(f"{error}\n", 406, headers={"Vary": vary})


_cache_lock = threading.Lock()


def _cached(request: Request, version: Version, key: tuple, build):
    """Documents built for the current version, kept until the data changes (a few dozen at most).

    Requests for the same document wait for one build instead of each building it (the whole catalog
    of 10^6 triples takes ≈ 20 s).
    """
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "publishing_cache", None)
        if cache is None or cache[0] != version.tag:
            cache = state.publishing_cache = (version.tag, {}, {})
        tag, entries, building = cache
        if key in entries:
            return entries[key]
        lock = building.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            if key in entries:
                return entries[key]
        value = build()
        with _cache_lock:
            if len(entries) >= _CACHED_DOCUMENTS:
                entries.pop(next(iter(entries)))
            entries[key] = value
            building.pop(key, None)
    return value


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> Store:
    return request.app.state.store
