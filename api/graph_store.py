"""The SPARQL 1.1 Graph Store HTTP Protocol at /graphs (`?default` or `?graph=IRI`, indirect identification).

Reads follow the visibility rules: an internal graph is answered exactly like a graph that does not
exist (404), so that its existence is not revealed. Writes need an editor token; PUT replaces the graph
atomically (staging graph + one update) and records its metadata; a new graph is internal unless the
request says `visibility=public`. `querschnitt load --dcat --server` sends `loader=dcat-harvest`: the
graph is recorded as a harvest (so /catalog republishes its own datasets); the people its portal published
as the datasets' agents may stay in it only when an admin sends it, as in a load on the server's own
machine (an editor's upload never puts people into a public graph).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, serialize
from starlette.concurrency import run_in_threadpool

from api.auth import Role, authenticate, require
from api.catalog import HARVEST_LOADER
from api.conneg import GRAPH_OFFERS, negotiate
from api.errors import HttpProblem
from api.evaluate import QueryJob
from api.loads import check_minted_for
from api.request_body import media_type, read_body
from api.responses import answer_response
from api.sparql_text import is_absolute_iri
from api.store import META_GRAPH, STAGING_PREFIX, Visibility
from loaders.isolated_parse import parse_deadline, parse_isolated

router = APIRouter(tags=["graph store"])

_CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
_READ_ONLY = {"Allow": "GET, HEAD"}
_UPLOAD_FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-quads": RdfFormat.N_QUADS,
    "application/trig": RdfFormat.TRIG,
    "text/n3": RdfFormat.N3,
}


@router.get("/graphs")
@router.head("/graphs", include_in_schema=False)
async def get_graph(request: Request) -> Response:
    """The content of one graph (`?graph=IRI`) or of the default graph, the union of visible graphs (GSP §5.2)."""
    principal = authenticate(request)
    graph = _target(request)
    offer = negotiate(request.headers.get("accept"), GRAPH_OFFERS, format_param=request.query_params.get("format"))
    store = request.app.state.store
    if graph is not None:
        visible = {
            g.value for g in store.visible_graphs(include_internal=principal.sees_internal) if isinstance(g, NamedNode)
        }
        if graph not in visible:
            raise HttpProblem(404, f"There is no graph <{graph}> here.")
    job = QueryJob(
        sparql=_CONSTRUCT,
        include_internal=principal.sees_internal,
        default_graphs=[graph] if graph is not None else None,
        named_graphs=[] if graph is not None else None,
        graph_format=offer.key,
        results_format=None,
        max_rows=0,  # a graph is returned whole; its size is bounded by the store, not by the query
    )
    answer = await run_in_threadpool(request.app.state.executor.run, job)
    return answer_response(answer, max_rows=0)


@router.put("/graphs")
async def put_graph(request: Request) -> Response:
    """Replace a graph with the request body, atomically (GSP §5.3); 201 when it is new, else 204."""
    return await _write(request, replace=True)


@router.post("/graphs")
async def post_graph(request: Request) -> Response:
    """Add the request body's triples to a graph (GSP §5.5, merge); 201 when it is new, else 204."""
    return await _write(request, replace=False)


@router.delete("/graphs")
async def delete_graph(request: Request) -> Response:
    """Remove a graph and its metadata (GSP §5.4); 404 when there is none."""
    require(authenticate(request), Role.EDITOR)
    check_minted_for(request)
    graph = _writable_target(request)
    if not await run_in_threadpool(request.app.state.store.drop_graph, graph):
        raise HttpProblem(404, f"There is no graph <{graph}> here.")
    return Response(status_code=204)


async def _write(request: Request, *, replace: bool) -> Response:
    principal = authenticate(request)
    require(principal, Role.EDITOR)
    check_minted_for(request)
    graph = _writable_target(request)
    kind, _ = media_type(request)
    rdf_format = _UPLOAD_FORMATS.get(kind)
    if rdf_format is None:
        raise HttpProblem(
            415, f"Content-Type {kind or '(none)'} is not an RDF format this store reads: " + ", ".join(_UPLOAD_FORMATS)
        )
    visibility = _visibility(request.query_params.get("visibility"))
    harvest = _harvest(request, replace=replace)
    body = await read_body(request, request.app.state.settings.max_upload_bytes)
    store = request.app.state.store
    checksum = "sha256:" + hashlib.sha256(body).hexdigest()

    def write() -> bool:
        known = {g.iri: g for g in store.graphs()}
        existed = graph in known
        if (
            visibility is Visibility.PUBLIC
            and existed
            and known[graph].visibility is not Visibility.PUBLIC
            and principal.role < Role.ADMIN
        ):
            # Publishing what staff kept internal (people, e-mails) is an admin's decision, not an editor's.
            raise HttpProblem(403, f"Making the internal graph <{graph}> public needs the role admin.")
        # `querschnitt load --server` names the original source, so the metadata says where data came from.
        source = request.query_params.get("source") or f"Graph Store Protocol {'PUT' if replace else 'POST'}"
        # An upload can nest or expand past what the parser survives: parse where a crash costs only this request.
        deadline = parse_deadline(len(body), base=request.app.state.settings.query_timeout)
        quads = parse_isolated(body, rdf_format, base_iri=graph, timeout=deadline)
        if replace:
            chosen = visibility or (known[graph].visibility if existed else Visibility.INTERNAL)
            if harvest:
                # A harvested catalog publishes its datasets' agents itself (DCAT-AP.de maintainer, originator,
                # contact): republishing the people it names there is faithful (api/cli.py does the same).
                target = NamedNode(graph)
                store.replace_graphs(
                    (Quad(q.subject, q.predicate, q.object, target) for q in quads),
                    visibility={graph: chosen},
                    source=source,
                    loader=HARVEST_LOADER,
                    checksum=checksum,
                    # Which people a catalog may name is not checked here, so keeping them is an admin's call.
                    published_people=principal.role >= Role.ADMIN,
                )
            else:
                store.replace_graph(
                    graph, quads, visibility=chosen, source=source, loader="graph-store", checksum=checksum
                )
        else:
            triples = serialize((_as_triple(q) for q in quads), format=RdfFormat.N_TRIPLES).decode()
            store.update_graphs(
                f"INSERT DATA {{ GRAPH {NamedNode(graph)} {{\n{triples}\n}} }}",
                [graph],
                source=source,
                loader="graph-store",
                checksum=checksum,
                visibility=visibility,
            )
        return existed

    try:
        existed = await run_in_threadpool(write)
    except SyntaxError as error:
        raise HttpProblem(400, f"The {kind} body could not be parsed, nothing was written: {error}") from None
    return Response(status_code=204 if existed else 201)


def _harvest(request: Request, *, replace: bool) -> bool:
    """Whether the write is a DCAT harvest (`loader=dcat-harvest`, PUT only); any other loader is a 400."""
    loader = request.query_params.get("loader")
    if loader is None:
        return False
    if loader != HARVEST_LOADER or not replace:
        raise HttpProblem(
            400, f"loader={loader!r}: only loader={HARVEST_LOADER} is known, and only for PUT (a whole harvest)."
        )
    return True


def _as_triple(item: Quad | Triple) -> Triple:
    return Triple(item.subject, item.predicate, item.object) if isinstance(item, Quad) else item


def _target(request: Request) -> str | None:
    """The graph named by `?graph=`, or None for `?default` (GSP §4.2); 400 when neither or both."""
    params = request.query_params
    graphs = params.getlist("graph")
    if ("default" in params) == bool(graphs) or len(graphs) > 1:
        raise HttpProblem(
            400, "Name exactly one graph: /graphs?default or /graphs?graph=IRI (Graph Store Protocol §4.2)."
        )
    if graphs and not is_absolute_iri(graphs[0]):
        raise HttpProblem(400, f"{graphs[0]!r} is not an absolute IRI.")
    return graphs[0] if graphs else None


def _writable_target(request: Request) -> str:
    graph = _target(request)
    if graph is None:
        # The default graph is the union of the source graphs (sd:UnionDefaultGraph): it has no content of its own.
        raise HttpProblem(
            405, "The default graph is the union of the named graphs; write to /graphs?graph=IRI.", _READ_ONLY
        )
    if graph == META_GRAPH.value or graph.startswith(STAGING_PREFIX):
        raise HttpProblem(403, f"The graph <{graph}> is kept by the store itself.")
    return graph


def _visibility(raw: str | None) -> Visibility | None:
    if raw is None:
        return None
    try:
        return Visibility(raw)
    except ValueError:
        raise HttpProblem(400, "visibility must be `public` or `internal`.") from None
