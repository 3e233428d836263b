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

import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict, cast

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel

from ..exceptions import WorkflowError
from ..state import StateOp
from ..steps import (
    AgentStep,
    ConditionalStep,
    LoopStep,
    ParallelStep,
    Step,
    TransformStep,
)
from . import workflow_steps
from .context import RunContext
from .graph import add_operator_node
from .schema import SharedChannel, add_usage, merge_dicts
from .workflow_steps import Reviver, to_jsonable

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

    shared: Annotated[dict[str, Any], SharedChannel]
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
    add_operator_node(builder)
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
            workflow_steps.agent_node(step, in_parallel)
            if isinstance(kind, AgentStep)
            else workflow_steps.transform_node(step, in_parallel, reviver)
        )
        builder.add_node(entry, cast(Any, node))
    elif isinstance(kind, ConditionalStep):
        builder.add_node(entry, cast(Any, workflow_steps.condition_node(step.id, kind.condition)))
    else:
        builder.add_node(entry, cast(Any, workflow_steps.start_node(step.id, kind)))
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
        builder.add_node(done, cast(Any, workflow_steps.join_node(step.id, keys, in_parallel)))
        builder.add_edge(exits, done)
        return done
    builder.add_node(done, cast(Any, workflow_steps.end_node(step.id, kind)))
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
        builder.add_node(check, cast(Any, workflow_steps.loop_node(step.id, kind)))
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


def _branch_edge(step_id: str) -> Callable[[WorkflowState], str]:
    def edge(state: WorkflowState) -> str:
        return "then" if (state.get("branches") or {}).get(step_id) else "else"

    return edge


def _loop_edge(step_id: str) -> Callable[[WorkflowState], str]:
    def edge(state: WorkflowState) -> str:
        return "done" if (state.get("branches") or {}).get(step_id) else "again"

    return edge
