"""`create_composite_tool`: one tool that runs several in sequence, each output feeding
the next. Import it from `graph_agents.tools`.

How an output feeds the next stage:

- a dict (or a pydantic model, dumped) whose keys are the next tool's parameters (its
  required ones at least, and no others) becomes its arguments;
- otherwise the output becomes the next tool's single parameter (or its one required
  parameter, when the others have defaults).

Stage signatures are checked when the composite is built: a stage that takes no
parameters, one that needs several while the previous stage returns a single value, a
returned model missing a required parameter, and a JSON type that cannot fit (``str``
into ``int``) are refused, naming both stages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import typing
from collections.abc import Callable, Sequence
from typing import Any, get_type_hints

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from ._tool_schema import check_name
from ._tool_types import (
    AGENT_TIMEOUT,
    Tool,
    ToolArgumentsError,
    ToolCallError,
    ToolContext,
    tool_events,
)
from .exceptions import ConfigurationError, ToolError
from .state import SharedState

__all__ = ["create_composite_tool"]

_JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    tuple: "array",
    dict: "object",
}


def create_composite_tool(
    name: str,
    tools: Sequence[Tool | BaseTool | Callable[..., Any]],
    description: str | None = None,
) -> Tool:
    """One tool that runs ``tools`` in order, each one's output feeding the next.

    The composite's parameters are the first tool's; its result is the last tool's.
    Inside a run, each stage emits ``tool.started``/``tool.completed`` events with its
    ``stage`` index (from 0) and the ``composite`` name. A stage that fails makes the
    call fail with a `ToolError` that names the stage, and the model reads that message.

    Args:
        name: The tool's name, as the model calls it.
        tools: Two or more tools (functions, LangChain tools or `Tool` objects).
        description: What the tool does, for the model; by default the stages' names.

    Raises:
        ConfigurationError: fewer than two tools, an invalid name, a stage that requires
            approval (set ``requires_approval`` on the composite instead), or stages
            whose signatures do not fit together (see the module docstring).
    """
    from .tools import tool_from

    check_name(
        name,
        "create_composite_tool",
        "Pass a valid name as create_composite_tool's first argument.",
    )
    if isinstance(tools, (str, bytes)) or len(tools) < 2:
        raise ConfigurationError(
            f"create_composite_tool({name!r}) needs a list of two or more tools, got "
            f"{tools!r}; a single tool needs no composite."
        )
    stages = [tool_from(t) for t in tools]
    for index, stage in enumerate(stages):
        if stage.requires_approval is not False or stage.kind == "approval":
            raise ConfigurationError(
                f"Composite tool {name!r}: stage {index} ({stage.name!r}) requires approval, "
                "which cannot pause a composite midway. Require it on the composite: "
                f"tool_from(create_composite_tool({name!r}, ...), requires_approval=True)."
            )
    for index in range(1, len(stages)):
        _check_fit(name, index, stages[index - 1], stages[index])
    first = stages[0]

    async def invoke(
        arguments: dict[str, Any], state: SharedState, context: ToolContext | None
    ) -> Any:
        emit = tool_events.get()
        value: Any = None
        for index, stage in enumerate(stages):
            args = arguments if index == 0 else _feed(name, index, stages[index - 1], stage, value)
            if emit is not None:
                emit("tool.started", _stage_data(name, index, stage, arguments=_json(args)))
            started = time.perf_counter()
            try:
                value = await _run_stage(stage, args, state, context, index)
            except ToolArgumentsError as exc:
                if index == 0:
                    raise
                _report(emit, name, index, stage, started, str(exc))
                failure = _failed(name, index, stage, str(exc), exc)
                raise failure from failure.__cause__
            except ToolCallError as exc:
                cause = exc.__cause__ or exc
                message = f"{type(cause).__name__}: {cause}"
                _report(emit, name, index, stage, started, message)
                failure = _failed(name, index, stage, message, exc)
                raise failure from failure.__cause__
            except TimeoutError as exc:
                message = f"it did not finish within {stage.timeout} s"
                _report(emit, name, index, stage, started, message)
                failure = _failed(name, index, stage, message, exc)
                raise failure from failure.__cause__
            if emit is not None:
                from .tools import render_tool_result

                emit(
                    "tool.completed",
                    _stage_data(
                        name,
                        index,
                        stage,
                        result=render_tool_result(value),
                        error=False,
                        duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    ),
                )
        return value

    async def run_composite(**arguments: Any) -> Any:
        return await invoke(arguments, SharedState(), None)

    run_composite.__name__ = name
    return Tool(
        name=name,
        description=description
        or f"Runs {', then '.join(s.name for s in stages)}, each output feeding the next. "
        f"{first.description}",
        parameters=first.parameters,
        function=run_composite,
        takes_context=any(stage.takes_context for stage in stages),
        _invoke=invoke,
        _parse=first.parse_arguments,
    )


async def _run_stage(
    stage: Tool,
    args: dict[str, Any],
    state: SharedState,
    context: ToolContext | None,
    index: int,
) -> Any:
    stage_context = None
    if context is not None and stage.takes_context:
        stage_context = dataclasses.replace(
            context, tool=stage.name, idempotency_key=f"{context.idempotency_key}:{index}"
        )
    invocation = stage.invoke(args, state, stage_context)
    timeout = stage.timeout
    if timeout is None or timeout is AGENT_TIMEOUT:
        return await invocation  # the composite's own timeout covers the whole chain
    async with asyncio.timeout(float(timeout)):
        return await invocation


def _stage_data(composite: str, index: int, stage: Tool, **data: Any) -> dict[str, Any]:
    return {"tool": stage.name, "stage": index, "composite": composite, **data}


def _report(
    emit: Callable[[str, dict[str, Any]], None] | None,
    composite: str,
    index: int,
    stage: Tool,
    started: float,
    message: str,
) -> None:
    if emit is not None:
        emit(
            "tool.completed",
            _stage_data(
                composite,
                index,
                stage,
                result=f"Error: {message}",
                error=True,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            ),
        )


def _failed(
    composite: str, index: int, stage: Tool, message: str, cause: BaseException
) -> ToolCallError:
    """The composite's failure: a `ToolError` naming the stage, chained to the cause."""
    error = _stage_error(composite, index, stage, message)
    error.__cause__ = cause
    failure = ToolCallError(composite, error)
    failure.__cause__ = error
    return failure


def _stage_error(composite: str, index: int, stage: Tool, message: str) -> ToolError:
    return ToolError(
        f"stage {index} ({stage.name!r}) of composite tool {composite!r} failed: "
        f"{message.rstrip('.')}",
        tool=composite,
    )


def _json(value: Any) -> Any:
    from .nodes.workflow_steps import to_jsonable

    return to_jsonable(value)


def _params(tool: Tool) -> tuple[list[str], list[str]]:
    """A tool's model-visible parameter names, and the required ones."""
    properties = list((tool.parameters.get("properties") or {}).keys())
    required = [p for p in tool.parameters.get("required") or [] if p in properties]
    return properties, required


def _single(tool: Tool) -> str | None:
    """The parameter a single value goes to: the only one, or the only required one."""
    properties, required = _params(tool)
    if len(properties) == 1:
        return properties[0]
    if len(required) == 1:
        return required[0]
    return None


def _feed(composite: str, index: int, previous: Tool, stage: Tool, value: Any) -> dict[str, Any]:
    """The arguments stage ``index`` gets from the previous stage's output ``value``."""
    properties, required = _params(stage)
    fields = value.model_dump() if isinstance(value, BaseModel) else value
    if (
        isinstance(fields, dict)
        and fields
        and set(fields) <= set(properties)
        and set(required) <= set(fields)
    ):
        return dict(fields)
    target = _single(stage)
    if target is None:
        error = _stage_error(
            composite,
            index,
            stage,
            f"it needs the parameters {required!r}, and stage {index - 1} "
            f"({previous.name!r}) returned {type(value).__name__} {value!r:.200}, not an "
            "object with those keys",
        )
        failure = ToolCallError(composite, error)
        failure.__cause__ = error
        raise failure
    return {target: value}


def _return_type(tool: Tool) -> Any:
    try:
        return get_type_hints(tool.function).get("return")
    except Exception:
        return None


def _fields_of(annotation: Any) -> set[str] | None:
    """The field names of a model or TypedDict return type; ``None`` for other types."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(annotation.model_fields)
    if typing.is_typeddict(annotation):
        return set(get_type_hints(annotation))
    return None


def _json_type(annotation: Any) -> str | None:
    if annotation is None:
        return None
    if _fields_of(annotation) is not None:
        return "object"
    origin = typing.get_origin(annotation) or annotation
    return _JSON_TYPES.get(origin) if isinstance(origin, type) else None


def _check_fit(composite: str, index: int, previous: Tool, stage: Tool) -> None:
    properties, required = _params(stage)
    where = (
        f"Composite tool {composite!r}: stage {index} ({stage.name!r}) cannot take the output "
        f"of stage {index - 1} ({previous.name!r})"
    )
    if not properties:
        raise ConfigurationError(
            f"{where}: it has no parameters, so that output would be lost. Give it one "
            "parameter for the previous stage's result."
        )
    returned = _return_type(previous)
    fields = _fields_of(returned)
    if fields is not None:
        missing = sorted(set(required) - fields)
        if not missing and fields <= set(properties):
            return  # the returned object's keys are its arguments
        if _single(stage) is None:
            raise ConfigurationError(
                f"{where}: it needs the parameters {required!r} and "
                f"{returned.__name__} lacks {missing!r}. Return an object with those fields."
            )
    target = _single(stage)
    if target is None:
        if returned is not None and _json_type(returned) not in (None, "object"):
            raise ConfigurationError(
                f"{where}: it needs the parameters {required!r}, and stage {index - 1} "
                f"returns a single {_json_type(returned)}. Return a dict or model with those "
                "keys, or give the stage one parameter."
            )
        return
    wanted = (stage.parameters.get("properties") or {}).get(target, {}).get("type")
    given = _json_type(returned)
    if given == "object" and fields is None:
        return  # a plain dict: its keys may be the arguments, checked when it runs
    if (
        isinstance(wanted, str)
        and given is not None
        and given != wanted
        and not (given == "integer" and wanted == "number")
    ):
        article = "an" if given[0] in "aeiou" else "a"
        raise ConfigurationError(
            f"{where}: {stage.name}({target}) takes a JSON {wanted}, and {previous.name} "
            f"returns {article} {given}. Make the types agree, or add a stage that converts."
        )
