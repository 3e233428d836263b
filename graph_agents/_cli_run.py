"""The ``run``, ``resume`` and ``threads`` commands of ``graph-agents``.

``run`` and ``resume`` stream the run's events to a live progress view (rich): each
agent's turn, its tokens as they arrive (a parallel lane's tokens are shown when its
message completes, so lanes never interleave mid-line), tool calls and results,
handoffs and approval requests. Exit codes: 0 the run completed, 3 it waits for an
approval (the command to answer it is printed), 1 it failed, 2 bad arguments, 130
interrupted by Ctrl-C (the thread stays resumable: completed steps are checkpointed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .exceptions import ConfigurationError, GraphAgentsError

__all__ = ["Progress", "add_commands", "store_from_url"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WAITING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def store_from_url(url: str) -> Any:
    """The state store a ``--store`` URL names: ``sqlite:///path/to/file.sqlite`` or a
    PostgreSQL DSN (``postgresql://...``).

    Raises:
        ConfigurationError: any other URL.
    """
    from .state import PostgresStateStore, SqliteStateStore

    if url.startswith("sqlite:///"):
        return SqliteStateStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStateStore(url)
    raise ConfigurationError(
        f"--store {url!r}: use sqlite:///path/to/file.sqlite or postgresql://user@host/db."
    )


def add_commands(commands: Any) -> None:
    """Add ``run``, ``resume`` and ``threads`` to the CLI's subparsers."""
    run = commands.add_parser("run", help="run a network or workflow, showing its progress live")
    run.add_argument("target", help="path/to/app.py:network or package.module:name")
    run.add_argument("query", nargs="?", default=None, help="the request (networks)")
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a workflow input (repeatable)",
    )
    run.add_argument("--thread", default=None, help="continue this thread")
    _store_and_user(run)
    resume = commands.add_parser(
        "resume", help="continue a thread: answer its approval, or pick up after a failure"
    )
    resume.add_argument("target", help="the network or workflow that ran the thread")
    resume.add_argument("thread", help="the thread id")
    answer = resume.add_mutually_exclusive_group()
    answer.add_argument("--approve", action="store_true", help="approve the pending call")
    answer.add_argument("--reject", action="store_true", help="reject the pending call")
    resume.add_argument("--feedback", default=None, help="text for the model with the answer")
    _store_and_user(resume)
    threads = commands.add_parser("threads", help="list a store's threads, or show one")
    actions = threads.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the most recently updated threads")
    listing.add_argument("target", help="the network or workflow whose store to read")
    listing.add_argument("--limit", type=int, default=20, help="how many (default: %(default)s)")
    _store(listing)
    show = actions.add_parser("show", help="a thread's latest state")
    show.add_argument("target", help="the network or workflow whose store to read")
    show.add_argument("thread", help="the thread id")
    _store(show)
    history = actions.add_parser("history", help="a thread's checkpoints, newest first")
    history.add_argument("target", help="the network or workflow whose store to read")
    history.add_argument("thread", help="the thread id")
    history.add_argument("--limit", type=int, default=20, help="how many (default: %(default)s)")
    _store(history)


def _store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help="sqlite:///path or postgresql://... (default: the target's own state store)",
    )


def _store_and_user(parser: argparse.ArgumentParser) -> None:
    _store(parser)
    parser.add_argument("--user", default=None, help="the user id (memory's user scope)")


def dispatch(args: argparse.Namespace, load: Callable[[str], Any]) -> int:
    """Run the command ``args`` names; its exit code. Errors are one line on stderr."""
    name = "threads" if args.command == "threads" else args.command
    try:
        from rich.console import Console
    except ImportError:
        print(f"graph-agents {name} needs rich: pip install 'graph-agents[cli]'", file=sys.stderr)
        return EXIT_USAGE
    console = Console(highlight=False, soft_wrap=True)
    try:
        target = load(args.target)
        if getattr(args, "store", None):
            target = target.with_state_store(store_from_url(args.store))
        main = {"run": _run, "resume": _resume, "threads": _threads}[args.command]
        return asyncio.run(_closing(target, main(args, target, console)))
    except KeyboardInterrupt:
        thread = getattr(args, "thread", None)
        hint = f" (graph-agents resume {args.target} {thread})" if thread else ""
        print(
            f"\ngraph-agents {name}: interrupted; the thread stays resumable{hint}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except ConfigurationError as exc:
        print(f"graph-agents {name}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (GraphAgentsError, OSError) as exc:
        print(f"graph-agents {name}: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED


async def _closing(target: Any, work: Awaitable[int]) -> int:
    async with target:
        return await work


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def _run(args: argparse.Namespace, target: Any, console: Any) -> int:
    from .network import Network

    if args.thread is not None and await target.get_state(args.thread) is None:
        raise ConfigurationError(
            f"--thread {args.thread!r}: the store has no such thread; omit --thread to "
            "start a new one."
        )
    if isinstance(target, Network):
        if args.input:
            raise ConfigurationError("--input is for workflows; a network takes a query.")
        if args.query is None:
            raise ConfigurationError(f"{args.target!r} is a network: pass the query to run.")
        stream = target.stream(args.query, thread_id=args.thread, user_id=args.user)
    else:
        if args.query is not None:
            raise ConfigurationError(
                f"{args.target!r} is a workflow: pass its inputs as --input key=value."
            )
        inputs = dict(_pair(item) for item in args.input)
        stream = target.stream(inputs, thread_id=args.thread, user_id=args.user)
    return await _watch(stream, console, args.target)


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigurationError(f"--input {item!r}: use key=value.")
    return key, value


async def _resume(args: argparse.Namespace, target: Any, console: Any) -> int:
    if await target.get_state(args.thread) is None:
        raise ConfigurationError(f"thread {args.thread!r}: the store has no such thread.")
    approve = True if args.approve else False if args.reject else None
    progress = Progress(console)
    result = await target.resume(
        args.thread,
        approve=approve,
        feedback=args.feedback,
        stream_callback=progress,
        user_id=args.user,
    )
    return _finish(result, console, args.target)


async def _watch(stream: Any, console: Any, spec: str) -> int:
    progress = Progress(console)
    async with stream:
        async for event in stream:
            progress(event)
    return _finish(stream.result, console, spec)


def _finish(result: Any, console: Any, spec: str) -> int:
    console.print()
    if result.stop_reason == "interrupted":
        for request in result.interrupts:
            console.print(
                f"[yellow]waiting for approval[/] {request.id}: {request.tool} {request.arguments}",
                markup=True,
            )
        console.print(
            f"answer it: graph-agents resume {spec} {result.thread_id} --approve "
            "(or --reject --feedback '...')",
            markup=False,
        )
        return EXIT_WAITING
    output = getattr(result, "output", None)
    console.print(f"[bold]output:[/] {output}", markup=True)
    console.print(f"thread: {result.thread_id}", markup=False)
    return EXIT_OK


async def _threads(args: argparse.Namespace, target: Any, console: Any) -> int:
    if args.action == "list":
        found = await target.list_threads(args.limit)
        for state in found:
            console.print(
                f"{state.thread_id}  {state.created_at}  {state.stop_reason or 'unfinished'}"
                f"  {' -> '.join(state.agent_path)}",
                markup=False,
            )
        if not found:
            console.print("no threads", markup=False)
        return EXIT_OK
    if args.action == "show":
        state = await target.get_state(args.thread)
        if state is None:
            raise ConfigurationError(f"thread {args.thread!r}: the store has no such thread.")
        lines = [
            f"thread:      {state.thread_id}",
            f"checkpoint:  {state.checkpoint_id} ({state.created_at})",
            f"stop reason: {state.stop_reason or 'unfinished (resume continues it)'}",
            f"agent path:  {' -> '.join(state.agent_path)}",
            f"query:       {state.query}",
            f"output:      {state.output}",
            f"state keys:  {sorted(state.state)}",
        ]
        lines += [f"waiting:     {r.id}: {r.tool} {r.arguments}" for r in state.interrupts]
        for line in lines:
            console.print(line, markup=False)
        return EXIT_OK
    history = await target.get_state_history(args.thread, limit=args.limit)
    if not history:
        raise ConfigurationError(f"thread {args.thread!r}: the store has no such thread.")
    for state in history:
        console.print(
            f"{state.checkpoint_id}  step {state.step:>3}  {state.created_at}  "
            f"next {state.next or '-'}",
            markup=False,
        )
    return EXIT_OK


class Progress:
    """The live view of a run's events (see the module docstring)."""

    def __init__(self, console: Any):
        self.console = console
        self.streaming: str | None = None
        """The lane whose tokens are printed as they arrive."""
        self.buffers: dict[str, list[str]] = {}

    def _line(self, lane: str, text: str, style: str = "") -> None:
        self._end_stream()
        prefix = f"[{lane}] " if lane else ""
        body = f"[{style}]{_escape(prefix + text)}[/]" if style else _escape(prefix + text)
        self.console.print(body, markup=True)

    def _end_stream(self) -> None:
        if self.streaming is not None:
            self.console.print()
            self.streaming = None

    def __call__(self, event: Any) -> None:
        lane, data = event.lane, event.data
        if event.type == "agent.started":
            self._line(lane, f"{event.agent}", "bold cyan")
        elif event.type == "message.delta":
            if self.streaming is None and not self.buffers.get(lane):
                self.streaming = lane
                if lane:
                    self.console.print(f"[{lane}] ", end="", markup=False)
            if self.streaming == lane:
                self.console.print(str(data["delta"]), end="", markup=False)
            else:
                self.buffers.setdefault(lane, []).append(str(data["delta"]))
        elif event.type == "message.completed":
            if self.streaming == lane:
                self._end_stream()
            elif self.buffers.get(lane):
                self._line(lane, "".join(self.buffers.pop(lane)))
        elif event.type == "tool.started":
            self._line(lane, f"  -> {data['tool']}({data['arguments']})", "dim")
        elif event.type == "tool.completed":
            mark = "error" if data.get("error") else "done"
            self._line(lane, f"  <- {data['tool']} {mark} ({data.get('duration_ms', 0)} ms)", "dim")
        elif event.type == "handoff":
            self._line(lane, f"  => handoff to {data['to']}", "magenta")
        elif event.type == "step.started":
            self._line(lane, f"step {data['step']} ({data['kind']})", "bold")
        elif event.type == "approval.requested":
            self._line(lane, f"  ?? approval needed: {data.get('tool')}", "yellow")
        elif event.type == "run.failed":
            self._line(lane, f"run failed: {data.get('error_type')}", "red")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
