"""Marking a harvested catalog as the municipality's own portal, so that the service republishes its datasets.

The portal's publisher node (often a blank node named "Hansestadt Rostock") is declared the same as
the municipality (`owl:sameAs`), in the harvest's own graph: the catalog then counts those datasets as
the municipality's, and a re-harvest with the flag writes the same statements again.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Quad

from loaders.vocab import DCAT, DCT, OWL, RDF

_TYPE, _DATASET, _PUBLISHER, _SAME_AS = RDF.type, DCAT.Dataset, DCT.publisher, OWL.sameAs


def own_portal_links(quads: list[Quad], municipality: NamedNode) -> list[Quad]:
    """`publisher owl:sameAs municipality` for each publisher of the datasets among `quads`, in their graph;
    a dataset the portal names no publisher for gets the municipality as its publisher."""
    datasets = {q.subject: q.graph_name for q in quads if q.predicate == _TYPE and q.object == _DATASET}
    published = {
        q.subject: (q.object, q.graph_name) for q in quads if q.predicate == _PUBLISHER and q.subject in datasets
    }
    links = {
        Quad(publisher, _SAME_AS, municipality, graph)
        for publisher, graph in published.values()
        if publisher != municipality
    }
    links |= {Quad(d, _PUBLISHER, municipality, g) for d, g in datasets.items() if d not in published}
    return sorted(links, key=str)
