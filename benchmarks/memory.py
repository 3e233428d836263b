"""Memory: add throughput and recall latency, against bare Chroma on the same collection.

    python benchmarks/memory.py [--sizes 1000 10000] [--queries 200] [--rounds 3]

For each size, a fresh collection is filled through `MemoryManager.add`, interleaved
text by text with bare Chroma ``upsert`` of the same text and vector into a sibling
collection (add throughput, both sides one memory per call). Then recall is timed two
ways on the same collection, interleaved query by query:

- ``MemoryManager.search(query, k=5)``: Chroma ``query`` for the 20 nearest candidates in
  the namespace and scoring by relevance, recency and importance (the last-accessed
  update of the 5 returned runs in the background; it is awaited outside both timings);
- bare Chroma: ``collection.query(query_embeddings=[v], n_results=5, where=namespace)``.

Both get their query vector from a cache, so embedding time is excluded from the ratio;
the local MiniLM's embedding time per query is reported separately. Texts are synthetic
(vocabulary sentences) embedded once with MiniLM.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from typing import Any

from langchain_core.embeddings import Embeddings

from graph_agents.embeddings import LocalEmbeddings
from graph_agents.memory import MemoryManager, VectorMemoryStore

WORDS = [
    "flight",
    "hotel",
    "dinner",
    "vegetarian",
    "window",
    "seat",
    "budget",
    "museum",
    "beach",
    "train",
    "lisbon",
    "rome",
    "paris",
    "coffee",
    "tea",
    "allergy",
    "peanut",
    "birthday",
    "meeting",
    "tuesday",
    "report",
    "deadline",
    "invoice",
    "dog",
    "cat",
    "garden",
    "music",
    "jazz",
    "piano",
    "running",
    "yoga",
    "morning",
    "evening",
    "weekend",
    "holiday",
]


class Cached(Embeddings):
    """Vectors computed once; lookups cost nothing, so timing excludes embedding."""

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = vectors
        self.model = "all-MiniLM-L6-v2"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)


def sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{i}: " + " ".join(rng.choices(WORDS, k=8)) for i in range(count)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(size: int, queries: int, local: LocalEmbeddings, folder: str) -> dict[str, Any]:
    texts = sentences(size, seed=size)
    asks = [" ".join(random.Random(i).choices(WORDS, k=4)) for i in range(queries)]
    started = time.perf_counter()
    vectors = dict(zip(texts + asks, local.embed_documents(texts + asks), strict=True))
    embed_all = time.perf_counter() - started
    embed_one = []
    for ask in asks[:50]:
        t0 = time.perf_counter()
        local.embed_query(ask)
        embed_one.append(time.perf_counter() - t0)
    store = VectorMemoryStore(f"bench_{size}", path=f"{folder}/{size}", embeddings=Cached(vectors))
    memory = MemoryManager(store, max_memories=size + 10, enable_reflection=False)
    dimension = len(next(iter(vectors.values())))
    sibling = VectorMemoryStore(
        f"bare_{size}", path=f"{folder}/{size}-bare", embeddings=Cached(vectors)
    ).collection(dimension)
    add_seconds = bare_add_seconds = 0.0
    for i, text in enumerate(texts):  # interleaved, text by text
        t0 = time.perf_counter()
        await memory.add(text, agent="A", importance=5)
        add_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        await asyncio.to_thread(
            sibling.upsert,
            ids=[f"m{i}"],
            embeddings=[vectors[text]],
            documents=[text],
            metadatas=[{"namespace": "agent:A", "importance": 5.0}],
        )
        bare_add_seconds += time.perf_counter() - t0
    collection = store.collection(dimension)
    ours: list[float] = []
    bare: list[float] = []
    for ask in asks:  # interleaved, query by query
        t0 = time.perf_counter()
        await memory.search(ask, k=5, agent="A")
        ours.append(time.perf_counter() - t0)
        await memory.flush()  # its background last-accessed write, outside both timings
        t0 = time.perf_counter()
        await asyncio.to_thread(
            collection.query,
            query_embeddings=[vectors[ask]],
            n_results=5,
            where={"namespace": "agent:A"},
        )
        bare.append(time.perf_counter() - t0)
    return {
        "size": size,
        "adds_per_s": size / add_seconds,
        "bare_adds_per_s": size / bare_add_seconds,
        "ours_p50": pct(ours, 0.5) * 1000,
        "ours_p95": pct(ours, 0.95) * 1000,
        "bare_p50": pct(bare, 0.5) * 1000,
        "bare_p95": pct(bare, 0.95) * 1000,
        "ratio_p50": statistics.median(ours) / statistics.median(bare),
        "embed_ms": statistics.median(embed_one) * 1000,
        "embed_all_s": embed_all,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    local = LocalEmbeddings()
    for size in args.sizes:
        results = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                results.append(await measure(size, args.queries, local, folder))
        for r in results:
            print(
                f"{r['size']:>6} memories  add {r['adds_per_s']:5.0f}/s "
                f"(bare {r['bare_adds_per_s']:.0f}/s)  "
                f"recall p50 {r['ours_p50']:.2f} ms p95 {r['ours_p95']:.2f} ms  "
                f"bare Chroma p50 {r['bare_p50']:.2f} ms p95 {r['bare_p95']:.2f} ms  "
                f"ratio {r['ratio_p50']:.2f}x  (MiniLM embed {r['embed_ms']:.1f} ms/query)"
            )
        ratios = ", ".join(f"{x:.2f}" for x in sorted(r["ratio_p50"] for r in results))
        print(f"{size:>6} memories  recall/bare p50 ratio over {args.rounds} rounds: {ratios}")


if __name__ == "__main__":
    asyncio.run(main())
