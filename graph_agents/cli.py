"""The ``graph-agents`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["load_target", "main"]


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
    serve = commands.add_parser(
        "serve", help="serve a network or workflow: web view, runs over SSE, AG-UI"
    )
    serve.add_argument(
        "target", help="what to serve: path/to/app.py:network or package.module:name"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    serve.add_argument(
        "--token",
        default=None,
        help="bearer token clients must send (or $GRAPH_AGENTS_SERVER_TOKEN)",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=1_000_000, help="largest request body accepted"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    from . import embeddings

    embeddings.PROGRESS = True  # a person is watching: show model loading progress
    if args.command == "demo":
        return asyncio.run(_demo(args.query, args.state, args.thread))
    parser.error(f"unknown command {args.command!r}")
    return 2


def _serve(args: argparse.Namespace) -> int:
    from .exceptions import ConfigurationError

    try:
        from .server import serve
    except ImportError as exc:
        print(
            f"graph-agents serve needs the server extra ({exc.name} is missing): "
            "pip install 'graph-agents[server]'",
            file=sys.stderr,
        )
        return 2
    try:
        target = load_target(args.target)
        serve(
            target,
            host=args.host,
            port=args.port,
            token=args.token,
            max_body_bytes=args.max_body_bytes,
        )
    except ConfigurationError as exc:
        print(f"graph-agents serve: {exc}", file=sys.stderr)
        return 2
    return 0


def load_target(spec: str) -> Any:
    """The network or workflow ``spec`` names: ``path/to/file.py:name`` or ``module:name``.

    A callable attribute is called (a factory) to get it.

    Raises:
        ConfigurationError: the spec is malformed, the file or attribute is missing, or
            it is not a Network or Workflow.
    """
    import importlib
    import importlib.util
    from pathlib import Path

    from .exceptions import ConfigurationError
    from .network import Network
    from .workflow import Workflow

    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise ConfigurationError(
            f"{spec!r} does not name a target: use path/to/app.py:network or package.module:name."
        )
    if where.endswith(".py") or "/" in where:
        path = Path(where)
        if not path.is_file():
            raise ConfigurationError(f"{where!r} is not a file; give the path to your app module.")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.path.insert(0, str(path.resolve().parent))
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    if not hasattr(module, name):
        raise ConfigurationError(f"{where!r} has no attribute {name!r}.")
    target = getattr(module, name)
    if callable(target) and not isinstance(target, (Network, Workflow)):
        target = target()
    if not isinstance(target, (Network, Workflow)):
        raise ConfigurationError(
            f"{spec!r} is a {type(target).__name__}, not a Network or Workflow."
        )
    return target


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
        elif event.type == "memory.recalled" and event.data["count"]:
            count = event.data["count"]
            print(f"\n  (memory: recalled {count} from earlier runs)", end="")
        elif event.type == "memory.stored":
            print(f"\n  (memory: stored {event.data['kind']})", end="")

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
