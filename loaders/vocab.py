"""Namespaces of the model (docs/model.md), shared by every loader."""

from pyoxigraph import NamedNode


class Namespace(str):
    """An IRI prefix; `NS.term` and `NS["term"]` give a `NamedNode`."""

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self + name)

    def __getitem__(self, name: str) -> NamedNode:  # type: ignore[override]
        return NamedNode(self + name)


QS = Namespace("https://w3id.org/querschnitt/def#")
SDG = Namespace("http://metadata.un.org/sdg/")
SDGO = Namespace("http://metadata.un.org/sdg/ontology#")
QS_SDG_INDICATOR = Namespace("https://w3id.org/querschnitt/sdg/indicator/")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SCHEMA = Namespace("http://schema.org/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
DCATDE_LICENSE = Namespace("http://dcat-ap.de/def/licenses/")
ADMS_PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
MUNICIPALITY_KEY = Namespace("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/")

SDG_SCHEME = NamedNode("http://metadata.un.org/sdg")

PREFIXES = {
    "qs": str(QS),
    "sdg": str(SDG),
    "sdgo": str(SDGO),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "owl": str(OWL),
    "skos": str(SKOS),
    "dct": str(DCT),
    "dcat": str(DCAT),
    "dcatde": str(DCATDE),
    "foaf": str(FOAF),
    "org": str(ORG),
    "prov": str(PROV),
    "vcard": str(VCARD),
    "qb": str(QB),
    "sdmx-dimension": str(SDMX_DIMENSION),
    "sdmx-measure": str(SDMX_MEASURE),
    "void": str(VOID),
    "sd": str(SD),
    "schema": str(SCHEMA),
}
