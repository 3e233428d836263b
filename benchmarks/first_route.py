"""First-request latency of local semantic routing, with and without ``warmup()``.

Each measurement runs in a fresh Python process, as a user's service starts: the cold
case times the first ``decide()`` (importing sentence-transformers, loading MiniLM,
embedding the profiles and the query); the warm case times ``warmup()`` at start, then the
first ``decide()`` after it. The two kinds of process alternate, so machine noise hits
both alike. Steady-state decisions are timed in the warm process for comparison.

    .venv/bin/python benchmarks/first_route.py        # --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from graph_agents import Agent
    from graph_agents.routers import SemanticRouter

    AGENTS = [
        Agent("Billing", "Invoices, refunds and payments.", examples=["refund my order"]),
        Agent("Tech", "Bugs, crashes and error messages.", examples=["the app crashes"]),
        Agent("Sales", "Plans, prices and upgrades.", examples=["how much is pro"]),
    ]

    async def main(warm: bool) -> dict[str, float]:
        router = SemanticRouter("local")
        timings = {}
        if warm:
            start = time.perf_counter()
            await router.warmup(AGENTS)
            timings["warmup_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        await router.decide("my invoice is wrong", AGENTS)
        timings["first_ms"] = (time.perf_counter() - start) * 1000
        steady = []
        for query in ["the app crashes on start", "upgrade my plan", "refund please"] * 5:
            start = time.perf_counter()
            await router.decide(query, AGENTS)
            steady.append((time.perf_counter() - start) * 1000)
        timings["steady_ms"] = sorted(steady)[len(steady) // 2]
        return timings

    print(json.dumps(asyncio.run(main(sys.argv[1] == "warm"))))
    """
)


def measure(kind: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    for _ in range(args.rounds):
        cold.append(measure("cold"))
        warm.append(measure("warm"))

    def spread(rows: list[dict[str, float]], key: str) -> str:
        values = [row[key] for row in rows]
        return (
            f"median {statistics.median(values):8.1f} ms  "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )

    print(f"{args.rounds} fresh processes each, alternating cold and warm:")
    print(f"  cold: first decide()            {spread(cold, 'first_ms')}")
    print(f"  warm: warmup() at start         {spread(warm, 'warmup_ms')}")
    print(f"  warm: first decide() after it   {spread(warm, 'first_ms')}")
    print(f"  steady decide() (warm process)  {spread(warm, 'steady_ms')}")


if __name__ == "__main__":
    main()
