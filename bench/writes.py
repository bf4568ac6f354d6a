"""Write latency of a small workbook's replace on a big store: incremental refresh against the full one.

    python bench/writes.py STORE [STORE ...] [--runs 5] [--scale 1] [--keep]

Each STORE is an on-disk store with the derived graphs (e.g. made by bench/gaps.py --workdir, or
`querschnitt demo --scale 20`); it is copied first and never written. Into the copy goes a small source
of its own (the demo at scale 1 under another base IRI: 60 projects, 100 datasets, ~4,000 quads), then it
is replaced, alternately with one project's title and partners changed and back, as a staff member who
corrects a workbook would. Each replace is timed with the refresh the store picks (incremental) and with
the full refresh (as every write did before); and, as the baseline of the same run, the write with no
derived graphs at all. After the runs, the derived graphs the incremental refresh left are compared with
a full refresh's. Prints the p50 of each and their ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from api import derived  # noqa: E402
from api.store import EmbeddedStore, Visibility  # noqa: E402
from loaders import demo, staff  # noqa: E402

BASE = "https://ortsteil.example/id/"
GRAPHS = {f"{BASE}graph/workbook": Visibility.PUBLIC, f"{BASE}graph/workbook-internal": Visibility.INTERNAL}


def workbook(changed: bool, scale: int = 1) -> list:
    """The small source's quads; `changed`: its first project renamed and with other partners."""
    rows = demo.generate_rows(seed=7, scale=scale)
    if changed:
        project = rows["projects"][0]
        project["title"] += " (überarbeitet)"
        others = [d["id"] for d in rows["departments"] if d["id"] != project["lead_department"]]
        project["partner_departments"] = ";".join(others[:2])
    result = staff.build(
        staff.sheets_from_rows(rows, source="bench workbook"),
        base=BASE,
        municipality=staff.Municipality("Ortsteil", "01001001"),
        graph=f"{BASE}graph/workbook",
        internal_graph=f"{BASE}graph/workbook-internal",
    )
    assert result.ok, result.errors
    return [q for quads in result.graphs.values() for q in quads]


def replace(store: EmbeddedStore, quads: list) -> float:
    start = time.perf_counter()
    store.replace_graphs(iter(quads), visibility=GRAPHS, source="bench workbook", loader="bench", checksum="-")
    return time.perf_counter() - start


def derived_content(store: EmbeddedStore) -> set[str]:
    return {
        str(q) for graph in derived.DERIVED_GRAPHS for q in store._oxigraph.quads_for_pattern(None, None, None, graph)
    }


def measure(original: Path, runs: int, keep: bool, scale: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="qs-writes-"))
    copy = workdir / "store"
    try:
        shutil.copytree(original, copy)
        store = EmbeddedStore(copy)
        derived.install(store)
        versions = [workbook(changed=False, scale=scale), workbook(changed=True, scale=scale)]
        replace(store, versions[0])  # the small source is there before the runs
        incremental, full, bare = [], [], []
        installed = list(store.derived_updates), store.incremental_refresh
        for run in range(runs):
            incremental.append(replace(store, versions[(run + 1) % 2]))
            store.incremental_refresh = None
            full.append(replace(store, versions[run % 2]))
            store.derived_updates = []
            bare.append(replace(store, versions[(run + 1) % 2]))
            store.derived_updates, store.incremental_refresh = list(installed[0]), installed[1]
            # Brings the derived graphs back to the sources after the bare write.
            replace(store, versions[run % 2])
        incremental.append(replace(store, versions[(runs + 1) % 2]))
        left = derived_content(store)
        store.update("CLEAR SILENT GRAPH <urn:querschnitt:bench:nothing>")  # the full refresh
        same = "same derived graphs" if derived_content(store) == left else "DIFFERENT derived graphs"
        p50 = {name: statistics.median(times) for name, times in (("inc", incremental), ("full", full), ("bare", bare))}
        print(
            f"{original.name}: {len(store):,} quads; workbook of {len(versions[0]):,} quads, replace p50 over {runs} runs: "
            f"no derived graphs {p50['bare'] * 1000:,.0f} ms (1×), "
            f"full refresh {p50['full'] * 1000:,.0f} ms ({p50['full'] / p50['bare']:.1f}×), "
            f"incremental {p50['inc'] * 1000:,.0f} ms ({p50['inc'] / p50['bare']:.1f}×; "
            f"{p50['full'] / p50['inc']:.1f}× faster than full); {same}",
            flush=True,
        )
        store.flush()
    finally:
        if keep:
            print(f"kept {copy}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the written copies")
    parser.add_argument("--scale", type=int, default=1, help="the workbook's demo scale (1: ~4,000 quads)")
    args = parser.parse_args()
    for original in args.stores:
        measure(original, args.runs, args.keep, args.scale)


if __name__ == "__main__":
    main()
