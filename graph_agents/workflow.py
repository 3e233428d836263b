"""`create_workflow`, `Workflow` and `WorkflowResult`: declarative multi-agent workflows.

A workflow is a list of `Step`s compiled to its own LangGraph ``StateGraph``. It uses the
same state stores, ``thread_id`` resume, events and run machinery as networks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ._runner import GraphRunner, Outcome, RunnerFacade, run_sync
from .agent import Agent
from .checkpoints import StateStoreLike
from .events import Event, StreamCallback, _Emitter
from .exceptions import ConfigurationError, WorkflowError
from .models import ModelProvider, RetryPolicy, resolve_model
from .nodes import CompiledAgent, RunContext, build_graph
from .nodes.workflow import CompiledStep, build_workflow_graph, workflow_input
from .state import NetworkState, StateOp
from .steps import (
    AgentStep,
    ConditionalStep,
    LoopStep,
    ParallelStep,
    Step,
    TransformStep,
    template_keys,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.graph.state import CompiledStateGraph


__all__ = ["Step", "Workflow", "WorkflowResult", "create_workflow"]


@dataclass(kw_only=True)
class WorkflowResult:
    """The outcome of one workflow run."""

    output: Any
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
        self.state = NetworkState()
        self._by_name = {agent.name.lower(): agent for agent in agents}
        if len(self._by_name) != len(agents):
            raise ConfigurationError(
                f"Workflow {name!r}: agent names must be unique ignoring case."
            )
        self._default_model = default_model
        self._provider = model_provider
        self._retry = retry or RetryPolicy()
        self._subgraphs: dict[tuple[str, Any], CompiledStateGraph[Any, Any, Any, Any]] = {}
        self._types: dict[str, type[BaseModel]] = {}
        self._ids: set[str] = set()
        self.steps = [self._compile(step, f"s{i}") for i, step in enumerate(steps, 1)]
        self.required_inputs = self._check_templates(
            self.steps, set(inputs or ()), declared=inputs is not None
        )
        self._nodes = sum(1 for _ in _walk(self.steps))
        self._runner = GraphRunner(
            name=name, kind="workflow", builder=build_workflow_graph(self.steps), store=state_store
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
            output = final.get("output")
            if isinstance(output, list):
                output = [self._revive(None, item) for item in output]
            result = WorkflowResult(
                output=self._revive(final.get("output_key"), output),
                outputs=outputs,
                state=shared,
                path=list(final.get("path", [])),
                thread_id=thread,
                run_id=run_id,
                usage=dict(final.get("usage") or {}),
            )
            return Outcome(
                result,
                {"output": repr(result.output)[:2000], "path": result.path, "usage": result.usage},
            )

        result: WorkflowResult = await self._runner.execute(
            inputs,
            thread_id=thread_id,
            started={},
            context=context,
            recursion_limit=50 * self._nodes * max(_loop_product(self.steps), 1) + 50,
            finish=finish,
            callback=callback,
            queue=queue,
        )
        return result

    def _revive(self, key: str | None, value: Any) -> Any:
        output_type = self._types.get(key or "")
        if output_type is not None and isinstance(value, dict):
            return output_type.model_validate(value)
        return value

    def _keys(self) -> list[str]:
        return [
            s.key or s.id
            for s in _walk(self.steps)
            if isinstance(s.step, (AgentStep, TransformStep))
        ]

    def _compile(self, step: Step, default_id: str) -> CompiledStep:
        if not isinstance(step, Step):
            raise WorkflowError(f"{step!r} is not a Step; build steps with Step.agent(...) etc.")
        step_id = step.name or default_id + _suffix(step)
        if step_id in self._ids:
            raise WorkflowError(f"Two steps are named {step_id!r}; step names must be unique.")
        self._ids.add(step_id)
        if isinstance(step, AgentStep):
            agent = self._by_name.get(step.agent_name.lower())
            if agent is None:
                known = ", ".join(repr(a.name) for a in self._by_name.values())
                raise WorkflowError(
                    f"Step {step_id!r} names unknown agent {step.agent_name!r}; known agents: "
                    f"{known}. Names match case-insensitively."
                )
            key = step.output_key or step_id
            if step.output_type is not None:
                self._types[key] = step.output_type
            return CompiledStep(
                step,
                step_id,
                key=step.output_key,
                agent=agent.name,
                subgraph=self._subgraph(agent, step.output_type),
            )
        if isinstance(step, TransformStep):
            if not callable(step.fn):
                raise WorkflowError(f"Step {step_id!r}: transform {step.fn!r} is not callable.")
            return CompiledStep(step, step_id, key=step.output_key)
        if isinstance(step, ParallelStep):
            if not step.steps:
                raise WorkflowError(
                    f"Step {step_id!r}: Step.parallel([]) has no branches; give it at least one."
                )
            children = tuple(
                self._compile(s, f"{step_id}_{i}") for i, s in enumerate(step.steps, 1)
            )
            keys = [
                c.key or c.id for c in children if isinstance(c.step, (AgentStep, TransformStep))
            ]
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise WorkflowError(
                    f"Step {step_id!r}: parallel branches share output_key(s) {duplicates!r}; "
                    "give each branch its own output_key."
                )
            return CompiledStep(step, step_id, children=children)
        if isinstance(step, ConditionalStep):
            if not callable(step.condition):
                raise WorkflowError(
                    f"Step {step_id!r}: condition {step.condition!r} is not callable; pass a "
                    "function of the state, e.g. lambda state: state.get('score', 0) < 8."
                )
            true = self._compile(step.true_step, f"{step_id}_then")
            false = (
                self._compile(step.false_step, f"{step_id}_else")
                if step.false_step is not None
                else None
            )
            return CompiledStep(step, step_id, children=(true,), otherwise=false)
        if isinstance(step, LoopStep):
            if not callable(step.until):
                raise WorkflowError(f"Step {step_id!r}: until={step.until!r} is not callable.")
            if step.max_iterations < 1 or not step.body:
                raise WorkflowError(
                    f"Step {step_id!r}: a loop needs a body and max_iterations >= 1."
                )
            children = tuple(self._compile(s, f"{step_id}_{i}") for i, s in enumerate(step.body, 1))
            return CompiledStep(step, step_id, children=children)
        raise WorkflowError(f"Unsupported step {step!r}.")

    def _subgraph(
        self, agent: Agent, output_type: type[BaseModel] | None
    ) -> CompiledStateGraph[Any, Any, Any, Any]:
        key = (agent.name, output_type)
        if key not in self._subgraphs:
            model = resolve_model(
                agent.model, default=self._default_model, provider=self._provider, owner=agent.name
            )
            if output_type is not None:
                from dataclasses import replace

                agent = replace(agent, output_type=output_type)
            spec = CompiledAgent.build(agent, model, [agent])
            _, self._subgraphs[key] = build_graph(
                [spec], router=None, fallback=None, retry=self._retry
            )
        return self._subgraphs[key]

    def _check_templates(
        self, steps: list[CompiledStep], declared_inputs: set[str], *, declared: bool
    ) -> set[str]:
        required: set[str] = set()

        def visit(step: CompiledStep, known: set[str]) -> set[str]:
            kind = step.step
            if isinstance(kind, AgentStep):
                for key in template_keys(kind.prompt_template, step=step.id):
                    if key in known:
                        continue
                    if declared and key not in declared_inputs:
                        raise WorkflowError(
                            f"Step {step.id!r}: template key {key!r} is not an input, a "
                            "state key, or an earlier step's output_key. Add it to "
                            "inputs=[...] or produce it in an earlier step."
                        )
                    required.add(key)
                fields = set(kind.output_type.model_fields) if kind.output_type else set()
                return known | {step.key or step.id} | fields
            if isinstance(kind, TransformStep):
                return known | {step.key or step.id}
            produced = set(known)
            for child in (*step.children, *([step.otherwise] if step.otherwise else [])):
                produced |= visit(child, known if isinstance(kind, ParallelStep) else produced)
            return produced

        known = set(self.state.to_dict())
        for step in steps:
            known = visit(step, known)
        return required


def _suffix(step: Step) -> str:
    if isinstance(step, AgentStep):
        return "_" + "".join(c if c.isalnum() else "_" for c in step.agent_name.lower())
    return "_" + type(step).__name__.removesuffix("Step").lower()


def _walk(steps: Sequence[CompiledStep]) -> Any:
    for step in steps:
        yield step
        yield from _walk(step.children)
        if step.otherwise is not None:
            yield from _walk([step.otherwise])


def _loop_product(steps: Sequence[CompiledStep]) -> int:
    product = 1
    for step in _walk(steps):
        if isinstance(step.step, LoopStep):
            product *= step.step.max_iterations
    return product


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
