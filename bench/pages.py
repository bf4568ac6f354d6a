"""Latency of the pages a visitor opens, on an existing store: entity pages, their data, catalog pages,
and the first search after a small write.

    python bench/pages.py --store /tmp/qs-1m [--samples 6] [--repeat 5] [--json FILE]

The store (e.g. one made by `querschnitt demo --store PATH --scale 230`, about 10^6 triples) is copied
into a temporary directory first: the search part writes to it, and the original is never touched.
Requests go through the whole ASGI app in-process (FastAPI's TestClient), so the figures are what the
server spends, without a network; `--http` sends them over a loopback socket to uvicorn instead (serving
from a thread of the same process). For each page kind the script prints p50/p95 over every sample entity
and repetition, and the ratio of the p50 to a baseline measured in the same run: the in-process SPARQL
query of the same entities' own triples (`SELECT ?p ?o { <entity> ?p ?o }` over the anonymous dataset),
the least any page about the entity has to do. On a shared machine the ratio is steadier than the
milliseconds.

Catalog pages are timed with the document cache emptied before each request (what the first harvester
after a write waits for). The search part times the first `/api/search` after four small writes (one
triple added to the big demo graph; a new small public graph; that graph made internal; dropped), says
whether that answer was complete (`complete` in the response), how long after the write the answers were
complete again, and counts first answers that showed what a write had removed or made internal (must be 0).
The gap part times the gap reports as people open them: the dashboard, `/gaps` and every `/gaps/{kind}` staff
page (staff caller), `/api/gaps` and `/api/gaps/{kind}?limit=20` (anonymous), each also filtered by the busiest
department where the report takes one, the named queries' first 100 rows (`/queries/{kind}?limit=100`) and the
staff search page. The stream part reads complete answers of the pair reports as CSV with no row cap
(`/queries/{kind}`, Accept: text/csv): rows per second and how much the process grew while reading.
`--query-cache-mb 0` turns the answer cache off.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from pyoxigraph import NamedNode  # noqa: E402

from api import gaps  # noqa: E402
from api.app import create_app  # noqa: E402
from api.auth import ANONYMOUS, hash_token  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.store import EmbeddedStore, Visibility, open_store  # noqa: E402
from api.testing import READER, READER_TOKEN, LiveServer  # noqa: E402

PREFIXES = """PREFIX qs: <https://w3id.org/querschnitt/def#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
"""
# Entity kinds: a class whose instances are sampled, and whether the page needs a staff caller.
KINDS: dict[str, tuple[str, bool]] = {
    "department": ("org:OrganizationalUnit", False),
    "project": ("qs:Project", False),
    "dataset": ("dcat:Dataset", False),
    "indicator": ("qs:Indicator", False),
    "person": ("foaf:Person", True),
}
# SDG pages: goals and targets, the busiest ones included (11.2 has the most projects in the demo).
SDG_GOALS = ["11", "13", "3", "16"]
SDG_TARGETS = ["11.2", "13.2", "16.6", "3.6", "9.4", "17.17"]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50": statistics.median(samples), "p95": percentile(samples, 0.95)}


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, result


def sample_entities(store: EmbeddedStore, base: str, count: int, seed: int) -> dict[str, list[str]]:
    """`count` paths (`department/…`) per kind, chosen at random with `seed`, plus the busiest department."""
    rng = random.Random(seed)
    chosen: dict[str, list[str]] = {}
    for kind, (cls, staff) in KINDS.items():
        # What the caller may see: anonymous callers get 404 for internal entities.
        rows = store.query(f"{PREFIXES}SELECT ?s {{ ?s a {cls} }}", include_internal=staff)
        paths = sorted({r["s"].value[len(base) :] for r in rows if r["s"].value.startswith(f"{base}{kind}/")})
        chosen[kind] = rng.sample(paths, min(count, len(paths)))
    busiest = store.query(
        f"{PREFIXES}SELECT ?d (COUNT(?p) AS ?n) {{ ?p a qs:Project ; prov:wasAssociatedWith ?d }} "
        "GROUP BY ?d ORDER BY DESC(?n) LIMIT 1",
        include_internal=True,
    )
    for row in busiest:
        chosen["department"][0] = row["d"].value[len(base) :]
    chosen["sdg goal"] = [f"sdg/{c}" for c in SDG_GOALS]
    chosen["sdg target"] = [f"sdg/{c}" for c in SDG_TARGETS]
    return chosen


def baseline(store: EmbeddedStore, base: str, paths: list[str], repeat: int) -> list[float]:
    """In-process SPARQL: each entity's own triples over the anonymous dataset, in ms."""
    samples = []
    for path in paths:
        iri = NamedNode(f"http://metadata.un.org/sdg/{path[4:]}" if path.startswith("sdg/") else base + path)
        for _ in range(repeat):
            ms, _ = timed(lambda iri=iri: list(store.query(f"SELECT ?p ?o {{ {iri} ?p ?o }}")))
            samples.append(ms)
    return samples


def bench_pages(client: TestClient, entities: dict[str, list[str]], repeat: int, budget: float) -> dict[str, dict]:
    """p50/p95 per kind and form; a form stops being sampled once it has used `budget` seconds."""
    results: dict[str, dict] = {}
    for kind, paths in entities.items():
        staff = KINDS.get(kind, ("", False))[1]
        headers = READER if staff else {}
        requests = [("HTML", f"/page/{p}", {"Accept": "text/html"}) for p in paths]
        if not kind.startswith("sdg"):
            requests += [("Turtle", f"/id/{p}", {"Accept": "text/turtle"}) for p in paths]
            requests += [("JSON-LD", f"/id/{p}", {"Accept": "application/ld+json"}) for p in paths]
        by_form: dict[str, list[float]] = {}
        sizes: dict[str, list[int]] = {}
        spent: dict[str, float] = {}
        for form, url, accept in requests:
            if spent.get(form, 0.0) > budget * 1000:
                continue
            get = partial(client.get, url, headers={**headers, **accept})
            for attempt in range(repeat + 1):
                ms, response = timed(get)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
                spent[form] = spent.get(form, 0.0) + ms
                # The first request warms caches and is not counted, unless it alone used the budget.
                if attempt > 0 or spent[form] > budget * 1000:
                    by_form.setdefault(form, []).append(ms)
                    sizes.setdefault(form, []).append(len(response.content))
                if spent[form] > budget * 1000:
                    break
        for form, samples in by_form.items():
            results[f"{kind} {form}"] = {**figures(samples), "kB": statistics.median(sizes[form]) / 1000}
    return results


def bench_catalog(client: TestClient, repeat: int) -> dict[str, dict]:
    first = client.get("/catalog", params={"page": 1}, headers={"Accept": "text/turtle"})
    last = int(first.headers["link"].split('rel="last"')[0].rsplit("page=", 1)[1].split(">")[0])
    pages = sorted({1, 2, last // 2, last})
    samples, cached = [], []
    for _ in range(repeat):
        for n in pages:
            client.app.state.publishing_cache = None
            ms, response = timed(
                lambda n=n: client.get("/catalog", params={"page": n}, headers={"Accept": "text/turtle"})
            )
            if response.status_code != 200:
                raise SystemExit(f"/catalog?page={n}: {response.status_code}")
            samples.append(ms)
            ms, _ = timed(lambda n=n: client.get("/catalog", params={"page": n}, headers={"Accept": "text/turtle"}))
            cached.append(ms)
    return {f"catalog page (built, pages {pages})": figures(samples), "catalog page (cached)": figures(cached)}


def bench_search_after_write(client: TestClient, store: EmbeddedStore, base: str, repeat: int) -> dict[str, dict]:
    """Searches right after small writes of four kinds: how long the first one took, whether it was complete,
    how long until answers were complete again, and whether a first answer ever showed what the write
    removed or made internal (it must not)."""
    demo = f"{base}graph/demo"
    project = next(
        r["s"].value for r in store.query(f"{PREFIXES}SELECT ?s {{ ?s a qs:Project }} LIMIT 1", include_internal=True)
    )
    scratch = f"{base}graph/bench-scratch"
    client.get("/api/search", params={"q": "Radweg"})  # the index exists before the first write

    def insert(graph: str, triples: str, visibility: Visibility | None = None) -> None:
        store.update_graphs(
            f"INSERT DATA {{ GRAPH <{graph}> {{ {triples} }} }}",
            [graph],
            source="bench",
            loader="bench",
            checksum="sha256:bench",
            visibility=visibility,
        )

    def make_internal() -> None:
        quads = store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{scratch}> {{ ?s ?p ?o }} }}", include_internal=True
        )
        store.replace_graph(
            scratch, list(quads), visibility=Visibility.INTERNAL, source="bench", loader="bench", checksum="sha256:b"
        )

    names = ("update of the demo graph", "new small public graph", "small graph made internal", "small graph dropped")
    first: dict[str, list[float]] = {n: [] for n in names}
    complete: dict[str, list[bool]] = {n: [] for n in names}
    caught_up: dict[str, list[float]] = {n: [] for n in names}
    writes: list[float] = []
    leaks = 0
    for i in range(repeat):
        word, title = f"Benchwort{i}x", f"Benchtitel{i}x"
        steps = [
            (
                names[0],
                lambda word=word: insert(demo, f'<{project}> <http://purl.org/dc/terms/description> "{word}"@de'),
                word,
                1,
            ),
            (
                names[1],
                lambda title=title: insert(
                    scratch,
                    f"<{base}project/bench-{title}> a <https://w3id.org/querschnitt/def#Project> ; "
                    f'<http://purl.org/dc/terms/title> "{title} Projekt"@de',
                    Visibility.PUBLIC,
                ),
                title,
                1,
            ),
            (names[2], make_internal, title, 0),
            (names[3], lambda: store.drop_graph(scratch), title, 0),
        ]
        for name, write, q, expected in steps:
            ms, _ = timed(write)
            writes.append(ms)
            done = time.perf_counter()
            ms, response = timed(partial(client.get, "/api/search", params={"q": q}))
            answer = response.json()
            first[name].append(ms)
            complete[name].append(answer.get("complete", True))
            if expected == 0 and answer["total"]:
                leaks += 1
            while not answer.get("complete", True):
                time.sleep(0.05)
                answer = client.get("/api/search", params={"q": q}).json()
            caught_up[name].append((time.perf_counter() - done) * 1000)
            if answer["total"] != expected:
                raise SystemExit(f"{name}: {answer['total']} hits for {q!r} once complete, expected {expected}")
    results: dict[str, dict] = {}
    for name in names:
        results[f"first search after {name}"] = {
            **figures(first[name]),
            "complete": f"{sum(complete[name])}/{len(complete[name])}",
        }
        results[f"  complete again, ms after the write: {name}"] = figures(caught_up[name])
    results["the writes themselves (incl. derived refresh)"] = figures(writes)
    results["first answers showing removed or internal data"] = {"n": repeat * 2, "p50": leaks, "p95": leaks}
    return results


GAP_KINDS = {
    "missing-bridges": True,
    "unused-datasets": True,
    "unmeasured-projects": True,
    "blind-spots": False,
    "silo-departments": True,
}  # kind → whether it takes a department filter


def bench_gaps(client: TestClient, department: str, repeat: int, budget: float) -> dict[str, dict]:
    """p50/p95 per gap view (after one warm-up request each); a view stops once it has used `budget` seconds."""
    requests: list[tuple[str, str, dict, dict]] = [
        ("dashboard / (staff)", "/", {}, READER),
        ("/gaps (staff)", "/gaps", {}, READER),
        ("/api/gaps", "/api/gaps", {}, {}),
    ]
    for kind, filtered in GAP_KINDS.items():
        requests.append((f"/gaps/{kind} (staff)", f"/gaps/{kind}", {}, READER))
        requests.append((f"/api/gaps/{kind}?limit=20", f"/api/gaps/{kind}", {"limit": 20}, {}))
        if filtered:
            short = department.rsplit("/", 1)[-1]
            requests.append(
                (f"/gaps/{kind}?department={short} (staff)", f"/gaps/{kind}", {"department": department}, READER)
            )
            requests.append(
                (
                    f"/api/gaps/{kind}?department={short}&limit=20",
                    f"/api/gaps/{kind}",
                    {"department": department, "limit": 20},
                    {},
                )
            )
    requests += [(f"/queries/{kind}?limit=100", f"/queries/{kind}", {"limit": 100}, {}) for kind in GAP_KINDS]
    requests.append(("/search?q=Radweg (staff)", "/search", {"q": "Radweg"}, READER))
    results: dict[str, dict] = {}
    for name, url, params, headers in requests:
        samples: list[float] = []
        spent = 0.0
        for attempt in range(repeat + 1):
            ms, response = timed(partial(client.get, url, params=params, headers={**headers, "Accept-Language": "de"}))
            if response.status_code != 200:
                # A view the server refuses (a deadline's 503/504) is reported, not timed.
                print(f"  {name}: HTTP {response.status_code} after {ms:,.0f} ms", file=sys.stderr, flush=True)
                samples = [ms]
                break
            spent += ms
            if attempt > 0 or spent > budget * 1000:
                samples.append(ms)
            if spent > budget * 1000:
                break
        results[name] = {**figures(samples), "kB": len(response.content) / 1000, "status": response.status_code}
        print(f"  {name}: p50 {results[name]['p50']:.0f} ms", file=sys.stderr, flush=True)
    return results


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_streaming(app, http: bool, budget: float) -> dict[str, dict]:
    """Complete answers as CSV (`max_rows` 0, no cap): rows per second while reading the stream, and how much
    the process grew meanwhile; a stream is closed after `budget` seconds (the rate so far)."""
    results: dict[str, dict] = {}
    requests = [
        (f"/queries/{kind} complete, CSV", f"/queries/{kind}") for kind in ("missing-bridges", "unused-datasets")
    ]
    with http_client(app) if http else TestClient(app) as client:
        for name, url in requests:
            gaps.answer_lines(
                app, ANONYMOUS, url.rsplit("/", 1)[1]
            )  # its table, as the warm-up after a write builds it
            rows, start_mb, peak_mb, cut = -1, resident_mb(), 0.0, ""  # -1: the header line
            start = time.perf_counter()
            try:
                with client.stream("GET", url, headers={"Accept": "text/csv"}) as response:
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: {response.status_code}")
                    for _line in response.iter_lines():
                        rows += 1
                        if rows % 20_000 == 0:
                            peak_mb = max(peak_mb, resident_mb())
                            if time.perf_counter() - start > budget:
                                cut = f" (stopped reading after {budget:g} s)"
                                break
            except httpx.HTTPError as error:  # the server's query deadline ends a stream by closing it
                cut = f" (the server ended the stream: {type(error).__name__})"
            seconds = time.perf_counter() - start
            results[name] = {
                "n": 1,
                "p50": seconds * 1000,
                "p95": seconds * 1000,
                "rows": rows,
                "rows/s": rows / seconds,
                "grew MB": max(peak_mb, resident_mb()) - start_mb,
            }
            results[name]["cut"] = cut
            print(
                f"  {name}: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s, "
                f"process grew {results[name]['grew MB']:.0f} MB{cut}",
                file=sys.stderr,
                flush=True,
            )
    return results


def print_table(title: str, results: dict[str, dict], base_p50: float | None) -> None:
    print(f"\n{title}")
    print(f"{'request':<58} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'× baseline':>10} {'kB':>8}")
    for name, f in results.items():
        ratio = f"{f['p50'] / base_p50:10.0f}" if base_p50 else f"{'':>10}"
        size = f"{f['kB']:8.1f}" if "kB" in f else f"{'':>8}"
        note = f"  complete: {f['complete']}" if "complete" in f else ""
        note += f"  HTTP {f['status']}" if f.get("status", 200) != 200 else ""
        print(f"{name:<58} {f['n']:>4} {f['p50']:9.1f} {f['p95']:9.1f} {ratio} {size}{note}")


@contextmanager
def http_client(app) -> Iterator[httpx.Client]:
    """A client of `app` served by uvicorn on a loopback port (in a thread of this process)."""
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=600) as client:
        client.app = app  # what the catalog part empties the document cache through
        yield client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="an on-disk store (copied first, never written)")
    parser.add_argument("--samples", type=int, default=6, help="entities per kind")
    parser.add_argument("--repeat", type=int, default=5, help="requests per entity (after one warm-up)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--budget", type=float, default=120, help="seconds per page kind and form at most")
    parser.add_argument("--skip", action="append", default=[], choices=["pages", "catalog", "search", "gaps", "stream"])
    parser.add_argument(
        "--isolation", choices=["thread", "process"], default="thread", help="where queries run (the setting)"
    )
    parser.add_argument("--http", action="store_true", help="over a loopback socket (uvicorn) instead of in-process")
    parser.add_argument("--query-cache-mb", type=float, default=64, help="the answer cache (0: off)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="qs-bench-pages-"))
    try:
        copy = workdir / "store"
        shutil.copytree(args.store, copy, ignore=shutil.ignore_patterns("LOCK"))
        store = open_store(str(copy))
        settings = Settings(
            store=str(copy),
            tokens=f"reader:{hash_token(READER_TOKEN)}",
            query_isolation=args.isolation,
            query_cache_mb=args.query_cache_mb,
        )
        base = settings.base_iri
        app = create_app(settings, store=store)
        print(f"store: {len(store):,} quads; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        entities = sample_entities(store, base, args.samples, args.seed)
        every = [p for paths in entities.values() for p in paths]
        base_samples = baseline(store, base, every, args.repeat)
        base_figures = figures(base_samples)
        print(
            f"baseline (in-process SPARQL of the same entities' own triples): p50 {base_figures['p50']:.2f} ms, "
            f"p95 {base_figures['p95']:.2f} ms"
        )
        report: dict[str, dict] = {"baseline": base_figures}
        with http_client(app) if args.http else TestClient(app) as client:
            if "pages" not in args.skip:
                pages = bench_pages(client, entities, args.repeat, args.budget)
                print_table("Entity pages and their data", pages, base_figures["p50"])
                report.update(pages)
            if "gaps" not in args.skip:
                gap_views = bench_gaps(client, base + entities["department"][0], args.repeat, args.budget)
                print_table("Gap reports", gap_views, base_figures["p50"])
                report.update(gap_views)
            if "catalog" not in args.skip:
                catalog = bench_catalog(client, max(1, args.repeat // 2))
                print_table("DCAT-AP.de catalog", catalog, base_figures["p50"])
                report.update(catalog)
            if "search" not in args.skip:
                searches = bench_search_after_write(client, store, base, max(2, args.repeat // 2))
                print_table("Search after a write", searches, None)
                report.update(searches)
        if "stream" not in args.skip:
            uncapped = create_app(settings.model_copy(update={"max_rows": 0}), store=store)
            streams = bench_streaming(uncapped, args.http, args.budget)
            print("\nComplete answers as CSV (no row cap)")
            for name, f in streams.items():
                print(
                    f"{name:<58} {f['rows']:>12,} rows {f['rows/s']:>10,.0f} rows/s  process grew {f['grew MB']:.0f} MB"
                )
            report.update(streams)
        print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
        if args.json:
            args.json.write_text(json.dumps({"entities": entities, "figures": report}, indent=2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
