"""`Network`: agents compiled into one LangGraph graph, with run, stream and state APIs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from .agent import Agent
from .checkpoints import StateStoreLike, is_shareable_across_loops, open_checkpointer
from .events import TERMINAL_EVENTS, Event, StreamCallback, _Emitter
from .exceptions import ConcurrentRunError, ConfigurationError
from .models import ModelProvider, RetryPolicy, resolve_model
from .nodes import CompiledAgent, RunContext, build_graph, run_input
from .nodes.agent import handoff_tool_name
from .result import RunResult, StopReason
from .state import NetworkState, StateOp

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.graph.state import CompiledStateGraph

__all__ = ["Network", "create_network"]


class Network:
    """Agents that work together on requests. Build one with `create_network`.

    A network is compiled once, when it is created: definitions that cannot run raise
    `ConfigurationError` there, not mid-run. Runs are ``async``; `run_sync` wraps `run`
    for code outside an event loop. Close the network (``async with network:`` or
    ``await network.aclose()``) to release its state store's connections.
    """

    def __init__(
        self,
        *,
        agents: Sequence[Agent],
        router: Any = None,
        state_store: StateStoreLike = None,
        default_model: str | BaseChatModel | None = None,
        model_provider: ModelProvider | None = None,
        max_iterations: int = 10,
        name: str = "network",
        retry: RetryPolicy | None = None,
    ):
        if not agents:
            raise ConfigurationError("create_network(agents=[]) has no agents; pass at least one.")
        if router is not None:
            raise ConfigurationError(
                f"router={router!r} is not supported by this version: networks run their "
                "first agent. Remove the router."
            )
        if max_iterations < 1:
            raise ConfigurationError(f"max_iterations={max_iterations!r} must be at least 1.")
        self.name = name
        self.max_iterations = max_iterations
        self.state = NetworkState()
        self._store = state_store
        self._retry = retry or RetryPolicy()
        self._agents: dict[str, CompiledAgent] = {}
        for agent in agents:
            if not isinstance(agent, Agent):
                raise ConfigurationError(f"{agent!r} is not an Agent.")
            if agent.name in self._agents:
                raise ConfigurationError(
                    f"Two agents are named {agent.name!r}; agent names must be unique."
                )
            if any(c in agent.name for c in ":|"):
                raise ConfigurationError(
                    f"Agent name {agent.name!r} contains ':' or '|'; remove them."
                )
            clash = next(
                (
                    a.agent.name
                    for a in self._agents.values()
                    if handoff_tool_name(a.agent.name) == handoff_tool_name(agent.name)
                ),
                None,
            )
            if clash is not None and len(agents) > 1:
                raise ConfigurationError(
                    f"Agents {clash!r} and {agent.name!r} share the handoff tool name "
                    f"{handoff_tool_name(agent.name)!r}; rename one of them."
                )
            if agent.memory is not None:
                raise ConfigurationError(
                    f"Agent {agent.name!r} has memory={agent.memory!r}, but long-term memory "
                    "is not available in this version. Remove memory=..."
                )
            model = resolve_model(
                agent.model, default=default_model, provider=model_provider, owner=agent.name
            )
            self._agents[agent.name] = CompiledAgent.build(agent, model, agents)
        specs = list(self._agents.values())
        self._entry = specs[0]
        self._builder = build_graph(specs, entry=self._entry, retry=self._retry)
        self._graph = self._builder.compile(name=name)
        self._max_rounds = max(s.agent.max_tool_rounds for s in specs)
        self._shared_saver: BaseCheckpointSaver[str] | None = None
        self._graph_with_saver: CompiledStateGraph[Any, Any, Any, Any] | None = None
        self._per_loop: dict[asyncio.AbstractEventLoop, tuple[contextlib.AsyncExitStack, Any]] = {}
        self._running: set[str] = set()

    @property
    def agents(self) -> list[Agent]:
        """The network's agents, in the order given."""
        return [spec.agent for spec in self._agents.values()]

    @property
    def graph(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        """The compiled LangGraph graph (without a checkpointer), for inspection and drawing."""
        return self._graph

    def draw_mermaid(self) -> str:
        """The graph as Mermaid text."""
        return self._graph.get_graph().draw_mermaid()

    async def run(
        self,
        query: str,
        *,
        max_iterations: int | None = None,
        thread_id: str | None = None,
        stream_callback: StreamCallback | None = None,
    ) -> RunResult:
        """Run the network on ``query`` until it answers.

        Args:
            query: The user's request.
            max_iterations: Overrides the network's bound on agent turns for this run.
            thread_id: Continue this conversation thread; a new thread when ``None``.
            stream_callback: Called (sync or async) with every `Event`, in order.

        Raises:
            ConcurrentRunError: another run on ``thread_id`` is in progress.
            ModelProviderError: a model call failed for a reason retrying cannot fix.
        """
        return await self._execute(
            query,
            max_iterations=max_iterations,
            thread_id=thread_id,
            callback=stream_callback,
            queue=None,
        )

    def run_sync(
        self,
        query: str,
        *,
        max_iterations: int | None = None,
        thread_id: str | None = None,
        stream_callback: StreamCallback | None = None,
    ) -> RunResult:
        """`run`, for code outside an event loop.

        Raises:
            RuntimeError: called inside a running event loop; ``await network.run()`` there.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "Network.run_sync() was called inside a running event loop; "
                "use `await network.run(...)` instead."
            )

        async def main() -> RunResult:
            try:
                return await self.run(
                    query,
                    max_iterations=max_iterations,
                    thread_id=thread_id,
                    stream_callback=stream_callback,
                )
            finally:
                await self.aclose()

        return asyncio.run(main())

    async def stream(
        self,
        query: str,
        *,
        max_iterations: int | None = None,
        thread_id: str | None = None,
    ) -> AsyncIterator[Event]:
        """Run the network and yield its events as they happen.

        The last event is ``run.completed`` (its data holds the result's fields) or
        ``run.failed``, after which the run's exception is raised.
        """
        queue: asyncio.Queue[Event] = asyncio.Queue()
        task = asyncio.create_task(
            self._execute(
                query,
                max_iterations=max_iterations,
                thread_id=thread_id,
                callback=None,
                queue=queue,
            )
        )
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    event = getter.result()
                    yield event
                    if event.type in TERMINAL_EVENTS:
                        break
                else:
                    getter.cancel()
                    while not queue.empty():
                        yield queue.get_nowait()
                    break
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def aclose(self) -> None:
        """Close the state store connections this event loop opened."""
        loop = asyncio.get_running_loop()
        entry = self._per_loop.pop(loop, None)
        if entry is not None:
            await entry[0].aclose()

    async def __aenter__(self) -> Network:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _compiled(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        if is_shareable_across_loops(self._store):
            if self._graph_with_saver is None:
                async with open_checkpointer(self._store) as saver:
                    self._shared_saver = saver
                self._graph_with_saver = self._builder.compile(checkpointer=saver, name=self.name)
            return self._graph_with_saver
        loop = asyncio.get_running_loop()
        entry = self._per_loop.get(loop)
        if entry is None:
            stack = contextlib.AsyncExitStack()
            saver = await stack.enter_async_context(open_checkpointer(self._store))
            entry = (stack, self._builder.compile(checkpointer=saver, name=self.name))
            self._per_loop[loop] = entry
        return cast("CompiledStateGraph[Any, Any, Any, Any]", entry[1])

    async def _execute(
        self,
        query: str,
        *,
        max_iterations: int | None,
        thread_id: str | None,
        callback: StreamCallback | None,
        queue: asyncio.Queue[Event] | None,
    ) -> RunResult:
        if not isinstance(query, str) or not query.strip():
            raise ConfigurationError(f"query {query!r} is empty; pass the user's request text.")
        thread = thread_id or str(uuid.uuid4())
        if thread in self._running:
            raise ConcurrentRunError(
                f"Thread {thread!r} already has a run in progress on network {self.name!r}. "
                "Wait for it to finish, or use another thread_id.",
                thread_id=thread,
            )
        iterations = max_iterations or self.max_iterations
        run_id = str(uuid.uuid4())
        self._running.add(thread)
        emitter = _Emitter(run_id=run_id, thread_id=thread, callback=callback, queue=queue)
        try:
            graph = await self._compiled()
            emitter.emit("run.started", {"query": query, "network": self.name})
            config: RunnableConfig = {
                "configurable": {"thread_id": thread},
                "recursion_limit": iterations * (2 * self._max_rounds + 3) + 10,
            }
            seeds: list[StateOp] = [("default", k, v) for k, v in self.state.to_dict().items()]
            inputs = run_input(query, entry=self._entry.agent.name, seeds=seeds)
            final = await graph.ainvoke(
                inputs, config, context=RunContext(emitter=emitter, max_iterations=iterations)
            )
            result = self._result(final, thread=thread, run_id=run_id)
            emitter.emit(
                "run.completed",
                {
                    "output": result.output,
                    "agent_path": result.agent_path,
                    "stop_reason": result.stop_reason,
                    "iterations": result.iterations,
                    "usage": result.usage,
                },
            )
            return result
        except BaseException as exc:
            emitter.emit("run.failed", {"error": str(exc), "error_type": type(exc).__name__})
            raise
        finally:
            self._running.discard(thread)
            await emitter.aclose()
            if emitter.callback_error is not None:
                raise emitter.callback_error

    def _result(self, final: dict[str, Any], *, thread: str, run_id: str) -> RunResult:
        path = list(final.get("path", []))
        parsed = final.get("parsed")
        if parsed is not None and path:
            output_type = self._agents[path[-1]].agent.output_type
            if output_type is not None:
                parsed = output_type.model_validate(parsed)
        return RunResult(
            output=final.get("output", ""),
            messages=list(final.get("messages", [])),
            state=dict(final.get("shared") or {}),
            agent_path=path,
            iterations=final.get("turns", 0),
            stop_reason=cast(StopReason, final.get("stop_reason") or "completed"),
            thread_id=thread,
            run_id=run_id,
            usage=dict(final.get("usage") or {}),
            parsed=parsed,
            tool_errors=list(final.get("tool_errors", [])),
        )


def create_network(
    agents: Sequence[Agent],
    router: Any = None,
    state_store: StateStoreLike = None,
    default_model: str | BaseChatModel | None = None,
    model_provider: ModelProvider | None = None,
    max_iterations: int = 10,
    name: str = "network",
    *,
    retry: RetryPolicy | None = None,
) -> Network:
    """Build and compile a `Network`.

    Args:
        agents: The agents; names must be unique.
        router: Picks the agent for each request.
        state_store: Where checkpoints live: `InMemoryStateStore()` (the default),
            `SqliteStateStore(path)`, `PostgresStateStore(dsn)` or a ``BaseCheckpointSaver``.
        default_model: The model of agents that name none: a name or a ``BaseChatModel``.
        model_provider: Resolves model names; `OpenAIModelProvider()` when ``None``.
        max_iterations: The most agent turns one run may take.
        name: The network's name, in events and traces.
        retry: How transient model failures are retried.

    Raises:
        ConfigurationError: the definition cannot run (no agents, duplicate names, an
            agent without a model, ...).
    """
    return Network(
        agents=agents,
        router=router,
        state_store=state_store,
        default_model=default_model,
        model_provider=model_provider,
        max_iterations=max_iterations,
        name=name,
        retry=retry,
    )
