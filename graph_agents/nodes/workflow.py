"""Compile workflow steps to a LangGraph ``StateGraph``.

Every agent and transform step is a node; a parallel step fans out with plain edges (so
its branches run in one superstep, concurrently) and joins with a multi-source edge; a
conditional step is a node that evaluates the condition and records the branch taken,
followed by a conditional edge that reads it; a loop is its body plus a check node with
an edge back. Deciding in a node, not in the edge, means a condition that raises fails
its own step and leaves every completed step checkpointed.

Agent steps run the agent as a subgraph (the network's delegation graph for that one
agent), so they checkpoint, stream and trace exactly as network turns do.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypedDict, cast

from langchain_core.messages import HumanMessage
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel

from ..exceptions import GraphAgentsError, ModelProviderError, WorkflowError
from ..state import StateOp, StateView
from ..steps import (
    AgentStep,
    ConditionalStep,
    LoopStep,
    ParallelStep,
    Step,
    TransformStep,
    template_keys,
)
from .context import RunContext
from .delegate import subgraph_input
from .schema import add_usage, merge_dicts, merge_shared

__all__ = [
    "FINISH_NODE",
    "CompiledStep",
    "Reviver",
    "WorkflowState",
    "build_workflow_graph",
    "entry_node",
    "to_jsonable",
    "workflow_input",
]


class WorkflowState(TypedDict, total=False):
    """The checkpointed state of a workflow run."""

    shared: Annotated[dict[str, Any], merge_shared]
    previous: Any
    path: Annotated[list[str], operator.add]
    branches: Annotated[dict[str, bool], merge_dicts]
    loops: Annotated[dict[str, int], merge_dicts]
    usage: Annotated[dict[str, int], add_usage]
    output: Any
    output_key: str | list[str] | None
    """The output_key of the step that produced ``output``; the branches' keys after a join."""
    stop_reason: str | None
    """``"completed"`` once every step ran; ``None`` while steps are left."""


@dataclass(frozen=True)
class CompiledStep:
    """A step with its id fixed and, for agent steps, the subgraph that runs the agent."""

    step: Step
    id: str
    key: str | None = None
    agent: str | None = None
    subgraph: CompiledStateGraph[Any, Any, Any, Any] | None = None
    children: tuple[CompiledStep, ...] = ()
    otherwise: CompiledStep | None = None


def build_workflow_graph(
    steps: list[CompiledStep], output_types: Mapping[str, type[BaseModel]]
) -> StateGraph[Any, Any, Any, Any]:
    """Build the (uncompiled) graph that runs ``steps`` in order.

    ``output_types`` maps output keys to the ``output_type`` of the step that writes
    them: checkpoints hold such outputs as dicts, and transforms receive them parsed.
    """
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(WorkflowState, context_schema=RunContext)
    reviver = Reviver(output_types)
    exit_node = START
    for step in steps:
        exit_node = _add_step(builder, step, exit_node, in_parallel=False, reviver=reviver)
    builder.add_node(FINISH_NODE, cast(Any, _finish))
    builder.add_edge(exit_node, FINISH_NODE)
    builder.add_edge(FINISH_NODE, END)
    return builder


FINISH_NODE = "__finish__"
"""The last node of every workflow: it records that the run completed."""


async def _finish(state: WorkflowState) -> dict[str, Any]:
    return {"stop_reason": "completed"}


def workflow_input(inputs: Mapping[str, Any], seeds: list[StateOp]) -> dict[str, Any]:
    """The graph input that starts a run: inputs and seeds into state, per-run channels reset."""
    from langgraph.types import Overwrite

    ops: list[StateOp] = [*seeds, *(("set", k, v) for k, v in inputs.items())]
    return {
        "shared": ops,
        "previous": None,
        "output": None,
        "output_key": None,
        "stop_reason": None,
        "path": Overwrite([]),
        "branches": Overwrite({}),
        "loops": Overwrite({}),
        "usage": Overwrite({}),
    }


class Reviver:
    """Turns stored outputs back into what their steps produced (``output_type`` objects)."""

    def __init__(self, output_types: Mapping[str, type[BaseModel]]):
        self._types = dict(output_types)

    def __call__(self, key: str | list[str] | None, value: Any) -> Any:
        """``value`` as the step(s) behind ``key`` produced it; a list after a parallel step."""
        if isinstance(key, list) and isinstance(value, list):
            return [self(k, item) for k, item in zip(key, value, strict=True)]
        output_type = self._types.get(key) if isinstance(key, str) else None
        if output_type is not None and isinstance(value, dict):
            return output_type.model_validate(value)
        return value


def _add_step(
    builder: StateGraph[Any, Any, Any, Any],
    step: CompiledStep,
    previous: str | None,
    *,
    in_parallel: bool,
    reviver: Reviver,
) -> str:
    """Add ``step`` after node ``previous`` (``None``: a conditional edge leads in).

    Returns the node the next step follows.
    """
    kind = step.step
    entry = entry_node(step)
    if isinstance(kind, (AgentStep, TransformStep)):
        node = (
            _agent_node(step, in_parallel)
            if isinstance(kind, AgentStep)
            else _transform_node(step, in_parallel, reviver)
        )
        builder.add_node(entry, cast(Any, node))
    else:
        builder.add_node(
            entry,
            cast(
                Any,
                _noop
                if not isinstance(kind, ConditionalStep)
                else _condition_node(step.id, kind.condition),
            ),
        )
    if previous is not None:
        builder.add_edge(previous, entry)
    if isinstance(kind, (AgentStep, TransformStep)):
        return entry
    done = f"{step.id}_end"
    if isinstance(kind, ParallelStep):
        exits = [
            _add_step(builder, branch, entry, in_parallel=True, reviver=reviver)
            for branch in step.children
        ]
        keys = [_output_key(branch) for branch in step.children]
        builder.add_node(done, cast(Any, _join_node(keys, in_parallel)))
        builder.add_edge(exits, done)
        return done
    builder.add_node(done, cast(Any, _noop))
    if isinstance(kind, ConditionalStep):
        targets: dict[Hashable, str] = {"then": entry_node(step.children[0]), "else": done}
        builder.add_edge(
            _add_step(builder, step.children[0], None, in_parallel=in_parallel, reviver=reviver),
            done,
        )
        if step.otherwise is not None:
            targets["else"] = entry_node(step.otherwise)
            builder.add_edge(
                _add_step(builder, step.otherwise, None, in_parallel=in_parallel, reviver=reviver),
                done,
            )
        builder.add_conditional_edges(entry, _branch_edge(step.id), targets)
        return done
    if isinstance(kind, LoopStep):
        exit_node = entry
        for child in step.children:
            exit_node = _add_step(
                builder, child, exit_node, in_parallel=in_parallel, reviver=reviver
            )
        check = f"{step.id}_until"
        builder.add_node(check, cast(Any, _loop_node(step.id, kind)))
        builder.add_edge(exit_node, check)
        builder.add_conditional_edges(check, _loop_edge(step.id), {"again": entry, "done": done})
        return done
    raise WorkflowError(f"Step {step.id!r}: unsupported step type {type(kind).__name__}.")


def entry_node(step: CompiledStep) -> str:
    """The node a step starts at."""
    kind = step.step
    if isinstance(kind, ConditionalStep):
        return f"{step.id}_if"
    if isinstance(kind, ParallelStep):
        return f"{step.id}_fork"
    if isinstance(kind, LoopStep):
        return f"{step.id}_start"
    return step.id


def _output_key(step: CompiledStep) -> str:
    return step.key or step.id


async def _noop(state: WorkflowState) -> dict[str, Any]:
    return {}


def _agent_node(step: CompiledStep, in_parallel: bool) -> Callable[..., Any]:
    kind = step.step
    assert isinstance(kind, AgentStep)
    key = _output_key(step)
    graph = step.subgraph
    assert graph is not None
    assert step.agent is not None
    agent = step.agent

    placeholders = set(template_keys(kind.prompt_template, step=step.id))

    async def run_agent(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        shared = state.get("shared") or {}
        prompt = _fill(kind.prompt_template, shared, step=step.id)
        previous = state.get("previous")
        previous_keys = state.get("output_key")
        keys = previous_keys if isinstance(previous_keys, list) else [previous_keys]
        # A template that already quotes the previous output gets no second copy of it.
        if previous not in (None, "", []) and not placeholders.intersection(k for k in keys if k):
            prompt = f"{prompt}\n\nContext from the previous step:\n{_as_text(previous)}"
        ctx = replace(runtime.context, depth=runtime.context.depth + 1)
        try:
            final = await graph.ainvoke(
                subgraph_input(agent, [HumanMessage(prompt)], shared), context=ctx
            )
        except ModelProviderError as exc:
            raise exc.within(agent=agent, step=step.id) from exc
        except (GraphBubbleUp, GraphAgentsError):
            raise
        except Exception as exc:
            raise WorkflowError(
                f"Step {step.id!r} (agent {agent!r}) failed: {type(exc).__name__}: "
                f"{str(exc).rstrip('.')}. "
                "Completed steps are checkpointed; fix the cause, then call "
                "workflow.resume(thread_id)."
            ) from exc
        output: Any = final.get("parsed") if kind.output_type is not None else final["output"]
        ops: list[StateOp] = [*final.get("journal", []), ("set", key, output)]
        if kind.output_type is not None and isinstance(output, dict):
            ops.extend(("set", field, value) for field, value in output.items())
        update: dict[str, Any] = {"shared": ops, "path": [step.id], "usage": final.get("usage", {})}
        if not in_parallel:
            update.update(previous=output, output=output, output_key=key)
        return update

    return run_agent


def _transform_node(step: CompiledStep, in_parallel: bool, reviver: Reviver) -> Callable[..., Any]:
    kind = step.step
    assert isinstance(kind, TransformStep)
    key = _output_key(step)

    async def run_transform(state: WorkflowState) -> dict[str, Any]:
        previous = reviver(state.get("output_key"), state.get("previous"))
        try:
            if inspect.iscoroutinefunction(kind.fn):
                output = await kind.fn(previous)
            else:
                output = await asyncio.to_thread(kind.fn, previous)
        except Exception as exc:
            raise WorkflowError(
                f"Step {step.id!r}: transform raised {type(exc).__name__}: {exc}. It received "
                f"the previous output {previous!r}."
            ) from exc
        update: dict[str, Any] = {"shared": [("set", key, output)], "path": [step.id]}
        if not in_parallel:
            update.update(previous=output, output=output, output_key=key)
        return update

    return run_transform


def _join_node(keys: list[str], in_parallel: bool) -> Callable[..., Any]:
    async def join(state: WorkflowState) -> dict[str, Any]:
        shared = state.get("shared") or {}
        outputs = [shared.get(key) for key in keys]
        if in_parallel:
            return {}
        return {"previous": outputs, "output": outputs, "output_key": keys}

    return join


class _RecordingView(StateView):
    """A `StateView` that remembers the keys read but missing, to name them in errors."""

    __slots__ = ("missing",)

    def __init__(self, data: Mapping[str, Any]):
        super().__init__(data)
        self.missing: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def _note(self, key: str) -> None:
        if key not in self._data and key not in self.missing:
            self.missing.append(key)


def _condition_node(step_id: str, condition: Callable[[StateView], bool]) -> Callable[..., Any]:
    async def decide(state: WorkflowState) -> dict[str, Any]:
        return {"branches": {step_id: _evaluate(step_id, condition, state)}}

    return decide


def _evaluate(step_id: str, condition: Callable[[StateView], bool], state: WorkflowState) -> bool:
    view = _RecordingView(state.get("shared") or {})
    try:
        return bool(condition(view))
    except Exception as exc:
        missing = (
            f" State key(s) {view.missing!r} were missing (read as None)." if view.missing else ""
        )
        raise WorkflowError(
            f"Step {step_id!r}: condition raised {type(exc).__name__}: {exc}.{missing} Make "
            "an earlier step set them (e.g. an output_type with those fields), or give the "
            "condition a default: state.get(key, default)."
        ) from exc


def _branch_edge(step_id: str) -> Callable[[WorkflowState], str]:
    def edge(state: WorkflowState) -> str:
        return "then" if (state.get("branches") or {}).get(step_id) else "else"

    return edge


def _loop_node(step_id: str, loop: LoopStep) -> Callable[..., Any]:
    async def check(state: WorkflowState) -> dict[str, Any]:
        count = (state.get("loops") or {}).get(step_id, 0) + 1
        finished = count >= loop.max_iterations or _evaluate(step_id, loop.until, state)
        return {"loops": {step_id: count}, "branches": {step_id: finished}}

    return check


def _loop_edge(step_id: str) -> Callable[[WorkflowState], str]:
    def edge(state: WorkflowState) -> str:
        return "done" if (state.get("branches") or {}).get(step_id) else "again"

    return edge


def _fill(template: str, values: Mapping[str, Any], *, step: str) -> str:
    try:
        return template.format_map(_Strict(values))
    except KeyError as exc:
        raise WorkflowError(
            f"Step {step!r}: the prompt template needs {exc.args[0]!r}, which neither the "
            "inputs nor the state hold. Pass it to run() or set it in an earlier step."
        ) from exc


class _Strict(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(_as_text(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: pydantic models dumped, containers walked, and
    anything else JSON cannot hold as its ``str``."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
