"""Embedded Oxigraph vs Virtuoso on the same demo data: loading time and a few query times.

    python bench/backends.py            # ~10^5 triples
    python bench/backends.py --full     # also ~10^6 triples
    python bench/backends.py --gaps     # also the gap queries of queries/ (with the SDG taxonomy)

Starts a throw-away Virtuoso on loopback (tests/virtuoso.py; install it with `bash .ci/virtuoso.sh`).
For each size: the demo pipeline's quads (generate rows → staff loader) are loaded with the store
interface's atomic `replace_graphs` into an on-disk embedded store and into Virtuoso (Graph Store
Protocol upload into a staging graph + the journaled swap), then reloaded (replacing the graphs), then
each query runs 3 times per backend (median; anonymous caller, so the dataset restriction is included).
Answers are compared by digest. With `--gaps`, both stores also get the built-in SDG taxonomy and the
derived "works on" graphs (api/derived.py, refreshed in each load), and every named query of
`queries/` runs with its example parameters (who-works-on) or none. Figures go to docs/scaling.md.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import BlankNode, QuerySolutions
from pyoxigraph import NamedNode as NamedNodeTerm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import derived  # noqa: E402
from api.named_queries import QueryRegistry  # noqa: E402
from api.store import EmbeddedStore, StoreError, Visibility  # noqa: E402
from api.store.remote import RemoteStore  # noqa: E402
from loaders import demo, staff  # noqa: E402
from loaders.sdg import taxonomy_quads  # noqa: E402

BASE = "https://musterstadt.example/id/"
TRIPLES_PER_SCALE = 4_225  # demo triples at scale 1 (bench/bulk_load.py)
QUERY_TIMEOUT = 120.0  # s, on the remote store (the embedded one cannot be stopped)
GRAPHS = {BASE + "graph/demo": Visibility.PUBLIC, BASE + "graph/demo-internal": Visibility.INTERNAL}

QUERIES = {
    "ASK (round trip)": "ASK { ?s ?p ?o }",
    "LIMIT 10": "SELECT * { ?s ?p ?o } LIMIT 10",
    "count per class": "SELECT ?c (COUNT(*) AS ?n) { ?s a ?c } GROUP BY ?c",
    "projects per SDG target": "PREFIX dct: <http://purl.org/dc/terms/> PREFIX qs: <https://w3id.org/querschnitt/def#> "
    "SELECT ?target (COUNT(DISTINCT ?p) AS ?n) { ?p a qs:Project ; dct:subject ?target } GROUP BY ?target",
    "department x target matrix": "PREFIX dct: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#> "
    "PREFIX qs: <https://w3id.org/querschnitt/def#> "
    "SELECT ?dept ?target (COUNT(DISTINCT ?p) AS ?n) { ?p a qs:Project ; prov:wasAssociatedWith ?dept ; "
    "dct:subject ?target } GROUP BY ?dept ?target",
    "departments sharing no project": "PREFIX dct: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#> "
    "PREFIX qs: <https://w3id.org/querschnitt/def#> "
    "SELECT (COUNT(*) AS ?n) { { SELECT DISTINCT ?a ?t { ?p a qs:Project ; prov:wasAssociatedWith ?a ; dct:subject ?t } } "
    "{ SELECT DISTINCT ?b ?t { ?q a qs:Project ; prov:wasAssociatedWith ?b ; dct:subject ?t } } "
    "FILTER(STR(?a) < STR(?b)) MINUS { ?r prov:wasAssociatedWith ?a , ?b } }",
    "text search 'rad'": "PREFIX dct: <http://purl.org/dc/terms/> "
    "SELECT ?s ?t { ?s dct:title ?t FILTER(CONTAINS(LCASE(STR(?t)), 'rad')) }",
}


def _virtuoso_helper():
    spec = importlib.util.spec_from_file_location("querschnitt_tests_virtuoso", ROOT / "tests" / "virtuoso.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def demo_quads(triples: int) -> list:
    scale = max(1, round(triples / TRIPLES_PER_SCALE))
    result = staff.build(
        staff.sheets_from_rows(demo.generate_rows(scale=scale), source="bench"),
        base=BASE,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=BASE + "graph/demo",
        internal_graph=BASE + "graph/demo-internal",
    )
    return [q for graph in result.graphs.values() for q in graph]


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def load(store, quads) -> float:
    return timed(lambda: store.replace_graphs(quads, visibility=GRAPHS, source="bench", loader="bench", checksum="-"))


def gap_queries() -> dict[str, tuple[str, dict]]:
    """The named queries of queries/, each with its example parameters where one is required."""
    registry = QueryRegistry()
    chosen = {}
    for query in registry:
        values = {p.name: p.example for p in query.parameters if p.required}
        chosen[f"{query.name}" + "".join(f" {k}={v}" for k, v in values.items())] = (query.sparql, query.bind(values))
    return chosen


def install_taxonomy(store) -> None:
    sdg = BASE + "graph/sdg"
    store.replace_graph(
        sdg, taxonomy_quads(NamedNodeTerm(sdg)), visibility=Visibility.PUBLIC, source="sdg", loader="sdg", checksum="-"
    )


def run_queries(store, runs: int, queries: dict) -> dict[str, tuple[float | None, str, int]]:
    """Median time of `runs` runs (answer read completely and digested), the digest and the row count."""
    out: dict[str, tuple[float | None, str, int]] = {}
    for name, (query, substitutions) in queries.items():
        times = []
        answer, rows = "", 0
        try:
            for _ in range(runs):
                start = time.perf_counter()
                if isinstance(store, RemoteStore):
                    result = store.query(query, substitutions=substitutions, timeout=QUERY_TIMEOUT)
                else:
                    result = store.query(query, substitutions=substitutions)
                if isinstance(result, QuerySolutions):
                    materialized = list(result)
                    rows = len(materialized)
                    answer = _digest_rows([v.value for v in result.variables], materialized)
                else:
                    answer, rows = str(bool(result)), 1
                times.append(time.perf_counter() - start)
            out[name] = (statistics.median(times), answer, rows)
        except StoreError as error:
            print(f"  {name}: {type(error).__name__}: {str(error)[:100]}")
            out[name] = (None, type(error).__name__, 0)
    return out


def _digest_rows(variables: list[str], rows: list) -> str:
    lines = sorted(
        "\t".join("" if row[v] is None else ("_:" if isinstance(row[v], BlankNode) else str(row[v])) for v in variables)
        for row in rows
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def _ms(seconds: float | None) -> str:
    return f"{'timeout':>11}" if seconds is None else f"{seconds * 1000:>8.1f} ms"


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also measure ~10^6 triples")
    parser.add_argument("--only", choices=["oxigraph", "virtuoso"], help="measure one backend")
    parser.add_argument("--no-replace", action="store_true", help="skip the second load (replacing the graphs)")
    parser.add_argument("--gaps", action="store_true", help="also the named gap queries (SDG taxonomy + derived)")
    args = parser.parse_args()
    queries = {name: (text, None) for name, text in QUERIES.items()}
    if args.gaps:
        queries.update(gap_queries())
    helper = _virtuoso_helper()
    sizes = [100_000, 1_000_000] if args.full else [100_000]
    workdir = Path(tempfile.mkdtemp(prefix="qs-backends-"))
    server = helper.Virtuoso.start(buffers=340_000)  # ≈ 2.7 GB of cache, as for a 4 GB server
    try:
        for size in sizes:
            start = time.perf_counter()
            quads = demo_quads(size)
            print(f"\n== {len(quads):,} demo triples (built in {time.perf_counter() - start:.1f} s)")
            embedded = EmbeddedStore(workdir / f"oxigraph-{size}")
            remote = RemoteStore(
                server.sparql_url,
                update_url=server.update_url,
                gsp_url=server.gsp_url,
                user="dba",
                password="dba",
                query_timeout=300,
            )
            backends = [("oxigraph", "embedded Oxigraph (disk)", embedded), ("virtuoso", "Virtuoso 7.2 (GSP)", remote)]
            for key, label, store in backends:
                if args.only not in (None, key):
                    continue
                if args.gaps:
                    derived.install(store)
                    install_taxonomy(store)
                first = load(store, quads)
                again = first if args.no_replace else load(store, quads)
                print(
                    f"{label:<26} load {first:6.2f} s ({len(quads) / first:>9,.0f} triples/s)   "
                    f"replace {again:6.2f} s ({len(quads) / again:>9,.0f} triples/s)"
                )
            print(
                f"on disk: Oxigraph {_size(workdir / f'oxigraph-{size}') / 1e6:,.0f} MB, "
                f"Virtuoso database {_size(server.directory) / 1e6:,.0f} MB (all loads so far, not compacted)"
            )
            runs = 3 if size < 500_000 else 1
            if args.only is not None:
                chosen = remote if args.only == "virtuoso" else embedded
                for name, (seconds, _, rows) in run_queries(chosen, runs, queries).items():
                    print(f"{name:<30} {_ms(seconds)} {rows:>5} rows")
                continue
            a, b = run_queries(embedded, runs, queries), run_queries(remote, runs, queries)
            print(f"{f'query (anonymous, median of {runs})':<30} {'Oxigraph':>11} {'Virtuoso':>11}  rows  same answer")
            for name in queries:
                (ta, da, ra), (tb, db, _) = a[name], b[name]
                print(
                    f"{name:<30} {_ms(ta)} {_ms(tb)} {ra:>5}  {'n/a (any 10)' if 'LIMIT' in name else ('yes' if da == db else 'NO')}"
                )
            for graph in (*GRAPHS, BASE + "graph/sdg"):
                remote.drop_graph(graph)
            remote.close()
            embedded.flush()
            del embedded
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
