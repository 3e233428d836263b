"""The bodies of workflow step nodes: agent, transform, join, condition and loop check.

`graph_agents.nodes.workflow` wires these into the graph. Each factory takes a compiled
step and returns the async node function LangGraph runs; failures are raised as
`WorkflowError` (or `ModelProviderError`) naming the step, with the cause chained.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.messages import HumanMessage
from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime
from pydantic import BaseModel

from .._secrets import reveal_state
from ..events import EventType
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

if TYPE_CHECKING:
    from .workflow import CompiledStep, WorkflowState

__all__ = [
    "Reviver",
    "agent_node",
    "condition_node",
    "end_node",
    "join_node",
    "loop_node",
    "start_node",
    "step_events",
    "to_jsonable",
    "transform_node",
]


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


def agent_node(step: CompiledStep, in_parallel: bool) -> Callable[..., Any]:
    """Run the step's agent on its filled-in template (plus the previous output as context)."""
    kind = step.step
    assert isinstance(kind, AgentStep)
    key = step.key or step.id
    graph = step.subgraph
    assert graph is not None
    assert step.agent is not None
    agent = step.agent

    placeholders = set(template_keys(kind.prompt_template, step=step.id))

    async def run_agent(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        shared = state.get("shared") or {}
        prompt = _fill(kind.prompt_template, reveal_state(shared), step=step.id)
        previous = state.get("previous")
        previous_keys = state.get("output_key")
        keys = previous_keys if isinstance(previous_keys, list) else [previous_keys]
        # A template that already quotes the previous output gets no second copy of it.
        if previous not in (None, "", []) and not placeholders.intersection(k for k in keys if k):
            prompt = f"{prompt}\n\nContext from the previous step:\n{_as_text(previous)}"
        ctx = runtime.context.within(
            f"step:{step.id}", depth=runtime.context.depth + 1, step=step.id
        )
        ctx.emit("step.started", {"step": step.id, "kind": "agent", "agent": agent})
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
        ctx.emit(
            "step.completed", {"step": step.id, "kind": "agent", "output": to_jsonable(output)}
        )
        return update

    return run_agent


def transform_node(step: CompiledStep, in_parallel: bool, reviver: Reviver) -> Callable[..., Any]:
    """Call the transform on the previous output, as the previous step produced it."""
    kind = step.step
    assert isinstance(kind, TransformStep)
    key = step.key or step.id

    async def run_transform(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        emit = step_events(runtime, step.id, "transform")
        emit("step.started", {})
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
        emit("step.completed", {"output": to_jsonable(output)})
        return update

    return run_transform


def join_node(step_id: str, keys: list[str], in_parallel: bool) -> Callable[..., Any]:
    """Collect a parallel step's branch outputs, in declaration order."""

    async def join(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        shared = state.get("shared") or {}
        outputs = [shared.get(key) for key in keys]
        step_events(runtime, step_id, "parallel")(
            "step.completed", {"output": to_jsonable(outputs)}
        )
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


def condition_node(step_id: str, condition: Callable[[StateView], bool]) -> Callable[..., Any]:
    """Evaluate the condition on a read-only view of the state; record the branch."""

    async def decide(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        step_events(runtime, step_id, "conditional")("step.started", {})
        return {"branches": {step_id: _evaluate(step_id, condition, state)}}

    return decide


def _evaluate(step_id: str, condition: Callable[[StateView], bool], state: WorkflowState) -> bool:
    view = _RecordingView(reveal_state(state.get("shared")))
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


def loop_node(step_id: str, loop: LoopStep) -> Callable[..., Any]:
    """Count an iteration; the loop is done at ``max_iterations`` or when ``until`` holds."""

    async def check(state: WorkflowState) -> dict[str, Any]:
        count = (state.get("loops") or {}).get(step_id, 0) + 1
        finished = count >= loop.max_iterations or _evaluate(step_id, loop.until, state)
        return {"loops": {step_id: count}, "branches": {step_id: finished}}

    return check


def start_node(step_id: str, kind: Step) -> Callable[..., Any]:
    """The entry of a parallel step or a loop: it announces the step (a loop, once)."""
    name = "parallel" if isinstance(kind, ParallelStep) else "loop"

    async def start(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        if name == "parallel" or step_id not in (state.get("loops") or {}):
            step_events(runtime, step_id, name)("step.started", {})
        return {}

    return start


def end_node(step_id: str, kind: Step) -> Callable[..., Any]:
    """The exit of a conditional step or a loop: the branch taken, or the iterations."""
    conditional = isinstance(kind, ConditionalStep)

    async def end(state: WorkflowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        if conditional:
            taken = (state.get("branches") or {}).get(step_id)
            data: dict[str, Any] = {"branch": "then" if taken else "else"}
        else:
            data = {"iterations": (state.get("loops") or {}).get(step_id, 0)}
        step_events(runtime, step_id, "conditional" if conditional else "loop")(
            "step.completed", data
        )
        return {}

    return end


def step_events(
    runtime: Runtime[RunContext], step_id: str, kind: str
) -> Callable[[EventType, dict[str, Any]], None]:
    """Emit the step events of step ``step_id``: in its own lane, with its id and kind."""
    ctx = runtime.context.within(f"step:{step_id}", step=step_id)

    def emit(type: EventType, data: dict[str, Any]) -> None:
        ctx.emit(type, {"step": step_id, "kind": kind, **data})

    return emit


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
