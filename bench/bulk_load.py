"""Bulk-load throughput of the embedded store at ~10^6 triples, against raw pyoxigraph in the same run.

    python bench/bulk_load.py [--triples 1000000]

Prints triples/s for: raw `Store.bulk_load` of an N-Quads file (the baseline), Querschnitt's atomic
`replace_graphs` of the same file, replacing it again, and the demo pipeline (generate rows → staff
loader) at the scale that gives about the same number of triples. Then rows/s for a staff workbook
(`--workbook-rows`, XLSX written from the demo): read + validate + map, and the same plus the store write.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import RdfFormat, Store, serialize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.store import Visibility, open_store  # noqa: E402
from loaders import demo, staff  # noqa: E402
from loaders.rdf_files import read_rdf  # noqa: E402

BASE = "https://musterstadt.example/id/"
TRIPLES_PER_SCALE = 4_225  # demo triples at scale 1 (measured), used to pick the scale


def demo_result(scale: int):
    rows = demo.generate_rows(scale=scale)
    return staff.build(
        staff.sheets_from_rows(rows, source="bench"),
        base=BASE,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=BASE + "graph/demo",
        internal_graph=BASE + "graph/demo-internal",
    )


def timed(label: str, triples: int, work) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"{label:<48} {triples:>10,} triples {seconds:7.2f} s {triples / seconds:>12,.0f} triples/s")
    return seconds


def workbook_rows_per_second(workdir: Path, wanted_rows: int) -> None:
    """The staff loader on an XLSX workbook of about `wanted_rows` data rows, as `querschnitt load` runs it."""
    rows_per_copy = sum(len(sheet) for name, sheet in demo.generate_rows(scale=2).items() if name != "strategy") / 2
    rows = demo.generate_rows(scale=max(1, round(wanted_rows / rows_per_copy)))
    count = sum(len(sheet) for sheet in rows.values())
    workbook = workdir / "staff.xlsx"
    staff.write_sheets(rows, workbook)

    def load():
        return staff.load(
            [workbook],
            base=BASE,
            municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
            graph=BASE + "graph/demo",
            internal_graph=BASE + "graph/demo-internal",
        )

    start = time.perf_counter()
    result = load()
    read = time.perf_counter() - start
    assert result.ok, result.errors[:3]
    store = open_store(str(workdir / "workbook"))
    start = time.perf_counter()
    result = load()
    store.replace_graphs(
        (q for quads in result.graphs.values() for q in quads),
        visibility={g: Visibility.INTERNAL if g.endswith("-internal") else Visibility.PUBLIC for g in result.graphs},
        source=str(workbook),
        loader="staff",
        checksum="-",
    )
    total = time.perf_counter() - start
    triples = sum(len(quads) for quads in result.graphs.values())
    print(f"\nworkbook {workbook.stat().st_size / 1e6:.1f} MB, {count:,} rows → {triples:,} triples")
    print(f"{'read + validate + map (XLSX)':<48} {count:>10,} rows    {read:7.2f} s {count / read:>12,.0f} rows/s")
    print(
        f"{'… and write to the store (atomic, on disk)':<48} {count:>10,} rows    {total:7.2f} s {count / total:>12,.0f} rows/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--workbook-rows", type=int, default=10_000, help="data rows of the staff workbook")
    args = parser.parse_args()
    scale = max(1, round(args.triples / TRIPLES_PER_SCALE))
    workdir = Path(tempfile.mkdtemp(prefix="qs-bench-"))
    try:
        start = time.perf_counter()
        result = demo_result(scale)
        build_seconds = time.perf_counter() - start
        quads = [q for graph in result.graphs.values() for q in graph]
        n = len(quads)
        print(
            f"demo scale {scale}: {n:,} triples; generate + staff build {build_seconds:.2f} s ({n / build_seconds:,.0f} triples/s)"
        )
        dump = workdir / "demo.nq"
        with dump.open("wb") as handle:
            serialize(quads, handle, RdfFormat.N_QUADS)
        print(f"N-Quads file {dump.stat().st_size / 1e6:.0f} MB\n")

        baseline = timed(
            "raw pyoxigraph Store.bulk_load (baseline)",
            n,
            lambda: Store(str(workdir / "raw")).bulk_load(path=str(dump), format=RdfFormat.N_QUADS),
        )

        store = open_store(str(workdir / "qs"))

        def load_into_querschnitt() -> None:
            store.replace_graphs(
                read_rdf(dump, graph=BASE + "graph/bench"),
                visibility=Visibility.PUBLIC,
                source="bench",
                loader="bench",
                checksum="-",
            )

        ours = timed("querschnitt replace_graphs (atomic, on disk)", n, load_into_querschnitt)
        reload = timed("querschnitt replace_graphs again (replacing)", n, load_into_querschnitt)
        print(
            f"\nratio atomic load / raw bulk_load: {ours / baseline:.2f}× the time "
            f"(replace of existing graphs: {reload / baseline:.2f}×)"
        )
        workbook_rows_per_second(workdir, args.workbook_rows)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
