"""Tools: plain Python functions (or LangChain tools) that agents can call.

A function becomes a `Tool` through `tool_from`: its name is the tool name, its
docstring the description (Google-style ``Args:`` entries describe the parameters),
and its type hints the JSON schema the model sees. A parameter named ``state``, or
annotated `SharedState`, is injected with the run's shared state and hidden from the
model.

The model's arguments are validated against that schema before the function runs.
Invalid arguments, and exceptions the function raises, become an error message returned
to the model (naming the tool), so the model can correct itself; the run goes on and the
error is recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast, get_type_hints

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, PydanticUserError, ValidationError, create_model

from ._checks import check_number
from .exceptions import ConfigurationError
from .state import SharedState

__all__ = [
    "AGENT_TIMEOUT",
    "DEFAULT_TOOL_TIMEOUT",
    "Tool",
    "ToolArgumentsError",
    "ToolCallError",
    "tool_from",
]

DEFAULT_TOOL_TIMEOUT = 300.0
"""Seconds a tool call may take before it is cancelled, unless the agent or tool says
otherwise (``Agent(tool_timeout=...)``, ``tool_from(fn, timeout=...)``)."""


class _AgentTimeout(enum.Enum):
    """The one value of `AGENT_TIMEOUT`: use the agent's ``tool_timeout``."""

    AGENT = "agent"


AGENT_TIMEOUT: Final = _AgentTimeout.AGENT
"""A tool's ``timeout`` when it uses its agent's ``tool_timeout`` (the default)."""

ToolTimeout = float | None | _AgentTimeout

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolArgumentsError(Exception):
    """The model called a tool with arguments that do not fit its schema."""


class ToolCallError(Exception):
    """A tool raised; carries the tool name and the original exception as ``__cause__``."""

    def __init__(self, tool: str, error: BaseException):
        super().__init__(f"Tool {tool!r} raised {type(error).__name__}: {error}")
        self.tool = tool


@dataclass(kw_only=True, eq=False)
class Tool:
    """A callable the model can invoke, with its JSON schema.

    Build one with `tool_from`; agents accept functions and LangChain tools directly.
    """

    name: str
    """The name the model calls the tool by."""
    description: str
    """What the tool does, as the model reads it."""
    parameters: dict[str, Any]
    """The JSON schema of the arguments the model passes."""
    function: Callable[..., Any]
    """The underlying callable."""
    requires_approval: bool = False
    """Pause the run for human approval before this tool runs."""
    timeout: ToolTimeout = AGENT_TIMEOUT
    """Seconds one call may take before it is cancelled and its error goes back to the
    model; ``None`` for no limit; `AGENT_TIMEOUT` for the agent's ``tool_timeout``."""
    _invoke: Callable[[dict[str, Any], SharedState], Awaitable[Any]] = field(repr=False)

    async def invoke(self, arguments: Mapping[str, Any], state: SharedState) -> Any:
        """Validate ``arguments`` and run the tool.

        Raises:
            ToolArgumentsError: the arguments do not fit the schema.
            ToolCallError: the tool itself raised.
        """
        return await self._invoke(dict(arguments), state)

    def openai_schema(self) -> dict[str, Any]:
        """The tool in the OpenAI ``tools`` format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def tool_from(
    obj: Tool | BaseTool | Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    timeout: ToolTimeout = AGENT_TIMEOUT,
) -> Tool:
    """Turn a function, a LangChain ``BaseTool`` or a `Tool` into a `Tool`.

    Args:
        obj: The tool. Sync functions run in a worker thread so they cannot block the loop.
        name: Overrides the function's name.
        description: Overrides the docstring.
        requires_approval: Pause the run for human approval before the tool runs.
        timeout: Seconds one call may take; ``None`` for no limit; by default the
            agent's ``tool_timeout``. An async tool that runs over is cancelled; a sync
            tool's thread cannot be stopped, so its result is ignored. Either way the
            model is told the call timed out, and the run goes on.

    Raises:
        ConfigurationError: ``obj`` is not callable, its name is not a valid tool name,
            a synchronous function asks for the (async) shared state, or ``timeout`` is
            not a positive number.
    """
    if timeout is not AGENT_TIMEOUT and timeout is not None:
        check_number(timeout, "timeout", above=0, owner="tool_from: ")
    if isinstance(obj, Tool):
        return dataclasses.replace(obj, timeout=timeout) if timeout is not AGENT_TIMEOUT else obj
    if isinstance(obj, BaseTool):
        tool = _from_langchain(obj, requires_approval=requires_approval)
    elif not callable(obj):
        raise ConfigurationError(
            f"Tool {obj!r} is not callable. Pass a function, a LangChain BaseTool or a Tool."
        )
    else:
        tool = _from_function(
            obj, name=name, description=description, requires_approval=requires_approval
        )
    tool.timeout = timeout
    return tool


def _from_function(
    fn: Callable[..., Any], *, name: str | None, description: str | None, requires_approval: bool
) -> Tool:
    tool_name = name or getattr(fn, "__name__", None) or type(fn).__name__
    _check_name(tool_name, fn)
    summary, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
    signature = inspect.signature(fn)
    try:
        hints = get_type_hints(fn)
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot read the type hints of tool {tool_name!r}: {exc}. "
            "Make every annotation importable at module level."
        ) from exc

    state_param: str | None = None
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
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, _field(default, arg_docs.get(param.name)))

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
        parameters = _json_schema(args_model)
    except PydanticUserError as exc:
        bad = _unschematic(fields)
        where = f"parameter {bad[0]!r} ({bad[1]})" if bad else "a parameter"
        raise ConfigurationError(
            f"Tool {tool_name!r}: {where} has no JSON schema, so the model cannot be told "
            "how to fill it in. Annotate it with a JSON-compatible type (str, int, float, "
            "bool, list, dict, a pydantic model, a TypedDict, an Enum or a Literal), or "
            "take it from the shared state instead."
        ) from exc

    async def invoke(arguments: dict[str, Any], state: SharedState) -> Any:
        try:
            parsed = args_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(_format_validation(tool_name, exc)) from exc
        kwargs = {key: getattr(parsed, key) for key in fields}
        if state_param:
            kwargs[state_param] = state
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
        _invoke=invoke,
    )


def _from_langchain(tool: BaseTool, *, requires_approval: bool) -> Tool:
    _check_name(tool.name, tool)
    schema = convert_to_openai_tool(tool)["function"]

    async def invoke(arguments: dict[str, Any], state: SharedState) -> Any:
        try:
            return await tool.ainvoke(arguments)
        except ValidationError as exc:
            raise ToolArgumentsError(_format_validation(tool.name, exc)) from exc
        except Exception as exc:
            raise ToolCallError(tool.name, exc) from exc

    return Tool(
        name=tool.name,
        description=tool.description,
        parameters=schema.get("parameters", {"type": "object", "properties": {}}),
        function=tool.ainvoke,
        requires_approval=requires_approval,
        _invoke=invoke,
    )


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


def _check_name(name: str, obj: object) -> None:
    if not _NAME_RE.match(name):
        raise ConfigurationError(
            f"Tool name {name!r} (from {obj!r}) is invalid: use 1-64 letters, digits, '_' or '-'. "
            "Pass name=... to tool_from() to rename it."
        )


def _field(default: Any, doc: str | None) -> Any:
    from pydantic import Field

    return Field(default=default, description=doc) if doc else default


def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in cast(dict[str, Any], schema.get("properties", {})).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def _unschematic(fields: dict[str, Any]) -> tuple[str, str] | None:
    """The first parameter whose annotation has no JSON schema: its name and type."""
    for name, (annotation, _default) in fields.items():
        probe = create_model(
            "probe", __config__=ConfigDict(arbitrary_types_allowed=True), value=(annotation, ...)
        )
        try:
            probe.model_json_schema()
        except PydanticUserError:
            return name, getattr(annotation, "__name__", repr(annotation))
    return None


def _format_validation(tool: str, exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
    return f"Invalid arguments for tool {tool!r}: {problems}. Call it again with valid arguments."


_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and per-argument descriptions."""
    lines = doc.splitlines()
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.endswith(":") and stripped[:-1] in {
            "Args",
            "Arguments",
            "Parameters",
            "Returns",
            "Raises",
            "Yields",
            "Example",
            "Examples",
            "Note",
            "Notes",
        }:
            section = stripped[:-1]
            current = None
            continue
        if section is None:
            summary.append(line)
        elif section in {"Args", "Arguments", "Parameters"} and stripped:
            match = _ARG_LINE.match(line)
            indent = len(line) - len(line.lstrip())
            if match and (current is None or indent <= _indent_of(lines, current)):
                current = match.group(1).lstrip("*")
                args[current] = match.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(summary).strip(), args


def _indent_of(lines: list[str], arg: str) -> int:
    for line in lines:
        match = _ARG_LINE.match(line)
        if match and match.group(1).lstrip("*") == arg:
            return len(line) - len(line.lstrip())
    return 0
