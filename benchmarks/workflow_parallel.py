"""Parallel workflow branches run concurrently: 4 branches of 100 ms against 1.

Each branch is an agent step whose model waits 100 ms (`ScriptedResponse(delay=0.1)`).
Target: the 4-branch workflow's wall time at most 1.3x the single-branch one.

    python benchmarks/workflow_parallel.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from graph_agents import Agent, Step, Workflow, create_workflow
from graph_agents.testing import ScriptedModel, ScriptedResponse

DELAY = 0.1


def workflow(branches: int) -> Workflow:
    model = ScriptedModel(responder=lambda messages: ScriptedResponse(text="done", delay=DELAY))
    steps = [Step.agent("worker", f"Part {i}", output_key=f"part{i}") for i in range(branches)]
    return create_workflow(
        f"{branches} branches", [Agent("Worker", model=model)], steps=[Step.parallel(steps)]
    )


async def wall(flow: Workflow, runs: int) -> float:
    await flow.run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await flow.run()
        samples.append(time.perf_counter() - started)
        assert all(part == "done" for part in result.output)
    return statistics.median(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    one = await wall(workflow(1), args.runs)
    four = await wall(workflow(4), args.runs)
    print(f"1 branch:   {one * 1e3:7.1f} ms (median of {args.runs})")
    print(f"4 branches: {four * 1e3:7.1f} ms (median of {args.runs})")
    print(f"ratio:      {four / one:7.2f}x   (target <= 1.30x; sequential would be ~4x)")


if __name__ == "__main__":
    asyncio.run(main())
