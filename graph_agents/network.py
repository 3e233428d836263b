"""`Network`: agents compiled into one LangGraph graph, with run, stream and state APIs."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._checks import check_int, check_user_id
from ._emitter import Backlog, Emitter
from ._facade import RunnerFacade, check_run_args, warm_memories
from ._runner import GraphRunner, Outcome, run_sync
from ._trace_settings import TraceSettings
from .agent import Agent
from .approval import Approval, ApprovalRequest
from .checkpoints import Durability, StateStoreLike, make_policy
from .drawing import Diagram, network_diagram
from .events import StreamCallback
from .exceptions import ConfigurationError
from .models import ModelProvider, RetryPolicy
from .nodes import RunContext, build_graph, run_input
from .nodes.compile import compile_agents, router_setup
from .nodes.context import TurnTracker
from .nodes.graph import stopped_in_missing_agent
from .result import RunResult, ThreadState, completed_event, result_from_values
from .routers.base import RouterLike, as_router, known_agent
from .state import NetworkState, check_storable
from .streaming import RunStream

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from opentelemetry.trace import TracerProvider

    from .tools import Tool

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
        durability: Durability | None = None,
        encrypt_checkpoints: bytes | str | None = None,
        checkpoint_types: Sequence[type] = (),
        tracer_provider: TracerProvider | None = None,
        tracing: bool = True,
        capture_content: bool | None = None,
    ):
        self._options: dict[str, Any] = {
            k: v for k, v in locals().items() if k not in ("self", "__class__")
        }
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
        self._fallback = fallback
        if self._router is not None:
            self._router.prepare(router_setup(self._agents, default_model, model_provider))
        specs = list(self._agents.values())
        builder, _ = build_graph(
            specs, router=self._router, fallback=fallback, retry=retry or RetryPolicy()
        )
        policy = make_policy(
            durability=durability,
            encrypt_checkpoints=encrypt_checkpoints,
            checkpoint_types=checkpoint_types,
            owner="create_network",
        )
        self._runner = GraphRunner(
            name=name,
            kind="network",
            builder=builder,
            store=state_store,
            policy=policy,
            tracing=TraceSettings(tracing, tracer_provider, capture_content),
        )
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
        checkpoint_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> RunResult:
        """Run the network on ``query`` until it answers, or pauses for an approval.

        Args:
            query: The user's request.
            max_iterations: Overrides the network's bound on agent turns for this run.
            thread_id: Continue this conversation thread; a new thread when ``None``.
            stream_callback: Called (sync or async) with every `Event`, in order.
            checkpoint_id: Fork the thread: run ``query`` on the thread as it was at this
                earlier checkpoint (from ``get_state_history``). The history after it
                stays as it was; the thread continues from the fork.
            run_id: An idempotency key for this request (needs ``thread_id``). Calling
                again with the same key returns the run's recorded result when it
                finished, without running any model or tool again, and continues it
                when it stopped midway (a crash, a store failure).
            user_id: The user the request is for: memories with ``scope="user"`` are
                recalled and stored under this id.

        Returns:
            The result; ``stop_reason="interrupted"`` with ``interrupts`` when a call
            waits for a human's approval (answer it with `resume`).

        Raises:
            ConcurrentRunError: another run on ``thread_id`` is in progress.
            RoutingError: the router failed or chose an unknown agent.
            ModelProviderError: a model call failed for a reason retrying cannot fix.
            ConfigurationError: ``checkpoint_id`` or ``run_id`` is given without
                ``thread_id``, or ``checkpoint_id`` is not a checkpoint of the thread.
            StoreError: the state store failed; it says whether the run wrote anything
                and whether calling again is safe.
        """
        check_run_args(thread_id, checkpoint_id, run_id)
        return await self._execute(
            self._input(query),
            query=query,
            max_iterations=self._iterations(max_iterations),
            thread_id=thread_id or str(uuid.uuid4()),
            callback=stream_callback,
            sink=None,
            checkpoint_id=checkpoint_id,
            run_id=run_id,
            user_id=user_id,
        )

    async def resume(
        self,
        thread_id: str,
        *,
        approve: bool | None = None,
        feedback: str | None = None,
        edits: Mapping[str, Any] | None = None,
        decisions: Mapping[str, Approval | bool] | None = None,
        checkpoint_id: str | None = None,
        max_iterations: int | None = None,
        stream_callback: StreamCallback | None = None,
        user_id: str | None = None,
    ) -> RunResult:
        """Continue a thread's run: answer its pending approvals, or pick up after a failure.

        Completed steps are never repeated: a failed step (or one whose process died)
        runs again, then the run goes on as it would have; a model call or tool call
        that completed is not made again. Works in any process that opens the same
        durable store.

        Args:
            thread_id: The thread.
            approve: Answer the one pending approval: ``True`` runs the call, ``False``
                rejects it (the model is told, with ``feedback``, and carries on).
            feedback: Text for the model with the answer.
            edits: Change the call's arguments before it runs (approved tool calls).
            decisions: Answer pending approvals by request id, when several are pending
                (from parallel delegations or branches); unanswered ones stay pending.
            checkpoint_id: Fork: continue from this earlier checkpoint instead of the
                latest; the history after it stays as it was.
            max_iterations: Overrides the network's bound on agent turns.
            stream_callback: Called (sync or async) with every `Event`, in order.
            user_id: As for `run` (memory's ``"user"`` scope).

        Raises:
            ConfigurationError: the thread has no checkpoint or nothing left to run; its
                run stopped in an agent this network does not have; approvals are pending
                and none was answered; ``approve`` while several are pending; an unknown
                request id; edits a tool cannot take.
        """
        iterations = self._iterations(max_iterations)
        current, resume_map = await self.prepare_resume(
            thread_id,
            approve=approve,
            feedback=feedback,
            edits=edits,
            decisions=decisions,
            checkpoint_id=checkpoint_id,
            check=self._agent_exists,
        )
        return await self._execute(
            None,
            query=current.query,
            max_iterations=iterations,
            thread_id=thread_id,
            callback=stream_callback,
            sink=None,
            resume_map=resume_map,
            checkpoint_id=checkpoint_id,
            user_id=user_id,
        )

    def _agent_exists(self, current: ThreadState) -> None:
        agent = current.active_agent
        if current.stop_reason is None and agent is not None and agent not in self._agents:
            names = list(self._agents)
            raise ConfigurationError(stopped_in_missing_agent(current.thread_id, agent, names))

    def _tool_of(self, request: ApprovalRequest) -> Tool | None:
        spec = self._agents.get(request.agent)
        return spec.tools.get(request.tool) if spec is not None else None

    def run_sync(
        self,
        query: str,
        *,
        max_iterations: int | None = None,
        thread_id: str | None = None,
        stream_callback: StreamCallback | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
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
                    run_id=run_id,
                    user_id=user_id,
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
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> RunStream[RunResult]:
        """Run the network, streaming its events as they happen; then its result.

        ``async with network.stream(...) as stream: async for event in stream: ...``, then
        ``stream.result`` is what `run` returns. The last event is ``run.completed`` or
        ``run.failed``, after which iterating raises the run's exception. Leaving the
        ``async with`` block early cancels the run; its completed steps stay
        checkpointed, so ``resume(thread_id)`` continues it. ``run_id`` is as for `run`.
        """
        check_run_args(thread_id, None, run_id)
        inputs = self._input(query)
        iterations = self._iterations(max_iterations)

        def start(sink: Backlog) -> Awaitable[RunResult]:
            return self._execute(
                inputs,
                query=query,
                max_iterations=iterations,
                thread_id=thread_id or str(uuid.uuid4()),
                callback=None,
                sink=sink,
                run_id=run_id,
                user_id=user_id,
            )

        return RunStream(start)

    async def warmup(self) -> None:
        """Do the slow first-use work now, so the first request is as fast as the rest:
        the router's (e.g. load a local embedding model and embed the agents' profiles)
        and the agents' memories' (load their embeddings, open their collections).

        Raises:
            ConfigurationError: a memory's collection holds another model's vectors.
            StoreError: a memory's Chroma cannot be reached.
        """
        if self._router is not None:
            await self._router.warmup(self.agents)
        await warm_memories(self.agents)

    async def aclose(self) -> None:
        """Close the state store connections this event loop opened, and the router's work."""
        if self._router is not None:
            await self._router.aclose()
        await self._runner.aclose()

    def diagram(self) -> Diagram:
        """The network's shape: start, router, agents, handoff and ask edges."""
        return network_diagram(self.name, self.agents, self._router, self._fallback)

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
        return run_input(query, seeds=self.state.seed_ops())

    async def _execute(
        self,
        inputs: dict[str, Any] | None,
        *,
        query: str,
        max_iterations: int,
        thread_id: str,
        callback: StreamCallback | None,
        sink: Backlog | None,
        resume_map: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> RunResult:
        check_user_id(
            (spec.agent for spec in self._agents.values()), user_id, f"Network {self.name!r}"
        )
        iterations = max_iterations
        tracker = TurnTracker(self._router) if self._router is not None else None
        agents = {name: spec.agent for name, spec in self._agents.items()}

        def context(emitter: Emitter) -> RunContext:
            return RunContext(
                emitter=emitter,
                max_iterations=iterations,
                max_depth=self.max_delegation_depth,
                turns=tracker,
                user_id=user_id,
                owner=self.name,
            )

        def finish(
            final: dict[str, Any], thread: str, run_id: str, interrupts: list[ApprovalRequest]
        ) -> Outcome:
            result = result_from_values(
                final, agents=agents, thread_id=thread, run_id=run_id, interrupts=interrupts
            )
            return Outcome(result, completed_event(result))

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
            sink=sink,
            on_end=on_end,
            resume_map=resume_map,
            checkpoint_id=checkpoint_id,
            run_id=run_id,
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
    durability: Durability | None = None,
    encrypt_checkpoints: bytes | str | None = None,
    checkpoint_types: Sequence[type] = (),
    tracer_provider: TracerProvider | None = None,
    tracing: bool = True,
    capture_content: bool | None = None,
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
        durability: When checkpoints are written: ``"sync"`` (before the next step
            starts: a killed process loses no completed step), ``"async"`` (while the
            next step runs) or ``"exit"`` (when the run ends). ``None``: ``"sync"`` for
            SQLite, Postgres and your own saver, ``"async"`` in memory.
        encrypt_checkpoints: An AES key (16, 24 or 32 bytes, or that as base64 text):
            every checkpoint blob is encrypted with AES-GCM, and plain blobs are refused.
        checkpoint_types: Classes of your state values (pydantic models, dataclasses)
            that checkpoints may construct when loaded; any other class in a checkpoint
            is refused (deserialization is strict).
        tracer_provider: Where spans go; the global OpenTelemetry provider when ``None``
            (a private one that only feeds `get_traces` when none is configured).
        tracing: ``False`` turns spans and `get_traces` off.
        capture_content: Put prompts, answers and tool arguments and results into spans;
            ``None`` reads ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.

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
        durability=durability,
        encrypt_checkpoints=encrypt_checkpoints,
        checkpoint_types=checkpoint_types,
        tracer_provider=tracer_provider,
        tracing=tracing,
        capture_content=capture_content,
    )
