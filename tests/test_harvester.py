"""A real harvester reads the catalog: ckanext-dcat's RDFParser (what GovData's CKAN runs) over a live server.

ckanext-dcat needs CKAN, whose pins must not decide our versions, so it lives in its own virtual
environment (`.ci/ckan.sh` installs it into `.venv-ckan`, or where QUERSCHNITT_CKAN_VENV points). The
test runs that environment's Python on a small harvesting script: it fetches every page over HTTP,
parses each with a fresh `RDFParser`, follows `next_page()` and prints the CKAN dataset dicts as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import loaders.demo
import loaders.sdg
import loaders.staff
from api.app import create_app
from api.demo import load_demo
from api.publishing import router
from api.store import EmbeddedStore, open_store
from api.testing import LiveServer, make_settings

ROOT = Path(__file__).resolve().parents[1]
CKAN_VENV = Path(os.environ.get("QUERSCHNITT_CKAN_VENV") or ROOT / ".venv-ckan")
CKAN_PYTHON = CKAN_VENV / "bin" / "python"
PAGE_SIZE = 20
pytestmark = pytest.mark.skipif(
    not CKAN_PYTHON.is_file(), reason=f"ckanext-dcat environment missing at {CKAN_VENV}: run .ci/ckan.sh"
)

HARVEST = r"""
import json, sys, urllib.request
from ckanext.dcat.processors import RDFParser

url, rdflib_format = sys.argv[1], sys.argv[2]
pages, datasets = [], []
while url:
    if url in pages or len(pages) >= 1000:
        sys.exit(f"paging loops or never ends at {url}")
    pages.append(url)
    with urllib.request.urlopen(url, timeout=60) as response:
        text = response.read().decode("utf-8")
    parser = RDFParser()
    parser.parse(text, _format=rdflib_format)
    datasets.extend(parser.datasets())
    url = parser.next_page()
json.dump({"pages": pages, "datasets": datasets}, sys.stdout)
"""


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = open_store("memory")
    load_demo(store, make_settings())
    return store


@pytest.fixture(scope="module")
def server(store: EmbeddedStore) -> Iterator[LiveServer]:
    app = create_app(make_settings(catalog_page_size=PAGE_SIZE), store=store)
    if not any(getattr(route, "path", None) == "/catalog" for route in app.routes):
        app.include_router(router)
    live = LiveServer(app)
    # Links are built from the public URL, which is only known once the port is.
    app.state.settings = app.state.settings.model_copy(update={"public_url": live.url})
    with live:
        yield live


def expected_datasets(store: EmbeddedStore) -> dict[str, dict]:
    """What the staff loader put in the public graphs, per dataset IRI (read without the catalog code)."""
    rows = store.query(
        """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
           SELECT ?d ?title ?description ?theme ?x ?access ?download ?format ?license {
             ?d a dcat:Dataset ; dct:title ?title ; dct:description ?description ; dcat:theme ?theme ;
                dcat:distribution ?x .
             ?x dcat:accessURL ?access ; dct:format ?format ; dct:license ?license
             OPTIONAL { ?x dcat:downloadURL ?download } }"""
    )
    expected: dict[str, dict] = {}
    for row in rows:
        entry = expected.setdefault(
            row["d"].value,
            {"title": row["title"].value, "notes": row["description"].value, "themes": set(), "resources": {}},
        )
        entry["themes"].add(row["theme"].value)
        entry["resources"][row["x"].value] = {
            "access_url": row["access"].value,
            "download_url": row["download"].value if row["download"] else None,
            "format": row["format"].value,
            "license": row["license"].value,
        }
    return expected


@pytest.fixture(scope="module")
def harvest(server: LiveServer, tmp_path_factory: pytest.TempPathFactory):
    """Run the harvesting script from `/catalog.{suffix}`; each format is harvested once per module."""
    script = tmp_path_factory.mktemp("ckan") / "harvest.py"
    script.write_text(HARVEST, encoding="utf-8")
    results: dict[str, dict] = {}

    def run(suffix: str, rdflib_format: str) -> dict:
        if suffix not in results:
            done = subprocess.run(
                [str(CKAN_PYTHON), str(script), f"{server.url}/catalog.{suffix}", rdflib_format],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            results[suffix] = json.loads(done.stdout)
        return results[suffix]

    return run


def extras(dataset: dict) -> dict[str, str]:
    return {e["key"]: e["value"] for e in dataset.get("extras", [])}


@pytest.mark.slow
@pytest.mark.parametrize(("suffix", "rdflib_format"), [("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld")])
def test_ckanext_dcat_recovers_every_public_dataset_from_every_page(harvest, server, store, suffix, rdflib_format):
    result = harvest(suffix, rdflib_format)
    expected = expected_datasets(store)
    assert len(result["pages"]) == -(-len(expected) // PAGE_SIZE)
    assert all(page.startswith(f"{server.url}/catalog.{suffix}") for page in result["pages"])
    harvested = {extras(d)["uri"]: d for d in result["datasets"]}
    assert len(result["datasets"]) == len(harvested) == len(expected)
    assert harvested.keys() == expected.keys()
    for iri, want in expected.items():
        got, more = harvested[iri], extras(harvested[iri])
        assert (got["title"], got["notes"]) == (want["title"], want["notes"])
        assert more["publisher_name"] == loaders.demo.MUSTERSTADT_NAME
        assert set(json.loads(more["theme"])) == want["themes"]
        resources = {r["uri"]: r for r in got["resources"]}
        assert resources.keys() == want["resources"].keys()
        for uri, resource in want["resources"].items():
            assert {k: resources[uri].get(k) for k in resource} == resource
            assert resources[uri]["url"] == (resource["download_url"] or resource["access_url"])


@pytest.mark.slow
def test_ckanext_dcat_sees_sdg_keywords_creator_and_contact(harvest):
    result = harvest("ttl", "turtle")
    by_uri = {extras(d)["uri"]: d for d in result["datasets"]}
    radwege = by_uri[f"{make_settings().base_iri}dataset/radwegenetz"]
    more = extras(radwege)
    assert "SDG 11.2" in {t["name"] for t in radwege["tags"]}
    assert more["creator_name"] == "Tiefbauamt"
    assert more["contact_email"] == "tiefbauamt@musterstadt.example"
    assert more["spatial_uri"].endswith(loaders.demo.MUSTERSTADT_KEY)
