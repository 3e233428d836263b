"""The ``graph-agents`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from .exceptions import ConfigurationError, GraphAgentsError

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
    graph = commands.add_parser(
        "graph", help="draw a network or workflow: Mermaid, ASCII, PNG, SVG or HTML"
    )
    graph.add_argument("target", help="path/to/app.py:network or package.module:name")
    graph.add_argument(
        "--format",
        choices=["mermaid", "ascii", "png", "svg", "html"],
        default="mermaid",
        help="what to draw (default: %(default)s)",
    )
    graph.add_argument(
        "-o", "--output", default=None, help="file to write (default: stdout for text)"
    )
    from ._cli_run import add_commands, dispatch

    add_commands(commands)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    args = parser.parse_args(argv)
    if args.command in ("run", "resume", "threads"):
        return dispatch(args, load_target)
    if args.command == "serve":
        return _serve(args)
    if args.command == "graph":
        return _graph(args)
    from . import embeddings

    embeddings.PROGRESS = True  # a person is watching: show model loading progress
    if args.command == "demo":
        try:
            _check_demo_args(args.query, args.state)
            return asyncio.run(_demo(args.query, args.state, args.thread))
        except KeyboardInterrupt:
            print("\ngraph-agents demo: interrupted; the thread stays resumable", file=sys.stderr)
            return 130
        except (GraphAgentsError, OSError) as exc:
            print(f"graph-agents demo: {_one_line(exc)}", file=sys.stderr)
            return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("graph-agents")
    except PackageNotFoundError:
        return "unknown"


def _one_line(exc: BaseException) -> str:
    """An error as one line: its message's first line (the type when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _graph(args: argparse.Namespace) -> int:
    from pathlib import Path

    try:
        target = load_target(args.target)
        if args.format in ("mermaid", "ascii") and args.output is None:
            text = target.draw_mermaid() if args.format == "mermaid" else target.draw_ascii()
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            return 0
        suffix = {"mermaid": ".mmd", "ascii": ".txt"}.get(args.format, f".{args.format}")
        output = Path(args.output or f"{target.name}{suffix}")
        if args.format == "ascii":
            output.write_text(target.draw_ascii() + "\n", encoding="utf-8")
        else:
            if output.suffix.lower() != suffix:
                raise ConfigurationError(
                    f"--format {args.format} writes a {suffix} file; name the output "
                    f"{output.with_suffix(suffix).name!r}, or pick the format its suffix says."
                )
            target.save_graph(output)
    except (GraphAgentsError, OSError) as exc:
        print(f"graph-agents graph: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0


def _serve(args: argparse.Namespace) -> int:
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


class _Console:
    """Prints a run's events: each agent's tokens after its name, and every tool call,
    handoff and memory note on a line of its own (tokens after one start a new line)."""

    def __init__(self) -> None:
        self.in_text = False

    def line(self, text: str) -> None:
        print(f"\n{text}", end="", flush=True)
        self.in_text = False

    def __call__(self, event: Any) -> None:
        if event.type == "agent.started":
            self.line(f"[{event.agent}] ")
            self.in_text = True
        elif event.type == "message.delta":
            if not self.in_text:
                self.line("    ")
                self.in_text = True
            print(event.data["delta"], end="", flush=True)
        elif event.type == "tool.started":
            self.line(f"  -> {event.data['tool']}({event.data['arguments']})")
        elif event.type == "handoff":
            self.line(f"  => handoff to {event.data['to']}")
        elif event.type == "memory.recalled" and event.data["count"]:
            self.line(f"  (memory: recalled {event.data['count']} from earlier runs)")
        elif event.type == "memory.stored":
            self.line(f"  (memory: stored {event.data['kind']})")


def _check_demo_args(query: str, state_path: str) -> None:
    """Refuse an empty query and a ``--state`` path that cannot hold a SQLite file."""
    from pathlib import Path

    if not query.strip():
        raise ConfigurationError(
            f"the query {query!r} is empty; pass a request, e.g. graph-agents demo "
            "'Write a short guide about quantum computing'."
        )
    folder = Path(state_path).parent
    if Path(state_path).is_dir():
        raise ConfigurationError(f"--state {state_path!r} is a directory; pass a file path.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"--state {state_path!r}: cannot create {str(folder)!r} ({exc.strerror}); pass "
            "a path in a writable folder."
        ) from exc


async def _demo(query: str, state_path: str, thread_id: str | None) -> int:
    from ._demo import build_demo_network, uses_real_model

    network = build_demo_network(state_path)
    async with network:
        if thread_id is not None and await network.get_state(thread_id) is None:
            raise ConfigurationError(
                f"--thread {thread_id!r}: {state_path!r} has no such thread; omit --thread "
                "to start a new one."
            )
        mode = "a real model endpoint" if uses_real_model() else "the offline scripted model"
        print(f"graph-agents demo on {mode}; checkpoints in {state_path}\n")
        await network.warmup()
        result = await network.run(query, thread_id=thread_id, stream_callback=_Console())
    print("\n")
    print(f"output:     {result.output}")
    print(f"agent_path: {' -> '.join(result.agent_path)}")
    print(f"state keys: {sorted(result.state)}")
    print(f"thread_id:  {result.thread_id}")
    return 0 if result.stop_reason == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
