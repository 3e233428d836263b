"""`create_workflow`, `Workflow` and `WorkflowResult`: declarative multi-agent workflows.

A workflow is a list of `Step`s compiled to its own LangGraph ``StateGraph``. It uses the
same state stores, ``thread_id`` resume, events and run machinery as networks.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._checks import check_user_id
from ._emitter import Backlog, Emitter
from ._facade import RunnerFacade, check_run_args, warm_memories
from ._runner import GraphRunner, Outcome, run_sync
from ._secrets import reveal_state
from ._trace_settings import TraceSettings
from .agent import Agent
from .approval import Approval, ApprovalRequest
from .checkpoints import Durability, StateStoreLike, make_policy
from .drawing import Diagram, workflow_diagram
from .events import StreamCallback
from .exceptions import WorkflowError
from .models import ModelProvider, RetryPolicy
from .nodes import RunContext
from .nodes.workflow import CompiledStep, Reviver, build_workflow_graph, to_jsonable, workflow_input
from .nodes.workflow_compile import StepCompiler, loop_product, walk
from .result import WorkflowResult
from .state import NetworkState, check_storable
from .steps import (
    AgentStep,
    Step,
    TransformStep,
)
from .streaming import RunStream

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from opentelemetry.trace import TracerProvider

    from .tools import Tool


__all__ = ["Step", "Workflow", "WorkflowResult", "create_workflow"]


class Workflow(RunnerFacade):
    """A compiled workflow. Build one with `create_workflow`."""

    def __init__(
        self,
        name: str,
        agents: Sequence[Agent],
        steps: Sequence[Step],
        *,
        state_store: StateStoreLike = None,
        default_model: str | BaseChatModel | None = None,
        model_provider: ModelProvider | None = None,
        inputs: Sequence[str] | None = None,
        retry: RetryPolicy | None = None,
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
        if not steps:
            raise WorkflowError(f"Workflow {name!r} has no steps; pass at least one Step.")
        self.name = name
        self.state: NetworkState = NetworkState()
        """Values that seed the shared state of every run."""
        compiler = StepCompiler(
            name,
            agents,
            default_model=default_model,
            provider=model_provider,
            retry=retry or RetryPolicy(),
        )
        self.steps: list[CompiledStep] = compiler.compile(steps)
        """The compiled steps, ids fixed."""
        self.required_inputs: set[str] = compiler.required_inputs(
            self.steps, inputs, known=set(self.state.to_dict())
        )
        self._revive = Reviver(compiler.output_types)
        self._nodes = sum(1 for _ in walk(self.steps))
        self._agents = {agent.name: agent for agent in agents}
        self._runner = GraphRunner(
            name=name,
            kind="workflow",
            builder=build_workflow_graph(self.steps, compiler.output_types),
            store=state_store,
            policy=make_policy(
                durability=durability,
                encrypt_checkpoints=encrypt_checkpoints,
                checkpoint_types=checkpoint_types,
                owner="create_workflow",
            ),
            tracing=TraceSettings(tracing, tracer_provider, capture_content),
        )

    async def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        thread_id: str | None = None,
        stream_callback: StreamCallback | None = None,
        checkpoint_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> WorkflowResult:
        """Run every step with ``inputs`` (template values, also put into state).

        ``checkpoint_id`` forks the thread: the run starts from that earlier checkpoint
        and the history after it stays as it was. A step whose agent asks for approval
        pauses the run: the result has ``stop_reason="interrupted"``. ``run_id`` is an
        idempotency key, as for `Network.run`. ``user_id`` is the user memories with
        ``scope="user"`` are recalled and stored for.

        Raises:
            WorkflowError: a required input is missing, or a step failed.
            ConcurrentRunError: another run on ``thread_id`` is in progress.
            ConfigurationError: ``checkpoint_id`` or ``run_id`` without ``thread_id``, or
                ``checkpoint_id`` is not one of its checkpoints.
            StoreError: the state store failed (see `Network.run`).
        """
        check_run_args(thread_id, checkpoint_id, run_id)
        return await self._execute(
            self._input(inputs),
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
        stream_callback: StreamCallback | None = None,
        user_id: str | None = None,
    ) -> WorkflowResult:
        """Continue a run: answer its pending approvals, or pick up after a failure.

        Completed steps, and completed model and tool calls inside a step, never run
        again. The arguments are those of `Network.resume`.

        Raises:
            ConfigurationError: as for `Network.resume`.
        """
        _, resume_map = await self.prepare_resume(
            thread_id,
            approve=approve,
            feedback=feedback,
            edits=edits,
            decisions=decisions,
            checkpoint_id=checkpoint_id,
        )
        return await self._execute(
            None,
            thread_id=thread_id,
            callback=stream_callback,
            sink=None,
            resume_map=resume_map,
            checkpoint_id=checkpoint_id,
            user_id=user_id,
        )

    async def warmup(self) -> None:
        """Load the agents' memories' embeddings and open their collections now, so the
        first step does not wait for them.

        Raises:
            ConfigurationError: a memory's collection holds another model's vectors.
            StoreError: a memory's Chroma cannot be reached.
        """
        await warm_memories(self._agents.values())

    def diagram(self) -> Diagram:
        """The workflow's shape: its steps, branches and conditions."""
        return workflow_diagram(self.name, self.steps)

    def _tool_of(self, request: ApprovalRequest) -> Tool | None:
        agent = self._agents.get(request.agent)
        if agent is None:
            return None
        return next((t for t in agent.tool_list if t.name == request.tool), None)

    def run_sync(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> WorkflowResult:
        """`run`, for code outside an event loop."""

        async def main() -> WorkflowResult:
            try:
                return await self.run(inputs, thread_id=thread_id, run_id=run_id, user_id=user_id)
            finally:
                await self.aclose()

        return run_sync("Workflow", main)

    def stream(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> RunStream[WorkflowResult]:
        """Run the workflow, streaming its events as they happen; then its result.

        ``async with workflow.stream(...) as stream: async for event in stream: ...``, then
        ``stream.result`` is what `run` returns. The last event is ``run.completed`` or
        ``run.failed``, after which iterating raises the run's exception. Leaving the
        ``async with`` block early cancels the run; its completed steps stay
        checkpointed, so ``resume(thread_id)`` continues it. ``run_id`` and ``user_id``
        are as for `run`.
        """
        check_run_args(thread_id, None, run_id)
        start_inputs = self._input(inputs)

        def start(sink: Backlog) -> Awaitable[WorkflowResult]:
            return self._execute(
                start_inputs,
                thread_id=thread_id or str(uuid.uuid4()),
                callback=None,
                sink=sink,
                run_id=run_id,
                user_id=user_id,
            )

        return RunStream(start)

    def _input(self, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(inputs or {})
        for key, value in given.items():
            check_storable(key, "Input name")
            check_storable(value, f"Input {key!r}")
        seeds = self.state.seed_ops()
        missing = sorted(self.required_inputs - set(given) - set(self.state.to_dict()))
        if missing:
            example = ", ".join(f"{m!r}: ..." for m in missing)
            raise WorkflowError(
                f"Workflow {self.name!r} needs the input(s) {missing!r} for its prompt "
                f"templates; pass them: workflow.run({{{example}}})."
            )
        return workflow_input(given, seeds)

    async def _execute(
        self,
        inputs: dict[str, Any] | None,
        *,
        thread_id: str,
        callback: StreamCallback | None,
        sink: Backlog | None,
        resume_map: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> WorkflowResult:
        check_user_id(self._agents.values(), user_id, f"Workflow {self.name!r}")

        def context(emitter: Emitter) -> RunContext:
            return RunContext(
                emitter=emitter, max_iterations=10_000, owner=self.name, user_id=user_id
            )

        def finish(
            final: dict[str, Any], thread: str, run_id: str, interrupts: list[ApprovalRequest]
        ) -> Outcome:
            shared = reveal_state(final.get("shared"))
            outputs = {
                key: self._revive(key, shared.get(key)) for key in self._keys() if key in shared
            }
            output = self._revive(final.get("output_key"), final.get("output"))
            result = WorkflowResult(
                output=output,
                outputs=outputs,
                state=shared,
                path=list(final.get("path", [])),
                thread_id=thread,
                run_id=run_id,
                usage=dict(final.get("usage") or {}),
                stop_reason="interrupted" if interrupts else "completed",
                interrupts=interrupts,
            )
            return Outcome(
                result,
                {
                    "output": to_jsonable(result.output),
                    "path": result.path,
                    "usage": result.usage,
                    "stop_reason": result.stop_reason,
                    "interrupts": [request.id for request in interrupts],
                },
            )

        result: WorkflowResult = await self._runner.execute(
            inputs,
            thread_id=thread_id,
            started={},
            context=context,
            recursion_limit=50 * self._nodes * max(loop_product(self.steps), 1) + 50,
            finish=finish,
            callback=callback,
            sink=sink,
            resume_map=resume_map,
            checkpoint_id=checkpoint_id,
            run_id=run_id,
        )
        return result

    def _keys(self) -> list[str]:
        return [
            s.key or s.id
            for s in walk(self.steps)
            if isinstance(s.step, (AgentStep, TransformStep))
        ]


def create_workflow(
    name: str,
    agents: Sequence[Agent],
    steps: Sequence[Step],
    *,
    state_store: StateStoreLike = None,
    default_model: str | BaseChatModel | None = None,
    model_provider: ModelProvider | None = None,
    inputs: Sequence[str] | None = None,
    retry: RetryPolicy | None = None,
    durability: Durability | None = None,
    encrypt_checkpoints: bytes | str | None = None,
    checkpoint_types: Sequence[type] = (),
    tracer_provider: TracerProvider | None = None,
    tracing: bool = True,
    capture_content: bool | None = None,
) -> Workflow:
    """Validate ``steps`` and compile them into a `Workflow`.

    Args:
        name: The workflow's name, in events and the graph.
        agents: The agents steps may name (case-insensitively).
        steps: The steps, run in order.
        state_store: Where checkpoints live, as for networks.
        default_model: The model of agents that name none.
        model_provider: Resolves model names.
        inputs: The run inputs the templates may use. When given, a template key that no
            input, state key or earlier output_key provides fails here; when ``None``,
            such keys become required inputs, checked when ``run()`` is called.
        retry: How transient model failures are retried.
        durability: When checkpoints are written, as for `create_network`.
        encrypt_checkpoints: An AES key: checkpoints are encrypted, as for `create_network`.
        checkpoint_types: Classes of state values checkpoints may construct on load.
        tracer_provider: Where spans go; the global OpenTelemetry provider when ``None``
            (a private one that only feeds ``get_traces`` when none is configured).
        tracing: ``False`` turns spans and ``get_traces`` off.
        capture_content: Put prompts, answers and tool arguments and results into spans;
            ``None`` reads ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.

    Raises:
        WorkflowError: an unknown agent, an empty parallel step, a condition that is not
            callable, a template key nothing provides, or parallel branches sharing an
            output_key; each names the step and the fix.
    """
    return Workflow(
        name,
        agents,
        steps,
        state_store=state_store,
        default_model=default_model,
        model_provider=model_provider,
        inputs=inputs,
        retry=retry,
        durability=durability,
        encrypt_checkpoints=encrypt_checkpoints,
        checkpoint_types=checkpoint_types,
        tracer_provider=tracer_provider,
        tracing=tracing,
        capture_content=capture_content,
    )
