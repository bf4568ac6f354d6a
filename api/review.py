"""Staff review of SDG target suggestions: the "Vorschläge prüfen" page, accept and reject.

Editors see the store's projects, datasets and indicators that link no SDG target (nor an SDG indicator,
which stands for its targets) with their top suggestions, and accept or reject each one. Readers see the
suggestions on entity pages; only editors get the buttons and may post decisions.

**Where a decision goes, and why two graphs.** Every decision is one PROV record in the internal graph
`{base}graph/sdg-suggestions-internal`: the suggested link, reified (`rdf:Statement` of `<item> dct:subject
<target>`), `prov:wasGeneratedBy` (accepted) or `prov:wasInvalidatedBy` (rejected) a `prov:Activity` that
`prov:wasAssociatedWith` the token's role (`urn:querschnitt:role:editor`; tokens name roles, not people, so
no person's name or address is ever written) and `prov:endedAtTime`. The activity does not `prov:used` the
item: projects are `prov:Activity`s that `prov:used` their datasets (docs/model.md), and a decision must
not read as a project using a dataset.
An accepted link itself, the bare `<item> dct:subject <target>`, goes into the public graph
`{base}graph/sdg-suggestions` when a public graph describes the item: a link between a published project
or dataset and a UN target is no personal data, and the gap reports everyone reads must show it at once
(they read public graphs only for anonymous callers). An item that only internal graphs describe gets its
link in the internal graph instead, since publishing the link would publish the item. Who decided and
when stays internal in either case. Rejections are never public; they only keep a suggestion from being
offered again and count as negative examples for the staff's suggester.

Both graphs are written through the store's own writers, so the metadata and the derived graphs (which
the gap queries read) change in the same transaction as the data: the first decision creates each graph
with `replace_graph` (with its visibility), later ones add to both in one `update_graphs` transaction.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from api import ui
from api.auth import Role
from api.store import Visibility
from api.suggest_routes import SuggestionCache, _target_codes
from loaders.sdg import SdgIndex
from loaders.vocab import DCAT, DCT, PROV, QS, RDF, RDFS, SDG, XSD
from suggest import Suggester, Suggestion

router = APIRouter(include_in_schema=False)

PUBLIC_LINKS = "sdg-suggestions"
DECISIONS = "sdg-suggestions-internal"
LOADER = "sdg-suggestion-review"
TOP = 3
PAGE_SIZE = 25
KINDS = {QS.Project.value: "project", DCAT.Dataset.value: "dataset", QS.Indicator.value: "indicator"}

_ITEMS = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX qs: <https://w3id.org/querschnitt/def#>
SELECT ?item ?type ?title ?text WHERE {
  VALUES ?type { qs:Project dcat:Dataset qs:Indicator }
  ?item a ?type .
  OPTIONAL { ?item dct:title|skos:prefLabel ?title }
  OPTIONAL { ?item dct:description|dcat:keyword ?text }
}
"""
_LINKS = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX qs: <https://w3id.org/querschnitt/def#>
SELECT ?item ?subject WHERE {
  VALUES ?type { qs:Project dcat:Dataset qs:Indicator }
  ?item a ?type ; dct:subject|qs:contributesTo ?subject .
}
"""
# The decisions of one verdict (prov:wasGeneratedBy: accepted, prov:wasInvalidatedBy: rejected); one plain
# query per verdict rather than a UNION with BIND, which gives the same answer on both store kinds.
_DECIDED = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?item ?target WHERE {
  ?link prov:%s ?decision ; rdf:subject ?item ; rdf:object ?target .
  ?decision a prov:Activity .
}
"""


@dataclass
class Item:
    """A project, dataset or indicator with its texts and what was decided about its suggestions."""

    iri: str
    kind: str
    titles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)  # target notations it links (directly or via indicators)
    rejected: set[str] = field(default_factory=set)
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def title(self) -> str:
        return " / ".join(self.titles) or self.iri.rsplit("/", 1)[-1]


def graph_iris(base: str) -> tuple[str, str]:
    """The public graph of accepted links and the internal graph of decisions for a base IRI."""
    return f"{base}graph/{PUBLIC_LINKS}", f"{base}graph/{DECISIONS}"


def decisions(store, *, accepted: bool, only: str | None = None) -> dict[str, set[str]]:
    """Item IRI → target notations staff accepted (or rejected) for it (for the item `only` if given)."""
    index = SdgIndex.builtin()
    out: dict[str, set[str]] = {}
    query = _DECIDED % ("wasGeneratedBy" if accepted else "wasInvalidatedBy")
    for row in store.query(query, include_internal=True, substitutions=_only(only)):
        for code in _target_codes(index, row["target"].value):
            out.setdefault(row["item"].value, set()).add(code)
    return out


def _only(iri: str | None) -> dict[str, NamedNode] | None:
    return {"item": NamedNode(iri)} if iri else None


def items(store, *, only: str | None = None) -> dict[str, Item]:
    """Every project, dataset and indicator staff see (or the one IRI `only`: an entity page must not scan
    the store), with texts, linked targets and rejected targets."""
    index = SdgIndex.builtin()
    found: dict[str, Item] = {}
    for row in store.query(_ITEMS, include_internal=True, substitutions=_only(only)):
        iri = row["item"].value
        item = found.setdefault(iri, Item(iri, KINDS[row["type"].value]))
        for name, values in (("title", item.titles), ("text", item.texts)):
            value = row[name].value if row[name] is not None else None
            if value and value not in values:
                values.append(value)
    for row in store.query(_LINKS, include_internal=True, substitutions=_only(only)):
        item = found.get(row["item"].value)
        for code in _target_codes(index, row["subject"].value) if item else ():
            if code not in item.linked:
                item.linked.append(code)
    for iri, codes in decisions(store, accepted=False, only=only).items():
        if iri in found:
            found[iri].rejected |= codes
    return found


class StaffSuggestions(SuggestionCache):
    """The staff's suggester: every graph staff see, with each item's rejected targets as negative examples."""

    def __init__(self) -> None:
        super().__init__(include_internal=True)

    def get(self, store, **_) -> Suggester:
        """The suggester for the store's current graphs (all of them: staff see internal titles anyway)."""

        def rejections():
            found = items(store).values()
            return ((" ".join([*i.titles, *i.texts]), sorted(i.rejected), i.title) for i in found if i.rejected)

        return super().get(store, negative=rejections)


def staff_suggestions(request: Request) -> Suggester:
    """The app's staff suggester (created on first use)."""
    state = request.app.state
    with _CACHE_LOCK:
        if getattr(state, "staff_suggestions", None) is None:
            state.staff_suggestions = StaffSuggestions()
    return state.staff_suggestions.get(state.store)


_CACHE_LOCK = threading.Lock()
# The first decisions create the graphs by replacing them: two at once must not replace each other's.
_WRITE_LOCK = threading.Lock()


def suggest_for(suggester: Suggester, item: Item, *, top: int = TOP) -> list[Suggestion]:
    """The best `top` targets for an item that it does not link and staff did not reject."""
    skip = set(item.linked) | item.rejected
    found = suggester.suggest(item.title, " ".join(item.texts), top=top + len(skip))
    return [s for s in found if s.target not in skip][:top]


def decide(
    store, base: str, item_iri: str, target: str, *, accepted: bool, role: Role, now: datetime | None = None
) -> str:
    """Record a decision on a suggested link (and write the link when accepted); returns the decision's IRI."""
    public_graph, decisions_graph = graph_iris(base)
    item, target_node = NamedNode(item_iri), SDG[target]
    now = now or datetime.now(UTC)
    decision = NamedNode(f"{base}suggestion-decision/{uuid.uuid4()}")
    link = NamedNode(f"{decision.value}#link")
    agent = NamedNode(f"urn:querschnitt:role:{role.name.lower()}")
    verdict = "übernommen" if accepted else "abgelehnt"
    record = [
        Triple(decision, RDF.type, PROV.Activity),
        Triple(decision, RDFS.label, Literal(f"SDG-Vorschlag {target} {verdict}", language="de")),
        Triple(decision, PROV.wasAssociatedWith, agent),
        Triple(decision, PROV.endedAtTime, Literal(now.isoformat(timespec="seconds"), datatype=XSD.dateTime)),
        Triple(agent, RDF.type, PROV.Agent),
        Triple(agent, RDFS.label, Literal(role.name.lower())),
        Triple(link, RDF.type, RDF.Statement),
        Triple(link, RDF.subject, item),
        Triple(link, RDF.predicate, DCT.subject),
        Triple(link, RDF.object, target_node),
        Triple(link, PROV.wasGeneratedBy if accepted else PROV.wasInvalidatedBy, decision),
    ]
    public_item = accepted and bool(
        store.query(f"ASK {{ {item} a ?type }}", include_internal=False)  # described by a public graph
    )
    if accepted and not public_item:
        record.append(Triple(item, DCT.subject, target_node))
    parts = {decisions_graph: record}
    if public_item:
        parts[public_graph] = [Triple(item, DCT.subject, target_node)]
    visibility = {public_graph: Visibility.PUBLIC, decisions_graph: Visibility.INTERNAL}
    source = "Querschnitt: Vorschläge prüfen / suggestion review"
    with _WRITE_LOCK:
        known = {g.iri for g in store.graphs(include_internal=True)}
        existing = {g: triples for g, triples in parts.items() if g in known}
        for graph, triples in parts.items():
            if graph not in known:
                # The first decision creates the graph, with its own visibility. Not `update_graphs`: on
                # Virtuoso its metadata refresh registers no graph that has no entry yet (the data is written,
                # the graph stays invisible); `replace_graph` of a graph that does not exist loses nothing.
                store.replace_graph(
                    graph,
                    (Quad(t.subject, t.predicate, t.object, NamedNode(graph)) for t in triples),
                    visibility=visibility[graph],
                    source=source,
                    loader=LOADER,
                    checksum=_checksum(triples),
                )
        if existing:
            _write(store, existing, source=source)  # one transaction; each graph keeps its visibility
    return decision.value


def _write(store, parts: dict[str, list[Triple]], *, source: str) -> None:
    """Add triples to existing graphs in one update; their metadata and the derived graphs follow."""
    body = " ".join(
        f"GRAPH {NamedNode(graph)} {{\n{serialize(triples, format=RdfFormat.N_TRIPLES).decode()}\n}}"
        for graph, triples in parts.items()
    )
    checksum = _checksum([t for triples in parts.values() for t in triples])
    store.update_graphs(f"INSERT DATA {{ {body} }}", list(parts), source=source, loader=LOADER, checksum=checksum)


def _checksum(triples: list[Triple]) -> str:
    return "sha256:" + hashlib.sha256(serialize(triples, format=RdfFormat.N_TRIPLES)).hexdigest()


# -- pages -----------------------------------------------------------------------------------------


def _refuse(page: ui.Page) -> HTMLResponse | None:
    """The login page for anonymous callers, 403 for staff below editor; None for editors."""
    if page.principal.role >= Role.EDITOR:
        return None
    if page.principal.role is Role.ANONYMOUS:
        context = {"next": ui.here(page.request), "error": None, "title": page.t("login.title")}
        return ui.render(page, "login.html", context, status=401)
    return ui.render(page, "error.html", {"title": page.t("review.forbidden"), "status": 403}, status=403)


def item_view(request: Request, labels: ui.Labels, item: Item) -> dict[str, Any]:
    """What the templates show of an item: its link, kind and suggestions with their target refs."""
    return {
        "iri": item.iri,
        "title": item.title,
        "kind": item.kind,
        "href": ui.page_href(request, item.iri, labels.page.principal),
        "suggestions": [
            (s, labels.ref(SDG[s.target].value), ui.format_number(s.score, labels.page.lang)) for s in item.suggestions
        ],
    }


@router.get("/suggestions")
def review_page(request: Request) -> HTMLResponse:
    """Vorschläge prüfen: items without target-level SDG links and their top suggestions (editors)."""
    page = ui.page_for(request)
    refused = _refuse(page)
    if refused is not None:
        return refused
    store = request.app.state.store
    suggester = staff_suggestions(request)
    open_items = sorted(
        (i for i in items(store).values() if not i.linked),
        key=lambda i: (list(KINDS.values()).index(i.kind), ui.sort_key(i.title)),
    )
    pages = max(1, -(-len(open_items) // PAGE_SIZE))
    number = min(max(ui._int(request.query_params.get("page"), 1), 1), pages)
    shown = open_items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    for item in shown:
        item.suggestions = suggest_for(suggester, item)
    labels = ui.Labels(page)
    done = request.query_params.get("done")
    return ui.render(
        page,
        "review.html",
        {
            "title": page.t("review.title"),
            "nav": "review",
            "items": [item_view(request, labels, i) for i in shown],
            "total": len(open_items),
            "first": (number - 1) * PAGE_SIZE + 1,
            "page_number": number,
            "pages": pages,
            "page_url": lambda n: "/suggestions?" + urlencode({"page": n}),
            "done": done if done in ("accepted", "rejected") else None,
            "done_target": request.query_params.get("target", ""),
            "done_title": request.query_params.get("title", ""),
            "next": f"/suggestions?page={number}" if number > 1 else "/suggestions",
        },
    )


def entity_suggestions(request: Request, page: ui.Page, labels: ui.Labels, iri: str) -> dict[str, Any] | None:
    """The suggestions an entity page shows staff (projects, datasets, indicators), or None."""
    if not page.staff:
        return None
    store = request.app.state.store
    item = items(store, only=iri).get(iri)
    if item is None:
        return None
    item.suggestions = suggest_for(staff_suggestions(request), item)
    view = item_view(request, labels, item)
    view["editor"] = page.principal.role >= Role.EDITOR
    done = request.query_params.get("done")  # back from a decision posted on this page
    view["done"] = done if done in ("accepted", "rejected") else None
    view["done_target"] = request.query_params.get("target", "")
    return view


@router.post("/suggestions/accept")
def accept(
    request: Request,
    item: Annotated[str, Form()],
    target: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/suggestions",
) -> Response:
    """Accept a suggested target for an item: write the link (and its PROV record); editors only."""
    return _decision(request, item, target, next, accepted=True)


@router.post("/suggestions/reject")
def reject(
    request: Request,
    item: Annotated[str, Form()],
    target: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/suggestions",
) -> Response:
    """Reject a suggested target for an item: remembered (PROV record), never offered again; editors only."""
    return _decision(request, item, target, next, accepted=False)


def _decision(request: Request, item_iri: str, target: str, next: str, *, accepted: bool) -> Response:
    page = ui.page_for(request)
    if not ui._same_origin(request):
        # The session cookie is SameSite=Strict already; this is the same second check the login form has.
        return ui.render(page, "error.html", {"title": page.t("review.cross_site"), "status": 403}, status=403)
    refused = _refuse(page)
    if refused is not None:
        return refused
    store = request.app.state.store
    found = items(store, only=item_iri).get(item_iri)
    if found is None or _target_codes(SdgIndex.builtin(), SDG[target].value) != [target]:
        return ui.render(page, "error.html", {"title": page.t("review.unknown"), "status": 422}, status=422)
    if target not in found.linked:
        decide(
            store,
            request.app.state.settings.base_iri,
            item_iri,
            target,
            accepted=accepted,
            role=page.principal.role,
        )
    back = ui._local_path(next)
    query = urlencode({"done": "accepted" if accepted else "rejected", "target": target, "title": found.title})
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}{query}", status_code=303)
