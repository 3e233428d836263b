"""Compile workflow `Step`s: validate them, fix their ids, build agent subgraphs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._checks import check_int
from ..agent import Agent
from ..exceptions import ConfigurationError, WorkflowError
from ..models import ModelProvider, RetryPolicy, resolve_model
from ..steps import (
    AgentStep,
    ConditionalStep,
    LoopStep,
    ParallelStep,
    Step,
    TransformStep,
    template_keys,
)
from .agent import CompiledAgent
from .graph import build_graph
from .workflow import CompiledStep

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.graph.state import CompiledStateGraph
    from pydantic import BaseModel

__all__ = ["StepCompiler", "loop_product", "walk"]


class StepCompiler:
    """Turns a workflow's steps into `CompiledStep`s, or raises `WorkflowError` saying why."""

    def __init__(
        self,
        name: str,
        agents: Sequence[Agent],
        *,
        default_model: str | BaseChatModel | None,
        provider: ModelProvider | None,
        retry: RetryPolicy,
    ):
        self._by_name = {agent.name.lower(): agent for agent in agents}
        if len(self._by_name) != len(agents):
            raise ConfigurationError(
                f"Workflow {name!r}: agent names must be unique ignoring case."
            )
        self._default_model = default_model
        self._provider = provider
        self._retry = retry
        self._subgraphs: dict[tuple[str, Any], CompiledStateGraph[Any, Any, Any, Any]] = {}
        self._ids: set[str] = set()
        self.output_types: dict[str, type[BaseModel]] = {}
        """The ``output_type`` of each output key that has one."""

    def compile(self, steps: Sequence[Step]) -> list[CompiledStep]:
        """Compile top-level ``steps``; their ids are ``s1``, ``s2``, ... plus a suffix."""
        return [self._compile(step, f"s{i}") for i, step in enumerate(steps, 1)]

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
                self.output_types[key] = step.output_type
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
            if not step.body:
                raise WorkflowError(f"Step {step_id!r}: a loop needs a body; give it a step.")
            check_int(step.max_iterations, "max_iterations", minimum=1, owner=f"Step {step_id!r}: ")
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
                agent = replace(agent, output_type=output_type)
            spec = CompiledAgent.build(agent, model, [agent])
            _, self._subgraphs[key] = build_graph(
                [spec], router=None, fallback=None, retry=self._retry
            )
        return self._subgraphs[key]

    def required_inputs(
        self, steps: list[CompiledStep], inputs: Sequence[str] | None, *, known: set[str]
    ) -> set[str]:
        """The run inputs the templates need; with ``inputs`` declared, check them instead.

        Raises:
            WorkflowError: ``inputs`` is declared and a template key nothing provides.
        """
        declared = inputs is not None
        declared_inputs = set(inputs or ())
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

        for step in steps:
            known = visit(step, known)
        return required


def _suffix(step: Step) -> str:
    if isinstance(step, AgentStep):
        return "_" + "".join(c if c.isalnum() else "_" for c in step.agent_name.lower())
    return "_" + type(step).__name__.removesuffix("Step").lower()


def walk(steps: Sequence[CompiledStep]) -> Iterator[CompiledStep]:
    """Every step, depth first, branches and loop bodies included."""
    for step in steps:
        yield step
        yield from walk(step.children)
        if step.otherwise is not None:
            yield from walk([step.otherwise])


def loop_product(steps: Sequence[CompiledStep]) -> int:
    """The product of the loops' ``max_iterations`` (a bound on repeated supersteps)."""
    product = 1
    for step in walk(steps):
        if isinstance(step.step, LoopStep):
            product *= step.step.max_iterations
    return product
