"""The ``graph-agents`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``graph-agents``; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="graph-agents", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the research -> write -> review demo network")
    demo.add_argument("query", nargs="?", default="Write a short guide about quantum computing")
    demo.add_argument(
        "--state",
        default=".graph_agents/demo.sqlite",
        help="SQLite checkpoint file (default: %(default)s)",
    )
    demo.add_argument("--thread", default=None, help="continue this thread id")
    args = parser.parse_args(argv)
    from . import embeddings

    embeddings.PROGRESS = True  # a person is watching: show model loading progress
    if args.command == "demo":
        return asyncio.run(_demo(args.query, args.state, args.thread))
    parser.error(f"unknown command {args.command!r}")
    return 2


async def _demo(query: str, state_path: str, thread_id: str | None) -> int:
    from ._demo import build_demo_network, uses_real_model
    from .events import Event

    network = build_demo_network(state_path)
    mode = "a real model endpoint" if uses_real_model() else "the offline scripted model"
    print(f"graph-agents demo on {mode}; checkpoints in {state_path}\n")

    def show(event: Event) -> None:
        if event.type == "agent.started":
            print(f"\n[{event.agent}] ", end="")
        elif event.type == "message.delta":
            print(event.data["delta"], end="", flush=True)
        elif event.type == "tool.started":
            print(f"\n  -> {event.data['tool']}({event.data['arguments']})", end="")
        elif event.type == "handoff":
            print(f"\n  => handoff to {event.data['to']}", end="")

    async with network:
        await network.warmup()
        result = await network.run(query, thread_id=thread_id, stream_callback=show)
    print("\n")
    print(f"output:     {result.output}")
    print(f"agent_path: {' -> '.join(result.agent_path)}")
    print(f"state keys: {sorted(result.state)}")
    print(f"thread_id:  {result.thread_id}")
    return 0 if result.stop_reason == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
