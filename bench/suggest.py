"""Quality and speed of the SDG target suggestions on the labelled German development data.

    python bench/suggest.py [--data ../shared/data/sdg-labelled/de-dev.tsv]
                            [--texts ../shared/data/sdg/open-sdg-translations] [--batch 5000]

Measures goal@1, goal@3 (the first three distinct goals of the ranked targets contain a labelled goal) and
target@5 (only on rows labelled at target level) for the baseline (character n-gram TF-IDF over the official
German goal and target texts) and for the engine in several configurations, all in the same run. Rows whose
text_type is `un_indicator_name_official_de` are left out of the measurement: they paraphrase the official
texts. Then the latency of one suggestion (p50, p95) and the time of a batch of rows, as a table.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suggest.engine import Suggester  # noqa: E402
from suggest.knowledge import Knowledge, read_open_sdg_texts  # noqa: E402
from suggest.text import stem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/sdg-labelled/de-dev.tsv"
TEXTS = ROOT.parent / "shared/data/sdg/open-sdg-translations"
MUNICIPAL = Path(__file__).with_name("suggest_municipal_de.tsv")
EXCLUDED = "un_indicator_name_official_de"


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


class CharNgramBaseline:
    """Character 3–5-gram TF-IDF (words padded with spaces, l2-normalised) over goal + target official texts."""

    def __init__(self, knowledge: Knowledge, official: dict[str, str]):
        self.codes = list(knowledge.targets)
        self.goals = {code: knowledge.targets[code].goal for code in self.codes}
        docs = [self._grams(f"{official.get(self.goals[c], '')} {official.get(c, '')}") for c in self.codes]
        df = Counter(g for doc in docs for g in doc)
        n = len(docs)
        self.idf = {g: math.log((1 + n) / (1 + d)) + 1 for g, d in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            vector = self._normalised({g: tf * self.idf[g] for g, tf in doc.items()})
            for g, w in vector.items():
                self.postings[g].append((i, w))

    @staticmethod
    def _grams(text: str) -> Counter:
        grams: Counter = Counter()
        for word in text.lower().split():
            padded = f" {word} "
            for n in (3, 4, 5):
                grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    @staticmethod
    def _normalised(vector: dict[str, float]) -> dict[str, float]:
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {k: v / norm for k, v in vector.items()}

    def ranked(self, text: str) -> list[tuple[str, str]]:
        query = self._normalised({g: tf * self.idf[g] for g, tf in self._grams(text).items() if g in self.idf})
        scores: dict[int, float] = defaultdict(float)
        for g, w in query.items():
            for i, dw in self.postings[g]:
                scores[i] += w * dw
        order = sorted(scores, key=lambda i: -scores[i])
        return [(self.codes[i], self.goals[self.codes[i]]) for i in order]


def measure(rank, rows: list[dict]) -> dict[str, float]:
    """goal@1, goal@3 and target@5 of a ranking function (row → [(target, goal), …] best first)."""
    hits = Counter()
    target_rows = 0
    for row in rows:
        ranked = rank(row)
        goals = set(row["goals"].split())
        distinct = list(dict.fromkeys(goal for _, goal in ranked))
        hits["goal@1"] += bool(distinct[:1] and distinct[0] in goals)
        hits["goal@3"] += bool(goals & set(distinct[:3]))
        if row["label_granularity"] == "target":
            target_rows += 1
            hits["target@5"] += bool(set(row["targets"].split()) & {t for t, _ in ranked[:5]})
    return {
        "goal@1": hits["goal@1"] / len(rows),
        "goal@3": hits["goal@3"] / len(rows),
        "target@5": hits["target@5"] / max(target_rows, 1),
    }


def engine_ranking(suggester: Suggester):
    def rank(row: dict) -> list[tuple[str, str]]:
        return [(s.target, s.goal) for s in suggester.suggest(row["text_de"], row["context_de"], top=30, explain=False)]

    return rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--texts", type=Path, default=TEXTS, help="Open SDG translations folder (official texts)")
    parser.add_argument("--batch", type=int, default=5000, help="rows in the batch timing")
    args = parser.parse_args()

    all_rows = read_rows(args.data)
    rows = [r for r in all_rows if r["text_type"] != EXCLUDED]
    official = read_open_sdg_texts(args.texts, "de")
    print(
        f"{len(rows)} rows measured ({sum(r['label_granularity'] == 'target' for r in rows)} at target level), "
        f"{len(all_rows) - len(rows)} {EXCLUDED} rows left out; {len(official)} official texts",
        file=sys.stderr,
    )

    builtin = Knowledge.builtin()
    baseline = CharNgramBaseline(builtin, official)
    configurations: list[tuple[str, object]] = [
        (
            "baseline: char n-gram TF-IDF, official goal+target texts",
            lambda row: baseline.ranked(f"{row['text_de']} {row['context_de']}"),
        ),
    ]
    started = time.perf_counter()
    plain = Suggester(builtin)
    build_plain = time.perf_counter() - started
    configurations.append(("engine: taxonomy + vocabulary (no official texts)", engine_ranking(plain)))
    started = time.perf_counter()
    full = Suggester(Knowledge.builtin(official))
    build_full = time.perf_counter() - started
    configurations.append(("engine: + official texts (after `querschnitt sdg-texts`)", engine_ranking(full)))
    # Learning from labelled items: the left-out UN indicator names as examples (as a store's tagged items).
    learnt = Suggester(Knowledge.builtin(official))
    learnt.add_examples((r["text_de"], r["targets"].split()) for r in all_rows if r["text_type"] == EXCLUDED)
    configurations.append((f"engine: + official texts + the {EXCLUDED} rows as examples", engine_ranking(learnt)))

    print("| configuration | goal@1 | goal@3 | target@5 |\n|---|---|---|---|")
    for name, rank in configurations:
        m = measure(rank, rows)
        print(f"| {name} | {m['goal@1']:.3f} | {m['goal@3']:.3f} | {m['target@5']:.3f} |")

    # Latency on a fresh index with empty caches: every word of a row is analysed for the first time.
    stem.cache_clear()
    full = Suggester(Knowledge.builtin(official))
    latencies = []
    for row in rows:
        started = time.perf_counter()
        full.suggest(row["text_de"], row["context_de"], top=5)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    # The batch cycles through the rows, so after the first pass the word caches help (as in a real workbook,
    # where the same words recur).
    batch = [rows[i % len(rows)] for i in range(args.batch)]
    started = time.perf_counter()
    for row in batch:
        full.suggest(row["text_de"], row["context_de"], top=5)
    batch_time = time.perf_counter() - started
    municipal = [r for r in read_rows(MUNICIPAL) if r["text"] and not r["text"].startswith("#")]
    print("\n| municipal titles (bench/suggest_municipal_de.tsv) | goal@1 | goal@3 |\n|---|---|---|")
    for name, suggester in (
        ("baseline", None),
        ("engine, no official texts", plain),
        ("engine + official texts", full),
    ):
        hit1 = hit3 = 0
        for row in municipal:
            if suggester is None:
                ranked = [goal for _, goal in baseline.ranked(row["text"])]
            else:
                ranked = [s.goal for s in suggester.suggest(row["text"], top=30, explain=False)]
            distinct = list(dict.fromkeys(ranked))
            hit1 += bool(distinct[:1] and distinct[0] in row["goals"].split())
            hit3 += bool(set(distinct[:3]) & set(row["goals"].split()))
        print(f"| {name} | {hit1 / len(municipal):.3f} | {hit3 / len(municipal):.3f} |")

    # The same batch when the store holds 5,000 tagged items (the labelled rows, repeated: speed only).
    labelled = [(f"{r['text_de']} {r['context_de']}", (r["targets"] or r["goals"]).split()) for r in all_rows]
    full.add_examples(labelled[i % len(labelled)] for i in range(5000))
    started = time.perf_counter()
    for row in batch:
        full.suggest(row["text_de"], row["context_de"], top=5)
    batch_examples_time = time.perf_counter() - started

    http_latencies = _http_latencies(rows[:100])
    print("\n| speed | value |\n|---|---|")
    print(f"| index build, built-in knowledge | {build_plain * 1000:.0f} ms |")
    print(f"| index build, with official texts | {build_full * 1000:.0f} ms |")
    print(f"| one suggestion, p50 | {statistics.median(latencies):.2f} ms |")
    print(f"| one suggestion, p95 | {latencies[int(len(latencies) * 0.95)]:.2f} ms |")
    print(f"| batch of {args.batch} rows | {batch_time:.1f} s |")
    print(f"| batch of {args.batch} rows, 5,000 labelled examples learnt | {batch_examples_time:.1f} s |")
    print(f"| POST /api/suggest in-process, p50 (100 requests) | {statistics.median(http_latencies):.2f} ms |")


def _http_latencies(rows: list[dict]) -> list[float]:
    """Wall-clock time of `POST /api/suggest` through the whole app (in-process client, empty store)."""
    import warnings

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.store import EmbeddedStore
    from api.testing import make_settings

    out = []
    with TestClient(create_app(make_settings(), store=EmbeddedStore(None))) as client:
        client.post("/api/suggest", json={"title": "Radweg"})  # builds the suggester
        for row in rows:
            started = time.perf_counter()
            client.post("/api/suggest", json={"title": row["text_de"], "description": row["context_de"]})
            out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


if __name__ == "__main__":
    main()
