"""Search latency and index build time on the ~10^6-triple demo.

    python bench/search.py [--scale 237] [--store PATH] [--repeat 30]

Builds the demo (staff loader + SDG taxonomy) in a temporary on-disk store, or opens an existing
store read-only with `--store` (e.g. one made by `querschnitt demo --store PATH --scale 237`), then
prints the full index build time and p50/p95 latency of a mix of searches and suggestions, for
anonymous and staff callers, as a table. Wall-clock time is what a caller waits; CPU time is printed
beside it because on a busy shared machine the wall clock also measures the other processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import NamedNode, Quad

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.search import SearchIndex  # noqa: E402
from api.store import EmbeddedStore, Visibility, open_store  # noqa: E402
from loaders import demo, sdg, staff  # noqa: E402

BASE = "https://musterstadt.example/id/"
# (label, keyword arguments of SearchIndex.search), each run as anonymous and as staff.
SEARCHES: list[tuple[str, dict]] = [
    ("Radweg", {"q": "Radweg"}),
    ("Strasse", {"q": "Strasse"}),
    ("Mobilität", {"q": "Mobilität"}),
    ("11.2", {"q": "11.2"}),
    ("Klimaschutz Bauamt", {"q": "Klimaschutz Bauamt"}),
    ("Musterstadt (matches most datasets)", {"q": "Musterstadt"}),
    ("Wärme, type=project", {"q": "Wärme", "types": ["project"]}),
    ("Verkehr, goal=11", {"q": "Verkehr", "goal": "11"}),
    ("Daten, department=tiefbauamt", {"q": "Daten", "department": "tiefbauamt"}),
    ("Radverkehr Lindenhof, offset=20", {"q": "Radverkehr Lindenhof", "offset": 20}),
    ("Zebrastreifen (no hit)", {"q": "Zebrastreifen"}),
]
SUGGESTIONS = ["R", "Rad", "Klimas", "11."]


def load_demo(scale: int, path: Path) -> EmbeddedStore:
    """A store at `path` with the demo at `scale` and the SDG taxonomy."""
    rows = demo.generate_rows(scale=scale)
    public, internal = BASE + "graph/demo", BASE + "graph/demo-internal"
    result = staff.build(
        staff.sheets_from_rows(rows, source="bench"),
        base=BASE,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=public,
        internal_graph=internal,
    )
    store = open_store(str(path))
    store.replace_graphs(
        (Quad(q.subject, q.predicate, q.object, NamedNode(g)) for g, quads in result.graphs.items() for q in quads),
        visibility={public: Visibility.PUBLIC, internal: Visibility.INTERNAL},
        source="bench",
        loader="demo",
        checksum="sha256:bench",
    )
    store.replace_graphs(
        sdg.taxonomy_quads(NamedNode(BASE + "graph/sdg")),
        visibility={BASE + "graph/sdg": Visibility.PUBLIC},
        source="bench",
        loader="sdg",
        checksum="sha256:sdg",
    )
    return store


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(work, repeat: int) -> tuple[list[float], object]:
    """Wall and CPU p50 and p95 of `work()` in ms over `repeat` runs after one warm-up, and its last result."""
    result = work()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return [statistics.median(wall), percentile(wall, 0.95), statistics.median(cpu), percentile(cpu, 0.95)], result


def timed_build(index: SearchIndex) -> str:
    """One full rebuild: wall-clock and CPU seconds."""
    start_cpu = time.process_time()
    wall = index.rebuild()
    return f"{wall:.2f} s ({time.process_time() - start_cpu:.2f} s CPU)"


def row(label: str, caller: str, hits: int, figures: list[float]) -> str:
    return f"{label:<40} {caller:<9} {hits:>6} " + " ".join(f"{f:8.1f}" for f in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=237, help="demo scale; 237 gives about 10^6 triples")
    parser.add_argument("--store", type=Path, help="open this store read-only instead of building the demo")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    workdir = None
    if args.store is not None:
        store = open_store(str(args.store), read_only=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="qs-bench-search-"))
        start = time.perf_counter()
        store = load_demo(args.scale, workdir / "store")
        print(f"demo scale {args.scale} loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    index = SearchIndex(store)
    try:
        print(f"store: {len(store):,} quads; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"index build (full rebuild, 3 runs): {', '.join(timed_build(index) for _ in range(3))}\n")
        print(f"{'operation':<40} {'caller':<9} {'hits':>6} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'CPU p95':>8}")
        searches: list[list[float]] = []
        for label, kwargs in SEARCHES:
            for staff_caller in (False, True):
                figures, result = measure(
                    lambda kwargs=kwargs, s=staff_caller: index.search(include_internal=s, **kwargs), args.repeat
                )
                searches.append(figures)
                print(row(label, "staff" if staff_caller else "anonymous", result.total, figures))
        for prefix in SUGGESTIONS:
            figures, result = measure(lambda p=prefix: index.suggest(p, include_internal=False), args.repeat)
            print(row(f"suggest {prefix!r}", "anonymous", len(result.suggestions), figures))
        worst_wall, worst_cpu = max(f[1] for f in searches), max(f[3] for f in searches)
        print(f"\nworst p95 of the searches: {worst_wall:.1f} ms wall-clock, {worst_cpu:.1f} ms CPU")
    finally:
        index.close()
        if workdir is not None:
            del store
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
