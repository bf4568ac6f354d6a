"""A bounded load run against `querschnitt serve` on loopback (a script, not a test).

Builds the demo municipality at `--scale` (or reuses `--store`), starts the server as a subprocess on
127.0.0.1 and, for each client count, sends exactly `--requests` requests (or stops at `--seconds`) from
that many concurrent keep-alive connections. The mix: cheap SPARQL (ASK, LIMIT 10), gap reports (the
named-query routes `/queries/{name}` with parameters), `/api/search?q=`, entity pages `/page/…` and catalog pages
`/catalog?page=N`. Reported per client count: throughput, p50/p95/p99 latency, 5xx count, other
non-2xx count, and the server's peak RSS (process and query workers). The baseline is the in-process
limit: the cheap queries on a read-only pyoxigraph handle of the same store, no HTTP. With `--rdflib`
(needs `pip install rdflib-endpoint`), the SPARQL part of the mix (cheap and gap queries) also runs
against Querschnitt alone and against rdflib-endpoint serving the same public triples, per client
count (cheap queries and the parameterless gap reports as query text), and the throughput ratio is printed.

Example: python bench/reliability.py --scale 20 --requests 2000          # ~10^5 triples
Example: python bench/reliability.py --scale 230 --store /tmp/qs-1m     # ~10^6 triples
Example: python bench/reliability.py --quick        # a few seconds, for bench/reliability.sh
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from pyoxigraph import Store

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from api.cli import main; main()"]
CHEAP = ["ASK { ?s ?p ?o }", "SELECT * WHERE { ?s ?p ?o } LIMIT 10"]
# Gap reports as the UI and the facade ask for them: the named-query routes, with their parameters.
# (The pair summary as a department page asks for it; bench/gaps.py times the unfiltered reports.)
GAPS = [
    ("blind-spots", {}),
    ("unmeasured-projects", {}),
    ("missing-bridges-summary", {"department": "https://musterstadt.example/id/department/tiefbauamt"}),
    ("who-works-on", {"sdg": "11.2"}),
]
SEARCH_TERMS = ["rad", "klima", "wasser", "schule", "energie", "daten", "verkehr"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


METRICS_TOKEN = "bench-" + os.urandom(8).hex()


def build(store: Path, scale: int) -> None:
    if not (store / "CURRENT").exists():
        subprocess.run([*CLI, "demo", "--store", str(store), "--scale", str(scale)], check=True, capture_output=True)


def serve(store: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "QUERSCHNITT_STORE": str(store),
        "QUERSCHNITT_MAX_CONCURRENT_QUERIES": "8",
        # Every simulated client comes from 127.0.0.1: the per-address shares would turn the load into 503s.
        "QUERSCHNITT_MAX_QUERIES_PER_CLIENT": "0",
        "QUERSCHNITT_MAX_CONNECTIONS_PER_CLIENT": "0",
        # /metrics needs a staff token.
        "QUERSCHNITT_TOKENS": f"reader:{hashlib.sha256(METRICS_TOKEN.encode()).hexdigest()}",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and its children (query worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo.extend(children.get(current, []))
    return total


def requests_mix(client: httpx.Client, *, gaps: bool = True) -> list[tuple[str, str, dict]]:
    """One cycle of requests: (method, path, httpx kwargs)."""
    found = client.get(
        "/sparql",
        params={
            "query": "PREFIX org: <http://www.w3.org/ns/org#> PREFIX prov: <http://www.w3.org/ns/prov#> "
            "SELECT ?s { { ?s a org:OrganizationalUnit } UNION { ?s a prov:Activity } } LIMIT 40"
        },
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    pages = ["/page/" + b["s"]["value"].split("/id/", 1)[1] for b in found if "/id/" in b["s"]["value"]]
    # Only entities with a page of their own (activities include strategy items, which have none).
    pages = [page for page in pages if client.get(page, headers={"Accept": "text/html"}).status_code == 200]
    mix: list[tuple[str, str, dict]] = []
    for query in CHEAP:
        mix += [
            ("GET", "/sparql", {"params": {"query": query}, "headers": {"Accept": "application/sparql-results+json"}})
        ] * 4
    for name, params in GAPS if gaps else ():
        mix.append(
            ("GET", f"/queries/{name}", {"params": params, "headers": {"Accept": "application/sparql-results+json"}})
        )
    mix += [("GET", "/api/search", {"params": {"q": term}}) for term in SEARCH_TERMS[:3]]
    mix += [("GET", page, {"headers": {"Accept": "text/html"}}) for page in pages[:6]]
    mix += [("GET", "/catalog", {"params": {"page": n}, "headers": {"Accept": "text/turtle"}}) for n in (1, 2)]
    return mix


async def run_level(url: str, mix: list, *, clients: int, requests: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = itertools.count()
    deadline = time.monotonic() + seconds
    order = list(mix)
    random.Random(clients).shuffle(order)

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= requests:
                return
            method, path, kwargs = order[n % len(order)]
            started = time.perf_counter()
            try:
                response = await client.request(method, path, **kwargs)
                await response.aread()
                status = response.status_code
            except httpx.TransportError:
                status = 599  # counted as a server failure: the connection broke
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "other_non_2xx": sum(v for k, v in statuses.items() if 300 <= k < 500),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def compare_with_rdflib(store: Path, url: str, mix: list, args, tmp: Path) -> list[dict]:
    """The SPARQL part of the mix against Querschnitt and against rdflib-endpoint on the same public triples."""
    sys.path.insert(0, str(ROOT / "bench"))
    from endpoint import RDFLIB, dump_public, start

    sparql_mix = [item for item in mix if item[1] == "/sparql"]
    for name, params in GAPS:
        if not params:  # rdflib-endpoint has no substitution: the gap reports without parameters, as text
            text = (ROOT / "queries" / f"{name}.rq").read_text()
            headers = {"Accept": "application/sparql-results+json"}
            sparql_mix.append(("POST", "/sparql", {"data": {"query": text}, "headers": headers}))
    with httpx.Client(base_url=url, timeout=60) as client:
        public = [g["graph"] for g in client.get("/api/graphs").json()]  # anonymous: the public graphs
    dump = tmp / "public.nt"
    dump_public(store, public, dump)
    port = free_port()
    rdflib = start(RDFLIB, str(dump), port=port, ready_path="/?query=ASK%7B%7D")
    rdflib_mix = [(method, "/", kwargs) for method, _, kwargs in sparql_mix]
    rows = []
    try:
        for clients in (int(c) for c in args.clients.split(",")):
            ours = asyncio.run(
                run_level(url, sparql_mix, clients=clients, requests=args.requests, seconds=args.seconds)
            )
            theirs = asyncio.run(
                run_level(
                    f"http://127.0.0.1:{port}",
                    rdflib_mix,
                    clients=clients,
                    requests=args.requests,
                    seconds=args.seconds,
                )
            )
            row = {
                "clients": clients,
                "mix": "sparql only",
                "querschnitt": ours,
                "rdflib_endpoint": theirs,
                "rps_ratio": round(ours["rps"] / theirs["rps"], 1) if theirs["rps"] else None,
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        rdflib.kill()
    return rows


def in_process_limit(store: Path, requests: int) -> float:
    """Cheap queries per second on a read-only pyoxigraph handle of the same store (no HTTP, no visibility)."""
    handle = Store.read_only(str(store))
    started = time.perf_counter()
    for n in range(requests):
        result = handle.query(CHEAP[n % len(CHEAP)])
        list(result) if not isinstance(result, bool) and hasattr(result, "__iter__") else bool(result)
    return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="Demo scale (20 ≈ 10^5 triples; 230 ≈ 10^6).")
    parser.add_argument("--store", type=Path, help="Reuse this demo store directory (built if missing).")
    parser.add_argument("--clients", default="2,16,64", help="Concurrent client counts, comma-separated.")
    parser.add_argument("--requests", type=int, default=2000, help="Requests per client count.")
    parser.add_argument("--seconds", type=float, default=60, help="Time cap per client count.")
    parser.add_argument("--quick", action="store_true", help="300 requests at 2 and 16 clients, 15 s cap.")
    parser.add_argument("--no-gaps", action="store_true", help="Leave the gap queries out of the mix.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--rdflib", action="store_true", help="Also compare the SPARQL mix with rdflib-endpoint.")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.requests, args.seconds = "2,16", 300, 15
    with tempfile.TemporaryDirectory(prefix="querschnitt-load-") as tmp:
        store = args.store or Path(tmp) / "store"
        started = time.perf_counter()
        build(store, args.scale)
        print(f"store {store} (scale {args.scale}) ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        port = free_port()
        process = serve(store, port, Path(tmp) / "serve.log")
        url = f"http://127.0.0.1:{port}"
        peak = {"rss": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["rss"] = max(peak["rss"], tree_rss(process.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                mix = requests_mix(client, gaps=not args.no_gaps)
                triples = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
            results = []
            for clients in (int(c) for c in args.clients.split(",")):
                peak["rss"] = 0
                level = asyncio.run(run_level(url, mix, clients=clients, requests=args.requests, seconds=args.seconds))
                level["peak_rss_mb"] = round(peak["rss"] / 1e6, 1)
                results.append(level)
                print(json.dumps(level), flush=True)
            if args.rdflib:
                results += compare_with_rdflib(store, url, mix, args, Path(tmp))
        finally:
            stop.set()
            process.terminate()
            process.wait(timeout=60)
        limit = in_process_limit(store, 2000)
        size = sum(
            float(line.rsplit(" ", 1)[1])
            for line in triples.splitlines()
            if line.startswith("querschnitt_store_triples{")
        )
        summary = {
            "scale": args.scale,
            "triples": int(size),
            "in_process_cheap_rps": round(limit, 1),
            "levels": results,
        }
        for level in results:
            if "rps" in level:
                level["ratio_to_in_process"] = round(level["rps"] / limit, 4)
        print(json.dumps({k: v for k, v in summary.items() if k != "levels"}))
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))
        if any(level.get("5xx") for level in results):
            raise SystemExit("5xx answers under load")


if __name__ == "__main__":
    main()
