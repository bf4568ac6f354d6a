"""Latency of the gap queries (queries/*.rq) on the on-disk demo, next to their straightforward formulation.

    python bench/gaps.py [--quick] [--staff] [--cap 60] [--runs 7] [--workdir DIR]

Builds the demo at ~10^5 triples (scale 20) and ~10^6 (scale 237; `--quick` skips it) into an on-disk
store through the staff loader, with the SDG taxonomy and the derived graphs of `api/derived.py`.
For each case it times the named query and its plain definition in queries/definitions/ on the
same store, each run in a worker process that is killed after `--cap` seconds (pyoxigraph cannot
cancel a query). Per query: p50/p95 of the first 10 001 rows (what the API computes for its default
cap of 10 000 rows) and of the complete result, the row count, the ratio of the p50s and whether both
give the same rows (an order-independent digest of every row). Ends with a markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyoxigraph import NamedNode  # noqa: E402

from api import derived  # noqa: E402
from api.named_queries import QueryRegistry  # noqa: E402
from api.sparql_binding import bind_text  # noqa: E402
from api.store import EmbeddedStore, Visibility  # noqa: E402
from loaders import demo, staff  # noqa: E402
from loaders.sdg import taxonomy_quads  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "queries/definitions"
BASE = "https://musterstadt.example/id/"
SCALES = {"10^5": 20, "10^6": 237}
PAGE = 10_001  # the API's default max_rows (10 000) + 1: what it evaluates before it answers
CASES: list[tuple[str, dict[str, str]]] = [
    ("missing-bridges", {}),
    ("missing-bridges", {"department": f"{BASE}department/tiefbauamt"}),
    ("missing-bridges-summary", {}),
    ("missing-bridges-summary", {"department": f"{BASE}department/tiefbauamt"}),
    ("unused-datasets", {}),
    ("unused-datasets", {"department": f"{BASE}department/umweltamt"}),
    ("unmeasured-projects", {}),
    ("blind-spots", {}),
    ("silo-departments", {}),
    ("coverage-matrix", {}),
    ("who-works-on", {"sdg": "11.2"}),
    ("who-works-on", {"sdg": "11"}),
]


# --- the worker: one query, several runs, one JSON line per run ----------------------------------


def worker(store_path: str, query_file: str, params_json: str, staff_caller: str, mode: str, runs: str) -> None:
    """Run a query `runs` times and print {"seconds", "rows"[, "digest"]} per run as it finishes."""
    store = EmbeddedStore(store_path)
    name = Path(query_file).stem
    # Values bound as the API binds them (api/sparql_binding.py): written into the text.
    sparql = bind_text(
        Path(query_file).read_text(encoding="utf-8"), QueryRegistry()[name].bind(json.loads(params_json))
    )
    for _ in range(int(runs)):
        start = time.perf_counter()
        result = store.query(sparql, include_internal=staff_caller == "staff")
        names = [v.value for v in result.variables]
        rows, digest = 0, 0
        for row in result:
            rows += 1
            if mode == "digest":
                # An order-independent digest: the sum of the rows' hashes.
                text = "\t".join(str(row[n]) if row[n] is not None else "" for n in names)
                digest += int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            elif mode == "page" and rows >= PAGE:
                break
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "rows": rows, "digest": digest % (1 << 64)}), flush=True)


class Timed:
    """The runs of one query in one mode; `over` when a run hit the cap."""

    def __init__(self, seconds: list[float], rows: int | None, digest: int | None, over: bool):
        self.seconds, self.rows, self.digest, self.over = seconds, rows, digest, over

    @property
    def p50(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and not self.over else None

    @property
    def p95(self) -> float | None:
        if not self.seconds or self.over:
            return None
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(
    store: Path, query_file: Path, params: dict, *, staff_caller: bool, mode: str, runs: int, cap: float
) -> Timed:
    """Run the worker; stop it when a run takes longer than `cap` seconds."""
    command = [sys.executable, __file__, "--worker", str(store), str(query_file), json.dumps(params)]
    command += ["staff" if staff_caller else "anonymous", mode, str(runs)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    seconds: list[float] = []
    rows = digest = None
    over = False
    deadline = time.monotonic() + cap + 10  # process start and store opening
    try:
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        while len(seconds) < runs:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                over = True
                break
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the worker for {query_file.name} failed (exit {process.wait()})")
            answer = json.loads(line)
            seconds.append(answer["seconds"])
            rows, digest = answer["rows"], answer["digest"]
            if answer["seconds"] > cap:
                over = True
                break
            deadline = time.monotonic() + cap
    finally:
        process.kill()
        process.wait()
    return Timed(seconds, rows, digest, over)


# --- building the stores ---------------------------------------------------------------------------


def build(path: Path, scale: int) -> dict[str, float]:
    """The demo at `scale` on disk, with the taxonomy and the derived graphs; returns timings."""
    start = time.perf_counter()
    rows = demo.generate_rows(scale=scale)
    result = staff.build(
        staff.sheets_from_rows(rows, source=f"bench scale {scale}"),
        base=BASE,
        municipality=staff.Municipality(demo.MUSTERSTADT_NAME, demo.MUSTERSTADT_KEY),
        graph=f"{BASE}graph/demo",
        internal_graph=f"{BASE}graph/demo-internal",
    )
    generated = time.perf_counter() - start
    store = EmbeddedStore(path)
    derived.install(store)
    sdg = f"{BASE}graph/sdg"
    store.replace_graph(
        sdg, taxonomy_quads(NamedNode(sdg)), visibility=Visibility.PUBLIC, source="sdg", loader="sdg", checksum="-"
    )
    start = time.perf_counter()
    store.replace_graphs(
        (q for quads in result.graphs.values() for q in quads),
        visibility={g: Visibility.INTERNAL if g.endswith("-internal") else Visibility.PUBLIC for g in result.graphs},
        source=f"demo scale {scale}",
        loader="bench",
        checksum="-",
    )
    loaded = time.perf_counter() - start
    store.flush()
    return {"generate": generated, "load": loaded}


def refresh_cost(path: Path) -> tuple[int, float]:
    """Quads in the store, and the p50 of a write that changes nothing: the refresh of the derived graphs."""
    store = EmbeddedStore(path)
    derived.install(store)
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        store.update("CLEAR SILENT GRAPH <urn:querschnitt:bench:nothing>")
        seconds.append(time.perf_counter() - start)
    quads = len(store)
    store.flush()
    return quads, statistics.median(seconds)


# --- output ----------------------------------------------------------------------------------------


def ms(value: float | None, over: bool = False, cap: float = 0) -> str:
    if over:
        return f"> {cap:g} s"
    if value is None:
        return "–"
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def params_text(params: dict[str, str]) -> str:
    return ", ".join(f"{k}={v.rsplit('/', 1)[-1]}" for k, v in params.items()) or "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only ~10^5 triples")
    parser.add_argument("--staff", action="store_true", help="query as staff (internal graphs too)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds after which a run is stopped")
    parser.add_argument("--runs", type=int, default=7, help="runs per query and mode")
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temporary directory)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qs-gaps-"))
    scales = {"10^5": SCALES["10^5"]} if args.quick else SCALES
    lines = []
    try:
        for label, scale in scales.items():
            path = workdir / f"scale-{scale}"
            if not (path / "CURRENT").exists():
                info = build(path, scale)
                print(
                    f"scale {scale}: staff build {info['generate']:.1f} s, load {info['load']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            quads, refresh = refresh_cost(path)
            lines.append(
                f"Demo {label}: scale {scale}, {quads:,} quads (sources, taxonomy and derived graphs); every write "
                f"pays {refresh * 1000:,.0f} ms (p50) to bring the derived graphs up to date."
            )
            print(lines[-1], file=sys.stderr, flush=True)
            rows = []
            for name, params in CASES:
                named = ROOT / "queries" / f"{name}.rq"
                reference = REFERENCE / f"{name}.rq"
                kwargs = {"staff_caller": args.staff, "cap": args.cap}
                page = timed(path, named, params, mode="page", runs=args.runs, **kwargs)
                full = timed(path, named, params, mode="full", runs=args.runs, **kwargs)
                ref = timed(path, reference, params, mode="full", runs=min(args.runs, 3), **kwargs)
                same = "–"
                if not ref.over and not full.over:
                    ours = timed(path, named, params, mode="digest", runs=1, **kwargs)
                    theirs = timed(path, reference, params, mode="digest", runs=1, **kwargs)
                    if not ours.over and not theirs.over:
                        same = "yes" if (ours.rows, ours.digest) == (theirs.rows, theirs.digest) else "**NO**"
                ratio = "–"
                if full.p50 and ref.p50:
                    ratio = f"{ref.p50 / full.p50:,.0f}×"
                elif full.p50 and ref.over:
                    ratio = f"> {args.cap / full.p50:,.0f}×"
                row = (
                    f"| {label} | {name} | {params_text(params)} | {full.rows if not full.over else '?'} "
                    f"| {ms(page.p50, page.over, args.cap)} / {ms(page.p95, page.over, args.cap)} "
                    f"| {ms(full.p50, full.over, args.cap)} / {ms(full.p95, full.over, args.cap)} "
                    f"| {ms(ref.p50, ref.over, args.cap)} / {ms(ref.p95, ref.over, args.cap)} | {ratio} | {same} |"
                )
                print(row, file=sys.stderr, flush=True)
                rows.append(row)
            lines += ["", *rows]
        caller = "staff (internal graphs included)" if args.staff else "anonymous (public graphs)"
        print(f"\nOn-disk store, pyoxigraph, caller: {caller}; p50 / p95; a run is stopped after {args.cap:g} s.\n")
        print(
            "| demo | query | parameters | rows | first 10 001 rows | all rows | straightforward, all rows "
            "| ratio (all rows) | same rows |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---|")
        for line in lines:
            if line.startswith("|"):
                print(line)
        print()
        for line in lines:
            if line and not line.startswith("|"):
                print(line)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:])
    else:
        main()
