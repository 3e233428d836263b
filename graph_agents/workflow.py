"""`create_workflow`, `Workflow` and `WorkflowResult`: declarative multi-agent workflows.

A workflow is a list of `Step`s compiled to its own LangGraph ``StateGraph``. It uses the
same state stores, ``thread_id`` resume, events and run machinery as networks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from ._runner import GraphRunner, Outcome, RunnerFacade, run_sync
from .agent import Agent
from .checkpoints import StateStoreLike
from .events import Event, StreamCallback, _Emitter
from .exceptions import WorkflowError
from .models import ModelProvider, RetryPolicy
from .nodes import RunContext
from .nodes.workflow import CompiledStep, Reviver, build_workflow_graph, to_jsonable, workflow_input
from .nodes.workflow_compile import StepCompiler, loop_product, walk
from .result import OutputT
from .state import NetworkState, StateOp, check_storable
from .steps import (
    AgentStep,
    Step,
    TransformStep,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = ["Step", "Workflow", "WorkflowResult", "create_workflow"]


@dataclass(kw_only=True)
class WorkflowResult(Generic[OutputT]):
    """The outcome of one workflow run.

    Generic over the last step's output: annotate ``result: WorkflowResult[Review]``
    when the last step is ``Step.agent(..., output_type=Review)``.
    """

    output: OutputT
    """The last step's output (a list for a final parallel step)."""
    outputs: dict[str, Any]
    """Every step's output by ``output_key`` (or step id); parsed objects for ``output_type``."""
    state: dict[str, Any]
    """The shared state when the run ended (inputs, outputs and merged fields included)."""
    path: list[str]
    """The agent and transform steps that ran, in order (loops repeat them)."""
    thread_id: str
    """The thread; pass it to ``resume()`` after a failure."""
    run_id: str
    """This run's id, as in its events."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token usage summed over the run's model calls."""


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
    ):
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
        self._runner = GraphRunner(
            name=name,
            kind="workflow",
            builder=build_workflow_graph(self.steps, compiler.output_types),
            store=state_store,
        )

    async def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        thread_id: str | None = None,
        stream_callback: StreamCallback | None = None,
    ) -> WorkflowResult:
        """Run every step with ``inputs`` (template values, also put into state).

        Raises:
            WorkflowError: a required input is missing, or a step failed.
            ConcurrentRunError: another run on ``thread_id`` is in progress.
        """
        return await self._execute(
            self._input(inputs),
            thread_id=thread_id or str(uuid.uuid4()),
            callback=stream_callback,
            queue=None,
        )

    async def resume(
        self, thread_id: str, *, stream_callback: StreamCallback | None = None
    ) -> WorkflowResult:
        """Continue a failed run from its last checkpoint; completed steps never run again.

        Raises:
            ConfigurationError: the thread has no checkpoint, or nothing left to run.
        """
        await self._runner.resumable(thread_id)
        return await self._execute(None, thread_id=thread_id, callback=stream_callback, queue=None)

    def run_sync(
        self, inputs: Mapping[str, Any] | None = None, *, thread_id: str | None = None
    ) -> WorkflowResult:
        """`run`, for code outside an event loop."""

        async def main() -> WorkflowResult:
            try:
                return await self.run(inputs, thread_id=thread_id)
            finally:
                await self.aclose()

        return run_sync("Workflow", main)

    def stream(
        self, inputs: Mapping[str, Any] | None = None, *, thread_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Run the workflow and yield its events as they happen."""
        start_inputs = self._input(inputs)

        def start(queue: asyncio.Queue[Event]) -> Any:
            return self._execute(
                start_inputs, thread_id=thread_id or str(uuid.uuid4()), callback=None, queue=queue
            )

        return self._runner.stream(start)

    def _input(self, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(inputs or {})
        for key, value in given.items():
            check_storable(key, "Input name")
            check_storable(value, f"Input {key!r}")
        seeds: list[StateOp] = [("default", k, v) for k, v in self.state.to_dict().items()]
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
        queue: asyncio.Queue[Event] | None,
    ) -> WorkflowResult:
        def context(emitter: _Emitter) -> RunContext:
            return RunContext(emitter=emitter, max_iterations=10_000)

        def finish(final: dict[str, Any], thread: str, run_id: str) -> Outcome:
            shared = dict(final.get("shared") or {})
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
            )
            return Outcome(
                result,
                {
                    "output": to_jsonable(result.output),
                    "path": result.path,
                    "usage": result.usage,
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
            queue=queue,
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
    )
