"""Tools: plain Python functions (or LangChain tools) that agents can call.

A function becomes a `Tool` through `tool_from`: its name is the tool name, its
docstring the description (Google-style ``Args:`` entries describe the parameters),
and its type hints the JSON schema the model sees. A parameter named ``state``, or
annotated `SharedState`, is injected with the run's shared state and hidden from the
model. A parameter annotated `ToolContext` receives the call's identity (thread, call id,
attempt and a stable idempotency key), hidden from the model too.

A tool can require a human's approval (``requires_approval=True``, or a predicate over
its arguments): the run pauses before the tool's body runs, and continues with
``network.resume(thread_id, approve=...)``. `human_approval_tool` lets an agent ask for
approval of anything. `create_composite_tool` chains tools into one.

The model's arguments are validated against that schema before the function runs.
Invalid arguments, and exceptions the function raises, become an error message returned
to the model (naming the tool), so the model can correct itself; the run goes on and the
error is recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
from collections.abc import Callable
from typing import Any, get_type_hints

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, PydanticUserError, ValidationError, create_model

from ._checks import check_number
from ._composite import create_composite_tool
from ._tool_schema import (
    check_name,
    field_with_doc,
    format_validation,
    json_schema,
    parse_docstring,
    unschematic,
)
from ._tool_types import (
    AGENT_TIMEOUT,
    DEFAULT_TOOL_TIMEOUT,
    ApprovalPolicy,
    Tool,
    ToolArgumentsError,
    ToolCallError,
    ToolContext,
    ToolTimeout,
)
from .exceptions import ConfigurationError, ToolError
from .state import SharedState

__all__ = [
    "AGENT_TIMEOUT",
    "DEFAULT_TOOL_TIMEOUT",
    "ApprovalPolicy",
    "Tool",
    "ToolArgumentsError",
    "ToolCallError",
    "ToolContext",
    "create_composite_tool",
    "human_approval_tool",
    "tool_from",
]


def tool_from(
    obj: Tool | BaseTool | Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: ApprovalPolicy | None = None,
    timeout: ToolTimeout = AGENT_TIMEOUT,
) -> Tool:
    """Turn a function, a LangChain ``BaseTool`` or a `Tool` into a `Tool`.

    Args:
        obj: The tool. Sync functions run in a worker thread so they cannot block the loop.
        name: Overrides the function's name.
        description: Overrides the docstring.
        requires_approval: Pause the run for a human's approval before the tool's body
            runs: ``True`` for every call, or a predicate over the call's validated
            arguments, e.g. ``lambda args: args["amount"] > 100`` (it should be pure: it
            is asked again when the run resumes). ``None`` keeps a `Tool`'s own setting
            (``False`` for anything else).
        timeout: Seconds one call may take; ``None`` for no limit; by default the
            agent's ``tool_timeout``. An async tool that runs over is cancelled; a sync
            tool's thread cannot be stopped, so its result is ignored. Either way the
            model is told the call timed out, and the run goes on.

    Raises:
        ConfigurationError: ``obj`` is not callable, its name is not a valid tool name,
            a synchronous function asks for the (async) shared state, ``timeout`` is not
            a positive number, or ``requires_approval`` is neither a bool nor callable.
    """
    if timeout is not AGENT_TIMEOUT and timeout is not None:
        check_number(timeout, "timeout", above=0, owner="tool_from: ")
    if requires_approval is not None and not (
        isinstance(requires_approval, bool) or callable(requires_approval)
    ):
        raise ConfigurationError(
            f"tool_from: requires_approval={requires_approval!r} is neither True/False nor "
            "a predicate; pass True, or a function of the arguments such as "
            "lambda args: args['amount'] > 100."
        )
    if isinstance(obj, Tool):
        changes: dict[str, Any] = {}
        if timeout is not AGENT_TIMEOUT:
            changes["timeout"] = timeout
        if requires_approval is not None:
            if obj.kind == "approval" and requires_approval is not True:
                raise ConfigurationError(
                    "human_approval_tool always waits for a human; it cannot be given "
                    f"requires_approval={requires_approval!r}."
                )
            changes["requires_approval"] = requires_approval
        return dataclasses.replace(obj, **changes) if changes else obj
    policy: ApprovalPolicy = requires_approval if requires_approval is not None else False
    if isinstance(obj, BaseTool):
        tool = _from_langchain(obj, requires_approval=policy)
    elif not callable(obj):
        raise ConfigurationError(
            f"Tool {obj!r} is not callable. Pass a function, a LangChain BaseTool or a Tool."
        )
    else:
        tool = _from_function(obj, name=name, description=description, requires_approval=policy)
    tool.timeout = timeout
    return tool


def _from_function(
    fn: Callable[..., Any],
    *,
    name: str | None,
    description: str | None,
    requires_approval: ApprovalPolicy,
) -> Tool:
    tool_name = name or getattr(fn, "__name__", None) or type(fn).__name__
    check_name(tool_name, repr(fn))
    summary, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
    signature = inspect.signature(fn)
    try:
        hints = get_type_hints(fn)
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot read the type hints of tool {tool_name!r}: {exc}. "
            "Make every annotation importable at module level."
        ) from exc

    state_param: str | None = None
    context_param: str | None = None
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise ConfigurationError(
                f"Tool {tool_name!r} takes {star}{param.name}, which has no JSON schema the "
                "model could fill in. Give the tool named parameters with type hints, e.g. "
                f"def {tool_name}(query: str, limit: int = 5)."
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ConfigurationError(
                f"Tool {tool_name!r}: parameter {param.name!r} is positional-only, but the "
                "model passes arguments by name. Remove the '/' from its signature."
            )
        annotation = hints.get(param.name, Any)
        if param.name == "state" or annotation is SharedState:
            state_param = param.name
            continue
        if annotation is ToolContext:
            context_param = param.name
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, field_with_doc(default, arg_docs.get(param.name)))

    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )
    if state_param and not is_async:
        raise ConfigurationError(
            f"Tool {tool_name!r} takes the shared state but is synchronous. Shared state is "
            f"async: declare it `async def {tool_name}(...)` and `await state.get(...)`."
        )
    args_model = create_model(
        f"{tool_name}_arguments",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    try:
        parameters = json_schema(args_model)
    except PydanticUserError as exc:
        bad = unschematic(fields)
        where = f"parameter {bad[0]!r} ({bad[1]})" if bad else "a parameter"
        raise ConfigurationError(
            f"Tool {tool_name!r}: {where} has no JSON schema, so the model cannot be told "
            "how to fill it in. Annotate it with a JSON-compatible type (str, int, float, "
            "bool, list, dict, a pydantic model, a TypedDict, an Enum or a Literal), or "
            "take it from the shared state instead."
        ) from exc

    def parse(arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            parsed = args_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(format_validation(tool_name, exc)) from exc
        return {key: getattr(parsed, key) for key in fields}

    async def invoke(
        arguments: dict[str, Any], state: SharedState, context: ToolContext | None
    ) -> Any:
        kwargs = parse(arguments)
        if state_param:
            kwargs[state_param] = state
        if context_param:
            if context is None:
                raise ToolCallError(
                    tool_name,
                    ToolError(
                        f"Tool {tool_name!r} takes a ToolContext, which only a network or "
                        "workflow run provides; pass context=ToolContext(...) to invoke().",
                        tool=tool_name,
                    ),
                )
            kwargs[context_param] = context
        try:
            if is_async:
                return await fn(**kwargs)
            return await asyncio.to_thread(fn, **kwargs)
        except Exception as exc:
            raise ToolCallError(tool_name, exc) from exc

    return Tool(
        name=tool_name,
        description=description or summary or tool_name,
        parameters=parameters,
        function=fn,
        requires_approval=requires_approval,
        takes_context=context_param is not None,
        _invoke=invoke,
        _parse=parse,
    )


def _from_langchain(tool: BaseTool, *, requires_approval: ApprovalPolicy) -> Tool:
    check_name(tool.name, repr(tool))
    schema = convert_to_openai_tool(tool)["function"]

    async def invoke(
        arguments: dict[str, Any], state: SharedState, context: ToolContext | None
    ) -> Any:
        try:
            return await tool.ainvoke(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(format_validation(tool.name, exc)) from exc
        except Exception as exc:
            raise ToolCallError(tool.name, exc) from exc

    return Tool(
        name=tool.name,
        description=tool.description,
        parameters=schema.get("parameters", {"type": "object", "properties": {}}),
        function=tool.ainvoke,
        requires_approval=requires_approval,
        kind="langchain",
        _invoke=invoke,
    )


async def _ask_a_human(action: str, details: str = "") -> str:
    """Ask a human to approve an action before you take it; the run waits for the answer.

    Args:
        action: The action to approve, in a few words, e.g. "delete 3 stale branches".
        details: What exactly will happen, so the human can decide.
    """
    raise ToolError(
        "human_approval_tool pauses a network or workflow run for a human's answer; it "
        "cannot run outside one.",
        tool="human_approval_tool",
    )


human_approval_tool: Tool = _from_function(
    _ask_a_human, name="human_approval_tool", description=None, requires_approval=True
)
"""A tool that pauses the run until a human approves or rejects the action the agent
names; the answer (with the human's feedback) is the tool's result. Resume with
``network.resume(thread_id, approve=True | False, feedback=...)``."""
human_approval_tool.kind = "approval"


def render_tool_result(value: Any) -> str:
    """Render a tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
