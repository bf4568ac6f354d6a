"""Content negotiation (RFC 9110 §12.5.1) over the formats the SPARQL service offers.

Browsers cannot set Accept from a link, so a `format` parameter (a short name or a media type) wins
over the header, as on Fuseki and Virtuoso.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Offer:
    """One format the service can write: the Content-Type it is served with and the names it answers to."""

    key: str
    media_type: str
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type


# SPARQL 1.1 Query Results JSON, XML, CSV/TSV. Order = preference when the client does not mind.
RESULT_OFFERS = (
    Offer("json", "application/sparql-results+json", ("application/json",), ("json", "srj")),
    Offer("xml", "application/sparql-results+xml", ("application/xml", "text/xml"), ("xml", "srx")),
    Offer("csv", "text/csv", (), ("csv",)),
    Offer("tsv", "text/tab-separated-values", (), ("tsv",)),
)
GRAPH_OFFERS = (
    Offer("turtle", "text/turtle", ("application/x-turtle", "text/n3"), ("turtle", "ttl", "n3")),
    Offer("ntriples", "application/n-triples", ("text/plain",), ("ntriples", "nt")),
    Offer("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"), ("rdfxml", "rdf", "xml")),
    Offer("jsonld", "application/ld+json", ("application/json",), ("jsonld", "json-ld", "json")),
    Offer("nquads", "application/n-quads", (), ("nquads", "nq")),
    Offer("trig", "application/trig", (), ("trig",)),
)
HTML_OFFER = Offer("html", "text/html", ("application/xhtml+xml",), ("html",))


class NotAcceptable(Exception):
    """Nothing offered fits the request; the message lists what is offered (406)."""

    def __init__(self, offers: tuple[Offer, ...]):
        self.offers = offers
        super().__init__("Not acceptable. This resource is offered as: " + ", ".join(o.media_type for o in offers))


def _parse_accept(header: str) -> list[tuple[str, str, float]]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0] or "/" not in fields[0]:
            continue
        kind, _, sub = fields[0].lower().partition("/")
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((kind, sub, q))
    return ranges


def _quality(offer: Offer, ranges: list[tuple[str, str, float]]) -> float:
    """The q of the most specific range matching the offer (RFC 9110 §12.5.1), 0 if none does."""
    best_specificity, best_q = -1, 0.0
    for media_type in (offer.media_type, *offer.aliases):
        kind, _, sub = media_type.partition("/")
        for r_kind, r_sub, q in ranges:
            if (r_kind, r_sub) == (kind, sub):
                specificity = 2
            elif r_kind == kind and r_sub == "*":
                specificity = 1
            elif (r_kind, r_sub) == ("*", "*"):
                specificity = 0
            else:
                continue
            if specificity > best_specificity or (specificity == best_specificity and q > best_q):
                best_specificity, best_q = specificity, q
    return best_q


def negotiate(accept: str | None, offers: tuple[Offer, ...], *, format_param: str | None = None) -> Offer:
    """The offer that fits `format_param`, else the Accept header best (ties: first offered); raise NotAcceptable."""
    if format_param:
        wanted = format_param.strip().lower()
        for offer in offers:
            if wanted in offer.names or wanted == offer.media_type or wanted in offer.aliases:
                return offer
        raise NotAcceptable(offers)
    if not accept or not accept.strip():
        return offers[0]
    ranges = _parse_accept(accept)
    if not ranges:
        return offers[0]
    scored = [(_quality(offer, ranges), -i, offer) for i, offer in enumerate(offers)]
    q, _, offer = max(scored, key=lambda item: (item[0], item[1]))
    if q <= 0:
        raise NotAcceptable(offers)
    return offer


def negotiate_optional(
    accept: str | None, offers: tuple[Offer, ...], *, format_param: str | None = None
) -> Offer | None:
    """Like `negotiate`, but None instead of NotAcceptable."""
    try:
        return negotiate(accept, offers, format_param=format_param)
    except NotAcceptable:
        return None
