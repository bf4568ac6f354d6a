"""The Querschnitt vocabulary, the SHACL shapes, `loaders.shapes` and the JSON-LD context."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SH, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from loaders.report import Problem, Severity
from loaders.resources import ONTOLOGY_DIR
from loaders.shapes import check, shapes_graph, validate

QS = Namespace("https://w3id.org/querschnitt/def#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")

PREFIXES = """\
@prefix qs: <https://w3id.org/querschnitt/def#> .
@prefix sdg: <http://metadata.un.org/sdg/> .
@prefix sdgo: <http://metadata.un.org/sdg/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#> .
@prefix sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#> .
@prefix theme: <http://publications.europa.eu/resource/authority/data-theme/> .
@prefix filetype: <http://publications.europa.eu/resource/authority/file-type/> .
@prefix freq: <http://publications.europa.eu/resource/authority/frequency/> .
@prefix licence: <http://dcat-ap.de/def/licenses/> .
@prefix mun: <https://musterstadt.example/id/municipality/> .
@prefix dep: <https://musterstadt.example/id/department/> .
@prefix person: <https://musterstadt.example/id/person/> .
@prefix role: <https://musterstadt.example/id/role/> .
@prefix project: <https://musterstadt.example/id/project/> .
@prefix dataset: <https://musterstadt.example/id/dataset/> .
@prefix indicator: <https://musterstadt.example/id/indicator/> .
@prefix strategy: <https://musterstadt.example/id/strategy/> .
"""

# Small stand-in for ontology/sdg.ttl, shaped like it, so these tests do not depend on its content.
SDG_FIXTURE = """
<http://metadata.un.org/sdg> a skos:ConceptScheme ;
    skos:prefLabel "Ziele für nachhaltige Entwicklung"@de , "Sustainable Development Goals"@en .
sdg:11 a skos:Concept , sdgo:Goal ; skos:notation "11" ; qs:colour "#FD9D24" ;
    skos:prefLabel "Nachhaltige Städte und Gemeinden"@de , "Sustainable cities and communities"@en ;
    skos:inScheme <http://metadata.un.org/sdg> ; skos:narrower sdg:11.2 .
sdg:11.2 a skos:Concept , sdgo:Target ; skos:notation "11.2" ;
    skos:prefLabel "Nachhaltige Verkehrssysteme"@de , "Sustainable transport"@en ;
    skos:inScheme <http://metadata.un.org/sdg> ; skos:broader sdg:11 ; skos:narrower sdg:C110201 .
sdg:C110201 a skos:Concept , sdgo:Indicator ; skos:notation "11.2.1" ;
    skos:prefLabel "Indikator 11.2.1"@de , "Indicator 11.2.1"@en ;
    skos:inScheme <http://metadata.un.org/sdg> ; skos:broader sdg:11.2 .
sdg:13 a skos:Concept , sdgo:Goal ; skos:notation "13" ; qs:colour "#3F7E44" ;
    skos:prefLabel "Maßnahmen zum Klimaschutz"@de , "Climate action"@en ;
    skos:inScheme <http://metadata.un.org/sdg> .
"""

# The mini municipality: one department, one person with membership, one project, one dataset with
# distribution, one indicator with an observation and a three-level strategy, as docs/model.md says.
MUNICIPALITY = """
mun:musterstadt a org:FormalOrganization , foaf:Agent ;
    foaf:name "Musterstadt"@de ;
    dct:type <http://purl.org/adms/publishertype/LocalAuthority> ;
    org:identifier "05999001" ;
    dct:spatial <http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05999001> .

dep:tiefbauamt a org:OrganizationalUnit , foaf:Agent ;
    foaf:name "Tiefbauamt"@de ;
    org:identifier "tiefbauamt" ;
    org:unitOf mun:musterstadt ;
    foaf:mbox <mailto:tiefbauamt@musterstadt.example> ;
    foaf:homepage <https://www.musterstadt.example/verwaltung/tiefbauamt> .

person:person-001 a foaf:Person ;
    foaf:name "Ingrid Jung" ;
    foaf:mbox <mailto:ingrid.jung@musterstadt.example> ;
    foaf:phone <tel:+49-9999-222-85> ;
    org:memberOf dep:tiefbauamt .

<https://musterstadt.example/id/person/person-001#membership> a org:Membership ;
    org:member person:person-001 ;
    org:organization dep:tiefbauamt ;
    org:role role:amtsleitung .

role:amtsleitung a org:Role ; skos:prefLabel "Amtsleitung"@de .

project:radverkehrskonzept a qs:Project ;
    dct:title "Radverkehrskonzept 2030"@de ;
    dct:description "Ein durchgängiges Radwegenetz mit Vorrangrouten."@de ;
    dct:identifier "radverkehrskonzept" ;
    qs:status qs:completed ;
    prov:startedAtTime "2019-12-15"^^xsd:date ;
    prov:endedAtTime "2022-11-07"^^xsd:date ;
    prov:wasAssociatedWith dep:tiefbauamt ;
    prov:qualifiedAssociation <https://musterstadt.example/id/project/radverkehrskonzept#lead> ;
    prov:used dataset:radwegenetz ;
    qs:contributesTo sdg:11.2 , sdg:13 ;
    dct:subject sdg:11.2 , sdg:13 ;
    qs:implements strategy:oz-1-1-1 ;
    foaf:homepage <https://www.musterstadt.example/projekte/radverkehrskonzept> ;
    qs:contactPerson person:person-001 .

<https://musterstadt.example/id/project/radverkehrskonzept#lead>
    prov:agent dep:tiefbauamt ;
    prov:hadRole qs:LeadRole .

dataset:radwegenetz a dcat:Dataset ;
    dct:title "Radwegenetz"@de ;
    dct:description "Radwege im Stadtgebiet von Musterstadt."@de ;
    dct:identifier "radwegenetz" ;
    dct:publisher mun:musterstadt ;
    dct:creator dep:tiefbauamt ;
    dcat:theme theme:TRAN ;
    dct:subject sdg:11.2 ;
    dcat:keyword "Radweg"@de , "Radverkehr"@de ;
    dct:modified "2021-10-07"^^xsd:date ;
    dct:accrualPeriodicity freq:ANNUAL ;
    dcat:distribution <https://musterstadt.example/id/dataset/radwegenetz/distribution/1> .

<https://musterstadt.example/id/dataset/radwegenetz/distribution/1> a dcat:Distribution ;
    dcat:accessURL <https://opendata.musterstadt.example/dataset/radwegenetz> ;
    dcat:downloadURL <https://opendata.musterstadt.example/files/radwegenetz.geojson> ;
    dct:format filetype:GEOJSON ;
    dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0> .

indicator:modal-split a qs:Indicator , skos:Concept ;
    skos:prefLabel "Anteil des Umweltverbunds am Modal Split"@de ;
    qs:unit "%" ;
    dct:subject sdg:11.2 ;
    dct:creator dep:tiefbauamt .

<https://musterstadt.example/id/indicator/modal-split/observation/2023> a qb:Observation ;
    qb:dataSet indicator:modal-split ;
    sdmx-dimension:refPeriod "2023"^^xsd:gYear ;
    sdmx-dimension:refArea mun:musterstadt ;
    sdmx-measure:obsValue "64.3"^^xsd:decimal .

<https://musterstadt.example/id/strategy> a skos:ConceptScheme ;
    skos:prefLabel "Nachhaltigkeitsstrategie Musterstadt"@de .
strategy:ll-1 a qs:GuidingPrinciple , skos:Concept ;
    skos:prefLabel "Klimaneutrale Stadt"@de ;
    skos:inScheme <https://musterstadt.example/id/strategy> ;
    qs:contributesTo sdg:13 .
strategy:sz-1-1 a qs:StrategicGoal , skos:Concept ;
    skos:prefLabel "Mobilität klimafreundlich gestalten"@de ;
    skos:inScheme <https://musterstadt.example/id/strategy> ;
    skos:broader strategy:ll-1 .
strategy:oz-1-1-1 a qs:OperationalGoal , skos:Concept ;
    skos:prefLabel "Radwegenetz schließen"@de ;
    skos:inScheme <https://musterstadt.example/id/strategy> ;
    skos:broader strategy:sz-1-1 ;
    qs:contributesTo sdg:11.2 .
"""

GRAPH = ox.NamedNode("https://musterstadt.example/id/graph/test")


def triples(turtle: str) -> list[ox.Triple]:
    """Turtle (with the common prefixes) as pyoxigraph triples."""
    return [q.triple for q in ox.parse((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)]


def quads(turtle: str, *, remove: str = "", add: str = "") -> list[ox.Quad]:
    """`turtle` minus the triples of `remove` plus those of `add`, as quads in a named graph."""
    removed = set(triples(remove))
    missing = removed - set(triples(turtle))
    assert not missing, f"variant removes triples that are not there: {missing}"
    kept = [t for t in triples(turtle) if t not in removed] + triples(add)
    return [ox.Quad(t.subject, t.predicate, t.object, GRAPH) for t in kept]


def sdg_context() -> list[ox.Quad]:
    return quads(SDG_FIXTURE)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


@cache
def vocabulary() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "querschnitt.ttl", format="turtle")


# --- the vocabulary ---------------------------------------------------------------------------


def qs_terms() -> set[URIRef]:
    return {s for s in vocabulary().subjects() if isinstance(s, URIRef) and s.startswith(str(QS))}


def test_the_vocabulary_defines_every_term_the_model_names():
    expected = {
        "Project", "contributesTo", "status", "ProjectStatus", "planned", "running", "completed",
        "LeadRole", "PartnerRole", "contactPerson", "GuidingPrinciple", "StrategicGoal",
        "OperationalGoal", "implements", "Indicator", "unit", "colour", "loader", "checksum",
        "visibility", "public", "internal",
    }  # fmt: skip
    assert {QS[name] for name in expected} <= qs_terms()


@pytest.mark.parametrize("prop", [RDFS.label, RDFS.comment], ids=["label", "comment"])
def test_every_qs_term_has_a_german_and_an_english_label_and_comment(prop):
    lacking = []
    for term in sorted(qs_terms()):
        languages = {o.language for o in vocabulary().objects(term, prop) if isinstance(o, Literal)}
        if not {"de", "en"} <= languages:
            lacking.append((str(term), sorted(filter(None, languages))))
    assert not lacking


def test_every_qs_term_is_defined_by_the_ontology():
    ontology = URIRef("https://w3id.org/querschnitt/def")
    assert (ontology, RDF.type, OWL.Ontology) in vocabulary()
    assert [t for t in qs_terms() if (t, RDFS.isDefinedBy, ontology) not in vocabulary()] == []


def test_the_vocabulary_links_its_terms_to_the_standards_they_specialise():
    v = vocabulary()
    assert (QS.Project, RDFS.subClassOf, PROV.Activity) in v
    assert (QS.contributesTo, RDFS.subPropertyOf, DCT.subject) in v
    assert (QS.contributesTo, RDFS.range, SKOS.Concept) in v
    for level in (QS.GuidingPrinciple, QS.StrategicGoal, QS.OperationalGoal, QS.Indicator):
        assert (level, RDFS.subClassOf, SKOS.Concept) in v
    for role in (QS.LeadRole, QS.PartnerRole):
        assert (role, RDF.type, PROV.Role) in v
    for status in (QS.planned, QS.running, QS.completed):
        assert (status, SKOS.inScheme, QS.ProjectStatus) in v
        assert {o.language for o in v.objects(status, SKOS.prefLabel)} == {"de", "en"}
    for visibility in (QS.public, QS.internal):
        assert (visibility, SKOS.inScheme, QS.Visibility) in v


def test_the_ontology_header_has_titles_version_licence_and_creator():
    v = vocabulary()
    ontology = URIRef("https://w3id.org/querschnitt/def")
    assert {t.language for t in v.objects(ontology, DCT.title)} == {"de", "en"}
    assert v.value(ontology, OWL.versionInfo) is not None
    assert v.value(ontology, DCT.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert str(v.value(ontology, DCT.creator)) == "Querschnitt"


# --- the shapes -------------------------------------------------------------------------------


def test_every_qs_term_the_shapes_use_is_defined_in_the_vocabulary():
    shapes = shapes_graph()
    used: set[URIRef] = set()
    for prop in (SH.targetClass, SH["class"], SH.path, SH.hasValue, SH.targetObjectsOf):
        used |= {o for o in shapes.objects(None, prop) if isinstance(o, URIRef)}
    # Values in sh:in lists and steps of sequence paths.
    used |= {o for o in shapes.objects(None, RDF.first) if isinstance(o, URIRef)}
    undefined = {t for t in used if t.startswith(str(QS))} - qs_terms()
    assert used & qs_terms(), "the shapes should use some qs: terms"
    assert undefined == set()


def test_the_shapes_are_valid_shacl_by_the_shacl_shacl_meta_shapes():
    shacl_shacl = Graph().parse(Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl", format="turtle")
    conforms, _, text = pyshacl.validate(shapes_graph(), shacl_graph=shacl_shacl, inference="none")
    assert conforms, text


def test_the_meta_shapes_would_catch_a_broken_shape():
    shacl_shacl = Graph().parse(Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl", format="turtle")
    broken = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:property [ sh:path <urn:p> ; sh:minCount "one" ] .""",
        format="turtle",
    )
    conforms, _, _ = pyshacl.validate(broken, shacl_graph=shacl_shacl, inference="none")
    assert not conforms


def named_and_reporting_shapes() -> set:
    """Every named shape, plus the shapes that produce results: node shapes with a target and the
    property shapes they list."""
    shapes = shapes_graph()
    named = {s for cls in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, cls)}
    targeted = {
        s
        for prop in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf, SH.targetNode)
        for s in shapes.subjects(prop, None)
    }
    return named | targeted | {p for s in named | targeted for p in shapes.objects(s, SH.property)}


def test_every_shape_has_a_german_and_an_english_name_and_message():
    shapes = shapes_graph()
    lacking = []
    for shape in named_and_reporting_shapes():
        for prop in (SH.name, SH.message):
            languages = {o.language for o in shapes.objects(shape, prop) if isinstance(o, Literal)}
            if not {"de", "en"} <= languages:
                lacking.append((str(shape), prop.fragment))
    assert len(named_and_reporting_shapes()) > 50
    assert lacking == []


# --- validating data --------------------------------------------------------------------------


def test_the_sdg_fixture_conforms_on_its_own():
    assert validate(sdg_context()) == []


def test_the_mini_municipality_conforms_with_the_sdg_taxonomy_as_context():
    assert validate(quads(MUNICIPALITY), extra=sdg_context()) == []


def test_the_mini_municipality_conforms_with_the_shipped_sdg_taxonomy():
    sdg_file = ONTOLOGY_DIR / "sdg.ttl"
    if not sdg_file.exists():
        pytest.skip("ontology/sdg.ttl not written yet")
    taxonomy = list(ox.parse(path=str(sdg_file), format=ox.RdfFormat.TURTLE))
    assert validate(taxonomy) == []
    assert validate(quads(MUNICIPALITY), extra=taxonomy) == []


def test_without_the_sdg_context_the_sdg_links_do_not_resolve():
    problems = errors(validate(quads(MUNICIPALITY)))
    assert problems
    assert all("qs:contributesTo" in p.message_en or "dct:subject" in p.message_en for p in problems)


LEAD = "<https://musterstadt.example/id/project/radverkehrskonzept#lead>"
DISTRIBUTION = "<https://musterstadt.example/id/dataset/radwegenetz/distribution/1>"
OBSERVATION = "<https://musterstadt.example/id/indicator/modal-split/observation/2023>"

# (id, data: municipality or the SDG taxonomy itself, triples removed, triples added, property the
# error must name)
BROKEN_VARIANTS = [
    ("project without title", "mun",
     'project:radverkehrskonzept dct:title "Radverkehrskonzept 2030"@de .', "", "dct:title"),
    ("dataset title without language", "mun",
     'dataset:radwegenetz dct:title "Radwegenetz"@de .', 'dataset:radwegenetz dct:title "Radwegenetz" .',
     "dct:title"),
    ("project without lead", "mun",
     f"{LEAD} prov:hadRole qs:LeadRole .", f"{LEAD} prov:hadRole qs:PartnerRole .",
     "prov:qualifiedAssociation"),
    ("project with two leads", "mun", "",
     """dep:planungsamt a org:OrganizationalUnit , foaf:Agent ; foaf:name "Planungsamt"@de ;
            org:unitOf mun:musterstadt .
        project:radverkehrskonzept prov:wasAssociatedWith dep:planungsamt ;
            prov:qualifiedAssociation project:radverkehrskonzept-2 .
        project:radverkehrskonzept-2 prov:agent dep:planungsamt ; prov:hadRole qs:LeadRole .""",
     "prov:qualifiedAssociation"),
    ("associated department without qualified association", "mun", "",
     """dep:planungsamt a org:OrganizationalUnit , foaf:Agent ; foaf:name "Planungsamt"@de ;
            org:unitOf mun:musterstadt .
        project:radverkehrskonzept prov:wasAssociatedWith dep:planungsamt .""",
     "prov:qualifiedAssociation/prov:agent"),
    ("project status outside the scheme", "mun",
     "project:radverkehrskonzept qs:status qs:completed .",
     "project:radverkehrskonzept qs:status qs:cancelled .", "qs:status"),
    ("end before start", "mun",
     'project:radverkehrskonzept prov:endedAtTime "2022-11-07"^^xsd:date .',
     'project:radverkehrskonzept prov:endedAtTime "2019-01-01"^^xsd:date .', "prov:startedAtTime"),
    ("start not a date", "mun",
     'project:radverkehrskonzept prov:startedAtTime "2019-12-15"^^xsd:date .',
     'project:radverkehrskonzept prov:startedAtTime "15.12.2019" .', "prov:startedAtTime"),
    ("project links an unknown SDG target", "mun",
     "project:radverkehrskonzept qs:contributesTo sdg:11.2 ; dct:subject sdg:11.2 .",
     "project:radverkehrskonzept qs:contributesTo sdg:11.99 ; dct:subject sdg:11.99 .",
     "qs:contributesTo"),
    ("project links an SDG indicator instead of a target", "mun",
     "project:radverkehrskonzept qs:contributesTo sdg:11.2 ; dct:subject sdg:11.2 .",
     "project:radverkehrskonzept qs:contributesTo sdg:C110201 ; dct:subject sdg:C110201 .",
     "qs:contributesTo"),
    ("SDG link not repeated as dct:subject", "mun",
     "project:radverkehrskonzept dct:subject sdg:13 .", "", "qs:contributesTo"),
    ("licence not from dcat-ap.de", "mun",
     f"{DISTRIBUTION} dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0> .",
     f"{DISTRIBUTION} dct:license <https://creativecommons.org/licenses/by/4.0/> .", "dct:license"),
    ("format not from the EU file-type list", "mun",
     f"{DISTRIBUTION} dct:format filetype:GEOJSON .", f'{DISTRIBUTION} dct:format "GeoJSON" .',
     "dct:format"),
    ("distribution without access URL", "mun",
     f"{DISTRIBUTION} dcat:accessURL <https://opendata.musterstadt.example/dataset/radwegenetz> .", "",
     "dcat:accessURL"),
    ("SDG IRI in dcat:theme", "mun", "", "dataset:radwegenetz dcat:theme sdg:11.2 .", "dcat:theme"),
    ("theme not from the EU data-theme list", "mun",
     "dataset:radwegenetz dcat:theme theme:TRAN .", 'dataset:radwegenetz dcat:theme "Verkehr"@de .',
     "dcat:theme"),
    ("dataset without publisher", "mun", "dataset:radwegenetz dct:publisher mun:musterstadt .", "",
     "dct:publisher"),
    ("dataset created by an unknown department", "mun",
     "dataset:radwegenetz dct:creator dep:tiefbauamt .", "dataset:radwegenetz dct:creator dep:bauamt .",
     "dct:creator"),
    ("person with two e-mails", "mun", "",
     "person:person-001 foaf:mbox <mailto:i.jung@musterstadt.example> .", "foaf:mbox"),
    ("person e-mail as text", "mun",
     "person:person-001 foaf:mbox <mailto:ingrid.jung@musterstadt.example> .",
     'person:person-001 foaf:mbox "ingrid.jung@musterstadt.example" .', "foaf:mbox"),
    ("membership without role", "mun",
     "<https://musterstadt.example/id/person/person-001#membership> org:role role:amtsleitung .", "",
     "org:role"),
    ("department not typed foaf:Agent", "mun", "dep:tiefbauamt a foaf:Agent .", "", "foaf:Agent"),
    ("department both unit of the municipality and of another department", "mun", "",
     """dep:tiefbauamt org:subOrganizationOf dep:planungsamt .
        dep:planungsamt a org:OrganizationalUnit , foaf:Agent ; foaf:name "Planungsamt"@de ;
            org:unitOf mun:musterstadt .""",
     "org:subOrganizationOf"),
    ("department without name", "mun", 'dep:tiefbauamt foaf:name "Tiefbauamt"@de .', "", "foaf:name"),
    ("indicator value not decimal", "mun",
     f'{OBSERVATION} sdmx-measure:obsValue "64.3"^^xsd:decimal .',
     f'{OBSERVATION} sdmx-measure:obsValue "64,3" .', "sdmx-measure:obsValue"),
    ("indicator value ill-formed decimal", "mun",
     f'{OBSERVATION} sdmx-measure:obsValue "64.3"^^xsd:decimal .',
     f'{OBSERVATION} sdmx-measure:obsValue "64,3"^^xsd:decimal .', "sdmx-measure:obsValue"),
    ("observation year not gYear", "mun",
     f'{OBSERVATION} sdmx-dimension:refPeriod "2023"^^xsd:gYear .',
     f"{OBSERVATION} sdmx-dimension:refPeriod 2023 .", "sdmx-dimension:refPeriod"),
    ("indicator without German label", "mun",
     'indicator:modal-split skos:prefLabel "Anteil des Umweltverbunds am Modal Split"@de .',
     'indicator:modal-split skos:prefLabel "Modal split share"@en .', "skos:prefLabel"),
    ("strategic goal without guiding principle", "mun", "strategy:sz-1-1 skos:broader strategy:ll-1 .",
     "", "skos:broader"),
    ("operational goal under a guiding principle", "mun",
     "strategy:oz-1-1-1 skos:broader strategy:sz-1-1 .", "strategy:oz-1-1-1 skos:broader strategy:ll-1 .",
     "skos:broader"),
    ("SDG target without English label", "sdg",
     'sdg:11.2 skos:prefLabel "Sustainable transport"@en .', "", "skos:prefLabel"),
    ("SDG target with two English labels", "sdg", "", 'sdg:11.2 skos:prefLabel "Transport"@en .',
     "skos:prefLabel"),
    ("SDG target without goal", "sdg", "sdg:11.2 skos:broader sdg:11 .", "", "skos:broader"),
    ("SDG goal without colour", "sdg", 'sdg:13 qs:colour "#3F7E44" .', "", "qs:colour"),
    ("SDG concept outside the scheme", "sdg", "sdg:13 skos:inScheme <http://metadata.un.org/sdg> .", "",
     "skos:inScheme"),
    ("SDG concept without notation", "sdg", 'sdg:C110201 skos:notation "11.2.1" .', "", "skos:notation"),
]  # fmt: skip


def variant(name: str) -> tuple[str, str, str]:
    """data, remove, add of the broken variant called `name`."""
    (found,) = [v[1:4] for v in BROKEN_VARIANTS if v[0] == name]
    return found


def validate_variant(data: str, remove: str, add: str) -> list[Problem]:
    if data == "sdg":
        return validate(quads(SDG_FIXTURE, remove=remove, add=add))
    return validate(quads(MUNICIPALITY, remove=remove, add=add), extra=sdg_context())


@pytest.mark.parametrize(
    ("data", "remove", "add", "prop"), [v[1:] for v in BROKEN_VARIANTS], ids=[v[0] for v in BROKEN_VARIANTS]
)
def test_a_broken_variant_yields_an_error_naming_the_property(data, remove, add, prop):
    found = errors(validate_variant(data, remove, add))
    assert found, "expected at least one error"
    assert any(prop in p.message_de and prop in p.message_en for p in found), [str(p) for p in found]


def test_an_error_message_names_focus_node_path_and_value_in_both_languages():
    problems = errors(validate_variant(*variant("project without title")))
    assert len(problems) == 1
    (problem,) = problems
    assert problem.message_de.startswith("<https://musterstadt.example/id/project/radverkehrskonzept>, dct:title: ")
    assert "Ein Projekt braucht einen Titel" in problem.message_de
    assert "A project needs a title" in problem.message_en
    assert problem.file is None and problem.row is None

    (value_problem,) = [
        p
        for p in validate_variant(*variant("licence not from dcat-ap.de"))
        if "dct:license" in p.message_en and p.severity is Severity.ERROR
    ]
    assert value_problem.message_de.endswith("(Wert: <https://creativecommons.org/licenses/by/4.0/>)")
    assert value_problem.message_en.endswith("(value: <https://creativecommons.org/licenses/by/4.0/>)")


def test_the_findings_keep_focus_node_path_and_shape_for_locating_rows():
    remove = f'{OBSERVATION} sdmx-measure:obsValue "64.3"^^xsd:decimal .'
    add = f'{OBSERVATION} sdmx-measure:obsValue "64,3" .'
    (finding,) = check(quads(MUNICIPALITY, remove=remove, add=add), extra=sdg_context())
    assert finding.focus == OBSERVATION.strip("<>")
    assert finding.path == "sdmx-measure:obsValue"
    assert finding.value == '"64,3"'
    assert finding.shape == "https://w3id.org/querschnitt/shapes#Observation-value"


def test_a_missing_recommended_value_is_a_warning_not_an_error():
    remove = 'dataset:radwegenetz dct:description "Radwege im Stadtgebiet von Musterstadt."@de .'
    problems = validate(quads(MUNICIPALITY, remove=remove), extra=sdg_context())
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "dct:description" in problems[0].message_en


def test_defects_of_the_context_alone_are_not_reported():
    broken_context = quads(SDG_FIXTURE, remove='sdg:11.2 skos:prefLabel "Sustainable transport"@en .')
    assert validate(quads(MUNICIPALITY), extra=broken_context) == []


def test_graph_names_are_ignored_and_plain_triples_are_accepted():
    in_default_graph = [ox.Quad(t.subject, t.predicate, t.object) for t in triples(MUNICIPALITY)]
    assert validate(in_default_graph, extra=triples(SDG_FIXTURE)) == []


def test_an_empty_input_conforms():
    assert validate([]) == []


# --- speed ------------------------------------------------------------------------------------


def synthetic_municipality(copies: int) -> list[ox.Quad]:
    """`copies` renamed copies of the mini municipality's departments, people, projects, datasets and
    indicators, sharing one municipality and strategy: a realistic mix for timing."""
    shared, _, per_copy = MUNICIPALITY.partition("dep:tiefbauamt a")
    per_copy, _, strategy = ("dep:tiefbauamt a" + per_copy).partition("<https://musterstadt.example/id/strategy> a")
    names = ("tiefbauamt", "person-001", "amtsleitung", "radverkehrskonzept", "radwegenetz", "modal-split")
    text = shared + "<https://musterstadt.example/id/strategy> a" + strategy
    for i in range(copies):
        copy = per_copy
        for name in names:
            copy = copy.replace(name, f"{name}-{i}")
        text += copy
    return quads(text)


@pytest.mark.slow
def test_validating_twenty_thousand_triples_takes_seconds_not_minutes():
    data = synthetic_municipality(320)
    assert 19_000 < len(data) < 22_000
    start = time.perf_counter()
    problems = validate(data, extra=sdg_context())
    elapsed = time.perf_counter() - start
    assert problems == []
    assert elapsed < 60, f"{len(data)} triples took {elapsed:.1f} s"


# --- the JSON-LD context ----------------------------------------------------------------------


def context() -> dict:
    return json.loads((ONTOLOGY_DIR / "context.jsonld").read_text(encoding="utf-8"))


def test_the_context_is_json_ld_1_1_and_declares_the_model_prefixes():
    ctx = context()["@context"]
    assert ctx["@version"] == 1.1
    for prefix in ("qs", "sdg", "dct", "dcat", "foaf", "org", "prov", "skos", "vcard", "qb", "xsd", "schema"):
        assert ctx[prefix].startswith("http")
    assert ctx["qs"] == str(QS)


ID = "https://musterstadt.example/id/"
SAMPLE = {
    "@graph": [
        {
            "id": ID + "project/radverkehrskonzept",
            "type": "Project",
            "title": {"de": "Radverkehrskonzept 2030", "en": "Cycling plan 2030"},
            "status": "running",
            "lead": ID + "department/tiefbauamt",
            "partners": [
                {
                    "id": ID + "department/stadtplanungsamt",
                    "type": ["Department", "Agent"],
                    "name": "Stadtplanungsamt",
                    "unitOf": ID + "municipality/musterstadt",
                    "mbox": "mailto:stadtplanungsamt@musterstadt.example",
                }
            ],
            "qualifiedAssociation": [
                {
                    "id": ID + "project/radverkehrskonzept#lead",
                    "agent": ID + "department/tiefbauamt",
                    "hadRole": "LeadRole",
                }
            ],
            "contributesTo": ["sdg:11.2"],
            "subject": ["sdg:11.2"],
            "start": "2019-12-15",
            "used": [
                {
                    "id": ID + "dataset/radwegenetz",
                    "type": "Dataset",
                    "title": {"de": "Radwegenetz"},
                    "keyword": {"de": ["Radweg", "Radverkehr"]},
                    "theme": ["http://publications.europa.eu/resource/authority/data-theme/TRAN"],
                }
            ],
            "implements": [ID + "strategy/oz-1-1-1"],
        },
        {
            "id": ID + "indicator/modal-split",
            "type": ["Indicator", "Concept"],
            "label": {"de": "Anteil des Umweltverbunds am Modal Split"},
            "unit": "%",
            "subject": ["sdg:11.2"],
        },
        {
            "id": ID + "indicator/modal-split/observation/2023",
            "type": "Observation",
            "dataSet": ID + "indicator/modal-split",
            "refPeriod": "2023",
            "value": "64.3",
        },
    ]
}

EXPECTED = """
project:radverkehrskonzept a qs:Project ;
    dct:title "Radverkehrskonzept 2030"@de , "Cycling plan 2030"@en ;
    qs:status qs:running ;
    prov:wasAssociatedWith dep:tiefbauamt , dep:stadtplanungsamt ;
    prov:qualifiedAssociation <https://musterstadt.example/id/project/radverkehrskonzept#lead> ;
    qs:contributesTo sdg:11.2 ;
    dct:subject sdg:11.2 ;
    prov:startedAtTime "2019-12-15"^^xsd:date ;
    prov:used dataset:radwegenetz ;
    qs:implements strategy:oz-1-1-1 .
<https://musterstadt.example/id/project/radverkehrskonzept#lead>
    prov:agent dep:tiefbauamt ; prov:hadRole qs:LeadRole .
dep:stadtplanungsamt a org:OrganizationalUnit , foaf:Agent ;
    foaf:name "Stadtplanungsamt" ;
    org:unitOf mun:musterstadt ;
    foaf:mbox <mailto:stadtplanungsamt@musterstadt.example> .
dataset:radwegenetz a dcat:Dataset ;
    dct:title "Radwegenetz"@de ;
    dcat:keyword "Radweg"@de , "Radverkehr"@de ;
    dcat:theme theme:TRAN .
indicator:modal-split a qs:Indicator , skos:Concept ;
    skos:prefLabel "Anteil des Umweltverbunds am Modal Split"@de ;
    qs:unit "%" ;
    dct:subject sdg:11.2 .
<https://musterstadt.example/id/indicator/modal-split/observation/2023> a qb:Observation ;
    qb:dataSet indicator:modal-split ;
    sdmx-dimension:refPeriod "2023"^^xsd:gYear ;
    sdmx-measure:obsValue "64.3"^^xsd:decimal .
"""


def test_the_context_expands_a_sample_document_to_the_expected_triples():
    document = {"@context": context()["@context"], **SAMPLE}
    parsed = Graph().parse(data=json.dumps(document), format="json-ld")
    expected = Graph().parse(data=PREFIXES + EXPECTED, format="turtle")
    assert isomorphic(parsed, expected), parsed.serialize(format="turtle")


def test_pyoxigraph_reads_the_context_the_same_way():
    document = {"@context": context()["@context"], **SAMPLE}
    parsed = ox.Store()
    parsed.load(json.dumps(document).encode(), format=ox.RdfFormat.JSON_LD)
    expected = ox.Store()
    expected.load((PREFIXES + EXPECTED).encode(), format=ox.RdfFormat.TURTLE)
    assert set(parsed) == set(expected)
