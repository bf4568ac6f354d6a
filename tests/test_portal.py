"""The municipality's own open-data portal as a source: harvested as published, owned, republished faithfully.

The real catalogs in ../shared/data/real/dcat are read as published (no edits). Property by property,
every statement of each dataset (and of its distributions and the blank nodes below them) must reach
/catalog unchanged; only the publisher is the municipality's.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse

from api.catalog import build_catalog, own_harvested, publisher_iri
from api.store import Visibility, open_store
from api.testing import make_settings
from loaders.dcat import harvest
from loaders.isolated_parse import repair_iri
from loaders.own_portal import own_portal_links
from loaders.vocab import DCAT, DCT, FOAF, RDF, XSD
from loaders.vocabulary_aliases import license_id

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "dcat"
# Every real catalog, as published; two hold an invalid IRI that the harvest repairs (reported).
STRICT = sorted(p.name for p in REAL.glob("*") if p.suffix in (".rdf", ".ttl")) if REAL.is_dir() else []
GRAPH = make_settings().graph_iri("portal")
NUMERIC = {XSD.decimal, XSD.integer, XSD.double, XSD.float, XSD.nonNegativeInteger}

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"shared real data missing: {REAL}")


def signature(quads, node, depth=0):
    """A node's description as nested frozensets, blank nodes by their content (their labels differ).

    Numbers and times by value: the store keeps an xsd:decimal's value, so "60744.0" comes back as "60744".
    """
    if isinstance(node, Literal) and node.datatype in NUMERIC:
        return (str(node.datatype), Decimal(node.value))
    if isinstance(node, Literal) and node.datatype == XSD.dateTime:
        # Likewise a time's fraction of a second: ".728450" comes back as ".72845".
        return (
            str(node.datatype),
            re.sub(r"\.?0+(?=$|Z|[+-]\d\d:)", "", node.value) if "." in node.value else node.value,
        )
    if not isinstance(node, BlankNode) or depth > 3:
        return str(node)
    return frozenset((str(q.predicate), signature(quads, q.object, depth + 1)) for q in quads.get(node, ()))


def by_subject(triples):
    out: dict = {}
    for t in triples:
        out.setdefault(t.subject, []).append(t)
    return out


def description(triples, dataset):
    """(property, value signature) of a dataset and, one level down, of each distribution."""
    index = by_subject(triples)
    own = {
        (str(t.predicate), signature(index, t.object)) for t in index.get(dataset, ()) if t.predicate != DCT.publisher
    }
    for t in index.get(dataset, ()):
        if t.predicate == DCAT.distribution:
            own |= {("distribution", str(d.predicate), signature(index, d.object)) for d in index.get(t.object, ())}
    return own


def harvested_store(path: Path, *, own: bool):
    settings = make_settings()
    store = open_store("memory")
    result = harvest(str(path), graph=GRAPH)
    assert result.ok, [p.message_en for p in result.errors]
    quads = result.graphs[GRAPH] + (own_portal_links(result.graphs[GRAPH], publisher_iri(settings)) if own else [])
    # As `querschnitt load --dcat` writes it: the people a portal names as its datasets' agents are public.
    store.replace_graphs(
        quads,
        visibility={GRAPH: Visibility.PUBLIC},
        source=str(path),
        loader="dcat-harvest",
        checksum="c",
        published_people=True,
    )
    return store, settings


def published(name: str) -> list:
    """The catalog's quads as published, read leniently, with the IRIs the harvest repairs repaired the same way."""
    fmt = RdfFormat.RDF_XML if name.endswith(".rdf") else RdfFormat.TURTLE
    base = (REAL / name).resolve().as_uri()

    def fixed(term):
        if isinstance(term, NamedNode):
            try:
                NamedNode(term.value)
            except ValueError:
                return NamedNode(repair_iri(term.value))
        return term

    def licence(q):
        # Licence spellings are normalised on harvest (dl-by-de/2_0 → dl-by-de/2.0), reported with counts.
        lic = license_id(q.object.value) if q.predicate == DCT.license else None
        return NamedNode(f"http://dcat-ap.de/def/licenses/{lic}") if lic else fixed(q.object)

    return [
        Quad(fixed(q.subject), fixed(q.predicate), licence(q))
        for q in parse(path=str(REAL / name), format=fmt, base_iri=base, lenient=True)
    ]


@pytest.mark.parametrize("name", STRICT)
def test_an_own_portal_is_republished_property_by_property(name):
    source = published(name)
    datasets = sorted({q.subject for q in source if q.predicate == RDF.type and q.object == DCAT.Dataset}, key=str)
    store, settings = harvested_store(REAL / name, own=True)
    catalog = build_catalog(store, settings, page=None).triples
    assert set(catalog_datasets := [t.object for t in catalog if t.predicate == DCAT.dataset]) == set(datasets)
    for dataset in datasets:
        missing = description(source, dataset) - description(catalog, dataset)
        assert missing == set(), f"{dataset}: {sorted(missing)[:5]}"
        publishers = [t.object for t in catalog if t.subject == dataset and t.predicate == DCT.publisher]
        assert publishers == [publisher_iri(settings)]
    assert len(catalog_datasets) == len(datasets)


def test_nothing_is_invented_for_a_harvested_dataset():
    store, settings = harvested_store(REAL / "ckanext-dcat-dataset_multilingual.ttl", own=True)
    catalog = build_catalog(store, settings, page=None).triples
    source = list(parse(path=str(REAL / "ckanext-dcat-dataset_multilingual.ttl"), format=RdfFormat.TURTLE))
    stated = {str(q.predicate) for q in source}
    added = {
        str(t.predicate)
        for t in catalog
        if isinstance(t.subject, NamedNode) and t.subject.value.startswith("http") and str(t.predicate) not in stated
    }
    assert "<http://dcat-ap.de/def/dcatde/politicalGeocodingLevelURI>" not in added
    assert "<http://purl.org/dc/terms/accessRights>" not in added


def test_a_foreign_portal_is_not_republished():
    store, settings = harvested_store(REAL / "ckanext-dcat-dataset_gov_de.rdf", own=False)
    assert own_harvested(store, settings) == []
    assert [t for t in build_catalog(store, settings, page=None).triples if t.predicate == DCAT.dataset] == []


def test_a_publisher_with_the_municipalitys_name_makes_the_datasets_own(tmp_path):
    catalog = tmp_path / "portal.ttl"
    catalog.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        '<https://portal.example/ds/1> a dcat:Dataset ; dct:title "Bäume" ; dct:publisher [ foaf:name "Stadt Musterstadt" ] .\n'
        '<https://portal.example/ds/2> a dcat:Dataset ; dct:title "Straßen" ; dct:publisher [ foaf:name "Land Irgendwo" ] .\n',
        encoding="utf-8",
    )
    store, settings = harvested_store(catalog, own=False)
    assert [d.value for d in own_harvested(store, settings)] == ["https://portal.example/ds/1"]
    assert FOAF.name  # the name is compared without "Stadt", "Hansestadt" …


SHAPES = REAL.parents[1] / "shapes"
VOCAB = REAL.parents[1] / "vocab"


def violations(triples) -> set[tuple]:
    """The DCAT-AP.de errors at named nodes, as (focus, path, message): blank nodes have no stable name."""
    from api.catalog_check import check_catalog

    return {
        # A decimal's value is kept, its lexical form canonicalised ("60744.0" → "60744").
        (p.focus, p.path, re.sub(r'"(\d+)\.0"', r'"\1"', p.message_en))
        for p in check_catalog(triples, SHAPES, VOCAB)
        if p.severity.value == "error" and not p.focus.startswith("[")
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", STRICT)
def test_republishing_adds_no_dcat_ap_de_violation_the_source_did_not_have(name):
    source = published(name)
    store, settings = harvested_store(REAL / name, own=True)
    republished = build_catalog(store, settings, page=None).triples
    datasets = {str(q.subject) for q in source if q.predicate == RDF.type and q.object == DCAT.Dataset}
    added = {v for v in violations(republished) - violations(source) if v[0] in datasets or v[0].count("/") > 3}
    assert added == set()


# --- enrichment: the staff workbook adds department, SDG targets and use to a harvested dataset -----------

ROSTOCK = REAL / "ckanext-dcat-dataset_gov_de.rdf"
ROSTOCK_ID = "c1be4007-d811-48fb-8818-2cb358b06a63"
ROSTOCK_IRI = f"https://www.opendata-hro.de/dataset/{ROSTOCK_ID}"
GOOD = Path(__file__).resolve().parent / "data" / "staff" / "good"


def cli(*args):
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def report(store: Path, name: str) -> set[tuple[str, ...]]:
    import csv
    import io

    rows = csv.DictReader(io.StringIO(cli("query", name, "--format", "csv", "--store", store).stdout))
    return {tuple(v for k, v in row.items() if not k.endswith("label")) for row in rows}


def workbook(tmp_path: Path, *, dataset_row: str = "", uses: str = "") -> Path:
    """The test workbook (folder of CSV files) with one more department and, optionally, an enrichment row."""
    folder = tmp_path / "kleinstadt"
    folder.mkdir(exist_ok=True)
    for source in GOOD.glob("*.csv"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with (folder / "departments.csv").open("a", encoding="utf-8") as out:
        out.write("62;Vermessungs- und Katasteramt;dez-3;;\n")
    if dataset_row:
        with (folder / "datasets.csv").open("a", encoding="utf-8") as out:
            out.write(dataset_row + "\n")
    if uses:
        text = (folder / "projects.csv").read_text(encoding="utf-8")
        (folder / "projects.csv").write_text(
            text.replace(";radverkehrszaehlung;", f';"radverkehrszaehlung; {uses}";'), encoding="utf-8"
        )
    return folder


def test_a_workbook_enriches_a_harvested_dataset_and_the_gap_reports_change(tmp_path):
    store = tmp_path / "store"
    cli("load", workbook(tmp_path), "--name", "kleinstadt", "--store", store)
    cli("load", ROSTOCK, "--dcat", "--own", "--name", "portal", "--store", store)
    unused_before = report(store, "unused-datasets")
    unmeasured_before = report(store, "unmeasured-projects")
    assert not any(ROSTOCK_IRI in row for row in unused_before)

    # By identifier, with the department written as the portal would write it, and SDG targets.
    enrich = f'{ROSTOCK_ID};;;Amt für Vermessung und Kataster;"11.2; 3.6";;;;;;Geodaten;ja;;'
    result = cli("load", workbook(tmp_path, dataset_row=enrich), "--name", "kleinstadt", "--store", store)
    assert "Vermessungs- und Katasteramt" in result.output  # the department taken is named
    unused = report(store, "unused-datasets")
    assert any(ROSTOCK_IRI in row and any(v.endswith("/radweg-nord") for v in row) for row in unused)
    assert len(report(store, "unmeasured-projects")) < len(unmeasured_before)  # 3.6 is measured now

    # The project names the dataset by its landing page: it uses it, so it is no longer unused for it.
    landing = f"https://www.opendata-hro.de/dataset/{ROSTOCK_ID}"
    cli("load", workbook(tmp_path, dataset_row=enrich, uses=landing), "--name", "kleinstadt", "--store", store)
    assert not any(
        ROSTOCK_IRI in row and any(v.endswith("/radweg-nord") for v in row) for row in report(store, "unused-datasets")
    )

    # A re-harvest of the portal keeps the enrichment (it lives in the workbook's graph).
    after = report(store, "unmeasured-projects")
    cli("load", ROSTOCK, "--dcat", "--own", "--name", "portal", "--store", store)
    assert report(store, "unmeasured-projects") == after


def test_a_catalog_with_an_invalid_iri_loads_with_a_warning_naming_dataset_and_property(tmp_path):
    result = cli(
        "load", REAL / "govdata-ckanext-dcatde-metadata_max.rdf", "--dcat", "--name", "hh", "--store", tmp_path / "s"
    )
    assert "hasTelephone" in result.output and "repaired" in result.output and "/dataset/" in result.output


def test_strict_makes_an_invalid_iri_fatal(tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    path = REAL / "govdata-ckanext-dcatde-metadata_max.rdf"
    outcome = CliRunner().invoke(app, ["load", str(path), "--dcat", "--strict", "--store", str(tmp_path / "s")])
    assert outcome.exit_code == 1 and "nothing written" in outcome.output


# -- a harvest sent to a running server (`--server`, Graph Store Protocol) ---------------------------------

HAMBURG = REAL / "govdata-ckanext-dcatde-metadata_max.rdf"
HAMBURG_IRI = "http://mtest6.gd.swe.seitenbau.net:5000/dataset/bd2d4fa6-e9ad-470d-888b-5eb1378d39e9"


def test_a_harvest_an_admin_sends_to_a_server_keeps_the_people_its_portal_published_and_is_republished():
    from api.app import create_app
    from api.testing import ADMIN_TOKEN, LiveServer

    settings = make_settings()
    store = open_store("memory")
    with LiveServer(create_app(settings, store=store)) as server:
        cli("load", HAMBURG, "--dcat", "--own", "--name", "hh", "--server", server.url, "--token", ADMIN_TOKEN)
    [graph] = [g for g in store.graphs() if g.iri == settings.graph_iri("hh")]
    assert (graph.loader, graph.visibility) == ("dcat-harvest", Visibility.PUBLIC)
    names = {r["n"].value for r in store.query(f"SELECT ?n {{ ?p a <{FOAF.Person.value}> ; <{FOAF.name.value}> ?n }}")}
    assert "Peter Schröder" in names  # the maintainer, as the portal published it
    assert [d.value for d in own_harvested(store, settings)] == [HAMBURG_IRI]


def test_an_editor_cannot_put_people_into_a_public_graph_by_calling_the_upload_a_harvest():
    from typer.testing import CliRunner

    from api.app import create_app
    from api.cli import app
    from api.testing import EDITOR_TOKEN, LiveServer

    settings = make_settings()
    store = open_store("memory")
    with LiveServer(create_app(settings, store=store)) as server:
        outcome = CliRunner().invoke(
            app,
            ["load", str(HAMBURG), "--dcat", "--own", "--name", "hh", "--server", server.url, "--token", EDITOR_TOKEN],
        )
    assert outcome.exit_code != 0 and "Peter Schröder" not in outcome.output
    assert all(g.iri != settings.graph_iri("hh") for g in store.graphs())
    assert not list(store.query(f"SELECT ?p {{ ?p a <{FOAF.Person.value}> }}"))


def test_the_graph_store_refuses_a_loader_other_than_a_harvest():
    import httpx

    from api.app import create_app
    from api.testing import EDITOR_TOKEN, LiveServer

    store = open_store("memory")
    with LiveServer(create_app(make_settings(), store=store)) as server:
        answer = httpx.put(
            f"{server.url}/graphs",
            params={"graph": make_settings().graph_iri("x"), "loader": "staff-sheets"},
            content=b"<http://ex/a> <http://ex/p> <http://ex/o> .",
            headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {EDITOR_TOKEN}"},
        )
    assert answer.status_code == 400 and "dcat-harvest" in answer.text
    assert all(g.iri != make_settings().graph_iri("x") for g in store.graphs())
