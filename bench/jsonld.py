"""What compact JSON-LD costs next to pyoxigraph's expanded JSON-LD, in the same run, on the demo.

    python bench/jsonld.py [--runs 7] [--scale 1]

Builds the demo (in memory, with the derived graphs) and times, per document, pyoxigraph's expanded
JSON-LD, the compacted document of api/jsonld.py (what `/catalog` and `/id/` serve) and the streamed
batches (what `/sparql` and `/graphs` write), as medians of `--runs`, and their ratio. Documents: the
whole catalog (`/catalog?full=1`), one project's description, and every public triple as one CONSTRUCT.
Figures go to docs/scaling.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from pyoxigraph import RdfFormat, serialize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyoxigraph import NamedNode  # noqa: E402

from api import jsonld  # noqa: E402
from api.catalog import build_catalog, published_datasets  # noqa: E402
from api.demo import load_demo  # noqa: E402
from api.publishing import describe  # noqa: E402
from api.store import open_store  # noqa: E402
from api.testing import make_settings  # noqa: E402


def median_seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()
    settings = make_settings()
    store = open_store("memory")
    load_demo(store, settings, scale=args.scale)
    documents = {
        "catalog (full)": build_catalog(
            store, settings, page=None, suffix="", datasets=published_datasets(store, settings)
        ).triples,
        "one project": describe(store, NamedNode(settings.base_iri + "project/radverkehrskonzept")),
        "all public triples": list(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")),
    }
    jsonld.compact_document(documents["one project"])  # imports pyld and processes the context once
    print(
        "| document | triples | expanded | compact (document) | compact (streamed) | ratio | bytes expanded → compact |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, triples in documents.items():
        expanded = median_seconds(lambda t=triples: serialize(t, format=RdfFormat.JSON_LD), args.runs)
        compact = median_seconds(lambda t=triples: jsonld.compact_document(t), args.runs)
        streamed = median_seconds(lambda t=triples: jsonld.write_compact(t, io.BytesIO()), args.runs)
        size_expanded = len(serialize(triples, format=RdfFormat.JSON_LD))
        size_compact = len(jsonld.compact_document(triples))
        print(
            f"| {name} | {len(triples):,} | {expanded * 1000:.1f} ms | {compact * 1000:.0f} ms | "
            f"{streamed * 1000:.0f} ms | {compact / expanded:.0f}× | {size_expanded:,} → {size_compact:,} |"
        )


if __name__ == "__main__":
    main()
