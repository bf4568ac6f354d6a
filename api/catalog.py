"""The DCAT-AP.de catalog of the municipality's public datasets, built from the store's public graphs.

Only datasets whose `dct:publisher` is the municipality are listed (harvested datasets of other publishers
are not ours to republish), and only from public graphs. Each dataset carries what DCAT-AP.de 3.0 and the
harvesters read (ckanext-dcat for GovData, piveau for data.europa.eu): the municipality as the one
`dct:publisher`, the producing department as `dct:creator` and, through its functional mailbox, as
`dcat:contactPoint`, EU data themes, SDG targets in `dct:subject` plus an `SDG 11.2` keyword (CKAN drops
`dct:subject`), the political geocoding of the municipality, and `prov:wasGeneratedBy` where the data
names a public project as the dataset's origin.

Pages follow the Hydra convention that CKAN writes and reads: one node typed both `hydra:PartialCollectionView`
and `hydra:PagedCollection`, with the current and the deprecated link names side by side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Triple

from api.settings import Settings
from api.store import Store
from loaders.categories import MUSTERDATENKATALOG_NS
from loaders.vocab import (
    ADMS_PUBLISHER_TYPE,
    DCAT,
    DCATDE,
    DCATDE_LICENSE,
    DCT,
    EU_FILE_TYPE,
    EU_THEME,
    FOAF,
    MUNICIPALITY_KEY,
    PREFIXES,
    RDF,
    SDG,
    XSD,
    Namespace,
)

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
CONTRIBUTORS = "http://dcat-ap.de/def/contributors/"
PUBLIC_ACCESS = NamedNode("http://publications.europa.eu/resource/authority/access-right/PUBLIC")
GERMAN = NamedNode("http://publications.europa.eu/resource/authority/language/DEU")
MUNICIPALITY_LEVEL = NamedNode("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
# The loader name the DCAT harvest records in the metadata graph (api/cli.py).
HARVEST_LOADER = "dcat-harvest"

CATALOG_PREFIXES = {
    **{k: PREFIXES[k] for k in ("rdf", "xsd", "dct", "dcat", "dcatde", "foaf", "prov", "skos", "vcard")},
    "hydra": str(HYDRA),
}

_PREFIXES = "".join(f"PREFIX {k}: <{v}>\n" for k, v in CATALOG_PREFIXES.items())

# What a dataset and a distribution may carry into the catalog: a whitelist of plain values (literals and
# vocabulary IRIs), so that nothing else in a public graph (Querschnitt's own terms, links to projects,
# blank nodes whose description would be missing) reaches a portal by accident.
_DATASET_PROPERTIES = (
    DCT["title"],
    DCT.description,
    DCT.identifier,
    DCAT.keyword,
    DCT.issued,
    DCT.modified,
    DCT.accrualPeriodicity,
)
_DISTRIBUTION_PROPERTIES = (
    DCAT.accessURL,
    DCAT.downloadURL,
    DCT["title"],
    DCT.description,
    DCT["format"],
    DCT.license,
    DCT.issued,
    DCT.modified,
)


@dataclass(frozen=True)
class CatalogPage:
    """One catalog document: its triples, which page it is (None for the whole catalog) and the paging facts."""

    triples: list[Triple]
    datasets: list[NamedNode]
    total: int
    page: int | None
    last: int


def catalog_iri(settings: Settings) -> NamedNode:
    """The catalog's IRI, `{base}catalog`; it redirects to the catalog document."""
    return NamedNode(f"{settings.base_iri}catalog")


def publisher_iri(settings: Settings) -> NamedNode:
    """The municipality, as the staff loader names it (`{base}municipality/municipality`)."""
    return NamedNode(f"{settings.base_iri}municipality/municipality")


def catalog_url(settings: Settings, *, suffix: str = "", page: int | None = None) -> str:
    """URL of a catalog document under the public URL (so links are right behind a reverse proxy)."""
    url = f"{settings.public_url.rstrip('/')}/catalog{suffix}"
    return url if page is None else f"{url}?page={page}"


def contributor_iri(settings: Settings) -> NamedNode | None:
    """The configured `dcatde:contributorID`, a full IRI or an id from the DCAT-AP.de contributor list."""
    value = (settings.catalog_contributor_id or "").strip()
    if not value:
        return None
    return NamedNode(value if "://" in value else CONTRIBUTORS + value)


def published_datasets(store: Store, settings: Settings) -> list[NamedNode]:
    """The public datasets the municipality publishes, ordered by IRI (the order of the catalog's pages):
    its spreadsheets' datasets and the harvested datasets of its own portal (`own_harvested`).

    Two one-pattern queries intersected here: on disk at 10^6 triples ≈ 0.1 s, where the join of both
    patterns took 0.7 s and `ORDER BY STR(?d) LIMIT … OFFSET …` another 1.3 s for every page.
    """
    typed = {row[0] for row in store.query(f"{_PREFIXES}SELECT ?d {{ ?d a dcat:Dataset }}")}
    published = {
        row[0] for row in store.query(f"{_PREFIXES}SELECT ?d {{ ?d dct:publisher {publisher_iri(settings)} }}")
    }
    own = set(own_harvested(store, settings))
    # Python orders strings by code point, as SPARQL's ORDER BY STR(?d) does.
    return sorted((d for d in (typed & published) | own if isinstance(d, NamedNode)), key=lambda d: d.value)


def harvested_graphs(store: Store) -> list[str]:
    """The public graphs a DCAT harvest wrote: their datasets are republished as published."""
    return [g.iri for g in store.graphs(include_internal=False) if g.loader == HARVEST_LOADER]


def own_harvested(store: Store, settings: Settings) -> list[NamedNode]:
    """Harvested datasets whose publisher is the municipality: marked so by `load --dcat --own`
    (`owl:sameAs` the municipality), or with its name (`Stadt`, `Hansestadt` … aside) or its AGS."""
    graphs = harvested_graphs(store)
    if not graphs:
        return []
    rows = store.query(
        f"""{_PREFIXES}PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX org: <http://www.w3.org/ns/org#>
        SELECT DISTINCT ?d ?pub ?same ?name ?id ?spatial {{ GRAPH ?g {{
          ?d a dcat:Dataset ; dct:publisher ?pub FILTER(isIRI(?d))
          OPTIONAL {{ ?pub owl:sameAs ?same }} OPTIONAL {{ ?pub foaf:name ?name }}
          OPTIONAL {{ ?pub org:identifier|dct:identifier ?id }} OPTIONAL {{ ?pub dct:spatial ?spatial }}
        }} }}""",
        named_graphs=graphs,
        default_graphs=[],
    )
    municipality = publisher_iri(settings)
    name = _municipality_name(settings.municipality_name)
    key = settings.municipality_key
    own: set[NamedNode] = set()
    for row in rows:
        if (
            municipality in (row["pub"], row["same"])
            or (row["name"] is not None and _municipality_name(row["name"].value) == name)
            or (key and row["id"] is not None and row["id"].value.strip() == key)
            or (key and row["spatial"] == MUNICIPALITY_KEY[key])
        ):
            own.add(row["d"])
    return sorted(own, key=lambda d: d.value)


_AUTHORITY_WORDS = re.compile(
    r"^(?:freie und hansestadt|landeshauptstadt|hansestadt|kreisfreie stadt|große kreisstadt|kreisstadt|"
    r"universitätsstadt|stadtverwaltung|stadt|gemeinde|markt|landkreis|kreis)\s+"
)


def _municipality_name(text: str) -> str:
    """A municipality's name without the kind of authority: "Hansestadt Rostock" and "Rostock" are one."""
    plain = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _AUTHORITY_WORDS.sub("", plain)


def dataset_count(store: Store, settings: Settings) -> int:
    """How many public datasets the municipality publishes."""
    return len(published_datasets(store, settings))


def last_page(total: int, page_size: int) -> int:
    """Number of the last page; an empty catalog still has page 1."""
    return max(1, -(-total // page_size))


def build_catalog(
    store: Store,
    settings: Settings,
    *,
    page: int | None = 1,
    page_size: int | None = None,
    suffix: str = "",
    datasets: list[NamedNode] | None = None,
) -> CatalogPage:
    """The catalog document for `page` (1-based; None = every dataset in one document).

    Datasets are ordered by IRI, so pages are stable while the data is. `suffix` (`.ttl` …) is kept in
    the paging links, so a harvester that asked for `/catalog.ttl` stays on Turtle. A page past the last
    raises `PageNotFound`. `datasets` is `published_datasets()` when the caller has it already (the HTTP
    layer keeps it for all pages of one version of the data).
    """
    size = page_size or settings.catalog_page_size
    every = published_datasets(store, settings) if datasets is None else datasets
    total = len(every)
    last = last_page(total, size)
    if page is not None and not 1 <= page <= last:
        raise PageNotFound(page, last)
    shown = every if page is None else every[(page - 1) * size : page * size]
    triples = _catalog_node(store, settings, shown)
    harvested = set(own_harvested(store, settings)) & set(shown)
    made_here = [d for d in shown if d not in harvested]
    if made_here:
        triples += _dataset_triples(store, settings, made_here, every=page is None and not harvested)
    if harvested:
        triples += _harvested_triples(store, settings, sorted(harvested, key=lambda d: d.value))
    if page is not None:
        triples += _paging(settings, page=page, last=last, total=total, size=size, suffix=suffix)
    return CatalogPage(_ordered(triples, settings), shown, total, page, last)


class PageNotFound(LookupError):
    """A catalog page number beyond the last page."""

    def __init__(self, page: int, last: int):
        self.page, self.last = page, last
        super().__init__(f"There is no page {page}; the catalog has pages 1 to {last}.")


def modified(store: Store) -> datetime | None:
    """When a public graph last changed (None for an empty store)."""
    times = [g.modified for g in store.graphs(include_internal=False)]
    return max(times) if times else None


# --- the parts ------------------------------------------------------------------------------------------


def _catalog_node(store: Store, settings: Settings, datasets: list[NamedNode]) -> list[Triple]:
    catalog, publisher = catalog_iri(settings), publisher_iri(settings)
    name = settings.municipality_name
    title = settings.catalog_title or f"Offene Daten {name}"
    description = settings.catalog_description or (
        f"Öffentliche Datensätze der Kommune {name}: wer sie erstellt, zu welchen Themen und "
        "zu welchen Zielen für nachhaltige Entwicklung (SDGs) sie beitragen."
    )
    triples = [
        Triple(catalog, RDF.type, DCAT.Catalog),
        Triple(catalog, DCT["title"], Literal(title, language="de")),
        Triple(catalog, DCT.description, Literal(description, language="de")),
        Triple(catalog, DCT.publisher, publisher),
        Triple(catalog, DCT.language, GERMAN),
        # Publishers must be typed foaf:Agent explicitly: the shapes run without RDFS reasoning over org:.
        Triple(publisher, RDF.type, FOAF.Agent),
        Triple(publisher, FOAF.name, Literal(name)),
        Triple(publisher, DCT.type, ADMS_PUBLISHER_TYPE.LocalAuthority),
    ]
    changed = modified(store)
    if changed is not None:
        stamp = changed.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        triples.append(Triple(catalog, DCT.modified, Literal(stamp, datatype=XSD.dateTime)))
    spatial = _spatial(store, settings)
    if spatial is not None:
        # The geocoding IRI names the municipality's area: typed so, dct:spatial meets its range
        # (DCAT-AP: dct:Location) instead of leaving a warning on every dataset.
        triples += [Triple(catalog, DCT.spatial, spatial), Triple(spatial, RDF.type, DCT.Location)]
    triples += [Triple(catalog, DCAT.dataset, d) for d in datasets]
    return triples


def _spatial(store: Store, settings: Settings) -> NamedNode | None:
    """The municipality key IRI: from the settings, else from the municipality node in the data."""
    if settings.municipality_key:
        return MUNICIPALITY_KEY[settings.municipality_key]
    for row in store.query(
        f"{_PREFIXES}SELECT ?s {{ {publisher_iri(settings)} dct:spatial ?s "
        f'FILTER(STRSTARTS(STR(?s), "{MUNICIPALITY_KEY}")) }} ORDER BY ?s LIMIT 1'
    ):
        return row["s"]
    return None


def _dataset_triples(store: Store, settings: Settings, datasets: list[NamedNode], *, every: bool) -> list[Triple]:
    # A page names its datasets; the whole catalog selects them by pattern, which is faster than a
    # VALUES block with thousands of IRIs (≈ 19 s instead of 27 s for 14,000 datasets on disk).
    selection = (
        f"?d a dcat:Dataset ; dct:publisher {publisher_iri(settings)} . FILTER(isIRI(?d))"
        if every
        else "VALUES ?d { " + " ".join(str(d) for d in datasets) + " }"
    )
    publisher = publisher_iri(settings)
    triples: list[Triple] = []
    for d in datasets:
        triples += [
            Triple(d, RDF.type, DCAT.Dataset),
            Triple(d, DCT.publisher, publisher),
            Triple(d, DCT.accessRights, PUBLIC_ACCESS),
        ]
    spatial = _spatial(store, settings)
    if spatial is not None:
        for d in datasets:
            triples += [
                Triple(d, DCT.spatial, spatial),
                Triple(d, DCATDE.politicalGeocodingLevelURI, MUNICIPALITY_LEVEL),
            ]
    contributor = contributor_iri(settings)
    if contributor is not None:
        triples += [Triple(d, DCATDE.contributorID, contributor) for d in datasets]
    for query in _DATASET_QUERIES:
        # pyoxigraph's QueryTriples, or the remote store's equivalent: any iterable of triples.
        triples += list(store.query(_PREFIXES + query.replace("#DATASETS", selection)))
    return triples


def _harvested_triples(store: Store, settings: Settings, datasets: list[NamedNode]) -> list[Triple]:
    """The own portal's datasets as it published them: every statement of the dataset, its distributions
    and the blank nodes below them (contact point, period, checksum …) from the harvested graph, with the
    municipality as the one publisher; what Querschnitt adds is what staff enriched (SDG targets, projects).

    Left out: the harvester's own links to departments (`dct:creator`/`owl:sameAs` into this service's
    IRIs), which are for the gap reports, not for the portal. Nothing is invented: no access rights,
    geocoding or contributor the source did not state (a configured contributor id only where it has none).
    """
    publisher = publisher_iri(settings)
    values = "VALUES ?d { " + " ".join(str(d) for d in datasets) + " }"
    # The description of ?d, of its distributions and of blank nodes up to three levels below either.
    rows = store.query(
        f"""{_PREFIXES}CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {values} GRAPH ?g {{
          {{ ?d ?p ?o BIND(?d AS ?s) }}
          UNION {{ ?d ?p1 ?s . ?s ?p ?o FILTER(isBlank(?s) || ?p1 = dcat:distribution) }}
          UNION {{ ?d ?p1 ?n1 . ?n1 ?p2 ?s . ?s ?p ?o
                   FILTER((isBlank(?n1) || ?p1 = dcat:distribution) && isBlank(?s)) }}
          UNION {{ ?d ?p1 ?n1 . ?n1 ?p2 ?n2 . ?n2 ?p3 ?s . ?s ?p ?o
                   FILTER((isBlank(?n1) || ?p1 = dcat:distribution) && isBlank(?n2) && isBlank(?s)) }}
          FILTER(!(?s = ?d && ?p = dct:publisher))
          FILTER(!(?p IN (dct:creator, <http://www.w3.org/2002/07/owl#sameAs>) && isIRI(?o)
                   && STRSTARTS(STR(?o), "{settings.base_iri}")))
        }} }}""",
        named_graphs=harvested_graphs(store),
        default_graphs=[],
    )
    triples = list(rows)
    triples += [Triple(d, DCT.publisher, publisher) for d in datasets]
    contributor = contributor_iri(settings)
    if contributor is not None:
        stated = {t.subject for t in triples if t.predicate == DCATDE.contributorID}
        triples += [Triple(d, DCATDE.contributorID, contributor) for d in datasets if d not in stated]
    # Staff's enrichment: EU themes and SDG targets from the workbook, and the projects the data came from.
    for query in (_EU_THEMES, _SDG_TARGETS, _CATEGORIES, _ORIGIN):
        triples += list(store.query(_PREFIXES + query.replace("#DATASETS", values)))
    return triples


def _in(properties: Iterable[NamedNode]) -> str:
    return ", ".join(str(p) for p in properties)


# Each query describes one aspect of the datasets that `#DATASETS` selects. Vocabulary checks
# (EU themes, file types, dcat-ap.de licences) keep foreign values out; the SHACL check reports them.
# Plain properties of the datasets.
# FILTER, not VALUES ?p: Oxigraph would otherwise scan every subject with those predicates first.
_PLAIN = f"""CONSTRUCT {{ ?d ?p ?o }} WHERE {{ #DATASETS ?d ?p ?o FILTER(?p IN ({_in(_DATASET_PROPERTIES)})) }}"""

# EU data themes only: SDGs belong in dct:subject (a theme outside the EU table is a violation).
_EU_THEMES = f"""CONSTRUCT {{ ?d dcat:theme ?t }} WHERE {{
          #DATASETS ?d dcat:theme ?t FILTER(STRSTARTS(STR(?t), "{EU_THEME}")) }}"""

# SDG goals, targets and indicators: dct:subject, described as SKOS concepts, plus a keyword for CKAN.
_SDG_TARGETS = f"""CONSTRUCT {{
          ?d dct:subject ?t ; dcat:keyword ?keyword .
          ?t a skos:Concept ; skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label .
        }} WHERE {{
          {{ SELECT ?d ?t (MIN(?n) AS ?notation) {{
               #DATASETS ?d dct:subject ?t FILTER(STRSTARTS(STR(?t), "{SDG}"))
               OPTIONAL {{ ?t skos:notation ?n }}
             }} GROUP BY ?d ?t }}
          BIND(CONCAT("SDG ", COALESCE(STR(?notation), STRAFTER(STR(?t), "{SDG}"))) AS ?keyword)
          BIND(<http://metadata.un.org/sdg> AS ?scheme)
          OPTIONAL {{ ?t skos:prefLabel ?label FILTER(LANGMATCHES(LANG(?label), "de") || LANGMATCHES(LANG(?label), "en")) }}
        }}"""

# Musterdatenkatalog categories, as DCAT-AP.de names them (Konventionenhandbuch 1.10.1: dct:references).
_CATEGORIES = f"""CONSTRUCT {{ ?d dct:references ?c }} WHERE {{
          #DATASETS ?d dct:references ?c FILTER(STRSTARTS(STR(?c), "{MUSTERDATENKATALOG_NS}")) }}"""

# The producing department: an agent with a public name (never a person).
_CREATOR = """CONSTRUCT { ?d dct:creator ?c . ?c a foaf:Agent ; foaf:name ?name ; foaf:mbox ?mbox ; foaf:homepage ?home }
       WHERE {
         #DATASETS ?d dct:creator ?c . ?c foaf:name ?name FILTER(isIRI(?c))
         MINUS { ?c a foaf:Person }
         OPTIONAL { ?c foaf:mbox ?mbox } OPTIONAL { ?c foaf:homepage ?home }
       }"""

# Contact point: the creating department's functional mailbox (one per dataset; never a person's).
_CONTACT = """CONSTRUCT { ?d dcat:contactPoint _:contact . _:contact a vcard:Kind, vcard:Organization ; vcard:fn ?name ; vcard:hasEmail ?mbox }
       WHERE {
         { SELECT ?d (MIN(?n) AS ?name) (MIN(?m) AS ?mbox) {
             #DATASETS ?d dct:creator ?c . ?c foaf:name ?n ; foaf:mbox ?m FILTER(isIRI(?c) && isIRI(?m))
             MINUS { ?c a foaf:Person }
           } GROUP BY ?d }
         FILTER(BOUND(?mbox))
       }"""

# The project a dataset came from, where the data says so and the project is public.
_ORIGIN = """CONSTRUCT { ?d prov:wasGeneratedBy ?p . ?p a prov:Activity ; dct:title ?title }
       WHERE { #DATASETS ?d prov:wasGeneratedBy ?p . ?p dct:title ?title FILTER(isIRI(?p)) }"""

# Distributions: an access URL is required (DCAT-AP); EU file types and dcat-ap.de licences only.
_DISTRIBUTIONS = f"""CONSTRUCT {{ ?d dcat:distribution ?x . ?x a dcat:Distribution ; ?p ?o }}
        WHERE {{
          #DATASETS ?d dcat:distribution ?x . ?x dcat:accessURL ?url FILTER(isIRI(?x))
          OPTIONAL {{
            ?x ?p ?o
            FILTER(?p IN ({_in(_DISTRIBUTION_PROPERTIES)}))
            FILTER(?p NOT IN (dct:format, dct:license)
                   || (?p = dct:format && STRSTARTS(STR(?o), "{EU_FILE_TYPE}"))
                   || (?p = dct:license && STRSTARTS(STR(?o), "{DCATDE_LICENSE}")))
          }}
        }}"""

_DATASET_QUERIES = (_PLAIN, _EU_THEMES, _SDG_TARGETS, _CATEGORIES, _CREATOR, _CONTACT, _ORIGIN, _DISTRIBUTIONS)


def _paging(settings: Settings, *, page: int, last: int, total: int, size: int, suffix: str) -> list[Triple]:
    """The Hydra node of a page: typed for current clients and for CKAN's older PagedCollection reader."""

    def url(n: int) -> NamedNode:
        return NamedNode(catalog_url(settings, suffix=suffix, page=n))

    view = url(page)
    triples = [
        Triple(catalog_iri(settings), HYDRA.view, view),
        Triple(view, RDF.type, HYDRA.PartialCollectionView),
        Triple(view, RDF.type, HYDRA.PagedCollection),
        Triple(view, HYDRA.totalItems, Literal(str(total), datatype=XSD.integer)),
        Triple(view, HYDRA.itemsPerPage, Literal(str(size), datatype=XSD.integer)),
        Triple(view, HYDRA.first, url(1)),
        Triple(view, HYDRA.firstPage, url(1)),
        Triple(view, HYDRA["last"], url(last)),
        Triple(view, HYDRA.lastPage, url(last)),
    ]
    if page < last:
        triples += [Triple(view, HYDRA["next"], url(page + 1)), Triple(view, HYDRA.nextPage, url(page + 1))]
    if page > 1:
        triples += [Triple(view, HYDRA.previous, url(page - 1)), Triple(view, HYDRA.previousPage, url(page - 1))]
    return triples


def _ordered(triples: list[Triple], settings: Settings) -> list[Triple]:
    """Without duplicates, grouped by subject (Turtle writes a group as one block): the catalog, its
    publisher, each dataset followed by its distributions, then contact points, agents, SDG concepts and
    the paging node; `rdf:type` first within a group."""
    catalog, publisher = catalog_iri(settings), publisher_iri(settings)

    def key(triple: Triple) -> tuple:
        s = triple.subject
        if s == catalog:
            rank = 0
        elif s == publisher:
            rank = 1
        elif not isinstance(s, NamedNode):
            rank = 3
        elif s.value.startswith(f"{settings.base_iri}dataset/"):
            rank = 2
        elif s.value.startswith(settings.public_url.rstrip("/") + "/catalog"):
            rank = 5
        else:
            rank = 4
        return rank, str(s), triple.predicate != RDF.type, str(triple.predicate), str(triple.object)

    return sorted(set(triples), key=key)
