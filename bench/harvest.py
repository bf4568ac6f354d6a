"""Harvesting a large real-shaped DCAT catalog, against the raw pyoxigraph parse of the same file in the same run.

    python bench/harvest.py [--datasets 5000] [--source ../shared/data/real/dcat/ckanext-dcat-dataset_gov_de.rdf]

The catalog is made from a real published dataset (by default Rostock's, as ckanext-dcat serves it): its
dataset, distributions and blank nodes copied `--datasets` times under new IRIs, written as one RDF/XML
file. Each step runs in a fresh process, so peak memory (max RSS) is the step's own:
- raw: `pyoxigraph.parse` of the file, quads counted (the floor);
- harvest: `loaders.dcat.harvest` of the file (what `querschnitt load --dcat` reads and checks);
- load: `querschnitt load FILE --dcat --own` into a new on-disk store (harvest + atomic write + metadata).
Prints datasets/s, seconds, peak MB and each step's ratio to the raw parse.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, parse, serialize

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "real" / "dcat" / "ckanext-dcat-dataset_gov_de.rdf"
DCAT_DATASET = NamedNode("http://www.w3.org/ns/dcat#Dataset")
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

STEP = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
path, step, store = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if step == "raw":
    from pyoxigraph import RdfFormat, parse
    n = sum(1 for _ in parse(path=path, format=RdfFormat.RDF_XML))
elif step == "harvest":
    from loaders.dcat import harvest
    result = harvest(path, graph="https://musterstadt.example/id/graph/portal")
    assert result.ok, [p.message_en for p in result.problems][:3]
    n = result.counts["datasets"]
else:
    from typer.testing import CliRunner
    from api.cli import app
    outcome = CliRunner().invoke(app, ["load", path, "--dcat", "--own", "--name", "portal", "--store", store])
    assert outcome.exit_code == 0, outcome.output[-2000:]
    n = 0
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "count": n, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def make_catalog(source: Path, copies: int, target: Path) -> int:
    """`copies` renamed copies of the source's datasets (and everything else it says) as one RDF/XML file."""
    quads = list(parse(path=str(source), format=RdfFormat.RDF_XML if source.suffix == ".rdf" else RdfFormat.TURTLE))
    datasets = {q.subject.value for q in quads if q.predicate == RDF_TYPE and q.object == DCAT_DATASET}

    def renamed(term, n: int):
        if isinstance(term, NamedNode) and any(term.value.startswith(d) for d in datasets):
            return NamedNode(f"{term.value}-copy{n}")
        if isinstance(term, BlankNode):
            return BlankNode(f"{term.value}c{n}")
        return term

    def copied():
        for n in range(copies):
            for q in quads:
                yield Quad(renamed(q.subject, n), q.predicate, renamed(q.object, n))

    with target.open("wb") as out:
        serialize(copied(), out, RdfFormat.RDF_XML)
    return copies * len(datasets)


def run_step(path: Path, step: str, store: Path) -> dict:
    code = STEP.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), step, str(store)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=5000)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        catalog = Path(directory) / "catalog.rdf"
        datasets = make_catalog(args.source, args.datasets, catalog)
        print(
            f"catalog: {datasets:,} datasets, {catalog.stat().st_size / 1e6:.1f} MB RDF/XML (from {args.source.name})"
        )
        raw = run_step(catalog, "raw", Path(directory) / "unused")
        print(f"{'step':<10} {'seconds':>8} {'datasets/s':>11} {'peak MB':>8} {'× raw time':>10} {'× raw MB':>9}")
        for step in ("raw", "harvest", "load"):
            figures = raw if step == "raw" else run_step(catalog, step, Path(directory) / f"store-{time.time_ns()}")
            print(
                f"{step:<10} {figures['seconds']:>8.2f} {datasets / figures['seconds']:>11,.0f} "
                f"{figures['peak_mb']:>8.0f} {figures['seconds'] / raw['seconds']:>10.1f} "
                f"{figures['peak_mb'] / raw['peak_mb']:>9.1f}"
            )


if __name__ == "__main__":
    main()
