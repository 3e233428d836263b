"""`Network`: agents compiled into one LangGraph graph, with run, stream and state APIs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from ._checks import check_int
from ._runner import GraphRunner, Outcome, RunnerFacade, run_sync
from .agent import Agent
from .checkpoints import StateStoreLike
from .events import Event, StreamCallback, _Emitter
from .exceptions import ConfigurationError
from .models import ModelProvider, RetryPolicy
from .nodes import RunContext, build_graph, run_input
from .nodes.compile import compile_agents, router_setup
from .nodes.context import TurnTracker
from .result import RunResult, ThreadState, result_from_values
from .routers.base import RouterLike, as_router, known_agent
from .state import NetworkState, StateOp, check_storable

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["Network", "create_network"]


class Network(RunnerFacade):
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
        router: RouterLike | None = None,
        state_store: StateStoreLike = None,
        default_model: str | BaseChatModel | None = None,
        model_provider: ModelProvider | None = None,
        max_iterations: int = 10,
        name: str = "network",
        retry: RetryPolicy | None = None,
        fallback: str | None = None,
        max_delegation_depth: int = 3,
    ):
        check_int(max_iterations, "max_iterations", minimum=1, owner="create_network: ")
        check_int(max_delegation_depth, "max_delegation_depth", minimum=0, owner="create_network: ")
        self.name = name
        self.max_iterations = max_iterations
        self.max_delegation_depth = max_delegation_depth
        self.state: NetworkState = NetworkState()
        """Values that seed the shared state of every run (``network.state.set(k, v)``)."""
        self._store = state_store
        self._agents = compile_agents(agents, default_model=default_model, provider=model_provider)
        if fallback is not None:
            fallback = known_agent(fallback, self.agents, where="create_network(fallback=...)")
        self._router = as_router(router) if router is not None else None
        if self._router is not None:
            self._router.prepare(router_setup(self._agents, default_model, model_provider))
        specs = list(self._agents.values())
        builder, _ = build_graph(
            specs, router=self._router, fallback=fallback, retry=retry or RetryPolicy()
        )
        self._runner = GraphRunner(name=name, kind="network", builder=builder, store=state_store)
        self._max_rounds = max(s.agent.max_tool_rounds for s in specs)

    @property
    def agents(self) -> list[Agent]:
        """The network's agents, in the order given."""
        return [spec.agent for spec in self._agents.values()]

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
            RoutingError: the router failed or chose an unknown agent.
            ModelProviderError: a model call failed for a reason retrying cannot fix.
        """
        return await self._execute(
            self._input(query),
            query=query,
            max_iterations=self._iterations(max_iterations),
            thread_id=thread_id or str(uuid.uuid4()),
            callback=stream_callback,
            queue=None,
        )

    async def resume(
        self,
        thread_id: str,
        *,
        max_iterations: int | None = None,
        stream_callback: StreamCallback | None = None,
    ) -> RunResult:
        """Continue a run that failed from its last checkpoint.

        Completed steps are not repeated: the step that failed runs again, then the run
        goes on as it would have.

        Raises:
            ConfigurationError: the thread has no checkpoint, nothing left to run, or its
                run stopped in an agent this network does not have.
        """
        iterations = self._iterations(max_iterations)

        def agent_exists(current: ThreadState) -> None:
            agent = current.active_agent
            if current.stop_reason is None and agent is not None and agent not in self._agents:
                known = ", ".join(repr(name) for name in self._agents)
                raise ConfigurationError(
                    f"Cannot resume thread {thread_id!r}: its run stopped in agent {agent!r}, "
                    f"which this network does not have (its agents: {known}); was it renamed "
                    "or removed? To finish that run, resume it with a network that has an "
                    f"agent named {agent!r}. Or leave it: run(query, thread_id={thread_id!r}) "
                    "starts a new run on the thread (give the network a router if no agent "
                    "of that name remains)."
                )

        snapshot = await self._runner.resumable(thread_id, check=agent_exists)
        return await self._execute(
            None,
            query=snapshot.query,
            max_iterations=iterations,
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

        return run_sync("Network", main)

    def stream(
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
        inputs = self._input(query)
        iterations = self._iterations(max_iterations)

        def start(queue: asyncio.Queue[Event]) -> Any:
            return self._execute(
                inputs,
                query=query,
                max_iterations=iterations,
                thread_id=thread_id or str(uuid.uuid4()),
                callback=None,
                queue=queue,
            )

        return self._runner.stream(start)

    async def warmup(self) -> None:
        """Do the router's slow first-use work now (e.g. load a local embedding model and
        embed the agents' profiles), so the first request is as fast as the rest."""
        if self._router is not None:
            await self._router.warmup(self.agents)

    async def aclose(self) -> None:
        """Close the state store connections this event loop opened, and the router's work."""
        if self._router is not None:
            await self._router.aclose()
        await self._runner.aclose()

    def _iterations(self, max_iterations: int | None) -> int:
        if max_iterations is None:
            return self.max_iterations
        return check_int(max_iterations, "max_iterations", minimum=1, owner="run: ")

    def _input(self, query: str) -> dict[str, Any]:
        if not isinstance(query, str):
            raise ConfigurationError(
                f"query must be a str, got {type(query).__name__} {query!r}; pass the user's "
                "request text."
            )
        if not query.strip():
            raise ConfigurationError(f"query {query!r} is empty; pass the user's request text.")
        check_storable(query, "query")
        seeds: list[StateOp] = [("default", k, v) for k, v in self.state.to_dict().items()]
        return run_input(query, seeds=seeds)

    async def _execute(
        self,
        inputs: dict[str, Any] | None,
        *,
        query: str,
        max_iterations: int,
        thread_id: str,
        callback: StreamCallback | None,
        queue: asyncio.Queue[Event] | None,
    ) -> RunResult:
        iterations = max_iterations
        tracker = TurnTracker(self._router) if self._router is not None else None
        agents = {name: spec.agent for name, spec in self._agents.items()}

        def context(emitter: _Emitter) -> RunContext:
            return RunContext(
                emitter=emitter,
                max_iterations=iterations,
                max_depth=self.max_delegation_depth,
                turns=tracker,
            )

        def finish(final: dict[str, Any], thread: str, run_id: str) -> Outcome:
            result = result_from_values(final, agents=agents, thread_id=thread, run_id=run_id)
            return Outcome(
                result,
                {
                    "output": result.output,
                    "agent_path": result.agent_path,
                    "stop_reason": result.stop_reason,
                    "iterations": result.iterations,
                    "usage": result.usage,
                },
            )

        def on_end(failed: bool) -> None:
            if tracker is not None:
                tracker.release_open(failed=failed)

        result: RunResult = await self._runner.execute(
            inputs,
            thread_id=thread_id,
            started={"query": query},
            context=context,
            # Each turn takes at most 2 * max_tool_rounds + 2 supersteps (model, tools,
            # delegation, routing); LangGraph's own limit must never cut a run short.
            recursion_limit=iterations * (2 * self._max_rounds + 4) + 10,
            finish=finish,
            callback=callback,
            queue=queue,
            on_end=on_end,
        )
        return result


def create_network(
    agents: Sequence[Agent],
    router: RouterLike | None = None,
    state_store: StateStoreLike = None,
    default_model: str | BaseChatModel | None = None,
    model_provider: ModelProvider | None = None,
    max_iterations: int = 10,
    name: str = "network",
    *,
    retry: RetryPolicy | None = None,
    fallback: str | None = None,
    max_delegation_depth: int = 3,
) -> Network:
    """Build and compile a `Network`.

    Args:
        agents: The agents; names must be unique.
        router: Picks the agent for each request: a `Router`, ``f(state, query)``, or a
            per-turn ``f(context: RouteContext)``. Without one, a new thread starts with
            the first agent and a continued thread with the agent that last held it.
        state_store: Where checkpoints live: `InMemoryStateStore()` (the default),
            `SqliteStateStore(path)`, `PostgresStateStore(dsn)` or a ``BaseCheckpointSaver``.
        default_model: The model of agents that name none: a name or a ``BaseChatModel``.
        model_provider: Resolves model names; `OpenAIModelProvider()` when ``None``.
        max_iterations: The most agent turns one run may take, delegations included.
        name: The network's name, in events and traces.
        retry: How transient model failures are retried.
        fallback: The agent that takes requests a request router has no opinion on;
            without one, such a request raises `RoutingError`.
        max_delegation_depth: How deep ``ask_<agent>`` delegations may nest.

    Raises:
        ConfigurationError: the definition cannot run (no agents, duplicate names, an
            agent without a model, an unknown fallback, ...).
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
        fallback=fallback,
        max_delegation_depth=max_delegation_depth,
    )
